// The Job aggregate across parties on different servers, the scheduler's side: interop.md's job,
// admission and the create, and the folds through reports (fixture: federation_fixture.hpp; a party's side
// is in federation_party_test.cpp, recovery and two sites talking in federation_recovery_test.cpp).
#include "tests/events/federation_fixture.hpp"

namespace flowstone::domain {
namespace {

using namespace federation_fixture;
// ---- 1. the scheduler's side of interop.md's job ------------------------------------------------------

TEST_F(FederationTest, SchedulerDrivesTheRemotePartyInInteropOrder) {
  Decision d = Create(chain_dag());
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(sched_.state.remote_parties, std::vector<PartyRef>{kHost});
  EXPECT_EQ(sched_.state.schedule_status, Status::waiting);
  EXPECT_TRUE(launched(d.effects).empty());

  d = Joined(kHost);  // the host created its copy
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  ASSERT_FALSE(d.events.empty());
  EXPECT_TRUE(std::holds_alternative<PartyJoined>(d.events.front().body));
  EXPECT_EQ(sched_.state.schedule_status, Status::running);
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::running);
  EXPECT_EQ(launched(d.effects), std::vector<std::string>{exec("a_0", kGuest)});
  EXPECT_EQ(sched_.state.schedule.at("a_0").status, Status::running);
  EXPECT_EQ(Mirror("a_0", kHost), Status::waiting);

  d = Answer(kHost, "partner/task/start", 0, "success", "a_0", 0);
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());

  Launch(sched_, exec("a_0", kGuest), 101);
  EXPECT_EQ(Mirror("a_0", kGuest), Status::running);
  d = PartyReport(kHost, "a_0", Status::running);
  EXPECT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(Mirror("a_0", kHost), Status::running);
  d = PartyReport(kHost, "a_0", Status::success);
  EXPECT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(Mirror("a_0", kHost), Status::success);
  EXPECT_EQ(sched_.state.schedule.at("a_0").status, Status::running);  // the guest is still running
  EXPECT_TRUE(launched(d.effects).empty());

  d = Report(sched_, exec("a_0", kGuest), Status::success);
  EXPECT_EQ(sched_.state.schedule.at("a_0").status, Status::success);
  EXPECT_EQ(RunAt(sched_, "a_0", kGuest).status, Status::success);
  EXPECT_EQ(launched(d.effects), std::vector<std::string>{exec("b_0", kGuest)});
  EXPECT_EQ(sched_.state.schedule.at("b_0").status, Status::running);

  // After partner/task/stop the host reports success again: 2002, harmless (interop.md).
  d = PartyReport(kHost, "a_0", Status::success);
  EXPECT_EQ(d.code, RetCode::task_update_failed);
  EXPECT_NE(d.message.find("does not take effect"), std::string::npos) << d.message;

