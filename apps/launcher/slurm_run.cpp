#include "apps/launcher/slurm_run.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "actors/slurm_job.hpp"

namespace flowstone::launcher {
namespace {

namespace a = flowstone::actors;

void log_line(int fd, const std::string& text) {
  std::string line = "=== " + text + "\n";
  (void)!write(fd, line.data(), line.size());
}

std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  auto nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

}  // namespace

std::string run_slurm_job(const std::vector<std::string>& sbatch_argv, const std::string& task_dir,
                          int err_fd, const sigset_t& waited, bool* stopping) {
  a::ToolResult submitted = a::run_tool(sbatch_argv);
  // --parsable prints "ID" or "ID;CLUSTER".
  std::string id = submitted.out.substr(0, submitted.out.find_first_of(";\n"));
  if (submitted.exit_code != 0 || id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    (void)!write(err_fd, submitted.err.data(), submitted.err.size());
    std::string why = last_line(submitted.err.empty() ? submitted.out : submitted.err);
    return "slurm submission failed: " +
           (why.empty() ? "sbatch ended with code " + std::to_string(submitted.exit_code) : why);
  }
  {
    // Written to a temporary name and renamed, so the server never reads half an id.
    const std::string path = a::slurm_job_id_file(task_dir), tmp = path + ".tmp";
    std::ofstream(tmp, std::ios::trunc) << id << "\n";
    std::rename(tmp.c_str(), path.c_str());
  }
  log_line(err_fd, "submitted as slurm job " + id);

  int unanswered = 0;
  auto next_query = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    if (now >= next_query) {
      next_query = now + std::chrono::seconds(1);
      a::SlurmJobState state = a::query_slurm_job(id);
      if (state.answered) {
        unanswered = 0;
        if (!a::slurm_job_active(state)) return a::slurm_end_reason(id, state);
      } else if (unanswered++ % 30 == 0) {
        // The controller may be restarting: keep asking, and say so now and then.
        log_line(err_fd, "cannot ask Slurm about job " + id + ": " + state.error);
      }
      continue;
    }
    // Each query's client ends with a SIGCHLD, which is in `waited`: it only wakes this loop early.
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(next_query - now).count();
    timespec timeout{static_cast<time_t>(left / 1000000000), static_cast<long>(left % 1000000000)};
    siginfo_t info;
    int sig = sigtimedwait(&waited, &info, &timeout);
    if ((sig == SIGTERM || sig == SIGINT) && !*stopping) {
      *stopping = true;
      log_line(err_fd, a::cancel_slurm_job(id));
      next_query = std::chrono::steady_clock::now();
    }
  }
}

}  // namespace flowstone::launcher
