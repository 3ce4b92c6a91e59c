// Resources, all or nothing (spec 5.1-5.3), at the scheduler's Job aggregate (fixture:
// resources_fixture.hpp): asking every party, grants, refusals and retries, returns, a copy's cores. The
// ledger's own policy is tested in ledger_test.cpp; a party's side is in resources_party_test.cpp.
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

TEST_F(AdmissionTest, EveryPartyIsAskedForTheCopysCoresOnceAllJoined) {
  Decision d = Create(two_party_dag());
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_TRUE(effects_of<ApplyLocalResources>(d).empty()) << "asked before the host created its copy";
  EXPECT_TRUE(calls(d, kApply).empty());
  EXPECT_EQ(sched_.state.schedule_status, Status::waiting);

  d = Joined();
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  auto started = events_of<AdmissionStarted>(d.events);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].attempt, 1);
  auto local = effects_of<ApplyLocalResources>(d);
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].party, kGuest);
  EXPECT_EQ(local[0].cores, 4);  // job_cores by default
  EXPECT_EQ(local[0].attempt, 1);
  auto remote = calls(d, kApply);
  ASSERT_EQ(remote.size(), 1u);
  EXPECT_TRUE(remote[0].tracked);
  EXPECT_EQ(remote[0].attempt, 1);  // the attempt travels with the tracked call
  EXPECT_EQ(remote[0].body, (Json{{"job_id", kJob}, {"role", "host"}, {"party_id", "10000"}}));
  // Nothing is held, nothing starts, until the answers are in.
  EXPECT_FALSE(Holds());
  EXPECT_TRUE(launched(d).empty());
  EXPECT_TRUE(calls(d, "partner/job/start").empty());
  EXPECT_EQ(sched_.state.schedule_status, Status::waiting);
  EXPECT_TRUE(sched_.state.admission_open);
  // While the attempt is open, another step asks nothing again.
  d = Advance(now_ + 5000);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
}

TEST_F(AdmissionTest, AllGrantedTheJobRunsAndThePartiesAreStarted) {
  ASSERT_NO_FATAL_FAILURE(CreatedAndAsked(two_party_dag()));
  Decision d = Local(0);
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  auto applied = events_of<CopyResourcesApplied>(d.events);
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].party, kGuest);
  EXPECT_EQ(applied[0].cores, 4);
  EXPECT_TRUE(Holds());
  EXPECT_EQ(LedgerRows(sched_), 1u);
  EXPECT_EQ(sched_.state.schedule_status, Status::waiting);  // the host has not answered
  EXPECT_TRUE(launched(d).empty());

  d = Remote(0);
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  auto ended = events_of<AdmissionEnded>(d.events);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_TRUE(ended[0].granted);
  EXPECT_EQ(ended[0].reason, "");
  EXPECT_EQ(sched_.state.schedule_status, Status::running);
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::running);
  EXPECT_EQ(calls(d, "partner/job/start").size(), 1u);
  // The first task starts once the host grants its resources too (spec 5.4).
  auto task_apply = calls(d, "partner/task/resource/apply");
  ASSERT_EQ(task_apply.size(), 1u);
  EXPECT_TRUE(launched(d).empty());
  Decision granted =
      Run(TaskResourcesAnswer{kHost, "a_0", 0, task_apply[0].attempt, RetCode::success, "success", 0});
  EXPECT_EQ(launched(granted), std::vector<std::string>{exec(kGuest)});
  EXPECT_TRUE(events_of<CopyResourcesReturned>(d.events).empty());
  EXPECT_TRUE(effects_of<ReleaseLocalResources>(d).empty());
  Json row = Row();
  EXPECT_EQ(row.value("resource_in_use", false), true) << row.dump(2);
  EXPECT_EQ(row.value("pending_reason", "?"), "") << row.dump(2);
  EXPECT_EQ(next_deadline(sched_.state), 0);
}

TEST_F(AdmissionTest, TheOrderOfTheAnswersDoesNotMatter) {
  ASSERT_NO_FATAL_FAILURE(CreatedAndAsked(two_party_dag()));
  Decision d = Remote(0);
  EXPECT_EQ(sched_.state.schedule_status, Status::waiting);
  EXPECT_TRUE(calls(d, "partner/job/start").empty());
  d = Local(0);
  EXPECT_EQ(sched_.state.schedule_status, Status::running);
  EXPECT_EQ(calls(d, "partner/job/start").size(), 1u);
  EXPECT_TRUE(Holds());
}

