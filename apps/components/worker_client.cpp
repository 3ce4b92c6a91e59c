#include "apps/components/worker_client.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "net/http_client.hpp"
#include "net/json_io.hpp"

namespace flowstone::worker {
namespace {

bool load_context(int argc, char** argv, TaskContext* ctx, std::string* error) {
  std::string env_name = "CONFIG";  // FATE's entrypoint default; the launcher passes FATE_TASK_CONFIG
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--env-name") env_name = argv[i + 1];
  const char* text = std::getenv(env_name.c_str());
  if (!text) {
    *error = "environment variable " + env_name + " with the task config is not set";
    return false;
  }
  auto config = net::parse_json(text, error);
  if (!config || !config->is_object()) {
    if (error->empty()) *error = "task config is not a JSON object";
    return false;
  }
  ctx->config = *config;
  ctx->execution_id = config->value("party_task_id", "");
  ctx->task_name = config->value("task_name", "");
  ctx->role = config->value("role", "");
  ctx->party_id = config->value("party_id", "");
  ctx->task_version = std::atoi(config->value("task_version", "0").c_str());
  if (config->contains("parameters") && (*config)["parameters"].is_object())
    ctx->parameters = (*config)["parameters"];
  if (config->contains("input_artifacts") && (*config)["input_artifacts"].is_object())
    ctx->input_artifacts = (*config)["input_artifacts"];
  const Json& meta = (*config)["mlmd"]["metadata"];
  if (!meta.is_object() || ctx->execution_id.empty()) {
    *error = "task config lacks party_task_id or mlmd.metadata";
    return false;
  }
  ctx->host = meta.value("host", ctx->host);
  ctx->port = meta.value("port", ctx->port);
  return true;
}

}  // namespace

bool report_status(const TaskContext& context, const std::string& status, const std::string& error) {
  net::HttpCall call;
  call.method = "POST";
  call.host = context.host;
  call.port = context.port;
  call.target = "/v2/worker/task/status";
  call.body = Json{{"execution_id", context.execution_id}, {"status", status}, {"error", error}}.dump();
  auto delay = std::chrono::milliseconds(100);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::hours(24);
  while (std::chrono::steady_clock::now() < deadline) {
    auto result = net::http_call(call);
    if (result.ok && result.status == 200) {
      std::string parse_error;
      auto body = net::parse_json(result.body, &parse_error);
      int code = body ? body->value("code", -1) : -1;
      if (code != 6000 && code != -1) {  // 6000: the server is starting or could not store it yet
        if (code != 0) std::cerr << "report answered " << result.body << "\n";
        // Tells the launcher (our cwd is the task folder) that it need not report this exit itself.
        if (status != "running") std::ofstream("status_reported") << status << "\n";
        return true;
      }
    }
    std::cerr << "report of " << status << " not accepted yet (" << (result.ok ? result.body : result.error)
              << "), retrying\n";
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(5000));
  }
  return false;
}

int run_component(int argc, char** argv, const std::function<Outcome(const TaskContext&)>& body) {
  TaskContext context;
  std::string error;
  if (!load_context(argc, argv, &context, &error)) {
    std::cerr << "cannot start: " << error << "\n";
    return 2;
  }
  std::cout << "task " << context.execution_id << " (" << context.config.value("component", "")
            << ") starting" << std::endl;
  Outcome outcome;
  try {
    outcome = body(context);
  } catch (const std::exception& e) {
    outcome = Outcome{false, std::string("component raised: ") + e.what()};
  }
  std::cout << "task " << context.execution_id
            << (outcome.success ? " succeeded" : " failed: " + outcome.error) << std::endl;
  if (!report_status(context, outcome.success ? "success" : "failed", outcome.error)) return 3;
  return outcome.success ? 0 : 1;
}

Outcome noop_behaviour(const TaskContext& context) {
  const Json& p = context.parameters;
  double sleep_s = p.contains("sleep") && p["sleep"].is_number() ? p["sleep"].get<double>() : 0.0;
  if (sleep_s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(sleep_s));
  if (p.contains("fail") && p["fail"].is_boolean() && p["fail"].get<bool>())
    return Outcome{false,
                   p.value("error_message", std::string("noop failed as asked (parameter fail: true)"))};
  if (p.contains("fail_below_version") && p["fail_below_version"].is_number_integer()) {
    int below = p["fail_below_version"].get<int>();
    if (context.task_version < below)
      return Outcome{false, "noop fails below version " + std::to_string(below) + " (this is version " +
                                std::to_string(context.task_version) + ")"};
  }
  return Outcome{};
}

}  // namespace flowstone::worker
