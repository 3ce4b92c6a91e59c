// Multi-party end-to-end tests (fixture: multiparty_fixture.hpp): auto-retry and rerun at a partner,
// servers killed or down mid-job and restarted, many jobs at once, failures in poll mode and lost runs.
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

// More ---------------------------------------------------------------------------------------------------
// A host failure is retried by the scheduler (auto_retries): a new version at every party, then success.
TEST_F(MultiParty, AutoRetryOfAFailureAtOnePartyRunsANewVersionEverywhere) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  Json dag = two_party_dag(Json::object(), {{"auto_retries", 1}});
  dag["dag"]["party_tasks"] = host_party_tasks({{"b_0", {{"parameters", {{"fail_below_version", 1}}}}}});
  std::string job_id = submit_ok(guest, dag);
  ASSERT_FALSE(job_id.empty());
  expect_success_at(guest, job_id, "guest", {"a_0", "b_0"});
  expect_success_at(host, job_id, "host", {"a_0", "b_0"});
  for (auto [server, role] : {std::pair{&guest, "guest"}, std::pair{&host, "host"}}) {
    auto tasks = server->task_rows(job_id, role);
    EXPECT_EQ(tasks["b_0"].value("task_version", -1), 1) << role << " " << tasks["b_0"].dump(2);
    EXPECT_EQ(tasks["a_0"].value("task_version", -1), 0) << role << " " << tasks["a_0"].dump(2);
  }
  Json list = host.get("job/task/list/query", {{"job_id", job_id}, {"role", "host"}, {"task_name", "b_0"}});
  ASSERT_EQ(list.value("code", -1), 0) << list.dump();
  bool saw_failure = false;
  for (const auto& row : list["data"]["data"])
    if (row.value("task_version", -1) == 0)
      saw_failure = contains(row.value("error_report", ""), "below version 1") &&
                    row.value("party_status", "") == "failed";
  EXPECT_TRUE(saw_failure) << list.dump(2);
}

// A rerun asked at a non-scheduler party reruns the failed task everywhere.
TEST_F(MultiParty, RerunAtANonSchedulerPartyRerunsTheFailedTaskEverywhere) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  Json dag = two_party_dag();
  dag["dag"]["party_tasks"] = host_party_tasks({{"b_0", {{"parameters", {{"fail_below_version", 1}}}}}});
  std::string job_id = submit_ok(guest, dag);
  ASSERT_FALSE(job_id.empty());
  EXPECT_EQ(wait_end(guest, job_id, "guest").value("status", ""), "failed") << diagnostics(job_id);
  EXPECT_EQ(wait_end(host, job_id, "host").value("status", ""), "failed") << diagnostics(job_id);

  Json rerun = host.post("job/rerun", {{"job_id", job_id}});
  ASSERT_EQ(rerun.value("code", -1), 0) << rerun.dump() << diagnostics(job_id);
  auto back = guest.wait_job(
      job_id, [](const Json& row) { return row.value("status", "") == "success"; }, 60s, "guest");
  ASSERT_TRUE(back.met) << back.row.dump(2) << diagnostics(job_id);
  expect_success_at(guest, job_id, "guest", {"a_0", "b_0"});
  expect_success_at(host, job_id, "host", {"a_0", "b_0"});
  auto tasks = host.task_rows(job_id, "host");
  EXPECT_EQ(tasks["b_0"].value("task_version", -1), 1) << tasks["b_0"].dump(2);
  EXPECT_EQ(tasks["a_0"].value("task_version", -1), 0) << tasks["a_0"].dump(2);
}

