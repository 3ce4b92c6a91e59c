// The flowstone CLI's client commands (job and task groups, mapped to FATE-Flow's routes) and the demo.
#pragma once
#include <map>
#include <string>

namespace flowstone::cli {

using Flags = std::map<std::string, std::string>;  // canonical flag name -> value

// Runs `flowstone <group> <action>`; prints the server's envelope. Returns the exit code: 0 when the
// envelope's code is 0, 1 otherwise; -1 for an unknown action.
int run_client_command(const std::string& group, const std::string& action, const Flags& flags);

// Starts a party server in a fresh folder, runs the demo job to its end, prints what happened, stops
// the server. Exit code 0 when the job succeeded.
int run_demo(const Flags& flags);

// The folder holding this executable (and the launcher and components built beside it).
std::string self_dir();

}  // namespace flowstone::cli
