// Who caused each event (the audit timeline's actor): named by the command's sender when it says (a client
// route names its app or address), else from the command's kind; the scheduler's step that follows a
// command is the scheduler's.
#include <gtest/gtest.h>

#include <string>

#include "events/job/job.hpp"
#include "tests/events/job_test_util.hpp"

namespace flowstone::domain {
namespace {

constexpr const char* kJob = "202401010000000000007";

class ActorTest : public JobHostTest {
 protected:
  ActorTest() : JobHostTest(kJob, /*grant_after_ms=*/10) {}

  // The actors of the recorded events of one kind, in order.
  template <class Kind>
  std::vector<std::string> ActorsOf() const {
    std::vector<std::string> out;
    for (const auto& e : log_)
      if (std::holds_alternative<Kind>(e.body)) out.push_back(e.actor);
    return out;
  }
};

TEST_F(ActorTest, EachEventNamesTheClientWorkerLauncherOrSchedulerThatCausedIt) {
  ASSERT_TRUE(Create(guest_chain_dag()).ok());
  EXPECT_EQ(ActorsOf<JobCreated>(), std::vector<std::string>{"client"});
  EXPECT_EQ(ActorsOf<CopyResourcesApplied>(), std::vector<std::string>{"resource manager"});
  EXPECT_EQ(ActorsOf<PartyResourcesAnswered>(), std::vector<std::string>{"resource manager"});
  // Admission and the first task's start follow the grant in the scheduler's step.
  ASSERT_FALSE(ActorsOf<TaskStatusChanged>().empty());
  EXPECT_EQ(ActorsOf<TaskStatusChanged>().front(), "scheduler 9999");

  ASSERT_TRUE(Launch(exec("a_0")).ok());
  EXPECT_EQ(ActorsOf<TaskLaunched>(), std::vector<std::string>{"launcher"});
  const size_t before_report = log_.size();
  ASSERT_TRUE(Report(exec("a_0"), Status::success).ok());
  ASSERT_GT(log_.size(), before_report);
  EXPECT_EQ(log_[before_report].actor, "worker " + exec("a_0"));  // the run's own report
  EXPECT_EQ(log_.back().actor, "scheduler 9999");                 // b_0 started by the scheduler

  // A stop from a client route that named its caller: the cancel records it; the step's stops are the
  // scheduler's.
  StopJob stop{Status::canceled, "stopped by user", now_ + 10};
  Decision d = decide_and_advance(state_, stop, now_ + 10, nullptr, "client app ops");
  ASSERT_TRUE(d.ok()) << d.message;
  ASSERT_FALSE(d.events.empty());
  EXPECT_TRUE(std::holds_alternative<JobCancelRequested>(d.events.front().body));
  EXPECT_EQ(d.events.front().actor, "client app ops");
  for (const auto& e : d.events) EXPECT_FALSE(e.actor.empty()) << event_kind(e);
  for (const auto& e : log_) EXPECT_FALSE(e.actor.empty()) << event_kind(e);
}

TEST_F(ActorTest, APartyThatDoesNotScheduleTheJobNamesTheSchedulerForItsCalls) {
  JobState state;
  JoinJob join;
  join.job_id = kJob;
  join.dag_schema = J(R"({"schema_version": "2.1.0", "dag": {
      "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}],
      "conf": {"scheduler_party_id": "9999"},
      "tasks": {"a_0": {"component_ref": "noop"}}}})");
  join.party = PartyRef{"host", "10000"};
  join.local_party_id = "10000";
  join.now_ms = 1;
  Decision d = decide_and_advance(state, join, 1, &state);
  ASSERT_TRUE(d.ok()) << d.message;
  for (const auto& e : d.events) EXPECT_EQ(e.actor, "scheduler") << event_kind(e);
  StopCopy stop{PartyRef{"host", "10000"}, Status::canceled, "stopped", 2};
  d = decide_and_advance(state, stop, 2, &state);
  ASSERT_TRUE(d.ok()) << d.message;
  ASSERT_FALSE(d.events.empty());
  EXPECT_EQ(d.events.front().actor, "scheduler 9999");
}

}  // namespace
}  // namespace flowstone::domain
