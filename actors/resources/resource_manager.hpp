// The resource manager: the one owner of this party's ledger (events/resources/ledger.hpp), the stream
// "party:<party_id>", hosted by EventSourced like every aggregate. A reservation is answered only once its
// event is durable; the job that asked then records the grant in its own stream (CopyResourcesApplied /
// CopyResourcesReturned, the "resources" view). At start the manager registers the configured capacity
// (an event only when it changed) and makes the ledger agree with what the jobs recorded: a grant whose
// job never wrote it is released, a holding only the job wrote is taken back. The waiting queue is
// replayed in its order; every waiter then has WaiterClock::kGoneMs to ask again.
//
// Detached: it reads its stream and the resources view at start, blocking its own thread only.
#pragma once
#include <memory>

#include "actors/environment.hpp"
#include "actors/messages.hpp"

namespace flowstone::actors {

resource_actor spawn_resource_manager(caf::actor_system& system, std::shared_ptr<Environment> env);

// "job_id/role/party_id": how the ledger names one copy.
std::string holder_of(const std::string& job_id, const domain::PartyRef& party);

}  // namespace flowstone::actors
