// The Job aggregate (fixture: job_fixture.hpp): reruns; stale, repeated and overtaking reports; launch
// failures; two local parties; refused and repeated creates; notes; recovery effects and replay.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "events/job/job.hpp"
#include "events/job/views.hpp"
#include "tests/events/job_fixture.hpp"
#include "tests/events/job_test_util.hpp"

namespace flowstone::domain {
namespace {

using namespace job_fixture;

TEST_F(JobTest, RerunAfterFailureRerunsOnlyFailedTasks) {
  Create(parallel_dag());
  Launch(exec("x_0"));
  Launch(exec("y_0"));
  Report(exec("x_0"), Status::failed, "boom");
  Report(exec("y_0"), Status::success);
  ASSERT_EQ(state_.schedule_status, Status::failed);

  Decision d = Run(RerunJob{});
  ASSERT_EQ(d.code, RetCode::success);
  ASSERT_EQ(events_of<ScheduleTaskVersionCreated>(d.events).size(), 1u);  // the schedule record
  auto versions = events_of<TaskVersionCreated>(d.events);                // and the guest's run
  ASSERT_EQ(versions.size(), 1u);
  for (const auto& v : versions) {
    EXPECT_EQ(v.task_name, "x_0");
    EXPECT_EQ(v.task_version, 1);
  }
  // The job goes back to waiting, then is admitted again, in one decision.
  std::vector<Status> schedule;
  for (const auto& e : events_of<ScheduleStatusChanged>(d.events)) schedule.push_back(e.status);
  EXPECT_EQ(schedule, (std::vector<Status>{Status::waiting, Status::running}));
  EXPECT_EQ(state_.schedule_status, Status::running);
  EXPECT_EQ(CopyStatus(), Status::running);
  EXPECT_FALSE(state_.cancel_requested);

  // x_0 v1 and the never-started z_0 fill the 8 cores; y_0 keeps its successful version 0.
  EXPECT_EQ(launched(d), (std::vector<std::string>{exec("x_0", 1), exec("z_0")}));
  EXPECT_EQ(state_.latest_run("y_0", kGuest)->task_version, 0);
  EXPECT_EQ(state_.latest_run("y_0", kGuest)->status, Status::success);
  EXPECT_EQ(state_.latest_run("z_0", kGuest)->task_version, 0);
  EXPECT_EQ(state_.schedule.at("y_0").task_version, 0);
  EXPECT_EQ(state_.schedule.at("y_0").status, Status::success);

  Finish(exec("x_0", 1), Status::success);
  Finish(exec("z_0"), Status::success);
  EXPECT_EQ(state_.schedule_status, Status::success);
  EXPECT_EQ(CopyStatus(), Status::success);
  EXPECT_EQ(JobRow()["progress"], 100);
  EXPECT_EQ(JobRow()["end_time"], state_.copy(kGuest)->end_time);
}

TEST_F(JobTest, RerunAfterCancelRestartsCanceledTasks) {
  Create(guest_chain_dag());
  Launch(exec("a_0"));
  Run(StopJob{});
  ASSERT_EQ(state_.schedule_status, Status::canceled);

  Decision d = Run(RerunJob{});
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("a_0", 1)});
  EXPECT_EQ(state_.schedule_status, Status::running);
  EXPECT_EQ(CopyStatus(), Status::running);
  EXPECT_FALSE(state_.cancel_requested);
  Finish(exec("a_0", 1), Status::success);
  Finish(exec("b_0"), Status::success);
  Finish(exec("c_0"), Status::success);
  EXPECT_EQ(state_.schedule_status, Status::success);
}

TEST_F(JobTest, RerunOfASuccessfulJobChangesNothing) {
  Create(guest_chain_dag());
  Finish(exec("a_0"), Status::success);
  Finish(exec("b_0"), Status::success);
  Finish(exec("c_0"), Status::success);
  Decision d = Run(RerunJob{});
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
}

TEST_F(JobTest, StaleRepeatedAndUnknownReports) {
  Create(guest_chain_dag());
  Finish(exec("a_0"), Status::success);

  // Repeated success, and a late failure after success: no events, code 0.
  Decision d = Report(exec("a_0"), Status::success);
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  d = Report(exec("a_0"), Status::failed, "late");
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_EQ(RunOf("a_0").error, "");

  // A repeated launch record does not kill the running worker.
  Decision first = Launch(exec("b_0"), 55);
  EXPECT_FALSE(first.events.empty());
  d = Launch(exec("b_0"), 55);
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  EXPECT_EQ(RunOf("b_0").party_status, Status::running);

  // Unknown execution ids.
  d = Report("no_such_execution", Status::success);
  EXPECT_EQ(d.code, RetCode::task_not_found);
  EXPECT_NE(d.message.find("no_such_execution"), std::string::npos);
  d = Launch("no_such_execution");
  EXPECT_EQ(d.code, RetCode::task_not_found);
  FailRun fail;
  fail.execution_id = "no_such_execution";
  EXPECT_EQ(Run(fail).code, RetCode::task_not_found);
}

