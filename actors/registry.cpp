#include "actors/registry.hpp"

#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <variant>

#include "actors/job/job_actor.hpp"
#include "actors/outputs.hpp"
#include "events/common/ids.hpp"
#include "events/job/views.hpp"
#include "events/resources/ledger.hpp"
#include "store/codec/job_codec.hpp"

namespace flowstone::actors {
namespace {

namespace fs = std::filesystem;
using net::ApiReply;

constexpr auto kCommandTimeout = std::chrono::seconds(60);
const char* kIdempotencyHeader = "x-flowstone-idempotency-key";

struct RegistryState {
  std::shared_ptr<Environment> env;
  std::unordered_map<std::string, job_actor> jobs;
  // Relay messages that arrived for this server's runs, until their worker takes them (in memory: a
  // relay belongs to one run, which is failed and retried if the server restarts under it).
  std::map<std::string, Json> relay_inbox;
  int64_t last_us = 0;
  int counter = 0;
  static inline const char* name = "flowstone.registry";
};

using Self = registry_actor::stateful_pointer<RegistryState>;

using net::param;
using net::reply;

job_actor start_job(Self self, const std::string& job_id, bool new_job = false) {
  auto job = spawn_job(self->system(), self->state.env, job_id, new_job);
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

// A job actor started for a create that was refused stored nothing: let it go.
void forget_job(Self self, const std::string& job_id, const job_actor& job) {
  self->state.jobs.erase(job_id);
  self->unlink_from(job);
  self->send_exit(job, caf::exit_reason::user_shutdown);
}

std::string idempotency_key(const net::ApiRequest& request) {
  auto it = request.headers.find(kIdempotencyHeader);
  return it == request.headers.end() ? "" : it->second;
}

void send_command(Self self, const job_actor& job, domain::JobCommand command, const net::ApiRequest& request,
                  net::ApiCallback done) {
  self->request(job, kCommandTimeout, JobCommandMsg{std::move(command), idempotency_key(request)})
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
                std::optional<RetCode> refused_code) {
  auto& st = self->state;
  std::string job_id = new_job_id(self);
  job_actor job = start_job(self, job_id, /*new_job=*/true);
  domain::CreateJob create{
      job_id,          std::move(schema),       st.env->config.party_id,        std::move(initiator),
      std::move(user), st.env->config.defaults, st.env->config.computing_cores, 0,
      nullptr};
  create.inherit_from = inherited_job(self, create.dag_schema.value("dag", Json::object()));
  self->request(job, kCommandTimeout, JobCommandMsg{std::move(create), ""})
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
  if (is_local_party(st.env->config, scheduler))
    return create_job(self, schema, "", user, call.reply, std::nullopt);
  Json forwarded = dag;
  forwarded["conf"]["initiator_party_id"] = st.env->config.party_id;
  Json body{{"dag", forwarded},
            {"schema_version", schema.value("schema_version", Json("2.0.0"))},
            {"kind", "fate"}};
  forward(self, scheduler, "scheduler/job/create", std::move(body), call.reply);
}

// ---- partner and scheduler routes (spec 1.7, 1.8) -----------------------------------------------------

domain::PartyRef party_of(const Json& params) {
  return domain::PartyRef{param(params, "role"), param(params, "party_id")};
}

int task_version_of(const Json& params) {
  auto it = params.find("task_version");
  return it != params.end() && it->is_number_integer() ? it->get<int>() : 0;
}

std::optional<domain::Status> status_param(const Json& params, const char* name) {
  return domain::parse_status(param(params, name));
}

ApiReply bad_status(const char* field) {
  return net::invalid_request(
      "json", field, "Must be one of: waiting, ready, running, canceled, timeout, failed, pass, success.");
}

// partner/job/create: this server's copies of a job another party schedules.
void join(Self self, ApiCallMsg& call) {
  auto& st = self->state;
  const Json& params = call.request.params;
  std::string job_id = param(params, "job_id");
  if (auto refused =
          dag_refusal(*st.env, params["dag"], "", RetCode::create_job_failed, "Create job failed: "))
    return call.reply(std::move(*refused));
  job_actor job = find_job(self, job_id);
  const bool existed = static_cast<bool>(job);
  if (!existed) job = start_job(self, job_id);
  Json schema{{"dag", params["dag"]}, {"schema_version", params.value("schema_version", Json("2.0.0"))}};
  domain::JoinJob command{job_id,
                          std::move(schema),
                          party_of(params),
                          st.env->config.party_id,
                          st.env->config.defaults,
                          st.env->config.computing_cores,
                          0,
                          inherited_job(self, params["dag"])};
  auto done = call.reply;
  self->request(job, kCommandTimeout, JobCommandMsg{std::move(command), idempotency_key(call.request)})
      .then(
          [self, job, job_id, existed, done](const JobReply& r) {
            if (!ok(r.code) && !existed) forget_job(self, job_id, job);
            done(reply(r.code, r.message, r.data));
          },
          [done](caf::error& err) {
            done(reply(RetCode::server_exception, "job actor did not answer: " + caf::to_string(err)));
          });
}

// The command a partner or scheduler route stands for; a reply instead when the request is refused
// before reaching the job.
std::variant<domain::JobCommand, ApiReply> site_command(const std::string& route, const Json& params,
                                                        const std::string& job_id) {
  using namespace domain;
  PartyRef party = party_of(params);
  std::string task = task_name_of(job_id, param(params, "task_id"));
  int version = task_version_of(params);
  std::string reason = param(params, "reason");
  if (params.contains("task_id") && task.empty())
    return reply(RetCode::task_not_found,
                 "No found task: task_id[" + param(params, "task_id") + "] is not a task of job " + job_id);
  if (route == "partner/job/status/update") {
    auto status = status_param(params, "status");
    if (!status) return bad_status("status");
    return UpdateCopyStatus{party, *status, reason, false, 0};
  }
  if (route == "partner/job/start") return UpdateCopyStatus{party, Status::running, "started", true, 0};
  if (route == "partner/job/stop") {
    auto status = status_param(params, "stop_status");
    Status stop = status && is_interrupt(*status) ? *status : Status::failed;  // FATE-Flow sends none: failed
    return StopCopy{party, stop, reason.empty() ? "stopped by the scheduler" : reason, 0};
  }
  if (route == "partner/task/status/update") {
    auto status = status_param(params, "status");
    if (!status) return bad_status("status");
    return UpdateTaskStatus{party, task, version, *status, reason, 0};
  }
  if (route == "partner/task/start") return StartTask{party, task, version, 0};
  if (route == "partner/task/stop") {
    auto status = params.contains("status") ? status_param(params, "status") : Status::failed;
    if (!status) return bad_status("status");
    return StopTask{party, task, version, *status, reason.empty() ? "stopped by the scheduler" : reason, 0};
  }
  if (route == "partner/task/collect") return CollectTask{party, task, version, 0};
  if (route == "partner/task/rerun") {
    auto it = params.find("new_version");
    return RerunTask{party, task, it != params.end() && it->is_number_integer() ? it->get<int>() : 0, 0};
  }
  if (route == "scheduler/task/report") {
    auto status = status_param(params, "status");
    if (!status) return bad_status("status");
    return ReportPartyStatus{party, task, version, *status, param(params, "error"), false, 0};
  }
  if (route == "scheduler/job/stop") {
    auto status = params.contains("stop_status") ? status_param(params, "stop_status") : Status::canceled;
    if (!status || !is_interrupt(*status)) return bad_status("stop_status");
    return StopJob{*status, "stopped at another party", 0};
  }
  if (route == "scheduler/job/rerun") return RerunJob{param(params, "task_name"), 0};
  return reply(RetCode::server_not_found, "No found route: /v2/" + route);
}

// partner/job/resource/apply and return (spec 5.3): the resource manager decides, the job records it.
// Task resources (spec 5.4) are carved from the copy's job cores: the job decides them itself
// (events/task_resources.hpp) and answers 2004 when its running tasks leave too few.
void resource_route(Self self, ApiCallMsg& call) {
  auto& st = self->state;
  const std::string& route = call.request.route;
  const Json& params = call.request.params;
  std::string job_id = param(params, "job_id");
  domain::PartyRef party = party_of(params);
  bool task = route.rfind("partner/task/", 0) == 0;
  std::string row_text;
  job_actor job = find_job(self, job_id);
  if (!job || !st.env->log->GetView(domain::kJobsView, domain::job_view_key(job_id, party), &row_text).ok())
    return call.reply(reply(task ? RetCode::task_resource_exception : RetCode::job_resource_exception,
                            std::string(task ? "Task" : "Job") + " resource exception: no found job " +
                                job_id + " at " + party.role + ":" + party.party_id));
  if (task) {
    std::string task_name = domain::task_name_of(job_id, param(params, "task_id"));
    int version = task_version_of(params);
    if (route == "partner/task/resource/apply")
      return send_command(self, job, domain::ApplyTaskResources{party, task_name, version, 0}, call.request,
                          call.reply);
    return send_command(self, job, domain::ReturnTaskResources{party, task_name, version, 0}, call.request,
                        call.reply);
  }
  if (route == "partner/job/resource/return")
    return send_command(self, job, domain::ReturnResources{party, "returned by the scheduler", 0},
                        call.request, call.reply);
  Json row = Json::parse(row_text, nullptr, false);
  ReserveMsg reserve{job_id, party, row.value("cores", 0), row.value("priority", 0),
                     domain::job_order(job_id)};
  auto done = call.reply;
  auto request = call.request;
  self->request(st.env->resources, kCommandTimeout, std::move(reserve))
      .then(
          [self, job, job_id, party, request, done](const ReserveReply& granted) {
            if (!ok(granted.code)) return done(reply(granted.code, granted.message));
            send_command(self, job, domain::HoldResources{party, 0}, request,
                         [self, job_id, party, done](ApiReply r) {
                           if (!ok(r.code)) self->send(self->state.env->resources, ReleaseMsg{job_id, party});
                           done(std::move(r));
                         });
          },
          [done](caf::error& err) {
            done(reply(RetCode::job_resource_exception,
                       "resource manager did not answer: " + caf::to_string(err)));
          });
}

void site_route(Self self, ApiCallMsg& call) {
  const std::string& route = call.request.route;
  const Json& params = call.request.params;
  if (route == "partner/job/create") return join(self, call);
  if (route == "scheduler/job/create") {
    auto it = call.request.headers.find("initiator-party-id");
    std::string initiator = it == call.request.headers.end() ? "" : it->second;
    Json schema{{"dag", params["dag"]}, {"schema_version", params.value("schema_version", Json("2.0.0"))}};
    if (auto refused = dag_refusal(*self->state.env, params["dag"], "", RetCode::create_job_failed, ""))
      return call.reply(std::move(*refused));
    return create_job(self, std::move(schema), initiator, "", call.reply, RetCode::create_job_failed);
  }
  if (route.find("/resource/") != std::string::npos) return resource_route(self, call);
  std::string job_id = param(params, "job_id");
  job_actor job = find_job(self, job_id);
  bool task_route = params.contains("task_id");
  if (!job)
    return call.reply(task_route ? reply(RetCode::task_not_found, "No found task: job_id[" + job_id + "]")
                                 : reply(RetCode::job_not_found, "No found job: job_id[" + job_id + "]"));
  if (route == "partner/job/update")
    return call.reply(reply(RetCode::success, "success"));  // progress is computed here
  auto command = site_command(route, params, job_id);
  if (auto* refused = std::get_if<ApiReply>(&command)) return call.reply(std::move(*refused));
  send_command(self, job, std::move(std::get<domain::JobCommand>(command)), call.request, call.reply);
}

// /v2/job/queue/clean: every job waiting here is stopped as canceled by its scheduler (spec 1.6);
// data = {job_id: that stop's answer}.
void clean_queue(Self self, ApiCallMsg& call) {
  auto& st = self->state;
  std::set<std::string> waiting;
  st.env->log->ScanView(domain::kJobsView, "", [&](const std::string&, const std::string& value) {
    Json row = Json::parse(value, nullptr, false);
    if (row.is_object() && row.value("status", "") == "waiting") waiting.insert(row.value("job_id", ""));
    return true;
  });
  struct Gather {  // answers arrive on this actor and on the party client's threads
    std::mutex mu;
    Json answers = Json::object();
    size_t left = 0;
    net::ApiCallback done;
  };
  auto gather = std::make_shared<Gather>();
  gather->left = waiting.size();
  gather->done = call.reply;
  if (waiting.empty()) return call.reply(reply(RetCode::success, "success", Json::object()));
  for (const std::string& job_id : waiting) {
    auto answered = [gather, job_id](ApiReply r) {
      std::lock_guard<std::mutex> lock(gather->mu);
      gather->answers[job_id] = Json{{"code", r.code}, {"message", r.message}};
      if (--gather->left == 0) gather->done(reply(RetCode::success, "success", gather->answers));
    };
    std::string scheduler = scheduler_of(self, job_id);
    if (!is_local_party(st.env->config, scheduler)) {
      forward(self, scheduler, "scheduler/job/stop", Json{{"job_id", job_id}, {"stop_status", "canceled"}},
              answered);
      continue;
    }
    job_actor job = find_job(self, job_id);
    if (!job) {
      answered(reply(RetCode::job_not_found, "No found job: job_id[" + job_id + "]"));
      continue;
    }
    send_command(self, job, domain::StopJob{domain::Status::canceled, "queue cleaned", 0}, call.request,
                 answered);
  }
}

// ---- what runs produce: the worker's saves, deletes, tables, providers, models, uploads ------------------

struct RunRef {  // a run named by its execution id <task_id>_<version>_<role>_<party_id>
  std::string job_id, task_name;
  int task_version = 0;
  domain::PartyRef party;
  std::string federation_id() const {
    return domain::task_id_of(job_id, task_name) + "_" + std::to_string(task_version);
  }
};

std::optional<RunRef> run_of(Self self, const std::string& execution_id) {
  RunRef run;
  if (!self->state.env->log->GetView(domain::kExecutionsView, execution_id, &run.job_id).ok())
    return std::nullopt;
  // Party ids and roles hold no '_'; task names may, so the id is read from its end.
  std::vector<std::string> tail;
  std::string rest = execution_id;
  for (int i = 0; i < 3; ++i) {
    auto cut = rest.rfind('_');
    if (cut == std::string::npos) return std::nullopt;
    tail.push_back(rest.substr(cut + 1));
    rest.resize(cut);
  }
  run.party = {tail[1], tail[0]};
  run.task_version = std::atoi(tail[2].c_str());
  run.task_name = domain::task_name_of(run.job_id, rest);
  if (run.task_name.empty()) return std::nullopt;
  return run;
}

ApiReply no_execution(const std::string& execution_id) {
  return reply(RetCode::task_not_found, "No found task: execution_id[" + execution_id + "]");
}

// Sends `command` to the job of the run `execution_id` names; 2000 if there is none.
void to_run_job(Self self, ApiCallMsg& call, const std::function<domain::JobCommand(const RunRef&)>& make,
                net::ApiCallback done) {
  std::string execution_id = param(call.request.params, "execution_id");
  auto run = run_of(self, execution_id);
  job_actor job = run ? find_job(self, run->job_id) : job_actor{};
  if (!job) return done(no_execution(execution_id));
  send_command(self, job, make(*run), call.request, std::move(done));
}

void catalog_command(Self self, domain::CatalogCommand command, net::ApiCallback done) {
  self->request(self->state.env->catalog, kCommandTimeout, CatalogCommandMsg{std::move(command)})
      .then([done](const JobReply& r) { done(reply(r.code, r.message, r.data)); },
            [done](caf::error& err) {
              done(reply(RetCode::server_exception, "catalog did not answer: " + caf::to_string(err)));
            });
}

// A tracked output with a uri is a storage table too (spec 1.9): registered once the job recorded it.
domain::TableMeta table_of_record(const Json& r, const std::string& job_id) {
  domain::TableMeta t;
  auto [engine, path] = uri_address(r.value("uri", ""));
  t.ns = r.value("namespace", "");
  t.name = r.value("name", "");
  t.engine = engine;
  t.path = path;
  t.data_type = r.value("data_type", "");
  t.job_id = job_id;
  const Json overview = r.value("overview", Json::object());
  t.count = overview.contains("count") && overview["count"].is_number_integer()
                ? overview["count"].get<int64_t>()
                : 0;
  t.part_of_data = overview.contains("samples") ? overview["samples"] : Json::array();
  t.partitions = r.value("partitions", 16);
  t.meta = r.value("meta_data", Json::object());
  t.source = r.value("source", Json::object());
  return t;
}

void track_data(Self self, ApiCallMsg& call) {
  Json record = call.request.params;
  record.erase("execution_id");
  auto done = call.reply;
  to_run_job(
      self, call,
      [&](const RunRef&) {
        return domain::TrackDataOutput{param(call.request.params, "execution_id"), record, 0};
      },
      [self, record, done, run = run_of(self, param(call.request.params, "execution_id"))](ApiReply r) {
        if (!ok(r.code) || record.value("uri", "").empty() || !run) return done(std::move(r));
        catalog_command(self, domain::RegisterTable{table_of_record(record, run->job_id), 0}, done);
      });
}

void save_model(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  auto file = call.request.files.find("file");
  if (file == call.request.files.end())
    return call.reply(net::invalid_request("form", "file", "Missing data for required field."));
  std::string execution_id = param(params, "execution_id");
  auto run = run_of(self, execution_id);
  job_actor job = run ? find_job(self, run->job_id) : job_actor{};
  if (!job) return call.reply(no_execution(execution_id));
  domain::ModelSaved model;
  model.execution_id = execution_id;
  model.output_key = param(params, "output_key");
  model.type_name = param(params, "type_name");
  model.model_id = param(params, "model_id");
  model.model_version = param(params, "model_version");
  for (const std::string* part : {&model.model_id, &model.model_version, &model.output_key})
    if (std::string problem = domain::table_name_problem(*part); !problem.empty())
      return call.reply(reply(RetCode::invalid_parameter, "Invalid request: '" + *part + "' " + problem));
  model.storage_key = domain::model_storage_key(model.model_id, model.model_version, run->party,
                                                run->task_name, model.output_key);
  auto done = call.reply;
  auto request = call.request;
  self->request(self->state.env->catalog, kCommandTimeout,
                StoreModelMsg{model.storage_key, file->second.data})
      .then(
          [self, job, model, request, done](const StoreModelReply& stored) mutable {
            if (!ok(stored.code)) return done(reply(stored.code, stored.message));
            model.file = stored.model.file;
            model.size = stored.model.size;
            model.digest = stored.model.digest;
            model.meta_data = stored.model.meta_data;
            send_command(self, job, domain::SaveModel{model, 0}, request, done);
          },
          [done](caf::error& err) {
            done(reply(RetCode::server_exception, "catalog did not answer: " + caf::to_string(err)));
          });
}

std::string relay_key(const std::string& federation_id, const domain::PartyRef& src,
                      const domain::PartyRef& dest, const std::string& key) {
  return domain::join0({federation_id, src.role, src.party_id, dest.role, dest.party_id, key});
}

void relay_send(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  std::string execution_id = param(params, "execution_id");
  auto run = run_of(self, execution_id);
  if (!run) return call.reply(no_execution(execution_id));
  domain::PartyRef dest{param(params, "dest_role"), param(params, "dest_party_id")};
  Json payload = params.contains("payload") ? params["payload"] : Json(nullptr);
  if (is_local_party(self->state.env->config, dest.party_id)) {
    self->state.relay_inbox[relay_key(run->federation_id(), run->party, dest, param(params, "key"))] =
        payload;
    return call.reply(reply(RetCode::success, "success"));
  }
  Json body{{"job_id", run->job_id},       {"federation_id", run->federation_id()},
            {"src_role", run->party.role}, {"src_party_id", run->party.party_id},
            {"dest_role", dest.role},      {"dest_party_id", dest.party_id},
            {"key", param(params, "key")}, {"payload", payload}};
  forward(self, dest.party_id, "partner/relay/receive", std::move(body), call.reply);
}

void relay_deliver(Self self, ApiCallMsg& call) {
  const Json& p = call.request.params;
  self->state
      .relay_inbox[relay_key(param(p, "federation_id"), {param(p, "src_role"), param(p, "src_party_id")},
                             {param(p, "dest_role"), param(p, "dest_party_id")}, param(p, "key"))] =
      p.contains("payload") ? p["payload"] : Json(nullptr);
  call.reply(reply(RetCode::success, "success"));
}

void relay_receive(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  std::string execution_id = param(params, "execution_id");
  auto run = run_of(self, execution_id);
  if (!run) return call.reply(no_execution(execution_id));
  auto& inbox = self->state.relay_inbox;
  auto it =
      inbox.find(relay_key(run->federation_id(), {param(params, "src_role"), param(params, "src_party_id")},
                           run->party, param(params, "key")));
  if (it == inbox.end()) return call.reply(reply(RetCode::no_found_model_output, "not arrived yet"));
  Json payload = std::move(it->second);
  inbox.erase(it);
  call.reply(reply(RetCode::success, "success", std::move(payload)));
}

void delete_task_tracking(Self self, ApiCallMsg& call, const char* kind) {
  const Json& params = call.request.params;
  job_actor job = find_job(self, param(params, "job_id"));
  if (!job)
    return call.reply(reply(RetCode::job_not_found, "No found job: job_id[" + param(params, "job_id") + "]"));
  domain::TrackingDeleted what{kind, param(params, "task_name"), party_of(params), ""};
  send_command(self, job, domain::DeleteTracking{what, 0}, call.request, call.reply);
}

// /v2/model/delete: the models of one id and version, whichever jobs saved them, and imported ones.
void delete_models(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  std::string id = param(params, "model_id"), version = param(params, "model_version");
  std::set<std::string> jobs;
  self->state.env->log->ScanView(domain::kModelsView, domain::join0({id, version}) + '\0',
                                 [&](const std::string&, const std::string& value) {
                                   jobs.insert(Json::parse(value, nullptr, false).value("job_id", ""));
                                   return true;
                                 });
  struct Gather {
    size_t left = 0;
    bool any = false;
    net::ApiCallback done;
  };
  auto gather = std::make_shared<Gather>();
  gather->left = jobs.size() + 1;
  gather->done = call.reply;
  auto answered = [gather, id, version](ApiReply r) {  // runs in this actor: no lock needed
    gather->any = gather->any || (ok(r.code) && r.data.is_boolean() && r.data.get<bool>());
    if (--gather->left > 0) return;
    if (!gather->any)
      return gather->done(reply(RetCode::no_found_model_output,
                                "No found model: model_id[" + id + "] model_version[" + version + "]"));
    gather->done(reply(RetCode::success, "success", Json{{"count", true}}));
  };
  domain::TrackingDeleted what{"model",
                               param(params, "task_name"),
                               {param(params, "role"), param(params, "party_id")},
                               param(params, "output_key")};
  for (const std::string& job_id : jobs) {
    job_actor job = find_job(self, job_id);
    if (!job) {
      answered(reply(RetCode::job_not_found, "No found job"));
      continue;
    }
    send_command(self, job, domain::DeleteTracking{what, 0}, call.request, answered);
  }
  catalog_command(self,
                  domain::DeleteImportedModels{id, version, param(params, "role"), param(params, "party_id"),
                                               param(params, "task_name"), param(params, "output_key"), 0},
                  answered);
}

void import_models(Self self, ApiCallMsg& call) {
  auto file = call.request.files.find("file");
  if (file == call.request.files.end())
    return call.reply(reply(RetCode::no_found_file, "No found file: the form has no 'file'"));
  auto done = call.reply;
  self->request(self->state.env->catalog, kCommandTimeout,
                ImportModelsMsg{param(call.request.params, "model_id"),
                                param(call.request.params, "model_version"), file->second.data})
      .then([done](const JobReply& r) { done(reply(r.code, r.message, r.data)); },
            [done](caf::error& err) {
              done(reply(RetCode::server_exception, "catalog did not answer: " + caf::to_string(err)));
            });
}

// A local provider's package (path) and executable (entrypoint) must lie under flowstone.provider_roots,
// and none of its files (venv included) where clients write (the data dir, the file roots); a missing one
// is 8001 (spec 1.6). Null when acceptable.
std::optional<ApiReply> local_provider_refusal(const ServerConfig& config, const Json& metadata) {
  const net::FileRoots providers = config.provider_folders(), writable = config.file_roots();
  for (const char* key : {"path", "venv", "entrypoint"}) {
    std::string path = param(metadata, key);
    if (path.empty()) continue;
    const std::string field = std::string("metadata.") + key;
    std::error_code ec;
    if (!fs::path(path).is_absolute())
      return net::invalid_request("json", field, "must be an absolute path.");
    if (!fs::exists(path, ec)) return reply(RetCode::file_not_found, field + ": " + path + " does not exist");
    std::string resolved = net::resolve_path(path);
    if (writable.Contains(resolved))
      return reply(RetCode::no_permission, "No permission: " + field + " " + path +
                                               " lies in a folder clients can write into " +
                                               writable.Describe());
    if (std::string(key) != "venv" && !providers.Contains(resolved))
      return reply(RetCode::no_permission, "No permission: " + field + " " + path +
                                               " is outside flowstone.provider_roots " +
                                               providers.Describe());
  }
  return std::nullopt;
}

void register_provider(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  domain::ProviderInfo p;
  p.name = param(params, "name");
  p.version = param(params, "version");
  p.device = param(params, "device");
  p.metadata = params["metadata"];
  if (params.contains("protocol") && params["protocol"].is_string())
    p.protocol = params["protocol"].get<std::string>();
  if (params.contains("components_description") && params["components_description"].is_object())
    for (const auto& [component, description] : params["components_description"].items())
      p.components.push_back(component);
  // A provider names what this server will run: only an operator on this machine registers one (until
  // authentication says who is an admin).
  if (!call.request.from_loopback())
    return call.reply(reply(RetCode::no_permission,
                            "No permission: providers are registered from this machine only (the call "
                            "came from " +
                                call.request.remote_address + ")"));
  if (p.device == "local")
    if (auto refused = local_provider_refusal(self->state.env->config, p.metadata))
      return call.reply(std::move(*refused));
  catalog_command(self, domain::RegisterProvider{std::move(p), 0}, call.reply);
}

void delete_providers(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  domain::DeleteProviders command{param(params, "name"), param(params, "version"), param(params, "device"),
                                  0};
  if (std::string full = param(params, "provider_name"); !full.empty()) {  // name:version@device
    auto at = full.find('@'), colon = full.find(':');
    command.name = full.substr(0, std::min(at, colon));
    if (colon != std::string::npos)
      command.version = full.substr(colon + 1, at == std::string::npos ? at : at - colon - 1);
    if (at != std::string::npos) command.device = full.substr(at + 1);
  }
  catalog_command(self, std::move(command), call.reply);
}

void bind_table(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  domain::TableMeta t;
  t.ns = param(params, "namespace");
  t.name = param(params, "name");
  t.engine = "path";
  if (std::string problem = self->state.env->config.file_roots().Confine(param(params, "path"), &t.path);
      !problem.empty())
    return call.reply(reply(RetCode::no_permission, "No permission: path " + problem));
  t.data_type = "data_directory";
  t.source = Json{{"type", "bind"}};
  catalog_command(self, domain::RegisterTable{std::move(t), 0}, call.reply);
}

// A local job of one task at party "0" (uploads and transforms, spec 8); answers the submit's reply with
// data {namespace, name}.
void submit_local_job(Self self, const std::string& task, Json task_spec, const std::string& ns,
                      const std::string& name, net::ApiCallback done) {
  Json schema{{"schema_version", "2.1.0"},
              {"kind", "fate"},
              {"dag",
               {{"parties", Json::array({Json{{"role", "local"}, {"party_id", Json::array({"0"})}}})},
                {"conf", {{"scheduler_party_id", "0"}}},
                {"tasks", {{task, std::move(task_spec)}}}}}};
  create_job(
      self, std::move(schema), "", "",
      [done, ns, name](ApiReply r) {
        if (ok(r.code)) r.data = Json{{"namespace", ns}, {"name", name}};
        done(std::move(r));
      },
      std::nullopt);
}

// The first unusable name among `fields` (namespace, name...), as the reply; null if all are usable.
std::optional<ApiReply> bad_table_name(const std::vector<std::pair<const char*, std::string>>& fields) {
  for (const auto& [field, value] : fields)
    if (!value.empty())
      if (std::string problem = domain::table_name_problem(value); !problem.empty())
        return net::invalid_request("json", field, "'" + value + "' " + problem + ".");
  return std::nullopt;
}

// A yes/no parameter as JSON or form text (true/True/1, false/False/0); nullopt when absent or neither.
std::optional<bool> flag_param(const Json& params, const char* name) {
  const std::string text = param(params, name);
  if (text == "true" || text == "True" || text == "1") return true;
  if (text == "false" || text == "False" || text == "0") return false;
  return std::nullopt;
}

// FATE's drop rule for a job that writes table ns.name: an existing table is replaced only when `drop` is
// true (the default is `drop_default`: true for the transformer as in FATE 2.x, false for uploads, so a
// second upload never silently replaces data); else 7002. Null when the job may go ahead.
std::optional<ApiReply> existing_table_refusal(Self self, const Json& params, const std::string& ns,
                                               const std::string& name, bool drop_default = false) {
  if (ns.empty() || name.empty()) return std::nullopt;
  const bool drop = flag_param(params, "drop").value_or(drop_default);
  std::string existing;
  if (drop || !self->state.env->log->GetView(domain::kTablesView, domain::join0({ns, name}), &existing).ok())
    return std::nullopt;
  return reply(RetCode::table_exists,
               "Table " + ns + "." + name + " already exists: pass drop=true to replace it");
}

// /v2/data/component/dataframe/transformer: a table (data_warehouse) becomes a dataframe {namespace, name}.
void transform_table(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  const Json& source = params["data_warehouse"];
  std::string ns = param(params, "namespace"), name = param(params, "name");
  if (auto bad = bad_table_name({{"namespace", ns}, {"name", name}})) return call.reply(std::move(*bad));
  if (auto exists = existing_table_refusal(self, params, ns, name, true))
    return call.reply(std::move(*exists));
  std::string existing;
  if (!self->state.env->log
           ->GetView(domain::kTablesView, domain::join0({param(source, "namespace"), param(source, "name")}),
                     &existing)
           .ok())
    return call.reply(reply(
        RetCode::table_not_found,
        "No found table: namespace[" + param(source, "namespace") + "] name[" + param(source, "name") + "]"));
  Json task{{"component_ref", "dataframe_transformer"},
            {"parameters", {{"namespace", ns}, {"name", name}}},
            {"inputs",
             {{"data",
               {{"table",
                 {{"data_warehouse",
                   {{"name", param(source, "name")}, {"namespace", param(source, "namespace")}}}}}}}}}};
  submit_local_job(self, "transformer_0", std::move(task), ns, name, call.reply);
}

// Uploads are local jobs (spec 8): one `upload` task at party "0", which writes the table and tracks it.
void upload(Self self, ApiCallMsg& call, std::string file) {
  auto& st = self->state;
  const Json& params = call.request.params;
  std::string ns = param(params, "namespace"), name = param(params, "name");
  if (ns.empty() != name.empty())
    return call.reply(net::invalid_request("json", ns.empty() ? "namespace" : "name",
                                           "namespace and name are given together or not at all."));
  if (auto bad = bad_table_name({{"namespace", ns}, {"name", name}})) return call.reply(std::move(*bad));
  if (fs::path(file).is_relative()) file = st.env->config.upload_dir() + "/" + file;
  std::string resolved;
  if (std::string problem = st.env->config.file_roots().Confine(file, &resolved); !problem.empty())
    return call.reply(reply(RetCode::no_permission, "No permission: file " + problem));
  std::error_code ec;
  if (!fs::is_regular_file(resolved, ec))
    return call.reply(reply(RetCode::file_not_found, "No found file: " + file));
  if (auto exists = existing_table_refusal(self, params, ns, name)) return call.reply(std::move(*exists));
  if (ns.empty()) {
    ns = "upload";
    name = new_job_id(self);
  }
  Json meta = params["meta"];
  if (meta.is_string()) meta = Json::parse(meta.get<std::string>(), nullptr, false);
  if (!meta.is_object()) return call.reply(net::invalid_request("form", "meta", "Not a valid mapping type."));
  const bool has_head = flag_param(params, "head").value_or(true);
  Json parameters{{"file", resolved}, {"head", has_head}, {"partitions", params["partitions"]},
                  {"meta", meta},     {"namespace", ns},  {"name", name}};
  if (params.contains("extend_sid")) parameters["extend_sid"] = params["extend_sid"];
  submit_local_job(self, "upload_0", Json{{"component_ref", "upload"}, {"parameters", parameters}}, ns, name,
                   call.reply);
}

// /v2/data/component/download (FATE's download_0): a local job whose `download` task writes table ns.name to
// `path` (default <data_dir>/download/<namespace>_<name>.csv), which must lie under the file roots.
void download_table(Self self, ApiCallMsg& call) {
  const ServerConfig& config = self->state.env->config;
  const Json& params = call.request.params;
  std::string ns = param(params, "namespace"), name = param(params, "name"), path = param(params, "path");
  if (path.empty()) path = config.data_dir + "/download/" + ns + "_" + name + ".csv";
  std::string target;
  if (std::string problem = config.file_roots().Confine(path, &target); !problem.empty())
    return call.reply(reply(RetCode::no_permission, "No permission: path " + problem));
  std::string existing;
  if (!self->state.env->log->GetView(domain::kTablesView, domain::join0({ns, name}), &existing).ok())
    return call.reply(
        reply(RetCode::table_not_found, "No found table: namespace[" + ns + "] name[" + name + "]"));
  Json task{{"component_ref", "download"},
            {"parameters", {{"namespace", ns}, {"name", name}, {"path", target}}}};
  submit_local_job(self, "download_0", std::move(task), ns, name, [call, target](ApiReply r) {
    if (ok(r.code)) r.data["path"] = target;
    call.reply(std::move(r));
  });
}

// The form's file is stored by the catalog actor (a durable write, off this actor), then uploaded.
void upload_file(Self self, ApiCallMsg& call) {
  auto file = call.request.files.find("file");
  if (file == call.request.files.end())
    return call.reply(net::invalid_request("form", "file", "Missing data for required field."));
  std::string base = fs::path(file->second.filename).filename().string();
  if (base.empty() || base == "." || base == "..") base = "upload.csv";
  std::string path = self->state.env->config.data_dir + "/temps/" + new_job_id(self) + "/" + base;
  self->request(self->state.env->catalog, kCommandTimeout, StoreUploadMsg{path, file->second.data})
      .then(
          [self, call, path](const JobReply& stored) mutable {
            if (!ok(stored.code)) return call.reply(reply(stored.code, stored.message));
            upload(self, call, path);
          },
          [reply_to = call.reply](caf::error& err) {
            reply_to(reply(RetCode::server_exception, "catalog did not answer: " + caf::to_string(err)));
          });
}

// The server registry's writes (spec 1.6); its reads are the query actor's. False if `route` is none of them.
bool handle_server_registry(Self self, ApiCallMsg& call) {
  const std::string& route = call.request.route;
  const Json& params = call.request.params;
  const std::string server = param(params, "server_name");
  auto text_or = [&](const char* key, const char* fallback) {
    std::string value = param(params, key);
    return value.empty() ? std::string(fallback) : value;
  };
  auto object_of = [&](const char* key) {
    auto it = params.find(key);
    return it != params.end() && it->is_object() ? *it : Json::object();
  };
  if (route == "server/registry") {
    catalog_command(self,
                    domain::RegisterServer{server, param(params, "host"), text_or("protocol", "http"),
                                           params.value("port", int64_t{0}), 0},
                    call.reply);
  } else if (route == "server/delete") {
    catalog_command(self, domain::DeleteServer{server, 0}, call.reply);
  } else if (route == "server/service/registry") {
    catalog_command(self,
                    domain::RegisterService{server, param(params, "service_name"), param(params, "uri"),
                                            text_or("method", "POST"), text_or("protocol", "http"),
                                            object_of("params"), object_of("data"), object_of("headers"), 0},
                    call.reply);
  } else if (route == "server/service/delete") {
    catalog_command(self, domain::DeleteService{server, param(params, "service_name"), 0}, call.reply);
  } else {
    return false;
  }
  return true;
}

// The routes above, by name; false if `route` is none of them.
bool handle_tracking_route(Self self, ApiCallMsg& call) {
  const std::string& route = call.request.route;
  const Json& params = call.request.params;
  if (route == "worker/metric/save") {
    Json metrics = params.contains("data") ? params["data"] : Json::array();
    if (metrics.is_object()) metrics = Json::array({metrics});
    std::string field;
    if (std::string problem = domain::metric_problem(metrics, &field); !problem.empty()) {
      call.reply(net::invalid_request("json", field, problem));
      return true;
    }
    to_run_job(
        self, call,
        [&](const RunRef&) {
          return domain::SaveMetrics{param(params, "execution_id"), metrics, 0};
        },
        call.reply);
  } else if (route == "worker/data/tracking/save") {
    track_data(self, call);
  } else if (route == "worker/model/save") {
    save_model(self, call);
  } else if (route == "worker/relay/send") {
    relay_send(self, call);
  } else if (route == "worker/relay/receive") {
    relay_receive(self, call);
  } else if (route == "partner/relay/receive") {
    relay_deliver(self, call);
  } else if (route == "output/metric/delete") {
    delete_task_tracking(self, call, "metric");
  } else if (route == "output/model/delete") {
    delete_task_tracking(self, call, "model");
  } else if (route == "model/delete") {
    delete_models(self, call);
  } else if (route == "model/import") {
    import_models(self, call);
  } else if (route == "provider/register") {
    register_provider(self, call);
  } else if (route == "provider/delete") {
    delete_providers(self, call);
  } else if (route == "table/delete") {
    catalog_command(self, domain::DeleteTable{param(params, "namespace"), param(params, "name"), 0},
                    call.reply);
  } else if (route == "table/bind/path") {
    bind_table(self, call);
  } else if (route == "data/component/upload") {
    upload(self, call, param(params, "file"));
  } else if (route == "data/component/dataframe/transformer") {
    transform_table(self, call);
  } else if (route == "data/component/upload/file") {
    upload_file(self, call);
  } else if (route == "data/component/download") {
    download_table(self, call);
  } else {
    return false;
  }
  return true;
}

// FATE answers {party_id}; `partners` adds what this site's Party actors saw of each remote party.
Json site_info(const Environment& env) {
  Json partners = Json::array();
  for (const auto& row : env.parties->Reachability())
    if (row.party_id != "0" && row.party_id != env.config.party_id)
      partners.push_back(reachability_json(row));
  return Json{{"party_id", env.config.party_id}, {"partners", std::move(partners)}};
}

void handle(Self self, ApiCallMsg& call) {
  auto& st = self->state;
  const std::string& route = call.request.route;
  const Json& params = call.request.params;

  if (route == "job/submit") return submit(self, call);
  if (route == "job/queue/clean") return clean_queue(self, call);
  if (route == "site/info/query") return call.reply(reply(RetCode::success, "success", site_info(*st.env)));
  // `flow server info`: the flow instances, as FATE lists them ({instance_id: FlowInstance}); a Flowstone
  // site is one instance.
  if (route == "server/fateflow") {
    const std::string instance = "flow-" + st.env->config.host + "-" + std::to_string(st.env->http_port);
    return call.reply(reply(RetCode::success, "success",
                            Json{{instance,
                                  {{"instance_id", instance},
                                   {"timestamp", st.env->started_ms},
                                   {"version", kBuiltinProviderVersion},
                                   {"host", st.env->config.host},
                                   {"grpc_port", st.env->config.grpc_port},
                                   {"http_port", st.env->http_port},
                                   {"party_id", st.env->config.party_id},
                                   {"server", "flowstone"}}}}));
  }
  if (handle_server_registry(self, call) || handle_tracking_route(self, call)) return;
  if (route.rfind("partner/", 0) == 0 || route.rfind("scheduler/", 0) == 0) return site_route(self, call);

  if (route == "job/stop" || route == "job/rerun" || route == "job/notes/add" || route == "job/clean") {
    std::string job_id = param(params, "job_id");
    job_actor job = find_job(self, job_id);
    if (!job) return call.reply(reply(RetCode::job_not_found, "No found job: job_id[" + job_id + "]"));
    std::string scheduler = scheduler_of(self, job_id);
    bool remote_scheduler = !is_local_party(st.env->config, scheduler);
    if (route == "job/rerun") {
      std::string task_name = param(params, "task_name");  // Flowstone's addition: rerun from this task
      if (!remote_scheduler)
        return send_command(self, job, domain::RerunJob{task_name, 0}, call.request, call.reply);
      Json body{{"job_id", job_id}};
      if (!task_name.empty()) body["task_name"] = task_name;
      return forward(self, scheduler, "scheduler/job/rerun", std::move(body), call.reply);
    }
    if (route == "job/clean") {
      // Stopped here and (through its scheduler) everywhere, then its views and outputs go (spec 1.6).
      if (remote_scheduler)
        forward(self, scheduler, "scheduler/job/stop", Json{{"job_id", job_id}, {"stop_status", "canceled"}},
                [](ApiReply) {});
      return send_command(self, job, domain::CleanJob{0}, call.request, call.reply);
    }
    if (route == "job/stop") {
      // This party's runs are canceled first, then the scheduler stops the job everywhere (spec 4.6).
      domain::StopJob stop{domain::Status::canceled, "stopped by user", 0};
      if (!remote_scheduler) return send_command(self, job, stop, call.request, call.reply);
      auto done = call.reply;
      // The callback runs in this actor (a response handler), so it may use `self`.
      return send_command(self, job, stop, call.request, [self, scheduler, job_id, done](ApiReply local) {
        if (!ok(local.code)) return done(std::move(local));
        forward(self, scheduler, "scheduler/job/stop", Json{{"job_id", job_id}, {"stop_status", "canceled"}},
                done);
      });
    }
    domain::AddNotes notes{{param(params, "role"), param(params, "party_id")}, param(params, "notes"), 0};
    return send_command(self, job, std::move(notes), call.request, call.reply);
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
      return call.reply(reply(RetCode::task_not_found, "No found task: execution_id[" + execution_id + "]"));
    job_actor job = find_job(self, job_id);
    if (!job)
      return call.reply(reply(RetCode::task_not_found, "No found task: execution_id[" + execution_id + "]"));
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