// The host's worker finishes while the host's server is down; its report is taken when the server is back.
TEST_F(MultiParty, PartnerTaskThatEndsWhileItsServerIsDownIsRecordedAfterRestart) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  // No model or metric to save: the worker's last call is its report, made while the server is down.
  std::string job_id =
      submit_ok(guest, two_party_dag({{"sleep", 1}, {"emit_model", false}, {"emit_metric", false}},
                                     {{"sync_type", "callback"}}));
  ASSERT_FALSE(job_id.empty());
  ASSERT_NO_FATAL_FAILURE(wait_task_running(host, "host", job_id));
  host.kill9();
  const std::string logs = host.data_dir() + "/logs/" + job_id + "/host/10000/a_0";
  ASSERT_TRUE(poll_until(
      [&] { return contains(read_text(logs + "/task_entrypoint.stderr"), "not accepted yet"); }, 30s))
      << read_text(logs + "/task_entrypoint.stdout") << read_text(logs + "/task_entrypoint.stderr");
  ASSERT_EQ(host.restart(), "");
  expect_success_at(guest, job_id, "guest", {"a_0", "b_0"});
  expect_success_at(host, job_id, "host", {"a_0", "b_0"});
}

// The scheduler's server dies while the host's task runs; the job still ends, the same at both parties.
TEST_F(MultiParty, KilledSchedulerRestartsAndTheJobEnds) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::string job_id = submit_ok(guest, two_party_dag({{"sleep", 2}}, {{"sync_type", "callback"}}));
  ASSERT_FALSE(job_id.empty());
  ASSERT_NO_FATAL_FAILURE(wait_task_running(host, "host", job_id));
  guest.kill9();
  // The host's a_0 ends while the scheduler is away.
  auto done = host.wait_task_as("host", job_id, "a_0",
                                [](const Json& row) { return row.value("party_status", "") == "success"; });
  ASSERT_TRUE(done.met) << done.row.dump(2) << diagnostics(job_id);
  ASSERT_EQ(guest.restart(), "");
  Json guest_row = wait_end(guest, job_id, "guest");
  Json host_row = wait_end(host, job_id, "host");
  EXPECT_EQ(guest_row.value("status", ""), "success") << guest_row.dump(2) << diagnostics(job_id);
  EXPECT_EQ(host_row.value("status", ""), "success") << host_row.dump(2) << diagnostics(job_id);
  EXPECT_TRUE(no_task_process_left(guest));
  EXPECT_TRUE(no_task_process_left(host));
  for (auto* s : {&guest, &host}) {
    int status = s->stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "party " << s->party_id() << " " << status;
    EXPECT_TRUE(store_verifies(*s));
  }
}

// A job stopped at the scheduler while a partner is still unreachable: when the partner comes back, its
// copy ends too, rather than waiting forever.
TEST_F(MultiParty, JobStoppedWhileAPartnerIsDownEndsThereWhenItComesBack) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect(federation_yaml(20000));
  ASSERT_NO_FATAL_FAILURE(start(guest));
  std::string job_id = submit_ok(guest, two_party_dag());
  ASSERT_FALSE(job_id.empty());
  Json stop = guest.post("job/stop", {{"job_id", job_id}});
  ASSERT_EQ(stop.value("code", -1), 0) << stop.dump();
  Json guest_row = wait_end(guest, job_id, "guest", 10s);
  EXPECT_EQ(guest_row.value("status", ""), "canceled") << guest_row.dump(2);

  ASSERT_NO_FATAL_FAILURE(start(host));
  // The create was still pending: the host either never gets a copy, or its copy ends canceled.
  bool settled = poll_until(
      [&] {
        Json row = host.job_row(job_id, "host");
        return !row.is_null() && ended(row);
      },
      20s);
  Json host_row = host.job_row(job_id, "host");
  if (!host_row.is_null()) {
    EXPECT_TRUE(settled) << "the host's copy never ended: " << host_row.dump(2) << diagnostics(job_id);
    EXPECT_EQ(host_row.value("status", ""), "canceled") << host_row.dump(2) << diagnostics(job_id);
  }
  for (const auto& [name, t] : host.task_rows(job_id, "host"))
    EXPECT_TRUE(t["start_time"].is_null()) << "a task ran at the host after the stop: " << t.dump(2);
  EXPECT_TRUE(no_task_process_left(host));
  EXPECT_EQ(guest.job_row(job_id, "guest").value("status", ""), "canceled");
}

