// flowstone-noop: the reference `noop` component. It speaks only the worker API, so it doubles as a
// template for a new component: read the task config, do the work, report the outcome.
// Parameters: sleep (seconds), fail (bool) with error_message, fail_below_version (int).
// Output: a model `output_model` (stored once the tracking routes exist).
#include <iostream>

#include "apps/components/worker_client.hpp"

int main(int argc, char** argv) {
  return flowstone::worker::run_component(argc, argv, [](const flowstone::worker::TaskContext& task) {
    auto outcome = flowstone::worker::noop_behaviour(task);
    if (outcome.success) std::cout << "output_model: {\"noop\": true}" << std::endl;
    return outcome;
  });
}
