// The Job aggregate, driven only as a host drives it (fixture: job_fixture.hpp): the create, chains and
// parallel tasks, failures and auto-retries, stops. Reruns, reports, recovery and replay are in
// job_rerun_recovery_test.cpp.
#include "events/job/job.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "events/job/views.hpp"
#include "tests/events/job_fixture.hpp"
#include "tests/events/job_test_util.hpp"

namespace flowstone::domain {
namespace {

using namespace job_fixture;

TEST_F(JobTest, CreateAdmitsAndLaunchesOnlyTheFirstTaskOfAChain) {
  Decision d = Create(guest_chain_dag());
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(d.data["model_id"], kJob);
  EXPECT_EQ(d.data["model_version"], "0");
  ASSERT_FALSE(d.events.empty());
  EXPECT_TRUE(std::holds_alternative<JobCreated>(d.events.front().body));

  // waiting, then (same decision) admitted to running, at the schedule record and the copy.
  // The schedule record's changes are ScheduleStatusChanged; kSchedule stands for them here.
  std::vector<std::pair<PartyRef, Status>> seen;
  for (const auto& e : d.events) {
    if (const auto* copy = std::get_if<JobStatusChanged>(&e.body))
      seen.emplace_back(copy->party, copy->status);
    if (const auto* record = std::get_if<ScheduleStatusChanged>(&e.body))
      seen.emplace_back(kSchedule, record->status);
  }
  std::vector<std::pair<PartyRef, Status>> want = {{kSchedule, Status::waiting},
                                                   {kGuest, Status::waiting},
                                                   {kSchedule, Status::running},
                                                   {kGuest, Status::running}};
  EXPECT_EQ(seen, want);

  EXPECT_EQ(launched(d), std::vector<std::string>{exec("a_0")});
  EXPECT_EQ(state_.schedule_status, Status::running);
  EXPECT_EQ(CopyStatus(), Status::running);
  EXPECT_EQ(state_.schedule.at("a_0").status, Status::running);
  EXPECT_EQ(state_.schedule.at("b_0").status, Status::waiting);
  EXPECT_EQ(RunOf("a_0").status, Status::running);
  EXPECT_EQ(RunOf("a_0").party_status, Status::waiting);
  EXPECT_EQ(RunOf("b_0").status, Status::waiting);
  EXPECT_EQ(RunOf("a_0").component, "noop");
  EXPECT_EQ(RunOf("b_0").component, "noop_consumer");
  EXPECT_EQ(state_.topo, (std::vector<std::string>{"a_0", "b_0", "c_0"}));
  EXPECT_EQ(state_.dependencies.at("b_0"), std::vector<std::string>{"a_0"});
  EXPECT_EQ(state_.dependencies.at("c_0"), std::vector<std::string>{"b_0"});

  // Defaults filled in and recorded in the creation event.
  const JobCreated& created = std::get<JobCreated>(d.events.front().body);
  EXPECT_EQ(created.dag_schema["dag"]["conf"]["initiator_party_id"], "9999");
  EXPECT_EQ(created.dag_schema["dag"]["conf"]["scheduler_party_id"], "9999");
  EXPECT_EQ(created.dag_schema["dag"]["conf"]["sync_type"], "callback");
  EXPECT_TRUE(created.is_scheduler);
  EXPECT_EQ(created.local_parties, std::vector<PartyRef>{kGuest});

  // The worker config the host will hand to a_0.
  Json config = task_config(state_, RunOf("a_0"));
  EXPECT_EQ(config["party_task_id"], exec("a_0"));
  EXPECT_EQ(config["task_id"], std::string(kJob) + "_a_0");
  EXPECT_EQ(config["task_version"], "0");
  EXPECT_EQ(config["component"], "noop");
}

TEST_F(JobTest, ChainRunsToSuccess) {
  Create(guest_chain_dag());

  Decision d = Launch(exec("a_0"), 111);
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_EQ(RunOf("a_0").party_status, Status::running);
  EXPECT_EQ(RunOf("a_0").launcher_pid, 111);
  EXPECT_EQ(RunOf("a_0").cmd, "flowstone-launcher " + exec("a_0"));
  EXPECT_GT(RunOf("a_0").start_time, 0);
  EXPECT_EQ(state_.schedule.at("a_0").party_status.at(kGuest), Status::running);
  EXPECT_TRUE(d.effects.empty());

  d = Report(exec("a_0"), Status::success);
  EXPECT_EQ(RunOf("a_0").party_status, Status::success);
  EXPECT_EQ(RunOf("a_0").status, Status::success);
  EXPECT_EQ(state_.schedule.at("a_0").status, Status::success);
  EXPECT_GT(RunOf("a_0").end_time, 0);
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("b_0")});
  EXPECT_EQ(state_.schedule.at("b_0").status, Status::running);
  EXPECT_EQ(state_.schedule.at("c_0").status, Status::waiting);
  EXPECT_EQ(state_.schedule_status, Status::running);
  EXPECT_EQ(JobRow()["progress"], 33);

