// flowstone-noop_consumer: `noop` plus inputs: a model `input_model` and data `input_data`, wired from
// upstream tasks through task_output_artifact (or warehouse) channels. It prints the channels it was given.
//
// Parameters: those of noop (sleep, fail, error_message, fail_below_version, emit_model, emit_metric), and
//   check_inputs (bool, default false): resolve every input through the worker API (tracking query for
//   data, model download for models), print what they hold, and fail when one cannot be resolved.
// Inputs: data `input_data` and model `input_model`, both optional.
// Outputs (on success): as noop, model `output_model` and metric `noop_metric`.
#include <iostream>

#include "apps/components/worker_client.hpp"
#include "net/archive.hpp"

namespace {

using flowstone::Json;
namespace w = flowstone::worker;

// Resolves every data and model input; the first that fails fails the task.
w::Outcome check_inputs(const w::TaskContext& task) {
  for (const char* kind : {"data", "model"}) {
    if (!task.input_artifacts.contains(kind) || !task.input_artifacts[kind].is_object()) continue;
    for (const auto& item : task.input_artifacts[kind].items()) {
      const std::string key = item.key();
      std::string error;
      if (std::string(kind) == "data") {
        for (const Json& table : w::input_tables(task, key, &error))
          std::cout << "input data " << key << " resolves to " << table.dump() << std::endl;
      } else {
        for (const std::string& tar : w::input_models(task, key, &error)) {
          std::vector<flowstone::net::ArchiveEntry> entries;
          std::string archive_error = flowstone::net::read_archive(tar, &entries);
          if (!archive_error.empty())
            return {false, "input model " + key + " is not a tar: " + archive_error};
          for (const auto& entry : entries)
            std::cout << "input model " << key << " member " << entry.name << " (" << entry.data.size()
                      << " bytes)" << std::endl;
        }
      }
      if (!error.empty()) return {false, error};
    }
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  return w::run_component(argc, argv, [](const w::TaskContext& task) {
    for (const char* kind : {"model", "data"}) {
      if (!task.input_artifacts.contains(kind)) continue;
      for (const auto& [key, channel] : task.input_artifacts[kind].items())
        std::cout << "input " << kind << " " << key << ": " << channel.dump() << std::endl;
    }
    const Json& p = task.parameters;
    if (p.contains("check_inputs") && p["check_inputs"].is_boolean() && p["check_inputs"].get<bool>()) {
      auto checked = check_inputs(task);
      if (!checked.success) return checked;
    }
    auto outcome = w::noop_behaviour(task);
    if (!outcome.success) return outcome;
    return w::noop_outputs(task);
  });
}
