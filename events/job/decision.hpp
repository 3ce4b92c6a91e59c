// A decision of the Job aggregate and the Step that makes it.
//
// A Decision is a refusal (a code other than success, with no events and no effects), or the events to
// append, the effects to carry out once they are durable, and the data to answer with.
//
// A Step is one decision being made: every event is applied at once to a working copy of the state, so the
// later parts of a decision see what its earlier parts did, and the state after the decision comes out with
// it. A Step holds no policy: what an event implies (a report to the scheduler, cores given back) is done by
// the module function that emits it. Not thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "events/common/json.hpp"
#include "events/common/ret_code.hpp"
#include "events/job/effects.hpp"
#include "events/job/state.hpp"

namespace flowstone::domain {

struct Decision {
  RetCode code = RetCode::success;
  std::string message = "success";
  std::vector<JobEvent> events;
  std::vector<Effect> effects;
  Json data;  // reply data for the caller, if any
  bool ok() const { return code == RetCode::success; }
};

// A refusal: the code, the message, no events.
Decision reject(RetCode code, std::string message);

void apply(JobState& state, const JobEvent& event);  // events/job/apply.cpp

class Step {
 public:
  Step(const JobState& state, int64_t now) : state_(state), now_(now) {}
  Step(JobState&& state, int64_t now) : state_(std::move(state)), now_(now) {}

  const JobState& state() const { return state_; }
  int64_t now() const { return now_; }

  void emit(JobEventBody body) {
    JobEvent event{now_, std::move(body), ""};  // the actor: decide_and_advance names it
    apply(state_, event);
    decision_.events.push_back(std::move(event));
  }
  void effect(Effect effect) { decision_.effects.push_back(std::move(effect)); }
  void call(RemoteCall call) { decision_.effects.push_back(Effect{std::move(call)}); }
  Decision& decision() { return decision_; }

  // The decision and the state after it.
  Decision take(JobState* next = nullptr) {
    if (next) *next = std::move(state_);
    return std::move(decision_);
  }

 private:
  JobState state_;
  int64_t now_;
  Decision decision_;
};

}  // namespace flowstone::domain
