// Load driver for the interconnect: two party servers on loopback (guest 9999 schedules, host 10000),
// each with its own data folder and a route table to the other.
//
//   admission: client threads submit 1-task jobs of the built-in `native_noop` component (no worker
//              process, so the scheduler is what is measured) for --seconds; prints jobs admitted per
//              second (a job is admitted when the scheduler's copy turns running: the host has created
//              its copy and both started), and the submit-to-running time.
//   overhead:  3-task chains (a_0 -> b_0 -> c_0 at both parties), one job after another, in callback
//              and in poll mode; prints create-to-success at the scheduler and the scheduler overhead:
//              that minus the workers' own run time (per task, the longer of the two parties' runs).
//
//   ./build/federation_bench [--seconds 30] [--clients 8] [--jobs 40] [--component noop|native_noop]
//                            [--poll-ms 20] [--only admission|overhead]
//
// Both servers and this driver share the machine's cores; figures include loopback HTTP and fsyncs.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "apps/flowstone/party_process.hpp"
#include "bench/load_driver.hpp"

namespace {

using flowstone::Json;
using flowstone::cli::PartyProcess;
using Clock = std::chrono::steady_clock;

Json parties() {
  return Json::array(
      {Json{{"role", "guest"}, {"party_id", {"9999"}}}, Json{{"role", "host"}, {"party_id", {"10000"}}}});
}

Json one_task_job() {
  return Json{{"schema_version", "2.1.0"},
              {"dag",
               {{"parties", parties()},
                {"conf", {{"scheduler_party_id", "9999"}}},
                {"tasks", {{"a_0", {{"component_ref", "native_noop"}}}}}}}};
}

Json chain_job(const std::string& component, const std::string& sync_type) {
  auto task = [&](const char* producer) {
    Json t{{"component_ref", component}, {"parameters", {{"sleep", 0}}}};
    if (producer) t["dependent_tasks"] = Json::array({producer});
    return t;
  };
  return Json{{"schema_version", "2.1.0"},
              {"dag",
               {{"parties", parties()},
                {"conf", {{"scheduler_party_id", "9999"}, {"sync_type", sync_type}}},
                {"tasks", {{"a_0", task(nullptr)}, {"b_0", task("a_0")}, {"c_0", task("b_0")}}}}}};
}

using flowstone::bench::percentile;

bool is_end(const std::string& s) {
  return s == "success" || s == "failed" || s == "canceled" || s == "timeout";
}

// The guest's row of the job, polled until `done(row)` holds or 60 s pass.
Json wait_row(PartyProcess& party, const std::string& job_id, bool (*done)(const Json&)) {
  auto deadline = Clock::now() + std::chrono::seconds(60);
  Json row;
  while (Clock::now() < deadline) {
    auto q = party.Get("job/query", {{"job_id", job_id}, {"role", "guest"}});
    if (q && q->value("code", -1) == 0 && !(*q)["data"].empty()) row = (*q)["data"][0];
    if (done(row)) return row;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return row;
}

struct Sites {
  std::unique_ptr<PartyProcess> guest, host;
};

std::string start_sites(const std::string& dir, int poll_ms, Sites* sites) {
  uint16_t g = flowstone::cli::free_port(), h = flowstone::cli::free_port();
  std::string federation = ", federation: {threads: 8, poll_interval_ms: " + std::to_string(poll_ms) + "}";
  std::string exe = std::string(FLOWSTONE_BIN_DIR) + "/flowstone";
  // Capacity high enough not to be the limit (issue 3 measures the scheduler, not the queue).
  const std::string capacity = "computing: {standalone: {cores: 1000000}}\n";
  sites->guest = std::make_unique<PartyProcess>(
      exe, dir + "/guest", "9999", g, capacity,
      "http_threads: 2, route_table: {\"10000\": \"127.0.0.1:" + std::to_string(h) + "\"}" + federation);
  sites->host = std::make_unique<PartyProcess>(
      exe, dir + "/host", "10000", h, capacity,
      "http_threads: 2, route_table: {\"9999\": \"127.0.0.1:" + std::to_string(g) + "\"}" + federation);
  if (std::string e = sites->guest->Start(); !e.empty()) return e;
  return sites->host->Start();
}

int admission(const std::string& dir, int seconds, int clients) {
  Sites sites;
  if (std::string e = start_sites(dir + "/admission", 20, &sites); !e.empty()) {
    std::cerr << e << "\n";
    return 1;
  }
  std::mutex mu;
  std::vector<std::string> jobs;
  std::vector<double> submit_ms;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        auto s = Clock::now();
        auto r = sites.guest->Post("job/submit", Json{{"dag_schema", one_task_job()}});
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
        if (!r || r->value("code", -1) != 0) {
          ++failures;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        jobs.push_back(r->value("job_id", ""));
        submit_ms.push_back(ms);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double window_s = std::chrono::duration<double>(Clock::now() - t0).count();

  // Every job's admission (create_time -> start_time of the scheduler's copy), read back afterwards.
  std::vector<double> admit_ms;
  int64_t first_create = INT64_MAX, last_start = 0;
  int not_admitted = 0;
  for (const auto& job_id : jobs) {
    Json row = wait_row(*sites.guest, job_id,
                        [](const Json& r) { return r.is_object() && !r["start_time"].is_null(); });
    if (!row.is_object() || row["start_time"].is_null()) {
      ++not_admitted;
      continue;
    }
    int64_t create = row.value("create_time", int64_t{0}), start = row.value("start_time", int64_t{0});
    admit_ms.push_back(static_cast<double>(start - create));
    first_create = std::min(first_create, create);
    last_start = std::max(last_start, start);
  }
  double span_s =
      last_start > first_create ? static_cast<double>(last_start - first_create) / 1000.0 : window_s;
  sites.guest->Stop();
  sites.host->Stop();
  std::printf("admission: 1-task native_noop jobs at guest 9999 + host 10000, %d client threads, %.1f s\n",
              clients, window_s);
  std::printf("  submitted %zu jobs (%.0f/s), %d refused, %d never admitted\n", jobs.size(),
              static_cast<double>(jobs.size()) / window_s, failures.load(), not_admitted);
  std::printf(
      "  admitted (running at the scheduler)   %.0f jobs/s sustained (first create to last admission)\n",
      static_cast<double>(admit_ms.size()) / span_s);
  std::printf("  submit reply                          p50 %7.1f ms  p99 %7.1f ms\n",
              percentile(submit_ms, .5), percentile(submit_ms, .99));
  std::printf("  create-to-running (server clock)      p50 %7.1f ms  p99 %7.1f ms\n",
              percentile(admit_ms, .5), percentile(admit_ms, .99));
  return 0;
}

// Per task, the longer of the two parties' own run times (start_time to end_time of the latest run).
double workers_ms(PartyProcess& guest, PartyProcess& host, const std::string& job_id) {
  std::map<std::string, double> longest;
  for (auto [party, role] : {std::pair<PartyProcess*, const char*>{&guest, "guest"}, {&host, "host"}}) {
    auto tasks = party->Get("job/task/query", {{"job_id", job_id}, {"role", role}});
    if (!tasks || !(*tasks)["data"].is_array()) continue;
    for (const auto& t : (*tasks)["data"]) {
      double ran = t.value("end_time", 0.0) - t.value("start_time", 0.0);
      double& slot = longest[t.value("task_name", "")];
      slot = std::max(slot, ran);
    }
  }
  double sum = 0;
  for (const auto& [task, ms] : longest) sum += ms;
  return sum;
}

int overhead(const std::string& dir, int jobs, const std::string& component, int poll_ms) {
  for (const std::string sync : {"callback", "poll"}) {
    Sites sites;
    if (std::string e = start_sites(dir + "/" + sync, poll_ms, &sites); !e.empty()) {
      std::cerr << e << "\n";
      return 1;
    }
    std::vector<double> total_ms, worker_ms, overhead_ms;
    for (int n = 0; n < jobs; ++n) {
      auto r = sites.guest->Post("job/submit", Json{{"dag_schema", chain_job(component, sync)}});
      if (!r || r->value("code", -1) != 0) {
        std::cerr << "submit failed: " << (r ? r->dump() : "no answer") << "\n";
        return 1;
      }
      std::string job_id = r->value("job_id", "");
      Json row = wait_row(*sites.guest, job_id,
                          [](const Json& x) { return x.is_object() && is_end(x.value("status", "")); });
      if (row.value("status", "") != "success") {
        std::cerr << "job " << job_id << " ended " << row.value("status", "?") << "\n";
        return 1;
      }
      // The host's copy ends after the scheduler's: wait for it so the next job starts on a quiet host.
      auto hq = Clock::now() + std::chrono::seconds(30);
      while (Clock::now() < hq) {
        auto q = sites.host->Get("job/query", {{"job_id", job_id}});
        if (q && q->value("code", -1) == 0 && !(*q)["data"].empty() &&
            is_end((*q)["data"][0].value("status", "")))
          break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      double total = row.value("end_time", 0.0) - row.value("create_time", 0.0);
      double ran = workers_ms(*sites.guest, *sites.host, job_id);
      total_ms.push_back(total);
      worker_ms.push_back(ran);
      overhead_ms.push_back(total - ran);
    }
    sites.guest->Stop();
    sites.host->Stop();
    std::printf("overhead: 3-task chain of %s at guest + host, %s mode%s, %d jobs one after another\n",
                component.c_str(), sync.c_str(),
                sync == "poll" ? (", poll every " + std::to_string(poll_ms) + " ms").c_str() : "", jobs);
    std::printf("  create-to-success (scheduler clock)   p50 %7.1f ms  p99 %7.1f ms\n",
                percentile(total_ms, .5), percentile(total_ms, .99));
    std::printf("  workers' own run time (3 tasks)       p50 %7.1f ms  p99 %7.1f ms\n",
                percentile(worker_ms, .5), percentile(worker_ms, .99));
    std::printf("  scheduler overhead (total - workers)  p50 %7.1f ms  p99 %7.1f ms\n",
                percentile(overhead_ms, .5), percentile(overhead_ms, .99));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 30, clients = 8, jobs = 40, poll_ms = 20;
  std::string component = "noop", only;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--seconds") seconds = std::atoi(argv[i + 1]);
    if (flag == "--clients") clients = std::atoi(argv[i + 1]);
    if (flag == "--jobs") jobs = std::atoi(argv[i + 1]);
    if (flag == "--component") component = argv[i + 1];
    if (flag == "--poll-ms") poll_ms = std::atoi(argv[i + 1]);
    if (flag == "--only") only = argv[i + 1];
  }
  std::string dir =
      std::filesystem::temp_directory_path() / ("flowstone-federation-bench-" + std::to_string(getpid()));
  int rc = 0;
  if (only.empty() || only == "admission") rc |= admission(dir, seconds, clients);
  if (only.empty() || only == "overhead") rc |= overhead(dir, jobs, component, poll_ms);
  std::filesystem::remove_all(dir);
  return rc;
}
