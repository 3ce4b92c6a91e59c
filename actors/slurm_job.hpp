// Slurm jobs of the `slurm` provider device, as the launcher process and the server's launcher actor see
// them: submitting, asking Slurm about one, cancelling one. Each call runs a Slurm client (sbatch, scontrol,
// scancel, found on PATH; the cluster through SLURM_CONF or /etc/slurm) and waits for it.
//
// Thread rules: plain blocking functions (fork, exec, wait); call them from a detached actor or a process of
// its own (flowstone-launcher). This file is also compiled into flowstone-launcher, so it uses only the
// standard library and POSIX.
#pragma once
#include <string>
#include <vector>

namespace flowstone::actors {

// Where a run's Slurm job id is recorded: <task_dir>/slurm_job_id (written by the launcher once sbatch
// accepted the job). Empty when the run has none (not a Slurm run, or not submitted yet).
std::string slurm_job_id_file(const std::string& task_dir);
std::string recorded_slurm_job(const std::string& task_dir);

struct ToolResult {
  int exit_code = -1;  // -1: could not be started, or ended by a signal
  std::string out, err;
};
// Runs argv (argv[0] looked up on PATH) with the current environment, capturing stdout and stderr.
ToolResult run_tool(const std::vector<std::string>& argv);

struct SlurmJobState {
  bool answered = false;  // Slurm answered (false: the controller could not be asked; try again later)
  bool known = false;     // the controller still knows the job (it forgets ended ones after MinJobAge)
  std::string state;      // JobState: PENDING, RUNNING, COMPLETING, COMPLETED, CANCELLED, FAILED, TIMEOUT...
  std::string exit_code;  // ExitCode, "code:signal"
  std::string error;      // why it did not answer
};
// `scontrol -o show job ID`. Accounting (sacct) is not required: the controller keeps an ended job's state
// for MinJobAge seconds (300 by default), which covers a launcher's polling and a server restart.
SlurmJobState query_slurm_job(const std::string& job_id);

// A state in which the job still runs or will run (PENDING, RUNNING, COMPLETING, SUSPENDED, ...).
bool slurm_job_active(const SlurmJobState& s);

// Why a run whose Slurm job is no longer active ended: "slurm job 12 ended CANCELLED (exit code 0:15)",
// "slurm job 12 is no longer known to Slurm".
std::string slurm_end_reason(const std::string& job_id, const SlurmJobState& s);

// `scancel ID`. Returns a description of what was done.
std::string cancel_slurm_job(const std::string& job_id);

// A word for sh, single-quoted ('\'' for a quote inside).
std::string shell_quote(const std::string& word);

}  // namespace flowstone::actors
