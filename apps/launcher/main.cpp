// flowstone-launcher: the per-task process between the server and a worker.
//
//   flowstone-launcher --execution-id ID --task-dir DIR --log-dir DIR --server HOST:PORT
//                      [--scheduler slurm] -- WORKER ARGS...
//
// The server starts it detached (its own session, parent init), so it outlives a server restart. It
// starts the worker in the worker's own process group with stdout/stderr appended to files in the log
// folder, records its own pid and the worker's in the task folder, waits for the worker, writes the
// exit status to <task-dir>/exit_status and, unless the worker's own final report was accepted (it
// leaves <task-dir>/status_reported), reports the exit through POST /v2/worker/task/status as `failed`,
// retrying until the server answers. SIGTERM stops the worker group: SIGTERM, then SIGKILL after 5 s.
//
// With --scheduler slurm, WORKER ARGS is an `sbatch --parsable` submission (the `slurm` provider device):
// the worker runs as a Slurm job instead of a child (apps/launcher/slurm_run.hpp), its id is recorded in
// <task-dir>/slurm_job_id, its end is Slurm's ("slurm job 12 ended CANCELLED ...") and SIGTERM is scancel.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "apps/launcher/slurm_run.hpp"
#include "net/http_client.hpp"
#include "net/json_io.hpp"

namespace {

struct Args {
  std::string execution_id, task_dir, log_dir, scheduler, host = "127.0.0.1";
  uint16_t port = 9380;
  std::vector<std::string> worker;
};

bool parse_args(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) args->worker.push_back(argv[i]);
      break;
    }
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (a == "--execution-id") {
      args->execution_id = v;
    } else if (a == "--task-dir") {
      args->task_dir = v;
    } else if (a == "--log-dir") {
      args->log_dir = v;
    } else if (a == "--scheduler") {
      if (v != "slurm") return false;
      args->scheduler = v;
    } else if (a == "--server") {
      auto colon = v.rfind(':');
      if (colon == std::string::npos) return false;
      args->host = v.substr(0, colon);
      args->port = static_cast<uint16_t>(std::stoi(v.substr(colon + 1)));
    } else {
      return false;
    }
  }
  return !args->execution_id.empty() && !args->task_dir.empty() && !args->log_dir.empty() &&
         !args->worker.empty();
}

// Written to a temporary name and renamed, so a reader never sees half a file.
void write_atomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return "killed by signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
  }
  return "ended with status " + std::to_string(status);
}

// Retries until the server answers with a JSON envelope it did not refuse for being unready.
void report_exit(const Args& args, const std::string& error) {
  flowstone::net::HttpCall call;
  call.method = "POST";
  call.host = args.host;
  call.port = args.port;
  call.target = "/v2/worker/task/status";
  call.body =
      flowstone::Json{{"execution_id", args.execution_id}, {"status", "failed"}, {"error", error}}.dump();
  auto delay = std::chrono::milliseconds(100);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::hours(24);
  // A task folder that is gone belongs to a deleted data directory: no server will ever want this report.
  while (std::chrono::steady_clock::now() < deadline && access(args.task_dir.c_str(), F_OK) == 0) {
    auto result = flowstone::net::http_call(call);
    if (result.ok && result.status == 200) {
      std::string parse_error;
      auto body = flowstone::net::parse_json(result.body, &parse_error);
      if (body && body->value("code", -1) != 6000) return;
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(5000));
  }
}

