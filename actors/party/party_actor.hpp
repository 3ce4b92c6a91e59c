// The Party actor: one per remote party this server calls. It owns the calls to that party, in order per
// lane (a job's commands to the party are one lane, its status questions another: the next call of a lane
// is sent once the previous one is answered), their retries with backoff until each call's window closes
// (then FATE-Flow's FEDERATED_ERROR, code 104), and the party's reachability (up or down since when, the
// last error, the calls waiting), written to the ReachabilityBoard. The HTTP requests themselves go through
// the transport (net::PartyClient); retry times come from the injected Timers, so tests move them by hand.
//
// Thread rules: an actor on the CAF pool; it never blocks (the transport answers with a message). Callers
// use PartyDirectory (party_directory.hpp), which spawns a party's actor on its first call.
#pragma once
#include <spdlog/spdlog.h>

#include <caf/all.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "actors/clock.hpp"
#include "actors/party/reachability.hpp"
#include "net/party_client.hpp"

namespace flowstone::actors {

struct PartyCallMsg {
  net::PartyCall call;
  net::PartyAnswerCallback done;  // called exactly once, on the actor's thread; must only post a message
};
struct PartyAttemptDoneMsg {
  uint64_t call_id = 0;
  net::PartyAttempt attempt;
};
struct PartyRetryMsg {
  uint64_t call_id = 0;
};

using party_actor = caf::typed_actor<caf::reacts_to<PartyCallMsg>, caf::reacts_to<PartyAttemptDoneMsg>,
                                     caf::reacts_to<PartyRetryMsg>>;

struct PartyActorDeps {
  std::shared_ptr<net::PartyClient> transport;
  std::shared_ptr<const Clock> clock;
  std::shared_ptr<Timers> timers;
  std::shared_ptr<ReachabilityBoard> board;
  std::shared_ptr<spdlog::logger> log;
  int64_t backoff_initial_ms = 100;
  int64_t backoff_max_ms = 3000;
};

party_actor spawn_party(caf::actor_system& system, std::string party_id, PartyActorDeps deps);

}  // namespace flowstone::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::PartyCallMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::PartyAttemptDoneMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::PartyRetryMsg)