  Answer(kHost, "partner/task/start", 0, "success", "b_0", 0);
  Launch(sched_, exec("b_0", kGuest), 102);
  EXPECT_EQ(PartyReport(kHost, "b_0", Status::running).code, RetCode::success);
  Report(sched_, exec("b_0", kGuest), Status::success);
  EXPECT_EQ(sched_.state.schedule.at("b_0").status, Status::running);
  EXPECT_EQ(sched_.state.schedule_status, Status::running);
  d = PartyReport(kHost, "b_0", Status::success);
  EXPECT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(sched_.state.schedule.at("b_0").status, Status::success);
  EXPECT_EQ(sched_.state.schedule_status, Status::success);
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::success);
  Json row = JobRow(sched_, kGuest);
  EXPECT_EQ(row["status"], "success");
  EXPECT_EQ(row["progress"], 100);
  EXPECT_EQ(row["tag"], "job_end");

  // Every partner call went to the host (the guest is served here, so it is never called), in the order
  // the real FATE-Flow guest called host 10000 (interop-bodies-callback.jsonl, dest 10000).
  for (const auto& call : partner_calls(sched_.state, sched_.effects))
    EXPECT_EQ(call.party, kHost) << call.endpoint;
  std::vector<PartnerCall> calls = calls_to(sched_.state, sched_.effects, kHost);
  const std::vector<std::string> want = {
      "partner/job/create",          "partner/job/status/update",   "partner/job/resource/apply",
      "partner/job/start",           "partner/task/resource/apply", "partner/task/status/update",
      "partner/task/start",          "partner/task/status/update",  "partner/task/stop",
      "partner/task/resource/apply", "partner/task/status/update",  "partner/task/start",
      "partner/job/update",          "partner/task/status/update",  "partner/task/stop",
      "partner/job/update",          "partner/job/status/update",   "partner/job/stop"};
  ASSERT_EQ(endpoints(calls), want);

  // Bodies: the destination's role and party_id; task calls add task_id and an integer task_version.
  std::vector<std::string> task_ids;
  for (const auto& call : calls) {
    SCOPED_TRACE(call.endpoint);
    EXPECT_EQ(call.body["job_id"], kJob);
    EXPECT_EQ(call.body["role"], "host");
    EXPECT_EQ(call.body["party_id"], "10000");
    if (call.endpoint.rfind("partner/task/", 0) == 0) {
      ASSERT_TRUE(call.body.contains("task_id"));
      ASSERT_TRUE(call.body["task_version"].is_number_integer());
      EXPECT_EQ(call.body["task_version"], 0);
      task_ids.push_back(call.body["task_id"].get<std::string>());
    } else {
      EXPECT_FALSE(call.body.contains("task_id"));
    }
    // Only the calls whose answers matter are tracked (the stop's: the party has the job's end).
    bool tracked = call.endpoint == "partner/job/create" || call.endpoint == "partner/task/start" ||
                   call.endpoint == "partner/job/resource/apply" ||
                   call.endpoint == "partner/task/resource/apply" || call.endpoint == "partner/job/stop";
    EXPECT_EQ(call.tracked, tracked);
  }
  const std::string a = std::string(kJob) + "_a_0", b = std::string(kJob) + "_b_0";
  EXPECT_EQ(task_ids, (std::vector<std::string>{a, a, a, a, a, b, b, b, b, b}));

  const Json& create = calls[0].body;
  EXPECT_EQ(create["kind"], "fate");
  EXPECT_EQ(create["schema_version"], "2.1.0");
  EXPECT_EQ(create["dag"]["conf"]["scheduler_party_id"], "9999");
  EXPECT_EQ(create["dag"]["conf"]["initiator_party_id"], "9999");
  EXPECT_EQ(create["dag"]["conf"]["sync_type"], "callback");
  EXPECT_EQ(create["dag"]["tasks"].size(), 2u);
  EXPECT_EQ(calls[1].body["status"], "waiting");
  EXPECT_EQ(calls[5].body["status"], "running");
  EXPECT_EQ(calls[6].task_name, "a_0");
  EXPECT_EQ(calls[7].body["status"], "success");
  EXPECT_EQ(calls[8].body["status"], "success");  // task/stop of a successful task only cleans up
  EXPECT_EQ(calls[10].body["status"], "running");
  EXPECT_EQ(calls[11].task_name, "b_0");
  ASSERT_TRUE(calls[12].body["progress"].is_number());
  EXPECT_DOUBLE_EQ(calls[12].body["progress"].get<double>(), 50.0);
  EXPECT_EQ(calls[13].body["status"], "success");
  EXPECT_EQ(calls[14].body["status"], "success");
  EXPECT_DOUBLE_EQ(calls[15].body["progress"].get<double>(), 100.0);
  EXPECT_EQ(calls[16].body["status"], "success");
  EXPECT_EQ(calls[17].body["stop_status"], "success");

  // 8. Replay gives the same job views.
  ExpectReplayMatches(sched_);
}

// ---- 2. admission and the create --------------------------------------------------------------------

