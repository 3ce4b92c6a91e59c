// Running a FATE algorithm provider's command line, `<python> -m fate.components component <args...>`,
// as a child process of flowstone-fate-worker, the way FATE-Flow's wrapper runs fate_executor.py.
//
// The abstraction: a Provider names the interpreter (from FLOWSTONE_PROVIDER_VENV) and the package
// folder (FLOWSTONE_PROVIDER_PATH, put on PYTHONPATH); run_provider_cli runs one command synchronously.
// The child inherits our stdout (the launcher's task log) and our process group, so a stop of the
// worker's group also stops the provider. Its stderr is passed through to ours line by line while a
// tail of it is kept, so a failure can be reported with the provider's own last words.
//
// Thread rules: single-threaded use only. The child's environment is set between fork and exec, which
// is safe only because the worker has no other threads.
#pragma once
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace flowstone::fate_worker {

struct Provider {
  std::string python;  // an executable path, or a bare name looked up on PATH
  std::string path;    // the provider's package folder (may be empty: fate importable already)
};

// The provider from the launch environment. FLOWSTONE_PROVIDER_VENV is a python executable or a venv
// folder (its bin/python3 or bin/python); unset means `python3` from PATH. Returns an error message,
// empty on success.
std::string provider_from_env(Provider* out);

// Puts the provider folder first on PYTHONPATH in this process's environment (so every child sees it),
// unless it is already one of PYTHONPATH's entries.
void export_python_path(const Provider& provider);

struct CliRun {
  bool started = false;
  std::string start_error;  // when !started
  int wait_status = 0;      // waitpid status
  bool timed_out = false;
  std::string stderr_tail;  // the last few KiB the child wrote to stderr

  bool succeeded() const;
  // "exited with code 1", "killed by signal 9", "could not start: ...".
  std::string describe() const;
};

// Runs `<python> -m fate.components component <args...>` and waits for it. `extra_env` is added to the
// child's environment. A positive `timeout` stops the child (SIGTERM, then SIGKILL 5 s later) when it
// runs longer; zero means no limit (the server's task timeout stops the whole worker group instead).
CliRun run_provider_cli(const Provider& provider, const std::vector<std::string>& args,
                        const std::vector<std::pair<std::string, std::string>>& extra_env,
                        std::chrono::seconds timeout = std::chrono::seconds(0));

}  // namespace flowstone::fate_worker
