// The Job aggregate across parties on different servers, after a restart and end to end: what a restarting
// scheduler or party repeats, the record of which parties have the job's end (so a restart repeats only
// what is owed), and two sites delivering every call to each other. Fixture: federation_fixture.hpp.
#include "tests/events/federation_fixture.hpp"

namespace flowstone::domain {
namespace {

using namespace federation_fixture;

class FederationRecoveryTest : public FederationTest {};

// ---- 7. recovery -----------------------------------------------------------------------------------

TEST_F(FederationRecoveryTest, SchedulerRecoveryRepeatsWhatIsNotYetAnswered) {
  Create(chain_dag());
  std::vector<Effect> effects = recovery_effects(sched_.state);
  std::vector<PartnerCall> calls = partner_calls(sched_.state, effects);
  ASSERT_EQ(effects.size(), 1u);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].party, kHost);
  EXPECT_EQ(calls[0].endpoint, "partner/job/create");
  EXPECT_TRUE(calls[0].tracked);
  EXPECT_EQ(calls[0].body["job_id"], kJob);
  EXPECT_EQ(calls[0].body["role"], "host");
  EXPECT_EQ(calls[0].body["party_id"], "10000");
  EXPECT_EQ(calls[0].body["dag"], calls_to(sched_.state, sched_.effects, kHost)[0].body["dag"]);
  EXPECT_EQ(calls[0].body["kind"], "fate");

  // Joined: the create is not repeated; a_0's start (unseen at the host) and the guest's launch are, and
  // the federated status pushed before the crash is pushed again.
  Joined(kHost);
  effects = recovery_effects(sched_.state);
  EXPECT_EQ(launched(effects), std::vector<std::string>{exec("a_0", kGuest)});
  calls = partner_calls(sched_.state, effects);
  ASSERT_EQ(endpoints(calls), (std::vector<std::string>{"partner/task/status/update", "partner/task/start"}));
  EXPECT_EQ(calls[0].body["status"], "running");
  EXPECT_FALSE(calls[0].tracked);
  EXPECT_TRUE(calls[1].tracked);
  EXPECT_EQ(calls[1].task_name, "a_0");
  EXPECT_EQ(calls[1].task_version, 0);
  for (const auto& call : calls) {
    EXPECT_EQ(call.party, kHost);
    EXPECT_EQ(call.body["task_id"], std::string(kJob) + "_a_0");
    EXPECT_EQ(call.body["task_version"], 0);
  }

  // Both running: the guest's launcher is checked; the start is not repeated, the status is.
  Launch(sched_, exec("a_0", kGuest), 1234);
  PartyReport(kHost, "a_0", Status::running);
  effects = recovery_effects(sched_.state);
  EXPECT_TRUE(launched(effects).empty());
  auto checks = effects_of<CheckRun>(effects);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].execution_id, exec("a_0", kGuest));
  EXPECT_EQ(checks[0].launcher_pid, 1234);
  EXPECT_EQ(endpoints(partner_calls(sched_.state, effects)),
            std::vector<std::string>{"partner/task/status/update"});

  // Ended: the end is told again (the status and the stop of the copy).
  PartyReport(kHost, "a_0", Status::failed, "boom");
  effects = recovery_effects(sched_.state);
  calls = partner_calls(sched_.state, effects);
  EXPECT_TRUE(effects_of<CheckRun>(effects).empty());
  EXPECT_TRUE(launched(effects).empty());
  ASSERT_EQ(endpoints(calls), (std::vector<std::string>{"partner/task/status/update",
                                                        "partner/job/status/update", "partner/job/stop"}));
  EXPECT_EQ(calls[0].body["status"], "failed");
  EXPECT_EQ(calls[1].body["status"], "failed");
  EXPECT_EQ(calls[2].body["stop_status"], "failed");
}

