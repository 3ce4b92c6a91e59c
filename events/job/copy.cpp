// A party's copy of the job: its status as the scheduler pushes it (partner/job/status/update, start,
// stop), the cores it holds of its party's total (spec 5.3), notes, and the clean that removes its views.
#include "events/job/parts.hpp"

namespace flowstone::domain::job {

std::string status_text(Status status) {
  return std::string(to_string(status));
}

Decision no_copy(const JobState& state, const PartyRef& party) {
  return reject(RetCode::job_not_found, "No found job: " + copy_ids(state.job_id, party));
}

void return_copy_resources(Step& step, const PartyRef& party, const std::string& reason) {
  const JobCopy* copy = step.state().copy(party);
  if (!copy || !copy->resource_in_use) return;
  const bool still_waiting = !is_end(copy->status);
  step.emit(CopyResourcesReturned{party, copy->cores, reason});
  step.effect(ReleaseLocalResources{party, still_waiting});
}

void set_copy_status(Step& step, const PartyRef& party, Status to, const std::string& reason) {
  const JobCopy* copy = step.state().copy(party);
  if (!copy) return;
  const bool held = copy->resource_in_use;
  step.emit(JobStatusChanged{party, to, reason});
  if (!is_end(to)) return;
  if (held) {
    return_copy_resources(step, party, "job " + status_text(to));
  } else {
    step.effect(ReleaseLocalResources{party, false});  // no longer waits in the party's queue either
  }
}

Decision on_update_copy(const JobState& state, const UpdateCopyStatus& cmd) {
  const JobCopy* copy = state.copy(cmd.party);
  if (!copy) return no_copy(state, cmd.party);
  if (copy->status == cmd.status || !job_transition_allowed(copy->status, cmd.status)) {
    if (cmd.start) return Decision{};
    return reject(RetCode::job_update_failed,
                  "Update job does not take effect: " + copy_ids(state.job_id, cmd.party) + ",status[" +
                      status_text(cmd.status) + "]");
  }
  Step step(state, cmd.now_ms);
  set_copy_status(step, cmd.party, cmd.status, cmd.reason);
  return step.take();
}

Decision on_stop_copy(const JobState& state, const StopCopy& cmd) {
  const JobCopy* copy = state.copy(cmd.party);
  if (!copy) return no_copy(state, cmd.party);
  Step step(state, cmd.now_ms);
  stop_runs(step, cmd.party, cmd.status, cmd.reason);
  if (!is_end(copy->status) && job_transition_allowed(copy->status, cmd.status))
    set_copy_status(step, cmd.party, cmd.status, cmd.reason);
  return step.take();
}

Decision on_hold(const JobState& state, const HoldResources& cmd) {
  const JobCopy* copy = state.copy(cmd.party);
  if (!copy) return no_copy(state, cmd.party);
  if (copy->resource_in_use) return Decision{};  // applied already
  if (is_end(copy->status))
    return reject(RetCode::job_resource_exception,
                  "Job resource exception: " + copy_ids(state.job_id, cmd.party) + " has ended");
  Step step(state, cmd.now_ms);
  step.emit(CopyResourcesApplied{cmd.party, copy->cores});
  return step.take();
}

Decision on_return(const JobState& state, const ReturnResources& cmd) {
  if (!state.copy(cmd.party)) return no_copy(state, cmd.party);
  Step step(state, cmd.now_ms);
  return_copy_resources(step, cmd.party, cmd.reason);
  return step.take();
}

Decision on_notes(const JobState& state, const AddNotes& cmd) {
  if (!state.exists || !state.copy(cmd.party)) return reject(RetCode::job_not_found, "No found job");
  Step step(state, cmd.now_ms);
  step.emit(JobNotesAdded{cmd.party, cmd.notes});
  return step.take();
}

// ---- evolve ---------------------------------------------------------------------------------------------

void apply(JobState& s, const JobStatusChanged& e, int64_t at) {
  if (JobCopy* copy = s.copy(e.party)) {
    copy->status = e.status;
    copy->status_reason = e.reason;
    copy->update_time = at;
    stamp_times(e.status, at, copy->start_time, copy->end_time);
  }
}

void apply(JobState& s, const JobNotesAdded& e, int64_t at) {
  if (JobCopy* copy = s.copy(e.party)) {
    copy->description = e.notes;
    copy->update_time = at;
  }
}

void apply(JobState& s, const CopyResourcesApplied& e, int64_t) {
  if (JobCopy* copy = s.copy(e.party)) copy->resource_in_use = true;
}

void apply(JobState& s, const CopyResourcesReturned& e, int64_t) {
  if (JobCopy* copy = s.copy(e.party)) copy->resource_in_use = false;
}

void apply(JobState& s, const JobCleaned&, int64_t) {
  s.cleaned = true;
}

}  // namespace flowstone::domain::job
