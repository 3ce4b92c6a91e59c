// Multi-party end-to-end tests (fixture: multiparty_fixture.hpp): jobs succeed in both sync modes and
// through a proxy, submits are forwarded, failures and stops reach every party, partner commands are
// idempotent, and a partner that is down or killed is waited for or named in the failure.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "net/http_client.hpp"
#include "net/json_io.hpp"
#include "tests/system/multiparty_fixture.hpp"
#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

using namespace multiparty_fixture;

// 1 -----------------------------------------------------------------------------------------------------
TEST_F(MultiParty, ThreePartyJobSucceedsInCallbackMode) {
  run_example_job("callback");
}
TEST_F(MultiParty, ThreePartyJobSucceedsInPollMode) {
  run_example_job("poll");
}

// 2 -----------------------------------------------------------------------------------------------------
TEST_F(MultiParty, SubmitAtAPartnerIsForwardedToTheScheduler) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  Json reply;
  std::string job_id = host.submit(two_party_dag(), &reply);
  ASSERT_FALSE(job_id.empty()) << "submit at the host refused: " << reply.dump() << diagnostics();
  EXPECT_EQ(reply.value("code", -1), 0) << reply.dump();

  expect_success_at(guest, job_id, "guest", {"a_0", "b_0"});
  expect_success_at(host, job_id, "host", {"a_0", "b_0"});
  for (auto* s : {&guest, &host}) {
    Json row = s->job_row(job_id, s == &guest ? "guest" : "host");
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row.value("initiator_party_id", ""), kHost) << "party " << s->party_id() << ": " << row.dump(2);
    EXPECT_EQ(row.value("scheduler_party_id", ""), kGuest)
        << "party " << s->party_id() << ": " << row.dump(2);
  }
}

// 3 -----------------------------------------------------------------------------------------------------
TEST_F(MultiParty, OneServerServesHostAndArbiterOfTheSameParty) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  Json dag = make_dag(Json{{"a_0", noop_task()}, {"b_0", consumer_task("a_0")}},
                      Json{{"scheduler_party_id", kGuest}},
                      Json::array({party("guest", kGuest), party("host", kHost), party("arbiter", kHost)}));
  std::string job_id = submit_ok(guest, dag);
  ASSERT_FALSE(job_id.empty());

  expect_success_at(guest, job_id, "guest", {"a_0", "b_0"});
  expect_success_at(host, job_id, "host", {"a_0", "b_0"});
  expect_success_at(host, job_id, "arbiter", {"a_0", "b_0"});
  expect_copies(host, job_id, {{"host", kHost}, {"arbiter", kHost}});
  auto arbiter_tasks = host.task_rows(job_id, "arbiter");
  EXPECT_EQ(arbiter_tasks["a_0"].value("execution_id", ""), job_id + "_a_0_0_arbiter_" + kHost);
  auto host_tasks = host.task_rows(job_id, "host");
  EXPECT_EQ(host_tasks["a_0"].value("execution_id", ""), job_id + "_a_0_0_host_" + kHost);
}

// 4 -----------------------------------------------------------------------------------------------------
TEST_F(MultiParty, FailureAtOnePartyFailsTheJobEverywhereWithItsReason) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  Json dag = two_party_dag();
  dag["dag"]["party_tasks"] = host_party_tasks(
      {{"b_0", {{"parameters", {{"fail", true}, {"error_message", "host data is broken"}}}}}});
  std::string job_id = submit_ok(guest, dag);
  ASSERT_FALSE(job_id.empty());

  Json guest_row = wait_end(guest, job_id, "guest");
  Json host_row = wait_end(host, job_id, "host");
  EXPECT_EQ(guest_row.value("status", ""), "failed") << guest_row.dump(2) << diagnostics(job_id);
  EXPECT_EQ(host_row.value("status", ""), "failed") << host_row.dump(2) << diagnostics(job_id);

  // The guest sees why: the host's own error, and where it happened.
  std::string reason = guest_row.value("status_reason", "");
  EXPECT_TRUE(contains(reason, "host data is broken")) << guest_row.dump(2);
  EXPECT_TRUE(contains(reason, "host:10000")) << guest_row.dump(2);
  // So does the host, whose job the scheduler failed.
  EXPECT_TRUE(contains(host_row.value("status_reason", ""), "host data is broken")) << host_row.dump(2);
  auto guest_tasks = guest.task_rows(job_id, "guest");
  ASSERT_TRUE(guest_tasks.count("b_0"));
  EXPECT_EQ(guest_tasks["b_0"].value("status", ""), "failed") << guest_tasks["b_0"].dump(2);
  std::string error = guest_tasks["b_0"].value("error_report", "");
  EXPECT_TRUE(contains(error, "host data is broken")) << guest_tasks["b_0"].dump(2);
  EXPECT_TRUE(contains(error, "host:10000")) << guest_tasks["b_0"].dump(2);
  EXPECT_EQ(guest_tasks["a_0"].value("status", ""), "success") << guest_tasks["a_0"].dump(2);

  auto host_tasks = host.task_rows(job_id, "host");
  EXPECT_EQ(host_tasks["b_0"].value("party_status", ""), "failed") << host_tasks["b_0"].dump(2);
  EXPECT_TRUE(contains(host_tasks["b_0"].value("error_report", ""), "host data is broken"))
      << host_tasks["b_0"].dump(2);
  EXPECT_TRUE(no_task_process_left(guest));
  EXPECT_TRUE(no_task_process_left(host));
}

