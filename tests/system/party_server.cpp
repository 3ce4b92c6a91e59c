#include "tests/system/party_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "net/json_io.hpp"

#ifndef FLOWSTONE_BIN_DIR
#error "FLOWSTONE_BIN_DIR must point at the build folder"
#endif

namespace flowstone::systest {
namespace fs = std::filesystem;

namespace {

// `wanted` on 127.0.0.1 if it is free now, else (wanted 0) one the kernel picks; 0 when none.
uint16_t bind_port(uint16_t wanted) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(wanted);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

uint16_t free_port() {
  return bind_port(0);
}

std::string replace_nuls(std::string s) {
  for (char& c : s)
    if (c == '\0') c = ' ';
  return s;
}

char process_state(pid_t pid) {
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return '?';
  return stat[close + 2];
}

std::string cwd_of(pid_t pid) {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
  return ec ? std::string() : p.string();
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    out.push_back(static_cast<pid_t>(std::atol(name.c_str())));
  }
  return out;
}

// A live process that belongs to the folder `dir`: its command line names it or its cwd is inside it.
bool belongs_to(pid_t pid, const std::string& dir) {
  if (pid <= 0 || pid == ::getpid() || !pid_running(pid)) return false;
  std::string cmdline = replace_nuls(read_text("/proc/" + std::to_string(pid) + "/cmdline"));
  if (cmdline.find(dir) != std::string::npos) return true;
  std::string cwd = cwd_of(pid);
  return !cwd.empty() && cwd.rfind(dir, 0) == 0;
}

pid_t read_pid(const std::string& path) {
  std::string text = read_text(path);
  return text.empty() ? 0 : static_cast<pid_t>(std::atol(text.c_str()));
}

}  // namespace

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail(const std::string& text, size_t max_chars) {
  return text.size() <= max_chars ? text : "..." + text.substr(text.size() - max_chars);
}

bool poll_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds period) {
  auto end = Clock::now() + deadline;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(period);
  }
}

bool pid_running(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  char state = process_state(pid);
  return state != 'Z' && state != 'X' && state != '?';
}

std::vector<pid_t> processes_mentioning(const std::string& needle) {
  std::vector<pid_t> out;
  for (pid_t pid : all_pids()) {
    if (pid == ::getpid() || !pid_running(pid)) continue;
    std::string base = "/proc/" + std::to_string(pid);
    if (replace_nuls(read_text(base + "/cmdline")).find(needle) != std::string::npos ||
        replace_nuls(read_text(base + "/environ")).find(needle) != std::string::npos)
      out.push_back(pid);
  }
  return out;
}

// Children of `parent` that ended and were never reaped (a zombie's cmdline is empty, so no needle finds it).
std::vector<pid_t> zombie_children(pid_t parent) {
  std::vector<pid_t> out;
  if (parent <= 0) return out;
  for (pid_t pid : all_pids()) {
    if (process_state(pid) != 'Z') continue;
    std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + close + 2, "%*c %d", &ppid) == 1 && ppid == parent) out.push_back(pid);
  }
  return out;
}

std::vector<std::string> open_files(pid_t pid) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code link_ec;
    auto target = fs::read_symlink(entry.path(), link_ec);
    if (!link_ec) out.push_back(target.string());
  }
  return out;
}

// ---- PartyServer -------------------------------------------------------------------------------------

PartyServer::PartyServer(ServerOptions options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/flowstone-systest-XXXXXX";
  const char* made = ::mkdtemp(tmpl);
  dir_ = made ? made : "";
  port_ = free_port();
  std::error_code ec;
  fs::create_directories(files_dir(), ec);
  fs::create_directories(providers_dir(), ec);
  write_config();
}

