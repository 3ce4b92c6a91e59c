// The registry: finding and starting job actors, submit, dispatch of every route, recovery at start.
#include <algorithm>
#include <ctime>
#include <filesystem>

#include "actors/access/authenticator.hpp"
#include "actors/metrics/server_metrics.hpp"
#include "actors/registry/registry_parts.hpp"

namespace flowstone::actors::registry_parts {

namespace fs = std::filesystem;

void count_job_actors(Self self) {
  self->state.env->metrics->Set("flowstone_job_actors", {}, static_cast<double>(self->state.jobs.size()));
}

job_actor start_job(Self self, const std::string& job_id, bool new_job) {
  auto job = spawn_job(self->system(), self->state.env, job_id, new_job);
  self->link_to(job);  // the registry's shutdown takes its jobs with it
  self->state.jobs[job_id] = job;
  count_job_actors(self);
  return job;
}

// The job's actor, started from its stream if needed; invalid if the job does not exist here.
job_actor find_job(Self self, const std::string& job_id) {
  auto& st = self->state;
  if (auto it = st.jobs.find(job_id); it != st.jobs.end()) return it->second;
  if (job_id.empty() || st.env->log->StreamVersion(st.env->job_stream(job_id)) == 0) return {};
  return start_job(self, job_id);
}

// A job actor started for a create that was refused stored nothing: let it go.
void forget_job(Self self, const std::string& job_id, const job_actor& job) {
  self->state.jobs.erase(job_id);
  count_job_actors(self);
  self->unlink_from(job);
  self->send_exit(job, caf::exit_reason::user_shutdown);
}

std::string idempotency_key(const net::ApiRequest& request) {
  auto it = request.headers.find(kIdempotencyHeader);
  return it == request.headers.end() ? "" : it->second;
}

// Who a client route's caller is, for the audit: its app when client authentication verified it, else the
// address it called from. Other routes leave naming to the domain (a worker by its run, a partner as the
// job's scheduler).
std::string client_actor(const ServerConfig& config, const net::ApiRequest& request) {
  if (route_group(request.route) != RouteGroup::client) return "";
  auto app = request.headers.find("appid");
  if (config.auth.client && app != request.headers.end()) return "client app " + app->second;
  return request.remote_address.empty() ? "client" : "client at " + request.remote_address;
}

void send_command(Self self, const job_actor& job, domain::JobCommand command, const net::ApiRequest& request,
                  net::ApiCallback done) {
  self->request(job, kCommandTimeout,
                JobCommandMsg{std::move(command), idempotency_key(request),
                              client_actor(self->state.env->config, request)})
      .then([done](const JobReply& r) { done(reply(r.code, r.message, r.data)); },
            [done](caf::error& err) {
              done(reply(RetCode::server_exception, "job actor did not answer: " + caf::to_string(err)));
            });
}

// A call to another party on behalf of a client request; its answer is the client's reply.
void forward(Self self, const std::string& dest, const std::string& endpoint, Json body,
             net::ApiCallback done) {
  const ServerConfig& config = self->state.env->config;
  net::PartyCall call;
  call.lane = "client/" + body.value("job_id", std::string());
  call.dest_party_id = dest;
  call.endpoint = endpoint;
  call.body = std::move(body);
  call.initiator_party_id = config.party_id;
  call.give_up_after =
      std::chrono::milliseconds(std::min<int64_t>(config.federation.create_timeout_ms, 30000));
  self->state.env->parties->Send(std::move(call), [done](net::PartyAnswer answer) {
    ApiReply out = reply(answer.code, answer.message, answer.data);
    for (const auto& [key, value] : answer.reply.items())
      if (key != "code" && key != "message" && key != "data") out.extra[key] = value;
    done(std::move(out));
  });
}

// The scheduler party of a job this server has a copy of ("" if none).
std::string scheduler_of(Self self, const std::string& job_id) {
  std::string scheduler;
  self->state.env->log->ScanView(
      domain::kJobsView, domain::job_view_prefix(job_id), [&](const std::string&, const std::string& value) {
        scheduler = Json::parse(value, nullptr, false).value("scheduler_party_id", "");
        return false;
      });
  return scheduler;
}

bool is_local_party(const ServerConfig& config, const std::string& party_id) {
  return party_id.empty() || party_id == "0" || party_id == config.party_id;
}

// Every task's component must exist here: in its registered provider (dag.conf.task.provider or the
// task's conf.provider), else as a flowstone-<component> executable. Empty when they all do.
std::string missing_component(const Environment& env, const Json& dag) {
  const Json* tasks = dag.is_object() && dag.contains("tasks") ? &dag["tasks"] : nullptr;
  if (!tasks || !tasks->is_object()) return "";
  std::string job_provider;
  if (dag.contains("conf") && dag["conf"].is_object() && dag["conf"].contains("task") &&
      dag["conf"]["task"].is_object())
    job_provider = param(dag["conf"]["task"], "provider");
  for (const auto& [name, task] : tasks->items()) {
    if (!task.is_object() || !task.contains("component_ref") || !task["component_ref"].is_string()) continue;
    std::string component = task["component_ref"].get<std::string>();
    if (component == kNativeNoop) continue;
    std::string provider = job_provider;
    if (task.contains("conf") && task["conf"].is_object() && !param(task["conf"], "provider").empty())
      provider = param(task["conf"], "provider");
    if (!is_builtin_provider(provider)) {
      Json row = lookup_provider(*env.log, provider);
      if (row.is_null())
        return "dag.tasks." + name + ": provider '" + provider +
               "' is not registered here (/v2/provider/register)";
      const Json components = row.value("components", Json::array());
      if (!components.empty() &&
          std::find(components.begin(), components.end(), component) == components.end())
        return "dag.tasks." + name + ".component_ref: provider '" + provider + "' has no component '" +
               component + "'";
      continue;
    }
    if (component.find('/') != std::string::npos ||
        !fs::exists(env.config.bin_dir + "/flowstone-" + component))
      return "dag.tasks." + name + ".component_ref: unknown component '" + component +
             "' (provider flowstone has no such component)";
  }
  return "";
}

// Why a DAG that arrives (a submit, a partner's create) is refused before it reaches a job: an id that
// would become a path (a party id, a task name) of the wrong shape (5001 naming the field), or a component
// this server lacks (`missing_code`). Null when it is acceptable.
std::optional<ApiReply> dag_refusal(const Environment& env, const Json& dag, const std::string& at,
                                    RetCode missing_code, const std::string& missing_prefix) {
  std::string field;
  if (std::string problem = domain::dag_id_problem(dag, &field); !problem.empty())
    return net::invalid_request("json", at + field, problem + ".");
  if (std::string problem = missing_component(env, dag); !problem.empty())
    return reply(missing_code, missing_prefix + problem);
  return std::nullopt;
}

// The job dag.conf.inheritance names, replayed from its stream (null if there is none to inherit from).
std::shared_ptr<const domain::JobState> inherited_job(Self self, const Json& dag) {
  if (!dag.is_object() || !dag.contains("conf") || !dag["conf"].is_object()) return nullptr;
  const Json inheritance = dag["conf"].value("inheritance", Json(nullptr));
  if (!inheritance.is_object()) return nullptr;
  std::vector<store::StoredEvent> stored;
  self->state.env->log->ReadStream(self->state.env->job_stream(param(inheritance, "job_id")), 1, &stored);
  if (stored.empty()) return nullptr;
  auto state = std::make_shared<domain::JobState>();
  for (const auto& event : stored) {
    std::string error;
    auto decoded = store::decode_job_event(event.payload, &error);
    if (!decoded) return nullptr;
    domain::apply(*state, *decoded);
  }
  return state;
}

std::string new_job_id(Self self) {
  auto& st = self->state;
  using namespace std::chrono;
  int64_t us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  st.counter = us == st.last_us ? st.counter + 1 : 0;
  st.last_us = us;
  return make_job_id(us, st.counter);
}

// Creates a job this server schedules; answers {job_id, data:{model_id, model_version}}. A refused
// create stores nothing; its code is `refused_code` if set (scheduler/job/create answers 1002).
void create_job(Self self, Json schema, std::string initiator, std::string user, net::ApiCallback done,
                std::optional<RetCode> refused_code, std::string actor) {
  auto& st = self->state;
  std::string job_id = new_job_id(self);
  job_actor job = start_job(self, job_id, /*new_job=*/true);
  domain::CreateJob create{
      job_id,          std::move(schema),       st.env->config.party_id,        std::move(initiator),
      std::move(user), st.env->config.defaults, st.env->config.computing_cores, 0,
      nullptr};
  create.inherit_from = inherited_job(self, create.dag_schema.value("dag", Json::object()));
  self->request(job, kCommandTimeout, JobCommandMsg{std::move(create), "", std::move(actor)})
      .then(
          [self, job, job_id, done, refused_code](const JobReply& r) {
            if (!ok(r.code)) {
              forget_job(self, job_id, job);
              done(reply(refused_code.value_or(r.code), r.message));
              return;
            }
            ApiReply out = reply(RetCode::success, "success", r.data);
            out.extra = Json{{"job_id", job_id}};
            done(std::move(out));
          },
          [done](caf::error& err) {
            done(reply(RetCode::server_exception, "job actor did not answer: " + caf::to_string(err)));
          });
}

std::optional<ApiReply> waiting_cap_refusal(const Environment& env) {
  const int64_t cap = env.config.max_waiting_jobs;
  if (cap <= 0) return std::nullopt;
  const size_t waiting = env.job_board->Count(domain::Status::waiting);
  if (waiting < static_cast<size_t>(cap)) return std::nullopt;
  return reply(RetCode::create_job_failed,
               "Create job failed: " + std::to_string(waiting) + " jobs already wait at party " +
                   env.config.party_id +
                   ", the most it queues (flowstone.max_waiting_jobs); submit again when "
                   "some have started");
}

// Submit (spec 4.1): validate what only this server can know (its components), then create the job
// here, or hand it to the scheduler party named in dag.conf.
void submit(Self self, ApiCallMsg& call) {
  auto& st = self->state;
  const Json& schema = call.request.params["dag_schema"];
  const Json dag = schema.value("dag", Json::object());
  if (auto refused = dag_refusal(*st.env, dag, "dag_schema.", RetCode::job_params_error, ""))
    return call.reply(std::move(*refused));
  std::string user;
  for (const char* header : {"user_name", "user-name"})
    if (auto it = call.request.headers.find(header); it != call.request.headers.end()) user = it->second;
  std::string scheduler;
  if (dag.is_object() && dag.contains("conf") && dag["conf"].is_object())
    scheduler = param(dag["conf"], "scheduler_party_id");
  if (is_local_party(st.env->config, scheduler)) {
    if (auto refused = waiting_cap_refusal(*st.env)) return call.reply(std::move(*refused));
    return create_job(self, schema, "", user, call.reply, std::nullopt,
                      client_actor(st.env->config, call.request));
  }
  Json forwarded = dag;
  forwarded["conf"]["initiator_party_id"] = st.env->config.party_id;
  Json body{{"dag", forwarded},
            {"schema_version", schema.value("schema_version", Json("2.0.0"))},
            {"kind", "fate"}};
  forward(self, scheduler, "scheduler/job/create", std::move(body), call.reply);
}

Json site_info(const Environment& env) {
  Json partners = Json::array();
  for (const auto& row : env.parties->Reachability())
    if (row.party_id != "0" && row.party_id != env.config.party_id)
      partners.push_back(reachability_json(row));
  // Flowstone's additions (the dashboard's site page): capacity and what is in use or waiting now.
  return Json{{"party_id", env.config.party_id},
              {"partners", std::move(partners)},
              {"cores", env.config.computing_cores},
              {"cores_in_use", env.ledger_figures->cores_in_use.load()},
              {"reservations_waiting", env.ledger_figures->waiting.load()},
              {"started", env.started_ms}};
}

// ---- client routes answered here -------------------------------------------------------------------------

void site_info_route(Self self, ApiCallMsg& call) {
  call.reply(reply(RetCode::success, "success", site_info(*self->state.env)));
}

// `flow server info`: the flow instances, as FATE lists them ({instance_id: FlowInstance}); a Flowstone site
// is one instance.
void server_info(Self self, ApiCallMsg& call) {
  const Environment& env = *self->state.env;
  const std::string instance = "flow-" + env.config.host + "-" + std::to_string(env.http_port);
  call.reply(reply(RetCode::success, "success",
                   Json{{instance,
                         {{"instance_id", instance},
                          {"timestamp", env.started_ms},
                          {"version", kBuiltinProviderVersion},
                          {"host", env.config.host},
                          {"grpc_port", env.config.grpc_port},
                          {"http_port", env.http_port},
                          {"party_id", env.config.party_id},
                          {"server", "flowstone"}}}}));
}

namespace {

// The job a client route names at this site and its scheduler; false (with the reply given) when the job
// is not here.
struct ClientJob {
  std::string job_id;
  job_actor job;
  std::string scheduler;
  bool remote_scheduler = false;
};

bool client_job(Self self, ApiCallMsg& call, ClientJob* out) {
  out->job_id = param(call.request.params, "job_id");
  out->job = find_job(self, out->job_id);
  if (!out->job) {
    call.reply(reply(RetCode::job_not_found, "No found job: job_id[" + out->job_id + "]"));
    return false;
  }
  out->scheduler = scheduler_of(self, out->job_id);
  out->remote_scheduler = !is_local_party(self->state.env->config, out->scheduler);
  return true;
}

Json cancel_body(const std::string& job_id) {
  return Json{{"job_id", job_id}, {"stop_status", "canceled"}};
}

}  // namespace

// This party's runs are canceled first, then the scheduler stops the job everywhere (spec 4.6).
void stop_job(Self self, ApiCallMsg& call) {
  ClientJob at;
  if (!client_job(self, call, &at)) return;
  domain::StopJob stop{domain::Status::canceled, "stopped by user", 0};
  if (!at.remote_scheduler) return send_command(self, at.job, stop, call.request, call.reply);
  auto done = call.reply;
  // The callback runs in this actor (a response handler), so it may use `self`.
  send_command(self, at.job, stop, call.request, [self, at, done](ApiReply local) {
    if (!ok(local.code)) return done(std::move(local));
    forward(self, at.scheduler, "scheduler/job/stop", cancel_body(at.job_id), done);
  });
}

void rerun_job(Self self, ApiCallMsg& call) {
  ClientJob at;
  if (!client_job(self, call, &at)) return;
  std::string task_name = param(call.request.params, "task_name");  // Flowstone's addition: rerun from it
  if (!at.remote_scheduler)
    return send_command(self, at.job, domain::RerunJob{task_name, 0}, call.request, call.reply);
  Json body{{"job_id", at.job_id}};
  if (!task_name.empty()) body["task_name"] = task_name;
  forward(self, at.scheduler, "scheduler/job/rerun", std::move(body), call.reply);
}

// Stopped here and (through its scheduler) everywhere, then its views and outputs go (spec 1.6).
void clean_job(Self self, ApiCallMsg& call) {
  ClientJob at;
  if (!client_job(self, call, &at)) return;
  if (at.remote_scheduler)
    forward(self, at.scheduler, "scheduler/job/stop", cancel_body(at.job_id), [](ApiReply) {});
  send_command(self, at.job, domain::CleanJob{0}, call.request, call.reply);
}

void add_notes(Self self, ApiCallMsg& call) {
  ClientJob at;
  if (!client_job(self, call, &at)) return;
  const Json& params = call.request.params;
  domain::AddNotes notes{{param(params, "role"), param(params, "party_id")}, param(params, "notes"), 0};
  send_command(self, at.job, std::move(notes), call.request, call.reply);
}

// A worker reports its run's status (spec 1.9).
void worker_task_status(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  std::string execution_id = param(params, "execution_id");
  auto status = domain::parse_status(param(params, "status"));
  if (!status || !domain::is_task_status(*status))
    return call.reply(net::invalid_request("json", "status",
                                           "Must be one of: waiting, running, canceled, timeout, "
                                           "failed, pass, success."));
  std::string job_id;
  job_actor job;
  if (self->state.env->log->GetView(domain::kExecutionsView, execution_id, &job_id).ok())
    job = find_job(self, job_id);
  if (!job)
    return call.reply(reply(RetCode::task_not_found, "No found task: execution_id[" + execution_id + "]"));
  send_command(self, job, domain::ReportTaskStatus{execution_id, *status, param(params, "error"), 0},
               call.request, call.reply);
}

// The registry looks for idle job actors every quarter of the idle time (at most every 10 s).
void arm_idle_sweep(Self self) {
  auto& env = *self->state.env;
  const int64_t every = std::clamp<int64_t>(env.config.job_actor_idle_ms / 4, 50, 10000);
  auto handle = caf::actor_cast<registry_actor>(self);
  env.timers->at(env.now_ms() + every, [handle] { caf::anon_send(handle, idle_sweep_atom::value); });
}

// Stops the job actors at rest for longer than flowstone.job_actor_idle_ms (a few hundred per look). Each
// is asked, and the registry awaits its answer before it handles anything else, so no command reaches an
// actor that has stopped: a command that came first is handled by it (and it is no longer at rest), one
// that comes after starts a new actor, which replays the stream.
void stop_idle_jobs(Self self) {
  auto& st = self->state;
  constexpr size_t kMostPerLook = 256;
  for (const std::string& job_id :
       st.env->job_board->RestingSince(st.env->now_ms() - st.env->config.job_actor_idle_ms, kMostPerLook)) {
    auto it = st.jobs.find(job_id);
    if (it == st.jobs.end()) {
      st.env->job_board->SetRest(job_id, 0);
      continue;
    }
    job_actor job = it->second;
    st.retiring.insert(job.address());
    self->request(job, std::chrono::seconds(5), retire_atom::value)
        .await(
            [self, job_id, job](bool retired) {
              auto& st = self->state;
              if (!retired) {
                st.retiring.erase(job.address());
                return;
              }
              // Its exit message follows (it was linked); the actor is gone from the table already.
              if (auto found = st.jobs.find(job_id); found != st.jobs.end() && found->second == job)
                st.jobs.erase(found);
              count_job_actors(self);
            },
            [self, job](caf::error&) { self->state.retiring.erase(job.address()); });
  }
}

// Jobs whose copies have not all ended are brought back, so their runs are adopted or failed. So are the
// ended jobs this site schedules that still owe a party the call telling it of the end (no EndDelivered
// from it yet): recovery repeats those calls, and each party answers a repeat with "no effect". Every
// other ended job stays in the log and its views, and is replayed only if a command names it.
void recover(Self self) {
  auto& st = self->state;
  std::set<std::string> unfinished;
  st.env->log->ScanView(domain::kJobsView, "", [&](const std::string&, const std::string& value) {
    Json row = Json::parse(value, nullptr, false);
    auto status = domain::parse_status(row.value("status", ""));
    if (!status || !domain::is_end(*status) || row.value("end_undelivered", false))
      unfinished.insert(row.value("job_id", ""));
    return true;
  });
  if (unfinished.empty()) st.env->metrics->Set("flowstone_replay_duration_seconds", {}, 0);
  st.env->job_board->ExpectReplays({unfinished.begin(), unfinished.end()});
  for (const auto& job_id : unfinished) {
    st.env->server_log->info("[job-{}] recovering the job", job_id);
    find_job(self, job_id);
  }
}

registry_actor::behavior_type registry_impl(Self self, std::shared_ptr<Environment> env) {
  self->state.env = std::move(env);
  self->set_exit_handler([=](caf::exit_msg& exit) {
    auto& st = self->state;
    const bool retired = st.retiring.erase(exit.source) > 0;
    for (auto it = st.jobs.begin(); it != st.jobs.end(); ++it)
      if (it->second.address() == exit.source) {  // a job actor ended: start it again on demand
        if (!retired)
          st.env->server_log->warn("[job-{}] the job's actor ended: {}", it->first,
                                   caf::to_string(exit.reason));
        st.jobs.erase(it);
        count_job_actors(self);
        return;
      }
    if (!retired) self->quit(exit.reason);
  });
  recover(self);
  arm_idle_sweep(self);
  return {
      [=](ApiCallMsg& call) {
        observe_mailbox(*self->state.env->metrics, "registry", self);
        call.route->answer.command(self, call);  // the route table names the handler
      },
      [=](idle_sweep_atom) {
        stop_idle_jobs(self);
        arm_idle_sweep(self);
      },
  };
}

}  // namespace flowstone::actors::registry_parts

namespace flowstone::actors {

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
  return system.spawn(registry_parts::registry_impl, std::move(env));
}

}  // namespace flowstone::actors
