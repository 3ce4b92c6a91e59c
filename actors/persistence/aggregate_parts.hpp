// Pieces an aggregate adapter for EventSourced<> would otherwise write again: the state after a decision's
// events, a decision stored as FATE's {code, message, data} envelope for idempotent replies, and view changes
// as log writes. Header-only and pure; no thread rules beyond those of the values passed in.
#pragma once

#include <string>
#include <utility>
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

}  // namespace flowstone::actors
