// Multi-party end-to-end tests: one real `flowstone serve` per party on 127.0.0.1, connected by route
// tables (or by a `flowstone proxy`), real launchers and workers, driven only through the HTTP API, signals
// and what a user can see (job and task rows, the job's history, processes, `flowstone store verify`).
// Every wait polls for an outcome with a deadline; nothing is timed.
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
#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

const std::string kArbiter = "10001";

// The shape of spec 2.6's example (reader -> psi -> coordinated LR) with the reference components:
// reader_0 and psi_0 run at guest and host, lr_0 at guest, host and arbiter (the arbiter without inputs).
Json example_dag(const std::string& sync_type) {
  Json guest_host = guest_and_host();
  Json reader = noop_task();
  reader["stage"] = "default";
  reader["parties"] = guest_host;
  Json psi = consumer_task("reader_0");
  psi["stage"] = "default";
  psi["parties"] = guest_host;
  Json lr = consumer_task("psi_0", {{"epochs", 10}, {"batch_size", nullptr}, {"early_stop", "diff"}});
  lr["dependent_tasks"] = Json::array({"psi_0"});
  lr["inputs"]["model"]["input_model"]["task_output_artifact"]["parties"] = guest_host;
  Json conf = {{"scheduler_party_id", kGuest}, {"sync_type", sync_type}, {"auto_retries", 0}};
  Json dag =
      make_dag(Json{{"reader_0", reader}, {"psi_0", psi}, {"lr_0", lr}}, conf,
               Json::array({party("guest", kGuest), party("host", kHost), party("arbiter", kArbiter)}));
  dag["dag"]["party_tasks"] = {
      {"guest_9999",
       {{"parties", Json::array({party("guest", kGuest)})},
        {"tasks",
         {{"reader_0", {{"parameters", {{"namespace", "experiment"}, {"name", "breast_hetero_guest"}}}}}}}}},
      {"host_10000",
       {{"parties", Json::array({party("host", kHost)})},
        {"tasks",
         {{"reader_0", {{"parameters", {{"namespace", "experiment"}, {"name", "breast_hetero_host"}}}}}}}}}};
  return dag;
}

// A guest and host job: a_0 then b_0 (a consumer of a_0's model), both at both parties.
Json two_party_dag(const Json& a_params = Json::object(), const Json& conf_extra = Json::object()) {
  Json conf = {{"scheduler_party_id", kGuest}};
  for (const auto& [key, value] : conf_extra.items()) conf[key] = value;
  return make_dag(Json{{"a_0", noop_task(a_params)}, {"b_0", consumer_task("a_0")}}, conf, guest_and_host());
}

// One partner command as the scheduler sends it, the wait for what it set going to settle, and the answer
// FATE-Flow gives when the same command comes again without an idempotency key.
struct PartnerStep {
  std::string route;
  Json body;
  int repeated_code;              // the "no effect" answer to a second delivery without a key
  std::function<bool()> settled;  // the first delivery's consequences are all stored (null: at once)
};

class MultiParty : public SitesTest {
 protected:
  // Partners are given up on after 3 s here unless a test says otherwise.
  void connect(const std::string& federation = federation_yaml(/*create_timeout_ms=*/3000)) {
    SitesTest::connect(federation);
  }

  // Waits until the task's latest run at (role) `server` is running.
  void wait_task_running(PartyServer& server, const std::string& role, const std::string& job_id,
                         const std::string& task = "a_0") {
    auto running = server.wait_task_as(
        role, job_id, task, [](const Json& row) { return row.value("party_status", "") == "running"; });
    ASSERT_TRUE(running.met) << running.row.dump(2) << diagnostics(job_id);
  }

  // The copy (role) at `server` succeeded with progress 100, and so did each of `tasks` there (federated
  // status and the party's own), and no other task runs there.
  void expect_success_at(PartyServer& server, const std::string& job_id, const std::string& role,
                         const std::set<std::string>& tasks) {
    Json row = wait_end(server, job_id, role);
    EXPECT_EQ(row.value("status", ""), "success")
        << role << ":" << server.party_id() << " " << row.dump(2) << diagnostics(job_id);
    EXPECT_EQ(row.value("progress", -1), 100) << role << ":" << server.party_id() << " " << row.dump(2);
    auto rows = server.task_rows(job_id, role);
    std::set<std::string> names;
    for (const auto& [name, t] : rows) {
      names.insert(name);
      EXPECT_EQ(t.value("status", ""), "success") << role << ":" << server.party_id() << " " << t.dump(2);
      EXPECT_EQ(t.value("party_status", ""), "success")
          << role << ":" << server.party_id() << " " << t.dump(2);
      EXPECT_EQ(t.value("party_id", ""), server.party_id()) << t.dump(2);
    }
    EXPECT_EQ(names, tasks) << "tasks of " << role << ":" << server.party_id();
  }

