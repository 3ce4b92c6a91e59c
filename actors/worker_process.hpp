// Worker processes, as the server sees them. Each task run is started through `flowstone-launcher`,
// spawned in a session of its own (posix_spawn; the launcher actor reaps it once it ended), which starts the
// worker in its own process group with stdout/stderr in the task's log folder, waits for it, records its exit
// status in <task_dir>/exit_status and reports that exit over the worker API, retrying until the server
// accepts. So a worker outlives a server restart, and its exit is observed even if the server was down.
//
// Thread rules: plain blocking functions (spawn, kill, file reads); call them from a detached actor.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace flowstone::actors {

struct LaunchSpec {
  std::string execution_id;
  std::string launcher_path;  // flowstone-launcher
  std::vector<std::string> worker_argv;
  std::map<std::string, std::string> env;  // added to the server's environment
  std::string task_dir;                    // cwd of the worker; pid and exit files
  std::string log_dir;                     // stdout/stderr files
  std::string server_host;
  uint16_t server_port = 0;
  // "slurm": worker_argv is an `sbatch --parsable` submission the launcher runs and watches (device slurm).
  std::string scheduler;
};

struct LaunchResult {
  int64_t launcher_pid = 0;  // 0 on failure
  std::string error;
  std::string cmd;  // the worker command line, for the task record
};

LaunchResult launch_worker(const LaunchSpec& spec);
// Collects the exit status of an ended launcher this server started (a zombie until then); harmless for
// one it adopted after a restart, or one still running.
void reap_launcher(int64_t launcher_pid);

// A launcher recorded in <task_dir>/launcher.pid that is still alive for this execution, or 0.
int64_t running_launcher(const std::string& task_dir, const std::string& execution_id);

// True if `pid` is a live (non-zombie) process whose command line mentions `execution_id`.
bool process_alive(int64_t pid, const std::string& execution_id);

// The worker's process group leader from <task_dir>/worker.pid, if it is still alive.
int64_t live_worker(const std::string& task_dir);

// Stops a run: asks its launcher to stop the worker group (the launcher escalates to SIGKILL; a Slurm run's
// launcher cancels its job), or kills the worker group directly when the launcher is gone (a Slurm run's job:
// scancel). Returns a description of what was done.
std::string kill_run(int64_t launcher_pid, const std::string& execution_id, const std::string& task_dir);

// The exit recorded by the launcher ("exited with code 3", "killed by signal 9"), or empty.
std::string recorded_exit(const std::string& task_dir);

}  // namespace flowstone::actors