// 5 -----------------------------------------------------------------------------------------------------
// A single host server acting as a partner of a scheduler that does not exist, driven by hand.
TEST_F(MultiParty, EveryPartnerCommandDeliveredTwiceWithItsKeyChangesNothing) {
  PartyServer& host = add(kHost);
  ASSERT_NO_FATAL_FAILURE(start(host));
  deliver_every_partner_command_twice(host, "202601010000000000001", /*with_key=*/true);
}

TEST_F(MultiParty, EveryPartnerCommandDeliveredTwiceWithoutKeyHasNoEffectTheSecondTime) {
  PartyServer& host = add(kHost);
  ASSERT_NO_FATAL_FAILURE(start(host));
  deliver_every_partner_command_twice(host, "202601010000000000002", /*with_key=*/false);
}

TEST_F(MultiParty, TaskReportDeliveredTwiceAtTheSchedulerIsStoredOnce) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::string job_id = submit_ok(guest, two_party_dag({{"sleep", 60}}, {{"sync_type", "callback"}}));
  ASSERT_FALSE(job_id.empty());
  ASSERT_NO_FATAL_FAILURE(wait_task_running(host, "host", job_id));

  // The host's report that its a_0 failed, as the host's server would send it.
  Json report = {{"job_id", job_id},
                 {"role", "host"},
                 {"party_id", kHost},
                 {"task_id", job_id + "_a_0"},
                 {"task_version", 0},
                 {"status", "failed"},
                 {"error", "reported by the test"}};
  Json first = guest.post("scheduler/task/report", report);
  ASSERT_EQ(first.value("code", -1), 0) << first.dump() << diagnostics(job_id);
  // Its consequences: the job fails everywhere and every run is stopped.
  EXPECT_EQ(wait_end(guest, job_id, "guest").value("status", ""), "failed");
  EXPECT_EQ(wait_end(host, job_id, "host").value("status", ""), "failed");
  EXPECT_TRUE(no_task_process_left(guest));
  EXPECT_TRUE(no_task_process_left(host));

  const int64_t before = guest.history_length(job_id);
  ASSERT_GT(before, 0);
  Json second = guest.post("scheduler/task/report", report);
  EXPECT_EQ(second.value("code", -1), 2002) << second.dump();
  EXPECT_EQ(guest.history_length(job_id), before) << guest.history(job_id).dump(2);
  auto tasks = guest.task_rows(job_id, "guest");
  EXPECT_TRUE(contains(tasks["a_0"].value("error_report", ""), "reported by the test"))
      << tasks["a_0"].dump(2);
}

// 6 -----------------------------------------------------------------------------------------------------
TEST_F(MultiParty, PartnerDownAtSubmitIsRetriedUntilItComesBack) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect(federation_yaml(20000));
  ASSERT_NO_FATAL_FAILURE(start(guest));
  // The host's server is not running: the submit is still answered, with the job.
  Json reply;
  std::string job_id = guest.submit(two_party_dag(), &reply);
  ASSERT_FALSE(job_id.empty()) << reply.dump() << diagnostics();
  Json row = guest.job_row(job_id, "guest");
  ASSERT_FALSE(row.is_null()) << "the guest has no copy of the job";
  EXPECT_EQ(row.value("status", ""), "waiting") << row.dump(2);

  ASSERT_NO_FATAL_FAILURE(start(host));
  expect_success_at(guest, job_id, "guest", {"a_0", "b_0"});
  expect_success_at(host, job_id, "host", {"a_0", "b_0"});
}

// 7 -----------------------------------------------------------------------------------------------------
TEST_F(MultiParty, PartnerThatNeverComesBackFailsTheJobNamingIt) {
  PartyServer& guest = add(kGuest);
  add(kHost);  // its port is in the route table, but it never starts
  connect(federation_yaml(2000));
  ASSERT_NO_FATAL_FAILURE(start(guest));
  std::string job_id = submit_ok(guest, two_party_dag());
  ASSERT_FALSE(job_id.empty());
  Json row = wait_end(guest, job_id, "guest", 30s);
  EXPECT_EQ(row.value("status", ""), "failed") << row.dump(2) << diagnostics(job_id);
  EXPECT_TRUE(contains(row.value("status_reason", ""), "host:10000")) << row.dump(2);
  // The guest never ran anything.
  for (const auto& [name, t] : guest.task_rows(job_id, "guest"))
    EXPECT_TRUE(t["start_time"].is_null()) << t.dump(2);
  EXPECT_TRUE(no_task_process_left(guest));
}