TEST_F(JobTest, AFailureReportOvertakingTheLaunchRecordIsKept) {
  Create(guest_chain_dag());
  Decision d = Report(exec("a_0"), Status::failed, "crashed at import");
  EXPECT_EQ(RunOf("a_0").party_status, Status::failed);
  EXPECT_EQ(RunOf("a_0").error, "crashed at import");
  EXPECT_EQ(state_.schedule_status, Status::failed);
  d = Launch(exec("a_0"), 31);  // its launcher, recorded late, is stopped
  EXPECT_EQ(effects_of<KillRun>(d).size(), 1u);
  EXPECT_EQ(RunOf("a_0").party_status, Status::failed);
}

TEST_F(JobTest, ASuccessReportOvertakingTheLaunchRecordCounts) {
  Create(guest_chain_dag());
  Decision d = Report(exec("a_0"), Status::success);
  EXPECT_EQ(RunOf("a_0").party_status, Status::success);
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("b_0")});
  d = Launch(exec("a_0"), 32);
  EXPECT_TRUE(effects_of<KillRun>(d).empty());
  EXPECT_EQ(RunOf("a_0").launcher_pid, 32);
}

TEST_F(JobTest, LaunchFailureFailsTheRun) {
  Create(guest_chain_dag());
  FailRun fail;
  fail.execution_id = exec("a_0");
  fail.error = "component 'noop' is not in provider flowstone";
  Decision d = Run(fail);
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_EQ(RunOf("a_0").party_status, Status::failed);
  EXPECT_EQ(RunOf("a_0").error, fail.error);
  EXPECT_EQ(state_.schedule_status, Status::failed);
  EXPECT_EQ(CopyStatus(), Status::failed);
}

// Two parties served by this site: a failure at one stops the other's run of the same task.
TEST_F(JobTest, TwoLocalPartiesFailureAtOneStopsTheOther) {
  const PartyRef host{"host", "9999"};
  Json dag = guest_chain_dag();
  dag["dag"]["parties"].push_back(J(R"({"role": "host", "party_id": ["9999"]})"));
  Decision d = Create(dag);
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  ASSERT_EQ(state_.copies.size(), 2u);
  std::string guest_a = exec("a_0"), host_a = execution_id_of(kJob, "a_0", 0, host);
  EXPECT_EQ(launched(d), (std::vector<std::string>{guest_a, host_a}));
  Launch(guest_a, 10);
  Launch(host_a, 20);

  d = Report(guest_a, Status::success);  // one party done, the other still running: task running
  EXPECT_EQ(state_.schedule.at("a_0").status, Status::running);
  EXPECT_TRUE(launched(d).empty());

  Finish(guest_a, Status::success);  // repeated: nothing
  d = Report(host_a, Status::failed, "host side error");
  EXPECT_EQ(state_.schedule.at("a_0").status, Status::failed);
  EXPECT_EQ(state_.schedule_status, Status::failed);
  EXPECT_EQ(state_.copy(kGuest)->status, Status::failed);
  EXPECT_EQ(state_.copy(host)->status, Status::failed);
  EXPECT_EQ(state_.run_by_execution(guest_a)->status, Status::failed);
  EXPECT_EQ(state_.run_by_execution(guest_a)->party_status, Status::success);
}

TEST_F(JobTest, TwoLocalPartiesInterruptKillsTheOtherRun) {
  const PartyRef host{"host", "9999"};
  Json dag = guest_chain_dag();
  dag["dag"]["parties"].push_back(J(R"({"role": "host", "party_id": ["9999"]})"));
  Create(dag);
  std::string guest_a = exec("a_0"), host_a = execution_id_of(kJob, "a_0", 0, host);
  Launch(guest_a, 10);
  Launch(host_a, 20);
  Decision d = Report(host_a, Status::failed, "host side error");
  EXPECT_EQ(state_.schedule.at("a_0").status, Status::failed);
  auto kills = effects_of<KillRun>(d);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].execution_id, guest_a);
  EXPECT_EQ(kills[0].launcher_pid, 10);
  EXPECT_EQ(state_.run_by_execution(guest_a)->party_status, Status::failed);
  EXPECT_EQ(state_.schedule_status, Status::failed);
}

