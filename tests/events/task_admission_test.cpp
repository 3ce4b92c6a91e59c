// A task's resources at its remote parties, as the scheduler negotiates them (spec 5.4, FATE's
// TaskScheduler.start_task): every remote party of the task is asked with partner/task/resource/apply, the
// task starts only once all of them granted, a refusal returns the grants (partner/task/resource/return)
// and keeps the task waiting with a pending reason naming the party, and the task asks again after a pause
// or at once when a run of the job ends. The scheduler (guest 9999) is driven as its host drives it, with
// every remote answer given by the test; each scenario ends by replaying the recorded events.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "events/job/job.hpp"
#include "events/job/views.hpp"
#include "tests/events/job_test_util.hpp"

namespace flowstone::domain {

namespace {

const PartyRef kGuest{"guest", "9999"};
const PartyRef kHostA{"host", "10000"};
const PartyRef kHostB{"host", "10001"};
constexpr const char* kJob = "202612020000000000011";
constexpr const char* kApply = "partner/task/resource/apply";
constexpr const char* kReturn = "partner/task/resource/return";

// x_0 and y_0, independent, at guest 9999 and hosts 10000 and 10001 (each host on its own server). The
// guest's job has room for both (8 cores, 4 a task), so only the hosts' answers hold a task back.
Json parallel_dag() {
  return J(R"({
    "schema_version": "2.1.0",
    "dag": {
      "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000", "10001"]}],
      "conf": {"cores": 8, "task": {"engine_run": {"cores": 4}}},
      "tasks": {"x_0": {"component_ref": "noop"}, "y_0": {"component_ref": "noop"}}
    }
  })");
}

std::vector<PartnerCall> calls(const Decision& d, const std::string& endpoint, const PartyRef& party) {
  std::vector<PartnerCall> out;
  for (const auto& call : partner_calls(kJob, d.effects))
    if (call.endpoint == endpoint && call.party == party) out.push_back(call);
  return out;
}

class TaskAdmissionTest : public ::testing::Test {
 protected:
  Decision Run(JobCommand command, int64_t at = 0) {
    now_ = at != 0 ? at : now_ + 10;
    return decide_and_apply(state_, log_, std::move(command), now_);
  }
  // The job created, every host joined, the job's resources granted everywhere: it runs, and x_0 asks the
  // hosts for its resources.
  void Running() {
    CreateJob create;
    create.job_id = kJob;
    create.dag_schema = parallel_dag();
    create.local_party_id = "9999";
    ASSERT_EQ(Run(create).code, RetCode::success);
    for (const PartyRef& host : {kHostA, kHostB}) {
      Decision d = Run(CopyCreateAnswered{host, RetCode::success, "success", 0});
      ASSERT_EQ(d.code, RetCode::success) << d.message;
      for (auto& grant : grants(d.effects, false)) ASSERT_EQ(Run(grant).code, RetCode::success);
    }
    for (const PartyRef& host : {kHostA, kHostB})
      ASSERT_EQ(Run(ResourcesAnswered{host, 1, RetCode::success, "success", 0}).code, RetCode::success);
    ASSERT_EQ(state_.schedule_status, Status::running);
    ASSERT_TRUE(state_.schedule.at("x_0").resource_open);
  }
  // A host's answer to the task's resource apply of `attempt`.
  Decision Answer(const PartyRef& host, const std::string& task, int code, int attempt = 1,
                  const std::string& message = "success", int64_t at = 0) {
    return Run(TaskResourcesAnswer{host, task, 0, attempt, ret_code_of(code), message, 0}, at);
  }
  Decision Refuse(const PartyRef& host, const std::string& task, int attempt = 1, int64_t at = 0) {
    return Answer(host, task, 2004, attempt,
                  "Task resource exception: needs 4 cores, the job's 4 cores at host:10001 have 0 left", at);
  }
  const ScheduleTask& Task(const std::string& task) { return state_.schedule.at(task); }
  Json GuestRow(const std::string& task) { return task_row(state_, *state_.latest_run(task, kGuest)); }

