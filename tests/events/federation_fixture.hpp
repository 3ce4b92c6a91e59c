// FederationTest: the Job aggregate across parties on different servers (spec 1.7, 1.8, 3.2-3.6, 4.1-4.7;
// interop.md), the fixture of federation_test.cpp, federation_party_test.cpp and
// federation_recovery_test.cpp. Each server is driven only as its host drives it: decide_and_advance() for
// every command, then apply() of the decided events.
// The scheduler site serves guest 9999; the party site serves host 10000. Partner calls are fed to the
// other site as the commands actors/registry.cpp makes of them. Every scenario ends by replaying each
// site's recorded events into a fresh state. Header-only (namespace federation_fixture).
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "events/job/job.hpp"
#include "events/job/views.hpp"
#include "tests/events/job_test_util.hpp"

namespace flowstone::domain {
namespace federation_fixture {

const PartyRef kGuest{"guest", "9999"};
const PartyRef kHost{"host", "10000"};
const PartyRef kHost2{"host", "10001"};
const PartyRef kSchedulerParty{"", "9999"};  // how a party addresses the scheduler
constexpr const char* kJob = "202401010000000000042";

// interop.md's job: a_0 (noop) then b_0 (noop_consumer reading a_0's model) at guest 9999 and host 10000.
inline Json chain_dag(const std::string& sync_type = "") {
  Json dag = J(R"({
    "schema_version": "2.1.0",
    "dag": {
      "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}],
      "tasks": {
        "a_0": {"component_ref": "noop"},
        "b_0": {"component_ref": "noop_consumer", "inputs": {"model": {"input_model": {"task_output_artifact":
                  {"producer_task": "a_0", "output_artifact_key": "output_model"}}}}}
      }
    }
  })");
  if (!sync_type.empty()) dag["dag"]["conf"] = Json{{"sync_type", sync_type}};
  return dag;
}

// x_0, y_0, z_0 independent; 12 job cores and 4 a task: all three run side by side.
inline Json parallel_dag() {
  return J(R"({
    "schema_version": "2.1.0",
    "dag": {
      "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}],
      "conf": {"cores": 12, "task": {"engine_run": {"cores": 4}}},
      "tasks": {
        "x_0": {"component_ref": "noop"},
        "y_0": {"component_ref": "noop"},
        "z_0": {"component_ref": "noop"}
      }
    }
  })");
}

// A second remote party, host 10001, on a third server.
inline Json with_second_host(Json dag) {
  dag["dag"]["parties"][1]["party_id"].push_back("10001");
  return dag;
}

inline std::string exec(const std::string& task, const PartyRef& party, int version = 0) {
  return execution_id_of(kJob, task, version, party);
}

inline std::vector<PartnerCall> calls_to(const JobState& job, const std::vector<Effect>& effects,
                                         const PartyRef& party) {
  std::vector<PartnerCall> out;
  for (const auto& call : partner_calls(job, effects))
    if (call.party == party) out.push_back(call);
  return out;
}

// The collects due, on the wire.
inline std::vector<PartnerCall> collect_wire(const JobState& job, int64_t now_ms, int64_t stale_ms) {
  return partner_calls(job, collect_calls(job, now_ms, stale_ms));
}

inline std::vector<std::string> endpoints(const std::vector<PartnerCall>& calls) {
  std::vector<std::string> out;
  for (const auto& call : calls) out.push_back(call.endpoint);
  return out;
}

// The statuses a party reported to the scheduler (scheduler/task/report), in order.
inline std::vector<std::string> reported(const std::vector<Effect>& effects) {
  std::vector<std::string> out;
  for (const auto& call : effects_of<RemoteCall>(effects))
    if (const auto* report = std::get_if<ReportToScheduler>(&call))
      out.push_back(std::string(to_string(report->status)));
  return out;
}