PartyServer::~PartyServer() {
  if (pid_ > 0) kill9();
  kill_task_processes();
  if (!dir_.empty() && !std::getenv("FLOWSTONE_KEEP_TEST_DIRS")) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

void PartyServer::write_config() const {
  std::ofstream out(conf_path(), std::ios::trunc);
  out << "party_id: \"" << options_.party_id << "\"\n"
      << "fateflow: {host: 127.0.0.1, http_port: " << port_ << "}\n"
      << "flowstone: {data_dir: ./data, file_roots: [./files], provider_roots: [./providers]";
  if (options_.body_limit_mb > 0) out << ", body_limit_mb: " << options_.body_limit_mb;
  if (!options_.flowstone_yaml.empty()) out << ", " << options_.flowstone_yaml;
  out << "}\n";
  if (!options_.job_default_yaml.empty()) out << "job_default_config: " << options_.job_default_yaml << "\n";
  if (!options_.extra_yaml.empty()) out << options_.extra_yaml << "\n";
}

namespace {

// Starts argv[0] in a process group of its own with the default signal mask, stdout and stderr appended
// to `output_path`, no other descriptor of the test process, and `cwd` (if not empty) as its folder.
pid_t spawn_in_own_group(const std::vector<std::string>& argv, const std::string& output_path,
                         const std::string& cwd) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t child = ::fork();
  if (child != 0) return child;
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int fd = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  int null = ::open("/dev/null", O_RDONLY);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
  }
  if (null >= 0) ::dup2(null, 0);
  ::close_range(3, ~0u, 0);  // nothing of the test process leaks into the child
  if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
  ::execv(args[0], args.data());
  ::_exit(127);
}

}  // namespace

std::string PartyServer::start() {
  if (dir_.empty()) return "no temporary folder";
  if (port_ == 0) return "no free port";
  if (pid_ > 0) return "already running";
  write_config();
  const std::string exe = std::string(FLOWSTONE_BIN_DIR) + "/flowstone";
  const std::string conf = conf_path();
  const std::string out = dir_ + "/server.out";
  pid_t child = spawn_in_own_group({exe, "serve", "--config", conf}, out, dir_);
  if (child < 0) return std::string("fork: ") + std::strerror(errno);
  pid_ = child;
  std::string error;
  bool up = poll_until(
      [&] {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          error = "the server exited during start (wait status " + std::to_string(status) + ")";
          pid_ = -1;
          return true;
        }
        net::HttpCall c;
        c.port = port_;
        c.target = "/v2/site/info/query";
        if (options_.sign) c.headers = options_.sign();
        c.timeout = 2000ms;
        auto r = net::http_call(c);
        if (!r.ok) return false;
        std::string parse_error;
        auto j = net::parse_json(r.body, &parse_error);
        return j && j->value("code", -1) == 0;
      },
      20s);
  if (!error.empty()) {
    error += "\n" + tail(read_text(out), 3000);
    for (pid_t pid : all_pids())
      if (belongs_to(pid, dir_))
        error += "still running from this folder: " + std::to_string(pid) + " " +
                 replace_nuls(read_text("/proc/" + std::to_string(pid) + "/cmdline")).substr(0, 160) + "\n";
    return error;
  }
  if (!up) {
    kill9();
    return "the server did not answer /v2/site/info/query with code 0 within 20 s\n" +
           tail(read_text(out), 3000);
  }
  return "";
}

int PartyServer::stop(std::chrono::milliseconds deadline) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  bool exited = poll_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, deadline, 20ms);
  if (!exited) {
    kill9();
    return -1;
  }
  pid_ = -1;
  return status;
}

void PartyServer::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string PartyServer::restart() {
  if (pid_ > 0) return "still running";
  return start();
}

net::HttpResult PartyServer::raw(const std::string& method, const std::string& target,
                                 const std::string& body, const Headers& headers) {
  net::HttpCall c;
  c.method = method;
  c.port = port_;
  c.target = target;
  c.body = body;
  c.headers = headers;
  c.timeout = 15000ms;
  return net::http_call(c);
}

namespace {
Json as_json(const net::HttpResult& r) {
  if (!r.ok) return Json{{"code", -1}, {"message", "transport error: " + r.error}};
  std::string error;
  auto j = net::parse_json(r.body, &error);
  if (!j)
    return Json{{"code", -1}, {"message", "not JSON (HTTP " + std::to_string(r.status) + "): " + r.body}};
  return *j;
}
}  // namespace

Json PartyServer::get(const std::string& route, const Query& query) {
  std::string target = "/v2/" + route;
  if (!query.empty()) target += "?" + net::encode_query(query);
  return as_json(raw("GET", target, "", options_.sign ? options_.sign() : Headers{}));
}

Json PartyServer::post(const std::string& route, const Json& body, const Headers& headers) {
  Headers all = options_.sign ? options_.sign() : Headers{};
  for (const auto& [name, value] : headers) all[name] = value;
  return as_json(raw("POST", "/v2/" + route, body.dump(), all));
}