  void TearDown() override {
    JobState replayed = replay(log_);
    EXPECT_EQ(job_views(replayed), job_views(state_));
    EXPECT_EQ(next_deadline(replayed), next_deadline(state_));
    for (const auto& [task, st] : state_.schedule) {
      const ScheduleTask& r = replayed.schedule.at(task);
      EXPECT_EQ(r.resource_open, st.resource_open) << task;
      EXPECT_EQ(r.resource_attempt, st.resource_attempt) << task;
      EXPECT_EQ(r.pending_reason, st.pending_reason) << task;
      EXPECT_EQ(r.resource_answers.size(), st.resource_answers.size()) << task;
    }
    EXPECT_EQ(recovery_effects(replayed).size(), recovery_effects(state_).size());
  }

  JobState state_;
  std::vector<JobEvent> log_;
  int64_t now_ = 1700000000000;
};

TEST_F(TaskAdmissionTest, EveryRemotePartyIsAskedBeforeTheTaskStarts) {
  ASSERT_NO_FATAL_FAILURE(Running());
  const ScheduleTask& x = Task("x_0");
  EXPECT_EQ(x.status, Status::waiting);
  EXPECT_EQ(x.resource_attempt, 1);
  EXPECT_TRUE(state_.latest_run("x_0", kGuest)->status == Status::waiting)
      << "nothing starts before the answers";
  // y_0 waits behind x_0, so the order of the DAG is kept.
  EXPECT_FALSE(Task("y_0").resource_open);

  Decision d = Answer(kHostA, "x_0", 0);
  EXPECT_TRUE(launched(d).empty()) << "host 10001 has not answered";
  EXPECT_TRUE(calls(d, "partner/task/start", kHostA).empty());

  d = Answer(kHostB, "x_0", 0);
  auto ended = events_of<TaskAdmissionEnded>(d.events);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_TRUE(ended[0].granted);
  EXPECT_EQ(Task("x_0").status, Status::running);
  EXPECT_EQ(launched(d), std::vector<std::string>{execution_id_of(kJob, "x_0", 0, kGuest)});
  for (const PartyRef& host : {kHostA, kHostB}) {
    EXPECT_EQ(calls(d, "partner/task/start", host).size(), 1u);
    EXPECT_TRUE(calls(d, kReturn, host).empty());
  }
  // The next task asks for its own in the same decision.
  EXPECT_TRUE(Task("y_0").resource_open);
  EXPECT_EQ(calls(d, kApply, kHostA).size(), 1u);
  EXPECT_EQ(calls(d, kApply, kHostB).size(), 1u);
  EXPECT_EQ(calls(d, kApply, kHostB)[0].task_name, "y_0");
}

TEST_F(TaskAdmissionTest, ARefusalReturnsTheGrantsAndTheTaskWaitsNamingTheParty) {
  ASSERT_NO_FATAL_FAILURE(Running());
  ASSERT_EQ(Answer(kHostA, "x_0", 0).code, RetCode::success);
  const int64_t asked = Task("x_0").resource_time;
  Decision d = Refuse(kHostB, "x_0");
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  auto ended = events_of<TaskAdmissionEnded>(d.events);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_FALSE(ended[0].granted);
  // What host 10000 granted goes back; nothing is started anywhere.
  auto returned = calls(d, kReturn, kHostA);
  ASSERT_EQ(returned.size(), 1u);
  EXPECT_EQ(returned[0].body.value("task_id", ""), task_id_of(kJob, "x_0"));
  EXPECT_EQ(returned[0].body.value("task_version", -1), 0);
  EXPECT_TRUE(calls(d, kReturn, kHostB).empty()) << "10001 granted nothing";
  EXPECT_TRUE(launched(d).empty());
  EXPECT_TRUE(calls(d, "partner/task/start", kHostA).empty());
  EXPECT_TRUE(calls(d, "partner/task/status/update", kHostA).empty());
  EXPECT_EQ(Task("x_0").status, Status::waiting);
  // The reason names the party and carries its answer: in the task row and the job row.
  const std::string reason = Task("x_0").pending_reason;
  EXPECT_TRUE(contains(reason, "host:10001")) << reason;
  EXPECT_TRUE(contains(reason, "Task resource exception")) << reason;
  EXPECT_EQ(GuestRow("x_0").value("pending_reason", ""), reason);
  EXPECT_TRUE(contains(job_row(state_, *state_.copy(kGuest)).value("pending_reason", ""), "host:10001"));
  // y_0 waits behind it (no room was granted to x_0, so none is taken by y_0 either).
  EXPECT_FALSE(Task("y_0").resource_open);

  // It asks again after half a second, not before.
  EXPECT_EQ(next_deadline(state_), asked + kAdmissionRetryMs);
  EXPECT_TRUE(Run(Advance{0}, asked + kAdmissionRetryMs - 1).events.empty());
  d = Run(Advance{0}, asked + kAdmissionRetryMs);
  auto started = events_of<TaskAdmissionStarted>(d.events);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].attempt, 2);
  ASSERT_EQ(calls(d, kApply, kHostB).size(), 1u);
  EXPECT_EQ(calls(d, kApply, kHostB)[0].attempt, 2);
  // Granted everywhere now: it starts, and the reason is gone.
  ASSERT_EQ(Answer(kHostA, "x_0", 0, 2).code, RetCode::success);
  d = Answer(kHostB, "x_0", 0, 2);
  EXPECT_EQ(Task("x_0").status, Status::running);
  EXPECT_EQ(Task("x_0").pending_reason, "");
  EXPECT_EQ(launched(d).size(), 1u);
}

