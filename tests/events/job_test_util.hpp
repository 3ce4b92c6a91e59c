// Helpers shared by the Job aggregate's tests: the events or effects of one kind, in order; the runs
// launched; what a host does with one command (decide_and_apply); the grants of a resource manager with
// room; replaying a recorded log; and JobHostTest, a host driving one job whose local party is guest 9999.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "events/job.hpp"
#include "tests/text_util.hpp"

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
  if (d.code != 0) {
    EXPECT_TRUE(d.events.empty()) << "a rejected command must not emit events";
    EXPECT_TRUE(d.effects.empty()) << "a rejected command must not have effects";
    return d;
  }
  for (const auto& e : d.events) {
    apply(state, e);
    log.push_back(e);
  }
  return d;
}

// A resource manager with room answers every request of `effects` at once: every local apply, and (if
// `remote`) every partner/job/resource/apply and partner/task/resource/apply to another party, is granted.
inline std::vector<JobCommand> grants(const std::vector<Effect>& effects, bool remote = true) {
  std::vector<JobCommand> out;
  for (const auto& apply : effects_of<ApplyLocalResources>(effects))
    out.push_back(ResourcesAnswered{apply.party, apply.attempt, 0, "success", 0});
  for (const auto& call : effects_of<PartnerCall>(effects))
    if (remote &&
        (call.endpoint == "partner/job/resource/apply" || call.endpoint == "partner/task/resource/apply"))
      out.push_back(PartnerAnswered{call.party, call.endpoint, call.task_name, call.task_version,
                                    call.attempt, 0, "success", 0});
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
    if (d.code != 0) return d;
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
