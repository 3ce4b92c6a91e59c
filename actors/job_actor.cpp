// The job actor: the one owner and only writer of a job's stream. Its mailbox serialises the job: a
// command is decided against the current state, its events (with the scheduling they enable and the
// view rows they produce) are appended as one synced batch, and only then is the state advanced, the
// caller answered and the effects (launch, kill) carried out. One append is in flight at a time;
// commands that arrive meanwhile wait in a queue, so each decision sees every earlier event.
#include "actors/job_actor.hpp"

#include <spdlog/sinks/basic_file_sink.h>

#include <deque>
#include <filesystem>
#include <set>

#include "actors/outputs.hpp"
#include "actors/partner_protocol.hpp"
#include "actors/supervisor.hpp"
#include "events/job/views.hpp"
#include "events/resources/ledger.hpp"
#include "store/codec/job_codec.hpp"

namespace flowstone::actors {
namespace {

namespace fs = std::filesystem;
using domain::Decision;
using domain::JobCommand;

struct Pending {
  JobCommandMsg msg;
  caf::typed_response_promise<JobReply> promise;
};

// Internal commands (recovery's Advance, launcher reports sent anonymously) have no one to answer.
void answer(Pending& p, JobReply reply) {
  if (p.promise.pending()) p.promise.deliver(std::move(reply));
}

struct InFlight {
  uint64_t ticket = 0;
  Pending pending;
  Decision decision;
  domain::JobState next;
  std::map<std::string, std::string> next_rows;
};

struct JobActorState {
  std::shared_ptr<Environment> env;
  std::string job_id;
  domain::JobState job;
  uint64_t version = 0;
  std::map<std::string, std::string> rows;  // family \0 key -> value, as last written
  std::deque<Pending> queue;
  std::optional<InFlight> in_flight;
  uint64_t tickets = 0;
  std::shared_ptr<spdlog::logger> schedule_log;
  std::unique_ptr<Supervisor> supervisor;  // at the scheduler of a job with remote parties
  bool supervise_armed = false;
  int64_t deadline_armed = 0;        // the detectors' next look (ms since the epoch); 0: none armed
  std::set<std::string> collecting;  // collect calls in flight, by task and party
  static inline const char* name = "flowstone.job";
};

using Self = job_actor::stateful_pointer<JobActorState>;

void pump(Self self);  // decides the queued commands (below)

// Queues a command this actor gives itself (a detector, an answer from another actor or party): no one
// waits for its reply. The caller pumps.
void enqueue(Self self, domain::JobCommand command) {
  self->state.queue.push_back(Pending{JobCommandMsg{std::move(command), ""}, {}});
}

void stamp(JobCommand& command, int64_t now) {
  std::visit([now](auto& c) { c.now_ms = now; }, command);
}

std::map<std::string, std::string> rows_of(const domain::JobState& job) {
  std::map<std::string, std::string> out;
  for (auto& row : domain::job_views(job)) out[row.family + '\0' + row.key] = std::move(row.value);
  return out;
}

// The view writes that turn `before` into `after`.
std::vector<store::ViewWrite> diff_rows(const std::map<std::string, std::string>& before,
                                        const std::map<std::string, std::string>& after) {
  std::vector<store::ViewWrite> writes;
  auto split = [](const std::string& k) {
    auto sep = k.find('\0');
    return std::make_pair(k.substr(0, sep), k.substr(sep + 1));
  };
  for (const auto& [k, v] : after) {
    auto it = before.find(k);
    if (it == before.end() || it->second != v) {
      auto [family, key] = split(k);
      writes.push_back({family, key, v});
    }
  }
  for (const auto& [k, v] : before)
    if (!after.count(k)) {
      auto [family, key] = split(k);
      writes.push_back({family, key, std::nullopt});
    }
  return writes;
}

JobReply reply_of(const Decision& d) {
  return JobReply{d.code, d.message, d.data};
}

std::string task_dir_of(const Environment& env, const std::string& job_id, const domain::TaskRun& run) {
  return env.config.job_dir() + "/" + job_id + "/" + run.party.role + "/" + run.party.party_id + "/" +
         run.task_name + "/" + std::to_string(run.task_version);
}

std::string log_dir_of(const Environment& env, const std::string& job_id, const domain::TaskRun& run) {
  return env.config.log_dir + "/" + job_id + "/" + run.party.role + "/" + run.party.party_id + "/" +
         run.task_name;
}

// The job's schedule log (LOG_DIR/<job_id>/fate_flow_schedule.log), opened on first use so that a job
// that is never created leaves no folder behind. Warnings also go to fate_flow_schedule_error.log (the
// schedule_error log type).
spdlog::logger& schedule_log(JobActorState& st) {
  if (st.schedule_log) return *st.schedule_log;
  std::string dir = st.env->config.log_dir + "/" + st.job_id;
  try {
    fs::create_directories(dir);
    auto errors = std::make_shared<spdlog::sinks::basic_file_sink_mt>(dir + "/fate_flow_schedule_error.log");
    errors->set_level(spdlog::level::warn);
    spdlog::sinks_init_list sinks = {
        std::make_shared<spdlog::sinks::basic_file_sink_mt>(dir + "/fate_flow_schedule.log"), errors};
    st.schedule_log = std::make_shared<spdlog::logger>("job-" + st.job_id, sinks);
    st.schedule_log->flush_on(spdlog::level::info);
  } catch (const std::exception& e) {
    st.env->server_log->warn("job {}: no schedule log: {}", st.job_id, e.what());
    st.schedule_log = std::make_shared<spdlog::logger>("job-" + st.job_id);
  }
  return *st.schedule_log;
}

std::string collect_key(const domain::CollectRemoteTask& call) {
  return call.task_name + '\0' + call.party.role + '\0' + call.party.party_id;
}

// Sends a call to another party (in order per job and destination). Calls whose answer matters come back to
// this actor: collects as CollectAnsweredMsg, the others as the command their answer stands for.
void send_partner_call(Self self, const domain::RemoteCall& call, std::string idempotency_key) {
  auto& st = self->state;
  const FederationConfig& fed = st.env->config.federation;
  PartnerRequest request = request_of(st.job, call);
  const bool create = std::holds_alternative<domain::CreateRemoteCopy>(call);
  const bool collect = request.collect;
  const std::string dest = domain::destination_of(call);
  net::PartyCall out;
  out.dest_party_id = dest;
  // Collects take their own lane: a status question must not wait behind commands to the same party.
  out.lane = st.job_id + (collect ? "/collect/" : "/") + dest;
  out.endpoint = request.endpoint;
  out.body = std::move(request.body);
  out.initiator_party_id = request.initiator_party_id;
  out.idempotency_key = std::move(idempotency_key);
  int64_t window = create    ? fed.create_timeout_ms
                   : collect ? std::max<int64_t>(fed.poll_interval_ms, 5000)
                             : fed.call_timeout_ms;
  out.give_up_after = std::chrono::milliseconds(window);
  auto handle = caf::actor_cast<job_actor>(self);
  std::shared_ptr<spdlog::logger> log = st.env->server_log;
  std::string what = out.endpoint + " to " + dest + " for job " + st.job_id;
  if (collect) {
    const auto& question = std::get<domain::CollectRemoteTask>(call);
    st.collecting.insert(collect_key(question));
    st.env->parties->Send(std::move(out), [handle, question](net::PartyAnswer answer) {
      caf::anon_send(handle, CollectAnsweredMsg{question, std::move(answer)});
    });
  } else if (request.answer_matters) {
    st.env->parties->Send(std::move(out), [handle, call, log, what](net::PartyAnswer answer) {
      if (!ok(answer.code)) log->warn("{}: code {}: {}", what, to_int(answer.code), answer.message);
      if (auto command = answer_of(call, answer))
        caf::anon_send(handle, JobCommandMsg{std::move(*command), ""});
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

// Asks this party's resource manager for a local copy's cores; the answer comes back as a command.
void apply_local_resources(Self self, const domain::ApplyLocalResources& apply) {
  auto& st = self->state;
  ReserveMsg reserve{st.job_id, apply.party, apply.cores, st.job.priority, domain::job_order(st.job_id)};
  auto party = apply.party;
  int attempt = apply.attempt;
  auto answered = [self, party, attempt](RetCode code, std::string message) {
    enqueue(self, domain::ResourcesAnswered{party, attempt, code, std::move(message), 0});
    pump(self);
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
void finish_native(Self self, const std::string& execution_id) {
  enqueue(self, domain::RecordLaunch{execution_id, 0, "native_noop", "", 0, "flowstone"});
  enqueue(self, domain::ReportTaskStatus{execution_id, domain::Status::success, "", 0});
}

void carry_out(Self self, const std::vector<domain::Effect>& effects, const std::string& key_prefix) {
  auto& st = self->state;
  const Environment& env = *st.env;
  size_t index = 0;
  for (const auto& effect : effects) {
    ++index;
    if (const auto* call = std::get_if<domain::RemoteCall>(&effect)) {
      send_partner_call(self, *call, key_prefix.empty() ? "" : key_prefix + "#" + std::to_string(index));
      continue;
    }
    if (const auto* apply = std::get_if<domain::ApplyLocalResources>(&effect)) {
      apply_local_resources(self, *apply);
      continue;
    }
    if (std::holds_alternative<domain::DeleteOutputs>(effect)) {
      self->send(env.launcher, DeleteOutputsMsg{env.config.job_dir() + "/" + st.job_id});
      continue;
    }
    if (const auto* release = std::get_if<domain::ReleaseLocalResources>(&effect)) {
      self->send(env.resources, ReleaseMsg{st.job_id, release->party, release->still_waiting});
      continue;
    }
    std::visit(
        [&](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, domain::RemoteCall> ||
                        std::is_same_v<T, domain::ApplyLocalResources> ||
                        std::is_same_v<T, domain::ReleaseLocalResources> ||
                        std::is_same_v<T, domain::DeleteOutputs>) {
            return;
          } else {
            const domain::TaskRun* run = st.job.run_by_execution(e.execution_id);
            if (!run) return;
            if (run->component == kNativeNoop) {  // runs inside the server: nothing to launch or kill
              if (!std::is_same_v<T, domain::KillRun>) finish_native(self, run->execution_id);
              return;
            }
            if constexpr (std::is_same_v<T, domain::LaunchRun>) {
              Json config = domain::task_config(st.job, *run);
              config["mlmd"] = Json{{"type", "flow"},
                                    {"metadata",
                                     {{"host", env.config.host},
                                      {"port", env.http_port},
                                      {"protocol", "http"},
                                      {"api_version", "v2"}}}};
              config["conf"]["computing"] = Json{{"type", "standalone"},
                                                 {"metadata",
                                                  {{"computing_id", run->execution_id},
                                                   {"options",
                                                    {{"data_dir", env.config.data_dir + "/standalone"},
                                                     {"file_roots", env.config.file_roots().roots()}}}}}};
              config["conf"]["logger"] = Json{{"log_dir", log_dir_of(env, st.job_id, *run)}};
              std::string provider_spec =
                  domain::task_conf(st.job.dag, run->task_name, run->party).value("provider", std::string());
              Json provider = is_builtin_provider(provider_spec) ? Json(nullptr)
                                                                 : lookup_provider(*env.log, provider_spec);
              config["provider_name"] = provider.is_null() ? "flowstone" : provider.value("name", "");
              self->send(env.launcher, job_actor(self),
                         LaunchMsg{st.job_id, run->execution_id, std::move(config), run->component,
                                   task_dir_of(env, st.job_id, *run), log_dir_of(env, st.job_id, *run),
                                   std::move(provider)});
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
}

// Arms the supervisor's next look while this server schedules a running job with remote parties.
void keep_supervising(Self self) {
  auto& st = self->state;
  const domain::JobState& job = st.job;
  if (st.supervise_armed || !job.is_scheduler || job.remote_parties.empty() ||
      job.schedule_status != domain::Status::running)
    return;
  if (!st.supervisor) st.supervisor = make_supervisor(job.sync_type, st.env->config.federation);
  st.supervise_armed = true;
  self->delayed_send(self, st.supervisor->interval(), supervise_atom::value);
}

// Detectors as actor timers, not sweeps: one timer at the job's next deadline (a run's task timeout, the
// job's timeout, the end of an auto-retry's backoff). Each action it causes is a command, so an event.
void keep_detecting(Self self) {
  auto& st = self->state;
  int64_t next = domain::next_deadline(st.job);
  if (next == 0 || (st.deadline_armed != 0 && st.deadline_armed <= next)) return;
  st.deadline_armed = next;
  int64_t delay = std::max<int64_t>(next - Environment::now_ms(), 0) + 5;
  self->delayed_send(self, std::chrono::milliseconds(delay), deadline_atom::value);
}

void detect(Self self) {
  auto& st = self->state;
  st.deadline_armed = 0;
  for (const auto& run : st.job.runs)
    if (run.party_status == domain::Status::running) enqueue(self, domain::TimeoutRun{run.execution_id, 0});
  enqueue(self, domain::TimeoutJob{0});
  enqueue(self, domain::Advance{0});
  pump(self);
  keep_detecting(self);
}

void supervise(Self self) {
  auto& st = self->state;
  st.supervise_armed = false;
  if (!st.supervisor) return;
  for (const auto& call : st.supervisor->due(st.job, Environment::now_ms()))
    if (!st.collecting.count(collect_key(call))) send_partner_call(self, domain::RemoteCall{call}, "");
  keep_supervising(self);
}

void pump(Self self) {
  auto& st = self->state;
  while (!st.in_flight && !st.queue.empty()) {
    Pending p = std::move(st.queue.front());
    st.queue.pop_front();
    const std::string& key = p.msg.idempotency_key;
    if (!key.empty()) {
      std::string stored;
      if (st.env->log->LookupIdempotency(key, &stored).ok()) {
        Json j = Json::parse(stored, nullptr, false);
        answer(p, JobReply{ret_code_of(j.value("code", 0)), j.value("message", "success"),
                           j.value("data", Json())});
        continue;
      }
    }
    int64_t now = Environment::now_ms();
    stamp(p.msg.command, now);
    Decision decision = domain::decide_and_advance(st.job, p.msg.command, now);
    if (!decision.ok() || decision.events.empty()) {
      answer(p, reply_of(decision));
      if (decision.ok()) carry_out(self, decision.effects, "");
      continue;
    }
    InFlight f;
    f.ticket = ++st.tickets;
    f.next = st.job;
    for (const auto& e : decision.events) domain::apply(f.next, e);
    f.next_rows = rows_of(f.next);

    store::AppendRequest request;
    request.stream = st.env->job_stream(st.job_id);
    request.expected_version = st.version;
    for (const auto& e : decision.events) request.events.push_back(store::encode_job_event(e));
    request.views = diff_rows(st.rows, f.next_rows);
    request.idempotency_key = key;
    request.result =
        Json{{"code", to_int(decision.code)}, {"message", decision.message}, {"data", decision.data}}.dump();
    f.pending = std::move(p);
    f.decision = std::move(decision);
    uint64_t ticket = f.ticket;
    st.in_flight = std::move(f);
    auto handle = caf::actor_cast<job_actor>(self);
    st.env->log->AppendAsync(std::move(request), [handle, ticket](store::AppendResult result) {
      caf::anon_send(handle, AppendDoneMsg{ticket, std::move(result)});
    });
  }
}

void on_append_done(Self self, AppendDoneMsg& done) {
  auto& st = self->state;
  if (!st.in_flight || st.in_flight->ticket != done.ticket) return;
  InFlight f = std::move(*st.in_flight);
  st.in_flight.reset();
  const store::AppendResult& r = done.result;
  if (r.duplicate) {
    Json j = Json::parse(r.result, nullptr, false);
    answer(f.pending,
           JobReply{ret_code_of(j.value("code", 0)), j.value("message", "success"), j.value("data", Json())});
  } else if (!r.status.ok()) {
    // Not durable, so not acknowledged and not applied: the state stays as the log says.
    st.env->server_log->error("job {}: append failed: {}", st.job_id, r.status.ToString());
    answer(f.pending, JobReply{RetCode::server_exception, "storage error: " + r.status.ToString(), nullptr});
  } else {
    st.job = std::move(f.next);
    st.version = r.stream_version;
    st.rows = std::move(f.next_rows);
    for (const auto& e : f.decision.events)
      schedule_log(st).log(domain::is_trouble(e) ? spdlog::level::warn : spdlog::level::info, "{}",
                           domain::describe_event(e));
    answer(f.pending, reply_of(f.decision));
    carry_out(self, f.decision.effects, st.job_id + "#" + std::to_string(st.version));
    keep_supervising(self);
    keep_detecting(self);
  }
  pump(self);
}

// Rebuilds the job from its stream. Returns false if the log cannot be read or decoded.
bool replay(Self self) {
  auto& st = self->state;
  std::vector<store::StoredEvent> stored;
  auto status = st.env->log->ReadStream(st.env->job_stream(st.job_id), 1, &stored);
  if (!status.ok()) {
    st.env->server_log->error("job {}: cannot read its stream: {}", st.job_id, status.ToString());
    return false;
  }
  for (const auto& s : stored) {
    std::string error;
    auto event = store::decode_job_event(s.payload, &error);
    if (!event) {
      st.env->server_log->error("job {}: event {} undecodable: {}", st.job_id, s.version, error);
      return false;
    }
    domain::apply(st.job, *event);
    st.version = s.version;
  }
  st.rows = rows_of(st.job);
  return true;
}

job_actor::behavior_type job_impl(Self self, std::shared_ptr<Environment> env, std::string job_id) {
  auto& st = self->state;
  st.env = std::move(env);
  st.job_id = job_id;
  if (!replay(self)) {
    self->quit(caf::make_error(caf::sec::runtime_error, "cannot replay job " + job_id));
  } else if (st.job.exists) {
    // Recovery after a restart: adopt or fail runs left running, start what the scheduler had decided
    // to start, then let the scheduler look again.
    schedule_log(st).info("recovered at version {}", st.version);
    carry_out(self, domain::recovery_effects(st.job), "");
    keep_supervising(self);
    keep_detecting(self);
    enqueue(self, domain::Advance{});
    pump(self);
  }
  return {
      [=](JobCommandMsg& msg) -> caf::result<JobReply> {
        auto promise = self->make_response_promise<JobReply>();
        self->state.queue.push_back(Pending{std::move(msg), promise});
        pump(self);
        return promise;
      },
      [=](AppendDoneMsg& done) { on_append_done(self, done); },
      [=](CollectAnsweredMsg& msg) {
        self->state.collecting.erase(collect_key(msg.call));
        if (auto report = answer_of(domain::RemoteCall{msg.call}, msg.answer)) {
          enqueue(self, std::move(*report));
          pump(self);
        }
      },
      [=](supervise_atom) { supervise(self); },
      [=](deadline_atom) { detect(self); },
  };
}

}  // namespace

job_actor spawn_job(caf::actor_system& system, std::shared_ptr<Environment> env, const std::string& job_id) {
  return system.spawn(job_impl, std::move(env), job_id);
}

}  // namespace flowstone::actors
