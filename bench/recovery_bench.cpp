// Load driver for recovery as the log grows (issue 14): one party's server whose log holds many ended
// jobs, restarted, and its memory with all of them retained.
//
//   build:   client threads submit --jobs jobs of --tasks `native_noop` tasks in a chain (inside the
//            server, no worker process: the log fills as fast as the scheduler runs) until all have
//            ended; then the server stops and the log's size (events) is read. Skipped with --reuse when
//            the folder already holds a built log.
//   restart: the server is started again --restarts times after a clean stop and as many times after a
//            SIGKILL, and the time from fork to the first answer of /v2/site/info/query is measured, then
//            to the first answer about an old job (job/query of the first job built).
//   memory:  the server's RSS right after start, after listing every job (job/list/query, all pages), and
//            after querying every job's tasks (job/task/query: brings each job's views, not its actor).
//
//   ./build/recovery_bench [--jobs 10000] [--tasks 10] [--clients 8] [--restarts 5] [--dir DIR] [--reuse]
//
// The figures include process start, RocksDB's open (and WAL replay after a SIGKILL) and loopback HTTP.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "apps/flowstone/party_process.hpp"
#include "bench/load_driver.hpp"
#include "store/event_log.hpp"
#include "store/projections.hpp"

namespace {

using flowstone::Json;
using flowstone::cli::PartyProcess;
using Clock = std::chrono::steady_clock;

struct Options {
  int jobs = 10000, tasks = 10, clients = 8, restarts = 5;
  std::string dir;
  bool reuse = false;
};

Json chain_job(int tasks) {
  Json all = Json::object();
  for (int i = 0; i < tasks; ++i) {
    Json task{{"component_ref", "native_noop"}};
    if (i > 0)
      task["inputs"] = {
          {"data",
           {{"input_data",
             {{"task_output_artifact",
               {{"producer_task", "t" + std::to_string(i - 1)}, {"output_artifact_key", "output_data"}}}}}}}};
    all["t" + std::to_string(i)] = task;
  }
  return Json{
      {"schema_version", "2.1.0"},
      {"dag", {{"parties", Json::array({{{"role", "guest"}, {"party_id", {"9999"}}}})}, {"tasks", all}}}};
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

long rss_mb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6) / 1024;
  return -1;
}

std::unique_ptr<PartyProcess> make_party(const Options& o) {
  return std::make_unique<PartyProcess>(std::string(FLOWSTONE_BIN_DIR) + "/flowstone", o.dir + "/guest",
                                        "9999", 0, "computing: {standalone: {cores: 1000000}}\n",
                                        "http_threads: 2");
}

bool is_end(const std::string& s) {
  return s == "success" || s == "failed" || s == "canceled" || s == "timeout";
}

