// The resource manager: the one place that decides who holds this party's cores (events/resources.hpp
// has the policy). Every grant is then recorded by the job that asked, as an event in its own stream
// (CopyResourcesApplied / CopyResourcesReturned); the "resources" view, written in the same batches, is
// the ledger. At start the manager registers the configured capacity (an event in the stream
// "party:<party_id>", only when it changed) and takes the current holdings back from that view, so a
// crash loses nothing durable: a grant whose event never got written was never real.
#pragma once
#include <memory>

#include "actors/environment.hpp"
#include "actors/messages.hpp"

namespace flowstone::actors {

resource_actor spawn_resource_manager(caf::actor_system& system, std::shared_ptr<Environment> env);

// "job_id/role/party_id": how the ledger names one copy.
std::string holder_of(const std::string& job_id, const domain::PartyRef& party);

}  // namespace flowstone::actors
