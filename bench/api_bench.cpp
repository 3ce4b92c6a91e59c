// Load driver: the latency of the client API as a user's keep-alive HTTP client sees it, on one idle party
// server. Submits jobs one after another (a one-task job of the built-in `native_noop` component, so no
// worker process competes for the cores), timing each /v2/job/submit round trip, then times /v2/job/query
// of those jobs. Prints p50, p90, p99 and max of each.
//
//   ./build/api_bench [--jobs 500] [--warmup 50] [--component native_noop] [--gap-ms 0]
//
// `--component noop` submits jobs whose task runs a real worker process (launched while later submits
// arrive), as a user's jobs do. `--gap-ms N` waits N ms after each submit, so each finds the server idle.
//
// The server and this driver share the machine's 2 cores; figures include loopback HTTP and fsyncs.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "apps/flowstone/party_process.hpp"
#include "bench/load_driver.hpp"
#include "net/http_client.hpp"

namespace {

using flowstone::Json;
using Clock = std::chrono::steady_clock;

using flowstone::bench::one_task_job;

using flowstone::bench::percentile;

void print(const char* what, const std::vector<double>& ms) {
  std::printf("  %-28s p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  max %7.2f ms  (%zu calls)\n", what,
              percentile(ms, .5), percentile(ms, .9), percentile(ms, .99),
              ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()), ms.size());
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 500, warmup = 50;
  std::string component = "native_noop";
  int gap_ms = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--component") component = argv[i + 1];
    if (flag == "--gap-ms") gap_ms = std::atoi(argv[i + 1]);
    if (flag == "--jobs") jobs = std::atoi(argv[i + 1]);
    if (flag == "--warmup") warmup = std::atoi(argv[i + 1]);
  }
  std::string dir =
      std::filesystem::temp_directory_path() / ("flowstone-api-bench-" + std::to_string(getpid()));
  flowstone::cli::PartyProcess party(std::string(FLOWSTONE_BIN_DIR) + "/flowstone", dir);
  if (std::string e = party.Start(); !e.empty()) {
    std::cerr << e << "\n";
    return 1;
  }
  flowstone::net::KeepAliveClient client;
  auto call = [&](const std::string& method, const std::string& target, const std::string& body) {
    flowstone::net::HttpCall c;
    c.method = method;
    c.port = party.port();
    c.target = target;
    c.body = body;
    return client.Call(c);
  };
  const std::string submit_body = Json{{"dag_schema", one_task_job(component)}}.dump();
  std::vector<std::string> job_ids;
  std::vector<double> submit_ms, query_ms;
  for (int n = 0; n < warmup + jobs; ++n) {
    auto t0 = Clock::now();
    auto r = call("POST", "/v2/job/submit", submit_body);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    Json answer = r.ok ? Json::parse(r.body, nullptr, false) : Json();
    if (!answer.is_object() || answer.value("code", -1) != 0) {
      std::cerr << "submit failed: " << (r.ok ? r.body : r.error) << "\n";
      return 1;
    }
    if (gap_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
    if (n < warmup) continue;
    submit_ms.push_back(ms);
    job_ids.push_back(answer.value("job_id", ""));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the jobs finish: the queries find an idle server
  for (const std::string& job_id : job_ids) {
    auto t0 = Clock::now();
    auto r = call("GET", "/v2/job/query?job_id=" + job_id, "");
    query_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!r.ok || r.body.find("\"code\":0") == std::string::npos) {
      std::cerr << "query failed: " << (r.ok ? r.body : r.error) << "\n";
      return 1;
    }
  }
  party.Stop();
  std::filesystem::remove_all(dir);
  std::cout << "client API, one party on loopback, one keep-alive client, " << jobs << " calls each (after "
            << warmup << " warm-up submits), component " << component << "\n";
  print("job/submit (one-task job)", submit_ms);
  print("job/query (one job)", query_ms);
  return 0;
}
