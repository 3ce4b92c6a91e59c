// Helpers shared by the Job aggregate's tests: the events or effects of one kind, in order; the runs
// launched; what a host does with one command (decide_and_apply); the grants of a resource manager with
// room; replaying a recorded log; and JobHostTest, a host driving one job whose local party is guest 9999.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "actors/partner_protocol.hpp"
#include "events/job/job.hpp"
#include "events/job/views.hpp"
#include "tests/text_util.hpp"

namespace flowstone {
inline void PrintTo(RetCode code, std::ostream* os) {
  *os << to_int(code);
}
}  // namespace flowstone

namespace flowstone::domain {

using test_util::contains;
using test_util::names_number;

// Readable failure messages for statuses and parties.
inline void PrintTo(Status status, std::ostream* os) {
  *os << to_string(status);
}
inline void PrintTo(const PartyRef& party, std::ostream* os) {
  *os << party.role << ":" << party.party_id;
}

template <typename T>
std::vector<T> events_of(const std::vector<JobEvent>& events) {
  std::vector<T> out;
  for (const auto& e : events)
    if (const T* body = std::get_if<T>(&e.body)) out.push_back(*body);
  return out;
}

template <typename T>
std::vector<T> effects_of(const std::vector<Effect>& effects) {
  std::vector<T> out;
  for (const auto& e : effects)
    if (const T* body = std::get_if<T>(&e)) out.push_back(*body);
  return out;
}

template <typename T>
std::vector<T> effects_of(const Decision& d) {
  return effects_of<T>(d.effects);
}

// The execution ids of the runs launched (LaunchRun), in order.
inline std::vector<std::string> launched(const std::vector<Effect>& effects) {
  std::vector<std::string> out;
  for (const auto& e : effects_of<LaunchRun>(effects)) out.push_back(e.execution_id);
  return out;
}
inline std::vector<std::string> launched(const Decision& d) {
  return launched(d.effects);
}

inline Json J(const char* text) {
  return Json::parse(text);
}

// a_0 -> b_0 -> c_0 at guest 9999, linked by model inputs; `conf` is the dag.conf.
inline Json guest_chain_dag(const Json& conf = Json::object()) {
  Json dag = J(R"({
    "schema_version": "2.1.0",
    "dag": {
      "parties": [{"role": "guest", "party_id": ["9999"]}],
      "tasks": {
        "a_0": {"component_ref": "noop"},
        "b_0": {"component_ref": "noop_consumer", "inputs": {"model": {"input_model": {"task_output_artifact":
                  {"producer_task": "a_0", "output_artifact_key": "output_model"}}}}},
        "c_0": {"component_ref": "noop_consumer", "inputs": {"model": {"input_model": {"task_output_artifact":
                  {"producer_task": "b_0", "output_artifact_key": "output_model"}}}}}
      }
    }
  })");
  dag["dag"]["conf"] = conf;
  return dag;
}

// What a host does with a command: decides it at `now` and, if it is accepted, applies its events to
// `state` and appends them to `log`. A rejected command must have neither events nor effects.
inline Decision decide_and_apply(JobState& state, std::vector<JobEvent>& log, JobCommand command,
                                 int64_t now) {
  std::visit([&](auto& c) { c.now_ms = now; }, command);
  Decision d = decide_and_advance(state, command, now);
  if (!d.ok()) {
    EXPECT_TRUE(d.events.empty()) << "a rejected command must not emit events";
    EXPECT_TRUE(d.effects.empty()) << "a rejected command must not have effects";
    return d;
  }
  const JobState before = state;
  for (const auto& e : d.events) {
    apply(state, e);
    log.push_back(e);
  }
  // The host writes only the view rows the events change: applied to the views before, they give the views
  // after.
  std::map<std::pair<std::string, std::string>, std::string> views;
  for (auto& row : job_views(before)) views[{row.family, row.key}] = row.value;
  for (auto& change : job_view_changes(before, state, d.events)) {
    if (change.value)
      views[{change.family, change.key}] = *change.value;
    else
      views.erase({change.family, change.key});
  }
  std::map<std::pair<std::string, std::string>, std::string> expected;
  for (auto& row : job_views(state)) expected[{row.family, row.key}] = row.value;
  EXPECT_EQ(views, expected) << "the view changes of a decision do not give the views after it";
  return d;
}

// A call a job decided, as it goes on the wire: the partner protocol (actors/partner_protocol.cpp, compiled
// into these tests) gives its route and body; the typed call is kept with them.
struct PartnerCall {
  RemoteCall call;
  PartyRef party;  // the destination; for a report to the scheduler {"", its party id}
  std::string endpoint;
  Json body;
  bool tracked = false;  // its answer comes back to the job as a command
  std::string task_name;
  int task_version = 0;
  int attempt = 0;  // resource applies: the admission attempt
};

inline PartnerCall wire(const JobState& job, const RemoteCall& call) {
  actors::PartnerRequest request = actors::request_of(job, call);
  PartnerCall out;
  out.call = call;
  out.endpoint = request.endpoint;
  out.body = request.body;
  out.tracked = request.answer_matters;
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, ReportToScheduler>) {
          out.party = PartyRef{"", c.scheduler_party_id};
        } else {
          out.party = c.party;
        }
        if constexpr (std::is_same_v<T, ApplyRemoteJobResources> ||
                      std::is_same_v<T, ApplyRemoteTaskResources>)
          out.attempt = c.attempt;
      },
      call);
  if (out.body.contains("task_id")) {
    out.task_name = task_name_of(job.job_id, out.body["task_id"].get<std::string>());
    out.task_version = out.body.value("task_version", 0);
  }
  return out;
}

