// The job actor: the one owner and only writer of a job's stream, hosting the Job aggregate on the
// event-sourced host (replay, append, idempotency, views: actors/persistence/event_sourced.hpp). Its mailbox
// serialises the job. Besides the host it runs the job's supervisor (push or poll, at the scheduler of a job
// with remote parties) and its detectors (one timer at the job's next deadline), both on the injected clock.
// Once the job is at rest (ended, its end delivered, nothing in flight) it says so on the job board, and the
// registry stops it after flowstone.job_actor_idle_ms.
#include "actors/job/job_actor.hpp"

#include <algorithm>

#include "actors/job/job_state.hpp"
#include "actors/partner_protocol.hpp"

namespace flowstone::actors {
namespace {

void submit(JobSelf self, domain::JobCommand command) {
  self->state.host->submit({std::move(command), ""}, "", nullptr);
}

// Arms the supervisor's next look while this server schedules a running job with remote parties.
void keep_supervising(JobSelf self) {
  auto& st = self->state;
  const domain::JobState& job = st.job();
  if (st.supervise_armed || !job.is_scheduler || job.remote_parties.empty() ||
      job.schedule_status != domain::Status::running)
    return;
  if (!st.supervisor) st.supervisor = make_supervisor(job.sync_type, st.env->config.federation);
  st.supervise_armed = true;
  auto handle = caf::actor_cast<job_actor>(self);
  st.env->timers->at(st.env->now_ms() + st.supervisor->interval().count(),
                     [handle] { caf::anon_send(handle, supervise_atom::value); });
}

// While a remote party has not answered the stop that tells it of the job's end (unreachable then), the
// end calls are repeated after 2 s, 4 s, ... up to a minute apart, until every party has answered.
void keep_delivering_end(JobSelf self) {
  auto& st = self->state;
  if (st.end_delivery_armed || !st.job().end_undelivered()) return;
  st.end_delivery_armed = true;
  const int64_t delay = std::min<int64_t>(60000, 2000LL << std::min(st.end_deliveries, 5));
  auto handle = caf::actor_cast<job_actor>(self);
  st.env->timers->at(st.env->now_ms() + delay, [handle] { caf::anon_send(handle, deliver_end_atom::value); });
}

void deliver_end(JobSelf self) {
  auto& st = self->state;
  st.end_delivery_armed = false;
  if (!st.job().end_undelivered()) return;
  ++st.end_deliveries;
  carry_out(self, domain::undelivered_end_calls(st.job()), "");
  keep_delivering_end(self);
}

// Detectors as one timer at the job's next deadline (a run's task timeout, the job's timeout, the end of a
// backoff), not a sweep. Each action it causes is a command, so an event.
void keep_detecting(JobSelf self) {
  auto& st = self->state;
  const int64_t next = domain::next_deadline(st.job());
  if (next == 0 || (st.deadline_armed != 0 && st.deadline_armed <= next)) return;
  st.deadline_armed = next;
  auto handle = caf::actor_cast<job_actor>(self);
  st.env->timers->at(next + 5, [handle] { caf::anon_send(handle, deadline_atom::value); });
}

void detect(JobSelf self) {
  auto& st = self->state;
  st.deadline_armed = 0;
  for (const auto& run : st.job().runs)
    if (run.party_status == domain::Status::running) submit(self, domain::TimeoutRun{run.execution_id, 0});
  submit(self, domain::TimeoutJob{0});
  submit(self, domain::Advance{0});
  keep_detecting(self);
}

void supervise(JobSelf self) {
  auto& st = self->state;
  st.supervise_armed = false;
  if (!st.supervisor) return;
  for (const auto& call : st.supervisor->due(st.job(), st.env->now_ms()))
    if (!st.collecting.count(collect_key(call))) send_remote_call(self, domain::RemoteCall{call}, "");
  keep_supervising(self);
}

// The schedule log's lines of a decision's events (written by the schedule log writer, off this actor).
void log_events(JobSelf self, const std::vector<domain::JobEvent>& events) {
  auto& st = self->state;
  if (events.empty()) return;
  ScheduleLogMsg msg{st.job_id, {}};
  for (const auto& e : events)
    msg.lines.push_back({e.at_ms, domain::is_trouble(e), domain::describe_event(e)});
  caf::anon_send(st.env->schedule_logs, std::move(msg));
}

// The board shows the schedule record of the jobs this site schedules; the admission histogram how long
// each job waited from its creation to the grant of its resources at every party.
void publish_status(JobSelf self, const std::vector<domain::JobEvent>& events) {
  auto& st = self->state;
  JobBoard::RunCounts runs{};
  bool ended = true;
  for (const auto& copy : st.job().copies) ended = ended && domain::is_end(copy.status);
  for (const auto& run : st.job().runs) ++runs[static_cast<size_t>(run.party_status)];
  st.env->job_board->SetRuns(st.job_id, ended, runs);
  for (const auto& e : events)
    if (const auto* run = std::get_if<domain::TaskPartyStatusChanged>(&e.body);
        run && domain::is_end(run->status) && st.job().is_local(run->party))
      st.env->metrics->Add("flowstone_task_runs_ended_total",
                           {{"status", std::string(domain::to_string(run->status))}});
  if (!st.job().is_scheduler) return;
  for (const auto& e : events)
    if (const auto* job = std::get_if<domain::ScheduleStatusChanged>(&e.body);
        job && domain::is_end(job->status))
      st.env->metrics->Add("flowstone_jobs_ended_total",
                           {{"status", std::string(domain::to_string(job->status))}});
  st.env->job_board->Set(st.job_id, st.job().schedule_status);
  for (const auto& e : events)
    if (const auto* admitted = std::get_if<domain::AdmissionEnded>(&e.body); admitted && admitted->granted)
      st.env->metrics->Observe("flowstone_admission_wait_seconds", {},
                               static_cast<double>(e.at_ms - st.job().create_time) / 1000.0);
}

// At rest: ended at every copy here (and at the schedule record), its end told to every remote party, no
// run going on here and no collect in flight. The registry may stop an actor at rest once it is idle; what
// it served is in the views, and the next command replays the stream.
bool at_rest(JobSelf self) {
  const auto& st = self->state;
  const domain::JobState& job = st.job();
  if (!job.exists || !st.collecting.empty() || job.end_undelivered()) return false;
  if (job.is_scheduler && !domain::is_end(job.schedule_status)) return false;
  for (const auto& copy : job.copies)
    if (!domain::is_end(copy.status)) return false;
  for (const auto& run : job.runs)
    if (run.party_status != domain::Status::waiting && !domain::is_end(run.party_status)) return false;
  return true;
}

// Tells the board whether the actor is at rest, from now (each command restarts its idle time).
void note_rest(JobSelf self) {
  auto& st = self->state;
  st.env->job_board->SetRest(st.job_id, at_rest(self) ? st.env->now_ms() : 0);
}

}  // namespace

int64_t JobOwner::now_ms() {
  return self_->state.env->now_ms();
}

void JobOwner::read_stream(const std::string& stream) {
  JobSelf self = self_;
  self->request(self->state.env->reader, caf::infinite, ReadStreamMsg{stream})
      .then([self](ReadStreamReply& r) { self->state.host->replayed(r.status, r.events); },
            [self](caf::error& err) {
              self->state.host->replayed(store::Status::IOError("store reader: " + caf::to_string(err)), {});
            });
}

void JobOwner::append(store::AppendRequest request, uint64_t ticket) {
  auto handle = caf::actor_cast<job_actor>(self_);
  self_->state.env->log->AppendAsync(std::move(request), [handle, ticket](store::AppendResult result) {
    caf::anon_send(handle, AppendDoneMsg{ticket, std::move(result)});
  });
}

namespace {

// The last job brought back at start has replayed: the start's replay took this long.
void count_replay(JobSelf self) {
  auto& st = self->state;
  if (st.env->job_board->Replayed(st.job_id))
    st.env->metrics->Set("flowstone_replay_duration_seconds", {},
                         static_cast<double>(st.env->now_ms() - st.env->started_ms) / 1000.0);
}

}  // namespace

void JobOwner::recovered() {
  auto& st = self_->state;
  count_replay(self_);
  if (!st.job().exists) return;  // a new job: its create or join comes as a command
  publish_status(self_, {});
  // Recovery after a restart: adopt or fail runs left running, repeat what was not answered, then let the
  // scheduler look again.
  caf::anon_send(st.env->schedule_logs,
                 ScheduleLogMsg{st.job_id,
                                {{st.env->now_ms(), false,
                                  "recovered at version " + std::to_string(st.host->version())}}});
  carry_out(self_, domain::recovery_effects(st.job()), "");
  keep_supervising(self_);
  keep_detecting(self_);
  submit(self_, domain::Advance{0});
  keep_delivering_end(self_);
  note_rest(self_);
}

void JobOwner::persisted(const domain::Decision& decision) {
  auto& st = self_->state;
  log_events(self_, decision.events);
  publish_status(self_, decision.events);
  carry_out(self_, decision.effects,
            decision.events.empty() ? "" : st.job_id + "#" + std::to_string(st.host->version()));
  keep_supervising(self_);
  keep_detecting(self_);
  keep_delivering_end(self_);
  note_rest(self_);
}

void JobOwner::damaged(const std::string& why) {
  auto& st = self_->state;
  st.env->server_log->error("[job-{}] {}; the job's actor stops", st.job_id, why);
  st.env->damaged->Mark(st.host->stream(), why);
  count_replay(self_);
  st.env->job_board->SetRest(st.job_id, 0);
  st.env->job_board->SetMailbox(st.job_id, -1);
  self_->quit(caf::make_error(caf::sec::runtime_error, why));
}

namespace {

job_actor::behavior_type job_impl(JobSelf self, std::shared_ptr<Environment> env, std::string job_id,
                                  bool new_job) {
  auto& st = self->state;
  st.env = std::move(env);
  st.job_id = job_id;
  st.owner = std::make_unique<JobOwner>(self);
  st.host = std::make_unique<EventSourced<JobAggregate>>(st.env->job_stream(job_id), st.owner.get());
  if (new_job)
    st.host->start_new();
  else
    st.host->start();
  return {
      [=](JobCommandMsg& msg) -> caf::result<JobReply> {
        auto promise = self->make_response_promise<JobReply>();
        self->state.env->job_board->SetMailbox(self->state.job_id,
                                               static_cast<int64_t>(self->mailbox().size()));
        self->state.host->submit({std::move(msg.command), std::move(msg.actor)},
                                 std::move(msg.idempotency_key),
                                 [promise](const domain::Decision& d) mutable {
                                   promise.deliver(JobReply{d.code, d.message, d.data});
                                 });
        return promise;
      },
      [=](AppendDoneMsg& done) { self->state.host->appended(done.ticket, done.result); },
      [=](CollectAnsweredMsg& msg) {
        self->state.collecting.erase(collect_key(msg.call));
        if (auto report = answer_of(domain::RemoteCall{msg.call}, msg.answer))
          submit(self, std::move(*report));
      },
      [=](supervise_atom) { supervise(self); },
      [=](deadline_atom) { detect(self); },
      [=](deliver_end_atom) { deliver_end(self); },
      [=](retire_atom) {
        auto& st = self->state;
        if (!st.host->idle() || !at_rest(self)) return false;
        st.env->job_board->SetRest(st.job_id, 0);
        st.env->job_board->SetMailbox(st.job_id, -1);
        self->quit();  // after this answer: the registry that asked waits for it before anything else
        return true;
      },
  };
}

}  // namespace

job_actor spawn_job(caf::actor_system& system, std::shared_ptr<Environment> env, const std::string& job_id,
                    bool new_job) {
  return system.spawn(job_impl, std::move(env), job_id, new_job);
}

}  // namespace flowstone::actors
