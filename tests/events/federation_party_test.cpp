// The Job aggregate across parties on different servers, a party's side: partner commands applied twice
// at a party, a party's own reports to the scheduler, and the scheduler's collects. The fixture is
// tests/events/federation_fixture.hpp.
#include "tests/events/federation_fixture.hpp"

namespace flowstone::domain {
namespace {

using namespace federation_fixture;
// ---- 4. partner commands at a party are idempotent by meaning ------------------------------------------

TEST_F(FederationTest, PartnerCommandsAppliedTwiceAtAPartyChangeNothingTheSecondTime) {
  Create(chain_dag());
  // Each command twice: the first decides something, the second nothing, with FATE-Flow's code.
  auto twice = [&](JobCommand command, RetCode second_code, const char* what) {
    SCOPED_TRACE(what);
    Decision first = Run(party_, command);
    EXPECT_EQ(first.code, RetCode::success) << first.message;
    Decision second = Run(party_, command);
    EXPECT_EQ(second.code, second_code) << second.message;
    EXPECT_TRUE(second.events.empty());
    EXPECT_TRUE(second.effects.empty());
    return first;
  };

  Decision d = JoinAtParty();
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  ASSERT_EQ(d.events.size(), 1u);
  const JobCreated& created = std::get<JobCreated>(d.events[0].body);
  EXPECT_FALSE(created.is_scheduler);
  EXPECT_EQ(created.scheduler_party_id, "9999");
  EXPECT_EQ(created.local_parties, std::vector<PartyRef>{kHost});
  EXPECT_EQ(party_.state.remote_parties, std::vector<PartyRef>{kGuest});
  EXPECT_EQ(party_.state.copy(kHost)->status, Status::ready);
  d = JoinAtParty();  // repeated create: 0
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  JoinJob other = std::get<JoinJob>(*partner_command(calls_to(sched_.state, sched_.effects, kHost)[0]));
  other.party = kGuest;  // a party this site does not serve
  EXPECT_EQ(Run(party_, other).code, RetCode::create_job_failed);

  twice(UpdateCopyStatus{kHost, Status::waiting, "", false, 0}, RetCode::job_update_failed,
        "job/status/update waiting");
  EXPECT_EQ(party_.state.copy(kHost)->status, Status::waiting);
  twice(UpdateCopyStatus{kHost, Status::running, "started", true, 0}, RetCode::success, "job/start");
  EXPECT_EQ(party_.state.copy(kHost)->status, Status::running);

  twice(UpdateTaskStatus{kHost, "a_0", 0, Status::running, "", 0}, RetCode::task_update_failed,
        "task/status/update running");
  EXPECT_EQ(RunAt(party_, "a_0", kHost).status, Status::running);
  d = twice(StartTask{kHost, "a_0", 0, 0}, RetCode::success, "task/start");
  EXPECT_EQ(launched(d.effects), std::vector<std::string>{exec("a_0", kHost)});
  EXPECT_TRUE(RunAt(party_, "a_0", kHost).start_requested);
  Launch(party_, exec("a_0", kHost), 55);
  d = Run(party_, StartTask{kHost, "a_0", 0, 0});  // after the launch: still nothing
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(launched(d.effects).empty());
  Report(party_, exec("a_0", kHost), Status::success);
  twice(UpdateTaskStatus{kHost, "a_0", 0, Status::success, "", 0}, RetCode::task_update_failed,
        "task/status/update success");
  // task/stop of a finished run, and a rerun to a version that exists: nothing at all.
  for (int i = 0; i < 2; ++i) {
    d = Run(party_, StopTask{kHost, "a_0", 0, Status::success, "", 0});
    EXPECT_EQ(d.code, RetCode::success);
    EXPECT_TRUE(d.events.empty());
    EXPECT_TRUE(d.effects.empty());
    d = Run(party_, RerunTask{kHost, "a_0", 0, 0});
    EXPECT_EQ(d.code, RetCode::success);
    EXPECT_TRUE(d.events.empty());
  }

  // A running run stopped twice: killed once.
  StartAtParty("b_0");
  Launch(party_, exec("b_0", kHost), 99);
  d = twice(StopTask{kHost, "b_0", 0, Status::failed, "stopped by the scheduler", 0}, RetCode::success,
            "task/stop");
  auto kills = effects_of<KillRun>(d.effects);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].launcher_pid, 99);
  EXPECT_EQ(RunAt(party_, "b_0", kHost).party_status, Status::failed);

