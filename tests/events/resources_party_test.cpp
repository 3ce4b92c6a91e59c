// Resources, all or nothing, at the Job aggregate (fixture: resources_fixture.hpp): a party's grant and
// return of its copy, an admission open at a crash, refusals backing off, and the admission timeout.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "events/job/job.hpp"
#include "events/job/views.hpp"
#include "events/resources/ledger.hpp"
#include "tests/events/job_test_util.hpp"
#include "tests/events/resources_fixture.hpp"

namespace flowstone::domain {
namespace {

using namespace resources_fixture;

// ---- at a party on another server: the scheduler's resource/apply and resource/return ----

TEST_F(AdmissionTest, APartyRecordsTheGrantAndTheReturnOfItsCopy) {
  ASSERT_EQ(Create(two_party_dag()).code, RetCode::success);  // the scheduler's job, for its dag
  JoinJob join{kJob, sched_.state.dag().raw, kHost, "10000", JobDefaults{}, 8, 0, nullptr};
  ASSERT_EQ(Run(party_, join).code, RetCode::success);
  ASSERT_FALSE(Holds(kHost, &party_));
  // resource/apply: the party's resource manager granted; the copy records it.
  Decision d = Run(party_, HoldResources{kHost, 0});
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  auto applied = events_of<CopyResourcesApplied>(d.events);
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].cores, 4);
  EXPECT_TRUE(Holds(kHost, &party_));
  EXPECT_EQ(LedgerRows(party_), 1u);
  EXPECT_EQ(Row(kHost, &party_).value("resource_in_use", false), true);
  // Held already: a repeated apply records nothing.
  d = Run(party_, HoldResources{kHost, 0});
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  // resource/return: given back, and the resource manager is told.
  d = Run(party_, ReturnResources{kHost, "returned by the scheduler", 0});
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  auto returned = events_of<CopyResourcesReturned>(d.events);
  ASSERT_EQ(returned.size(), 1u);
  EXPECT_EQ(returned[0].reason, "returned by the scheduler");
  auto release = effects_of<ReleaseLocalResources>(d);
  ASSERT_EQ(release.size(), 1u);
  EXPECT_EQ(release[0].party, kHost);
  EXPECT_FALSE(Holds(kHost, &party_));
  EXPECT_EQ(LedgerRows(party_), 0u);
  // A repeated return gives nothing back twice.
  d = Run(party_, ReturnResources{kHost, "returned by the scheduler", 0});
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  // An unknown copy.
  EXPECT_EQ(Run(party_, HoldResources{PartyRef{"host", "10001"}, 0}).code, RetCode::job_not_found);
  EXPECT_EQ(Run(party_, ReturnResources{PartyRef{"host", "10001"}, "x", 0}).code, RetCode::job_not_found);
}

TEST_F(AdmissionTest, APartysCopyThatEndsReturnsItsCoresAndCannotHoldAgain) {
  ASSERT_EQ(Create(two_party_dag()).code, RetCode::success);
  ASSERT_EQ(
      Run(party_, JoinJob{kJob, sched_.state.dag().raw, kHost, "10000", JobDefaults{}, 8, 0, nullptr}).code,
      RetCode::success);
  ASSERT_EQ(Run(party_, HoldResources{kHost, 0}).code, RetCode::success);
  Decision d = Run(party_, StopCopy{kHost, Status::failed, "another party failed", 0});
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(party_.state.copy(kHost)->status, Status::failed);
  EXPECT_EQ(events_of<CopyResourcesReturned>(d.events).size(), 1u);
  EXPECT_EQ(effects_of<ReleaseLocalResources>(d).size(), 1u);
  EXPECT_FALSE(Holds(kHost, &party_));
  d = Run(party_, HoldResources{kHost, 0});
  EXPECT_EQ(d.code, RetCode::job_resource_exception);
  EXPECT_TRUE(contains(d.message, "has ended")) << d.message;
}

