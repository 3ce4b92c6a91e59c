#include "actors/registry.hpp"

#include <ctime>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "actors/job_actor.hpp"
#include "events/job_views.hpp"

namespace flowstone::actors {
namespace {

namespace fs = std::filesystem;
using net::ApiReply;

constexpr auto kCommandTimeout = std::chrono::seconds(60);
const char* kIdempotencyHeader = "x-flowstone-idempotency-key";

struct RegistryState {
  std::shared_ptr<Environment> env;
  std::unordered_map<std::string, job_actor> jobs;
  int64_t last_us = 0;
  int counter = 0;
  static inline const char* name = "flowstone.registry";
};

using Self = registry_actor::stateful_pointer<RegistryState>;

using net::param;
using net::reply;

job_actor start_job(Self self, const std::string& job_id) {
  auto job = spawn_job(self->system(), self->state.env, job_id);
  self->link_to(job);  // the registry's shutdown takes its jobs with it
  self->state.jobs[job_id] = job;
  return job;
}

// The job's actor, started from its stream if needed; invalid if the job does not exist here.
job_actor find_job(Self self, const std::string& job_id) {
  auto& st = self->state;
  if (auto it = st.jobs.find(job_id); it != st.jobs.end()) return it->second;
  if (job_id.empty() || st.env->log->StreamVersion(st.env->job_stream(job_id)) == 0) return {};
  return start_job(self, job_id);
}

void send_command(Self self, const job_actor& job, domain::JobCommand command, const net::ApiRequest& request,
                  net::ApiCallback done, Json extra = Json::object()) {
  std::string key;
  if (auto it = request.headers.find(kIdempotencyHeader); it != request.headers.end()) key = it->second;
  self->request(job, kCommandTimeout, JobCommandMsg{std::move(command), key})
      .then(
          [done, extra](const JobReply& r) {
            ApiReply out = reply(r.code, r.message, r.data);
            if (r.code == 0) out.extra = extra;
            done(std::move(out));
          },
          [done](caf::error& err) { done(reply(6000, "job actor did not answer: " + caf::to_string(err))); });
}

// Submit: validate what only this server can know (its components), then create the job.
void submit(Self self, ApiCallMsg& call) {
  auto& st = self->state;
  const Json& schema = call.request.params["dag_schema"];
  const Json* tasks = schema.contains("dag") && schema["dag"].is_object() && schema["dag"].contains("tasks")
                          ? &schema["dag"]["tasks"]
                          : nullptr;
  if (tasks && tasks->is_object()) {
    for (const auto& [name, task] : tasks->items()) {
      if (!task.is_object() || !task.contains("component_ref") || !task["component_ref"].is_string())
        continue;
      std::string component = task["component_ref"].get<std::string>();
      if (component.find('/') != std::string::npos ||
          !fs::exists(st.env->config.bin_dir + "/flowstone-" + component)) {
        call.reply(reply(1000, "dag.tasks." + name + ".component_ref: unknown component '" + component +
                                   "' (provider flowstone has no such component)"));
        return;
      }
    }
  }
  using namespace std::chrono;
  int64_t us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  st.counter = us == st.last_us ? st.counter + 1 : 0;
  st.last_us = us;
  std::string job_id = make_job_id(us, st.counter);
  std::string user;
  if (auto it = call.request.headers.find("user_name"); it != call.request.headers.end()) user = it->second;
  if (auto it = call.request.headers.find("user-name"); it != call.request.headers.end()) user = it->second;

  job_actor job = start_job(self, job_id);
  domain::CreateJob create{job_id, schema, st.env->config.party_id, user, st.env->config.defaults, 0};
  auto done = call.reply;
  self->request(job, kCommandTimeout, JobCommandMsg{std::move(create), ""})
      .then(
          [self, job, job_id, done](const JobReply& r) {
            if (r.code != 0) {  // nothing was stored: let the actor go
              self->state.jobs.erase(job_id);
              self->unlink_from(job);
              self->send_exit(job, caf::exit_reason::user_shutdown);
              done(reply(r.code, r.message));
              return;
            }
            ApiReply out = reply(0, "success", r.data);
            out.extra = Json{{"job_id", job_id}};
            done(std::move(out));
          },
          [done](caf::error& err) { done(reply(6000, "job actor did not answer: " + caf::to_string(err))); });
}

void handle(Self self, ApiCallMsg& call) {
  auto& st = self->state;
  const std::string& route = call.request.route;
  const Json& params = call.request.params;

  if (route == "job/submit") return submit(self, call);
  if (route == "site/info/query")
    return call.reply(reply(0, "success", Json{{"party_id", st.env->config.party_id}}));

  if (route == "job/stop" || route == "job/rerun" || route == "job/notes/add") {
    std::string job_id = param(params, "job_id");
    job_actor job = find_job(self, job_id);
    if (!job) return call.reply(reply(1001, "No found job: job_id[" + job_id + "]"));
    domain::JobCommand command;
    if (route == "job/stop") {
      command = domain::StopJob{domain::Status::canceled, "stopped by user", 0};
    } else if (route == "job/rerun") {
      command = domain::RerunJob{0};
    } else {
      command =
          domain::AddNotes{{param(params, "role"), param(params, "party_id")}, param(params, "notes"), 0};
    }
    return send_command(self, job, std::move(command), call.request, call.reply);
  }

  if (route == "worker/task/status") {
    std::string execution_id = param(params, "execution_id");
    auto status = domain::parse_status(param(params, "status"));
    if (!status || !domain::is_task_status(*status))
      return call.reply(net::invalid_request("json", "status",
                                             "Must be one of: waiting, running, canceled, timeout, "
                                             "failed, pass, success."));
    std::string job_id;
    if (!st.env->log->GetView(domain::kExecutionsView, execution_id, &job_id).ok())
      return call.reply(reply(2000, "No found task: execution_id[" + execution_id + "]"));
    job_actor job = find_job(self, job_id);
    if (!job) return call.reply(reply(2000, "No found task: execution_id[" + execution_id + "]"));
    return send_command(self, job, domain::ReportTaskStatus{execution_id, *status, param(params, "error"), 0},
                        call.request, call.reply);
  }

  self->send(st.env->queries, std::move(call));  // read-only routes
}

// Jobs whose copies have not all ended are brought back, so their runs are adopted or failed.
void recover(Self self) {
  auto& st = self->state;
  std::set<std::string> unfinished;
  st.env->log->ScanView(domain::kJobsView, "", [&](const std::string&, const std::string& value) {
    Json row = Json::parse(value, nullptr, false);
    auto status = domain::parse_status(row.value("status", ""));
    if (!status || !domain::is_end(*status)) unfinished.insert(row.value("job_id", ""));
    return true;
  });
  for (const auto& job_id : unfinished) {
    st.env->server_log->info("recovering job {}", job_id);
    find_job(self, job_id);
  }
}

registry_actor::behavior_type registry_impl(Self self, std::shared_ptr<Environment> env) {
  self->state.env = std::move(env);
  self->set_exit_handler([=](caf::exit_msg& exit) {
    auto& jobs = self->state.jobs;
    for (auto it = jobs.begin(); it != jobs.end(); ++it)
      if (it->second.address() == exit.source) {  // a job actor ended: start it again on demand
        self->state.env->server_log->warn("job {} actor ended: {}", it->first, caf::to_string(exit.reason));
        jobs.erase(it);
        return;
      }
    self->quit(exit.reason);
  });
  recover(self);
  return {
      [=](ApiCallMsg& call) { handle(self, call); },
  };
}

}  // namespace

std::string make_job_id(int64_t epoch_us, int counter) {
  std::time_t seconds = static_cast<std::time_t>(epoch_us / 1000000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  char micro[16];
  std::snprintf(micro, sizeof micro, "%06lld", static_cast<long long>(epoch_us % 1000000));
  return std::string(buf) + micro + std::to_string(counter);
}

registry_actor spawn_registry(caf::actor_system& system, std::shared_ptr<Environment> env) {
  return system.spawn(registry_impl, std::move(env));
}

}  // namespace flowstone::actors
