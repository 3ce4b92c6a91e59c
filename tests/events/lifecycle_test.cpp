// The lifecycle rules of the Job aggregate: task and job timeouts, the detectors' next deadline, auto-retry
// backoff, rerun from a task, and the refusal of a job larger than the party. Driven only as a host drives
// it: decide_and_advance() for every command (the clock is the command's now_ms), then apply() of the
// decided events; every scenario ends by replaying the recorded events into a fresh state.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "events/job/job.hpp"
#include "events/job/views.hpp"
#include "tests/events/job_test_util.hpp"

namespace flowstone::domain {
namespace {

const PartyRef kHost{"host", "10000"};
constexpr const char* kJob = "202402020000000000007";

// x_0 and y_0 independent, both running at once (8 job cores, 4 a task).
Json pair_dag() {
  return J(R"({
    "schema_version": "2.1.0",
    "dag": {
      "parties": [{"role": "guest", "party_id": ["9999"]}],
      "conf": {"cores": 8, "task": {"engine_run": {"cores": 4}}},
      "tasks": {"x_0": {"component_ref": "noop"}, "y_0": {"component_ref": "noop"}}
    }
  })");
}

// The diamond a_0 -> {b_0, c_0} -> d_0 (by model inputs), and e_0 on its own; room for all at once.
Json diamond_dag() {
  return J(R"({
    "schema_version": "2.1.0",
    "dag": {
      "parties": [{"role": "guest", "party_id": ["9999"]}],
      "conf": {"cores": 20, "task": {"engine_run": {"cores": 4}}},
      "tasks": {
        "a_0": {"component_ref": "noop"},
        "b_0": {"component_ref": "noop_consumer", "inputs": {"model": {"input_model": {"task_output_artifact":
                  {"producer_task": "a_0", "output_artifact_key": "output_model"}}}}},
        "c_0": {"component_ref": "noop_consumer", "inputs": {"model": {"input_model": {"task_output_artifact":
                  {"producer_task": "a_0", "output_artifact_key": "output_model"}}}}},
        "d_0": {"component_ref": "noop_consumer", "inputs": {"model": {"input_model": {"task_output_artifact": [
                  {"producer_task": "b_0", "output_artifact_key": "output_model"},
                  {"producer_task": "c_0", "output_artifact_key": "output_model"}]}}}},
        "e_0": {"component_ref": "noop"}
      }
    }
  })");
}

// The tasks that got a new version in the decision (at the schedule record), with the version.
std::map<std::string, int> new_versions(const Decision& d) {
  std::map<std::string, int> out;
  for (const auto& v : events_of<ScheduleTaskVersionCreated>(d.events)) out[v.task_name] = v.task_version;
  return out;
}

// The host (job_test_util.hpp); the decisions its resource grants cause are taken at the same time.
class LifecycleTest : public JobHostTest {
 protected:
  LifecycleTest() : JobHostTest(kJob) {}

  Decision TimeOutRun(const std::string& execution_id, int64_t t) {
    TimeoutRun c;
    c.execution_id = execution_id;
    return At(t, c);
  }
  Decision RerunFrom(const std::string& task) {
    RerunJob c;
    c.task_name = task;
    return Run(c);
  }

  // x_0 and y_0 (pair_dag, task timeout 5 s) both running, then x_0 timed out.
  void TimeOutXNextToARunningY() {
    Json dag = pair_dag();
    dag["dag"]["conf"]["task"]["timeout"] = 5;
    Create(dag);
    Launch(exec("x_0"), 11);
    Launch(exec("y_0"), 12);
    TimeOutRun(exec("x_0"), RunOf("x_0").start_time + 5000);
  }

  int LatestVersion(const std::string& task) { return state_.latest_run(task, kGuest)->task_version; }

  void TearDown() override {
    if (!state_.exists) return;
    JobState replayed = replay(log_);
    EXPECT_EQ(job_views(replayed), job_views(state_)) << "replay gives other views";
    EXPECT_EQ(replayed.schedule_status, state_.schedule_status);
    EXPECT_EQ(next_deadline(replayed), next_deadline(state_)) << "replay gives another next deadline";
  }
};