  d = twice(RerunTask{kHost, "b_0", 1, 0}, RetCode::success, "task/rerun");
  ASSERT_EQ(events_of<TaskVersionCreated>(d.events).size(), 1u);
  EXPECT_EQ(party_.state.latest_run("b_0", kHost)->task_version, 1);
  EXPECT_EQ(party_.state.latest_run("b_0", kHost)->execution_id, exec("b_0", kHost, 1));

  twice(StopCopy{kHost, Status::failed, "stopped by the scheduler", 0}, RetCode::success, "job/stop");
  EXPECT_EQ(party_.state.copy(kHost)->status, Status::failed);

  // task/collect is answered as data, without events, the same both times.
  Decision c1 = Run(party_, CollectTask{kHost, "a_0", 0, 0});
  Decision c2 = Run(party_, CollectTask{kHost, "a_0", 0, 0});
  EXPECT_EQ(c1.code, RetCode::success);
  EXPECT_TRUE(c1.events.empty());
  EXPECT_EQ(c1.data, c2.data);
  EXPECT_EQ(c1.data["party_status"], "success");
  EXPECT_EQ(c1.data["task_id"], std::string(kJob) + "_a_0");
  EXPECT_EQ(Run(party_, CollectTask{kHost, "nope_0", 0, 0}).code, RetCode::task_not_found);

  // At the scheduler: a repeated report is answered 2002 and decides nothing.
  Joined(kHost);
  EXPECT_EQ(PartyReport(kHost, "a_0", Status::running).code, RetCode::success);
  d = PartyReport(kHost, "a_0", Status::running);
  EXPECT_EQ(d.code, RetCode::task_update_failed);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  // The same status collected is no error, and decides nothing either.
  d = PartyReport(kHost, "a_0", Status::running, "", /*collected=*/true);
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  // A report for a task or party the job does not have.
  EXPECT_EQ(PartyReport(kHost2, "a_0", Status::running).code, RetCode::task_not_found);
  EXPECT_EQ(PartyReport(kHost, "nope_0", Status::running, "", true).code, RetCode::success);
}

// ---- 5. a party reports its own statuses to the scheduler ------------------------------------------

TEST_F(FederationTest, PartyInCallbackModeReportsEachStatusChangeToTheScheduler) {
  Create(chain_dag());
  ASSERT_EQ(JoinAtParty().code, RetCode::success);
  AdmitAtParty();
  Decision d = StartAtParty("a_0");
  EXPECT_EQ(launched(d.effects), std::vector<std::string>{exec("a_0", kHost)});
  EXPECT_TRUE(reported(d.effects).empty());  // nothing of its own has changed yet

  d = Launch(party_, exec("a_0", kHost), 31);  // the launcher: running
  EXPECT_EQ(reported(d.effects), std::vector<std::string>{"running"});
  d = Report(party_, exec("a_0", kHost), Status::success);  // the worker: success
  EXPECT_EQ(reported(d.effects), std::vector<std::string>{"success"});
  d = Report(party_, exec("a_0", kHost), Status::success);  // repeated: no change, no report
  EXPECT_TRUE(d.effects.empty());

  std::vector<PartnerCall> reports = calls_to(party_.state, party_.effects, kSchedulerParty);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reported(party_.effects), (std::vector<std::string>{"running", "success"}));
  for (const auto& call : reports) {
    EXPECT_EQ(call.endpoint, "scheduler/task/report");
    EXPECT_TRUE(call.party.role.empty());
    EXPECT_EQ(call.party.party_id, "9999");
    EXPECT_FALSE(call.tracked);
    EXPECT_EQ(call.body["job_id"], kJob);
    EXPECT_EQ(call.body["role"], "host");
    EXPECT_EQ(call.body["party_id"], "10000");
    EXPECT_EQ(call.body["task_id"], std::string(kJob) + "_a_0");
    EXPECT_EQ(call.body["task_version"], 0);
  }
  // Nothing else leaves the party.
  EXPECT_EQ(partner_calls(party_.state, party_.effects).size(), 2u);

  // The scheduler takes both reports.
  Joined(kHost);
  EXPECT_EQ(PartyReport(kHost, "a_0", Status::running).code, RetCode::success);
  EXPECT_EQ(PartyReport(kHost, "a_0", Status::success).code, RetCode::success);
  EXPECT_EQ(Mirror("a_0", kHost), Status::success);

  // 8. Replay gives the same job views.
  ExpectReplayMatches(party_);
}