TEST_F(AdmissionTest, AJoinOverThePartysTotalIsRefusedWith1006) {
  ASSERT_EQ(Create(two_party_dag(Json{{"cores", 6}})).code, RetCode::success);
  Decision d =
      Run(party_, JoinJob{kJob, sched_.state.dag().raw, kHost, "10000", JobDefaults{}, 4, 0, nullptr});
  EXPECT_EQ(d.code, RetCode::job_resource_limit_exceeded);
  EXPECT_TRUE(contains(d.message, "host:10000")) << d.message;
  EXPECT_FALSE(party_.state.exists);
  // The scheduler, told so by the failed create, fails the job naming the party.
  d = Run(CopyCreateAnswered{kHost, RetCode::job_resource_limit_exceeded, d.message, 0});
  EXPECT_EQ(sched_.state.schedule_status, Status::failed);
  EXPECT_TRUE(contains(sched_.state.schedule_reason, "host:10000")) << sched_.state.schedule_reason;
}

// After a restart the host replays the job and asks recovery_effects() what to redo. An admission attempt
// that was open at the crash has lost its requests (the answers were to come back to the old process): the
// parties that had not answered are asked again, in the same attempt.
TEST_F(AdmissionTest, AnAdmissionOpenAtACrashAsksTheSilentPartiesAgainAfterTheRestart) {
  ASSERT_NO_FATAL_FAILURE(CreatedAndAsked(two_party_dag()));
  ASSERT_EQ(Local(0).code, RetCode::success);  // the host's answer is lost with the crash
  JobState recovered;
  for (const auto& e : sched_.log) apply(recovered, e);
  ASSERT_TRUE(recovered.admission_open);
  std::vector<Effect> redo = recovery_effects(recovered);
  EXPECT_TRUE(effects_of<ApplyLocalResources>(redo).empty()) << "the guest answered already";
  std::vector<PartnerCall> asked;
  for (const auto& call : partner_calls(kJob, redo))
    if (call.endpoint == kApply) asked.push_back(call);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].party, kHost);
  EXPECT_TRUE(asked[0].tracked);
  EXPECT_EQ(asked[0].attempt, 1);  // the same attempt
  // Its answer then completes the attempt.
  sched_.state = recovered;
  Decision d = Remote(0, "success", 1);
  EXPECT_EQ(sched_.state.schedule_status, Status::running);
  EXPECT_EQ(calls(d, "partner/job/start").size(), 1u);

  // With no answer recorded at all, both are asked again.
  Site fresh;
  fresh.state = JobState{};
  for (const auto& e : sched_.log) {
    if (std::holds_alternative<PartyResourcesAnswered>(e.body)) break;
    if (std::holds_alternative<CopyResourcesApplied>(e.body)) break;
    apply(fresh.state, e);
  }
  ASSERT_TRUE(fresh.state.admission_open);
  redo = recovery_effects(fresh.state);
  auto local = effects_of<ApplyLocalResources>(redo);
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].party, kGuest);
  EXPECT_EQ(local[0].attempt, 1);
}

