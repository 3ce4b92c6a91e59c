// PartyDirectory: the Party actors of one server, one per remote party, spawned on a party's first call
// (and, at start, for every party of the route table, so `site status` lists them before any call). It is
// how every actor calls another party: Send(call, done) posts the call to the destination's Party actor.
//
// Thread rules: every method is thread-safe; Send never blocks (a short lock to find the actor, then a
// message). StopAll ends the Party actors; calls sent afterwards are dropped without an answer, as calls
// not yet answered are (every one is repeated after a restart).
#pragma once
#include <caf/all.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/party/party_actor.hpp"
#include "actors/party/reachability.hpp"

namespace flowstone::actors {

class PartyDirectory {
 public:
  PartyDirectory(caf::actor_system& system, PartyActorDeps deps);

  void Send(net::PartyCall call, net::PartyAnswerCallback done);
  std::vector<PartyReachability> Reachability() const { return deps_.board->All(); }
  void StopAll();

 private:
  party_actor Of(const std::string& party_id);  // an invalid handle once stopped

  caf::actor_system& system_;
  const PartyActorDeps deps_;
  std::mutex mu_;
  bool stopped_ = false;
  std::map<std::string, party_actor> parties_;
};

}  // namespace flowstone::actors