TEST_F(FederationTest, PartyInPollModeNeverReports) {
  Create(chain_dag("poll"));
  ASSERT_EQ(JoinAtParty().code, RetCode::success);
  EXPECT_EQ(party_.state.sync_type, "poll");
  AdmitAtParty();
  StartAtParty("a_0");
  Launch(party_, exec("a_0", kHost), 31);
  Report(party_, exec("a_0", kHost), Status::success);
  StartAtParty("b_0");
  Launch(party_, exec("b_0", kHost), 32);
  Run(party_, StopTask{kHost, "b_0", 0, Status::failed, "stopped", 0});
  EXPECT_EQ(RunAt(party_, "b_0", kHost).party_status, Status::failed);
  EXPECT_TRUE(partner_calls(party_.state, party_.effects).empty());
  for (const auto& effect : recovery_effects(party_.state))
    EXPECT_FALSE(std::holds_alternative<RemoteCall>(effect));
}

// ---- 6. collect calls ------------------------------------------------------------------------------

TEST_F(FederationTest, PollCollectsEveryUnfinishedRemotePartyOfEveryRunningTask) {
  Create(with_second_host(chain_dag("poll")));
  EXPECT_TRUE(collect_calls(sched_.state, now_, 0).empty());  // waiting: nothing runs
  Joined(kHost);
  Joined(kHost2);
  Launch(sched_, exec("a_0", kGuest));

  std::vector<PartnerCall> calls = collect_wire(sched_.state, now_, 0);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].party, kHost);
  EXPECT_EQ(calls[1].party, kHost2);
  for (const auto& call : calls) {
    EXPECT_EQ(call.endpoint, "partner/task/collect");
    EXPECT_TRUE(call.tracked);
    EXPECT_EQ(call.task_name, "a_0");
    EXPECT_EQ(call.task_version, 0);
    EXPECT_EQ(call.body["job_id"], kJob);
    EXPECT_EQ(call.body["role"], call.party.role);
    EXPECT_EQ(call.body["party_id"], call.party.party_id);
    EXPECT_EQ(call.body["task_id"], std::string(kJob) + "_a_0");
    EXPECT_EQ(call.body["task_version"], 0);
  }

  // A collected status takes effect; a finished party is not asked again; b_0 does not run yet.
  EXPECT_EQ(PartyReport(kHost, "a_0", Status::success, "", /*collected=*/true).code, RetCode::success);
  EXPECT_EQ(Mirror("a_0", kHost), Status::success);
  calls = collect_wire(sched_.state, now_, 0);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].party, kHost2);

  PartyReport(kHost2, "a_0", Status::success, "", true);
  Report(sched_, exec("a_0", kGuest), Status::success);
  EXPECT_EQ(sched_.state.schedule.at("b_0").status, Status::running);
  calls = collect_wire(sched_.state, now_, 0);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].task_name, "b_0");
  EXPECT_EQ(calls[1].task_name, "b_0");
}

