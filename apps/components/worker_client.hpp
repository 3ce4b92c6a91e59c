// The worker side of FATE-Flow's worker API, for Flowstone's reference components. A component reads
// its task config from the environment (FATE_TASK_CONFIG or CONFIG, named by --env-name as FATE's
// entrypoint does), does its work, and reports its final status to the address in the config's `mlmd`
// section. A report that fails because the server is down is retried until the server accepts it.
// Single-threaded use.
#pragma once
#include <functional>
#include <string>

#include "events/json.hpp"

namespace flowstone::worker {

struct TaskContext {
  Json config;
  std::string execution_id;
  std::string task_name;
  std::string role;
  std::string party_id;
  int task_version = 0;
  Json parameters = Json::object();
  Json input_artifacts = Json::object();
  std::string host = "127.0.0.1";
  uint16_t port = 9380;
};

// What a component's body returns: success, or a failure with its message.
struct Outcome {
  bool success = true;
  std::string error;
};

// Reads the context, runs `body`, reports its outcome. Returns the process exit code (0 on success,
// 2007 & 0xff semantics as FATE: non-zero when the component failed, 2 when the config is unusable).
int run_component(int argc, char** argv, const std::function<Outcome(const TaskContext&)>& body);

// POST /v2/worker/task/status, retried until the server answers. False if it never did.
bool report_status(const TaskContext& context, const std::string& status, const std::string& error);

// The `noop` behaviour shared by the noop family: parameters `sleep` (seconds), `fail` (bool) with
// `error_message`, `fail_below_version` (fail while task_version is lower, so a retry can succeed).
Outcome noop_behaviour(const TaskContext& context);

}  // namespace flowstone::worker
