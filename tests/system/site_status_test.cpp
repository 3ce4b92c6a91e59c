// `flowstone site status` and /v2/site/info/query `partners`: whether each partner is reachable, since when,
// the last error and the calls waiting, as the site's Party actors see them, with real servers on loopback
// and the CLI run as a child process.
#include <sys/wait.h>

#include <thread>

#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

using SiteStatus = SitesTest;

// The partner's row in the site's answer (null if absent).
Json partner_row(PartyServer& site, const std::string& party_id) {
  Json info = site.get("site/info/query");
  if (code_of(info) != 0) return nullptr;
  for (const Json& row : info["data"].value("partners", Json::array()))
    if (row.value("party_id", "") == party_id) return row;
  return nullptr;
}

Json wait_partner_state(PartyServer& site, const std::string& party_id, const std::string& state) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  Json row;
  while (std::chrono::steady_clock::now() < deadline) {
    row = partner_row(site, party_id);
    if (row.is_object() && row.value("state", "") == state) return row;
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << "partner " << party_id << " never " << state << "; last row " << row.dump();
  return row;
}

// The CLI's exit code and output.
int site_status(PartyServer& site, std::string* output) {
  int status = run_command(std::string(FLOWSTONE_BIN_DIR) +
                               "/flowstone site status --server 127.0.0.1:" + std::to_string(site.port()),
                           output);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(SiteStatus, APartnerIsUnknownThenDownWithItsErrorThenUpOnceItServes) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect(federation_yaml(/*create_timeout_ms=*/20000));
  ASSERT_NO_FATAL_FAILURE(start(guest));

  Json before = partner_row(guest, kHost);
  ASSERT_TRUE(before.is_object()) << "the routed partner is listed before any call";
  EXPECT_EQ(before.value("state", ""), "unknown");
  EXPECT_EQ(before.value("address", ""), "127.0.0.1:" + std::to_string(host.port()));
  std::string output;
  EXPECT_EQ(site_status(guest, &output), 0) << output;
  EXPECT_TRUE(contains(output, "unknown")) << output;

  // A job needs the host, which does not serve yet: the site shows it down, with why.
  std::string job_id = submit_ok(
      guest, make_dag(Json{{"a_0", noop_task()}}, Json{{"scheduler_party_id", kGuest}}, guest_and_host()));
  ASSERT_FALSE(job_id.empty());
  Json down = wait_partner_state(guest, kHost, "down");
  EXPECT_FALSE(down.value("reachable", true));
  EXPECT_TRUE(contains(down.value("last_error", ""), "connection refused")) << down.dump();
  EXPECT_GE(down.value("calls_waiting", 0), 1) << down.dump();
  EXPECT_GT(down.value("since", int64_t{0}), 0);
  output.clear();
  EXPECT_EQ(site_status(guest, &output), 3) << output;
  EXPECT_TRUE(contains(output, "down") && contains(output, "connection refused")) << output;

  // Once the host serves, the waiting call goes through and the job runs at both parties.
  ASSERT_NO_FATAL_FAILURE(start(host));
  Json up = wait_partner_state(guest, kHost, "up");
  EXPECT_TRUE(up.value("reachable", false));
  EXPECT_GE(up.value("since", int64_t{0}), down.value("since", int64_t{0}));
  EXPECT_EQ(wait_end(guest, job_id).value("status", ""), "success") << diagnostics(job_id);
  output.clear();
  EXPECT_EQ(site_status(guest, &output), 0) << output;
  EXPECT_TRUE(contains(output, "up")) << output;
}

}  // namespace
}  // namespace flowstone::systest