TEST_F(AdmissionTest, ARemoteRefusalReturnsTheLocalGrantAndTheJobWaitsWithTheReason) {
  ASSERT_NO_FATAL_FAILURE(CreatedAndAsked(two_party_dag()));
  ASSERT_EQ(Local(0).code, RetCode::success);
  ASSERT_TRUE(Holds());
  const std::string refusal = "Job resource exception: 4 cores needed, 2 of 8 free";
  Decision d = Remote(1005, refusal);
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  auto ended = events_of<AdmissionEnded>(d.events);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_FALSE(ended[0].granted);
  EXPECT_EQ(ended[0].reason, "waiting for resources at host:10000: " + refusal);
  // The guest, which granted, gives its cores back in the same decision.
  auto returned = events_of<CopyResourcesReturned>(d.events);
  ASSERT_EQ(returned.size(), 1u);
  EXPECT_EQ(returned[0].party, kGuest);
  EXPECT_EQ(returned[0].cores, 4);
  auto release = effects_of<ReleaseLocalResources>(d);
  ASSERT_EQ(release.size(), 1u);
  EXPECT_EQ(release[0].party, kGuest);
  EXPECT_FALSE(Holds());
  EXPECT_EQ(LedgerRows(sched_), 0u);
  // The host refused: it holds nothing, so it is not asked to return anything.
  EXPECT_TRUE(calls(d, kReturn).empty());
  // The job still waits, and says why.
  EXPECT_EQ(sched_.state.schedule_status, Status::waiting);
  EXPECT_TRUE(calls(d, "partner/job/start").empty());
  EXPECT_TRUE(launched(d).empty());
  Json row = Row();
  EXPECT_EQ(row.value("status", ""), "waiting");
  EXPECT_EQ(row.value("pending_reason", ""), "waiting for resources at host:10000: " + refusal)
      << row.dump(2);
  EXPECT_EQ(row.value("resource_in_use", true), false);
}

TEST_F(AdmissionTest, ALocalRefusalSendsTheGrantingRemotePartyAResourceReturn) {
  ASSERT_NO_FATAL_FAILURE(CreatedAndAsked(two_party_dag()));
  ASSERT_EQ(Remote(0).code, RetCode::success);
  Decision d = Local(1005, "Job resource exception: 4 cores needed, 0 of 8 free");
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  auto back = calls(d, kReturn);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].body, (Json{{"job_id", kJob}, {"role", "host"}, {"party_id", "10000"}}));
  // The guest never held anything: no return event, no release.
  EXPECT_TRUE(events_of<CopyResourcesApplied>(d.events).empty());
  EXPECT_TRUE(events_of<CopyResourcesReturned>(d.events).empty());
  EXPECT_TRUE(effects_of<ReleaseLocalResources>(d).empty());
  EXPECT_EQ(sched_.state.schedule_status, Status::waiting);
  EXPECT_TRUE(contains(Row().value("pending_reason", ""), "waiting for resources at guest:9999: "))
      << Row().dump(2);
}