  d = Finish(exec("b_0"), Status::success);
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("c_0")});
  EXPECT_EQ(state_.schedule_status, Status::running);
  EXPECT_EQ(JobRow()["progress"], 66);

  d = Finish(exec("c_0"), Status::success);
  EXPECT_TRUE(launched(d).empty());
  EXPECT_EQ(state_.schedule.at("c_0").status, Status::success);
  EXPECT_EQ(state_.schedule_status, Status::success);
  EXPECT_EQ(CopyStatus(), Status::success);
  EXPECT_GT(state_.end_time, 0);

  Json row = JobRow();
  EXPECT_EQ(row["status"], "success");
  EXPECT_EQ(row["progress"], 100);
  EXPECT_EQ(row["tag"], "job_end");
  EXPECT_TRUE(row["end_time"].is_number_integer());
  EXPECT_TRUE(row["start_time"].is_number_integer());
  EXPECT_TRUE(row["elapsed"].is_number_integer());
  EXPECT_EQ(row["user_name"], "tester");

  Json task = task_row(state_, RunOf("c_0"));
  EXPECT_EQ(task["status"], "success");
  EXPECT_EQ(task["party_status"], "success");
  EXPECT_EQ(task["run_pid"], 4242);
  EXPECT_TRUE(task["end_time"].is_number_integer());

  // Nothing more to do: a further Advance decides nothing.
  d = Run(Advance{});
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
}

TEST_F(JobTest, IndependentTasksRunInParallelUpToJobCores) {
  Decision d = Create(parallel_dag());
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(state_.copy(kGuest)->cores, 8);
  EXPECT_EQ(RunOf("x_0").cores, 4);
  EXPECT_EQ(launched(d), (std::vector<std::string>{exec("x_0"), exec("y_0")}));
  EXPECT_EQ(state_.schedule.at("z_0").status, Status::waiting);

  Launch(exec("x_0"));
  d = Launch(exec("y_0"));
  EXPECT_TRUE(launched(d).empty());
  EXPECT_EQ(state_.schedule.at("z_0").status, Status::waiting);

  d = Report(exec("y_0"), Status::success);
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("z_0")});
  EXPECT_EQ(state_.schedule.at("z_0").status, Status::running);

  Report(exec("x_0"), Status::success);
  EXPECT_EQ(state_.schedule_status, Status::running);
  Finish(exec("z_0"), Status::success);
  EXPECT_EQ(state_.schedule_status, Status::success);
  EXPECT_EQ(CopyStatus(), Status::success);
}

TEST_F(JobTest, DefaultCoresRunOneTaskAtATime) {
  Json dag = parallel_dag();
  dag["dag"].erase("conf");
  Decision d = Create(dag);
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("x_0")});  // 4 job cores / 4 task cores
  d = Finish(exec("x_0"), Status::success);
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("y_0")});
}