TEST_F(FederationTest, NoAdmissionBeforeEveryRemotePartyJoined) {
  Decision d = Create(with_second_host(chain_dag()));
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(sched_.state.remote_parties, (std::vector<PartyRef>{kHost, kHost2}));
  for (const PartyRef& host : {kHost, kHost2}) {
    std::vector<PartnerCall> calls = calls_to(sched_.state, d.effects, host);
    EXPECT_EQ(endpoints(calls),
              (std::vector<std::string>{"partner/job/create", "partner/job/status/update"}));
    ASSERT_FALSE(calls.empty());
    EXPECT_TRUE(calls[0].tracked);
    EXPECT_EQ(calls[0].body["party_id"], host.party_id);
  }

  d = Joined(kHost);
  ASSERT_EQ(d.code, RetCode::success);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<PartyJoined>(d.events[0].body));
  EXPECT_TRUE(d.effects.empty());  // no resource/apply, no start, no launch
  EXPECT_EQ(sched_.state.schedule_status, Status::waiting);
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::waiting);
  EXPECT_EQ(sched_.state.schedule.at("a_0").status, Status::waiting);

  // Neither a scheduling step nor a repeated answer admits it.
  d = Run(sched_, Advance{});
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  d = Joined(kHost);
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
  // A started task's answer for a job not yet running changes nothing either.
  d = Answer(kHost, "partner/task/start", 0, "success", "a_0", 0);
  EXPECT_TRUE(d.events.empty());
  EXPECT_EQ(sched_.state.schedule_status, Status::waiting);

  d = Joined(kHost2);  // the last party: admitted, and a_0 starts everywhere
  EXPECT_EQ(sched_.state.schedule_status, Status::running);
  EXPECT_EQ(launched(d.effects), std::vector<std::string>{exec("a_0", kGuest)});
  for (const PartyRef& host : {kHost, kHost2})
    EXPECT_EQ(endpoints(calls_to(sched_.state, d.effects, host)),
              (std::vector<std::string>{"partner/job/resource/apply", "partner/job/start",
                                        "partner/task/resource/apply", "partner/task/status/update",
                                        "partner/task/start"}));
}

TEST_F(FederationTest, AFailedCreateFailsTheJobAndNamesTheParty) {
  Create(with_second_host(chain_dag()));
  Joined(kHost2);
  Decision d = Answer(kHost, "partner/job/create", 104, "Federated schedule error, connection refused");
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(sched_.state.schedule_status, Status::failed);
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::failed);
  EXPECT_NE(sched_.state.schedule_reason.find("host:10000"), std::string::npos)
      << sched_.state.schedule_reason;
  const std::string& reason = sched_.state.copy(kGuest)->status_reason;
  EXPECT_NE(reason.find("host:10000"), std::string::npos) << reason;
  EXPECT_NE(reason.find("connection refused"), std::string::npos) << reason;
  EXPECT_EQ(JobRow(sched_, kGuest)["status_reason"], reason);
  EXPECT_EQ(JobRow(sched_, kGuest)["status"], "failed");
  EXPECT_TRUE(launched(d.effects).empty());
  EXPECT_EQ(sched_.state.schedule.at("a_0").status, Status::waiting);  // never started

  // The party that has its copy learns the job failed and stops it. The unreachable one gets the stop only:
  // a create whose answer was lost may have made a copy there all the same.
  std::vector<PartnerCall> calls = calls_to(sched_.state, d.effects, kHost2);
  ASSERT_EQ(endpoints(calls), (std::vector<std::string>{"partner/job/status/update", "partner/job/stop"}));
  EXPECT_EQ(calls[0].body["status"], "failed");
  EXPECT_EQ(calls[1].body["stop_status"], "failed");
  EXPECT_EQ(endpoints(calls_to(sched_.state, d.effects, kHost)),
            std::vector<std::string>{"partner/job/stop"});

  // A repeated failure changes nothing.
  d = Answer(kHost, "partner/job/create", 104, "again");
  EXPECT_EQ(d.code, RetCode::success);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());

  // The create reaches the host later after all (a retried call): the host is caught up with the end.
  d = Joined(kHost);
  EXPECT_EQ(sched_.state.joined.count(kHost), 1u);
  EXPECT_EQ(sched_.state.schedule_status, Status::failed);
  calls = calls_to(sched_.state, d.effects, kHost);
  ASSERT_EQ(endpoints(calls), (std::vector<std::string>{"partner/job/status/update", "partner/job/stop"}));
  EXPECT_EQ(calls[0].body["status"], "failed");
}

// ---- 3. the folds through reports ---------------------------------------------------------------------

