// The worker launcher: starts task runs as detached launcher processes, stops them, and watches them.
// Detached (its own thread), because fork, /proc reads and Slurm's clients (scontrol, scancel: device slurm)
// block. A run's end is normally reported by its launcher over the worker API; the watch here only catches
// launchers that vanish themselves (kill -9), checked once a second, and runs adopted after a restart (a
// Slurm run whose launcher is gone: while Slurm has its job pending or running).
#pragma once
#include <memory>

#include "actors/environment.hpp"
#include "actors/messages.hpp"

namespace flowstone::actors {

// `http_port` is where launchers and workers report (the server's bound port).
// `log`: the providers view, for the registration of a task's provider.
launcher_actor spawn_launcher(caf::actor_system& system, const ServerConfig& config, uint16_t http_port,
                              store::EventLog* log);

}  // namespace flowstone::actors
