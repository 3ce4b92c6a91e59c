// SystemTest: the fixture of system_test.cpp and system_failures_test.cpp. End-to-end tests of one real
// `flowstone serve` process (tests/system/party_server.hpp), real launchers and workers (flowstone-noop,
// flowstone-noop_consumer), driven only through the HTTP API, signals and the files a user can see. Every
// wait polls for an outcome with a generous deadline. Also helpers for a row's times, text checks and the
// processes a job leaves behind. Header-only (namespace system_fixture).
#pragma once
#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/system/party_server.hpp"

namespace flowstone::systest {
namespace system_fixture {

inline const std::set<std::string> kEndStatuses = {"success", "failed", "canceled", "timeout", "pass"};

inline int64_t ms(const Json& row, const char* field) {
  return row.contains(field) && row[field].is_number_integer() ? row[field].get<int64_t>() : -1;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Waits until no process (launcher, worker) mentions the job; names what is left if some remain.
inline ::testing::AssertionResult no_process_left(const std::string& job_id) {
  std::vector<pid_t> left;
  if (poll_until(
          [&] {
            left = processes_mentioning(job_id);
            return left.empty();
          },
          30s))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << left.size() << " processes of job " << job_id << " still run, first " << left[0];
}

class SystemTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}) {
    server = std::make_unique<PartyServer>(std::move(options));
    std::string error = server->start();
    ASSERT_EQ(error, "") << "server did not start";
  }
  void TearDown() override { server.reset(); }

  // Submits and asserts it was accepted.
  std::string submit_ok(const Json& dag) {
    Json reply;
    std::string job_id = server->submit(dag, &reply);
    EXPECT_FALSE(job_id.empty()) << "submit refused: " << reply.dump() << server->diagnostics();
    return job_id;
  }

  int64_t job_count() {
    Json r = server->get("job/list/query");
    EXPECT_EQ(r.value("code", -1), 0) << r.dump();
    return r["data"].value("count", int64_t{-1});
  }

  std::unique_ptr<PartyServer> server;
};

}  // namespace system_fixture
}  // namespace flowstone::systest