TEST_F(FederationTest, HostFailureFailsTheTaskStopsTheGuestRunAndFailsTheJob) {
  Create(chain_dag());
  Joined(kHost);
  Launch(sched_, exec("a_0", kGuest), 77);
  PartyReport(kHost, "a_0", Status::running);

  Decision d = PartyReport(kHost, "a_0", Status::failed, "ValueError: host boom");
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(Mirror("a_0", kHost), Status::failed);
  EXPECT_EQ(sched_.state.schedule.at("a_0").party_error.at(kHost), "ValueError: host boom");
  EXPECT_EQ(sched_.state.schedule.at("a_0").status, Status::failed);

  // The guest's own run of a_0 is stopped: its worker is killed and it fails with the host's reason.
  auto kills = effects_of<KillRun>(d.effects);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].execution_id, exec("a_0", kGuest));
  EXPECT_EQ(kills[0].launcher_pid, 77);
  const TaskRun& guest = RunAt(sched_, "a_0", kGuest);
  EXPECT_EQ(guest.party_status, Status::failed);
  EXPECT_EQ(guest.status, Status::failed);
  EXPECT_NE(guest.error.find("host boom"), std::string::npos) << guest.error;
  EXPECT_TRUE(launched(d.effects).empty());  // b_0 never starts
  EXPECT_EQ(sched_.state.schedule.at("b_0").status, Status::waiting);

  EXPECT_EQ(sched_.state.schedule_status, Status::failed);
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::failed);
  EXPECT_NE(sched_.state.schedule_reason.find("host boom"), std::string::npos)
      << sched_.state.schedule_reason;
  EXPECT_NE(sched_.state.schedule_reason.find("host:10000"), std::string::npos);
  EXPECT_NE(sched_.state.copy(kGuest)->status_reason.find("host boom"), std::string::npos);

  std::vector<PartnerCall> calls = calls_to(sched_.state, d.effects, kHost);
  ASSERT_EQ(endpoints(calls),
            (std::vector<std::string>{"partner/task/status/update", "partner/task/stop", "partner/job/update",
                                      "partner/job/status/update", "partner/job/stop"}));
  EXPECT_EQ(calls[0].body["status"], "failed");
  EXPECT_EQ(calls[1].body["status"], "failed");
  EXPECT_EQ(calls[3].body["status"], "failed");
  EXPECT_EQ(calls[4].body["stop_status"], "failed");

  // The guest's late report of its killed worker changes nothing.
  d = Report(sched_, exec("a_0", kGuest), Status::success);
  EXPECT_TRUE(d.events.empty());
}

// Three tasks side by side at guest 9999, host 10000 and host 10001.
TEST_F(FederationTest, CanceledBeatsFailedInTheTaskFoldFailedBeatsCanceledInTheJobFold) {
  Create(with_second_host(parallel_dag()));
  Joined(kHost);
  Decision d = Joined(kHost2);
  ASSERT_EQ(launched(d.effects).size(), 3u);
  for (const char* task : {"x_0", "y_0", "z_0"}) {
    Launch(sched_, exec(task, kGuest));
    PartyReport(kHost, task, Status::running);
    PartyReport(kHost2, task, Status::running);
  }

  // x_0: canceled at host 10000, then failed at host 10001 -> canceled (3.4: canceled wins).
  d = PartyReport(kHost, "x_0", Status::canceled, "stopped by its owner");
  EXPECT_EQ(sched_.state.schedule.at("x_0").status, Status::canceled);
  EXPECT_EQ(RunAt(sched_, "x_0", kGuest).party_status, Status::canceled);
  EXPECT_EQ(effects_of<KillRun>(d.effects).size(), 1u);
  EXPECT_EQ(sched_.state.schedule_status, Status::running);  // y_0 and z_0 still run
  d = PartyReport(kHost2, "x_0", Status::failed, "x failed late");
  EXPECT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(Mirror("x_0", kHost2), Status::failed);
  EXPECT_EQ(sched_.state.schedule.at("x_0").status, Status::canceled);
  std::vector<Status> x_mirror;
  for (const auto& [party, status] : sched_.state.schedule.at("x_0").party_status) x_mirror.push_back(status);
  EXPECT_EQ(fold_task_status(x_mirror), Status::canceled);

  // y_0: timeout at host 10000, then failed at host 10001 -> still timeout (3.4 ascending: timeout beats
  // failed, and timeout -> failed is a legal transition, so a wrong fold would show here).
  PartyReport(kHost, "y_0", Status::timeout, "ran too long");
  EXPECT_EQ(sched_.state.schedule.at("y_0").status, Status::timeout);
  EXPECT_EQ(RunAt(sched_, "y_0", kGuest).party_status, Status::timeout);
  PartyReport(kHost2, "y_0", Status::failed, "y failed late");
  EXPECT_EQ(sched_.state.schedule.at("y_0").status, Status::timeout);
  EXPECT_EQ(sched_.state.schedule_status, Status::running);  // z_0 still runs

  // z_0 fails: the job is failed, not canceled nor timeout (3.5 descending: failed wins).
  d = PartyReport(kHost, "z_0", Status::failed, "ValueError: z boom");
  EXPECT_EQ(sched_.state.schedule.at("z_0").status, Status::failed);
  EXPECT_EQ(sched_.state.schedule_status, Status::failed);
  EXPECT_EQ(sched_.state.copy(kGuest)->status, Status::failed);
  for (const PartyRef& host : {kHost, kHost2}) {
    std::vector<PartnerCall> end = calls_to(sched_.state, d.effects, host);
    ASSERT_GE(end.size(), 2u);
    EXPECT_EQ(end[end.size() - 2].endpoint, "partner/job/status/update");
    EXPECT_EQ(end[end.size() - 2].body["status"], "failed");
    EXPECT_EQ(end.back().endpoint, "partner/job/stop");
  }
}

