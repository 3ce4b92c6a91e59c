// One FATE task run, the way FATE-Flow's wrapper for the `fate` provider runs it (spec 7.3): ask the
// provider for the component's IO definition, resolve the declared inputs through the worker API,
// allocate output URIs, write FATE's TaskConfigSpec, run the component, and push what it produced
// (tracked data, models, file metrics) back to the server. The final status report is left to the
// caller (worker::run_component), which reports whatever Outcome this returns.
//
// Thread rules: single-threaded; runs child processes synchronously. Paths are relative to the
// process's working directory, the task folder, which must not change while it runs.
#pragma once
#include "apps/components/worker_client.hpp"
#include "apps/fate_worker/provider_cli.hpp"

namespace flowstone::fate_worker {

// Runs the task described by `context` with `provider`. Every failure comes back as an Outcome (never
// an exception for expected problems), with a message meant for the task's error report.
worker::Outcome run_fate_task(const worker::TaskContext& context, const Provider& provider);

// `component cleanup`: hands the task's computing and federation sessions (conf.computing,
// conf.federation of `config`) to the provider's cleanup. Problems are logged, never fatal.
void cleanup_fate_task(const Json& config, const Provider& provider);

}  // namespace flowstone::fate_worker
