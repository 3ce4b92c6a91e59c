// flowstone-noop: the reference `noop` component, a stand-in for an algorithm in test and demo DAGs. It
// speaks only the worker API, so it doubles as a template for a new component: run_component reads the
// task config and reports the outcome; the body does the work and returns success or an error.
//
// Parameters:
//   sleep               (seconds, default 0) time spent "working"
//   fail                (bool) fail, with error_message (string) as the task's error
//   fail_below_version  (int) fail while the task's version is lower, so that a retry succeeds
//   emit_model          (bool, default true) save the JSON model `output_model`
//   emit_metric         (bool, default true) save the metric `noop_metric`
//   loss_steps          (int, default 0) also save a metric `loss` with this many steps (a falling curve)
// Inputs: none.
// Outputs (on success): model `output_model` ({component, parameters, task identity}) and metric
//   {"name": "noop_metric", "type": "noop", "data": [{"metric": [1.0], "step": 0}]}.
#include "apps/components/worker_client.hpp"

namespace w = flowstone::worker;

int main(int argc, char** argv) {
  return w::run_component(argc, argv, [](const w::TaskContext& task) {
    auto outcome = w::noop_behaviour(task);
    if (!outcome.success) return outcome;
    return w::noop_outputs(task);
  });
}