  // /v2/job/query?job_id=J at `server` lists exactly the copies (role, party_id) `expected`.
  void expect_copies(PartyServer& server, const std::string& job_id,
                     const std::set<std::pair<std::string, std::string>>& expected) {
    Json q = server.get("job/query", {{"job_id", job_id}});
    ASSERT_EQ(q.value("code", -1), 0) << q.dump();
    std::set<std::pair<std::string, std::string>> copies;
    for (const auto& row : q["data"]) copies.insert({row.value("role", ""), row.value("party_id", "")});
    EXPECT_EQ(copies, expected) << "copies at party " << server.party_id() << ": " << q.dump(2);
  }

  void run_example_job(const std::string& sync_type) {
    PartyServer& guest = add(kGuest);
    PartyServer& host = add(kHost);
    PartyServer& arbiter = add(kArbiter);
    connect();
    ASSERT_NO_FATAL_FAILURE(start_all());
    std::string job_id = submit_ok(guest, example_dag(sync_type));
    ASSERT_FALSE(job_id.empty());

    expect_success_at(guest, job_id, "guest", {"reader_0", "psi_0", "lr_0"});
    expect_success_at(host, job_id, "host", {"reader_0", "psi_0", "lr_0"});
    expect_success_at(arbiter, job_id, "arbiter", {"lr_0"});
    // Each party shows only its own copy.
    expect_copies(guest, job_id, {{"guest", kGuest}});
    expect_copies(host, job_id, {{"host", kHost}});
    expect_copies(arbiter, job_id, {{"arbiter", kArbiter}});
    // The sync type is the one asked for, at every party.
    for (auto* s : {&guest, &host, &arbiter}) {
      Json q = s->get("job/query", {{"job_id", job_id}});
      ASSERT_EQ(q.value("code", -1), 0) << q.dump();
      EXPECT_EQ(q["data"][0]["dag"]["dag"]["conf"].value("sync_type", ""), sync_type) << q["data"][0].dump(2);
    }
  }

  // A job scheduled by party 9999, which does not exist: nothing this host sends goes anywhere (poll
  // mode: the host pushes no reports), so everything in its history comes from the commands below.
  std::vector<PartnerStep> partner_steps(PartyServer& host, const std::string& job_id) {
    Json dag =
        make_dag(Json{{"a_0", noop_task({{"sleep", 60}})}},
                 Json{{"scheduler_party_id", kGuest}, {"initiator_party_id", kGuest}, {"sync_type", "poll"}},
                 guest_and_host())["dag"];
    Json job = {{"job_id", job_id}, {"role", "host"}, {"party_id", kHost}};
    Json task = job;
    task["task_id"] = job_id + "_a_0";
    task["task_version"] = 0;
    auto with = [](Json body, const Json& more) {
      for (const auto& [k, v] : more.items()) body[k] = v;
      return body;
    };
    PartyServer* h = &host;
    auto party_status = [h, job_id](const std::string& want) {
      return [h, job_id, want] {
        auto rows = h->task_rows(job_id, "host");
        return rows.count("a_0") && rows["a_0"].value("party_status", "") == want;
      };
    };
    // Each first delivery changes the copy; the order is the scheduler's (spec 4.2, 4.3, 4.6).
    return {
        {"partner/job/create", with(job, {{"dag", dag}, {"schema_version", "2.1.0"}}), 0, nullptr},
        {"partner/job/status/update", with(job, {{"status", "waiting"}}), 1003, nullptr},
        {"partner/job/start", with(job, {{"extra_info", Json::object()}}), 0, nullptr},
        {"partner/task/status/update", with(task, {{"status", "running"}}), 2002, nullptr},
        // Starting launches a worker: its launch is recorded asynchronously.
        {"partner/task/start", task, 0, party_status("running")},
        // Stopping kills it: wait until its processes are gone (the launcher's report comes after).
        {"partner/task/stop", with(task, {{"status", "canceled"}}), 0,
         [h, party_status] { return party_status("canceled")() && h->task_processes().empty(); }},
        {"partner/task/rerun", with(task, {{"new_version", 1}}), 0, nullptr},
        {"partner/job/stop", with(job, {{"stop_status", "canceled"}}), 0, nullptr},
    };
  }