// ---- where a task's timeout comes from ---------------------------------------------------------------

TEST_F(LifecycleTest, TaskTimeoutComesFromTaskConfPartyTasksConfJobTaskConfOrTheServerDefault) {
  Json dag = guest_chain_dag();
  dag["dag"]["conf"]["task"] = J(R"({"timeout": 70})");
  dag["dag"]["tasks"]["a_0"]["conf"] = J(R"({"timeout": 5})");
  dag["dag"]["party_tasks"] = J(R"({"guest_9999": {"parties": [{"role": "guest", "party_id": ["9999"]}],
                                     "tasks": {"b_0": {"conf": {"timeout": 6}}}}})");
  Decision d = Create(dag);
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(RunOf("a_0").timeout_s, 5);   // the task's own conf
  EXPECT_EQ(RunOf("b_0").timeout_s, 6);   // party_tasks conf
  EXPECT_EQ(RunOf("c_0").timeout_s, 70);  // dag.conf.task
  EXPECT_EQ(task_row(state_, RunOf("a_0"))["timeout"], 5);
  EXPECT_EQ(task_row(state_, RunOf("c_0"))["timeout"], 70);
}

TEST_F(LifecycleTest, TaskTimeoutDefaultsToTheServersTaskTimeoutAndIsKeptByNewVersions) {
  defaults_.task_timeout_s = 42;
  Json dag = guest_chain_dag();
  dag["dag"]["conf"]["auto_retries"] = 1;
  ASSERT_EQ(Create(dag).code, RetCode::success);
  EXPECT_EQ(RunOf("a_0").timeout_s, 42);
  Launch(exec("a_0"));
  Report(exec("a_0"), Status::failed, "first try");
  ASSERT_EQ(LatestVersion("a_0"), 1);
  EXPECT_EQ(RunOf("a_0", 1).timeout_s, 42);
}

// ---- TimeoutRun ----------------------------------------------------------------------------------------

TEST_F(LifecycleTest, TimeoutRunBeforeTheDeadlineChangesNothing) {
  Json dag = guest_chain_dag();
  dag["dag"]["tasks"]["a_0"]["conf"] = J(R"({"timeout": 5})");
  Create(dag);
  Launch(exec("a_0"), 501);
  const int64_t started = RunOf("a_0").start_time;
  ASSERT_GT(started, 0);
  EXPECT_EQ(next_deadline(state_), started + 5000);

  Decision d = TimeOutRun(exec("a_0"), started + 4999);
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  EXPECT_EQ(RunOf("a_0").party_status, Status::running);
  EXPECT_EQ(state_.schedule_status, Status::running);
  EXPECT_EQ(next_deadline(state_), started + 5000);

  // A run that is not running (never started, or unknown) is not timed out either.
  d = TimeOutRun(exec("b_0"), started + 100000);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  d = TimeOutRun("no_such_execution", started + 100000);
  EXPECT_TRUE(d.events.empty());
}

