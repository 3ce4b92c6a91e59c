// Admission, all or nothing, as FATE's scheduler negotiates it. A waiting job asks every party for its cores
// (spec 4.2, 5.3); a task asks every remote party of the task for its cores before it starts (spec 5.4). Once
// all have answered, either all granted and the job (the task) starts, or the grants are given back and it
// waits with a pending reason naming the party, asking again after admission_retry_delay() (a task asks at
// once when a run of the job ends somewhere), or the job fails when a party can never hold it (1006).
#include <map>

#include "events/job/parts.hpp"

namespace flowstone::domain::job {
namespace {

void ask_for_job_resources(Step& step, const PartyRef& party) {
  const JobState& s = step.state();
  if (const JobCopy* copy = s.copy(party)) {
    step.effect(ApplyLocalResources{party, copy->cores, s.admission_attempt});
  } else {
    step.call(ApplyRemoteJobResources{party, s.admission_attempt});
  }
}

void ask_for_task_resources(Step& step, const PartyRef& party, const std::string& task) {
  const ScheduleTask& st = step.state().schedule.at(task);
  step.call(ApplyRemoteTaskResources{party, task, st.task_version, st.resource_attempt});
}

// The scheduler records one party's answer to the current admission attempt.
void record_answer(Step& step, const PartyRef& party, int attempt, RetCode code, const std::string& message) {
  const JobState& s = step.state();
  if (!s.is_scheduler || s.schedule_status != Status::waiting || !s.admission_open ||
      attempt != s.admission_attempt || s.admission_answers.count(party))
    return;
  if (ok(code) && s.is_local(party)) step.emit(CopyResourcesApplied{party, s.copy(party)->cores});
  step.emit(PartyResourcesAnswered{party, attempt, to_int(code), message});
}

}  // namespace

bool admit(Step& step) {
  const JobState& s = step.state();
  if (s.admission_open) {
    for (const PartyRef& party : s.dag().parties)
      if (!s.admission_answers.count(party)) return false;  // still waiting for answers
    std::string refusal;
    bool never = false;
    for (const auto& [party, answer] : s.admission_answers) {
      if (answer.code == 0) continue;
      if (refusal.empty()) refusal = "waiting for resources at " + party_text(party) + ": " + answer.message;
      if (answer.code == to_int(RetCode::job_resource_limit_exceeded)) {
        never = true;
        refusal = "party " + party_text(party) + " can never hold the job: " + answer.message;
      }
    }
    step.emit(AdmissionEnded{s.admission_attempt, refusal.empty(), refusal});
    if (refusal.empty()) {
      set_job_status(step, Status::running, "admitted", /*push=*/false);
      for (const PartyRef& party : s.remote_parties)
        if (s.joined.count(party)) step.call(StartRemoteJob{party});
      return true;
    }
    for (const auto& [party, answer] : std::map<PartyRef, PartyResourcesAnswered>(s.admission_answers)) {
      if (answer.code != 0) continue;
      if (s.is_local(party)) {
        return_copy_resources(step, party, "another party refused the job's resources");
      } else {
        step.call(ReturnRemoteJobResources{party});
      }
    }
    if (never) {
      set_job_status(step, Status::failed, refusal);
      stop_remote_copies(step, Status::failed, refusal);
    }
    return false;
  }
  // After a refusal the job asks again only after a pause; after a rerun it asks at once.
  if (!s.pending_reason.empty() && step.now() < s.admission_retry_at()) return false;
  step.emit(AdmissionStarted{s.admission_attempt + 1});
  for (const PartyRef& party : std::vector<PartyRef>(s.dag().parties)) ask_for_job_resources(step, party);
  return false;
}

void close_task_admission(Step& step, const std::string& task, bool granted, const std::string& reason) {
  const ScheduleTask st = step.state().schedule.at(task);
  step.emit(TaskAdmissionEnded{task, st.task_version, st.resource_attempt, granted, reason});
  if (granted) return;
  for (const auto& [party, answer] : st.resource_answers)
    if (answer.code == 0) step.call(ReturnRemoteTaskResources{party, task, st.task_version});
}

bool admit_task(Step& step, const std::string& task) {
  const JobState& s = step.state();
  const std::vector<PartyRef> remote = s.remote_parties_of(task);
  if (remote.empty()) return true;
  const ScheduleTask& st = s.schedule.at(task);
  if (st.resource_open) {
    for (const PartyRef& party : remote)
      if (!st.resource_answers.count(party)) return false;  // still waiting for answers
    std::string refusal;
    for (const auto& [party, answer] : st.resource_answers)
      if (answer.code != 0 && refusal.empty())
        refusal = "waiting for task resources at " + party_text(party) + ": " + answer.message;
    close_task_admission(step, task, refusal.empty(), refusal);
    return refusal.empty();
  }
  if (!st.pending_reason.empty() && step.now() < st.resource_time + admission_retry_delay(st.refusals) &&
      s.party_ends == st.party_ends_at_refusal)
    return false;  // refused: ask again after a pause, or once a run has ended somewhere
  step.emit(TaskAdmissionStarted{task, st.task_version, st.resource_attempt + 1});
  for (const PartyRef& party : remote) ask_for_task_resources(step, party, task);
  return false;
}

void ask_again(Step& step) {
  const JobState& s = step.state();
  if (!s.is_scheduler) return;
  if (s.admission_open && s.schedule_status == Status::waiting)
    for (const PartyRef& party : s.dag().parties)
      if (!s.admission_answers.count(party)) ask_for_job_resources(step, party);
  for (const auto& [task, st] : s.schedule)
    if (st.resource_open)
      for (const PartyRef& party : s.remote_parties_of(task))
        if (!st.resource_answers.count(party)) ask_for_task_resources(step, party, task);
}

Decision on_resources_answered(const JobState& state, const ResourcesAnswered& cmd) {
  Step step(state, cmd.now_ms);
  record_answer(step, cmd.party, cmd.attempt, cmd.code, cmd.message);
  // A local grant that came too late for its attempt is given back at once.
  if (ok(cmd.code) && step.decision().events.empty() && state.copy(cmd.party) &&
      !state.copy(cmd.party)->resource_in_use)
    step.effect(ReleaseLocalResources{cmd.party, false});
  return step.take();
}

// A grant that belongs to no open attempt (the job ended, the task moved on, the party answered twice) is
// given back at once, so no party holds cores for a run that will not start.
Decision on_task_resources_answer(const JobState& state, const TaskResourcesAnswer& cmd) {
  auto task = state.schedule.find(cmd.task_name);
  const bool current = state.is_scheduler && task != state.schedule.end() && task->second.resource_open &&
                       task->second.task_version == cmd.task_version &&
                       task->second.resource_attempt == cmd.attempt &&
                       !task->second.resource_answers.count(cmd.party);
  Step step(state, cmd.now_ms);
  if (current) {
    step.emit(TaskResourcesAnswered{cmd.task_name, cmd.task_version, cmd.party, cmd.attempt, to_int(cmd.code),
                                    cmd.message});
  } else if (ok(cmd.code)) {
    step.call(ReturnRemoteTaskResources{cmd.party, cmd.task_name, cmd.task_version});
  }
  return step.take();
}

// ---- evolve
// ---------------------------------------------------------------------------------------------------

void apply(JobState& s, const AdmissionStarted& e, int64_t at) {
  s.admission_attempt = e.attempt;
  s.admission_open = true;
  s.admission_time = at;
  s.admission_answers.clear();
}

void apply(JobState& s, const PartyResourcesAnswered& e, int64_t) {
  if (e.attempt == s.admission_attempt) s.admission_answers[e.party] = e;
}

void apply(JobState& s, const AdmissionEnded& e, int64_t) {
  s.admission_open = false;
  s.pending_reason = e.granted ? "" : e.reason;
  s.refusals = e.granted ? 0 : s.refusals + 1;
}

void apply(JobState& s, const TaskAdmissionStarted& e, int64_t at) {
  auto it = s.schedule.find(e.task_name);
  if (it == s.schedule.end() || it->second.task_version != e.task_version) return;
  it->second.resource_attempt = e.attempt;
  it->second.resource_open = true;
  it->second.resource_time = at;
  it->second.resource_answers.clear();
}

void apply(JobState& s, const TaskResourcesAnswered& e, int64_t) {
  auto it = s.schedule.find(e.task_name);
  if (it != s.schedule.end() && it->second.task_version == e.task_version &&
      it->second.resource_attempt == e.attempt)
    it->second.resource_answers[e.party] = e;
}

void apply(JobState& s, const TaskAdmissionEnded& e, int64_t) {
  auto it = s.schedule.find(e.task_name);
  if (it == s.schedule.end() || it->second.task_version != e.task_version) return;
  ScheduleTask& st = it->second;
  st.resource_open = false;
  st.pending_reason = e.granted ? "" : e.reason;
  st.refusals = e.granted ? 0 : st.refusals + 1;
  st.party_ends_at_refusal = s.party_ends;
}

}  // namespace flowstone::domain::job