TEST_F(JobTest, FailedTaskWithoutRetriesFailsTheJobOnceSiblingsFinish) {
  Create(parallel_dag());
  Launch(exec("x_0"));
  Launch(exec("y_0"));

  Decision d = Report(exec("x_0"), Status::failed, "component raised ValueError: boom");
  EXPECT_EQ(RunOf("x_0").party_status, Status::failed);
  EXPECT_EQ(RunOf("x_0").status, Status::failed);
  EXPECT_EQ(state_.schedule.at("x_0").status, Status::failed);
  // The failure stops further starts, but the running sibling finishes first.
  EXPECT_TRUE(launched(d).empty());
  EXPECT_TRUE(events_of<TaskVersionCreated>(d.events).empty());
  EXPECT_EQ(state_.schedule_status, Status::running);
  EXPECT_EQ(CopyStatus(), Status::running);
  EXPECT_EQ(state_.schedule.at("z_0").status, Status::waiting);

  d = Report(exec("y_0"), Status::success);
  EXPECT_TRUE(launched(d).empty());
  EXPECT_EQ(state_.schedule_status, Status::failed);
  EXPECT_EQ(CopyStatus(), Status::failed);
  EXPECT_EQ(state_.schedule.at("z_0").status, Status::waiting);  // never started

  Json task = task_row(state_, RunOf("x_0"));
  EXPECT_EQ(task["error_report"], "component raised ValueError: boom");
  EXPECT_EQ(task["status"], "failed");
  Json row = JobRow();
  EXPECT_EQ(row["status"], "failed");
  EXPECT_EQ(row["progress"], 66);
  EXPECT_TRUE(row["end_time"].is_number_integer());
}

TEST_F(JobTest, AutoRetryCreatesANewVersionAndTheJobNeverFails) {
  Decision d = Create(parallel_dag(/*auto_retries=*/1));
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(state_.schedule.at("x_0").auto_retries, 1);
  Launch(exec("x_0"));
  Launch(exec("y_0"));

  d = Report(exec("x_0"), Status::failed, "first attempt failed");
  auto record = events_of<ScheduleTaskVersionCreated>(d.events);  // the schedule record
  ASSERT_EQ(record.size(), 1u);
  EXPECT_EQ(record[0].task_version, 1);
  auto versions = events_of<TaskVersionCreated>(d.events);  // the guest copy's run
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].party, kGuest);
  EXPECT_EQ(versions[0].task_version, 1);
  EXPECT_EQ(versions[0].execution_id, exec("x_0", 1));
  EXPECT_NE(exec("x_0", 1), exec("x_0", 0));
  EXPECT_EQ(versions[0].auto_retries, 0);

  EXPECT_EQ(RunOf("x_0", 0).status, Status::failed);
  EXPECT_EQ(RunOf("x_0", 0).error, "first attempt failed");
  EXPECT_EQ(state_.schedule.at("x_0").task_version, 1);
  EXPECT_EQ(state_.schedule.at("x_0").auto_retries, 0);
  EXPECT_EQ(state_.latest_run("x_0", kGuest)->task_version, 1);
  // x_0 v1 waits out its backoff (retry_backoff_ms, 1 s by default), so z_0 takes the freed cores.
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("z_0")});
  EXPECT_EQ(state_.schedule.at("x_0").not_before, now_ + 1000);
  EXPECT_EQ(state_.schedule_status, Status::running);  // a task waiting for its retry keeps the job running
  now_ += 1000;
  d = Run(Advance{});
  EXPECT_TRUE(launched(d).empty());  // past its backoff, but y_0 and z_0 hold the cores
  Launch(exec("z_0"));
  d = Finish(exec("y_0"), Status::success);
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("x_0", 1)});
  EXPECT_EQ(state_.schedule.at("x_0").status, Status::running);

  Finish(exec("x_0", 1), Status::success);
  Report(exec("z_0"), Status::success);
  EXPECT_EQ(state_.schedule_status, Status::success);
  EXPECT_EQ(CopyStatus(), Status::success);
  EXPECT_EQ(JobRow()["progress"], 100);

  // The job was never failed, neither at the schedule record nor at the copy.
  for (const auto& e : events_of<JobStatusChanged>(log_)) EXPECT_NE(e.status, Status::failed);
}