// What a party's host makes of a partner call (actors/registry.cpp site_command); nullopt for the routes
// answered without the job's aggregate (resources, progress).
inline std::optional<JobCommand> partner_command(const PartnerCall& call) {
  const Json& b = call.body;
  PartyRef party{b.value("role", ""), b.value("party_id", "")};
  std::string task = task_name_of(kJob, b.value("task_id", ""));
  int version = b.value("task_version", 0);
  std::string reason = b.value("reason", "");
  auto status = [&](const char* key, Status fallback) {
    auto it = b.find(key);
    if (it == b.end() || !it->is_string()) return fallback;
    return parse_status(it->get<std::string>()).value_or(fallback);
  };
  const std::string& e = call.endpoint;
  if (e == "partner/job/create") {
    Json schema{{"dag", b["dag"]}, {"schema_version", b.value("schema_version", Json("2.0.0"))}};
    return JoinJob{kJob, schema, party, party.party_id, JobDefaults{}, 0, 0, nullptr};
  }
  if (e == "partner/job/status/update")
    return UpdateCopyStatus{party, status("status", Status::waiting), reason, false, 0};
  if (e == "partner/job/start") return UpdateCopyStatus{party, Status::running, "started", true, 0};
  if (e == "partner/job/stop") {
    Status stop = status("stop_status", Status::failed);
    if (stop == Status::success) return UpdateCopyStatus{party, Status::success, reason, false, 0};
    return StopCopy{party, is_interrupt(stop) ? stop : Status::failed, reason, 0};
  }
  if (e == "partner/task/status/update")
    return UpdateTaskStatus{party, task, version, status("status", Status::running), reason, 0};
  if (e == "partner/task/start") return StartTask{party, task, version, 0};
  if (e == "partner/task/stop")
    return StopTask{party, task, version, status("status", Status::failed), reason, 0};
  if (e == "partner/task/collect") return CollectTask{party, task, version, 0};
  if (e == "partner/task/rerun") return RerunTask{party, task, b.value("new_version", 0), 0};
  if (e == "partner/task/resource/apply") return ApplyTaskResources{party, task, version, 0};
  if (e == "partner/task/resource/return") return ReturnTaskResources{party, task, version, 0};
  // A resource manager with room: the grant is recorded by the copy.
  if (e == "partner/job/resource/apply") return HoldResources{party, 0};
  if (e == "partner/job/resource/return") return ReturnResources{party, "returned by the scheduler", 0};
  return std::nullopt;
}

// One server's view of the job, as its host keeps it.
struct Site {
  JobState state;
  std::vector<JobEvent> log;
  std::vector<Effect> effects;  // every effect decided, in order
};

class FederationTest : public ::testing::Test {
 protected:
  // The host: decides, appends, applies; time moves 10 ms a command.
  Decision Run(Site& site, JobCommand command) {
    now_ += 10;
    Decision d = decide_and_apply(site.state, site.log, std::move(command), now_);
    if (!d.ok()) return d;
    site.effects.insert(site.effects.end(), d.effects.begin(), d.effects.end());
    // The site's resource manager has room: every local apply is granted at once; so does every remote
    // party's unless a test answers those itself (auto_grant_remote_ false).
    for (auto& grant : grants(d.effects, auto_grant_remote_)) append(d, Run(site, std::move(grant)));
    return d;
  }
  bool auto_grant_remote_ = true;

  // ---- the scheduler site (guest 9999) ----
  Decision Create(Json dag) {
    CreateJob c;
    c.job_id = kJob;
    c.dag_schema = std::move(dag);
    c.local_party_id = "9999";
    c.user_name = "tester";
    return Run(sched_, c);
  }
  // The answer of `party` to the call of `endpoint` (one whose answer matters), as the host makes it a
  // command.
  Decision Answer(const PartyRef& party, const std::string& endpoint, int code = 0,
                  const std::string& message = "success", const std::string& task = "", int version = 0,
                  int attempt = 0) {
    const RetCode rc = ret_code_of(code);
    if (endpoint == "partner/job/create") return Run(sched_, CopyCreateAnswered{party, rc, message, 0});
    if (endpoint == "partner/task/start")
      return Run(sched_, TaskStartAnswered{party, task, version, rc, message, 0});
    if (endpoint == "partner/job/resource/apply")
      return Run(sched_, ResourcesAnswered{party, attempt, rc, message, 0});
    if (endpoint == "partner/task/resource/apply")
      return Run(sched_, TaskResourcesAnswer{party, task, version, attempt, rc, message, 0});
    ADD_FAILURE() << "no answer command for " << endpoint;
    return Decision{};
  }
  Decision Joined(const PartyRef& party) { return Answer(party, "partner/job/create"); }
  // scheduler/task/report from a remote party, or (collected) the answer to a partner/task/collect.
  Decision PartyReport(const PartyRef& party, const std::string& task, Status status,
                       const std::string& error = "", bool collected = false, int version = 0) {
    ReportPartyStatus c;
    c.party = party;
    c.task_name = task;
    c.task_version = version;
    c.status = status;
    c.error = error;
    c.collected = collected;
    return Run(sched_, c);
  }

