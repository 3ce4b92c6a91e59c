#include "events/job/task_cores.hpp"

#include <string>

#include "events/job/parts.hpp"

namespace flowstone::domain {
namespace {

// A run holds cores while it runs, or while it holds a grant and is still its task's latest version (a
// grant of a version the scheduler replaced before starting it is never used).
bool holds_cores(const JobState& state, const TaskRun& run) {
  if (is_end(run.party_status)) return false;
  if (run.party_status == Status::running) return true;
  const TaskRun* latest = state.latest_run(run.task_name, run.party);
  return run.task_resources_held && latest && latest->task_version == run.task_version;
}

Decision task_exception(std::string what) {
  return reject(RetCode::task_resource_exception, "Task resource exception: " + std::move(what));
}

}  // namespace

int task_cores_in_use(const JobState& state, const PartyRef& party) {
  int cores = 0;
  for (const auto& run : state.runs)
    if (run.party == party && holds_cores(state, run)) cores += run.cores;
  return cores;
}

namespace job {

Decision on_apply_task_cores(const JobState& state, const ApplyTaskResources& cmd) {
  const std::string where = task_ids(state.job_id, cmd.party, cmd.task_name, cmd.task_version);
  const JobCopy* copy = state.copy(cmd.party);
  const TaskRun* run = state.find_run(cmd.task_name, cmd.task_version, cmd.party);
  if (!copy || !run) return task_exception("no found task " + where);
  if (holds_cores(state, *run)) return Decision{};  // granted already: a repeated apply changes nothing
  if (is_end(run->party_status)) return task_exception("the task has ended " + where);
  const int in_use = task_cores_in_use(state, cmd.party);
  if (copy->cores > 0 && in_use + run->cores > copy->cores)
    return task_exception(where + " needs " + std::to_string(run->cores) + " cores, the job's " +
                          std::to_string(copy->cores) + " cores at " + party_text(cmd.party) + " have " +
                          std::to_string(copy->cores - in_use) + " left");
  Step step(state, cmd.now_ms);
  step.emit(TaskResourcesApplied{run->task_name, run->task_version, run->party, run->cores});
  return step.take();
}

Decision on_return_task_cores(const JobState& state, const ReturnTaskResources& cmd) {
  const TaskRun* run = state.find_run(cmd.task_name, cmd.task_version, cmd.party);
  if (!run)
    return task_exception("no found task " +
                          task_ids(state.job_id, cmd.party, cmd.task_name, cmd.task_version));
  if (!run->task_resources_held) return Decision{};  // nothing held: returning again changes nothing
  Step step(state, cmd.now_ms);
  step.emit(
      TaskResourcesReturned{run->task_name, run->task_version, run->party, "returned by the scheduler"});
  return step.take();
}

void apply(JobState& s, const TaskResourcesApplied& e, int64_t) {
  if (TaskRun* run = s.find_run(e.task_name, e.task_version, e.party)) run->task_resources_held = true;
}

void apply(JobState& s, const TaskResourcesReturned& e, int64_t) {
  if (TaskRun* run = s.find_run(e.task_name, e.task_version, e.party)) run->task_resources_held = false;
}

}  // namespace job
}  // namespace flowstone::domain