// Several jobs at once, in both sync modes, some submitted at each party: every one succeeds everywhere.
TEST_F(MultiParty, ManyJobsAtOnceAllSucceedAtEveryParty) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::vector<std::string> jobs;
  for (int i = 0; i < 8; ++i) {
    Json dag = two_party_dag({{"sleep", 0.2}}, {{"sync_type", i % 2 ? "poll" : "callback"}});
    std::string job_id = submit_ok(i % 3 ? guest : host, dag);
    ASSERT_FALSE(job_id.empty());
    jobs.push_back(job_id);
  }
  for (const auto& job_id : jobs) {
    expect_success_at(guest, job_id, "guest", {"a_0", "b_0"});
    expect_success_at(host, job_id, "host", {"a_0", "b_0"});
  }
}

// The host's error reaches the guest in poll mode too.
TEST_F(MultiParty, FailureAtOnePartyIsReportedWithItsReasonInPollMode) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  Json dag = two_party_dag(Json::object(), {{"sync_type", "poll"}});
  dag["dag"]["party_tasks"] = host_party_tasks(
      {{"b_0", {{"parameters", {{"fail", true}, {"error_message", "host data is broken"}}}}}});
  std::string job_id = submit_ok(guest, dag);
  ASSERT_FALSE(job_id.empty());
  Json guest_row = wait_end(guest, job_id, "guest");
  Json host_row = wait_end(host, job_id, "host");
  EXPECT_EQ(guest_row.value("status", ""), "failed") << guest_row.dump(2);
  EXPECT_EQ(host_row.value("status", ""), "failed") << host_row.dump(2);
  EXPECT_TRUE(contains(guest_row.value("status_reason", ""), "host data is broken")) << guest_row.dump(2);
  EXPECT_TRUE(contains(guest_row.value("status_reason", ""), "host:10000")) << guest_row.dump(2);
  auto tasks = guest.task_rows(job_id, "guest");
  EXPECT_TRUE(contains(tasks["b_0"].value("error_report", ""), "host data is broken"))
      << tasks["b_0"].dump(2);
}

// The host's server and its worker die together: after the restart the host fails the lost run, and the
// guest's job fails with the host's reason.
TEST_F(MultiParty, RunLostInAPartnerCrashFailsTheJobEverywhereWithItsReason) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::string job_id = submit_ok(guest, two_party_dag({{"sleep", 60}}, {{"sync_type", "callback"}}));
  ASSERT_FALSE(job_id.empty());
  ASSERT_NO_FATAL_FAILURE(wait_task_running(host, "host", job_id));
  const std::string dir = host.task_dir(job_id, "a_0", 0, "host");
  pid_t worker = host.wait_pid_file(dir, "worker.pid");
  pid_t launcher = host.wait_pid_file(dir, "launcher.pid");
  ASSERT_GT(worker, 0);
  ASSERT_GT(launcher, 0);
  host.kill9();
  ::kill(launcher, SIGKILL);
  ::kill(-worker, SIGKILL);
  ASSERT_TRUE(poll_until([&] { return !pid_running(launcher) && !pid_running(worker); }, 10s));
  ASSERT_EQ(host.restart(), "");

  Json guest_row = wait_end(guest, job_id, "guest");
  Json host_row = wait_end(host, job_id, "host");
  EXPECT_EQ(guest_row.value("status", ""), "failed") << guest_row.dump(2) << diagnostics(job_id);
  EXPECT_EQ(host_row.value("status", ""), "failed") << host_row.dump(2) << diagnostics(job_id);
  EXPECT_TRUE(contains(guest_row.value("status_reason", ""), "host:10000")) << guest_row.dump(2);
  EXPECT_TRUE(contains(guest_row.value("status_reason", ""), "lost")) << guest_row.dump(2);
  // The guest's own a_0, still running when the host's failed, was stopped.
  EXPECT_TRUE(no_task_process_left(guest));
  EXPECT_TRUE(no_task_process_left(host));
}

}  // namespace
}  // namespace flowstone::systest