  // ---- either site: its launcher and its workers ----
  Decision Launch(Site& site, const std::string& execution_id, int64_t pid = 4242) {
    RecordLaunch c;
    c.execution_id = execution_id;
    c.launcher_pid = pid;
    c.cmd = "flowstone-launcher " + execution_id;
    c.log_dir = "/logs/" + execution_id;
    return Run(site, c);
  }
  Decision Report(Site& site, const std::string& execution_id, Status status, const std::string& error = "") {
    ReportTaskStatus c;
    c.execution_id = execution_id;
    c.status = status;
    c.error = error;
    return Run(site, c);
  }

  // ---- the party site (host 10000) ----
  // partner/job/create with the dag the scheduler sent (the scheduler's job must exist).
  Decision JoinAtParty(const PartyRef& party = kHost) {
    std::optional<PartnerCall> create;
    for (const auto& call : calls_to(sched_.state, sched_.effects, party))
      if (call.endpoint == "partner/job/create") create = call;
    EXPECT_TRUE(create.has_value()) << "the scheduler never asked " << party.role << ":" << party.party_id;
    if (!create) return Decision{};
    return Run(party_, *partner_command(*create));
  }
  // The scheduler's calls that admit the job, as they reach the party.
  void AdmitAtParty() {
    ASSERT_EQ(Run(party_, UpdateCopyStatus{kHost, Status::waiting, "", false, 0}).code, RetCode::success);
    ASSERT_EQ(Run(party_, UpdateCopyStatus{kHost, Status::running, "started", true, 0}).code,
              RetCode::success);
  }
  // The scheduler's task/status/update running then task/start, as they reach the party.
  Decision StartAtParty(const std::string& task, int version = 0) {
    EXPECT_EQ(Run(party_, UpdateTaskStatus{kHost, task, version, Status::running, "", 0}).code,
              RetCode::success);
    return Run(party_, StartTask{kHost, task, version, 0});
  }

  const TaskRun& RunAt(const Site& site, const std::string& task, const PartyRef& party, int version = 0) {
    const TaskRun* run = site.state.run_by_execution(exec(task, party, version));
    EXPECT_NE(run, nullptr) << task << " v" << version << " at " << party.role << ":" << party.party_id;
    static TaskRun none;
    return run ? *run : none;
  }
  Status Mirror(const std::string& task, const PartyRef& party) {
    return sched_.state.schedule.at(task).party_status.at(party);
  }
  Json JobRow(const Site& site, const PartyRef& party) {
    const JobCopy* copy = site.state.copy(party);
    EXPECT_NE(copy, nullptr);
    return copy ? job_row(site.state, *copy) : Json();
  }