TEST_F(LifecycleTest, TimeoutRunPastTheDeadlineEndsTheRunAsTimeoutAndKillsIt) {
  Json dag = guest_chain_dag();
  dag["dag"]["tasks"]["a_0"]["conf"] = J(R"({"timeout": 5})");
  Create(dag);
  Launch(exec("a_0"), 501);
  const int64_t started = RunOf("a_0").start_time;

  Decision d = TimeOutRun(exec("a_0"), started + 5000);
  ASSERT_EQ(d.code, RetCode::success);
  auto changes = events_of<TaskPartyStatusChanged>(d.events);
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].execution_id, exec("a_0"));
  EXPECT_EQ(changes[0].status, Status::timeout);  // not failed (FATE-Flow's bug)
  EXPECT_TRUE(contains(changes[0].error, "timed out")) << changes[0].error;
  auto kills = effects_of<KillRun>(d);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].execution_id, exec("a_0"));
  EXPECT_EQ(kills[0].launcher_pid, 501);
  EXPECT_TRUE(launched(d).empty());

  EXPECT_EQ(RunOf("a_0").party_status, Status::timeout);
  EXPECT_EQ(RunOf("a_0").status, Status::timeout);
  EXPECT_EQ(state_.schedule.at("a_0").status, Status::timeout);
  EXPECT_EQ(state_.schedule_status, Status::timeout);
  EXPECT_EQ(CopyStatus(), Status::timeout);
  EXPECT_EQ(RunOf("b_0").party_status, Status::waiting);  // never started
  Json row = job_row(state_, *state_.copy(kGuest));
  EXPECT_EQ(row["status"], "timeout");
  EXPECT_TRUE(contains(row.value("status_reason", ""), "a_0")) << row.dump(2);
  EXPECT_TRUE(contains(task_row(state_, RunOf("a_0")).value("error_report", ""), "timed out"));
  EXPECT_EQ(next_deadline(state_), 0);

  // The killed worker's launcher reports a failure; a second detector look: nothing changes.
  // (Timeout -> failed is in FATE's transition table; a run this server ended must still stay timeout.)
  d = Report(exec("a_0"), Status::failed, "worker stopped: killed by signal 15 (SIGTERM)");
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  FailRun gone;
  gone.execution_id = exec("a_0");
  gone.error = "worker gone without a report";
  d = Run(gone);
  EXPECT_TRUE(d.events.empty());
  d = TimeOutRun(exec("a_0"), now_ + 10000);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  EXPECT_EQ(RunOf("a_0").party_status, Status::timeout);
  EXPECT_EQ(state_.schedule_status, Status::timeout);
}

TEST_F(LifecycleTest, TimedOutRunWithAutoRetriesGetsANewVersionAfterTheBackoff) {
  Json dag = guest_chain_dag();
  dag["dag"]["conf"]["auto_retries"] = 1;
  dag["dag"]["conf"]["task"] = J(R"({"timeout": 5})");
  Create(dag);
  Launch(exec("a_0"), 501);
  const int64_t timed_out_at = RunOf("a_0").start_time + 5000;

  Decision d = TimeOutRun(exec("a_0"), timed_out_at);
  EXPECT_EQ(effects_of<KillRun>(d).size(), 1u);
  EXPECT_EQ(new_versions(d), (std::map<std::string, int>{{"a_0", 1}}));
  EXPECT_TRUE(launched(d).empty());  // it waits out its backoff first
  EXPECT_EQ(RunOf("a_0", 0).party_status, Status::timeout);
  EXPECT_EQ(state_.schedule.at("a_0").not_before, timed_out_at + 1000);
  EXPECT_EQ(state_.schedule_status, Status::running);
  EXPECT_EQ(CopyStatus(), Status::running);
  EXPECT_EQ(next_deadline(state_), timed_out_at + 1000);

  d = At(timed_out_at + 999, Advance{});
  EXPECT_TRUE(launched(d).empty());
  d = At(timed_out_at + 1000, Advance{});
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("a_0", 1)});

  Launch(exec("a_0", 1), 502);
  const int64_t second = RunOf("a_0", 1).start_time;
  EXPECT_EQ(next_deadline(state_), second + 5000);
  d = TimeOutRun(exec("a_0", 1), second + 5000);
  EXPECT_TRUE(new_versions(d).empty());  // retries used up
  EXPECT_EQ(effects_of<KillRun>(d).size(), 1u);
  EXPECT_EQ(RunOf("a_0", 1).party_status, Status::timeout);
  EXPECT_EQ(state_.schedule_status, Status::timeout);
  EXPECT_EQ(CopyStatus(), Status::timeout);
  for (const auto& e : events_of<JobStatusChanged>(log_)) EXPECT_NE(e.status, Status::failed);
}

// The job fold: failed > timeout > canceled.
TEST_F(LifecycleTest, AFailureNextToATimeoutFailsTheJob) {
  TimeOutXNextToARunningY();
  EXPECT_EQ(state_.schedule.at("x_0").status, Status::timeout);
  EXPECT_EQ(RunOf("y_0").party_status, Status::running);  // another task's run is left to finish
  EXPECT_EQ(state_.schedule_status, Status::running);
  Report(exec("y_0"), Status::failed, "boom");
  EXPECT_EQ(state_.schedule_status, Status::failed);
  EXPECT_EQ(CopyStatus(), Status::failed);
}

