// One party server: opens the event log, starts the actors and the HTTP edge, recovers unfinished
// jobs, and runs until SIGTERM or SIGINT. Shutdown answers in-flight requests, stops the actors,
// drains and closes the log; running workers are left running (their launchers report later).
#pragma once
#include "actors/config.hpp"

namespace flowstone::actors {

// Blocks until a stop signal. Returns the process exit code.
int run_server(const ServerConfig& config);

}  // namespace flowstone::actors