  // Replaying a site's recorded log gives the live state: views, schedule record and runs.
  void ExpectReplayMatches(const Site& site) {
    JobState replayed = replay(site.log);
    const JobState& live = site.state;
    EXPECT_EQ(job_views(replayed), job_views(live));
    EXPECT_EQ(replayed.schedule_status, live.schedule_status);
    EXPECT_EQ(replayed.schedule_reason, live.schedule_reason);
    EXPECT_EQ(replayed.joined, live.joined);
    EXPECT_EQ(replayed.end_delivered, live.end_delivered);
    EXPECT_EQ(replayed.cancel_requested, live.cancel_requested);
    EXPECT_EQ(replayed.remote_parties, live.remote_parties);
    ASSERT_EQ(replayed.schedule.size(), live.schedule.size());
    for (const auto& [task, st] : live.schedule) {
      const ScheduleTask& r = replayed.schedule.at(task);
      EXPECT_EQ(r.status, st.status) << task;
      EXPECT_EQ(r.task_version, st.task_version) << task;
      EXPECT_EQ(r.party_status, st.party_status) << task;
      EXPECT_EQ(r.party_error, st.party_error) << task;
      EXPECT_EQ(r.party_update_time, st.party_update_time) << task;
    }
    ASSERT_EQ(replayed.runs.size(), live.runs.size());
    for (size_t i = 0; i < live.runs.size(); ++i) {
      EXPECT_EQ(replayed.runs[i].execution_id, live.runs[i].execution_id);
      EXPECT_EQ(replayed.runs[i].start_requested, live.runs[i].start_requested);
    }
    // What a restarting host would do is the same too.
    EXPECT_EQ(recovery_effects(replayed).size(), recovery_effects(live).size());
  }
  void TearDown() override {
    if (sched_.state.exists) ExpectReplayMatches(sched_);
    if (party_.state.exists) ExpectReplayMatches(party_);
  }

  // Delivers every effect, in order, until both sites are quiet: partner calls to the party (their answers
  // back to the scheduler when tracked), the party's reports to the scheduler, and in poll mode the
  // scheduler's collects. A launched run starts at once and its worker ends with `outcome(execution_id)`.
  template <typename Outcome>
  void Exchange(Outcome outcome) {
    std::deque<std::pair<Site*, Effect>> pending;
    auto take = [&](Site& from, size_t before) {
      for (size_t i = before; i < from.effects.size(); ++i) pending.emplace_back(&from, from.effects[i]);
    };
    take(sched_, exchanged_sched_);  // what an earlier exchange delivered is not delivered again
    take(party_, exchanged_party_);
    exchanged_sched_ = sched_.effects.size();
    exchanged_party_ = party_.effects.size();
    for (int steps = 0; steps < 2000; ++steps) {
      if (pending.empty()) {
        if (sched_.state.sync_type != "poll") return;
        for (const auto& call : collect_calls(sched_.state, now_, 0))
          pending.emplace_back(&sched_, Effect{RemoteCall{call}});
        if (pending.empty()) return;
      }
      auto [from, effect] = pending.front();
      pending.pop_front();
      size_t sched_before = sched_.effects.size(), party_before = party_.effects.size();
      if (const auto* remote = std::get_if<RemoteCall>(&effect)) {
        const PartnerCall call = wire(from->state, *remote);
        if (from == &sched_) {
          // The party answers as its host does; the answers that matter come back to the scheduler.
          Decision d;
          if (auto command = partner_command(call)) d = Run(party_, *command);
          ++delivered_[call.endpoint];
          if (call.tracked)
            if (auto answer = answer_to(call, to_int(d.code), d.message, d.data)) Run(sched_, *answer);
        } else {
          EXPECT_EQ(call.endpoint, "scheduler/task/report");
          const Json& b = call.body;
          Decision d = Run(sched_, ReportPartyStatus{
                                       PartyRef{b.value("role", ""), b.value("party_id", "")},
                                       task_name_of(kJob, b.value("task_id", "")), b.value("task_version", 0),
                                       parse_status(b.value("status", "")).value_or(Status::waiting),
                                       b.value("error", ""), false, 0});
          EXPECT_TRUE(d.ok() || d.code == RetCode::task_update_failed) << to_int(d.code) << " " << d.message;
        }
      } else if (const auto* launch = std::get_if<LaunchRun>(&effect)) {
        Launch(*from, launch->execution_id);
        Report(*from, launch->execution_id, outcome(launch->execution_id));
      }
      take(sched_, sched_before);
      take(party_, party_before);
      exchanged_sched_ = sched_.effects.size();
      exchanged_party_ = party_.effects.size();
    }
    ADD_FAILURE() << "the sites never became quiet";
  }

  std::map<std::string, int> delivered_;              // partner calls delivered by Exchange, by endpoint
  size_t exchanged_sched_ = 0, exchanged_party_ = 0;  // effects Exchange has taken from each site
  Site sched_;                                        // the scheduler: guest 9999
  Site party_;                                        // a party on another server: host 10000
  int64_t now_ = 1700000000000;
};

}  // namespace federation_fixture
}  // namespace flowstone::domain