TEST_F(LifecycleTest, ATimeoutNextToASuccessTimesTheJobOut) {
  TimeOutXNextToARunningY();
  Report(exec("y_0"), Status::success);
  EXPECT_EQ(state_.schedule_status, Status::timeout);
  EXPECT_EQ(CopyStatus(), Status::timeout);
}

// While another task keeps the job running, the killed worker's late failure must not fail the task.
TEST_F(LifecycleTest, TheKilledWorkersLateFailureDoesNotTurnATimeoutIntoAFailure) {
  TimeOutXNextToARunningY();
  Report(exec("x_0"), Status::failed, "worker stopped: killed by signal 15 (SIGTERM)");
  EXPECT_EQ(RunOf("x_0").party_status, Status::timeout);
  EXPECT_TRUE(contains(RunOf("x_0").error, "timed out")) << RunOf("x_0").error;
  EXPECT_EQ(state_.schedule.at("x_0").status, Status::timeout);
  Report(exec("y_0"), Status::success);
  EXPECT_EQ(state_.schedule_status, Status::timeout);
  EXPECT_EQ(CopyStatus(), Status::timeout);
}

// A party that is not the scheduler times its own run out and reports `timeout` to the scheduler.
TEST_F(LifecycleTest, TimeoutAtAPartnerIsReportedToTheSchedulerAsTimeout) {
  Json dag = guest_chain_dag();
  dag["dag"]["parties"].push_back(J(R"({"role": "host", "party_id": ["10000"]})"));
  dag["dag"]["conf"] =
      J(R"({"scheduler_party_id": "9999", "initiator_party_id": "9999", "task": {"timeout": 5}})");
  JoinJob join;
  join.job_id = kJob;
  join.dag_schema = dag;
  join.party = kHost;
  join.local_party_id = "10000";
  ASSERT_EQ(Run(join).code, RetCode::success);
  StartTask start;
  start.party = kHost;
  start.task_name = "a_0";
  ASSERT_EQ(Run(start).code, RetCode::success);
  Launch(exec("a_0", 0, kHost), 77);
  const int64_t started = RunOf("a_0", 0, kHost).start_time;
  EXPECT_EQ(next_deadline(state_), started + 5000);

  Decision d = TimeOutRun(exec("a_0", 0, kHost), started + 5000);
  EXPECT_EQ(RunOf("a_0", 0, kHost).party_status, Status::timeout);
  auto kills = effects_of<KillRun>(d);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].launcher_pid, 77);
  bool reported = false;
  for (const auto& call : partner_calls(state_, d.effects))
    if (call.endpoint == "scheduler/task/report") {
      reported = true;
      EXPECT_EQ(call.body.value("status", ""), "timeout") << call.body.dump();
      EXPECT_TRUE(contains(call.body.value("error", ""), "timed out")) << call.body.dump();
    }
  EXPECT_TRUE(reported) << "the scheduler was not told";
}

// At the scheduler, a partner's timeout times out the task (and its local runs) and the job.
TEST_F(LifecycleTest, APartnersTimeoutReportTimesTheTaskAndTheJobOut) {
  Json dag = guest_chain_dag();
  dag["dag"]["parties"].push_back(J(R"({"role": "host", "party_id": ["10000"]})"));
  Create(dag);
  Run(CopyCreateAnswered{kHost, RetCode::success, "success", 0});
  ASSERT_EQ(state_.schedule_status, Status::running);
  Launch(exec("a_0"), 21);
  ReportPartyStatus report;
  report.party = kHost;
  report.task_name = "a_0";
  report.status = Status::running;
  ASSERT_EQ(Run(report).code, RetCode::success);
  report.status = Status::timeout;
  report.error = "task timed out: running longer than 5 s";
  Decision d = Run(report);
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(state_.schedule.at("a_0").status, Status::timeout);
  EXPECT_EQ(RunOf("a_0").party_status, Status::timeout);  // the guest's own run is stopped with it
  auto kills = effects_of<KillRun>(d);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].launcher_pid, 21);
  EXPECT_EQ(state_.schedule_status, Status::timeout);
  EXPECT_TRUE(contains(state_.schedule_reason, "host:10000")) << state_.schedule_reason;
}

