// The scheduler's federated record of a job (spec 4): the job's status as it folds the tasks' (3.5), each
// task's federated status as it folds the parties' (3.4), its mirror of every party's status (from reports
// and collects), new versions (retries, reruns), stops, and the step that starts ready tasks. It drives the
// other parties with typed calls, in FATE-Flow's order (interop.md).
#include <algorithm>
#include <optional>
#include <set>

#include "events/job/parts.hpp"

namespace flowstone::domain::job {
namespace {

// Why a task reached an interrupt status: the first party in that status, with its error.
std::string interrupt_reason(const ScheduleTask& st, Status status) {
  for (const auto& [party, party_status] : st.party_status) {
    if (party_status != status) continue;
    std::string reason = "task " + st.task_name + " " + status_text(status) + " at " + party_text(party);
    auto error = st.party_error.find(party);
    if (error != st.party_error.end() && !error->second.empty()) reason += ": " + error->second;
    return reason;
  }
  return "task " + st.task_name + " " + status_text(status);
}

std::vector<PartyRef> joined_parties(const JobState& s) {
  std::vector<PartyRef> out;
  for (const PartyRef& party : s.remote_parties)
    if (s.joined.count(party)) out.push_back(party);
  return out;
}

// The federated status of a task at the schedule record and every local run, pushed to its remote parties.
void set_task_status(Step& step, const std::string& task, Status to, const std::string& reason) {
  const JobState& s = step.state();
  if (s.is_scheduler) {
    const ScheduleTask& st = s.schedule.at(task);
    if (st.status != to && task_transition_allowed(st.status, to)) {
      const int version = st.task_version;
      step.emit(ScheduleTaskStatusChanged{task, version, to, reason});
      for (const PartyRef& party : step.state().remote_parties_of(task))
        step.call(UpdateRemoteTask{party, task, version, to, reason});
    }
  }
  for (const PartyRef& party : step.state().parties_of(task)) {
    const TaskRun* run = step.state().latest_run(task, party);
    if (run && run->status != to && task_transition_allowed(run->status, to))
      set_run_status(step, *run, to, reason);
  }
}

// A task reached an end status: its remote runs are stopped with it (for success this only cleans up).
void stop_remote_runs(Step& step, const std::string& task, Status status, const std::string& reason) {
  const int version = step.state().schedule.at(task).task_version;
  for (const PartyRef& party : step.state().remote_parties_of(task))
    step.call(StopRemoteTask{party, task, version, status, reason});
}

// A remote party's own status as the scheduler learns it (report, collect, failed start). A party that
// failed before it was seen running passes through running, so its failure is not lost.
bool observe(Step& step, const PartyRef& party, const std::string& task, int version, Status to,
             const std::string& error) {
  const std::string exec = execution_id_of(step.state().job_id, task, version, party);
  if (step.state().schedule.at(task).party_status.at(party) == Status::waiting && is_interrupt(to))
    step.emit(TaskPartyStatusChanged{task, version, party, exec, Status::running, ""});
  if (!task_transition_allowed(step.state().schedule.at(task).party_status.at(party), to)) return false;
  step.emit(TaskPartyStatusChanged{task, version, party, exec, to, error});
  return true;
}

// The stop of a job (spec 4.6): at the scheduler a cancel is recorded and every remote party stops; here
// every run that is running, or started by the scheduler with its launch not yet recorded, is stopped with
// the requested status (finished runs and runs never started are left alone), and every copy ends.
void stop_job(Step& step, Status stop_status, const std::string& reason) {
  const JobState& s = step.state();
  if (s.is_scheduler && !is_end(s.schedule_status) && !s.cancel_requested) {
    step.emit(JobCancelRequested{stop_status, reason});
    stop_remote_copies(step, stop_status, reason);
  }
  for (const JobCopy& copy : std::vector<JobCopy>(step.state().copies)) {
    for (const std::string& task : step.state().topo) {
      const TaskRun* run = step.state().latest_run(task, copy.party);
      if (run && (run->party_status == Status::running ||
                  (run->party_status == Status::waiting && run->status == Status::running)))
        set_party_status(step, *run, stop_status, reason);
    }
  }
  for (const JobCopy& copy : std::vector<JobCopy>(step.state().copies))
    if (!is_end(copy.status) && job_transition_allowed(copy.status, stop_status))
      set_copy_status(step, copy.party, stop_status, reason);
}

// The task and every task downstream of it, in topological order.
std::vector<std::string> task_and_downstream(const JobState& state, const std::string& from) {
  std::set<std::string> chosen = {from};
  for (const std::string& task : state.topo)
    for (const std::string& dep : state.dependencies.at(task))
      if (chosen.count(dep)) chosen.insert(task);
  std::vector<std::string> out;
  for (const std::string& task : state.topo)
    if (chosen.count(task)) out.push_back(task);
  return out;
}

// Step 1 of advance: federated task statuses from the party statuses; ended tasks are stopped at every
// party, interrupted ones retried or they interrupt the job. True when the job is interrupted.
bool fold_tasks(Step& step) {
  const JobState& s = step.state();  // the step's working state: it follows every emit
  bool interrupted = false;
  for (const std::string& task : s.topo) {
    const ScheduleTask& st = s.schedule.at(task);
    std::vector<Status> parties;
    for (const auto& [party, status] : st.party_status) parties.push_back(status);
    std::optional<Status> fed = fold_task_status(parties);
    if (fed && *fed != st.status && task_transition_allowed(st.status, *fed)) {
      std::string reason = is_interrupt(*fed) ? interrupt_reason(st, *fed) : "parties reported";
      set_task_status(step, task, *fed, reason);
      if (is_end(*fed)) stop_remote_runs(step, task, *fed, reason);
    }
    const ScheduleTask& now = s.schedule.at(task);
    if (!is_interrupt(now.status)) continue;
    // The reason recorded when the task was interrupted names the party where it happened.
    std::string reason = now.reason.empty() ? interrupt_reason(now, now.status) : now.reason;
    for (const PartyRef& party : s.parties_of(task))
      if (const TaskRun* run = s.latest_run(task, party)) set_party_status(step, *run, now.status, reason);
    bool retry = !s.cancel_requested && (now.status == Status::failed || now.status == Status::timeout) &&
                 now.auto_retries > 0;
    if (retry) {
      // Exponential backoff: the first retry waits retry_backoff_ms, each later one twice as long.
      int64_t backoff = s.defaults.retry_backoff_ms << std::min(now.task_version, 10);
      new_version(step, task, now.auto_retries - 1, "auto retry", step.now() + backoff);
    } else {
      interrupted = true;
    }
  }
  return interrupted;
}

// Every local party running the task has room for its cores next to the runs already started.
bool fits(const JobState& s, const std::string& task) {
  for (const PartyRef& party : s.parties_of(task)) {
    const TaskRun* candidate = s.latest_run(task, party);
    const JobCopy* copy = s.copy(party);
    if (!candidate || !copy || candidate->cores == 0) continue;
    int used = 0;
    for (const std::string& other : s.topo) {
      const TaskRun* run = s.latest_run(other, party);
      if (run && run->status == Status::running && !is_end(run->party_status)) used += run->cores;
    }
    if (used + candidate->cores > copy->cores) return false;
  }
  return true;
}

// Step 2 of advance: starts every waiting task whose producers all succeeded, while there is room. True
// when some waiting task can start now or soon (HAVE_NEXT).
bool start_ready_tasks(Step& step) {
  const JobState& s = step.state();
  bool have_next = false;
  for (const std::string& task : s.topo) {
    if (s.schedule.at(task).status != Status::waiting) continue;
    const auto& deps = s.dependencies.at(task);
    bool ready = std::all_of(deps.begin(), deps.end(), [&](const std::string& dep) {
      return s.schedule.at(dep).status == Status::success;
    });
    if (!ready) continue;
    have_next = true;
    if (s.schedule.at(task).not_before > step.now()) continue;  // an auto-retry waiting out its backoff
    // No room here, or not (yet) granted at every remote party: later tasks wait too, so order is kept.
    if (!fits(s, task) || !admit_task(step, task)) break;
    start_task(step, task);
  }
  return have_next;
}

// Step 3 of advance: progress, then the job status from the latest version of every task.
void fold_job(Step& step, bool have_next) {
  const JobState& s = step.state();
  // Progress is pushed once the round's task starts are decided (none still waits for a party's answer),
  // in FATE's order.
  const bool asking = std::any_of(s.schedule.begin(), s.schedule.end(),
                                  [](const auto& task) { return task.second.resource_open; });
  if (int progress = schedule_progress(s); !s.remote_parties.empty() && progress > s.progress && !asking) {
    step.emit(JobProgressChanged{progress});
    for (const PartyRef& party : joined_parties(step.state()))
      step.call(UpdateRemoteProgress{party, progress});
  }
  std::vector<Status> statuses;
  for (const std::string& task : s.topo) statuses.push_back(s.schedule.at(task).status);
  std::optional<Status> job =
      fold_job_status(statuses, have_next ? SchedulingCode::have_next : SchedulingCode::no_next);
  if (!job || *job == s.schedule_status) return;
  if (*job == Status::waiting && s.cancel_requested) job = s.cancel_status;
  // A job that failed or was interrupted is explained by the first task that ended the way the job did; the
  // reason goes to every party with the status, so each party's row says why (and where).
  std::string reason = "tasks " + status_text(*job);
  for (const std::string& task : s.topo)
    if (const ScheduleTask& st = s.schedule.at(task); st.status == *job && !st.reason.empty()) {
      if (*job != Status::success) reason = st.reason;
      break;
    }
  set_job_status(step, *job, reason);
  if (!is_end(s.schedule_status)) return;
  // An ended job starts no task: the grants of attempts still open are given back.
  for (const std::string& task : s.topo)
    if (s.schedule.at(task).resource_open)
      close_task_admission(step, task, false, "job " + status_text(*job));
  stop_remote_copies(step, s.schedule_status, reason);
}

}  // namespace

void set_job_status(Step& step, Status to, const std::string& reason, bool push) {
  const JobState& s = step.state();
  bool changed = false;
  if (s.is_scheduler && s.schedule_status != to && job_transition_allowed(s.schedule_status, to)) {
    step.emit(ScheduleStatusChanged{to, reason});
    changed = true;
  }
  for (const JobCopy& copy : std::vector<JobCopy>(step.state().copies))
    if (copy.status != to && job_transition_allowed(copy.status, to))
      set_copy_status(step, copy.party, to, reason);
  if (changed && push)
    for (const PartyRef& party : joined_parties(step.state())) step.call(UpdateRemoteJob{party, to, reason});
}

// Every remote party, joined or not: one whose answer to the create was lost holds a copy the scheduler never
// heard of (the chaos run left such a copy `ready` for good); one without a copy answers "no found job",
// which records the end as delivered all the same.
void stop_remote_copies(Step& step, Status status, const std::string& reason) {
  for (const PartyRef& party : step.state().remote_parties) step.call(StopRemoteJob{party, status, reason});
}

void start_task(Step& step, const std::string& task) {
  const int version = step.state().schedule.at(task).task_version;
  set_task_status(step, task, Status::running, "dependencies succeeded");
  for (const PartyRef& party : step.state().remote_parties_of(task))
    step.call(StartRemoteTask{party, task, version});
  for (const PartyRef& party : step.state().parties_of(task))
    if (const TaskRun* run = step.state().latest_run(task, party)) step.effect(LaunchRun{run->execution_id});
}

void new_version(Step& step, const std::string& task, int auto_retries, const std::string& reason,
                 int64_t not_before) {
  const JobState& s = step.state();
  int version = s.is_scheduler ? s.schedule.at(task).task_version : -1;
  for (const PartyRef& party : s.parties_of(task))
    if (const TaskRun* run = s.latest_run(task, party)) version = std::max(version, run->task_version);
  const int next = version + 1;
  if (s.is_scheduler) {
    step.emit(ScheduleTaskVersionCreated{task, next, auto_retries, reason, not_before});
    for (const PartyRef& party : step.state().remote_parties_of(task))
      step.call(RerunRemoteTask{party, task, version, next});
  }
  for (const PartyRef& party : step.state().parties_of(task))
    step.emit(TaskVersionCreated{task, next, party, execution_id_of(s.job_id, task, next, party),
                                 auto_retries, reason});
}

void advance(Step& step) {
  const JobState& s = step.state();
  if (!s.exists || !s.is_scheduler) return;
  if (s.schedule_status == Status::waiting) {
    if (s.cancel_requested) {
      set_job_status(step, s.cancel_status,
                     s.cancel_reason.empty() ? "canceled while waiting" : s.cancel_reason);
      return;
    }
    if (!s.all_joined()) return;  // every party must have created its copy first
    if (!admit(step)) return;
  }
  if (s.schedule_status != Status::running) return;
  const bool interrupted = fold_tasks(step);
  const bool have_next = !s.cancel_requested && !interrupted && start_ready_tasks(step);
  fold_job(step, have_next);
}

// ---- commands
// -----------------------------------------------------------------------------------------------

Decision on_stop(const JobState& state, const StopJob& cmd) {
  if (!state.exists) return reject(RetCode::job_not_found, "No found job");
  Step step(state, cmd.now_ms);
  stop_job(step, cmd.stop_status, cmd.reason);
  return step.take();
}

Decision on_rerun(const JobState& state, const RerunJob& cmd) {
  if (!state.exists) return reject(RetCode::job_not_found, "No found job");
  Step step(state, cmd.now_ms);
  // Only the scheduler decides reruns (spec 4.7): interrupted tasks get a new version. From a named task
  // (Flowstone's addition), that task and everything downstream of it do, even if they succeeded.
  if (state.is_scheduler && !cmd.task_name.empty()) {
    if (!state.schedule.count(cmd.task_name))
      return reject(RetCode::job_params_error,
                    "task_name: job " + state.job_id + " has no task '" + cmd.task_name + "'");
    if (!is_end(state.schedule_status))
      return reject(RetCode::job_params_error, "task_name: job " + state.job_id + " is " +
                                                   status_text(state.schedule_status) +
                                                   "; a rerun from a task needs an ended job");
    for (const std::string& task : task_and_downstream(state, cmd.task_name))
      new_version(step, task, state.schedule.at(task).auto_retries, "rerun from " + cmd.task_name);
  } else if (state.is_scheduler) {
    for (const std::string& task : state.topo) {
      const ScheduleTask& st = state.schedule.at(task);
      if (is_interrupt(st.status)) new_version(step, task, st.auto_retries, "rerun");
    }
  }
  if (step.decision().events.empty()) return step.take();
  if (is_end(state.schedule_status)) set_job_status(step, Status::waiting, "rerun");
  return step.take();
}

Decision on_clean(const JobState& state, const CleanJob& cmd) {
  if (!state.exists) return reject(RetCode::job_not_found, "No found job");
  if (state.cleaned) return Decision{};
  Step step(state, cmd.now_ms);
  stop_job(step, Status::canceled, "job cleaned");
  step.emit(JobCleaned{"cleaned by user"});
  step.effect(DeleteOutputs{});
  return step.take();
}

Decision on_timeout_job(const JobState& state, const TimeoutJob& cmd) {
  // The admission detector: a job that has waited for its resources longer than admission_timeout_s.
  const int64_t admission = state.defaults.admission_timeout_s;
  if (state.is_scheduler && state.schedule_status == Status::waiting && !state.cancel_requested &&
      admission > 0 && state.waiting_since > 0 && cmd.now_ms - state.waiting_since >= admission * 1000)
    return on_stop(state, StopJob{Status::timeout,
                                  "not admitted within " + std::to_string(admission) + " s" +
                                      (state.pending_reason.empty() ? "" : " (" + state.pending_reason + ")"),
                                  cmd.now_ms});
  const int64_t limit = job_timeout_s(state.dag());
  if (!state.is_scheduler || state.schedule_status != Status::running || limit <= 0 ||
      state.start_time == 0 || cmd.now_ms - state.start_time < limit * 1000)
    return Decision{};
  return on_stop(
      state, StopJob{Status::timeout, "job timed out: running longer than " + std::to_string(limit) + " s",
                     cmd.now_ms});
}

Decision on_party_report(const JobState& state, const ReportPartyStatus& cmd) {
  auto task = state.is_scheduler ? state.schedule.find(cmd.task_name) : state.schedule.end();
  if (task == state.schedule.end() || !task->second.party_status.count(cmd.party))
    return cmd.collected ? Decision{} : no_task(state, cmd.party, cmd.task_name, cmd.task_version);
  Step step(state, cmd.now_ms);
  const bool took_effect = task->second.task_version == cmd.task_version &&
                           observe(step, cmd.party, cmd.task_name, cmd.task_version, cmd.status, cmd.error);
  if (!took_effect && !cmd.collected)  // FATE-Flow's answer to a repeated or stale report
    return reject(RetCode::task_update_failed,
                  "Update task status does not take effect: " +
                      task_ids(state.job_id, cmd.party, cmd.task_name, cmd.task_version) + ",status[False]");
  return step.take();
}

// An answer to the stop sent at the end other than "unreachable" (104) means the party has the end.
Decision on_end_call_answered(const JobState& state, const EndCallAnswered& cmd) {
  const auto& remote = state.remote_parties;
  if (!state.exists || !state.end_undelivered() || cmd.code == RetCode::federated_error ||
      std::find(remote.begin(), remote.end(), cmd.party) == remote.end() ||
      state.end_delivered.count(cmd.party))
    return Decision{};
  Step step(state, cmd.now_ms);
  step.emit(EndDelivered{cmd.party});
  return step.take();
}

Decision on_copy_created(const JobState& state, const CopyCreateAnswered& cmd) {
  if (!state.exists || !state.is_scheduler) return Decision{};
  Step step(state, cmd.now_ms);
  if (ok(cmd.code) && !state.joined.count(cmd.party)) {
    step.emit(PartyJoined{cmd.party});
    if (state.schedule_status != Status::waiting) {  // the job moved on meanwhile: catch the party up
      step.call(UpdateRemoteJob{cmd.party, state.schedule_status, ""});
      if (is_end(state.schedule_status))  // the other parties were told at the end already
        step.call(StopRemoteJob{cmd.party, state.schedule_status, state.schedule_reason});
    }
  } else if (!ok(cmd.code) && !is_end(state.schedule_status)) {
    const std::string reason = "party " + party_text(cmd.party) + " could not create the job: " + cmd.message;
    set_job_status(step, Status::failed, reason);
    stop_remote_copies(step, Status::failed, reason);
  }
  return step.take();
}

Decision on_task_started(const JobState& state, const TaskStartAnswered& cmd) {
  if (!state.exists || !state.is_scheduler || ok(cmd.code)) return Decision{};
  auto task = state.schedule.find(cmd.task_name);
  if (task == state.schedule.end() || task->second.task_version != cmd.task_version ||
      !task->second.party_status.count(cmd.party))
    return Decision{};
  Step step(state, cmd.now_ms);
  observe(step, cmd.party, cmd.task_name, cmd.task_version, Status::failed,
          "task start failed at " + party_text(cmd.party) + ": " + cmd.message);
  return step.take();
}

// ---- evolve
// -------------------------------------------------------------------------------------------------

void apply(JobState& s, const ScheduleStatusChanged& e, int64_t at) {
  s.schedule_status = e.status;
  s.schedule_reason = e.reason;
  stamp_times(e.status, at, s.start_time, s.end_time);
  if (e.status == Status::waiting) {
    s.cancel_requested = false;  // a rerun clears the cancel
    s.waiting_since = at;
  }
}

void apply(JobState& s, const JobCancelRequested& e, int64_t) {
  s.cancel_requested = true;
  s.cancel_status = e.stop_status;
  s.cancel_reason = e.reason;
}

void apply(JobState& s, const ScheduleTaskVersionCreated& e, int64_t) {
  ScheduleTask& st = s.schedule[e.task_name];
  st.task_version = e.task_version;
  st.status = Status::waiting;
  st.auto_retries = e.auto_retries;
  st.not_before = e.not_before;
  st.start_time = 0;
  st.reason.clear();
  st.party_error.clear();
  st.party_update_time.clear();
  for (auto& [party, status] : st.party_status) status = Status::waiting;
  st.resource_open = false;  // a new version asks for its own resources (attempts keep counting)
  st.resource_answers.clear();
  st.pending_reason.clear();
  st.refusals = 0;
}

void apply(JobState& s, const ScheduleTaskStatusChanged& e, int64_t at) {
  auto it = s.schedule.find(e.task_name);
  if (it == s.schedule.end() || it->second.task_version != e.task_version) return;
  it->second.status = e.status;
  it->second.reason = e.reason;
  if (e.status == Status::running) it->second.start_time = at;
}

void apply(JobState& s, const PartyJoined& e, int64_t) {
  s.joined.insert(e.party);
}

void apply(JobState& s, const EndDelivered& e, int64_t) {
  s.end_delivered.insert(e.party);
}

void apply(JobState& s, const JobProgressChanged& e, int64_t) {
  s.progress = e.progress;
}

}  // namespace flowstone::domain::job