// 8 -----------------------------------------------------------------------------------------------------
// The host's server is killed and restarts: MultiParty::killed_partner_restarts (multiparty_fixture.hpp).
TEST_F(MultiParty, KilledPartnerRestartsAndTheJobEnds) {
  killed_partner_restarts("callback");
}

TEST_F(MultiParty, KilledPartnerRestartsAndTheJobEndsInPollMode) {
  killed_partner_restarts("poll");
}

// 9 -----------------------------------------------------------------------------------------------------
TEST_F(MultiParty, StopAtANonSchedulerPartyStopsEveryParty) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::string job_id = submit_ok(guest, two_party_dag({{"sleep", 60}}));
  ASSERT_FALSE(job_id.empty());
  ASSERT_NO_FATAL_FAILURE(wait_task_running(guest, "guest", job_id));
  ASSERT_NO_FATAL_FAILURE(wait_task_running(host, "host", job_id));
  EXPECT_FALSE(guest.task_processes().empty());
  EXPECT_FALSE(host.task_processes().empty());

  Json stop = host.post("job/stop", {{"job_id", job_id}});
  ASSERT_EQ(stop.value("code", -1), 0) << stop.dump() << diagnostics(job_id);

  for (auto [server, role] : {std::pair{&guest, "guest"}, std::pair{&host, "host"}}) {
    Json row = wait_end(*server, job_id, role, 30s);
    std::string status = row.value("status", "");
    EXPECT_TRUE(status == "canceled" || status == "failed") << role << " " << row.dump(2);
    auto tasks = server->task_rows(job_id, role);
    EXPECT_NE(tasks["a_0"].value("party_status", ""), "running") << role << " " << tasks["a_0"].dump(2);
    EXPECT_NE(tasks["a_0"].value("party_status", ""), "success") << role << " " << tasks["a_0"].dump(2);
    EXPECT_TRUE(no_task_process_left(*server));
  }
  // The scheduler says it was a cancel, as asked.
  EXPECT_EQ(guest.job_row(job_id, "guest").value("status", ""), "canceled");
}

// 10 ----------------------------------------------------------------------------------------------------
TEST_F(MultiParty, ProxyModeRoutesEveryCallThroughOneAddress) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  const uint16_t proxy_port = free_tcp_port();
  ASSERT_NE(proxy_port, 0);
  const std::string proxy_out = guest.dir() + "/proxy.out";
  ChildProcess proxy;
  ASSERT_EQ(proxy.start(
                {std::string(FLOWSTONE_BIN_DIR) + "/flowstone", "proxy", "--port", std::to_string(proxy_port),
                 "--route", kGuest + "=127.0.0.1:" + std::to_string(guest.port()), "--route",
                 kHost + "=127.0.0.1:" + std::to_string(host.port())},
                proxy_out),
            "");
  // The proxy is up when it routes a request to a party (and answers it).
  auto through_proxy = [&](const std::string& dest) {
    net::HttpCall c;
    c.port = proxy_port;
    c.target = "/v2/site/info/query";
    c.headers = {{"dest-party-id", dest}};
    c.timeout = 2000ms;
    return net::http_call(c);
  };
  for (auto* s : {&guest, &host}) {
    s->options().flowstone_yaml = federation_yaml();
    s->options().extra_yaml =
        "federation: {nginx: {host: 127.0.0.1, http_port: " + std::to_string(proxy_port) + "}}";
  }
  ASSERT_NO_FATAL_FAILURE(start_all());
  int exit_status = 0;
  bool proxy_up = poll_until(
      [&] {
        if (proxy.exited(&exit_status)) return true;
        auto r = through_proxy(kHost);
        return r.ok && contains(r.body, "\"party_id\":\"10000\"");
      },
      20s);
  if (proxy.pid() <= 0) {
    std::string out = read_text(proxy_out);
    if (contains(out, "usage:") && !contains(out, "proxy"))
      GTEST_SKIP() << "this build of flowstone has no proxy command yet: " << out;
    FAIL() << "flowstone proxy exited (wait status " << exit_status << "): " << out;
  }
  ASSERT_TRUE(proxy_up) << "the proxy did not route to the host: " << tail(read_text(proxy_out), 3000);

  std::string job_id = submit_ok(guest, two_party_dag());
  ASSERT_FALSE(job_id.empty());
  expect_success_at(guest, job_id, "guest", {"a_0", "b_0"});
  expect_success_at(host, job_id, "host", {"a_0", "b_0"});
  // A submit at the host reaches the scheduler through the proxy too.
  std::string second = submit_ok(host, two_party_dag());
  ASSERT_FALSE(second.empty());
  expect_success_at(guest, second, "guest", {"a_0", "b_0"});
  proxy.kill9();
}

}  // namespace
}  // namespace flowstone::systest
