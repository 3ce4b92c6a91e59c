// flowstone-noop_consumer: `noop` plus optional inputs: a model `input_model` and data `input_data`,
// wired from upstream tasks through task_output_artifact channels. It prints what it was given.
#include <iostream>

#include "apps/components/worker_client.hpp"

int main(int argc, char** argv) {
  return flowstone::worker::run_component(argc, argv, [](const flowstone::worker::TaskContext& task) {
    for (const char* kind : {"model", "data"}) {
      if (!task.input_artifacts.contains(kind)) continue;
      for (const auto& [key, channel] : task.input_artifacts[kind].items())
        std::cout << "input " << kind << " " << key << ": " << channel.dump() << std::endl;
    }
    auto outcome = flowstone::worker::noop_behaviour(task);
    if (outcome.success) std::cout << "output_model: {\"noop_consumer\": true}" << std::endl;
    return outcome;
  });
}
