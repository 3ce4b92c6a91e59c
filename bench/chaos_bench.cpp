// chaos_bench: proof by volume (issue 14, part 1). Three parties on loopback talk through `flowstone proxy`
// injecting faults into a share of their calls; jobs (chains, parallel tasks, retries, stops, a poll-mode
// share) are submitted at a fixed rate at random parties with a random scheduler, while the server of a
// random party is killed with SIGKILL at random moments and restarted at once. The driver keeps its own
// record of every job and every stop a server acknowledged, and afterwards prints and checks:
//   acknowledged jobs missing at their scheduler = 0, jobs not ended after the grace period = 0, jobs whose
//   copies disagree = 0, `flowstone store verify` passes at every party, no cores in use, no worker or
//   launcher left, and how long each restart took until the server answered again (p50, max).
// Exit code 0 when every check holds.
//
//   chaos_bench [--jobs N] [--kills K] [--rate JOBS_PER_S] [--faults SHARE] [--grace S] [--seed N] [--dir D]
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "apps/flowstone/party_process.hpp"
#include "bench/load_driver.hpp"
#include "net/http_client.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using flowstone::Json;
using flowstone::cli::PartyProcess;
using Clock = std::chrono::steady_clock;

struct Site {
  Site(std::string r, std::string p) : role(std::move(r)), party_id(std::move(p)) {}
  std::string role, party_id;
  std::unique_ptr<PartyProcess> process;
  uint16_t port = 0;
  std::mutex mu;  // held while the killer restarts it
};

struct AckedJob {
  std::string job_id, scheduler_party;
  std::vector<std::string> parties;  // role:party_id of every copy
  bool stop_acked = false;
};

std::optional<Json> call(uint16_t port, const std::string& method, const std::string& target,
                         const Json& body,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  flowstone::net::HttpCall c;
  c.method = method;
  c.port = port;
  c.target = target;
  if (method == "POST") c.body = body.dump();
  c.timeout = timeout;
  auto r = flowstone::net::http_call(c);
  if (!r.ok) return std::nullopt;
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// A job of the mix: its parties, its scheduler among them, a chain or parallel tasks, maybe a retry, poll
// mode.
Json make_job(std::mt19937_64& random, const std::vector<Site*>& sites, std::string* scheduler_party,
              std::vector<std::string>* copies) {
  std::uniform_int_distribution<int> pick(0, 99);
  std::vector<Site*> parties = {sites[0], sites[1]};
  if (pick(random) < 30) parties.push_back(sites[2]);
  Site* scheduler = parties[static_cast<size_t>(pick(random)) % parties.size()];
  *scheduler_party = scheduler->party_id;
  Json dag_parties = Json::array();
  for (Site* s : parties) {
    dag_parties.push_back(Json{{"role", s->role}, {"party_id", Json::array({s->party_id})}});
    copies->push_back(s->role + ":" + s->party_id);
  }
  Json conf = {
      {"scheduler_party_id", scheduler->party_id}, {"cores", 2}, {"task", {{"engine_run", {{"cores", 1}}}}}};
  if (pick(random) < 20) conf["sync_type"] = "poll";
  const bool retry = pick(random) < 25;
  if (retry) conf["auto_retries"] = 1;
  Json a = {{"component_ref", "noop"}, {"parameters", {{"sleep", 0.2 * (pick(random) % 4)}}}};
  if (retry) a["parameters"]["fail_below_version"] = 1;
  Json tasks = {{"a_0", a}};
  if (pick(random) < 60) {  // a chain: b_0 reads a_0's model
    tasks["b_0"] = Json::parse(R"({"component_ref": "noop_consumer", "inputs": {"model": {"input_model":
        {"task_output_artifact": {"producer_task": "a_0", "output_artifact_key": "output_model"}}}}})");
  } else {  // parallel
    tasks["c_0"] = Json{{"component_ref", "noop"}, {"parameters", {{"sleep", 0.1}}}};
  }
  return Json{{"schema_version", "2.1.0"},
              {"dag", {{"parties", dag_parties}, {"conf", conf}, {"tasks", tasks}}}};
}