  // Delivers each partner step twice. The first delivery stores what it changed; the second, with the same
  // idempotency key, gets the first answer again, and without a key, FATE-Flow's "no effect" answer;
  // either way it stores nothing.
  void deliver_every_partner_command_twice(PartyServer& host, const std::string& job_id, bool with_key) {
    int n = 0;
    for (const PartnerStep& step : partner_steps(host, job_id)) {
      Headers key;
      if (with_key) key["x-flowstone-idempotency-key"] = job_id + "-step-" + std::to_string(++n);
      const int64_t initially = std::max<int64_t>(0, host.history_length(job_id));
      Json first = host.post(step.route, step.body, key);
      EXPECT_EQ(first.value("code", -1), 0) << step.route << ": " << first.dump() << host.diagnostics(job_id);
      if (step.settled) {
        ASSERT_TRUE(poll_until(step.settled, 30s))
            << step.route << " did not settle" << host.diagnostics(job_id);
      }
      const int64_t before = host.history_length(job_id);
      EXPECT_GT(before, initially) << step.route << ": the first delivery changed nothing"
                                   << host.diagnostics(job_id);
      Json second = host.post(step.route, step.body, key);
      if (with_key) {
        EXPECT_EQ(second.dump(), first.dump()) << step.route << ": the same key got another answer";
      } else {
        EXPECT_EQ(second.value("code", -1), step.repeated_code) << step.route << ": " << second.dump();
      }
      EXPECT_EQ(host.history_length(job_id), before)
          << step.route << ": the second delivery stored something: " << host.history(job_id).dump(2);
    }
    // What the commands did is there once: the copy stopped, version 0 stopped, version 1 waiting.
    EXPECT_EQ(host.job_row(job_id, "host").value("status", ""), "canceled") << host.diagnostics(job_id);
    Json list = host.get("job/task/list/query", {{"job_id", job_id}});
    ASSERT_EQ(list.value("code", -1), 0) << list.dump();
    ASSERT_EQ(list["data"].value("count", -1), 2) << list.dump(2);
    std::map<int, std::string> party_status;
    for (const auto& row : list["data"]["data"])
      party_status[row.value("task_version", -1)] = row.value("party_status", "");
    EXPECT_EQ(party_status, (std::map<int, std::string>{{0, "canceled"}, {1, "waiting"}})) << list.dump(2);
    EXPECT_TRUE(no_task_process_left(host));
  }

  void killed_partner_restarts(const std::string& sync_type);
};

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
// The host's server dies (SIGKILL) while its task runs and comes back on the same folder and port.
void MultiParty::killed_partner_restarts(const std::string& sync_type) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::string job_id = submit_ok(guest, two_party_dag({{"sleep", 3}}, {{"sync_type", sync_type}}));
  ASSERT_FALSE(job_id.empty());
  ASSERT_NO_FATAL_FAILURE(wait_task_running(host, "host", job_id));

  host.kill9();
  ASSERT_EQ(host.restart(), "") << "the host did not come back";

  Json guest_row = wait_end(guest, job_id, "guest");
  Json host_row = wait_end(host, job_id, "host");
  EXPECT_EQ(guest_row.value("status", ""), host_row.value("status", ""))
      << "guest " << guest_row.dump(2) << "\nhost " << host_row.dump(2) << diagnostics(job_id);
  // The worker outlived its server and was adopted: the job succeeds.
  EXPECT_EQ(guest_row.value("status", ""), "success") << guest_row.dump(2) << diagnostics(job_id);
  auto host_tasks = host.task_rows(job_id, "host");
  EXPECT_EQ(host_tasks["a_0"].value("task_version", -1), 0) << host_tasks["a_0"].dump(2);
  EXPECT_EQ(host_tasks["a_0"].value("party_status", ""), "success") << host_tasks["a_0"].dump(2);
  EXPECT_TRUE(no_task_process_left(guest));
  EXPECT_TRUE(no_task_process_left(host));

  for (auto* s : {&guest, &host}) {
    int status = s->stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "party " << s->party_id() << " wait status " << status << s->diagnostics();
    EXPECT_TRUE(store_verifies(*s));
  }
}

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