std::string PartyServer::submit(const Json& dag_schema, Json* reply) {
  Json r = post("job/submit", Json{{"dag_schema", dag_schema}});
  if (reply) *reply = r;
  if (r.value("code", -1) != 0 || !r.contains("job_id") || !r["job_id"].is_string()) return "";
  return r["job_id"].get<std::string>();
}

Json PartyServer::job_row(const std::string& job_id, const std::string& role, const std::string& party_id) {
  Json r = get(
      "job/query",
      {{"job_id", job_id}, {"role", role}, {"party_id", party_id.empty() ? options_.party_id : party_id}});
  if (r.value("code", -1) != 0 || !r["data"].is_array() || r["data"].empty()) return nullptr;
  return r["data"][0];
}

std::map<std::string, Json> PartyServer::task_rows(const std::string& job_id, const std::string& role) {
  std::map<std::string, Json> out;
  Json r = get("job/task/query", {{"job_id", job_id}, {"role", role}});
  if (r.value("code", -1) != 0 || !r["data"].is_array()) return out;
  for (const auto& row : r["data"]) out[row.value("task_name", "")] = row;
  return out;
}

PartyServer::Waited PartyServer::wait_job(const std::string& job_id,
                                          const std::function<bool(const Json&)>& predicate,
                                          std::chrono::milliseconds deadline, const std::string& role) {
  Waited w;
  w.met = poll_until(
      [&] {
        Json row = job_row(job_id, role);
        if (!row.is_null()) w.row = row;
        return !row.is_null() && predicate(row);
      },
      deadline);
  return w;
}

PartyServer::Waited PartyServer::wait_job_status(const std::string& job_id, const std::string& status,
                                                 std::chrono::milliseconds deadline) {
  return wait_job(
      job_id, [&](const Json& row) { return row.value("status", "") == status; }, deadline);
}

PartyServer::Waited PartyServer::wait_task(const std::string& job_id, const std::string& task,
                                           const std::function<bool(const Json&)>& predicate,
                                           std::chrono::milliseconds deadline) {
  Waited w;
  w.met = poll_until(
      [&] {
        auto rows = task_rows(job_id);
        auto it = rows.find(task);
        if (it == rows.end()) return false;
        w.row = it->second;
        return predicate(w.row);
      },
      deadline);
  return w;
}

PartyServer::Waited PartyServer::wait_task_running(const std::string& job_id, const std::string& task,
                                                   std::chrono::milliseconds deadline) {
  return wait_task(
      job_id, task, [](const Json& row) { return row.value("party_status", "") == "running"; }, deadline);
}

std::string PartyServer::task_dir(const std::string& job_id, const std::string& task, int version,
                                  const std::string& role, const std::string& party_id) const {
  return data_dir() + "/jobs/" + job_id + "/" + role + "/" +
         (party_id.empty() ? options_.party_id : party_id) + "/" + task + "/" + std::to_string(version);
}

pid_t PartyServer::wait_pid_file(const std::string& task_dir, const std::string& file,
                                 std::chrono::milliseconds deadline) const {
  pid_t pid = 0;
  poll_until(
      [&] {
        pid = read_pid(task_dir + "/" + file);
        return pid > 0;
      },
      deadline);
  return pid;
}

std::string PartyServer::diagnostics(const std::string& job_id) const {
  std::string out =
      "\n--- server output (" + dir_ + "/server.out) ---\n" + tail(read_text(dir_ + "/server.out"), 3000);
  out += "\n--- flowstone.log ---\n" + tail(read_text(data_dir() + "/logs/flowstone.log"), 3000);
  if (!job_id.empty())
    out += "\n--- " + job_id + "/fate_flow_schedule.log ---\n" +
           tail(read_text(data_dir() + "/logs/" + job_id + "/fate_flow_schedule.log"), 5000);
  return out;
}

void PartyServer::kill_task_processes() {
  if (dir_.empty()) return;
  auto sweep = [&]() -> bool {
    bool found = false;
    std::error_code ec;
    const fs::path jobs = data_dir() + "/jobs";
    if (fs::exists(jobs, ec)) {
      for (auto it = fs::recursive_directory_iterator(jobs, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name != "launcher.pid" && name != "worker.pid") continue;
        pid_t pid = read_pid(it->path().string());
        if (!belongs_to(pid, dir_)) continue;  // gone, or the pid was reused by someone else
        found = true;
        ::kill(-pid, SIGKILL);  // launchers lead their session, workers their group
        ::kill(pid, SIGKILL);
      }
    }
    for (pid_t pid : all_pids()) {
      if (pid == pid_ || !belongs_to(pid, dir_)) continue;
      found = true;
      ::kill(pid, SIGKILL);
    }
    return !found;
  };
  poll_until(sweep, 10s, 50ms);
}