// The partner calls among `effects`, on the wire, for the job `job_id` (enough for every call but a create,
// whose body carries the DAG).
inline std::vector<PartnerCall> partner_calls(const std::string& job_id, const std::vector<Effect>& effects);

// The partner calls among `effects`, on the wire.
inline std::vector<PartnerCall> partner_calls(const JobState& job, const std::vector<Effect>& effects) {
  std::vector<PartnerCall> out;
  for (const auto& call : effects_of<RemoteCall>(effects)) out.push_back(wire(job, call));
  return out;
}
inline std::vector<PartnerCall> partner_calls(const JobState& job,
                                              const std::vector<CollectRemoteTask>& calls) {
  std::vector<PartnerCall> out;
  for (const auto& call : calls) out.push_back(wire(job, RemoteCall{call}));
  return out;
}

inline std::vector<PartnerCall> partner_calls(const std::string& job_id, const std::vector<Effect>& effects) {
  JobState job;
  job.job_id = job_id;
  return partner_calls(job, effects);
}

// The command the answer (`code`, `message`, `data`) to a call stands for, as the job's host makes it.
inline std::optional<JobCommand> answer_to(const PartnerCall& call, int code, const std::string& message,
                                           const Json& data = nullptr) {
  net::PartyAnswer answer;
  answer.code = ret_code_of(code);
  answer.message = message;
  answer.data = data;
  return actors::answer_of(call.call, answer);
}

// A resource manager with room answers every request of `effects` at once: every local apply, and (if
// `remote`) every partner/job/resource/apply and partner/task/resource/apply to another party, is granted.
inline std::vector<JobCommand> grants(const std::vector<Effect>& effects, bool remote = true) {
  std::vector<JobCommand> out;
  for (const auto& apply : effects_of<ApplyLocalResources>(effects))
    out.push_back(ResourcesAnswered{apply.party, apply.attempt, RetCode::success, "success", 0});
  if (!remote) return out;
  for (const auto& call : effects_of<RemoteCall>(effects)) {
    if (const auto* job = std::get_if<ApplyRemoteJobResources>(&call))
      out.push_back(ResourcesAnswered{job->party, job->attempt, RetCode::success, "success", 0});
    if (const auto* task = std::get_if<ApplyRemoteTaskResources>(&call))
      out.push_back(TaskResourcesAnswer{task->party, task->task_name, task->task_version, task->attempt,
                                        RetCode::success, "success", 0});
  }
  return out;
}

// Adds what a later decision (one a grant caused) decided to `d`.
inline void append(Decision& d, const Decision& more) {
  d.events.insert(d.events.end(), more.events.begin(), more.events.end());
  d.effects.insert(d.effects.end(), more.effects.begin(), more.effects.end());
}

// The state a fresh host gets by applying a recorded log.
inline JobState replay(const std::vector<JobEvent>& log) {
  JobState replayed;
  for (const auto& e : log) apply(replayed, e);
  return replayed;
}

// The host of one server whose local party is guest 9999: decides, appends, applies. Run() moves the clock
// 10 ms; At() runs a command at a given time. Its resource manager, and every partner asked for the job's
// resources, grant them at once (grant_after_ms_ after the request); the decisions those grants cause are
// part of the returned decision (so a create's launches are there).
class JobHostTest : public ::testing::Test {
 protected:
  static inline const PartyRef kGuest{"guest", "9999"};

  explicit JobHostTest(std::string job_id, int64_t grant_after_ms = 0)
      : job_id_(std::move(job_id)), grant_after_ms_(grant_after_ms) {}

  Decision At(int64_t t, JobCommand command) {
    now_ = t;
    Decision d = decide_and_apply(state_, log_, std::move(command), now_);
    if (!d.ok()) return d;
    for (auto& grant : grants(d.effects)) append(d, At(now_ + grant_after_ms_, std::move(grant)));
    return d;
  }
  Decision Run(JobCommand command) { return At(now_ + 10, std::move(command)); }

  Decision Create(Json dag, int party_cores = 0) {
    CreateJob c;
    c.job_id = job_id_;
    c.dag_schema = std::move(dag);
    c.local_party_id = "9999";
    c.user_name = "tester";
    c.defaults = defaults_;
    c.party_cores = party_cores;
    return Run(c);
  }
  Decision Launch(const std::string& execution_id, int64_t pid = 4242) {
    RecordLaunch c;
    c.execution_id = execution_id;
    c.launcher_pid = pid;
    c.cmd = "flowstone-launcher " + execution_id;
    c.log_dir = "/logs/" + execution_id;
    return Run(c);
  }
  Decision Report(const std::string& execution_id, Status status, const std::string& error = "") {
    ReportTaskStatus c;
    c.execution_id = execution_id;
    c.status = status;
    c.error = error;
    return Run(c);
  }
  // Launch recorded, then the worker's report.
  Decision Finish(const std::string& execution_id, Status status, const std::string& error = "") {
    Launch(execution_id);
    return Report(execution_id, status, error);
  }

  std::string exec(const std::string& task, int version = 0, const PartyRef& party = kGuest) const {
    return execution_id_of(job_id_, task, version, party);
  }
  const TaskRun& RunOf(const std::string& task, int version = 0, const PartyRef& party = kGuest) {
    const TaskRun* run = state_.run_by_execution(exec(task, version, party));
    EXPECT_NE(run, nullptr) << task << " v" << version;
    static TaskRun none;
    return run ? *run : none;
  }
  Status CopyStatus(const PartyRef& party = kGuest) { return state_.copy(party)->status; }

  const std::string job_id_;
  const int64_t grant_after_ms_;
  JobDefaults defaults_;  // the server's job_default_config, for Create
  JobState state_;
  std::vector<JobEvent> log_;
  int64_t now_ = 1700000000000;
};

}  // namespace flowstone::domain