// ---- TimeoutJob ----------------------------------------------------------------------------------------

TEST_F(LifecycleTest, TimeoutJobStopsTheJobAsTimeoutOnlyPastDagConfTimeout) {
  Json dag = guest_chain_dag();
  dag["dag"]["conf"]["timeout"] = 10;
  Create(dag);
  ASSERT_EQ(state_.schedule_status, Status::running);
  const int64_t started = state_.start_time;
  ASSERT_GT(started, 0);
  EXPECT_EQ(job_timeout_s(state_.dag()), 10);
  Launch(exec("a_0"), 601);
  EXPECT_EQ(next_deadline(state_), started + 10000);  // earlier than a_0's default task timeout

  TimeoutJob early;
  Decision d = At(started + 9999, early);
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());

  TimeoutJob due;
  d = At(started + 10000, due);
  ASSERT_EQ(d.code, RetCode::success);
  auto kills = effects_of<KillRun>(d);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].execution_id, exec("a_0"));
  EXPECT_EQ(kills[0].launcher_pid, 601);
  EXPECT_EQ(RunOf("a_0").party_status, Status::timeout);
  EXPECT_TRUE(contains(RunOf("a_0").error, "timed out")) << RunOf("a_0").error;
  EXPECT_EQ(RunOf("b_0").party_status, Status::waiting);
  EXPECT_EQ(state_.schedule_status, Status::timeout);
  EXPECT_EQ(CopyStatus(), Status::timeout);
  EXPECT_TRUE(contains(state_.copy(kGuest)->status_reason, "timed out"))
      << state_.copy(kGuest)->status_reason;
  EXPECT_TRUE(launched(d).empty());
  EXPECT_EQ(next_deadline(state_), 0);

  // Again later: nothing more.
  d = At(started + 20000, TimeoutJob{});
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
}

TEST_F(LifecycleTest, TimeoutJobWithoutDagConfTimeoutChangesNothing) {
  Create(guest_chain_dag());
  Launch(exec("a_0"));
  EXPECT_EQ(job_timeout_s(state_.dag()), 0);
  Decision d = At(now_ + 365LL * 24 * 3600 * 1000, TimeoutJob{});
  EXPECT_TRUE(d.events.empty());
  EXPECT_EQ(state_.schedule_status, Status::running);
}

// ---- next_deadline -------------------------------------------------------------------------------------

TEST_F(LifecycleTest, NextDeadlineIsTheEarliestOfRunTimeoutsJobTimeoutAndBackoffs) {
  Json dag = pair_dag();
  dag["dag"]["conf"]["timeout"] = 100;
  dag["dag"]["conf"]["auto_retries"] = 1;
  dag["dag"]["tasks"]["x_0"]["conf"] = J(R"({"timeout": 5})");
  dag["dag"]["tasks"]["y_0"]["conf"] = J(R"({"timeout": 50})");
  Create(dag);
  const int64_t job_deadline = state_.start_time + 100000;
  EXPECT_EQ(next_deadline(state_), job_deadline);  // nothing runs yet: only the job's own timeout

  Launch(exec("y_0"));
  const int64_t y_deadline = RunOf("y_0").start_time + 50000;
  EXPECT_EQ(next_deadline(state_), y_deadline);
  Launch(exec("x_0"));
  EXPECT_EQ(next_deadline(state_), RunOf("x_0").start_time + 5000);

  // x_0 fails: its retry's backoff is now the earliest.
  Report(exec("x_0"), Status::failed, "first try");
  const int64_t not_before = state_.schedule.at("x_0").not_before;
  EXPECT_EQ(not_before, now_ + 1000);
  EXPECT_EQ(next_deadline(state_), not_before);

  At(not_before, Advance{});
  Launch(exec("x_0", 1));
  EXPECT_EQ(next_deadline(state_), std::min(RunOf("x_0", 1).start_time + 5000, y_deadline));
  Report(exec("x_0", 1), Status::success);
  EXPECT_EQ(next_deadline(state_), y_deadline);
  Report(exec("y_0"), Status::success);
  ASSERT_EQ(state_.schedule_status, Status::success);
  EXPECT_EQ(next_deadline(state_), 0);  // an ended job needs no detector
}

