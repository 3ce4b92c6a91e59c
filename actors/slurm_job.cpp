#include "actors/slurm_job.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace flowstone::actors {
namespace {

// A client that hangs (a controller that accepts and never answers) must not hold the caller forever;
// Slurm's own MessageTimeout is 10 s.
constexpr auto kToolDeadline = std::chrono::seconds(20);

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) text.pop_back();
  return text;
}

// The value of `key=` in scontrol's one-line output ("JobState=RUNNING Reason=None ...").
std::string field(const std::string& line, const std::string& key) {
  size_t at = 0;
  const std::string needle = key + "=";
  for (;;) {
    at = line.find(needle, at);
    if (at == std::string::npos) return "";
    if (at == 0 || line[at - 1] == ' ') break;
    at += needle.size();
  }
  size_t start = at + needle.size();
  size_t end = line.find(' ', start);
  return line.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

std::string slurm_job_id_file(const std::string& task_dir) {
  return task_dir + "/slurm_job_id";
}

std::string recorded_slurm_job(const std::string& task_dir) {
  std::ifstream in(slurm_job_id_file(task_dir));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string id = trimmed(ss.str());
  for (char c : id)
    if (c < '0' || c > '9') return "";  // half-written or foreign: not an id to hand to scancel
  return id;
}

ToolResult run_tool(const std::vector<std::string>& argv) {
  ToolResult result;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return result;
  }
  std::vector<std::string> args = argv;
  std::vector<char*> c_argv;
  for (auto& a : args) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  // The server blocks its stop signals and the launcher waits for some: the client gets the defaults.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, c_argv[0], &actions, &attributes, c_argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    result.err = "cannot run " + argv[0] + ": " + std::strerror(rc);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return result;
  }

  const auto deadline = std::chrono::steady_clock::now() + kToolDeadline;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  bool killed = false;
  while (open_count > 0) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  for (auto& fd : fds)
    if (fd.fd >= 0) ::close(fd.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (killed)
    result.err += "\n" + argv[0] + " did not answer within " + std::to_string(kToolDeadline.count()) + " s";
  result.exit_code = !killed && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

SlurmJobState query_slurm_job(const std::string& job_id) {
  SlurmJobState s;
  ToolResult r = run_tool({"scontrol", "-o", "show", "job", job_id});
  if (r.exit_code == 0) {
    // One line per job; an array or het job has more, the first is the one submitted.
    std::string line = r.out.substr(0, r.out.find('\n'));
    s.state = field(line, "JobState");
    s.exit_code = field(line, "ExitCode");
    s.answered = !s.state.empty();
    s.known = s.answered;
    if (!s.answered) s.error = "scontrol printed no JobState: " + trimmed(line);
    return s;
  }
  // The controller purged the job (MinJobAge after its end) or never had it.
  if (r.err.find("Invalid job id") != std::string::npos) {
    s.answered = true;
    return s;
  }
  s.error = trimmed(r.err.empty() ? r.out : r.err);
  return s;
}

bool slurm_job_active(const SlurmJobState& s) {
  if (!s.known) return false;
  for (const char* ended : {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                            "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY", "REVOKED", "SPECIAL_EXIT"})
    if (s.state == ended) return false;
  return true;
}

std::string slurm_end_reason(const std::string& job_id, const SlurmJobState& s) {
  if (!s.known) return "slurm job " + job_id + " is no longer known to Slurm";
  return "slurm job " + job_id + " ended " + s.state +
         (s.exit_code.empty() ? "" : " (exit code " + s.exit_code + ")");
}

std::string cancel_slurm_job(const std::string& job_id) {
  ToolResult r = run_tool({"scancel", job_id});
  if (r.exit_code == 0) return "cancelled slurm job " + job_id;
  return "scancel " + job_id + " failed: " + trimmed(r.err.empty() ? r.out : r.err);
}

std::string shell_quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

}  // namespace flowstone::actors
