// Load driver: a 3-task chain of no-op tasks (a_0 -> b_0 -> c_0) on one party server, submitted one
// job after another. Prints submit-to-success time (p50, p99) and the scheduler's own overhead: the
// job's server-side duration (create_time to end_time) minus the time its workers ran (each task's
// start_time to end_time: from the launch being recorded to the worker's report).
//
//   ./build/chain_bench [--jobs 50] [--sleep 0] [--history]   (--history: the last job's events with their
//   times)
//
// The server and this driver share the machine's 2 cores; figures include loopback HTTP and fsyncs.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "apps/flowstone/party_process.hpp"
#include "bench/load_driver.hpp"

namespace {

using flowstone::Json;

Json chain_job(double sleep_s) {
  Json params = {{"sleep", sleep_s}};
  auto consumer = [&](const char* producer) {
    return Json{{"component_ref", "noop_consumer"},
                {"parameters", params},
                {"inputs",
                 {{"model",
                   {{"input_model",
                     {{"task_output_artifact",
                       {{"producer_task", producer}, {"output_artifact_key", "output_model"}}}}}}}}}};
  };
  return Json{{"schema_version", "2.1.0"},
              {"dag",
               {{"parties", Json::array({{{"role", "guest"}, {"party_id", {"9999"}}}})},
                {"tasks",
                 {{"a_0", {{"component_ref", "noop"}, {"parameters", params}}},
                  {"b_0", consumer("a_0")},
                  {"c_0", consumer("b_0")}}}}}};
}

using flowstone::bench::percentile;

}  // namespace

int main(int argc, char** argv) {
  int jobs = 50;
  double sleep_s = 0;
  bool show_history = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--history") show_history = true;
    if (i + 1 >= argc) break;
    if (flag == "--jobs") jobs = std::atoi(argv[++i]);
    if (flag == "--sleep") sleep_s = std::atof(argv[++i]);
  }
  std::string dir =
      std::filesystem::temp_directory_path() / ("flowstone-chain-bench-" + std::to_string(getpid()));
  flowstone::cli::PartyProcess party(std::string(FLOWSTONE_BIN_DIR) + "/flowstone", dir);
  if (std::string e = party.Start(); !e.empty()) {
    std::cerr << e << "\n";
    return 1;
  }
  std::vector<double> client_ms, server_ms, overhead_ms, worker_ms;
  std::string last_job_id;
  for (int n = 0; n < jobs; ++n) {
    auto t0 = std::chrono::steady_clock::now();
    auto submitted = party.Post("job/submit", Json{{"dag_schema", chain_job(sleep_s)}});
    if (!submitted || submitted->value("code", -1) != 0) {
      std::cerr << "submit failed: " << (submitted ? submitted->dump() : "no answer") << "\n";
      return 1;
    }
    std::string job_id = submitted->value("job_id", "");
    Json job;
    for (;;) {
      auto q = party.Get("job/query", {{"job_id", job_id}});
      if (q && q->value("code", -1) == 0) job = (*q)["data"][0];
      std::string status = job.value("status", "");
      if (status == "success") break;
      if (status == "failed" || status == "canceled") {
        std::cerr << "job " << job_id << " ended " << status << "\n";
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    client_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    auto tasks = party.Get("job/task/query", {{"job_id", job_id}});
    double ran = 0;
    for (const auto& t : (*tasks)["data"]) ran += t.value("end_time", 0.0) - t.value("start_time", 0.0);
    double total = job.value("end_time", 0.0) - job.value("create_time", 0.0);
    server_ms.push_back(total);
    worker_ms.push_back(ran);
    overhead_ms.push_back(total - ran);
    last_job_id = job_id;
  }
  if (show_history) {  // where the last job's time went: each event with its time from the first
    auto history = party.Get("job/history/query", {{"job_id", last_job_id}});
    int64_t first = -1;
    if (!history || history->value("code", -1) != 0)
      std::cerr << "history: " << (history ? history->dump() : "no answer") << "\n";
    if (history)
      for (const auto& e : (*history)["data"]) {
        int64_t at = e.value("at", int64_t{0});
        if (first < 0) first = at;
        std::printf("  +%5lld ms  %s %s\n", static_cast<long long>(at - first), e.value("kind", "").c_str(),
                    e.value("what", "").c_str());
      }
  }
  party.Stop();
  std::filesystem::remove_all(dir);
  std::cout << "3-task chain of no-op tasks, " << jobs << " jobs one after another, one party on loopback\n";
  std::printf("  submit-to-success (client, incl. polling) p50 %7.1f ms  p99 %7.1f ms\n",
              percentile(client_ms, .5), percentile(client_ms, .99));
  std::printf("  create-to-success (server clock)          p50 %7.1f ms  p99 %7.1f ms\n",
              percentile(server_ms, .5), percentile(server_ms, .99));
  std::printf("  workers' own run time (3 tasks)           p50 %7.1f ms  p99 %7.1f ms\n",
              percentile(worker_ms, .5), percentile(worker_ms, .99));
  std::printf("  scheduler overhead (total - workers)      p50 %7.1f ms  p99 %7.1f ms\n",
              percentile(overhead_ms, .5), percentile(overhead_ms, .99));
  return 0;
}
