#include "apps/fate_worker/provider_cli.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace flowstone::fate_worker {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Enough for a Python traceback's interesting end; the whole stream still reaches the task's log.
constexpr size_t kTailBytes = 4096;

bool executable(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && access(path.c_str(), X_OK) == 0;
}

void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // our own stderr is gone: nothing better to do with the text
    data += n;
    size -= static_cast<size_t>(n);
  }
}

enum class Pumped { data, nothing_yet, end };

// Copies what the child wrote to our stderr and keeps the tail.
Pumped pump(int fd, std::string* tail) {
  char buffer[8192];
  ssize_t n = read(fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return Pumped::nothing_yet;
  if (n <= 0) return Pumped::end;
  write_all(2, buffer, static_cast<size_t>(n));
  tail->append(buffer, static_cast<size_t>(n));
  if (tail->size() > 2 * kTailBytes) tail->erase(0, tail->size() - kTailBytes);
  return Pumped::data;
}

}  // namespace

std::string provider_from_env(Provider* out) {
  const char* path = std::getenv("FLOWSTONE_PROVIDER_PATH");
  out->path = path ? path : "";
  const char* venv = std::getenv("FLOWSTONE_PROVIDER_VENV");
  if (!venv || !*venv) {
    out->python = "python3";
    return "";
  }
  std::error_code ec;
  fs::path given(venv);
  if (fs::is_directory(given, ec)) {
    for (const char* name : {"bin/python3", "bin/python"}) {
      if (executable(given / name)) {
        out->python = (given / name).string();
        return "";
      }
    }
    return "provider venv " + given.string() + " has no executable bin/python3 or bin/python";
  }
  if (!executable(given)) return "provider venv " + given.string() + " is not an executable python";
  out->python = given.string();
  return "";
}

void export_python_path(const Provider& provider) {
  if (provider.path.empty()) return;
  const char* old = std::getenv("PYTHONPATH");
  std::string current = old ? old : "";
  std::stringstream entries(current);
  for (std::string entry; std::getline(entries, entry, ':');)
    if (entry == provider.path) return;  // the launcher already put it there
  std::string value = current.empty() ? provider.path : provider.path + ":" + current;
  setenv("PYTHONPATH", value.c_str(), 1);
}

bool CliRun::succeeded() const {
  return started && !timed_out && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

std::string CliRun::describe() const {
  if (!started) return "could not start: " + start_error;
  std::string what;
  if (WIFEXITED(wait_status)) {
    what = "exited with code " + std::to_string(WEXITSTATUS(wait_status));
  } else if (WIFSIGNALED(wait_status)) {
    what = "killed by signal " + std::to_string(WTERMSIG(wait_status));
  } else {
    what = "ended with status " + std::to_string(wait_status);
  }
  return timed_out ? "timed out and " + what : what;
}

CliRun run_provider_cli(const Provider& provider, const std::vector<std::string>& args,
                        const std::vector<std::pair<std::string, std::string>>& extra_env,
                        std::chrono::seconds timeout) {
  CliRun run;
  // Built before fork: the child should only set its environment and exec.
  std::vector<std::string> words = {provider.python, "-m", "fate.components", "component"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  const bool search_path = provider.python.find('/') == std::string::npos;

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    run.start_error = std::string("pipe: ") + std::strerror(errno);
    return run;
  }
  pid_t pid = fork();
  if (pid < 0) {
    run.start_error = std::string("fork: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return run;
  }
  if (pid == 0) {
    dup2(fds[1], 2);  // the duplicate does not inherit O_CLOEXEC, so it survives exec
    for (const auto& [name, value] : extra_env) setenv(name.c_str(), value.c_str(), 1);
    if (search_path) {
      execvp(argv[0], argv.data());
    } else {
      execv(argv[0], argv.data());
    }
    std::string msg = std::string("cannot execute ") + argv[0] + ": " + std::strerror(errno) + "\n";
    write_all(2, msg.data(), msg.size());
    _exit(127);
  }
  close(fds[1]);
  run.started = true;

  const auto deadline = timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max();
  auto kill_at = Clock::time_point::max();
  bool open = true, reaped = false;
  while (!reaped) {
    if (open) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, 200) > 0) open = pump(fds[0], &run.stderr_tail) != Pumped::end;
    } else {
      usleep(100 * 1000);
    }
    // The child may have left descendants holding the pipe open: its own exit ends the wait.
    if (waitpid(pid, &run.wait_status, WNOHANG) == pid) reaped = true;
    auto now = Clock::now();
    if (!reaped && !run.timed_out && now >= deadline) {
      run.timed_out = true;
      kill(pid, SIGTERM);
      kill_at = now + std::chrono::seconds(5);
    }
    if (!reaped && now >= kill_at) {
      kill(pid, SIGKILL);
      kill_at = Clock::time_point::max();
    }
  }
  // What is already in the pipe still belongs to the report; later writers are not waited for.
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  while (open) open = pump(fds[0], &run.stderr_tail) == Pumped::data;
  close(fds[0]);
  if (run.stderr_tail.size() > kTailBytes) run.stderr_tail.erase(0, run.stderr_tail.size() - kTailBytes);
  return run;
}

}  // namespace flowstone::fate_worker