// A job refused again and again asks less often: 500 ms after the first refusal, then 1 s, then every 2 s;
// an admission resets the pause.
TEST_F(AdmissionTest, RepeatedRefusalsBackOffToTwoSeconds) {
  ASSERT_NO_FATAL_FAILURE(CreatedAndAsked(two_party_dag()));
  const std::string not_now = "Job resource exception: 4 cores needed, 0 of 8 free";
  const std::vector<int64_t> pauses = {500, 1000, 2000, 2000, 2000};
  for (size_t i = 0; i < pauses.size(); ++i) {
    const int attempt = static_cast<int>(i) + 1;
    const int64_t started = sched_.state.admission_time;
    ASSERT_EQ(Local(0, "success", attempt).code, RetCode::success);
    ASSERT_EQ(Remote(1005, not_now, attempt).code, RetCode::success);
    ASSERT_EQ(sched_.state.schedule_status, Status::waiting);
    EXPECT_EQ(next_deadline(sched_.state), started + pauses[i]) << "after refusal " << attempt;
    Decision early = Advance(started + pauses[i] - 1);
    EXPECT_TRUE(events_of<AdmissionStarted>(early.events).empty()) << "after refusal " << attempt;
    Decision again = Advance(started + pauses[i]);
    auto next = events_of<AdmissionStarted>(again.events);
    ASSERT_EQ(next.size(), 1u) << "after refusal " << attempt;
    EXPECT_EQ(next[0].attempt, attempt + 1);
  }
  // Granted everywhere: running. A rerun after a failure asks at once, and a refusal then pauses 500 ms.
  const int attempt = sched_.state.admission_attempt;
  ASSERT_EQ(Local(0, "success", attempt).code, RetCode::success);
  ASSERT_EQ(Remote(0, "success", attempt).code, RetCode::success);
  ASSERT_EQ(sched_.state.schedule_status, Status::running);
  ASSERT_EQ(Run(TaskResourcesAnswer{kHost, "a_0", 0, 1, RetCode::success, "success", 0}).code,
            RetCode::success);
  ASSERT_EQ(sched_.state.schedule.at("a_0").status, Status::running);
  ASSERT_EQ(Run(ReportPartyStatus{kHost, "a_0", 0, Status::failed, "broken", false, 0}).code,
            RetCode::success);
  ASSERT_EQ(sched_.state.schedule_status, Status::failed);
  Decision d = Run(RerunJob{"", 0});
  ASSERT_EQ(events_of<AdmissionStarted>(d.events).size(), 1u);
  const int64_t started = sched_.state.admission_time;
  ASSERT_EQ(Local(0, "success", attempt + 1).code, RetCode::success);
  ASSERT_EQ(Remote(1005, not_now, attempt + 1).code, RetCode::success);
  EXPECT_EQ(next_deadline(sched_.state), started + kAdmissionRetryMs);
}

// The admission detector (job_default_config.admission_timeout): a job refused for longer than that
// times out with a reason that says why it waited, and holds nothing.
TEST_F(AdmissionTest, AJobNotAdmittedWithinTheAdmissionTimeoutTimesOut) {
  JobDefaults defaults;
  defaults.admission_timeout_s = 5;
  CreateJob c;
  c.job_id = kJob;
  c.dag_schema = two_party_dag();
  c.local_party_id = "9999";
  c.defaults = defaults;
  ASSERT_EQ(Run(c).code, RetCode::success);
  const int64_t created = now_;
  ASSERT_EQ(Joined().code, RetCode::success);
  ASSERT_EQ(Local(0).code, RetCode::success);
  ASSERT_EQ(Remote(1005, "Job resource exception: 4 cores needed, 0 of 8 free").code, RetCode::success);
  EXPECT_EQ(sched_.state.schedule_status, Status::waiting);
  EXPECT_FALSE(Holds());
  EXPECT_EQ(next_deadline(sched_.state), sched_.state.admission_retry_at());

  // Before the limit nothing happens; past it the job times out at every party.
  Run(TimeoutJob{0}, created + 4000);  // only asks again (the retry time has passed)
  EXPECT_EQ(sched_.state.schedule_status, Status::waiting);
  Decision d = Run(TimeoutJob{0}, created + 5000);
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(sched_.state.schedule_status, Status::timeout);
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::timeout);
  EXPECT_TRUE(contains(sched_.state.schedule_reason, "not admitted within 5 s"))
      << sched_.state.schedule_reason;
  EXPECT_TRUE(contains(sched_.state.schedule_reason, "host:10000")) << sched_.state.schedule_reason;
  EXPECT_FALSE(Holds());
  EXPECT_EQ(next_deadline(sched_.state), 0);
}

}  // namespace
}  // namespace flowstone::domain
