// The job registry: the front door of the actor side. It turns API calls into job commands, finds or
// starts the job's actor (replaying its stream on demand), gives new jobs FATE-Flow style ids, and
// passes read-only routes to the query actor. At start it brings back every job that had not ended,
// so no job is left stuck after a crash.
#pragma once
#include <memory>

#include "actors/environment.hpp"
#include "actors/messages.hpp"

namespace flowstone::actors {

registry_actor spawn_registry(caf::actor_system& system, std::shared_ptr<Environment> env);

// FATE-Flow's job id: YYYYmmddHHMMSS + microseconds + a counter that restarts when the time moves.
std::string make_job_id(int64_t epoch_us, int counter);

}  // namespace flowstone::actors
