#include "actors/party/party_directory.hpp"

#include <utility>

namespace flowstone::actors {

PartyDirectory::PartyDirectory(caf::actor_system& system, PartyActorDeps deps)
    : system_(system), deps_(std::move(deps)) {
  for (const auto& party_id : deps_.transport->RoutedParties()) Of(party_id);
}

party_actor PartyDirectory::Of(const std::string& party_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return party_actor{};
  auto [it, inserted] = parties_.try_emplace(party_id);
  if (inserted) it->second = spawn_party(system_, party_id, deps_);
  return it->second;
}

void PartyDirectory::Send(net::PartyCall call, net::PartyAnswerCallback done) {
  party_actor party = Of(call.dest_party_id);
  if (!party) return;
  caf::anon_send(party, PartyCallMsg{std::move(call), std::move(done)});
}

void PartyDirectory::StopAll() {
  std::map<std::string, party_actor> parties;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    parties.swap(parties_);
  }
  for (auto& [party_id, party] : parties) caf::anon_send_exit(party, caf::exit_reason::user_shutdown);
}

}  // namespace flowstone::actors
