// flowstone-launcher's Slurm mode (--scheduler slurm): the worker runs as a Slurm batch job, not as a child.
#pragma once
#include <signal.h>

#include <string>
#include <vector>

namespace flowstone::launcher {

// Runs `sbatch_argv` (an `sbatch --parsable ...` submission, built by the server), records the job id in
// <task_dir>/slurm_job_id and waits for the job to end, asking the controller once a second (sbatch --wait
// would back off to 32 s between its own polls). A signal of `waited` (blocked by the caller) that is
// SIGTERM or SIGINT cancels the job (scancel) and sets *stopping. Progress and errors go to `err_fd` (the
// task's stderr log). Returns how the run ended, e.g. "slurm job 12 ended CANCELLED (exit code 0:15)" or
// "slurm submission failed: ...".
std::string run_slurm_job(const std::vector<std::string>& sbatch_argv, const std::string& task_dir,
                          int err_fd, const sigset_t& waited, bool* stopping);

}  // namespace flowstone::launcher
