// PartyServer: a real `flowstone serve` child process for end-to-end tests.
//
// Each instance owns a fresh temporary folder holding a generated service_conf.yaml (party 9999 on
// 127.0.0.1 and a free port) and the server's data dir (./data). It talks to the server over HTTP with
// net::http_call, can stop it (SIGTERM), kill it (SIGKILL) and start it again on the same folder and port.
// The destructor makes sure nothing it started survives: the server, and every launcher and worker
// found through the pid files under data/jobs or by their cwd/command line pointing into the folder.
//
// Waiting is always polling for a condition with a deadline, never a fixed sleep.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "events/common/json.hpp"
#include "net/http_client.hpp"

namespace flowstone::systest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Query = std::vector<std::pair<std::string, std::string>>;
using Headers = std::map<std::string, std::string>;

struct ServerOptions {
  int body_limit_mb = 0;  // 0: the server's default
  std::string party_id = "9999";
  std::string job_default_yaml;  // body of job_default_config (YAML flow mapping), empty: none
  std::string flowstone_yaml;    // more entries of the flowstone: flow mapping, e.g. "route_table: {...}"
  std::string extra_yaml;        // more top-level lines, e.g. "federation: {nginx: {...}}"
  // With client authentication on: the signature headers get() and post() add to each request (fresh each
  // time); raw() sends only what it is given.
  std::function<std::map<std::string, std::string>()> sign;
};

// Polls `condition` every `period` until it holds or `deadline` passes. True if it held.
bool poll_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds period = 50ms);

// Process helpers.
bool pid_running(pid_t pid);  // exists and is not a zombie
// Processes (not zombies) whose command line or environment mentions `needle`.
std::vector<pid_t> processes_mentioning(const std::string& needle);
// What the process's open descriptors point at (readlink of /proc/<pid>/fd/*), e.g. "socket:[123]".
std::vector<std::string> open_files(pid_t pid);

class PartyServer {
 public:
  explicit PartyServer(ServerOptions options = {});
  ~PartyServer();
  PartyServer(const PartyServer&) = delete;
  PartyServer& operator=(const PartyServer&) = delete;

  // Starts `flowstone serve` and waits (20 s) until GET /v2/site/info/query answers code 0.
  // Returns an error message, empty on success.
  std::string start();
  // SIGTERM and wait (deadline) for the exit. Returns the raw wait status, or -1 if it had to be killed.
  int stop(std::chrono::milliseconds deadline = 30s);
  void kill9();           // SIGKILL and reap
  std::string restart();  // start() again on the same folder and port
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // HTTP. Transport failures and non-JSON answers come back as {"code": -1, "message": ...}.
  Json get(const std::string& route, const Query& query = {});
  Json post(const std::string& route, const Json& body, const Headers& headers = {});
  net::HttpResult raw(const std::string& method, const std::string& target, const std::string& body,
                      const Headers& headers = {});

  // Submits {"dag_schema": schema}; returns the job_id, empty on failure (the answer in *reply).
  std::string submit(const Json& dag_schema, Json* reply = nullptr);

  // The job's row at (role, party_id) from /v2/job/query, or null if not found.
  Json job_row(const std::string& job_id, const std::string& role = "guest",
               const std::string& party_id = "");
  // Latest-version task rows of the job (/v2/job/task/query), by task name; role defaults to guest.
  std::map<std::string, Json> task_rows(const std::string& job_id, const std::string& role = "guest");

  struct Waited {
    bool met = false;
    Json row;  // the last job row seen (null if never found)
  };
  // Polls /v2/job/query every 50 ms until predicate(row) holds.
  Waited wait_job(const std::string& job_id, const std::function<bool(const Json&)>& predicate,
                  std::chrono::milliseconds deadline = 30s, const std::string& role = "guest");
  Waited wait_job_status(const std::string& job_id, const std::string& status,
                         std::chrono::milliseconds deadline = 30s);
  // Polls /v2/job/task/query for the task's latest row (guest) until predicate(row) holds.
  Waited wait_task(const std::string& job_id, const std::string& task,
                   const std::function<bool(const Json&)>& predicate,
                   std::chrono::milliseconds deadline = 30s);
  // The task's launch is recorded: its party_status is running.
  Waited wait_task_running(const std::string& job_id, const std::string& task,
                           std::chrono::milliseconds deadline = 30s);