// PRODUCT BUG (events/job.cpp advance(), interrupt_cause): the job's reason is the first interrupted task's
// (topological order), whatever status the job fold chose. Expected: a job that the fold (3.5) makes
// `failed` gives as its status_reason the failure (y_0 failed at host 10000), not x_0's earlier cancel.
TEST_F(FederationTest, AFailedJobsReasonExplainsTheFailureNotAnEarlierCancel) {
  Create(parallel_dag());
  Joined(kHost);
  for (const char* task : {"x_0", "y_0", "z_0"}) {
    Launch(sched_, exec(task, kGuest));
    PartyReport(kHost, task, Status::running);
  }
  Report(sched_, exec("z_0", kGuest), Status::success);
  PartyReport(kHost, "z_0", Status::success);
  ASSERT_EQ(sched_.state.schedule.at("z_0").status, Status::success);
  PartyReport(kHost, "x_0", Status::canceled, "stopped by its owner");
  ASSERT_EQ(sched_.state.schedule_status, Status::running);
  PartyReport(kHost, "y_0", Status::failed, "ValueError: y boom");
  ASSERT_EQ(sched_.state.schedule_status, Status::failed);
  EXPECT_NE(sched_.state.schedule_reason.find("y boom"), std::string::npos) << sched_.state.schedule_reason;
  EXPECT_NE(sched_.state.copy(kGuest)->status_reason.find("y boom"), std::string::npos)
      << sched_.state.copy(kGuest)->status_reason;
}

// PRODUCT BUG (events/job.cpp interrupt_reason()): once the scheduler has stopped its own run of a task a
// remote party failed, a later step recomputes the task's reason from the mirror in PartyRef order and names
// guest:9999 (stopped only as a consequence) as where it failed. Expected (README, "Reasons travel"): the job
// that ends failed when its last sibling finishes says "task x_0 failed at host:10000: <host's error>".
TEST_F(FederationTest, AJobFailedLaterStillNamesThePartyWhereTheTaskFailed) {
  Create(parallel_dag());
  Joined(kHost);
  for (const char* task : {"x_0", "y_0", "z_0"}) {
    Launch(sched_, exec(task, kGuest));
    PartyReport(kHost, task, Status::running);
  }
  PartyReport(kHost, "x_0", Status::failed, "ValueError: x boom");
  ASSERT_EQ(sched_.state.schedule.at("x_0").status, Status::failed);
  ASSERT_EQ(sched_.state.schedule_status, Status::running);  // y_0 and z_0 still run
  for (const char* task : {"y_0", "z_0"}) {
    Report(sched_, exec(task, kGuest), Status::success);
    PartyReport(kHost, task, Status::success);
  }
  ASSERT_EQ(sched_.state.schedule_status, Status::failed);
  const std::string& reason = sched_.state.schedule_reason;
  EXPECT_NE(reason.find("x boom"), std::string::npos) << reason;
  EXPECT_EQ(reason.rfind("task x_0 failed at host:10000", 0), 0u) << reason;
  EXPECT_EQ(sched_.state.copy(kGuest)->status_reason, reason);
}

}  // namespace
}  // namespace flowstone::domain
