// MultiParty: the fixture of multiparty_test.cpp and multiparty_restart_test.cpp, on SitesTest (sites.hpp).
// Multi-party end-to-end tests: one real `flowstone serve` per party on 127.0.0.1 (guest 9999, host 10000,
// arbiter 10001), connected by route tables (or by a `flowstone proxy`), real launchers and workers, driven
// only through the HTTP API, signals and what a user can see (job and task rows, the job's history,
// processes, `flowstone store verify`). Every wait polls for an outcome with a deadline; nothing is timed.
// Here: the DAGs the tests submit, checks of what each party shows, partner commands delivered twice, and
// a partner killed and restarted mid-job. Header-only (namespace multiparty_fixture).
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace multiparty_fixture {

inline const std::string kArbiter = "10001";

// The shape of spec 2.6's example (reader -> psi -> coordinated LR) with the reference components:
// reader_0 and psi_0 run at guest and host, lr_0 at guest, host and arbiter (the arbiter without inputs).
inline Json example_dag(const std::string& sync_type) {
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
inline Json two_party_dag(const Json& a_params = Json::object(), const Json& conf_extra = Json::object()) {
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

// The host's server dies (SIGKILL) while its task runs and comes back on the same folder and port.
inline void MultiParty::killed_partner_restarts(const std::string& sync_type) {
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

}  // namespace multiparty_fixture
}  // namespace flowstone::systest
