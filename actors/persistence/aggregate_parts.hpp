// Pieces an aggregate adapter for EventSourced<> would otherwise write again: the state after a decision's
// events, a decision stored as FATE's {code, message, data} envelope for idempotent replies, and view changes
// as log writes. Header-only and pure; no thread rules beyond those of the values passed in.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "events/common/json.hpp"
#include "events/common/ret_code.hpp"
#include "store/event_log.hpp"

namespace flowstone::actors {

// The state a decision leads to: its events applied, in order, to a copy of the state it was taken on.
template <class State, class Events, class ApplyFn>
State advanced(const State& state, const Events& events, ApplyFn apply) {
  State next = state;
  for (const auto& event : events) apply(next, event);
  return next;
}

// A decision as the reply a repeated command with the same idempotency key gets again.
template <class Decision>
std::string envelope_of(const Decision& decision) {
  return Json{{"code", to_int(decision.code)}, {"message", decision.message}, {"data", decision.data}}.dump();
}

template <class Decision>
Decision decision_of_envelope(const std::string& stored) {
  Json envelope = Json::parse(stored, nullptr, false);
  Decision decision;
  if (!envelope.is_object()) return decision;
  decision.code = ret_code_of(envelope.value("code", 0));
  decision.message = envelope.value("message", "success");
  decision.data = envelope.value("data", Json());
  return decision;
}

// Domain view changes ({family, key, value}) as writes of the same append batch.
template <class Change>
std::vector<store::ViewWrite> view_writes(std::vector<Change> changes) {
  std::vector<store::ViewWrite> out;
  out.reserve(changes.size());
  for (auto& change : changes)
    out.push_back({std::move(change.family), std::move(change.key), std::move(change.value)});
  return out;
}

namespace aggregate_parts_detail {
// Found by argument-dependent lookup where the adapter is instantiated (the domain's decide and apply of
// its state), which a member named decide or apply would hide.
template <class State, class Command>
auto domain_decide(const State& state, const Command& command) {
  return decide(state, command);
}
template <class State, class Event>
void domain_apply(State& state, const Event& event) {
  apply(state, event);
}
}  // namespace aggregate_parts_detail

// The adapter of an aggregate whose commands all carry `now_ms` and whose domain has free
// `decide(state, command) -> decision` and `apply(state, event)`: the host stamps the time, and a decision is
// stored as its envelope. The adapter adds its codec, view changes and storage error.
template <class StateT, class EventT, class CommandT, class DomainDecision>
struct StampedAggregate {
  using State = StateT;
  using Event = EventT;
  using Command = CommandT;
  struct Decision : DomainDecision {
    bool ok() const { return flowstone::ok(this->code); }
  };

  static Decision decide(const State& state, Command& command, int64_t now_ms, State* next) {
    std::visit([now_ms](auto& c) { c.now_ms = now_ms; }, command);
    Decision d{aggregate_parts_detail::domain_decide(state, command)};
    *next = advanced(state, d.events,
                     [](State& s, const Event& e) { aggregate_parts_detail::domain_apply(s, e); });
    return d;
  }
  static void apply(State& state, const Event& event) { aggregate_parts_detail::domain_apply(state, event); }
  static std::string result_of(const Decision& d) { return envelope_of(d); }
  static Decision from_result(const std::string& stored) { return decision_of_envelope<Decision>(stored); }
};

}  // namespace flowstone::actors