TEST_F(FederationRecoveryTest, PartyRecoveryLaunchesStartedRunsAndReReportsInCallbackMode) {
  Create(chain_dag());
  JoinAtParty();
  AdmitAtParty();
  EXPECT_TRUE(recovery_effects(party_.state).empty());

  // Started by the scheduler, no launcher recorded: launched again, nothing to report yet.
  StartAtParty("a_0");
  std::vector<Effect> effects = recovery_effects(party_.state);
  EXPECT_EQ(launched(effects), std::vector<std::string>{exec("a_0", kHost)});
  EXPECT_TRUE(partner_calls(party_.state, effects).empty());
  ASSERT_EQ(effects.size(), 1u);

  // Running: its launcher is checked and the running status is reported again.
  Launch(party_, exec("a_0", kHost), 4321);
  effects = recovery_effects(party_.state);
  auto checks = effects_of<CheckRun>(effects);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].launcher_pid, 4321);
  std::vector<PartnerCall> calls = partner_calls(party_.state, effects);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].party, kSchedulerParty);
  EXPECT_EQ(calls[0].endpoint, "scheduler/task/report");
  EXPECT_EQ(calls[0].body["status"], "running");
  EXPECT_EQ(calls[0].body["role"], "host");
  EXPECT_EQ(calls[0].body["task_id"], std::string(kJob) + "_a_0");

  // Finished: only the final status is reported again, with the error the scheduler shows.
  Report(party_, exec("a_0", kHost), Status::failed, "ValueError: bad input");
  effects = recovery_effects(party_.state);
  EXPECT_TRUE(effects_of<CheckRun>(effects).empty());
  EXPECT_TRUE(launched(effects).empty());
  calls = partner_calls(party_.state, effects);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].body["status"], "failed");
  EXPECT_EQ(calls[0].body["error"], "ValueError: bad input");
}

// ---- the record of who has the end ---------------------------------------------------------------------

TEST_F(FederationRecoveryTest, OnlyAStopThePartyAnsweredIsRecordedAsDeliveredAndNotRepeated) {
  Create(chain_dag());
  Joined(kHost);
  Decision stop = Run(sched_, StopJob{Status::canceled, "stopped by user", 0});
  ASSERT_EQ(stop.code, RetCode::success) << stop.message;
  ASSERT_TRUE(is_end(sched_.state.schedule_status));
  std::vector<PartnerCall> calls = calls_to(sched_.state, stop.effects, kHost);
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back().endpoint, "partner/job/stop");
  EXPECT_TRUE(calls.back().tracked) << "the stop's answer must come back to the job";

  // Not answered yet: the row says so (the registry recovers such jobs at a restart), and a restart
  // repeats the status and the stop.
  EXPECT_TRUE(sched_.state.end_undelivered());
  EXPECT_EQ(JobRow(sched_, kGuest).value("end_undelivered", false), true);
  EXPECT_EQ(endpoints(calls_to(sched_.state, recovery_effects(sched_.state), kHost)),
            (std::vector<std::string>{"partner/task/status/update", "partner/job/status/update",
                                      "partner/job/stop"}));

  // The party could not be reached (104): still owed.
  auto unreachable = answer_to(calls.back(), 104, "federated error");
  ASSERT_TRUE(unreachable.has_value());
  EXPECT_TRUE(Run(sched_, *unreachable).events.empty());
  EXPECT_TRUE(sched_.state.end_undelivered());

  // Any answer of the party's own (here: it already ended its copy) means it has the end: recorded once.
  auto answered = answer_to(calls.back(), 1003, "no effect");
  ASSERT_TRUE(answered.has_value());
  Decision delivered = Run(sched_, *answered);
  ASSERT_EQ(events_of<EndDelivered>(delivered.events).size(), 1u);
  EXPECT_EQ(events_of<EndDelivered>(delivered.events)[0].party, kHost);
  EXPECT_TRUE(Run(sched_, *answered).events.empty()) << "a repeated answer records nothing more";
  EXPECT_FALSE(sched_.state.end_undelivered());
  EXPECT_FALSE(JobRow(sched_, kGuest).contains("end_undelivered"));
  EXPECT_TRUE(calls_to(sched_.state, recovery_effects(sched_.state), kHost).empty());
}

