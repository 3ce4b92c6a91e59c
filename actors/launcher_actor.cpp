#include "actors/launcher_actor.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "actors/outputs.hpp"
#include "actors/slurm_job.hpp"
#include "actors/worker_process.hpp"

namespace flowstone::actors {
namespace {

namespace fs = std::filesystem;

struct Watched {
  job_actor job;
  int64_t launcher_pid = 0;
  std::string task_dir;  // a Slurm run's job id is recorded there by its launcher (slurm_job_id)
};

struct LauncherState {
  ServerConfig config;
  uint16_t http_port = 0;
  store::EventLog* log = nullptr;
  Json file_roots;  // resolved once, at start: every worker is told where it may read and write
  std::map<std::string, Watched> watched;  // execution_id -> run
  static inline const char* name = "flowstone.launcher";
};

using Self = launcher_actor::stateful_pointer<LauncherState>;

void report(const job_actor& job, domain::JobCommand command) {
  caf::anon_send(job, JobCommandMsg{std::move(command), "", ""});
}

void fail(const job_actor& job, const std::string& execution_id, const std::string& error) {
  report(job, domain::FailRun{execution_id, error, 0});
}

std::string component_path(const ServerConfig& config, const std::string& component) {
  return config.bin_dir + "/flowstone-" + component;
}

// An executable on PATH, as a shell would find it ("" if none).
std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

// Device slurm: the worker command becomes a Slurm batch job that flowstone-launcher submits and watches
// (apps/launcher/slurm_run.hpp). Named flowstone-<execution id> (job, task, version, role and party), with
// the run's cores and timeout, the launcher's environment (the task config, the server's address) and the
// worker's output appended to the task's usual log files, which the node shares with this server here.
std::string slurm_submission(const LaunchMsg& msg, const Json& metadata, LaunchSpec* spec) {
  std::string sbatch = on_path("sbatch");
  if (sbatch.empty()) return "no sbatch executable on PATH (device slurm needs the Slurm clients)";
  std::string script = "exec";
  for (const auto& word : spec->worker_argv) script += " " + shell_quote(word);
  std::vector<std::string> argv = {sbatch,
                                   "--parsable",
                                   "--job-name",
                                   "flowstone-" + msg.execution_id,
                                   "--cpus-per-task",
                                   std::to_string(std::max(1, msg.cores)),
                                   "--chdir",
                                   msg.task_dir,
                                   "--output",
                                   msg.log_dir + "/task_entrypoint.stdout",
                                   "--error",
                                   msg.log_dir + "/task_entrypoint.stderr",
                                   "--open-mode=append",
                                   "--export=ALL"};
  if (msg.timeout_s >
      0) {  // Slurm's limit is in whole minutes: rounded up, the server's own timeout is first
    argv.push_back("--time");
    argv.push_back(std::to_string((msg.timeout_s + 59) / 60));
  }
  if (std::string partition = metadata.value("partition", ""); !partition.empty()) {
    argv.push_back("--partition");
    argv.push_back(partition);
  }
  argv.push_back("--wrap");
  argv.push_back(script);
  spec->worker_argv = std::move(argv);
  spec->scheduler = "slurm";
  return "";
}

// The worker's command line and environment for the task's provider (spec 7.1):
// - none (Flowstone's own): bin_dir/flowstone-<component>;
// - local with metadata.entrypoint: that executable, which speaks the worker API itself;
// - local with metadata.path (and venv): a FATE algorithm package, run through flowstone-fate-worker,
//   which does FATE-Flow's pre- and post-processing around `python -m fate.components`;
// - slurm: the same three (Flowstone's own when the metadata names neither), run as a Slurm batch job;
// - docker: `docker run` of metadata.image named <role>-<party_id>-<task_id>-<task_version>, with the
//   config in CONFIG and the image's default command (FATE's reads --env-name CONFIG).
// k8s is registered (FATE's device list) but has no runner here: refused at launch.
std::string worker_command(const ServerConfig& config, const LaunchMsg& msg, LaunchSpec* spec) {
  const std::vector<std::string> entrypoint_args = {"component", "entrypoint", "--env-name",
                                                    "FATE_TASK_CONFIG"};
  auto with_args = [&](std::string executable) {
    spec->worker_argv = {std::move(executable)};
    spec->worker_argv.insert(spec->worker_argv.end(), entrypoint_args.begin(), entrypoint_args.end());
  };
  auto own_component = [&]() -> std::string {
    std::string executable = component_path(config, msg.component);
    if (!fs::exists(executable))
      return "component '" + msg.component + "' is not in provider flowstone (" + executable + ")";
    with_args(executable);
    return "";
  };
  const Json& provider = msg.provider_row;
  if (provider.is_null()) return own_component();
  const Json metadata = provider.value("metadata", Json::object());
  const std::string device = provider.value("device", ""), name = provider.value("provider_name", "");
  if (device == "local" || device == "slurm") {
    if (metadata.contains("entrypoint")) {
      with_args(metadata.value("entrypoint", ""));
    } else if (metadata.contains("path")) {
      std::string path = metadata.value("path", ""), venv = metadata.value("venv", "");
      with_args(config.bin_dir + "/flowstone-fate-worker");
      spec->env["FLOWSTONE_PROVIDER_PATH"] = path;
      spec->env["FLOWSTONE_PROVIDER_VENV"] = venv;
      const char* old = std::getenv("PYTHONPATH");
      spec->env["PYTHONPATH"] = path + (old && *old ? ":" + std::string(old) : "");
    } else if (std::string error = own_component(); !error.empty()) {
      return error;
    }
    if (device == "local") return "";
    std::string error = slurm_submission(msg, metadata, spec);
    return error.empty() ? "" : "provider " + name + ": " + error;
  }
  if (device == "docker") {
    std::string docker = on_path("docker");
    if (docker.empty()) return "provider " + name + ": no docker executable on PATH";
    const Json& c = msg.task_config;
    std::string container = c.value("role", "") + "-" + c.value("party_id", "") + "-" +
                            c.value("task_id", "") + "-" + c.value("task_version", "");
    spec->worker_argv = {docker, "run", "--rm", "--name", container, "--network", "host", "-e", "CONFIG"};
    for (const char* key : {"FATE_JOB_ID", "PROCESS_ROLE"}) {
      spec->worker_argv.push_back("-e");
      spec->worker_argv.push_back(key);
    }
    spec->worker_argv.push_back(metadata.value("image", ""));
    return "";
  }
  return "provider " + name + ": device '" + device +
         "' cannot run tasks here: Flowstone runs them locally (local), in docker (docker) or as Slurm jobs "
         "(slurm); Kubernetes (k8s) has no runner yet";
}

// FATE's provider name, name:version@device, of a providers-view row; Flowstone's own executables when null.
std::string provider_name_of(const Json& provider) {
  if (provider.is_null()) return "flowstone";
  return provider.value("name", "") + ":" + provider.value("version", "") + "@" +
         provider.value("device", "");
}

void launch(Self self, const job_actor& job, LaunchMsg& msg) {
  const ServerConfig& config = self->state.config;
  if (int64_t pid = running_launcher(msg.task_dir, msg.execution_id)) {
    // Started before a crash that lost its record: adopt it rather than start a second worker.
    self->state.watched[msg.execution_id] = Watched{job, pid, msg.task_dir};
    report(job, domain::RecordLaunch{msg.execution_id, pid, "(adopted)", msg.log_dir, 0, ""});
    return;
  }
  if (std::string slurm_job = recorded_slurm_job(msg.task_dir);
      !slurm_job.empty() && slurm_job_active(query_slurm_job(slurm_job))) {
    // The same, for a Slurm job whose launcher is gone too: the job still runs and reports by itself.
    self->state.watched[msg.execution_id] = Watched{job, 0, msg.task_dir};
    report(job, domain::RecordLaunch{msg.execution_id, 0, "(adopted slurm job " + slurm_job + ")",
                                     msg.log_dir, 0, ""});
    return;
  }
  // What takes the file system, here off the actors' pool: the provider's registration, the file roots.
  msg.provider_row =
      is_builtin_provider(msg.provider) ? Json(nullptr) : lookup_provider(*self->state.log, msg.provider);
  msg.task_config["provider_name"] =
      msg.provider_row.is_null() ? "flowstone" : msg.provider_row.value("name", "");
  msg.task_config["conf"]["computing"] =
      Json{{"type", "standalone"},
           {"metadata",
            {{"computing_id", msg.execution_id},
             {"options",
              {{"data_dir", config.data_dir + "/standalone"}, {"file_roots", self->state.file_roots}}}}}};
  std::string config_json = msg.task_config.dump();
  LaunchSpec spec;
  // FATE hands the config as YAML in FATE_TASK_CONFIG and as JSON in CONFIG; JSON is valid YAML.
  spec.env = {{"FATE_TASK_CONFIG", config_json},
              {"CONFIG", config_json},
              {"FATE_JOB_ID", msg.job_id},
              {"PROCESS_ROLE", "worker"}};
  if (std::string error = worker_command(config, msg, &spec); !error.empty()) {
    fail(job, msg.execution_id, error);
    return;
  }
  std::error_code ec;
  fs::create_directories(msg.task_dir, ec);
  std::ofstream(msg.task_dir + "/task_config.json") << config_json << "\n";

  spec.execution_id = msg.execution_id;
  spec.launcher_path = config.bin_dir + "/flowstone-launcher";
  spec.task_dir = msg.task_dir;
  spec.log_dir = msg.log_dir;
  spec.server_host = config.host;
  spec.server_port = self->state.http_port;
  LaunchResult result = launch_worker(spec);
  if (result.launcher_pid == 0) {
    fail(job, msg.execution_id, "launch failed: " + result.error);
    return;
  }
  self->state.watched[msg.execution_id] = Watched{job, result.launcher_pid, msg.task_dir};
  report(job, domain::RecordLaunch{msg.execution_id, result.launcher_pid, result.cmd, msg.log_dir, 0,
                                   provider_name_of(msg.provider_row)});
}

// Why a watched run is failed: `what`, the exit its launcher recorded (a Slurm run's launcher records
// Slurm's word, "slurm job 12 ended CANCELLED ..."), and how its Slurm job ended (`slurm_ended`) when the
// launcher did not record that.
std::string lost_reason(const std::string& task_dir, const char* what, const std::string& slurm_ended) {
  std::string exit = recorded_exit(task_dir);
  std::string reason =
      std::string(what) + (exit.empty() ? ", no exit status recorded"
                                        : (exit.rfind("slurm ", 0) == 0 ? ": " : ": worker ") + exit);
  return slurm_ended.empty() || exit == slurm_ended ? reason : reason + "; " + slurm_ended;
}

// A run whose launcher (and local worker) is gone may still run as a Slurm job (device slurm: its launcher
// recorded the id in the task folder), which reports through the worker API by itself. Asks Slurm (a
// blocking client call: this actor is detached). True while the job is pending or running, or while Slurm
// cannot be asked (a restarting controller; the next sweep asks again); otherwise *ended says how it ended.
// An execution id starts with its job's id (job_task_version_role_party): FATE's log convention puts the
// job's id first on every line about it.
std::string job_of(const std::string& execution_id) {
  return execution_id.substr(0, execution_id.find('_'));
}

bool slurm_job_goes_on(const std::string& execution_id, const std::string& task_dir, std::string* ended) {
  const std::string slurm_job = recorded_slurm_job(task_dir);
  if (slurm_job.empty()) return false;
  SlurmJobState state = query_slurm_job(slurm_job);
  if (!state.answered) {
    spdlog::warn("[job-{}] {}: cannot ask Slurm about job {}: {}", job_of(execution_id), execution_id,
                 slurm_job, state.error);
    return true;
  }
  if (slurm_job_active(state)) return true;
  *ended = slurm_end_reason(slurm_job, state);
  return false;
}

void check(Self self, const job_actor& job, const CheckMsg& msg) {
  if (process_alive(msg.launcher_pid, msg.execution_id) || live_worker(msg.task_dir)) {
    self->state.watched[msg.execution_id] = Watched{job, msg.launcher_pid, msg.task_dir};
    return;
  }
  std::string ended;
  if (slurm_job_goes_on(msg.execution_id, msg.task_dir, &ended)) {
    spdlog::info("[job-{}] {}: launcher gone, slurm job {} goes on: adopted", job_of(msg.execution_id),
                 msg.execution_id, recorded_slurm_job(msg.task_dir));
    self->state.watched[msg.execution_id] = Watched{job, msg.launcher_pid, msg.task_dir};
    return;
  }
  fail(job, msg.execution_id, lost_reason(msg.task_dir, "worker lost while the server was down", ended));
}

void sweep(Self self) {
  auto& watched = self->state.watched;
  for (auto it = watched.begin(); it != watched.end();) {
    const auto& [execution_id, run] = *it;
    std::string ended;
    if (process_alive(run.launcher_pid, execution_id) || live_worker(run.task_dir) ||
        slurm_job_goes_on(execution_id, run.task_dir, &ended)) {
      ++it;
      continue;
    }
    // A launcher that reported normally leaves the run ended, and this report then changes nothing.
    fail(run.job, execution_id, lost_reason(run.task_dir, "worker gone without a report", ended));
    reap_launcher(run.launcher_pid);  // a zombie counts as gone: its exit status is collected here
    it = watched.erase(it);
  }
}

launcher_actor::behavior_type launcher_impl(Self self, ServerConfig config, uint16_t http_port,
                                            store::EventLog* log) {
  self->state.config = std::move(config);
  self->state.http_port = http_port;
  self->state.log = log;
  self->state.file_roots = self->state.config.file_roots().roots();
  self->send(self, caf::tick_atom_v);
  return {
      [=](job_actor job, LaunchMsg& msg) { launch(self, job, msg); },
      [=](KillMsg& msg) {
        spdlog::info("[job-{}] stop {}: {}", job_of(msg.execution_id), msg.execution_id,
                     kill_run(msg.launcher_pid, msg.execution_id, msg.task_dir));
      },
      [=](job_actor job, CheckMsg& msg) { check(self, job, msg); },
      [=](DeleteOutputsMsg& msg) {
        std::error_code ec;
        std::filesystem::remove_all(msg.job_dir, ec);
        if (ec)
          spdlog::warn("[job-{}] cannot remove {}: {}",
                       std::filesystem::path(msg.job_dir).filename().string(), msg.job_dir, ec.message());
      },
      [=](caf::tick_atom) {
        sweep(self);
        self->delayed_send(self, std::chrono::seconds(1), caf::tick_atom_v);
      },
  };
}

}  // namespace

launcher_actor spawn_launcher(caf::actor_system& system, const ServerConfig& config, uint16_t http_port,
                              store::EventLog* log) {
  return system.spawn<caf::detached>(launcher_impl, config, http_port, log);
}

}  // namespace flowstone::actors
