// The Job aggregate as the event-sourced host sees it (actors/persistence/event_sourced.hpp): its decide
// (with the scheduler's step that follows every command), its apply, its codec and the view rows a decision
// changes. Stateless.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/persistence/aggregate_parts.hpp"
#include "events/job/job.hpp"
#include "events/job/views.hpp"
#include "store/codec/job_codec.hpp"
#include "store/event_log.hpp"

namespace flowstone::actors {

struct JobAggregate {
  using State = domain::JobState;
  using Event = domain::JobEvent;
  using Command = domain::ActorCommand;
  using Decision = domain::Decision;

  static Decision decide(const State& state, Command& c, int64_t now_ms, State* next) {
    std::visit([now_ms](auto& command) { command.now_ms = now_ms; }, c.command);  // time enters as data
    return domain::decide_and_advance(state, c.command, now_ms, next, c.actor);
  }
  static void apply(State& state, const Event& event) { domain::apply(state, event); }
  static std::string encode(const Event& event) { return store::encode_job_event(event); }
  static std::optional<Event> decode(std::string_view bytes, std::string* error) {
    return store::decode_job_event(bytes, error);
  }
  static std::vector<store::ViewWrite> view_changes(const State& before, const State& after,
                                                    const std::vector<Event>& events) {
    return view_writes(domain::job_view_changes(before, after, events));
  }
  static std::string result_of(const Decision& d) { return envelope_of(d); }
  static Decision from_result(const std::string& stored) { return decision_of_envelope<Decision>(stored); }
  static Decision storage_error(const std::string& why) {
    return domain::reject(RetCode::server_exception, "storage error: " + why);
  }
};

}  // namespace flowstone::actors