TEST_F(FederationRecoveryTest, WithTwoPartiesTheEndIsOwedUntilBothAnswered) {
  Create(with_second_host(chain_dag()));
  Joined(kHost);
  Joined(kHost2);
  Decision stop = Run(sched_, StopJob{Status::canceled, "stopped by user", 0});
  ASSERT_EQ(stop.code, RetCode::success) << stop.message;
  Run(sched_, EndCallAnswered{kHost, RetCode::success, 0});
  EXPECT_TRUE(sched_.state.end_undelivered());
  // Only the party that has not answered is told again at a restart.
  EXPECT_TRUE(calls_to(sched_.state, recovery_effects(sched_.state), kHost).empty());
  EXPECT_EQ(endpoints(calls_to(sched_.state, recovery_effects(sched_.state), kHost2)),
            (std::vector<std::string>{"partner/task/status/update", "partner/job/status/update",
                                      "partner/job/stop"}));
  Run(sched_, EndCallAnswered{kHost2, RetCode::success, 0});
  EXPECT_FALSE(sched_.state.end_undelivered());
}

TEST_F(FederationRecoveryTest, APartyThatNeverAnsweredTheCreateIsToldOfTheEndToo) {
  // The chaos run: the create reached the host but its answer was lost, and the job was stopped. The host's
  // copy, which the scheduler never heard of, must still learn of the end.
  Create(chain_dag());
  Decision stop = Run(sched_, StopJob{Status::canceled, "stopped by user", 0});
  ASSERT_EQ(stop.code, RetCode::success) << stop.message;
  EXPECT_EQ(endpoints(calls_to(sched_.state, stop.effects, kHost)),
            std::vector<std::string>{"partner/job/stop"});
  EXPECT_TRUE(sched_.state.end_undelivered());
  // At the host the stop ends the copy it made.
  JoinAtParty();
  ASSERT_EQ(Run(party_, StopCopy{kHost, Status::canceled, "stopped by user", 0}).code, RetCode::success);
  EXPECT_EQ(party_.state.copy(kHost)->status, Status::canceled);
  Run(sched_, EndCallAnswered{kHost, RetCode::success, 0});
  EXPECT_FALSE(sched_.state.end_undelivered());
}

TEST_F(FederationRecoveryTest, AnAnswerBeforeTheEndRecordsNothing) {
  Create(chain_dag());
  Joined(kHost);
  EXPECT_TRUE(Run(sched_, EndCallAnswered{kHost, RetCode::success, 0}).events.empty());
  EXPECT_TRUE(sched_.state.end_delivered.empty());
}

TEST_F(FederationRecoveryTest, TwoSitesEndWithTheEndDeliveredAndNothingToRepeat) {
  ASSERT_EQ(Create(chain_dag()).code, RetCode::success);
  Exchange([](const std::string&) { return Status::success; });
  ASSERT_EQ(sched_.state.schedule_status, Status::success);
  EXPECT_EQ(sched_.state.end_delivered, std::set<PartyRef>{kHost});
  EXPECT_FALSE(JobRow(sched_, kGuest).contains("end_undelivered"));
  EXPECT_TRUE(partner_calls(sched_.state, recovery_effects(sched_.state)).empty());
}

// ---- two servers talking: every call of one is delivered to the other (Exchange) -----------------------

