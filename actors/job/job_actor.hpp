// The actor that owns one job (see job_actor.cpp for its rules).
#pragma once
#include <memory>
#include <string>

#include "actors/environment.hpp"
#include "actors/messages.hpp"

namespace flowstone::actors {

// A built-in component that succeeds inside the server without a worker process (for benchmarks of
// the scheduler itself; any other component is an executable `flowstone-<name>` in bin_dir).
inline constexpr const char* kNativeNoop = "native_noop";

// Replays the job's stream first; if the job exists, recovers its runs and schedules again.
// `new_job`: the id was just made (a submit here): there is no stream to replay.
job_actor spawn_job(caf::actor_system& system, std::shared_ptr<Environment> env, const std::string& job_id,
                    bool new_job = false);

}  // namespace flowstone::actors
