// dag.conf.inheritance (spec 4.8): the listed tasks are taken over from an earlier job at every local party.
// Each run starts as success, with the earlier run's data outputs, metrics and models (re-keyed to this
// job's model id and version; the stored tar is shared). It happens here, at creation, so the scheduler
// never starts those tasks; a party that cannot inherit refuses the job.
#include "events/job/parts.hpp"

namespace flowstone::domain::job {
namespace {

// Copies what the earlier run `from` produced to the run `exec` of this job at `party`.
void copy_outputs(Step& step, const JobState& source, const TaskRun& from, const std::string& exec,
                  const PartyRef& party, const std::string& task) {
  const JobState& s = step.state();
  Json metrics = Json::array();
  for (const auto& m : source.tracking.metrics)
    if (m.by.execution_id == from.execution_id) metrics.push_back(m.metric);
  if (!metrics.empty()) step.emit(MetricsSaved{exec, metrics});
  for (const auto& d : source.tracking.data_outputs)
    if (d.by.execution_id == from.execution_id) step.emit(DataOutputTracked{exec, d.record});
  for (const auto& m : source.tracking.models) {
    if (m.by.execution_id != from.execution_id) continue;
    ModelSaved model = m.model;
    model.execution_id = exec;
    model.model_id = s.model_id;
    model.model_version = s.model_version;
    model.storage_key = model_storage_key(s.model_id, s.model_version, party, task, model.output_key);
    step.emit(model);
  }
}

}  // namespace

std::string inherit(Step& step, const JobState* source) {
  const Json inheritance = step.state().dag().conf.value("inheritance", Json(nullptr));
  if (!inheritance.is_object()) return "";
  std::string source_id = inheritance.value("job_id", std::string());
  std::vector<std::string> tasks = inheritance.value("task_list", std::vector<std::string>());
  if (tasks.empty()) return "";
  if (!source || !source->exists || source->job_id != source_id)
    return "dag.conf.inheritance.job_id: job " + source_id + " is not at this site";
  const std::string reason = "inherited from job " + source_id;
  for (const std::string& task : tasks) {
    if (!step.state().dag().find_task(task))
      return "dag.conf.inheritance.task_list: '" + task + "' is not a task of this job";
    for (const PartyRef& party : step.state().parties_of(task)) {
      const TaskRun* from = source->latest_run(task, party);
      if (!from || from->party_status != Status::success)
        return "dag.conf.inheritance: task " + task + " of job " + source_id + " did not succeed at " +
               party_text(party);
      const TaskRun run = *step.state().latest_run(task, party);
      record_party_status(step, run, Status::success, "");
      step.emit(TaskStatusChanged{task, run.task_version, party, run.execution_id, Status::success, reason});
      copy_outputs(step, *source, *from, run.execution_id, party, task);
    }
    if (step.state().is_scheduler) {
      const JobState& s = step.state();
      for (const PartyRef& party : s.remote_parties_of(task))  // each inherits at its own site
        step.emit(TaskPartyStatusChanged{task, 0, party, execution_id_of(s.job_id, task, 0, party),
                                         Status::success, ""});
      step.emit(ScheduleTaskStatusChanged{task, 0, Status::success, reason});
    }
  }
  return "";
}

}  // namespace flowstone::domain::job