TEST_F(AdmissionTest, TheNextAttemptComesOnlyAfterHalfASecond) {
  ASSERT_NO_FATAL_FAILURE(CreatedAndAsked(two_party_dag()));
  const int64_t first = sched_.state.admission_time;
  ASSERT_EQ(first, now_);
  ASSERT_EQ(Local(0).code, RetCode::success);
  ASSERT_EQ(Remote(1005, "Job resource exception: 4 cores needed, 0 of 8 free").code, RetCode::success);
  ASSERT_FALSE(sched_.state.admission_open);
  EXPECT_EQ(next_deadline(sched_.state), first + kAdmissionRetryMs);

  // Commands before then change nothing about the admission.
  Decision d = Advance(first + kAdmissionRetryMs - 1);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  d = Run(AddNotes{kGuest, "still waiting?", 0}, first + kAdmissionRetryMs - 1);
  EXPECT_TRUE(events_of<AdmissionStarted>(d.events).empty());
  EXPECT_TRUE(effects_of<ApplyLocalResources>(d).empty());

  // At the deadline every party is asked again, in attempt 2; the reason stays until it is answered.
  d = Advance(first + kAdmissionRetryMs);
  auto started = events_of<AdmissionStarted>(d.events);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].attempt, 2);
  auto local = effects_of<ApplyLocalResources>(d);
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].attempt, 2);
  auto remote = calls(d, kApply);
  ASSERT_EQ(remote.size(), 1u);
  EXPECT_EQ(remote[0].attempt, 2);
  EXPECT_FALSE(Row().value("pending_reason", "").empty());
  EXPECT_EQ(next_deadline(sched_.state), 0) << "an open attempt waits for its answers, not for a timer";

  // Answers to the first attempt count no more.
  d = Remote(0, "success", 1);
  EXPECT_TRUE(d.events.empty());
  // Both grant attempt 2: the job runs and the reason is gone.
  ASSERT_EQ(Local(0, "success", 2).code, RetCode::success);
  d = Remote(0, "success", 2);
  EXPECT_EQ(sched_.state.schedule_status, Status::running);
  EXPECT_EQ(Row().value("pending_reason", "?"), "");
  EXPECT_EQ(Row().value("resource_in_use", false), true);
}

TEST_F(AdmissionTest, ARepeatedAnswerOfTheSameAttemptIsIgnored) {
  ASSERT_NO_FATAL_FAILURE(CreatedAndAsked(two_party_dag()));
  ASSERT_EQ(Remote(1005, "Job resource exception: not now").code, RetCode::success);
  // The same party answers again (a retried call): the first answer stands.
  Decision d = Remote(0);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  d = Local(0);
  EXPECT_EQ(sched_.state.schedule_status, Status::waiting);
  EXPECT_EQ(events_of<CopyResourcesReturned>(d.events).size(), 1u);
  EXPECT_FALSE(Holds());
}

TEST_F(AdmissionTest, ALateLocalGrantForAnEndedAttemptIsGivenBackAtOnce) {
  ASSERT_NO_FATAL_FAILURE(CreatedAndAsked(two_party_dag()));
  // The job is canceled while the admission is open.
  Decision d = Run(StopJob{Status::canceled, "stopped by user", 0});
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  ASSERT_EQ(sched_.state.schedule_status, Status::canceled);
  // Then the resource manager's grant arrives: nothing is recorded, the cores go back.
  d = Local(0);
  EXPECT_TRUE(d.events.empty());
  auto release = effects_of<ReleaseLocalResources>(d);
  ASSERT_EQ(release.size(), 1u);
  EXPECT_EQ(release[0].party, kGuest);
  EXPECT_FALSE(Holds());
  EXPECT_EQ(LedgerRows(sched_), 0u);
}

TEST_F(AdmissionTest, StoppingAJobWhoseLocalCopyHoldsItsCoresReturnsThem) {
  ASSERT_NO_FATAL_FAILURE(CreatedAndAsked(two_party_dag()));
  ASSERT_EQ(Local(0).code, RetCode::success);
  ASSERT_TRUE(Holds());
  Decision d = Run(StopJob{Status::canceled, "stopped by user", 0});
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(events_of<CopyResourcesReturned>(d.events).size(), 1u);
  EXPECT_EQ(effects_of<ReleaseLocalResources>(d).size(), 1u);
  EXPECT_FALSE(Holds());
  EXPECT_EQ(calls(d, "partner/job/stop").size(), 1u);
  // The host's late grant changes nothing at the scheduler (the host's stopped copy returns its own).
  d = Remote(0);
  EXPECT_TRUE(d.events.empty());
}