bool is_end(const std::string& status) {
  return status == "success" || status == "failed" || status == "canceled" || status == "timeout" ||
         status == "pass";
}

// The status of a job's copy (role:party) at its party; "" when the party does not know the job.
std::string copy_status(const std::map<std::string, Site*>& by_party, const std::string& copy,
                        const std::string& job_id) {
  const std::string role = copy.substr(0, copy.find(':')), party = copy.substr(copy.find(':') + 1);
  auto reply = call(by_party.at(party)->port, "GET",
                    "/v2/job/query?job_id=" + job_id + "&role=" + role + "&party_id=" + party, nullptr);
  if (!reply || reply->value("code", -1) != 0 || !(*reply)["data"].is_array() || (*reply)["data"].empty())
    return "";
  return (*reply)["data"][0].value("status", "");
}

// Launchers and workers of this run left behind: processes whose executable is a flowstone-* program (not the
// `flowstone` server or proxy) and whose command line names the run's folder.
int processes_left(const std::string& dir) {
  int left = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string program = fs::path(cmdline.substr(0, cmdline.find('\0'))).filename();
    if (program.rfind("flowstone-", 0) == 0 && cmdline.find(dir) != std::string::npos) ++left;
  }
  return left;
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 200, kills = 20, grace_s = 120;
  double rate = 4, faults = 0.1;
  uint64_t seed = 1;
  std::string dir = (fs::temp_directory_path() / ("flowstone-chaos-" + std::to_string(getpid()))).string();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--jobs")
      jobs = std::atoi(value.c_str());
    else if (flag == "--kills")
      kills = std::atoi(value.c_str());
    else if (flag == "--rate")
      rate = std::atof(value.c_str());
    else if (flag == "--faults")
      faults = std::atof(value.c_str());
    else if (flag == "--grace")
      grace_s = std::atoi(value.c_str());
    else if (flag == "--seed")
      seed = std::strtoull(value.c_str(), nullptr, 10);
    else if (flag == "--dir")
      dir = value;
    else {
      std::cerr << "unknown option " << flag << "\n";
      return 2;
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string bin = FLOWSTONE_BIN_DIR;

  // The sites and the proxy between them (every partner call goes through it).
  Site guest{"guest", "9999"}, host{"host", "10000"}, arbiter{"arbiter", "10001"};
  std::vector<Site*> sites = {&guest, &host, &arbiter};
  std::map<std::string, Site*> by_party;
  for (Site* s : sites) {
    s->port = flowstone::cli::free_port();
    by_party[s->party_id] = s;
  }
  const uint16_t proxy_port = flowstone::cli::free_port();
  std::vector<std::string> proxy_args = {bin + "/flowstone", "proxy", "--port", std::to_string(proxy_port),
                                         "--threads",        "8",     "--seed", std::to_string(seed)};
  for (const char* fault : {"--drop-requests", "--drop-answers", "--duplicates", "--delays"})
    proxy_args.insert(proxy_args.end(), {fault, std::to_string(faults)});
  for (Site* s : sites)
    proxy_args.insert(proxy_args.end(), {"--route", s->party_id + "=127.0.0.1:" + std::to_string(s->port)});
  std::vector<char*> proxy_argv;
  for (auto& a : proxy_args) proxy_argv.push_back(a.data());
  proxy_argv.push_back(nullptr);
  pid_t proxy_pid = -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, (dir + "/proxy.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  if (posix_spawn(&proxy_pid, proxy_argv[0], &actions, nullptr, proxy_argv.data(), environ) != 0) {
    std::cerr << "cannot start the proxy\n";
    return 1;
  }
  posix_spawn_file_actions_destroy(&actions);
  const std::string federation =
      "federation: {nginx: {host: 127.0.0.1, http_port: " + std::to_string(proxy_port) +
      "}}\ncomputing: {standalone: {cores: 64}}";
  for (Site* s : sites) {
    s->process = std::make_unique<PartyProcess>(
        bin + "/flowstone", dir + "/" + s->role, s->party_id, s->port, federation,
        "federation: {reconcile_after_ms: 1000, poll_interval_ms: 200, create_timeout_ms: 30000, "
        "call_timeout_ms: 60000}");
    if (std::string e = s->process->Start(); !e.empty()) {
      std::cerr << s->role << ": " << e << "\n";
      return 1;
    }
  }
  std::cout << "chaos: 3 parties, proxy with " << faults * 100 << "% of each fault, " << jobs << " jobs at "
            << rate << "/s, " << kills << " kills, seed " << seed << ", in " << dir << std::endl;

  // The killer: SIGKILL a random party at random moments over the submission period, restart it at once.
  const double period_s = jobs / rate;
  std::vector<double> restart_s;
  std::mutex restart_mu;
  std::thread killer([&] {
    std::mt19937_64 random(seed * 7 + 1);
    const double gap = period_s / std::max(1, kills);
    std::uniform_real_distribution<double> wait(0.3 * gap, 1.7 * gap);
    for (int k = 0; k < kills; ++k) {
      std::this_thread::sleep_for(std::chrono::duration<double>(wait(random)));
      Site* victim = sites[random() % sites.size()];
      std::lock_guard<std::mutex> lock(victim->mu);
      victim->process->Kill();
      const auto start = Clock::now();
      if (std::string e = victim->process->Start(); !e.empty())
        std::cerr << "restart " << victim->role << ": " << e << "\n";
      std::lock_guard<std::mutex> record(restart_mu);
      restart_s.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
  });

  // The submitter: the driver's record holds only what a server acknowledged.
  std::vector<AckedJob> acked;
  int refused = 0, stops_refused = 0;
  std::mt19937_64 random(seed);
  const auto begin = Clock::now();
  for (int i = 0; i < jobs; ++i) {
    std::this_thread::sleep_until(
        begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / rate)));
    AckedJob job;
    Json schema = make_job(random, sites, &job.scheduler_party, &job.parties);
    Site* at = sites[random() % sites.size()];
    auto reply = call(at->port, "POST", "/v2/job/submit", Json{{"dag_schema", schema}},
                      std::chrono::milliseconds(15000));
    if (!reply || reply->value("code", -1) != 0) {
      ++refused;
      continue;
    }
    job.job_id = reply->value("job_id", "");
    acked.push_back(job);
    // A share of the earlier jobs is stopped at their scheduler.
    if (acked.size() > 3 && random() % 100 < 10) {
      AckedJob& target = acked[acked.size() - 1 - random() % 3];
      if (!target.stop_acked) {
        auto stop = call(by_party[target.scheduler_party]->port, "POST", "/v2/job/stop",
                         Json{{"job_id", target.job_id}});
        if (stop && stop->value("code", -1) == 0)
          target.stop_acked = true;
        else
          ++stops_refused;
      }
    }
  }
  killer.join();
  const double submit_s = std::chrono::duration<double>(Clock::now() - begin).count();

  // The checks, after a grace period for every acknowledged job to end everywhere.
  int missing = 0, stuck = 0, disagreeing = 0, stopped = 0;
  std::map<std::string, int> by_status;
  const auto deadline = Clock::now() + std::chrono::seconds(grace_s);
  for (const AckedJob& job : acked) {
    std::map<std::string, std::string> status;
    bool all_ended = false;
    while (true) {
      all_ended = true;
      for (const std::string& copy : job.parties) {
        status[copy] = copy_status(by_party, copy, job.job_id);
        all_ended = all_ended && is_end(status[copy]);
      }
      if (all_ended || Clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    const std::string scheduler_copy = [&] {
      for (const std::string& copy : job.parties)
        if (copy.substr(copy.find(':') + 1) == job.scheduler_party) return copy;
      return job.parties[0];
    }();
    const std::string& at_scheduler = status[scheduler_copy];
    if (at_scheduler.empty()) {
      ++missing;
      std::cout << "missing at the scheduler: " << job.job_id << "\n";
      continue;
    }
    ++by_status[at_scheduler];
    stopped += job.stop_acked;
    if (!all_ended) {
      ++stuck;
      std::cout << "not ended: " << job.job_id;
      for (auto& [copy, s] : status) std::cout << " " << copy << "=" << (s.empty() ? "?" : s);
      std::cout << "\n";
      continue;
    }
    // The documented stop rule: a stopped job's copies end canceled, or failed where a task failed as it
    // was stopped; without a stop every copy ends as the scheduler says.
    bool agree = true;
    for (auto& [copy, s] : status)
      agree = agree &&
              (job.stop_acked ? (s == "canceled" || s == "failed" || s == at_scheduler) : s == at_scheduler);
    if (!agree) {
      ++disagreeing;
      std::cout << "disagreeing: " << job.job_id;
      for (auto& [copy, s] : status) std::cout << " " << copy << "=" << s;
      std::cout << "\n";
    }
  }
  // A copy's cores go back to its party's ledger just after the copy ends (the job's actor tells the
  // resource manager once the end is durable): give the ledgers up to 10 s to come back to zero.
  int cores_in_use = 0;
  for (Site* s : sites) {
    int in_use = -1;
    for (int i = 0; i < 100; ++i) {
      auto info = call(s->port, "GET", "/v2/site/info/query", nullptr);
      in_use = info && (*info)["data"].is_object() ? (*info)["data"].value("cores_in_use", 0) : -1;
      if (in_use == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (in_use != 0) std::cout << "cores in use at " << s->role << ": " << in_use << "\n";
    cores_in_use += std::max(in_use, 0);
  }
  // Workers and launchers of runs that just ended exit: give them up to 15 s.
  int left_running = processes_left(dir);
  for (int i = 0; i < 75 && left_running > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    left_running = processes_left(dir);
  }
  int verified = 0;
  for (Site* s : sites) {
    s->process->Stop();
    const std::string command = bin + "/flowstone store verify --config " + s->process->config_path() +
                                " > " + dir + "/" + s->role + ".verify 2>&1";
    verified += std::system(command.c_str()) == 0;
  }
  auto proxy_stats = call(proxy_port, "GET", "/_proxy/stats", nullptr);
  ::kill(proxy_pid, SIGTERM);
  ::waitpid(proxy_pid, nullptr, 0);
  const int left_after = processes_left(dir);

  std::cout << "chaos: " << acked.size() << " jobs acknowledged (" << refused
            << " submits refused while a party "
            << "restarted), " << stopped << " stops acknowledged (" << stops_refused << " refused), in "
            << submit_s << " s\n";
  if (proxy_stats) std::cout << "chaos: proxy faults injected: " << (*proxy_stats)["data"].dump() << "\n";
  std::cout << "chaos: jobs at their scheduler by status:";
  for (auto& [s, n] : by_status) std::cout << " " << s << "=" << n;
  std::cout << "\n";
  std::cout << "chaos: kills " << restart_s.size() << ", restart to serving p50 "
            << flowstone::bench::percentile(restart_s, 0.5) << " s, max "
            << (restart_s.empty() ? 0 : *std::max_element(restart_s.begin(), restart_s.end())) << " s\n";
  std::cout << "chaos: missing " << missing << ", not ended " << stuck << ", disagreeing " << disagreeing
            << ", store verify passed " << verified << "/3, cores in use " << cores_in_use
            << ", task processes left " << left_running << " (after the servers stopped: " << left_after
            << ")\n";
  const bool ok = missing == 0 && stuck == 0 && disagreeing == 0 && verified == 3 && cores_in_use == 0 &&
                  left_running == 0;
  std::cout << (ok ? "chaos: PASS" : "chaos: FAIL") << std::endl;
  if (ok) fs::remove_all(dir);
  return ok ? 0 : 1;
}
