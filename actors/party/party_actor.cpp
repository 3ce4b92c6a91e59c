#include "actors/party/party_actor.hpp"

#include <algorithm>
#include <deque>
#include <unordered_map>
#include <utility>

namespace flowstone::actors {
namespace {

struct Call {
  uint64_t id = 0;
  std::shared_ptr<const net::PartyCall> call;
  net::PartyAnswerCallback done;
  int64_t first_attempt_ms = -1;
  int64_t backoff_ms = 0;
  int attempts = 0;
  std::string last_error;
};

struct PartyState {
  PartyActorDeps deps;
  PartyReachability reach;
  uint64_t next_id = 1;
  // The head of a lane is in flight or waiting for its retry; the calls behind it wait their turn.
  std::unordered_map<std::string, std::deque<Call>> lanes;
  std::unordered_map<uint64_t, std::string> lane_of;
  static inline const char* name = "flowstone.party";
};

using Self = party_actor::stateful_pointer<PartyState>;

void publish(Self self) {
  auto& st = self->state;
  st.reach.calls_waiting = st.lane_of.size();
  st.deps.board->Put(st.reach);
}

void became(PartyState& st, Reach reach, int64_t now) {
  if (st.reach.state == reach) return;
  st.reach.state = reach;
  st.reach.since_ms = now;
}

void attempt(Self self, Call& call) {
  auto& st = self->state;
  const int64_t now = st.deps.clock->now_ms();
  if (call.attempts == 0) {
    call.first_attempt_ms = now;
    call.backoff_ms = st.deps.backoff_initial_ms;
  }
  ++call.attempts;
  auto handle = caf::actor_cast<party_actor>(self);
  st.deps.transport->Attempt(call.call, [handle, id = call.id](net::PartyAttempt result) {
    caf::anon_send(handle, PartyAttemptDoneMsg{id, std::move(result)});
  });
}

// The lane's head is answered: the next call of the lane goes.
void finish(Self self, const std::string& lane_name, net::PartyAnswer answer) {
  auto& st = self->state;
  auto lane = st.lanes.find(lane_name);
  Call call = std::move(lane->second.front());
  lane->second.pop_front();
  st.lane_of.erase(call.id);
  if (lane->second.empty())
    st.lanes.erase(lane);
  else
    attempt(self, lane->second.front());
  publish(self);
  call.done(std::move(answer));
}

Call* head_with(Self self, uint64_t id, std::string* lane_name) {
  auto& st = self->state;
  auto it = st.lane_of.find(id);
  if (it == st.lane_of.end()) return nullptr;
  auto lane = st.lanes.find(it->second);
  if (lane == st.lanes.end() || lane->second.empty() || lane->second.front().id != id) return nullptr;
  *lane_name = it->second;
  return &lane->second.front();
}

void on_attempt_done(Self self, PartyAttemptDoneMsg& msg) {
  auto& st = self->state;
  std::string lane;
  Call* call = head_with(self, msg.call_id, &lane);
  if (!call) return;
  const int64_t now = st.deps.clock->now_ms();
  if (msg.attempt.answer) {
    became(st, Reach::up, now);
    st.reach.last_answer_ms = now;
    ++st.reach.calls_answered;
    msg.attempt.answer->attempts = call->attempts;
    return finish(self, lane, std::move(*msg.attempt.answer));
  }
  call->last_error = msg.attempt.error;
  became(st, Reach::down, now);
  st.reach.last_error = msg.attempt.error;
  st.reach.last_error_ms = now;
  ++st.reach.failed_attempts;
  const int64_t give_up_at = call->first_attempt_ms + call->call->give_up_after.count();
  if (now < give_up_at) {
    // The last retry is made at the end of the window rather than after it.
    const int64_t retry_at = std::min(now + call->backoff_ms, give_up_at);
    call->backoff_ms = std::max<int64_t>(1, std::min(call->backoff_ms * 2, st.deps.backoff_max_ms));
    auto handle = caf::actor_cast<party_actor>(self);
    st.deps.timers->at(retry_at, [handle, id = call->id] { caf::anon_send(handle, PartyRetryMsg{id}); });
    return publish(self);
  }
  // FATE's log convention: a line about a job starts with its id.
  const Json& body = call->call->body;
  const std::string job = body.contains("job_id") && body["job_id"].is_string()
                              ? "[job-" + body["job_id"].get<std::string>() + "] "
                              : "";
  st.deps.log->warn("{}party {}: giving up on {} after {} attempts in {} ms: {}", job, st.reach.party_id,
                    call->call->endpoint, call->attempts, call->call->give_up_after.count(),
                    call->last_error);
  ++st.reach.calls_given_up;
  finish(self, lane, net::federated_error(call->last_error, call->attempts));
}

void on_call(Self self, PartyCallMsg& msg) {
  auto& st = self->state;
  if (!st.deps.transport->Resolve(msg.call.dest_party_id)) {
    // Nothing to send to: answered at once, outside any lane.
    became(st, Reach::no_address, st.deps.clock->now_ms());
    publish(self);
    return msg.done(net::federated_error("no route to party " + msg.call.dest_party_id, 0));
  }
  Call call;
  call.id = st.next_id++;
  call.done = std::move(msg.done);
  std::string lane_name = msg.call.lane;
  call.call = std::make_shared<const net::PartyCall>(std::move(msg.call));
  st.lane_of.emplace(call.id, lane_name);
  auto& lane = st.lanes[lane_name];
  lane.push_back(std::move(call));
  if (lane.size() == 1) attempt(self, lane.front());
  publish(self);
}

party_actor::behavior_type party_behavior(Self self, std::string party_id, PartyActorDeps deps) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.reach.party_id = party_id;
  if (auto address = st.deps.transport->Resolve(party_id)) {
    st.reach.address = address->host + ":" + std::to_string(address->port);
    st.reach.via_proxy = !st.deps.transport->HasRoute(party_id);
  }
  publish(self);
  return {
      [self](PartyCallMsg& msg) { on_call(self, msg); },
      [self](PartyAttemptDoneMsg& msg) { on_attempt_done(self, msg); },
      [self](PartyRetryMsg& msg) {
        std::string lane;
        if (Call* call = head_with(self, msg.call_id, &lane)) attempt(self, *call);
      },
  };
}

}  // namespace

const char* reach_name(Reach reach) {
  switch (reach) {
    case Reach::up:
      return "up";
    case Reach::down:
      return "down";
    case Reach::no_address:
      return "no_address";
    case Reach::unknown:
      break;
  }
  return "unknown";
}

Json reachability_json(const PartyReachability& row) {
  return Json{{"party_id", row.party_id},
              {"address", row.address},
              {"via_proxy", row.via_proxy},
              {"state", reach_name(row.state)},
              {"reachable", row.state == Reach::up},
              {"since", row.since_ms},
              {"last_answer_time", row.last_answer_ms},
              {"last_error", row.last_error},
              {"last_error_time", row.last_error_ms},
              {"calls_waiting", row.calls_waiting},
              {"calls_answered", row.calls_answered},
              {"calls_given_up", row.calls_given_up},
              {"failed_attempts", row.failed_attempts}};
}

party_actor spawn_party(caf::actor_system& system, std::string party_id, PartyActorDeps deps) {
  return system.spawn(party_behavior, std::move(party_id), std::move(deps));
}

}  // namespace flowstone::actors
