// Load driver: does a normal client keep its latency while slow and idle connections are open (slowloris)?
// One party server; first a keep-alive client times /v2/job/query alone, then again while N other
// connections are held open: half send a request header one line per second and never finish it, half
// connect and send nothing. Prints p50, p99 and max of both phases and how many slow connections the server
// still holds at the end (it closes a request that has not arrived within its read timeout). With `--wrk C`,
// wrk (Debian's `wrk`) also loads job/query with C connections during the second phase, and its latency
// distribution and request rate are printed too: the server's throughput beside the slow connections.
//
//   ./build/slow_clients_bench [--slow 500] [--seconds 15] [--gap-ms 5] [--wrk 8]
//
// The server and this driver share the machine's 2 cores.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

using flowstone::bench::percentile;

void print(const char* what, const std::vector<double>& ms) {
  std::printf("  %-40s p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  (%zu calls)\n", what, percentile(ms, .5),
              percentile(ms, .99), ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()), ms.size());
}

int connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// A connection the server has closed reads as end of stream (or a reset).
bool still_open(int fd) {
  char byte;
  ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

std::vector<double> time_queries(flowstone::net::KeepAliveClient& client, uint16_t port,
                                 const std::string& job_id, std::chrono::seconds duration, int gap_ms) {
  std::vector<double> ms;
  const auto end = Clock::now() + duration;
  while (Clock::now() < end) {
    flowstone::net::HttpCall c;
    c.port = port;
    c.target = "/v2/job/query?job_id=" + job_id;
    auto t0 = Clock::now();
    auto r = client.Call(c);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!r.ok || r.body.find("\"code\":0") == std::string::npos) {
      std::cerr << "query failed: " << (r.ok ? r.body : r.error) << "\n";
      std::exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  int slow = 500, seconds = 15, gap_ms = 5, wrk_connections = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--slow") slow = std::atoi(argv[i + 1]);
    if (flag == "--seconds") seconds = std::atoi(argv[i + 1]);
    if (flag == "--gap-ms") gap_ms = std::atoi(argv[i + 1]);
    if (flag == "--wrk") wrk_connections = std::atoi(argv[i + 1]);
  }
  std::string dir =
      std::filesystem::temp_directory_path() / ("flowstone-slow-bench-" + std::to_string(getpid()));
  flowstone::cli::PartyProcess party(std::string(FLOWSTONE_BIN_DIR) + "/flowstone", dir);
  if (std::string e = party.Start(); !e.empty()) {
    std::cerr << e << "\n";
    return 1;
  }
  auto submitted = party.Post("job/submit", Json{{"dag_schema", flowstone::bench::one_task_job()}});
  if (!submitted || submitted->value("code", -1) != 0) {
    std::cerr << "submit failed\n";
    return 1;
  }
  const std::string job_id = submitted->value("job_id", "");
  std::this_thread::sleep_for(std::chrono::seconds(1));

  flowstone::net::KeepAliveClient client;
  std::vector<double> alone =
      time_queries(client, party.port(), job_id, std::chrono::seconds(seconds / 3 + 1), gap_ms);

  std::vector<int> connections;
  for (int i = 0; i < slow; ++i) {
    int fd = connect_to(party.port());
    if (fd < 0) {
      std::cerr << "connection " << i << " failed: " << std::strerror(errno) << "\n";
      break;
    }
    if (i % 2 == 0) {
      const std::string start = "GET /v2/job/query?job_id=" + job_id + " HTTP/1.1\r\nHost: x\r\n";
      (void)!send(fd, start.data(), start.size(), MSG_NOSIGNAL);
    }
    connections.push_back(fd);
  }
  std::atomic<bool> dribbling{true};
  std::thread dribbler([&] {
    while (dribbling) {
      for (size_t i = 0; i < connections.size(); i += 2)
        (void)!send(connections[i], "X-a: b\r\n", 8, MSG_NOSIGNAL);
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  });
  std::string wrk_report;
  std::thread wrk;
  if (wrk_connections > 0)
    wrk = std::thread([&] {
      const std::string command = "wrk -t1 -c" + std::to_string(wrk_connections) + " -d" +
                                  std::to_string(seconds) +
                                  "s --latency 'http://127.0.0.1:" + std::to_string(party.port()) +
                                  "/v2/job/query?job_id=" + job_id + "' 2>&1";
      if (FILE* out = popen(command.c_str(), "r")) {
        char line[512];
        while (fgets(line, sizeof line, out)) wrk_report += line;
        if (pclose(out) != 0) wrk_report += "(wrk failed: is it installed? apt-get install wrk)\n";
      }
    });
  std::vector<double> beside =
      time_queries(client, party.port(), job_id, std::chrono::seconds(seconds), gap_ms);
  if (wrk.joinable()) wrk.join();
  dribbling = false;
  dribbler.join();
  size_t open = 0;
  for (int fd : connections) open += still_open(fd) ? 1 : 0;
  for (int fd : connections) close(fd);
  party.Stop();
  std::filesystem::remove_all(dir);

  std::cout << "job/query from one keep-alive client, one party on loopback, a call every " << gap_ms
            << " ms\n";
  print("alone", alone);
  const std::string label = "beside " + std::to_string(connections.size()) + " slow and idle connections";
  print(label.c_str(), beside);
  std::cout << "  slow and idle connections the server still held after " << seconds << " s: " << open
            << " of " << connections.size() << "\n";
  if (!wrk_report.empty())
    std::cout << "wrk, " << wrk_connections << " connections, same phase:\n" << wrk_report;
  return 0;
}