TEST_F(AdmissionTest, A1006FailsTheJobNamingThePartyAndReturnsTheLocalGrant) {
  ASSERT_NO_FATAL_FAILURE(CreatedAndAsked(two_party_dag(Json{{"cores", 6}})));
  ASSERT_EQ(Local(0).code, RetCode::success);
  const std::string never = "Resource limit exceeded: the job needs 6 cores and the party has 4 in total";
  Decision d = Remote(1006, never);
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  auto ended = events_of<AdmissionEnded>(d.events);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_FALSE(ended[0].granted);
  EXPECT_EQ(ended[0].reason, "party host:10000 can never hold the job: " + never);
  EXPECT_EQ(sched_.state.schedule_status, Status::failed);
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::failed);
  EXPECT_TRUE(contains(sched_.state.schedule_reason, "host:10000")) << sched_.state.schedule_reason;
  EXPECT_TRUE(contains(Row().value("status_reason", ""), "host:10000")) << Row().dump(2);
  // Returned exactly once, although the copy both lost the admission and ended (the ended copy also
  // leaves the party's queue: a second release, which frees nothing).
  EXPECT_EQ(events_of<CopyResourcesReturned>(d.events).size(), 1u);
  EXPECT_EQ(effects_of<ReleaseLocalResources>(d).size(), 2u);
  EXPECT_FALSE(Holds());
  auto stop = calls(d, "partner/job/stop");
  ASSERT_EQ(stop.size(), 1u);
  EXPECT_EQ(stop[0].body.value("stop_status", ""), "failed");
  EXPECT_TRUE(launched(d).empty());
  // No new attempt after a failure.
  EXPECT_EQ(next_deadline(sched_.state), 0);
  d = Advance(now_ + 10 * kAdmissionRetryMs);
  EXPECT_TRUE(d.events.empty());
}

TEST_F(AdmissionTest, A1006FromTheLocalPartyFailsTheJobToo) {
  ASSERT_NO_FATAL_FAILURE(CreatedAndAsked(two_party_dag()));
  ASSERT_EQ(Remote(0).code, RetCode::success);
  Decision d = Local(1006, "Resource limit exceeded: the job needs 4 cores and the party has 2 in total");
  EXPECT_EQ(sched_.state.schedule_status, Status::failed);
  EXPECT_TRUE(contains(sched_.state.schedule_reason, "guest:9999")) << sched_.state.schedule_reason;
  EXPECT_EQ(calls(d, kReturn).size(), 1u);  // the host granted: it gives its cores back
}

TEST_F(AdmissionTest, ACopyThatSucceedsReturnsItsCoresInTheSameDecision) {
  ASSERT_EQ(Create(local_dag()).code, RetCode::success);
  ASSERT_EQ(sched_.state.admission_attempt, 1);
  Decision d = Local(0);
  ASSERT_EQ(sched_.state.schedule_status, Status::running);
  ASSERT_TRUE(Holds());
  ASSERT_EQ(launched(d), std::vector<std::string>{exec(kGuest)});
  ASSERT_EQ(Run(RecordLaunch{exec(kGuest), 4242, "launcher", "/logs", 0, "flowstone"}).code,
            RetCode::success);
  ASSERT_TRUE(Holds());
  d = Run(ReportTaskStatus{exec(kGuest), Status::success, "", 0});
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::success);
  auto returned = events_of<CopyResourcesReturned>(d.events);
  ASSERT_EQ(returned.size(), 1u);
  EXPECT_EQ(returned[0].party, kGuest);
  EXPECT_EQ(returned[0].cores, 4);
  EXPECT_EQ(returned[0].reason, "job success");
  // The return comes right after the copy's status change, in the same decision.
  size_t status_at = d.events.size(), returned_at = d.events.size();
  for (size_t i = 0; i < d.events.size(); ++i) {
    if (const auto* e = std::get_if<JobStatusChanged>(&d.events[i].body);
        e && e->party == kGuest && e->status == Status::success)
      status_at = i;
    if (std::holds_alternative<CopyResourcesReturned>(d.events[i].body)) returned_at = i;
  }
  EXPECT_LT(status_at, d.events.size());
  EXPECT_EQ(returned_at, status_at + 1);
  EXPECT_EQ(effects_of<ReleaseLocalResources>(d).size(), 1u);
  EXPECT_FALSE(Holds());
  EXPECT_EQ(Row().value("resource_in_use", true), false);
  EXPECT_EQ(LedgerRows(sched_), 0u);
}