// Submits the jobs from client threads, each waiting for its job to end before the next.
int build(const Options& o) {
  auto party = make_party(o);
  if (std::string e = party->Start(); !e.empty()) {
    std::cerr << e << "\n";
    return 1;
  }
  const Json dag = chain_job(o.tasks);
  std::atomic<int> next{0}, failed{0}, done{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c)
    threads.emplace_back([&] {
      for (int i = next++; i < o.jobs; i = next++) {
        auto submitted = party->Post("job/submit", Json{{"dag_schema", dag}});
        if (!submitted || submitted->value("code", -1) != 0) {
          ++failed;
          continue;
        }
        std::string job_id = (*submitted)["job_id"];
        for (;;) {
          auto q = party->Get("job/query", {{"job_id", job_id}, {"role", "guest"}});
          if (q && q->value("code", -1) == 0 && !(*q)["data"].empty() &&
              is_end((*q)["data"][0].value("status", "")))
            break;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (int d = ++done; d % 1000 == 0)
          std::printf("  %d jobs ended (%.0f s)\n", d, seconds_since(t0)), std::fflush(stdout);
      }
    });
  for (auto& t : threads) t.join();
  party->Stop();
  std::printf("build: %d jobs of %d tasks ended in %.0f s (%d refused)\n", done.load(), o.tasks,
              seconds_since(t0), failed.load());
  return failed ? 1 : 0;
}

uint64_t log_events(const Options& o) {
  std::unique_ptr<flowstone::store::EventLog> log;
  flowstone::store::Options options;
  options.view_families = flowstone::store::job_view_families();
  if (!flowstone::store::EventLog::Open(o.dir + "/guest/data/db", options, &log).ok()) return 0;
  return log->LastGlobalSeq();
}

std::string first_job(PartyProcess& party) {
  auto listed = party.Get("job/list/query",
                          {{"page", "1"}, {"limit", "1"}, {"order_by", "create_time"}, {"order", "asc"}});
  if (!listed || listed->value("code", -1) != 0 || (*listed)["data"]["data"].empty()) return "";
  return (*listed)["data"]["data"][0].value("job_id", "");
}

// Starts the server, returning seconds to serving and to the first answer about `old_job`.
bool timed_start(PartyProcess& party, const std::string& old_job, double* serving, double* answering) {
  auto t0 = Clock::now();
  if (std::string e = party.Start(); !e.empty()) {
    std::cerr << e << "\n";
    return false;
  }
  *serving = seconds_since(t0);
  for (;;) {
    auto q = party.Get("job/query", {{"job_id", old_job}});
    if (q && q->value("code", -1) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  *answering = seconds_since(t0);
  return true;
}

int restart_and_measure(const Options& o) {
  std::printf("log: %llu events\n", static_cast<unsigned long long>(log_events(o)));
  auto party = make_party(o);
  if (std::string e = party->Start(); !e.empty()) {
    std::cerr << e << "\n";
    return 1;
  }
  const std::string old_job = first_job(*party);
  if (old_job.empty()) {
    std::cerr << "no job in the log\n";
    return 1;
  }
  for (bool kill : {false, true}) {
    std::vector<double> serving, answering;
    for (int i = 0; i < o.restarts; ++i) {
      kill ? party->Kill() : static_cast<void>(party->Stop());
      double s = 0, a = 0;
      if (!timed_start(*party, old_job, &s, &a)) return 1;
      serving.push_back(s);
      answering.push_back(a);
    }
    using flowstone::bench::percentile;
    std::printf(
        "restart after %s (%d): to serving p50 %.3f s max %.3f s; to an old job's answer p50 %.3f s max %.3f "
        "s\n",
        kill ? "SIGKILL" : "a clean stop", o.restarts, percentile(serving, 0.5), percentile(serving, 1.0),
        percentile(answering, 0.5), percentile(answering, 1.0));
  }
  std::printf("RSS after start: %ld MB\n", rss_mb(party->pid()));
  std::vector<std::string> jobs;
  for (int page = 1;; ++page) {
    auto listed = party->Get("job/list/query", {{"page", std::to_string(page)}, {"limit", "500"}});
    if (!listed || listed->value("code", -1) != 0 || (*listed)["data"]["data"].empty()) break;
    for (const auto& row : (*listed)["data"]["data"]) jobs.push_back(row.value("job_id", ""));
  }
  std::printf("RSS after listing all %zu jobs: %ld MB\n", jobs.size(), rss_mb(party->pid()));
  int missing = 0;
  for (const auto& job_id : jobs) {
    auto tasks = party->Get("job/task/query", {{"job_id", job_id}});
    if (!tasks || tasks->value("code", -1) != 0) ++missing;
  }
  std::printf("RSS after querying every job's tasks: %ld MB (%d jobs without tasks)\n", rss_mb(party->pid()),
              missing);
  party->Stop();
  return missing ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--jobs")
      o.jobs = std::atoi(next().c_str());
    else if (a == "--tasks")
      o.tasks = std::atoi(next().c_str());
    else if (a == "--clients")
      o.clients = std::atoi(next().c_str());
    else if (a == "--restarts")
      o.restarts = std::atoi(next().c_str());
    else if (a == "--dir")
      o.dir = next();
    else if (a == "--reuse")
      o.reuse = true;
    else {
      std::cerr << "usage: recovery_bench [--jobs N] [--tasks N] [--clients N] [--restarts N] [--dir DIR] "
                   "[--reuse]\n";
      return 2;
    }
  }
  if (o.dir.empty()) o.dir = "/tmp/flowstone-recovery-" + std::to_string(::getpid());
  const bool built = std::filesystem::exists(o.dir + "/guest/data/db");
  if (!(o.reuse && built)) {
    std::filesystem::remove_all(o.dir);
    if (int rc = build(o); rc != 0) return rc;
  }
  return restart_and_measure(o);
}
