// Partner and scheduler routes (spec 1.7, 1.8): what other parties ask of this site's job copies.
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

}  // namespace flowstone::actors::registry_parts