TEST_F(JobTest, CycleIsRejected) {
  Json dag = guest_chain_dag();
  dag["dag"]["tasks"]["a_0"]["inputs"] = J(R"({"model": {"input_model": {"task_output_artifact":
      {"producer_task": "c_0", "output_artifact_key": "output_model"}}}})");
  Decision d = Create(dag);
  EXPECT_EQ(d.code, RetCode::job_params_error);
  EXPECT_NE(d.message.find("cycle"), std::string::npos) << d.message;
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(log_.empty());
  EXPECT_FALSE(state_.exists);
}

TEST_F(JobTest, PartyOfAnotherSiteIsAskedToCreateItsCopy) {
  Json dag = guest_chain_dag();
  dag["dag"]["parties"].push_back(J(R"({"role": "host", "party_id": ["10000"]})"));
  Decision d = Create(dag);
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  auto calls = partner_calls(state_, d.effects);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].endpoint, "partner/job/create");
  EXPECT_EQ(calls[0].party, (PartyRef{"host", "10000"}));
  EXPECT_TRUE(calls[0].tracked);
  EXPECT_EQ(calls[1].endpoint, "partner/job/status/update");
  EXPECT_EQ(state_.schedule_status, Status::waiting);  // not admitted before the host has its copy
}

TEST_F(JobTest, RepeatedCreateChangesNothing) {
  Create(guest_chain_dag());
  size_t events = log_.size();
  Decision d = Create(guest_chain_dag());
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  EXPECT_EQ(d.data["model_id"], kJob);
  EXPECT_EQ(log_.size(), events);
}

TEST_F(JobTest, CommandsOnNoJob) {
  EXPECT_EQ(Run(StopJob{}).code, RetCode::job_not_found);
  EXPECT_EQ(Run(RerunJob{}).code, RetCode::job_not_found);
  Decision d = Run(Advance{});
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
}

TEST_F(JobTest, NotesAreKeptInTheJobRow) {
  Create(guest_chain_dag());
  AddNotes notes;
  notes.party = kGuest;
  notes.notes = "first try";
  EXPECT_EQ(Run(notes).code, RetCode::success);
  EXPECT_EQ(JobRow()["description"], "first try");
  notes.party = PartyRef{"host", "10000"};
  EXPECT_EQ(Run(notes).code, RetCode::job_not_found);
}

TEST_F(JobTest, RecoveryEffects) {
  Create(parallel_dag());  // x_0 and y_0 started, no launcher yet
  Launch(exec("x_0"), 1234);
  std::vector<Effect> effects = recovery_effects(state_);
  ASSERT_EQ(effects.size(), 2u);
  const CheckRun* check = std::get_if<CheckRun>(&effects[0]);
  ASSERT_NE(check, nullptr);
  EXPECT_EQ(check->execution_id, exec("x_0"));
  EXPECT_EQ(check->launcher_pid, 1234);
  const LaunchRun* launch = std::get_if<LaunchRun>(&effects[1]);
  ASSERT_NE(launch, nullptr);
  EXPECT_EQ(launch->execution_id, exec("y_0"));

  // Finished and never-started runs need nothing.
  Report(exec("x_0"), Status::success);
  effects = recovery_effects(state_);
  ASSERT_EQ(effects.size(), 2u);  // y_0 still to launch, z_0 now launched too
  for (const auto& e : effects) EXPECT_TRUE(std::holds_alternative<LaunchRun>(e));
}

TEST_F(JobTest, ReplayOfTheRecordedLogGivesTheSameViews) {
  Create(parallel_dag(1));
  Launch(exec("x_0"));
  Launch(exec("y_0"));
  Report(exec("x_0"), Status::failed, "retry me");
  Report(exec("y_0"), Status::success);
  AddNotes notes;
  notes.party = kGuest;
  notes.notes = "n";
  Run(notes);
  Run(StopJob{});
  Run(RerunJob{});
  ASSERT_FALSE(log_.empty());

  JobState replayed;
  for (const auto& e : log_) replayed = evolve(replayed, e);
  auto live = job_views(state_);
  EXPECT_EQ(job_views(replayed), live);
  // Every run has a task row and an execution row; one job row for the guest copy.
  size_t jobs = 0, tasks = 0, executions = 0;
  for (const auto& row : live) {
    if (row.family == kJobsView) ++jobs;
    if (row.family == kTasksView) ++tasks;
    if (row.family == kExecutionsView) ++executions;
  }
  EXPECT_EQ(jobs, 1u);
  EXPECT_EQ(tasks, state_.runs.size());
  EXPECT_EQ(executions, state_.runs.size());
  EXPECT_EQ(job_view_key(kJob, kGuest).rfind(job_view_prefix(kJob), 0), 0u);
}

}  // namespace
}  // namespace flowstone::domain
