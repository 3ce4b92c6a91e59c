// The job registry: the actor that answers the command routes of the route table (actors/api_routes.hpp).
// It turns API calls into job commands, finds or starts the job's actor (replaying its stream on demand),
// gives new jobs FATE-Flow style ids, and calls other parties for its clients. At start it brings back every
// job that had not ended, so no job is left stuck after a crash.
#pragma once
#include <memory>

#include "actors/environment.hpp"
#include "actors/messages.hpp"

namespace flowstone::actors {

namespace registry_parts {
struct RegistryState;
// The registry as its route handlers see it (registry_parts.hpp has its state).
using Self = registry_actor::stateful_pointer<RegistryState>;
}  // namespace registry_parts

registry_actor spawn_registry(caf::actor_system& system, std::shared_ptr<Environment> env);

// FATE-Flow's job id: YYYYmmddHHMMSS + microseconds + a counter that restarts when the time moves.
std::string make_job_id(int64_t epoch_us, int counter);

}  // namespace flowstone::actors
