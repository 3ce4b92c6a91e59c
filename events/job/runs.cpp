// A party's task runs: what its worker and launcher report, what the scheduler asks of them
// (partner/task/status/update, start, stop, rerun, collect), and their timeouts. A run's own status
// (party_status) is the party's truth; its federated status is the scheduler's.
#include "events/job/parts.hpp"

namespace flowstone::domain::job {

Decision no_task(const JobState& state, const PartyRef& party, const std::string& task, int version) {
  return reject(RetCode::task_not_found, "No found task: " + task_ids(state.job_id, party, task, version));
}

bool launching(const JobState& s, const TaskRun& run) {
  // At the scheduler its federated status left waiting (it launches its own runs); at a party the
  // scheduler's partner/task/start arrived.
  return run.party_status == Status::waiting &&
         (run.start_requested || (s.is_scheduler && run.status != Status::waiting));
}

bool stoppable(const JobState& s, const TaskRun& run) {
  return run.party_status == Status::running || launching(s, run);
}

void record_party_status(Step& step, const TaskRun& run, Status to, const std::string& error) {
  const TaskRun now = *step.state().find_run(run.task_name, run.task_version, run.party);
  step.emit(TaskPartyStatusChanged{now.task_name, now.task_version, now.party, now.execution_id, to, error});
  const JobState& s = step.state();
  if (!s.is_scheduler && s.sync_type == "callback" && s.is_local(now.party))
    step.call(ReportToScheduler{s.scheduler_party_id, now.party, now.task_name, now.task_version, to, error});
  if (now.task_resources_held && is_end(to))
    step.emit(TaskResourcesReturned{now.task_name, now.task_version, now.party, "task " + status_text(to)});
}

void set_party_status(Step& step, const TaskRun& run, Status to, const std::string& error) {
  const TaskRun now = *step.state().find_run(run.task_name, run.task_version, run.party);
  if (launching(step.state(), now) && is_interrupt(to)) {
    record_party_status(step, now, Status::running, "");
    record_party_status(step, now, to, error);
    step.effect(KillRun{now.execution_id, now.launcher_pid});
    return;
  }
  if (!task_transition_allowed(now.party_status, to)) return;
  const bool kill = now.party_status == Status::running && is_interrupt(to) && now.launcher_pid != 0;
  record_party_status(step, now, to, error);
  if (kill) step.effect(KillRun{now.execution_id, now.launcher_pid});
}

void set_run_status(Step& step, const TaskRun& run, Status to, const std::string& reason) {
  step.emit(TaskStatusChanged{run.task_name, run.task_version, run.party, run.execution_id, to, reason});
}

void stop_runs(Step& step, const PartyRef& party, Status status, const std::string& reason) {
  for (const std::string& task : step.state().topo) {
    const TaskRun* run = step.state().latest_run(task, party);
    if (run && stoppable(step.state(), *run)) set_party_status(step, *run, status, reason);
  }
}

// ---- the worker and the launcher ------------------------------------------------------------------------

Decision on_report(const JobState& state, const ReportTaskStatus& cmd) {
  const TaskRun* run = state.run_by_execution(cmd.execution_id);
  if (!run) return reject(RetCode::task_not_found, "No found task: execution_id[" + cmd.execution_id + "]");
  // A run this server interrupted (stop, timeout) stays so: its killed worker's last word changes nothing
  // (the table would let timeout become failed or success).
  if (is_interrupt(run->party_status)) return Decision{};
  Step step(state, cmd.now_ms);
  // The worker's end report overtook the launcher's record (the worker ran, so the run passes through
  // running; waiting -> failed is not a transition and the error would otherwise be lost).
  if (run->party_status == Status::waiting && run->status != Status::waiting && is_end(cmd.status))
    record_party_status(step, *run, Status::running, "");
  // A stale or repeated report is not an error: it simply takes no effect (spec 11, item 2).
  const TaskRun* now = step.state().run_by_execution(cmd.execution_id);
  if (task_transition_allowed(now->party_status, cmd.status))
    record_party_status(step, *now, cmd.status, cmd.error);
  return step.take();
}

Decision on_launch(const JobState& state, const RecordLaunch& cmd) {
  const TaskRun* run = state.run_by_execution(cmd.execution_id);
  if (!run) return reject(RetCode::task_not_found, "No found task: execution_id[" + cmd.execution_id + "]");
  // A repeated record of the launcher already recorded changes nothing; the run must not be killed.
  if (run->party_status == Status::running && run->launcher_pid == cmd.launcher_pid) return Decision{};
  Step step(state, cmd.now_ms);
  step.emit(TaskLaunched{run->task_name, run->task_version, run->party, run->execution_id, cmd.launcher_pid,
                         cmd.cmd, cmd.log_dir, cmd.provider_name});
  if (run->party_status == Status::waiting) {
    record_party_status(step, *run, Status::running, "");
  } else if (!is_success(run->party_status)) {
    step.effect(KillRun{run->execution_id, cmd.launcher_pid});  // stopped while its launcher started
  }
  return step.take();
}

Decision on_fail_run(const JobState& state, const FailRun& cmd) {
  const TaskRun* run = state.run_by_execution(cmd.execution_id);
  if (!run) return reject(RetCode::task_not_found, "No found task: execution_id[" + cmd.execution_id + "]");
  if (is_interrupt(run->party_status)) return Decision{};  // interrupted here already (see on_report)
  Step step(state, cmd.now_ms);
  if (run->party_status == Status::waiting)  // a run that never started still passes through running
    record_party_status(step, *run, Status::running, "");
  if (const TaskRun* now = step.state().run_by_execution(cmd.execution_id);
      task_transition_allowed(now->party_status, Status::failed))
    record_party_status(step, *now, Status::failed, cmd.error);
  return step.take();
}

Decision on_timeout_run(const JobState& state, const TimeoutRun& cmd) {
  const TaskRun* run = state.run_by_execution(cmd.execution_id);
  if (!run || run->party_status != Status::running || run->start_time == 0 || run->timeout_s <= 0 ||
      cmd.now_ms - run->start_time < run->timeout_s * 1000)
    return Decision{};  // not (or no longer) past its timeout
  Step step(state, cmd.now_ms);
  set_party_status(step, *run, Status::timeout,
                   "task timed out: running longer than " + std::to_string(run->timeout_s) + " s");
  return step.take();
}

// ---- what the scheduler asks of a party's runs ------------------------------------------------------------

Decision on_update_task(const JobState& state, const UpdateTaskStatus& cmd) {
  const TaskRun* run = state.find_run(cmd.task_name, cmd.task_version, cmd.party);
  if (!run) return no_task(state, cmd.party, cmd.task_name, cmd.task_version);
  if (run->status == cmd.status || !task_transition_allowed(run->status, cmd.status))
    return reject(RetCode::task_update_failed,
                  "Update task status does not take effect: " +
                      task_ids(state.job_id, cmd.party, cmd.task_name, cmd.task_version) + ",status[" +
                      status_text(cmd.status) + "]");
  Step step(state, cmd.now_ms);
  set_run_status(step, *run, cmd.status, cmd.reason);
  return step.take();
}

Decision on_start_task(const JobState& state, const StartTask& cmd) {
  const TaskRun* run = state.find_run(cmd.task_name, cmd.task_version, cmd.party);
  if (!run) return no_task(state, cmd.party, cmd.task_name, cmd.task_version);
  // Started already (or being started): a repeated start changes nothing.
  if (run->start_requested || run->launcher_pid != 0 || run->party_status != Status::waiting)
    return Decision{};
  Step step(state, cmd.now_ms);
  // The scheduler starts tasks only of a running job: a copy still ready or waiting here missed the job's
  // start (lost with a restart, say) and follows it now, so the job's end can be applied to it later.
  if (const JobCopy* copy = state.copy(cmd.party);
      copy && (copy->status == Status::ready || copy->status == Status::waiting)) {
    if (copy->status == Status::ready)
      set_copy_status(step, cmd.party, Status::waiting, "a task was started by the scheduler");
    set_copy_status(step, cmd.party, Status::running, "a task was started by the scheduler");
  }
  if (run->status == Status::waiting) set_run_status(step, *run, Status::running, "started by the scheduler");
  step.emit(TaskStartRequested{run->task_name, run->task_version, run->party, run->execution_id});
  step.effect(LaunchRun{run->execution_id});
  return step.take();
}

Decision on_stop_task(const JobState& state, const StopTask& cmd) {
  const TaskRun* run = state.find_run(cmd.task_name, cmd.task_version, cmd.party);
  if (!run) return no_task(state, cmd.party, cmd.task_name, cmd.task_version);
  Step step(state, cmd.now_ms);
  if (stoppable(state, *run)) set_party_status(step, *run, cmd.status, cmd.reason);
  return step.take();
}

Decision on_rerun_task(const JobState& state, const RerunTask& cmd) {
  const TaskRun* latest = state.latest_run(cmd.task_name, cmd.party);
  if (!latest) return no_task(state, cmd.party, cmd.task_name, cmd.new_version);
  if (latest->task_version >= cmd.new_version) return Decision{};  // created already
  Step step(state, cmd.now_ms);
  step.emit(TaskVersionCreated{cmd.task_name, cmd.new_version, cmd.party,
                               execution_id_of(state.job_id, cmd.task_name, cmd.new_version, cmd.party),
                               latest->auto_retries, "rerun by the scheduler"});
  return step.take();
}

Decision on_collect(const JobState& state, const CollectTask& cmd) {
  const TaskRun* run = state.find_run(cmd.task_name, cmd.task_version, cmd.party);
  if (!run) return no_task(state, cmd.party, cmd.task_name, cmd.task_version);
  auto time = [](int64_t t) { return t > 0 ? Json(t) : Json(nullptr); };
  Decision d;
  d.data = Json{
      {"job_id", state.job_id},
      {"task_id", task_id_of(state.job_id, run->task_name)},
      {"task_version", run->task_version},
      {"role", run->party.role},
      {"party_id", run->party.party_id},
      {"status", to_string(run->status)},
      {"party_status", to_string(run->party_status)},
      {"start_time", time(run->start_time)},
      {"update_time", time(run->update_time)},
      {"end_time", time(run->end_time)},
      {"elapsed", run->start_time && run->end_time ? Json(run->end_time - run->start_time) : Json(nullptr)},
      {"error", run->error}};
  return d;
}

// ---- evolve ---------------------------------------------------------------------------------------------

void apply(JobState& s, const TaskVersionCreated& e, int64_t at) {
  const TaskRun* prev = s.latest_run(e.task_name, e.party);
  if (!prev) return;
  TaskRun run;
  run.task_name = e.task_name;
  run.task_version = e.task_version;
  run.party = e.party;
  run.execution_id = e.execution_id;
  run.component = prev->component;
  run.cores = prev->cores;
  run.timeout_s = prev->timeout_s;
  run.auto_retries = e.auto_retries;
  run.create_time = run.update_time = at;
  s.runs.push_back(run);
}

void apply(JobState& s, const TaskStatusChanged& e, int64_t at) {
  if (TaskRun* run = s.find_run(e.task_name, e.task_version, e.party)) {
    run->status = e.status;
    run->update_time = at;
    // Another party's failure explains this run's end when its own report says nothing.
    if (is_interrupt(e.status) && run->error.empty()) run->error = e.reason;
  }
}

void apply(JobState& s, const TaskPartyStatusChanged& e, int64_t at) {
  if (TaskRun* run = s.find_run(e.task_name, e.task_version, e.party)) {
    run->party_status = e.status;
    run->update_time = at;
    stamp_times(e.status, at, run->start_time, run->end_time);
    if (!e.error.empty()) run->error = e.error;
  }
  if (!s.is_scheduler) return;
  // The scheduler's mirror of this party.
  if (is_end(e.status)) ++s.party_ends;
  auto it = s.schedule.find(e.task_name);
  if (it != s.schedule.end() && it->second.task_version == e.task_version) {
    it->second.party_status[e.party] = e.status;
    it->second.party_update_time[e.party] = at;
    if (!e.error.empty()) it->second.party_error[e.party] = e.error;
  }
}

void apply(JobState& s, const TaskLaunched& e, int64_t at) {
  if (TaskRun* run = s.find_run(e.task_name, e.task_version, e.party)) {
    run->launcher_pid = e.launcher_pid;
    run->cmd = e.cmd;
    run->log_dir = e.log_dir;
    if (!e.provider_name.empty()) run->provider_name = e.provider_name;  // an adoption keeps it
    run->update_time = at;
  }
}

void apply(JobState& s, const TaskStartRequested& e, int64_t) {
  if (TaskRun* run = s.find_run(e.task_name, e.task_version, e.party)) run->start_requested = true;
}

}  // namespace flowstone::domain::job
