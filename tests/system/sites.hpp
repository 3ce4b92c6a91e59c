// SitesTest: the scaffolding of the end-to-end tests that run one real `flowstone serve` per party
// (tests/system/party_server.hpp): the test's servers, their route tables, starting them, submitting, waiting
// for a job's copy to end, the processes left behind, `flowstone store verify`, and every server's logs for
// failure messages. The fixtures of multiparty_fixture.hpp, lifecycle_test.cpp and resources_test.cpp derive
// from it. Every wait polls for an outcome with a deadline.
#pragma once
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/multipart.hpp"
#include "tests/system/party_server.hpp"
#include "tests/text_util.hpp"

namespace flowstone::systest {

using test_util::contains;
using test_util::names_number;

inline const std::string kGuest = "9999";
inline const std::string kHost = "10000";

// An answer's code; -1 when it is not an envelope.
int code_of(const Json& answer);
// A raw HTTP answer as JSON: {"code": -1, "message": ...} for a transport error or a body that is not JSON.
Json json_of(const net::HttpResult& r);
// A text part and a file part of a multipart form, and a POST of the form to /v2/<route>.
net::FormPart field(const std::string& name, const std::string& value);
net::FormPart file_part(const std::string& name, const std::string& filename, const std::string& data);
net::HttpResult post_form(PartyServer& server, const std::string& route,
                          const std::vector<net::FormPart>& parts);

// The row's status is an end status (success, failed, canceled, timeout, pass).
bool ended(const Json& row);

// An entry of dag.parties: {"role": role, "party_id": [party_id]}.
Json party(const std::string& role, const std::string& party_id);
// dag.parties of guest 9999 and host 10000.
Json guest_and_host();
// dag.party_tasks for host 10000 only: `tasks` maps a task name to what the host's copy of it changes, e.g.
// {{"b_0", {{"parameters", {{"fail", true}}}}}}.
Json host_party_tasks(const Json& tasks);

// The party's total cores (computing.standalone.cores).
std::string cores_yaml(int cores);
// Short federation settings, so that waiting for a partner never makes a test slow.
std::string federation_yaml(int64_t create_timeout_ms = 5000, int64_t call_timeout_ms = 10000);

class SitesTest : public ::testing::Test {
 protected:
  // A server for `party_id` (not started); `cores` > 0 gives it computing.standalone.cores (its total).
  PartyServer& add(const std::string& party_id, int cores = 0);
  // Every server gets a route to every server (by its party id) and the federation settings; `scheme`
  // "https://" makes the routes HTTPS.
  void connect(const std::string& federation = federation_yaml(), const std::string& scheme = "");
  void start(PartyServer& server);
  void start_all();
  void TearDown() override { servers.clear(); }

  // Every server's logs, for failure messages.
  std::string diagnostics(const std::string& job_id = "") const;
  std::string submit_ok(PartyServer& at, const Json& dag);
  // Waits until the job's copy (role) at `server` has ended; asserts it did. The last row seen (null if
  // none).
  Json wait_end(PartyServer& server, const std::string& job_id, const std::string& role = "guest",
                std::chrono::milliseconds deadline = 60s);
  // Waits until no launcher or worker of `server` runs; names what is left if some remain.
  ::testing::AssertionResult no_task_process_left(PartyServer& server);
  // `flowstone store verify` on a stopped server: the views match the log and no ended copy holds cores.
  ::testing::AssertionResult store_verifies(PartyServer& server);

  std::vector<std::unique_ptr<PartyServer>> servers;
};

}  // namespace flowstone::systest