TEST_F(LifecycleTest, BackoffDoublesWithEachRetry) {
  defaults_.retry_backoff_ms = 300;
  Json dag = guest_chain_dag();
  dag["dag"]["conf"]["auto_retries"] = 3;
  Create(dag);
  std::vector<int64_t> waits;
  for (int version = 0; version < 3; ++version) {
    Decision d = Finish(exec("a_0", version), Status::failed, "try " + std::to_string(version));
    ASSERT_EQ(new_versions(d), (std::map<std::string, int>{{"a_0", version + 1}}));
    const int64_t not_before = state_.schedule.at("a_0").not_before;
    waits.push_back(not_before - now_);
    EXPECT_EQ(next_deadline(state_), not_before);
    EXPECT_TRUE(launched(At(not_before - 1, Advance{})).empty());
    EXPECT_EQ(launched(At(not_before, Advance{})), std::vector<std::string>{exec("a_0", version + 1)});
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{300, 600, 1200}));
  Finish(exec("a_0", 3), Status::success);
  EXPECT_EQ(state_.schedule.at("a_0").status, Status::success);
}

// ---- rerun from a task ---------------------------------------------------------------------------------

TEST_F(LifecycleTest, RerunFromATaskOnADiamondPicksExactlyTheTaskAndItsDownstream) {
  Create(diamond_dag());
  Finish(exec("a_0"), Status::success);
  Finish(exec("e_0"), Status::success);
  Finish(exec("b_0"), Status::success);
  Finish(exec("c_0"), Status::success);
  Finish(exec("d_0"), Status::success);
  ASSERT_EQ(state_.schedule_status, Status::success);

  Decision d = RerunFrom("b_0");
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(new_versions(d), (std::map<std::string, int>{{"b_0", 1}, {"d_0", 1}}));
  std::vector<Status> schedule;
  for (const auto& e : events_of<ScheduleStatusChanged>(d.events)) schedule.push_back(e.status);
  EXPECT_EQ(schedule, (std::vector<Status>{Status::waiting, Status::running}));
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("b_0", 1)});  // d_0 waits for b_0
  for (const char* kept : {"a_0", "c_0", "e_0"}) {
    EXPECT_EQ(LatestVersion(kept), 0) << kept;
    EXPECT_EQ(state_.schedule.at(kept).status, Status::success) << kept;
  }
  EXPECT_EQ(CopyStatus(), Status::running);

  d = Finish(exec("b_0", 1), Status::success);
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("d_0", 1)});
  Finish(exec("d_0", 1), Status::success);
  EXPECT_EQ(state_.schedule_status, Status::success);
  EXPECT_EQ(CopyStatus(), Status::success);

  // From the root: everything that depends on it, but not the independent e_0.
  d = RerunFrom("a_0");
  EXPECT_EQ(new_versions(d), (std::map<std::string, int>{{"a_0", 1}, {"b_0", 2}, {"c_0", 1}, {"d_0", 2}}));
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("a_0", 1)});
  EXPECT_EQ(LatestVersion("e_0"), 0);

  // From a leaf: only the leaf.
  Finish(exec("a_0", 1), Status::success);
  Finish(exec("b_0", 2), Status::success);
  Finish(exec("c_0", 1), Status::success);
  Finish(exec("d_0", 2), Status::success);
  ASSERT_EQ(state_.schedule_status, Status::success);
  d = RerunFrom("d_0");
  EXPECT_EQ(new_versions(d), (std::map<std::string, int>{{"d_0", 3}}));
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("d_0", 3)});
}