// The run has ended: records how (`exit`) in <task-dir>/exit_status and `told` in the stderr log and, unless
// the worker's own final report was accepted (it leaves <task-dir>/status_reported), reports `error`.
void finish(const Args& args, int err, const std::string& exit, const std::string& told,
            const std::string& error) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_UNBLOCK, &stop, nullptr);  // from now on a stop request simply ends the launcher
  write_atomically(args.task_dir + "/exit_status", exit);
  std::string tail = "=== " + told + "\n";
  (void)!write(err, tail.data(), tail.size());
  if (access((args.task_dir + "/status_reported").c_str(), F_OK) != 0) report_exit(args, error);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, &args)) {
    std::cerr
        << "usage: flowstone-launcher --execution-id ID --task-dir DIR --log-dir DIR --server HOST:PORT "
           "[--scheduler slurm] -- WORKER ARGS...\n";
    return 2;
  }
  // Nothing of the server's may stay open here (its listening socket, its log files, its stdout), or a
  // restarted server could not bind its port and a caller waiting on the server's output would wait on us.
  close_range(3, ~0U, 0);
  int devnull = open("/dev/null", O_RDWR);
  dup2(devnull, 0);
  dup2(devnull, 1);
  if (devnull > 2) close(devnull);
  // The server blocks its stop signals; a process inherits that mask, so set ours explicitly.
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGTERM);
  sigaddset(&waited, SIGCHLD);
  sigaddset(&waited, SIGINT);
  sigprocmask(SIG_SETMASK, &waited, nullptr);
  signal(SIGPIPE, SIG_IGN);

  write_atomically(args.task_dir + "/launcher.pid", std::to_string(getpid()));
  std::string out_path = args.log_dir + "/task_entrypoint.stdout";
  std::string err_path = args.log_dir + "/task_entrypoint.stderr";
  int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0 || err < 0) {
    const std::string why =
        "launcher cannot open the task log files in " + args.log_dir + ": " + std::strerror(errno);
    write_atomically(args.task_dir + "/exit_status", why);  // what the server reads if this report is lost
    report_exit(args, why);
    return 1;
  }
  dup2(err, 2);  // the launcher's own complaints go to the task's stderr log
  std::time_t now = std::time(nullptr);
  std::string banner = "=== " + args.execution_id + " started " + std::string(std::ctime(&now));
  (void)!write(out, banner.data(), banner.size());
  (void)!write(err, banner.data(), banner.size());

  if (args.scheduler == "slurm") {
    bool stopping = false;
    std::string exit = flowstone::launcher::run_slurm_job(args.worker, args.task_dir, err, waited, &stopping);
    finish(args, err, exit, exit, stopping ? "worker stopped: " + exit : exit);
    return 0;
  }

  std::vector<char*> worker_argv;
  for (auto& a : args.worker) worker_argv.push_back(a.data());
  worker_argv.push_back(nullptr);

  pid_t worker = fork();
  if (worker < 0) {
    const std::string why = std::string("launcher cannot fork the worker: ") + std::strerror(errno);
    write_atomically(args.task_dir + "/exit_status", why);
    report_exit(args, why);
    return 1;
  }
  if (worker == 0) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    dup2(out, 1);
    dup2(err, 2);
    if (chdir(args.task_dir.c_str()) != 0) _exit(126);
    execv(worker_argv[0], worker_argv.data());
    std::string msg = std::string("cannot execute ") + worker_argv[0] + ": " + std::strerror(errno) + "\n";
    (void)!write(2, msg.data(), msg.size());
    _exit(127);
  }
  setpgid(worker, worker);  // also here, so a kill right after fork finds the group
  write_atomically(args.task_dir + "/worker.pid", std::to_string(worker));

  int status = 0;
  bool stopping = false;
  auto kill_at = std::chrono::steady_clock::time_point::max();
  for (;;) {
    pid_t done = waitpid(worker, &status, WNOHANG);
    if (done == worker) break;
    if (stopping && std::chrono::steady_clock::now() >= kill_at) {
      kill(-worker, SIGKILL);
      kill_at = std::chrono::steady_clock::time_point::max();
    }
    timespec timeout{0, 100 * 1000 * 1000};
    siginfo_t info;
    int sig = sigtimedwait(&waited, &info, &timeout);
    if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
      stopping = true;
      kill(-worker, SIGTERM);
      kill_at = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    }
  }
  kill(-worker, SIGKILL);  // whatever the worker left behind in its group goes with it
  std::string exit = describe_exit(status);
  finish(args, err, exit, "worker " + exit,
         stopping ? "worker stopped: " + exit : "worker " + exit + " without reporting its status");
  return 0;
}
