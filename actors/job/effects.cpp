// What a job's persisted decision asks for, carried out: workers started, stopped and checked (by the
// launcher), cores asked of this party's resource manager, outputs deleted, and calls to other parties
// (through the partner protocol and the party client, in order per job and destination). Answers come back
// to the job actor as commands.
#include "actors/job/job_actor.hpp"
#include "actors/job/job_state.hpp"
#include "actors/partner_protocol.hpp"
#include "events/resources/ledger.hpp"

namespace flowstone::actors {
namespace {

std::string task_dir_of(const Environment& env, const std::string& job_id, const domain::TaskRun& run) {
  return env.config.job_dir() + "/" + job_id + "/" + run.party.role + "/" + run.party.party_id + "/" +
         run.task_name + "/" + std::to_string(run.task_version);
}

std::string log_dir_of(const Environment& env, const std::string& job_id, const domain::TaskRun& run) {
  return env.config.log_dir + "/" + job_id + "/" + run.party.role + "/" + run.party.party_id + "/" +
         run.task_name;
}

void submit(JobSelf self, domain::JobCommand command) {
  self->state.host->submit({std::move(command), ""}, "", nullptr);
}

// Asks this party's resource manager for a local copy's cores; the answer comes back as a command.
void apply_local_resources(JobSelf self, const domain::ApplyLocalResources& apply) {
  auto& st = self->state;
  ReserveMsg reserve{st.job_id, apply.party, apply.cores, st.job().priority, domain::job_order(st.job_id)};
  auto party = apply.party;
  int attempt = apply.attempt;
  auto answered = [self, party, attempt](RetCode code, std::string message) {
    submit(self, domain::ResourcesAnswered{party, attempt, code, std::move(message), 0});
  };
  self->request(st.env->resources, std::chrono::seconds(30), std::move(reserve))
      .then([answered](const ReserveReply& r) { answered(r.code, r.message); },
            [answered](caf::error& err) {
              answered(RetCode::job_resource_exception,
                       "resource manager did not answer: " + caf::to_string(err));
            });
}

// The built-in component `native_noop` succeeds at once inside the server, with no worker process: the
// scheduler's own costs can be measured (bench/) without process launches.
void finish_native(JobSelf self, const std::string& execution_id) {
  submit(self, domain::RecordLaunch{execution_id, 0, "native_noop", "", 0, "flowstone"});
  submit(self, domain::ReportTaskStatus{execution_id, domain::Status::success, "", 0});
}

void launch(JobSelf self, const domain::TaskRun& run) {
  auto& st = self->state;
  const Environment& env = *st.env;
  Json config = domain::task_config(st.job(), run);
  config["mlmd"] = Json{
      {"type", "flow"},
      {"metadata",
       {{"host", env.config.host}, {"port", env.http_port}, {"protocol", "http"}, {"api_version", "v2"}}}};
  config["conf"]["logger"] = Json{{"log_dir", log_dir_of(env, st.job_id, run)}};
  // The launcher (detached) adds what takes the file system: the provider's registration and the file roots.
  std::string provider =
      domain::task_conf(st.job().dag(), run.task_name, run.party).value("provider", std::string());
  self->send(env.launcher, job_actor(self),
             LaunchMsg{st.job_id, run.execution_id, std::move(config), run.component,
                       task_dir_of(env, st.job_id, run), log_dir_of(env, st.job_id, run), std::move(provider),
                       nullptr, run.cores, run.timeout_s});
}

void carry_out_run_effect(JobSelf self, const domain::Effect& effect) {
  auto& st = self->state;
  const Environment& env = *st.env;
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, domain::LaunchRun> || std::is_same_v<T, domain::KillRun> ||
                      std::is_same_v<T, domain::CheckRun>) {
          const domain::TaskRun* run = st.job().run_by_execution(e.execution_id);
          if (!run) return;
          if (run->component == kNativeNoop) {  // runs inside the server: nothing to launch or kill
            if (!std::is_same_v<T, domain::KillRun>) finish_native(self, run->execution_id);
            return;
          }
          if constexpr (std::is_same_v<T, domain::LaunchRun>) {
            launch(self, *run);
          } else if constexpr (std::is_same_v<T, domain::KillRun>) {
            self->send(env.launcher,
                       KillMsg{e.execution_id, e.launcher_pid, task_dir_of(env, st.job_id, *run)});
          } else {
            self->send(env.launcher, job_actor(self),
                       CheckMsg{e.execution_id, e.launcher_pid, task_dir_of(env, st.job_id, *run)});
          }
        }
      },
      effect);
}

}  // namespace