TEST_F(JobTest, AutoRetryIsUsedUpThenTheJobFails) {
  Json dag = guest_chain_dag();
  dag["dag"]["conf"] = J(R"({"auto_retries": 1})");
  Create(dag);
  Decision d = Finish(exec("a_0"), Status::failed, "one");
  EXPECT_TRUE(launched(d).empty());  // backoff first
  now_ += 1000;
  d = Run(Advance{});
  EXPECT_EQ(launched(d), std::vector<std::string>{exec("a_0", 1)});
  d = Finish(exec("a_0", 1), Status::failed, "two");
  EXPECT_TRUE(events_of<TaskVersionCreated>(d.events).empty());
  EXPECT_EQ(state_.schedule_status, Status::failed);
  EXPECT_EQ(CopyStatus(), Status::failed);
  EXPECT_EQ(RunOf("a_0", 1).error, "two");
}

TEST_F(JobTest, StopDuringRunningCancelsAndKillsAndLateReportsChangeNothing) {
  Create(guest_chain_dag());
  Launch(exec("a_0"), 777);

  StopJob stop;
  stop.stop_status = Status::canceled;
  stop.reason = "user stop";
  Decision d = Run(stop);
  ASSERT_EQ(d.code, RetCode::success);
  auto kills = effects_of<KillRun>(d);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].execution_id, exec("a_0"));
  EXPECT_EQ(kills[0].launcher_pid, 777);
  EXPECT_TRUE(launched(d).empty());

  EXPECT_TRUE(state_.cancel_requested);
  EXPECT_EQ(RunOf("a_0").party_status, Status::canceled);
  EXPECT_EQ(RunOf("a_0").status, Status::canceled);
  EXPECT_EQ(state_.schedule.at("a_0").status, Status::canceled);
  EXPECT_EQ(state_.schedule_status, Status::canceled);
  EXPECT_EQ(CopyStatus(), Status::canceled);
  EXPECT_EQ(RunOf("b_0").party_status, Status::waiting);  // never started: left alone
  Json row = JobRow();
  EXPECT_EQ(row["status"], "canceled");
  EXPECT_EQ(row["cancel_signal"], true);

  // The killed worker's last words, the launcher noticing it gone, a second stop: nothing changes.
  d = Report(exec("a_0"), Status::failed, "killed");
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  FailRun gone;
  gone.execution_id = exec("a_0");
  gone.error = "worker gone without a report";
  d = Run(gone);
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  d = Run(stop);
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_EQ(RunOf("a_0").error, "user stop");  // the stop's reason, not the late report's
  EXPECT_EQ(state_.schedule_status, Status::canceled);
}

TEST_F(JobTest, StopWhileTheLaunchIsInFlightCancelsAndKillsTheLateLauncher) {
  Create(guest_chain_dag());  // a_0 started by the scheduler; the launcher has not reported yet
  StopJob stop;
  Decision d = Run(stop);
  EXPECT_EQ(RunOf("a_0").party_status, Status::canceled);
  auto kills = effects_of<KillRun>(d);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].execution_id, exec("a_0"));
  EXPECT_EQ(state_.schedule_status, Status::canceled);
  EXPECT_EQ(CopyStatus(), Status::canceled);

  d = Launch(exec("a_0"), 999);  // the launcher's record arrives late: it must not run
  kills = effects_of<KillRun>(d);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].launcher_pid, 999);
  EXPECT_EQ(RunOf("a_0").party_status, Status::canceled);
  EXPECT_EQ(state_.schedule_status, Status::canceled);
}

}  // namespace
}  // namespace flowstone::domain
