// Partner and scheduler routes (spec 1.7, 1.8): what other parties ask of this site's job copies.
#include <algorithm>
#include <ctime>
#include <filesystem>

#include "actors/registry/registry_parts.hpp"

namespace flowstone::actors::registry_parts {

namespace fs = std::filesystem;

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

namespace {

// FATE's resource permission (spec 1.4, `authentication.permission`): an initiator other than this site may
// have this party run only the components and read only the datasets granted to it. Components of the
// fate_flow provider need no grant.
std::optional<ApiReply> resource_refusal(Self self, const ApiCallMsg& call) {
  const Environment& env = *self->state.env;
  if (!env.config.auth.permission) return std::nullopt;
  auto header = call.request.headers.find("initiator-party-id");
  const std::string initiator = header == call.request.headers.end() ? "" : header->second;
  if (initiator.empty() || initiator == "0" || initiator == env.config.party_id) return std::nullopt;
  const Json& params = call.request.params;
  auto parsed = domain::parse_dag(
      Json{{"dag", params["dag"]}, {"schema_version", params.value("schema_version", Json("2.0.0"))}});
  const auto* dag = std::get_if<domain::Dag>(&parsed);
  if (!dag) return std::nullopt;  // refused as invalid before
  static const std::set<std::string> fate_flow_components = {"upload", "download", "dataframe_transformer"};
  const domain::PartyRef party = party_of(params);
  std::vector<std::string> components, datasets;
  for (const domain::TaskSpec& task : dag->tasks) {
    const auto parties = domain::task_parties(*dag, task.name);
    if (std::find(parties.begin(), parties.end(), party) == parties.end()) continue;
    if (!fate_flow_components.count(task.component_ref)) components.push_back(task.component_ref);
    if (task.component_ref == "reader") {
      const Json parameters = domain::task_parameters(*dag, task.name, party);
      datasets.push_back(
          domain::dataset_key(parameters.value("name", ""), parameters.value("namespace", "")));
    }
  }
  const std::string why =
      domain::resources_refused(*env.access_board->Snapshot(), initiator, components, datasets);
  if (why.empty()) return std::nullopt;
  return reply(RetCode::no_permission, "No permission: " + why);
}

}  // namespace

// partner/job/create: this server's copies of a job another party schedules.
void join(Self self, ApiCallMsg& call) {
  auto& st = self->state;
  const Json& params = call.request.params;
  std::string job_id = param(params, "job_id");
  if (auto refused =
          dag_refusal(*st.env, params["dag"], "", RetCode::create_job_failed, "Create job failed: "))
    return call.reply(std::move(*refused));
  if (auto refused = resource_refusal(self, call)) return call.reply(std::move(*refused));
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
  self->request(job, kCommandTimeout, JobCommandMsg{std::move(command), idempotency_key(call.request), ""})
      .then(
          [self, job, job_id, existed, done](const JobReply& r) {
            if (!ok(r.code) && !existed) forget_job(self, job_id, job);
            done(reply(r.code, r.message, r.data));
          },
          [done](caf::error& err) {
            done(reply(RetCode::server_exception, "job actor did not answer: " + caf::to_string(err)));
          });
}

// ---- routes that become one command of the job copy they name ------------------------------------------

namespace {

// What a partner or scheduler route says of the copy it names.
struct SiteCall {
  const Json& params;
  domain::PartyRef party;
  std::string task;
  int version = 0;
  std::string reason;
};

// The command a route stands for, or a reply when the request is refused before reaching the job.
using Decision = std::variant<domain::JobCommand, ApiReply>;

void command_route(Self self, ApiCallMsg& call, Decision (*decide)(const SiteCall&)) {
  const Json& params = call.request.params;
  const std::string job_id = param(params, "job_id");
  const bool task_route = params.contains("task_id");
  job_actor job = find_job(self, job_id);
  if (!job)
    return call.reply(task_route ? reply(RetCode::task_not_found, "No found task: job_id[" + job_id + "]")
                                 : reply(RetCode::job_not_found, "No found job: job_id[" + job_id + "]"));
  SiteCall site{params, party_of(params), domain::task_name_of(job_id, param(params, "task_id")),
                task_version_of(params), param(params, "reason")};
  if (task_route && site.task.empty())
    return call.reply(reply(RetCode::task_not_found, "No found task: task_id[" + param(params, "task_id") +
                                                         "] is not a task of job " + job_id));
  Decision decision = decide(site);
  if (auto* refused = std::get_if<ApiReply>(&decision)) return call.reply(std::move(*refused));
  send_command(self, job, std::move(std::get<domain::JobCommand>(decision)), call.request, call.reply);
}

Decision status_update(const SiteCall& c) {
  auto status = status_param(c.params, "status");
  if (!status) return bad_status("status");
  return domain::UpdateCopyStatus{c.party, *status, c.reason, false, 0};
}

Decision job_start(const SiteCall& c) {
  return domain::UpdateCopyStatus{c.party, domain::Status::running, "started", true, 0};
}

Decision copy_stop(const SiteCall& c) {
  auto status = status_param(c.params, "stop_status");
  // A Flowstone scheduler stops the copies of a job that succeeded with "success" (after the status update
  // in the same lane): should that update have been lost, the stop alone ends the copy as it ended.
  if (status == domain::Status::success)
    return domain::UpdateCopyStatus{c.party, domain::Status::success, c.reason, false, 0};
  // FATE-Flow sends no stop_status: failed.
  domain::Status stop = status && domain::is_interrupt(*status) ? *status : domain::Status::failed;
  return domain::StopCopy{c.party, stop, c.reason.empty() ? "stopped by the scheduler" : c.reason, 0};
}

Decision task_status_update(const SiteCall& c) {
  auto status = status_param(c.params, "status");
  if (!status) return bad_status("status");
  return domain::UpdateTaskStatus{c.party, c.task, c.version, *status, c.reason, 0};
}

Decision task_start(const SiteCall& c) {
  return domain::StartTask{c.party, c.task, c.version, 0};
}

Decision task_stop(const SiteCall& c) {
  auto status = c.params.contains("status") ? status_param(c.params, "status") : domain::Status::failed;
  if (!status) return bad_status("status");
  return domain::StopTask{
      c.party, c.task, c.version, *status, c.reason.empty() ? "stopped by the scheduler" : c.reason, 0};
}

Decision task_collect(const SiteCall& c) {
  return domain::CollectTask{c.party, c.task, c.version, 0};
}

Decision task_rerun(const SiteCall& c) {
  auto it = c.params.find("new_version");
  return domain::RerunTask{c.party, c.task,
                           it != c.params.end() && it->is_number_integer() ? it->get<int>() : 0, 0};
}

Decision task_report(const SiteCall& c) {
  auto status = status_param(c.params, "status");
  if (!status) return bad_status("status");
  return domain::ReportPartyStatus{c.party, c.task, c.version, *status, param(c.params, "error"), false, 0};
}

Decision scheduled_stop(const SiteCall& c) {
  auto status =
      c.params.contains("stop_status") ? status_param(c.params, "stop_status") : domain::Status::canceled;
  if (!status || !domain::is_interrupt(*status)) return bad_status("stop_status");
  return domain::StopJob{*status, "stopped at another party", 0};
}

Decision scheduled_rerun(const SiteCall& c) {
  return domain::RerunJob{param(c.params, "task_name"), 0};
}

}  // namespace

void partner_job_status_update(Self self, ApiCallMsg& call) {
  command_route(self, call, status_update);
}
void partner_job_start(Self self, ApiCallMsg& call) {
  command_route(self, call, job_start);
}
void partner_job_stop(Self self, ApiCallMsg& call) {
  command_route(self, call, copy_stop);
}
void partner_task_status_update(Self self, ApiCallMsg& call) {
  command_route(self, call, task_status_update);
}
void partner_task_start(Self self, ApiCallMsg& call) {
  command_route(self, call, task_start);
}
void partner_task_stop(Self self, ApiCallMsg& call) {
  command_route(self, call, task_stop);
}
void partner_task_collect(Self self, ApiCallMsg& call) {
  command_route(self, call, task_collect);
}
void partner_task_rerun(Self self, ApiCallMsg& call) {
  command_route(self, call, task_rerun);
}
void scheduler_task_report(Self self, ApiCallMsg& call) {
  command_route(self, call, task_report);
}
void scheduler_job_stop(Self self, ApiCallMsg& call) {
  command_route(self, call, scheduled_stop);
}
void scheduler_job_rerun(Self self, ApiCallMsg& call) {
  command_route(self, call, scheduled_rerun);
}

// partner/job/update: FATE's progress report; progress is computed here, so it is only acknowledged.
void partner_job_update(Self self, ApiCallMsg& call) {
  const std::string job_id = param(call.request.params, "job_id");
  if (!find_job(self, job_id))
    return call.reply(reply(RetCode::job_not_found, "No found job: job_id[" + job_id + "]"));
  call.reply(reply(RetCode::success, "success"));
}

// scheduler/job/create: the initiator asks this site to schedule a job it submitted (spec 1.7).
void scheduler_job_create(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  auto it = call.request.headers.find("initiator-party-id");
  std::string initiator = it == call.request.headers.end() ? "" : it->second;
  Json schema{{"dag", params["dag"]}, {"schema_version", params.value("schema_version", Json("2.0.0"))}};
  if (auto refused = dag_refusal(*self->state.env, params["dag"], "", RetCode::create_job_failed, ""))
    return call.reply(std::move(*refused));
  if (auto refused = waiting_cap_refusal(*self->state.env)) return call.reply(std::move(*refused));
  create_job(self, std::move(schema), initiator, "", call.reply, RetCode::create_job_failed);
}

// ---- resources (spec 5.3, 5.4) ---------------------------------------------------------------------------

namespace {

// The copy a resource route names, or a reply refusing it.
job_actor resource_copy(Self self, ApiCallMsg& call, bool task, std::string* row_text) {
  const Json& params = call.request.params;
  const std::string job_id = param(params, "job_id");
  const domain::PartyRef party = party_of(params);
  job_actor job = find_job(self, job_id);
  if (job &&
      self->state.env->log->GetView(domain::kJobsView, domain::job_view_key(job_id, party), row_text).ok())
    return job;
  call.reply(reply(task ? RetCode::task_resource_exception : RetCode::job_resource_exception,
                   std::string(task ? "Task" : "Job") + " resource exception: no found job " + job_id +
                       " at " + party.role + ":" + party.party_id));
  return {};
}

}  // namespace

// partner/job/resource/apply (spec 5.3): the resource manager decides, the job records it.
void apply_job_resources(Self self, ApiCallMsg& call) {
  auto& st = self->state;
  std::string row_text;
  job_actor job = resource_copy(self, call, false, &row_text);
  if (!job) return;
  const std::string job_id = param(call.request.params, "job_id");
  const domain::PartyRef party = party_of(call.request.params);
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

void return_job_resources(Self self, ApiCallMsg& call) {
  std::string row_text;
  if (job_actor job = resource_copy(self, call, false, &row_text))
    send_command(self, job,
                 domain::ReturnResources{party_of(call.request.params), "returned by the scheduler", 0},
                 call.request, call.reply);
}

namespace {

// Task resources (spec 5.4) are carved from the copy's job cores: the job decides them itself
// (events/task_resources.hpp) and answers 2004 when its running tasks leave too few.
template <class Command>
void task_resources(Self self, ApiCallMsg& call) {
  std::string row_text;
  job_actor job = resource_copy(self, call, true, &row_text);
  if (!job) return;
  const Json& params = call.request.params;
  const std::string task = domain::task_name_of(param(params, "job_id"), param(params, "task_id"));
  send_command(self, job, Command{party_of(params), task, task_version_of(params), 0}, call.request,
               call.reply);
}

}  // namespace

void apply_task_resources(Self self, ApiCallMsg& call) {
  task_resources<domain::ApplyTaskResources>(self, call);
}

void return_task_resources(Self self, ApiCallMsg& call) {
  task_resources<domain::ReturnTaskResources>(self, call);
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

}  // namespace flowstone::actors::registry_parts