  // Task folders: <data_dir>/jobs/<job_id>/<role>/<party_id>/<task>/<version>.
  std::string task_dir(const std::string& job_id, const std::string& task, int version = 0,
                       const std::string& role = "guest", const std::string& party_id = "") const;
  // Waits for <task_dir>/<file> ("worker.pid", "launcher.pid") and returns the pid, 0 on timeout.
  pid_t wait_pid_file(const std::string& task_dir, const std::string& file,
                      std::chrono::milliseconds deadline = 30s) const;

  const std::string& dir() const { return dir_; }
  std::string conf_path() const { return dir_ + "/service_conf.yaml"; }
  std::string data_dir() const { return dir_ + "/data"; }
  // The server's flowstone.file_roots entry (files a request may name) and provider_roots entry.
  std::string files_dir() const { return dir_ + "/files"; }
  std::string providers_dir() const { return dir_ + "/providers"; }
  uint16_t port() const { return port_; }
  const std::string& party_id() const { return options_.party_id; }
  // Options can change until start() (which writes the config): ports of all parties are known first.
  ServerOptions& options() { return options_; }

  // Tails of the server output, flowstone.log and (if given) the job's schedule log, for failure messages.
  std::string diagnostics(const std::string& job_id = "") const;

  // Kills every launcher and worker this server's data dir knows of (SIGKILL to their groups).
  void kill_task_processes();

  // ---- multi-party helpers ----
  // The job's stream at this server (/v2/job/history/query data: [{version, at, kind, what}]); null if
  // the server has no such job or did not answer.
  Json history(const std::string& job_id);
  // The number of events of the job's stream at this server, -1 if unknown.
  int64_t history_length(const std::string& job_id);
  // Polls /v2/job/task/query?role=ROLE for the task's latest row until predicate(row) holds.
  Waited wait_task_as(const std::string& role, const std::string& job_id, const std::string& task,
                      const std::function<bool(const Json&)>& predicate,
                      std::chrono::milliseconds deadline = 30s);
  // Live processes (launchers, workers) mentioning this server's folder, the server itself excluded, and
  // the server's children that ended unreaped (zombies).
  std::vector<pid_t> task_processes() const;
  // Every version of the task here (/v2/job/task/list/query), by task_version; empty if none answered.
  std::map<int, Json> task_versions(const std::string& job_id, const std::string& task,
                                    const std::string& role = "guest");

 private:
  void write_config() const;

  ServerOptions options_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// ---- DAG builders ------------------------------------------------------------------------------------

// {"schema_version": "2.1.0", "dag": {"parties": [guest 9999], "conf": conf, "stage": "train", "tasks":
// tasks}}
Json make_dag(const Json& tasks, const Json& conf = Json::object(),
              const Json& parties = Json::array({Json{{"role", "guest"}, {"party_id", {"9999"}}}}));
Json noop_task(const Json& parameters = Json::object());
// noop_consumer taking `producer`'s output_model as its input_model.
Json consumer_task(const std::string& producer, const Json& parameters = Json::object());

std::string read_text(const std::string& path);
std::string tail(const std::string& text, size_t max_chars);

// A TCP port on 127.0.0.1 that was free a moment ago (for processes other than party servers).
uint16_t free_tcp_port();
// The first of `count` consecutive ports free on 127.0.0.1, below the ephemeral range (0 if none found): for
// `flowstone demo --port`, whose parties take the ports after it.
uint16_t free_port_run(int count);

// Runs `command` with /bin/sh, stdout and stderr into *output; returns the raw wait status (-1: no shell).
int run_command(const std::string& command, std::string* output);

// A child process started with fork/exec in its own process group, its output appended to a file. The
// destructor kills it (SIGKILL to its group) and reaps it.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Starts argv[0] with the arguments; returns an error message, empty on success.
  std::string start(const std::vector<std::string>& argv, const std::string& output_path);
  // True (and the raw wait status in *status) once the child has exited; reaps it.
  bool exited(int* status = nullptr);
  void kill9();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

}  // namespace flowstone::systest