std::string collect_key(const domain::CollectRemoteTask& call) {
  return call.task_name + '\0' + call.party.role + '\0' + call.party.party_id;
}

void send_remote_call(JobSelf self, const domain::RemoteCall& call, std::string idempotency_key) {
  auto& st = self->state;
  const FederationConfig& fed = st.env->config.federation;
  PartnerRequest request = request_of(st.job(), call);
  const bool create = std::holds_alternative<domain::CreateRemoteCopy>(call);
  const std::string dest = domain::destination_of(call);
  net::PartyCall out;
  out.dest_party_id = dest;
  // Collects take their own lane: a status question must not wait behind commands to the same party.
  out.lane = st.job_id + (request.collect ? "/collect/" : "/") + dest;
  out.endpoint = request.endpoint;
  out.body = std::move(request.body);
  out.initiator_party_id = request.initiator_party_id;
  out.idempotency_key = std::move(idempotency_key);
  const int64_t window = create            ? fed.create_timeout_ms
                         : request.collect ? std::max<int64_t>(fed.poll_interval_ms, 5000)
                                           : fed.call_timeout_ms;
  out.give_up_after = std::chrono::milliseconds(window);
  auto handle = caf::actor_cast<job_actor>(self);
  std::shared_ptr<spdlog::logger> log = st.env->server_log;
  std::string what = "[job-" + st.job_id + "] " + out.endpoint + " to " + dest;
  if (request.collect) {
    const auto& question = std::get<domain::CollectRemoteTask>(call);
    st.collecting.insert(collect_key(question));
    st.env->parties->Send(std::move(out), [handle, question](net::PartyAnswer answer) {
      caf::anon_send(handle, CollectAnsweredMsg{question, std::move(answer)});
    });
  } else if (request.answer_matters) {
    st.env->parties->Send(std::move(out), [handle, call, log, what](net::PartyAnswer answer) {
      if (!ok(answer.code)) log->warn("{}: code {}: {}", what, to_int(answer.code), answer.message);
      if (auto command = answer_of(call, answer))
        caf::anon_send(handle, JobCommandMsg{std::move(*command), "", ""});
    });
  } else {
    st.env->parties->Send(std::move(out), [log, what](net::PartyAnswer answer) {
      // 1003 and 2002 answer a repeated status update: expected, not a problem.
      if (!ok(answer.code) && answer.code != RetCode::job_update_failed &&
          answer.code != RetCode::task_update_failed)
        log->warn("{}: code {}: {}", what, to_int(answer.code), answer.message);
    });
  }
}

void carry_out(JobSelf self, const std::vector<domain::Effect>& effects, const std::string& key_prefix) {
  auto& st = self->state;
  size_t index = 0;
  for (const auto& effect : effects) {
    ++index;
    if (const auto* call = std::get_if<domain::RemoteCall>(&effect)) {
      send_remote_call(self, *call, key_prefix.empty() ? "" : key_prefix + "#" + std::to_string(index));
    } else if (const auto* apply = std::get_if<domain::ApplyLocalResources>(&effect)) {
      apply_local_resources(self, *apply);
    } else if (const auto* release = std::get_if<domain::ReleaseLocalResources>(&effect)) {
      self->send(st.env->resources, ReleaseMsg{st.job_id, release->party, release->still_waiting});
    } else if (std::holds_alternative<domain::DeleteOutputs>(effect)) {
      self->send(st.env->launcher, DeleteOutputsMsg{st.env->config.job_dir() + "/" + st.job_id});
    } else {
      carry_out_run_effect(self, effect);
    }
  }
}

}  // namespace flowstone::actors