TEST_F(TaskAdmissionTest, RefusedAgainAndAgainItAsksLessOften) {
  ASSERT_NO_FATAL_FAILURE(Running());
  const std::vector<int64_t> pauses = {500, 1000, 2000, 2000};
  for (size_t i = 0; i < pauses.size(); ++i) {
    const int attempt = static_cast<int>(i) + 1;
    const int64_t asked = Task("x_0").resource_time;
    ASSERT_EQ(Answer(kHostA, "x_0", 0, attempt).code, RetCode::success);
    ASSERT_EQ(Refuse(kHostB, "x_0", attempt).code, RetCode::success);
    EXPECT_EQ(next_deadline(state_), asked + pauses[i]) << "after refusal " << attempt;
    Decision again = Run(Advance{0}, asked + pauses[i]);
    ASSERT_EQ(events_of<TaskAdmissionStarted>(again.events).size(), 1u) << "after refusal " << attempt;
  }
}

TEST_F(TaskAdmissionTest, ARunEndingAnywhereMakesARefusedTaskAskAgainAtOnce) {
  ASSERT_NO_FATAL_FAILURE(Running());
  ASSERT_EQ(Answer(kHostA, "x_0", 0).code, RetCode::success);
  ASSERT_EQ(Answer(kHostB, "x_0", 0).code, RetCode::success);  // x_0 runs; y_0 asks
  ASSERT_TRUE(Task("y_0").resource_open);
  ASSERT_EQ(Answer(kHostA, "y_0", 0).code, RetCode::success);
  ASSERT_EQ(Refuse(kHostB, "y_0").code, RetCode::success);  // x_0 holds 10001's cores
  ASSERT_FALSE(Task("y_0").pending_reason.empty());
  const int64_t asked = Task("y_0").resource_time;

  // Long before the pause is over, x_0 ends at 10001, which gave its cores back: y_0 asks at once.
  Decision d = Run(ReportPartyStatus{kHostB, "x_0", 0, Status::running, "", false, 0}, asked + 20);
  EXPECT_TRUE(events_of<TaskAdmissionStarted>(d.events).empty()) << "nothing ended yet";
  d = Run(ReportPartyStatus{kHostB, "x_0", 0, Status::success, "", false, 0}, asked + 30);
  auto started = events_of<TaskAdmissionStarted>(d.events);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].task_name, "y_0");
  EXPECT_EQ(started[0].attempt, 2);
}