TEST_F(LifecycleTest, RerunFromAnUnknownTaskOrOnAJobNotEndedIsRefused) {
  Create(guest_chain_dag());
  Launch(exec("a_0"));
  Decision d = RerunFrom("a_0");  // running
  EXPECT_EQ(d.code, RetCode::job_params_error);
  EXPECT_TRUE(contains(d.message, "task_name")) << d.message;
  EXPECT_EQ(LatestVersion("a_0"), 0);

  Report(exec("a_0"), Status::failed, "boom");
  ASSERT_EQ(state_.schedule_status, Status::failed);
  d = RerunFrom("zz_9");
  EXPECT_EQ(d.code, RetCode::job_params_error);
  EXPECT_TRUE(contains(d.message, "zz_9")) << d.message;
  EXPECT_TRUE(contains(d.message, "task_name")) << d.message;

  // From an existing task of the failed job: accepted.
  d = RerunFrom("a_0");
  EXPECT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(new_versions(d), (std::map<std::string, int>{{"a_0", 1}, {"b_0", 1}, {"c_0", 1}}));
}

// ---- capacity ------------------------------------------------------------------------------------------

TEST_F(LifecycleTest, CreateJobLargerThanThePartyIsRefusedWith1006AndStoresNothing) {
  Json dag = guest_chain_dag();
  dag["dag"]["conf"]["cores"] = 16;
  Decision d = Create(dag, /*party_cores=*/8);
  EXPECT_EQ(d.code, RetCode::job_resource_limit_exceeded);
  EXPECT_TRUE(names_number(d.message, 16)) << d.message;
  EXPECT_TRUE(names_number(d.message, 8)) << d.message;
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(log_.empty());
  EXPECT_FALSE(state_.exists);

  // A task's engine_run.cores above the job's cores counts too.
  dag["dag"]["conf"]["cores"] = 4;
  dag["dag"]["tasks"]["b_0"]["conf"] = J(R"({"engine_run": {"cores": 12}})");
  d = Create(dag, 8);
  EXPECT_EQ(d.code, RetCode::job_resource_limit_exceeded);
  EXPECT_TRUE(names_number(d.message, 12)) << d.message;
  EXPECT_FALSE(state_.exists);

  // Exactly the party's cores fits.
  dag["dag"]["tasks"]["b_0"]["conf"] = J(R"({"engine_run": {"cores": 8}})");
  d = Create(dag, 8);
  EXPECT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(state_.schedule_status, Status::running);
}

TEST_F(LifecycleTest, CreateJobWithoutAKnownPartyTotalIsNotChecked) {
  Json dag = guest_chain_dag();
  dag["dag"]["conf"]["cores"] = 64;
  Decision d = Create(dag, /*party_cores=*/0);
  EXPECT_EQ(d.code, RetCode::success) << d.message;
}

TEST_F(LifecycleTest, JoinJobLargerThanThePartyIsRefusedWith1006AndStoresNothing) {
  Json dag = guest_chain_dag();
  dag["dag"]["parties"].push_back(J(R"({"role": "host", "party_id": ["10000"]})"));
  dag["dag"]["conf"] = J(R"({"scheduler_party_id": "9999", "initiator_party_id": "9999", "cores": 12})");
  JoinJob join;
  join.job_id = kJob;
  join.dag_schema = dag;
  join.party = kHost;
  join.local_party_id = "10000";
  join.party_cores = 8;
  Decision d = Run(join);
  EXPECT_EQ(d.code, RetCode::job_resource_limit_exceeded);
  EXPECT_TRUE(names_number(d.message, 12)) << d.message;
  EXPECT_TRUE(names_number(d.message, 8)) << d.message;
  EXPECT_TRUE(contains(d.message, "host:10000")) << d.message;
  EXPECT_TRUE(log_.empty());
  EXPECT_FALSE(state_.exists);

  join.party_cores = 16;
  d = Run(join);
  EXPECT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_TRUE(state_.exists);
  EXPECT_NE(state_.copy(kHost), nullptr);
}

}  // namespace
}  // namespace flowstone::domain