TEST_F(FederationRecoveryTest, TwoSitesRunTheJobToSuccessInCallbackMode) {
  ASSERT_EQ(Create(chain_dag()).code, RetCode::success);
  Exchange([](const std::string&) { return Status::success; });
  EXPECT_EQ(sched_.state.schedule_status, Status::success);
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::success);
  EXPECT_EQ(party_.state.copy(kHost)->status, Status::success);
  for (const char* task : {"a_0", "b_0"}) {
    EXPECT_EQ(RunAt(party_, task, kHost).status, Status::success) << task;
    EXPECT_EQ(RunAt(party_, task, kHost).party_status, Status::success) << task;
    EXPECT_EQ(Mirror(task, kHost), Status::success) << task;
  }
  EXPECT_EQ(JobRow(party_, kHost)["progress"], 100);
  EXPECT_EQ(reported(party_.effects), (std::vector<std::string>{"running", "success", "running", "success"}));
  EXPECT_EQ(delivered_["partner/task/collect"], 0);
}

TEST_F(FederationRecoveryTest, TwoSitesRunTheJobToSuccessInPollMode) {
  ASSERT_EQ(Create(chain_dag("poll")).code, RetCode::success);
  Exchange([](const std::string&) { return Status::success; });
  EXPECT_EQ(sched_.state.schedule_status, Status::success);
  EXPECT_EQ(party_.state.copy(kHost)->status, Status::success);
  EXPECT_EQ(RunAt(party_, "b_0", kHost).status, Status::success);
  EXPECT_TRUE(reported(party_.effects).empty());
  EXPECT_GE(delivered_["partner/task/collect"], 2);
}

TEST_F(FederationRecoveryTest, TwoSitesAFailureAtTheHostFailsBothCopies) {
  ASSERT_EQ(Create(chain_dag()).code, RetCode::success);
  const std::string failing = exec("b_0", kHost);
  Exchange([&](const std::string& id) { return id == failing ? Status::failed : Status::success; });
  EXPECT_EQ(sched_.state.schedule.at("b_0").status, Status::failed);
  EXPECT_EQ(sched_.state.schedule_status, Status::failed);
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::failed);
  EXPECT_EQ(party_.state.copy(kHost)->status, Status::failed);
  EXPECT_EQ(RunAt(party_, "b_0", kHost).party_status, Status::failed);
  EXPECT_EQ(RunAt(party_, "b_0", kHost).status, Status::failed);
  EXPECT_EQ(RunAt(party_, "a_0", kHost).status, Status::success);
}

TEST_F(FederationRecoveryTest, TwoSitesRerunAfterAHostFailureSucceedsEverywhere) {
  ASSERT_EQ(Create(chain_dag()).code, RetCode::success);
  const std::string failing = exec("b_0", kHost);
  Exchange([&](const std::string& id) { return id == failing ? Status::failed : Status::success; });
  ASSERT_EQ(sched_.state.schedule_status, Status::failed);
  ASSERT_EQ(party_.state.copy(kHost)->status, Status::failed);

  size_t before = sched_.effects.size();
  Decision d = Run(sched_, RerunJob{});
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  std::vector<PartnerCall> calls = calls_to(sched_.state, d.effects, kHost);
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls[0].endpoint, "partner/task/rerun");
  EXPECT_EQ(calls[0].body["new_version"], 1);
  EXPECT_EQ(calls[0].body["task_id"], std::string(kJob) + "_b_0");
  ASSERT_EQ(sched_.effects.size() - before, d.effects.size());

  Exchange([](const std::string&) { return Status::success; });
  EXPECT_EQ(sched_.state.schedule_status, Status::success);
  EXPECT_EQ(sched_.state.schedule.at("b_0").task_version, 1);
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::success);
  EXPECT_EQ(party_.state.copy(kHost)->status, Status::success);
  EXPECT_EQ(RunAt(party_, "b_0", kHost, 1).party_status, Status::success);
  EXPECT_EQ(RunAt(party_, "b_0", kHost, 1).status, Status::success);
  EXPECT_EQ(RunAt(party_, "b_0", kHost, 0).party_status, Status::failed);  // the old version stays
  EXPECT_EQ(RunAt(party_, "a_0", kHost).task_version, 0);                  // a_0 is not rerun
}

}  // namespace
}  // namespace flowstone::domain
