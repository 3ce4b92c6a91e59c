// Task resources at a party (spec 5.4): grants come out of the copy's job cores, a refusal is 2004 naming
// what is left, grants and returns are events that replay, and an ended run holds nothing.
#include <gtest/gtest.h>

#include "events/job/task_cores.hpp"

namespace flowstone::domain {
namespace {

const PartyRef kHost{"host", "10000"};

// A host copy with 4 job cores and two parallel tasks of 4 cores each, neither started.
JobState two_parallel_tasks() {
  JobState s;
  s.job_id = "202612021200000000000";
  JobCopy copy;
  copy.party = kHost;
  copy.status = Status::running;
  copy.cores = 4;
  s.copies.push_back(copy);
  for (const char* task : {"a_0", "b_0"}) {
    TaskRun run;
    run.task_name = task;
    run.party = kHost;
    run.cores = 4;
    s.runs.push_back(run);
  }
  return s;
}

// Decides and applies, as the job's host does.
Decision step(JobState& s, const JobCommand& command) {
  Decision d = decide(s, command);
  for (const auto& e : d.events) apply(s, e);
  return d;
}

TEST(TaskResources, ASecondTaskWaitsUntilTheFirstGivesItsCoresBack) {
  JobState s = two_parallel_tasks();
  Decision first = step(s, ApplyTaskResources{kHost, "a_0", 0, 10});
  ASSERT_EQ(first.code, RetCode::success) << first.message;
  ASSERT_EQ(first.events.size(), 1u);
  EXPECT_EQ(std::get<TaskResourcesApplied>(first.events[0].body).cores, 4);
  EXPECT_EQ(task_cores_in_use(s, kHost), 4);

  Decision second = step(s, ApplyTaskResources{kHost, "b_0", 0, 11});
  EXPECT_EQ(second.code, RetCode::task_resource_exception);
  EXPECT_NE(second.message.find("0 left"), std::string::npos) << second.message;
  EXPECT_TRUE(second.events.empty());

  // A repeated apply of a granted run changes nothing.
  EXPECT_TRUE(step(s, ApplyTaskResources{kHost, "a_0", 0, 12}).events.empty());

  // The scheduler returns a_0's grant (it was refused elsewhere): b_0 fits.
  Decision back = step(s, ReturnTaskResources{kHost, "a_0", 0, 13});
  ASSERT_EQ(back.events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<TaskResourcesReturned>(back.events[0].body));
  EXPECT_TRUE(step(s, ReturnTaskResources{kHost, "a_0", 0, 14}).events.empty()) << "returned twice";
  EXPECT_EQ(step(s, ApplyTaskResources{kHost, "b_0", 0, 15}).code, RetCode::success);
}

TEST(TaskResources, AnEndedRunHoldsNothingAndARunningOneHoldsItsCores) {
  JobState s = two_parallel_tasks();
  s.runs[0].party_status = Status::running;  // started without an apply (an older scheduler)
  EXPECT_EQ(task_cores_in_use(s, kHost), 4);
  EXPECT_EQ(step(s, ApplyTaskResources{kHost, "b_0", 0, 1}).code, RetCode::task_resource_exception);
  s.runs[0].party_status = Status::success;
  EXPECT_EQ(task_cores_in_use(s, kHost), 0);
  EXPECT_EQ(step(s, ApplyTaskResources{kHost, "b_0", 0, 2}).code, RetCode::success);
  EXPECT_EQ(step(s, ApplyTaskResources{kHost, "a_0", 0, 3}).code, RetCode::task_resource_exception)
      << "an ended run is not granted";
  EXPECT_EQ(step(s, ApplyTaskResources{kHost, "zz_9", 0, 4}).code, RetCode::task_resource_exception)
      << "no such task";
}

// A run that ends gives its grant back as an event of the job, so the audit history shows the return.
TEST(TaskResources, ARunThatEndsReturnsItsCoresAsAnEvent) {
  JobState s = two_parallel_tasks();
  for (auto& run : s.runs) run.execution_id = task_id_of(s.job_id, run.task_name) + "_0_host_10000";
  ASSERT_EQ(step(s, ApplyTaskResources{kHost, "a_0", 0, 1}).code, RetCode::success);
  ASSERT_EQ(step(s, StartTask{kHost, "a_0", 0, 2}).code, RetCode::success);
  ASSERT_EQ(step(s, RecordLaunch{s.runs[0].execution_id, 77, "cmd", "/logs", 3, "flowstone"}).code,
            RetCode::success);
  EXPECT_EQ(task_cores_in_use(s, kHost), 4);
  Decision done = step(s, ReportTaskStatus{s.runs[0].execution_id, Status::success, "", 4});
  ASSERT_EQ(done.code, RetCode::success) << done.message;
  bool returned = false;
  for (const auto& e : done.events)
    if (const auto* r = std::get_if<TaskResourcesReturned>(&e.body)) {
      returned = true;
      EXPECT_EQ(r->task_name, "a_0");
      EXPECT_EQ(r->reason, "task success");
    }
  EXPECT_TRUE(returned);
  EXPECT_FALSE(s.runs[0].task_resources_held);
  EXPECT_EQ(task_cores_in_use(s, kHost), 0);
  EXPECT_EQ(step(s, ApplyTaskResources{kHost, "b_0", 0, 5}).code, RetCode::success);
}

// A version the scheduler replaced before starting it (partner/task/rerun) never uses its grant.
TEST(TaskResources, AGrantOfAVersionReplacedBeforeItStartedHoldsNothing) {
  JobState s = two_parallel_tasks();
  ASSERT_EQ(step(s, ApplyTaskResources{kHost, "a_0", 0, 1}).code, RetCode::success);
  EXPECT_EQ(step(s, ApplyTaskResources{kHost, "b_0", 0, 2}).code, RetCode::task_resource_exception);
  ASSERT_EQ(step(s, RerunTask{kHost, "a_0", 1, 3}).code, RetCode::success);
  EXPECT_EQ(task_cores_in_use(s, kHost), 0);
  EXPECT_EQ(step(s, ApplyTaskResources{kHost, "b_0", 0, 4}).code, RetCode::success);
}

}  // namespace
}  // namespace flowstone::domain