TEST_F(TaskAdmissionTest, AGrantForNoOpenAttemptIsGivenBackAtOnce) {
  ASSERT_NO_FATAL_FAILURE(Running());
  ASSERT_EQ(Answer(kHostA, "x_0", 0).code, RetCode::success);
  // The same party answering the same attempt twice: the second answer changes nothing, a grant goes back.
  Decision d = Answer(kHostA, "x_0", 0);
  EXPECT_TRUE(d.events.empty());
  EXPECT_EQ(calls(d, kReturn, kHostA).size(), 1u);
  ASSERT_EQ(Refuse(kHostB, "x_0").code, RetCode::success);
  // A grant of attempt 1 arriving after the attempt ended: given back too; a late refusal is just dropped.
  d = Answer(kHostB, "x_0", 0, 1);
  EXPECT_TRUE(d.events.empty());
  EXPECT_EQ(calls(d, kReturn, kHostB).size(), 1u);
  d = Refuse(kHostA, "x_0", 1);
  EXPECT_TRUE(d.events.empty());
  EXPECT_TRUE(d.effects.empty());
}

TEST_F(TaskAdmissionTest, AJobThatEndsWhileATaskAsksReturnsWhatWasGranted) {
  ASSERT_NO_FATAL_FAILURE(Running());
  ASSERT_EQ(Answer(kHostA, "x_0", 0).code, RetCode::success);  // 10001 has not answered
  Decision d = Run(StopJob{Status::canceled, "stopped by user", 0});
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(state_.schedule_status, Status::canceled);
  auto ended = events_of<TaskAdmissionEnded>(d.events);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_FALSE(ended[0].granted);
  EXPECT_EQ(calls(d, kReturn, kHostA).size(), 1u);
  EXPECT_FALSE(Task("x_0").resource_open);
  EXPECT_TRUE(launched(d).empty());
  // 10001's grant, when it comes, goes back as well.
  d = Answer(kHostB, "x_0", 0);
  EXPECT_EQ(calls(d, kReturn, kHostB).size(), 1u);
  EXPECT_TRUE(launched(d).empty());
}

TEST_F(TaskAdmissionTest, AnAttemptOpenAtACrashAsksTheSilentPartiesAgain) {
  ASSERT_NO_FATAL_FAILURE(Running());
  ASSERT_EQ(Answer(kHostA, "x_0", 0).code, RetCode::success);
  JobState recovered = replay(log_);
  std::vector<PartnerCall> asked;
  for (const auto& call : partner_calls(kJob, recovery_effects(recovered)))
    if (call.endpoint == kApply) asked.push_back(call);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].party, kHostB);
  EXPECT_TRUE(asked[0].tracked);
  EXPECT_EQ(asked[0].task_name, "x_0");
  EXPECT_EQ(asked[0].attempt, 1);
  // Its answer then completes the attempt.
  state_ = recovered;
  Decision d = Answer(kHostB, "x_0", 0);
  EXPECT_EQ(Task("x_0").status, Status::running);
  EXPECT_EQ(launched(d).size(), 1u);
}

TEST_F(TaskAdmissionTest, ATaskOnlyAtLocalPartiesAsksNoOne) {
  Json dag = parallel_dag();
  dag["dag"]["tasks"]["x_0"]["parties"] = J(R"([{"role": "guest", "party_id": ["9999"]}])");
  CreateJob create;
  create.job_id = kJob;
  create.dag_schema = dag;
  create.local_party_id = "9999";
  ASSERT_EQ(Run(create).code, RetCode::success);
  for (const PartyRef& host : {kHostA, kHostB}) {
    Decision d = Run(CopyCreateAnswered{host, RetCode::success, "success", 0});
    for (auto& grant : grants(d.effects, false)) ASSERT_EQ(Run(grant).code, RetCode::success);
  }
  ASSERT_EQ(Run(ResourcesAnswered{kHostA, 1, RetCode::success, "success", 0}).code, RetCode::success);
  Decision d = Run(ResourcesAnswered{kHostB, 1, RetCode::success, "success", 0});
  EXPECT_EQ(Task("x_0").status, Status::running);
  EXPECT_EQ(launched(d), std::vector<std::string>{execution_id_of(kJob, "x_0", 0, kGuest)});
  EXPECT_TRUE(events_of<TaskAdmissionStarted>(d.events).size() == 1u) << "only y_0 asks";
  EXPECT_TRUE(calls(d, kApply, kHostA).size() == 1u && calls(d, kApply, kHostA)[0].task_name == "y_0");
}

}  // namespace
}  // namespace flowstone::domain