TEST_F(FederationTest, CallbackReconcileCollectsOnlyPartiesSilentForStaleMs) {
  Create(with_second_host(chain_dag()));
  Joined(kHost);
  Joined(kHost2);  // a_0 starts now
  const int64_t started = now_;
  ASSERT_EQ(sched_.state.schedule.at("a_0").start_time, started);
  PartyReport(kHost, "a_0", Status::running);
  const int64_t host_seen = now_;
  ASSERT_GT(host_seen, started);
  const int64_t stale = 1000;

  EXPECT_TRUE(collect_calls(sched_.state, started + 500, stale).empty());
  // host 10001 has said nothing since the start; host 10000 spoke 10 ms later.
  std::vector<PartnerCall> calls = collect_wire(sched_.state, started + stale, stale);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].party, kHost2);
  calls = collect_wire(sched_.state, host_seen + stale, stale);
  ASSERT_EQ(calls.size(), 2u);
  // Without staleness every unfinished party is listed at once.
  EXPECT_EQ(collect_calls(sched_.state, started, 0).size(), 2u);
}

TEST_F(FederationTest, ACollectedFailureOfAPartyNeverSeenRunningIsKept) {
  Create(with_second_host(chain_dag()));
  Joined(kHost);
  Joined(kHost2);
  Launch(sched_, exec("a_0", kGuest), 88);
  ASSERT_EQ(Mirror("a_0", kHost2), Status::waiting);

  Decision d = PartyReport(kHost2, "a_0", Status::failed, "worker crashed at import", /*collected=*/true);
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  std::vector<std::pair<Status, std::string>> seen;
  for (const auto& e : events_of<TaskPartyStatusChanged>(d.events))
    if (e.party == kHost2) seen.emplace_back(e.status, e.error);
  EXPECT_EQ(seen, (std::vector<std::pair<Status, std::string>>{
                      {Status::running, ""}, {Status::failed, "worker crashed at import"}}));
  EXPECT_EQ(Mirror("a_0", kHost2), Status::failed);
  EXPECT_EQ(sched_.state.schedule.at("a_0").status, Status::failed);
  EXPECT_EQ(sched_.state.schedule_status, Status::failed);
  EXPECT_NE(sched_.state.schedule_reason.find("worker crashed at import"), std::string::npos);
  EXPECT_EQ(effects_of<KillRun>(d.effects).size(), 1u);
  EXPECT_TRUE(collect_calls(sched_.state, now_, 0).empty());  // the job ended
}

// A partner/task/start answered with an error fails that party's run in the mirror.
TEST_F(FederationTest, AFailedTaskStartFailsThatPartysRun) {
  Create(chain_dag());
  Joined(kHost);
  Decision d = Answer(kHost, "partner/task/start", 2001, "launch failed", "a_0", 0);
  ASSERT_EQ(d.code, RetCode::success);
  EXPECT_EQ(Mirror("a_0", kHost), Status::failed);
  EXPECT_NE(sched_.state.schedule.at("a_0").party_error.at(kHost).find("launch failed"), std::string::npos);
  EXPECT_EQ(sched_.state.schedule.at("a_0").status, Status::failed);
  EXPECT_EQ(sched_.state.schedule_status, Status::failed);
  // The guest's run, started but not yet launched, is stopped too.
  EXPECT_EQ(RunAt(sched_, "a_0", kGuest).party_status, Status::failed);
  EXPECT_EQ(effects_of<KillRun>(d.effects).size(), 1u);
  // An answer for an older version changes nothing.
  d = Answer(kHost, "partner/task/start", 2001, "stale", "a_0", 7);
  EXPECT_TRUE(d.events.empty());
}

}  // namespace
}  // namespace flowstone::domain