TEST_F(AdmissionTest, ACopyThatFailsReturnsItsCoresToo) {
  ASSERT_EQ(Create(local_dag()).code, RetCode::success);
  ASSERT_EQ(Local(0).code, RetCode::success);
  ASSERT_EQ(Run(RecordLaunch{exec(kGuest), 4242, "launcher", "/logs", 0, "flowstone"}).code,
            RetCode::success);
  Decision d = Run(ReportTaskStatus{exec(kGuest), Status::failed, "broken", 0});
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::failed);
  auto returned = events_of<CopyResourcesReturned>(d.events);
  ASSERT_EQ(returned.size(), 1u);
  EXPECT_EQ(returned[0].reason, "job failed");
  EXPECT_FALSE(Holds());
}

TEST_F(AdmissionTest, ARerunAsksForTheCoresAgainAtOnce) {
  ASSERT_EQ(Create(local_dag()).code, RetCode::success);
  ASSERT_EQ(Local(0).code, RetCode::success);
  ASSERT_EQ(Run(RecordLaunch{exec(kGuest), 4242, "launcher", "/logs", 0, "flowstone"}).code,
            RetCode::success);
  ASSERT_EQ(Run(ReportTaskStatus{exec(kGuest), Status::failed, "broken", 0}).code, RetCode::success);
  ASSERT_FALSE(Holds());
  Decision d = Run(RerunJob{"", 0});
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  auto started = events_of<AdmissionStarted>(d.events);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].attempt, 2);
  ASSERT_EQ(effects_of<ApplyLocalResources>(d).size(), 1u);
  d = Local(0, "success", 2);
  EXPECT_EQ(sched_.state.schedule_status, Status::running);
  EXPECT_TRUE(Holds());
}

TEST_F(AdmissionTest, TheCopysCoresAreTheJobsCoresOrALargerTasksAndNoneForAnArbiter) {
  // dag.conf.cores 6, one task asks for 10 at the guest; the arbiter (same site) takes none.
  Json dag = J(R"({
    "schema_version": "2.1.0",
    "dag": {
      "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "arbiter", "party_id": ["9999"]}],
      "conf": {"cores": 6},
      "tasks": {
        "a_0": {"component_ref": "noop", "conf": {"engine_run": {"cores": 10}},
                "parties": [{"role": "guest", "party_id": ["9999"]}]},
        "b_0": {"component_ref": "noop"}
      }
    }
  })");
  Decision d = Create(dag);
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  ASSERT_NE(sched_.state.copy(kGuest), nullptr);
  ASSERT_NE(sched_.state.copy(kArbiter), nullptr);
  EXPECT_EQ(sched_.state.copy(kGuest)->cores, 10);
  EXPECT_EQ(sched_.state.copy(kArbiter)->cores, 0);
  auto local = effects_of<ApplyLocalResources>(d);
  ASSERT_EQ(local.size(), 2u);
  for (const auto& apply : local)
    EXPECT_EQ(apply.cores, apply.party == kArbiter ? 0 : 10) << apply.party.role;
  EXPECT_TRUE(calls(d, kApply).empty());  // no remote party
  ASSERT_EQ(Local(0, "success", 1, kGuest).code, RetCode::success);
  EXPECT_EQ(sched_.state.schedule_status, Status::waiting);  // the arbiter has not answered
  ASSERT_EQ(Local(0, "success", 1, kArbiter).code, RetCode::success);
  EXPECT_EQ(sched_.state.schedule_status, Status::running);
  EXPECT_EQ(Row(kGuest).value("cores", 0), 10);
  EXPECT_EQ(Row(kArbiter).value("cores", -1), 0);
}

TEST_F(AdmissionTest, AJobOverThePartysTotalIsRefusedAtCreate) {
  Decision d = Create(local_dag(Json{{"cores", 12}}), /*party_cores=*/8);
  EXPECT_EQ(d.code, RetCode::job_resource_limit_exceeded);
  EXPECT_TRUE(contains(d.message, "12")) << d.message;
  EXPECT_TRUE(contains(d.message, "guest:9999")) << d.message;
  EXPECT_FALSE(sched_.state.exists);
  // Exactly the total is accepted.
  EXPECT_EQ(Create(local_dag(Json{{"cores", 8}}), 8).code, RetCode::success);
}

}  // namespace
}  // namespace flowstone::domain
