// Resources, all or nothing (spec 5.1-5.3), at the Job aggregate: the scheduler (and a party) driven as its
// host drives it, decide_and_advance() then apply(), with every answer of the resource managers given by
// the test itself (nothing is granted automatically). Every admission scenario ends by replaying the
// recorded events into a fresh state. The ledger's own policy is tested in ledger_test.cpp.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "events/job/job.hpp"
#include "events/job/views.hpp"
#include "events/resources/ledger.hpp"
#include "tests/events/job_test_util.hpp"

namespace flowstone::domain {

namespace {

constexpr int64_t T0 = 1700000000000;

// ==== AdmissionTest =====================================================================================

const PartyRef kGuest{"guest", "9999"};
const PartyRef kHost{"host", "10000"};
const PartyRef kArbiter{"arbiter", "9999"};
const PartyRef kSchedule{};
constexpr const char* kJob = "202401010000000000077";
constexpr const char* kApply = "partner/job/resource/apply";
constexpr const char* kReturn = "partner/job/resource/return";

// a_0 at guest 9999 and host 10000 (the host on another server).
Json two_party_dag(const Json& conf = Json::object()) {
  Json dag = J(R"({
    "schema_version": "2.1.0",
    "dag": {
      "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}],
      "tasks": {"a_0": {"component_ref": "noop"}}
    }
  })");
  dag["dag"]["conf"] = conf;
  return dag;
}

// a_0 at guest 9999 only.
Json local_dag(const Json& conf = Json::object()) {
  Json dag = J(R"({
    "schema_version": "2.1.0",
    "dag": {
      "parties": [{"role": "guest", "party_id": ["9999"]}],
      "tasks": {"a_0": {"component_ref": "noop"}}
    }
  })");
  dag["dag"]["conf"] = conf;
  return dag;
}

std::string exec(const PartyRef& party, const std::string& task = "a_0", int version = 0) {
  return execution_id_of(kJob, task, version, party);
}

std::vector<PartnerCall> calls(const Decision& d, const std::string& endpoint,
                               const PartyRef& party = kHost) {
  std::vector<PartnerCall> out;
  for (const auto& call : partner_calls(kJob, d.effects))
    if (call.endpoint == endpoint && call.party == party) out.push_back(call);
  return out;
}

// One server's job, as its host keeps it: decides, appends, applies. Nothing is answered for it.
struct Site {
  JobState state;
  std::vector<JobEvent> log;
};

class AdmissionTest : public ::testing::Test {
 protected:
  // Runs `command` at `at` (0: 10 ms after the last command).
  Decision Run(Site& site, JobCommand command, int64_t at = 0) {
    now_ = at != 0 ? at : now_ + 10;
    return decide_and_apply(site.state, site.log, std::move(command), now_);
  }
  Decision Run(JobCommand command, int64_t at = 0) { return Run(sched_, std::move(command), at); }

  // ---- the scheduler (guest 9999) ----
  Decision Create(Json dag, int party_cores = 0, const std::string& local_party_id = "9999") {
    CreateJob c;
    c.job_id = kJob;
    c.dag_schema = std::move(dag);
    c.local_party_id = local_party_id;
    c.user_name = "tester";
    c.party_cores = party_cores;
    return Run(c);
  }
  Decision Joined(const PartyRef& party = kHost) {
    return Run(CopyCreateAnswered{party, RetCode::success, "success", 0});
  }
  // This server's resource manager answers the local apply of `attempt`.
  Decision Local(int code, const std::string& message = "success", int attempt = 1,
                 const PartyRef& party = kGuest, int64_t at = 0) {
    return Run(ResourcesAnswered{party, attempt, ret_code_of(code), message, 0}, at);
  }
  // The remote party answers partner/job/resource/apply of `attempt`.
  Decision Remote(int code, const std::string& message = "success", int attempt = 1, int64_t at = 0) {
    return Run(ResourcesAnswered{kHost, attempt, ret_code_of(code), message, 0}, at);
  }
  Decision Advance(int64_t at) { return Run(domain::Advance{0}, at); }

  // Created, joined, and the first admission asked: the answers are the test's.
  void CreatedAndAsked(const Json& dag) {
    ASSERT_EQ(Create(dag).code, RetCode::success);
    Decision d = Joined();
    ASSERT_EQ(d.code, RetCode::success) << d.message;
    ASSERT_EQ(events_of<AdmissionStarted>(d.events).size(), 1u);
  }

  Json Row(const PartyRef& party = kGuest, const Site* site = nullptr) {
    const Site& s = site ? *site : sched_;
    const JobCopy* copy = s.state.copy(party);
    EXPECT_NE(copy, nullptr);
    return copy ? job_row(s.state, *copy) : Json();
  }
  bool Holds(const PartyRef& party = kGuest, const Site* site = nullptr) {
    const Site& s = site ? *site : sched_;
    const JobCopy* copy = s.state.copy(party);
    return copy && copy->resource_in_use;
  }
  // Rows of the "resources" view (the ledger) for this site's copies.
  size_t LedgerRows(const Site& site) {
    size_t n = 0;
    for (const auto& row : job_views(site.state))
      if (row.family == kResourcesView) ++n;
    return n;
  }

  void ExpectReplayMatches(const Site& site) {
    JobState replayed = replay(site.log);
    const JobState& live = site.state;
    EXPECT_EQ(job_views(replayed), job_views(live));
    EXPECT_EQ(replayed.schedule_status, live.schedule_status);
    EXPECT_EQ(replayed.schedule_reason, live.schedule_reason);
    EXPECT_EQ(replayed.admission_attempt, live.admission_attempt);
    EXPECT_EQ(replayed.admission_open, live.admission_open);
    EXPECT_EQ(replayed.admission_time, live.admission_time);
    EXPECT_EQ(replayed.admission_answers.size(), live.admission_answers.size());
    EXPECT_EQ(replayed.pending_reason, live.pending_reason);
    EXPECT_EQ(next_deadline(replayed), next_deadline(live));
    ASSERT_EQ(replayed.copies.size(), live.copies.size());
    for (size_t i = 0; i < live.copies.size(); ++i) {
      EXPECT_EQ(replayed.copies[i].resource_in_use, live.copies[i].resource_in_use);
      EXPECT_EQ(replayed.copies[i].cores, live.copies[i].cores);
    }
    // Replaying twice gives the same state again.
    EXPECT_EQ(job_views(replay(site.log)), job_views(replayed));
  }
  void TearDown() override {
    if (sched_.state.exists) ExpectReplayMatches(sched_);
    if (party_.state.exists) ExpectReplayMatches(party_);
  }

  Site sched_;  // guest 9999, the scheduler
  Site party_;  // host 10000 on its own server
  int64_t now_ = T0;
};

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

}  // namespace
}  // namespace flowstone::domain

namespace flowstone::domain {
namespace {

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
