// flowstone-fate-worker: the worker for tasks of a FATE algorithm provider (e.g. `fate@2.1.0`), doing what
// FATE-Flow's Python wrapper (hub/components_wraps/fate) does around `python -m fate.components`.
//
// Launch contract (what the server's launcher does):
//   flowstone-fate-worker component entrypoint --env-name FATE_TASK_CONFIG
//   flowstone-fate-worker component cleanup    --env-name FATE_TASK_CONFIG
// Environment:
//   FATE_TASK_CONFIG         the worker config (spec 7.2) as JSON (or YAML), including `mlmd` (where to
//                            report), conf.computing.metadata.options.data_dir (where tables go) and,
//                            optionally, conf.logger.log_dir (the task's log folder). --env-name picks the
//                            variable; without it `CONFIG` is read, as FATE's entrypoint does.
//   FLOWSTONE_PROVIDER_PATH  the provider's metadata.path: the folder holding the `fate` package; it is
//                            put first on PYTHONPATH unless the launcher already did.
//   FLOWSTONE_PROVIDER_VENV  the provider's metadata.venv: a python executable, or a venv folder whose
//                            bin/python3 (else bin/python) is used. Unset: `python3` from PATH.
//   cwd                      the task folder (JOB_DIR/<job>/<role>/<party>/<task>/<version>); input/ and
//                            output/ are created there. stdout/stderr are the launcher's task logs.
// Exit status: 0 when the task succeeded and its final status was reported; non-zero otherwise (see
// worker::run_component: 1 failed, 2 unusable config, 3 report never accepted). `cleanup` always exits 0.
//
// The abstraction: `entrypoint` is one task run (fate_task.hpp) wrapped in worker::run_component, which
// loads the config and sends the final POST /v2/worker/task/status, leaving <cwd>/status_reported so the
// launcher does not report the exit again. The provider runs as a child in this process's group, so the
// launcher's stop (SIGTERM to the group) reaches both.
//
// Thread rules: single-threaded throughout (children are forked with the environment set in between).
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "apps/components/worker_client.hpp"
#include "apps/fate_worker/fate_task.hpp"
#include "apps/fate_worker/provider_cli.hpp"
#include "net/yaml_json.hpp"

namespace {

using flowstone::Json;
using flowstone::fate_worker::Provider;

int usage() {
  std::cerr << "usage: flowstone-fate-worker component {entrypoint|cleanup} [--env-name VAR]\n";
  return 2;
}

std::string env_name_of(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--env-name") == 0) return argv[i + 1];
  return "CONFIG";
}

// Cleanup is best effort: a stop must never wait on, or fail because of, a provider that cannot clean.
int cleanup(int argc, char** argv) {
  Provider provider;
  std::string error = flowstone::fate_worker::provider_from_env(&provider);
  const std::string env_name = env_name_of(argc, argv);
  const char* text = std::getenv(env_name.c_str());
  Json config;
  if (!error.empty()) {
    std::cerr << "cleanup skipped: " << error << "\n";
  } else if (!text) {
    std::cerr << "cleanup skipped: " << env_name << " is not set\n";
  } else if (!(error = flowstone::net::parse_yaml_or_json(text, &config)).empty()) {
    std::cerr << "cleanup skipped: " << env_name << ": " << error << "\n";
  } else {
    flowstone::fate_worker::export_python_path(provider);
    flowstone::fate_worker::cleanup_fate_task(config, provider);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || std::strcmp(argv[1], "component") != 0) return usage();
  const std::string command = argv[2];
  if (command == "cleanup") return cleanup(argc, argv);
  if (command != "entrypoint") return usage();
  return flowstone::worker::run_component(argc, argv, [](const flowstone::worker::TaskContext& context) {
    Provider provider;
    std::string error = flowstone::fate_worker::provider_from_env(&provider);
    if (!error.empty()) return flowstone::worker::Outcome{false, error};
    flowstone::fate_worker::export_python_path(provider);
    return flowstone::fate_worker::run_fate_task(context, provider);
  });
}
