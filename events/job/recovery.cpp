// What a host restarting on a job's state must redo, what its supervisor collects, and when its detectors
// must look again: pure functions of the state.
#include <algorithm>

#include "events/job/parts.hpp"

namespace flowstone::domain {

std::vector<Effect> recovery_effects(const JobState& state) {
  Step step(state, 0);  // for the effects only: its events are never used
  for (const JobCopy& copy : state.copies) {
    for (const std::string& task : state.topo) {
      const TaskRun* run = state.latest_run(task, copy.party);
      if (!run) continue;
      if (job::launching(state, *run) && run->launcher_pid == 0)
        step.effect(LaunchRun{run->execution_id});
      else if (run->party_status == Status::running)
        step.effect(CheckRun{run->execution_id, run->launcher_pid});
      // A report the scheduler may have missed while this server was down (callback mode).
      if (!state.is_scheduler && state.sync_type == "callback" && run->party_status != Status::waiting)
        step.call(ReportToScheduler{state.scheduler_party_id, copy.party, task, run->task_version,
                                    run->party_status, run->error});
    }
  }
  if (state.is_scheduler) {
    // Creates not yet answered; resources asked and not yet answered.
    for (const PartyRef& party : state.remote_parties)
      if (!state.joined.count(party) && !is_end(state.schedule_status)) step.call(CreateRemoteCopy{party});
    job::ask_again(step);
    for (const auto& [task, st] : state.schedule) {
      // A new version created just before the crash may not have reached every party: a party that has not
      // reported on it is asked to create it again (a party that has answers "created already").
      if (st.task_version > 0 && !is_end(st.status) && !is_end(state.schedule_status))
        for (const PartyRef& party : state.remote_parties_of(task))
          if (st.party_status.at(party) == Status::waiting)
            step.call(RerunRemoteTask{party, task, st.task_version - 1, st.task_version});
      // Federated statuses pushed just before the crash may not have arrived: push them again (not to a
      // party that has answered the stop sent at the job's end, which came after them and ended its copy).
      if (st.status != Status::waiting)
        for (const PartyRef& party : state.remote_parties_of(task))
          if (!state.end_delivered.count(party))
            step.call(UpdateRemoteTask{party, task, st.task_version, st.status, st.reason});
      if (st.status != Status::running) continue;
      // Starts of running tasks not yet seen at their party.
      for (const PartyRef& party : state.remote_parties_of(task))
        if (st.party_status.at(party) == Status::waiting)
          step.call(StartRemoteTask{party, task, st.task_version});
    }
  }
  std::vector<Effect> effects = step.take().effects;
  for (Effect& e : undelivered_end_calls(state)) effects.push_back(std::move(e));
  return effects;
}

std::vector<Effect> undelivered_end_calls(const JobState& state) {
  Step step(state, 0);
  if (state.end_undelivered())
    for (const PartyRef& party : state.remote_parties)
      if (!state.end_delivered.count(party)) {
        step.call(UpdateRemoteJob{party, state.schedule_status, state.schedule_reason});
        step.call(StopRemoteJob{party, state.schedule_status, state.schedule_reason});
      }
  return step.take().effects;
}

int64_t next_deadline(const JobState& state) {
  int64_t next = 0;
  auto consider = [&](int64_t t) {
    if (t > 0 && (next == 0 || t < next)) next = t;
  };
  for (const auto& run : state.runs)
    if (run.party_status == Status::running && run.start_time > 0 && run.timeout_s > 0)
      consider(run.start_time + run.timeout_s * 1000);
  if (!state.is_scheduler) return next;
  if (state.schedule_status == Status::waiting && !state.admission_open && !state.pending_reason.empty())
    consider(state.admission_retry_at());
  if (state.schedule_status == Status::waiting && !state.cancel_requested &&
      state.defaults.admission_timeout_s > 0 && state.waiting_since > 0)
    consider(state.waiting_since + state.defaults.admission_timeout_s * 1000);
  if (state.schedule_status == Status::running) {
    if (int64_t limit = job_timeout_s(state.dag()); limit > 0 && state.start_time > 0)
      consider(state.start_time + limit * 1000);
    for (const auto& [task, st] : state.schedule) {
      if (st.status != Status::waiting) continue;
      consider(st.not_before);
      if (!st.resource_open && !st.pending_reason.empty())
        consider(st.resource_time + admission_retry_delay(st.refusals));
    }
  }
  return next;
}

std::vector<CollectRemoteTask> collect_calls(const JobState& state, int64_t now_ms, int64_t stale_ms) {
  std::vector<CollectRemoteTask> out;
  if (!state.is_scheduler || state.schedule_status != Status::running) return out;
  for (const auto& [task, st] : state.schedule) {
    if (st.status != Status::running) continue;
    for (const PartyRef& party : state.remote_parties_of(task)) {
      if (is_end(st.party_status.at(party))) continue;
      auto changed = st.party_update_time.find(party);
      int64_t since = std::max(st.start_time, changed == st.party_update_time.end() ? 0 : changed->second);
      if (stale_ms > 0 && now_ms - since < stale_ms) continue;
      out.push_back(CollectRemoteTask{party, task, st.task_version});
    }
  }
  return out;
}

}  // namespace flowstone::domain
