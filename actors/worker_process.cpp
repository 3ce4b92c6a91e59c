#include "actors/worker_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "actors/slurm_job.hpp"

extern char** environ;

namespace flowstone::actors {
namespace fs = std::filesystem;
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t read_pid(const std::string& path) {
  std::string text = read_file(path);
  try {
    return text.empty() ? 0 : std::stoll(text);
  } catch (...) {
    return 0;
  }
}

std::string shell_quote_join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

}  // namespace

bool process_alive(int64_t pid, const std::string& execution_id) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close != std::string::npos && close + 2 < stat.size() &&
      (stat[close + 2] == 'Z' || stat[close + 2] == 'X'))
    return false;
  if (execution_id.empty()) return true;
  std::string cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  return cmdline.find(execution_id) != std::string::npos;
}

int64_t running_launcher(const std::string& task_dir, const std::string& execution_id) {
  int64_t pid = read_pid(task_dir + "/launcher.pid");
  return process_alive(pid, execution_id) ? pid : 0;
}

int64_t live_worker(const std::string& task_dir) {
  int64_t pid = read_pid(task_dir + "/worker.pid");
  return process_alive(pid, "") ? pid : 0;
}

std::string recorded_exit(const std::string& task_dir) {
  std::string text = read_file(task_dir + "/exit_status");
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

LaunchResult launch_worker(const LaunchSpec& spec) {
  LaunchResult result;
  result.cmd = shell_quote_join(spec.worker_argv);
  std::error_code ec;
  fs::create_directories(spec.task_dir, ec);
  fs::create_directories(spec.log_dir, ec);
  if (ec) {
    result.error = "cannot create task folders: " + ec.message();
    return result;
  }

  // Everything the children need is prepared before fork: after it, only async-signal-safe calls.
  std::vector<std::string> args = {spec.launcher_path,
                                   "--execution-id",
                                   spec.execution_id,
                                   "--task-dir",
                                   spec.task_dir,
                                   "--log-dir",
                                   spec.log_dir,
                                   "--server",
                                   spec.server_host + ":" + std::to_string(spec.server_port),
                                   "--"};
  if (!spec.scheduler.empty()) args.insert(args.end() - 1, {"--scheduler", spec.scheduler});
  args.insert(args.end(), spec.worker_argv.begin(), spec.worker_argv.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::map<std::string, std::string> env_map;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env_map[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : spec.env) env_map[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env_map) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  // posix_spawn (vfork semantics: no copy of the server's page tables, which made a fork of a large server
  // cost milliseconds per task) in a session of its own. The launcher is this server's child: the launcher
  // actor reaps it once it has ended (reap_launcher), and it outlives the server as any orphan does.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, argv[0], nullptr, &attributes, argv.data(), envp.data());
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    result.error = "cannot start " + spec.launcher_path + ": " + std::strerror(rc);
    return result;
  }
  result.launcher_pid = pid;
  return result;
}

void reap_launcher(int64_t launcher_pid) {
  // None for a Slurm job adopted without its launcher; waitpid(0) would take any child of the group.
  if (launcher_pid <= 0) return;
  int status = 0;
  ::waitpid(static_cast<pid_t>(launcher_pid), &status, WNOHANG);  // ECHILD for an adopted one: nothing to do
}

std::string kill_run(int64_t launcher_pid, const std::string& execution_id, const std::string& task_dir) {
  if (process_alive(launcher_pid, execution_id)) {
    ::kill(static_cast<pid_t>(launcher_pid), SIGTERM);  // the launcher stops its worker group
    return "asked launcher " + std::to_string(launcher_pid) + " to stop the worker";
  }
  if (int64_t worker = live_worker(task_dir)) {
    ::kill(-static_cast<pid_t>(worker), SIGKILL);
    return "killed worker group " + std::to_string(worker);
  }
  // scancel of a job that already ended only says so: no need to ask first.
  if (std::string slurm_job = recorded_slurm_job(task_dir); !slurm_job.empty())
    return cancel_slurm_job(slurm_job);
  return "no process left";
}

}  // namespace flowstone::actors