// ---- multi-party helpers -----------------------------------------------------------------------------

Json PartyServer::history(const std::string& job_id) {
  Json r = get("job/history/query", {{"job_id", job_id}});
  if (r.value("code", -1) != 0 || !r.contains("data") || !r["data"].is_array()) return nullptr;
  return r["data"];
}

int64_t PartyServer::history_length(const std::string& job_id) {
  Json h = history(job_id);
  return h.is_array() ? static_cast<int64_t>(h.size()) : -1;
}

PartyServer::Waited PartyServer::wait_task_as(const std::string& role, const std::string& job_id,
                                              const std::string& task,
                                              const std::function<bool(const Json&)>& predicate,
                                              std::chrono::milliseconds deadline) {
  Waited w;
  w.met = poll_until(
      [&] {
        auto rows = task_rows(job_id, role);
        auto it = rows.find(task);
        if (it == rows.end()) return false;
        w.row = it->second;
        return predicate(w.row);
      },
      deadline);
  return w;
}

std::vector<pid_t> PartyServer::task_processes() const {
  std::vector<pid_t> out;
  if (dir_.empty()) return out;
  for (pid_t pid : processes_mentioning(dir_))
    if (pid != pid_) out.push_back(pid);
  for (pid_t pid : zombie_children(pid_)) out.push_back(pid);  // launchers the server never reaped
  return out;
}

std::map<int, Json> PartyServer::task_versions(const std::string& job_id, const std::string& task,
                                               const std::string& role) {
  std::map<int, Json> out;
  Json r = get("job/task/list/query", {{"job_id", job_id}, {"role", role}, {"task_name", task}});
  if (r.value("code", -1) != 0 || !r["data"].is_object() || !r["data"]["data"].is_array()) return out;
  for (const auto& row : r["data"]["data"]) out[row.value("task_version", -1)] = row;
  return out;
}

uint16_t free_tcp_port() {
  return free_port();
}

uint16_t free_port_run(int count) {
  // Below Linux's ephemeral range (32768 and up), so an outgoing connection cannot take one of them between
  // this check and the bind of whoever gets them.
  for (int tries = 0; tries < 200; ++tries) {
    const unsigned long spread = static_cast<unsigned long>(::getpid()) * 7919UL + tries * 613UL;
    const uint16_t base = static_cast<uint16_t>(20000 + spread % 12000);
    bool all_free = true;
    for (int i = 0; i < count && all_free; ++i) all_free = bind_port(static_cast<uint16_t>(base + i)) != 0;
    if (all_free) return base;
  }
  return 0;
}

int run_command(const std::string& command, std::string* output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
    if (output) output->append(buf, n);
  return ::pclose(pipe);
}

ChildProcess::~ChildProcess() {
  kill9();
}

std::string ChildProcess::start(const std::vector<std::string>& argv, const std::string& output_path) {
  if (pid_ > 0) return "already running";
  if (argv.empty()) return "no program";
  pid_t child = spawn_in_own_group(argv, output_path, "");
  if (child < 0) return std::string("fork: ") + std::strerror(errno);
  pid_ = child;
  return "";
}

bool ChildProcess::exited(int* status) {
  if (pid_ <= 0) return true;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) != pid_) return false;
  if (status) *status = st;
  pid_ = -1;
  return true;
}

void ChildProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

// ---- DAG builders ------------------------------------------------------------------------------------

Json make_dag(const Json& tasks, const Json& conf, const Json& parties) {
  return Json{{"schema_version", "2.1.0"},
              {"dag", {{"parties", parties}, {"conf", conf}, {"stage", "train"}, {"tasks", tasks}}}};
}

Json noop_task(const Json& parameters) {
  return Json{{"component_ref", "noop"}, {"parameters", parameters}};
}

Json consumer_task(const std::string& producer, const Json& parameters) {
  return Json{{"component_ref", "noop_consumer"},
              {"parameters", parameters},
              {"inputs",
               {{"model",
                 {{"input_model",
                   {{"task_output_artifact",
                     {{"producer_task", producer}, {"output_artifact_key", "output_model"}}}}}}}}}};
}

}  // namespace flowstone::systest
