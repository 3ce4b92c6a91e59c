// Inside the Job aggregate: what its parts (one file each) offer one another. Each part decides the
// commands of its concern and applies the events of its concern; decide.cpp and apply.cpp route to them.
// Not for use outside events/job/.
#pragma once
#include <string>

#include "events/job/job.hpp"

namespace flowstone::domain::job {

std::string status_text(Status status);
// The local run of `task` at `version` at `party` (its latest when the version is unknown), or nullptr.
inline const TaskRun* run_of(const JobState& s, const std::string& task, int version, const PartyRef& party) {
  return s.find_run(task, version, party);
}
Decision no_task(const JobState& state, const PartyRef& party, const std::string& task, int version);
Decision no_copy(const JobState& state, const PartyRef& party);
// A status change's effect on start and end times: running starts the clock once, an end status stops it,
// waiting (a rerun) clears the end.
inline void stamp_times(Status status, int64_t now, int64_t& start, int64_t& end) {
  if (status == Status::running && start == 0) start = now;
  if (is_end(status)) end = now;
  if (status == Status::waiting) end = 0;
}

// ---- create.cpp: a job comes to exist here -------------------------------------------------------------
Decision on_create(const JobState& state, const CreateJob& cmd);
Decision on_join(const JobState& state, const JoinJob& cmd);
void apply(JobState& s, const JobCreated& e, int64_t at);

// ---- inheritance.cpp: dag.conf.inheritance (spec 4.8) --------------------------------------------------
// Takes the listed tasks over from `source` at every local party. Returns the problem, or "".
std::string inherit(Step& step, const JobState* source);

// ---- copy.cpp: a party's copy ---------------------------------------------------------------------------
// The copy's status; a copy that ends gives its cores back in the same decision (spec 5.3), so an ended
// copy never holds any (or leaves its party's queue).
void set_copy_status(Step& step, const PartyRef& party, Status to, const std::string& reason);
void return_copy_resources(Step& step, const PartyRef& party, const std::string& reason);
Decision on_update_copy(const JobState& state, const UpdateCopyStatus& cmd);
Decision on_stop_copy(const JobState& state, const StopCopy& cmd);
Decision on_hold(const JobState& state, const HoldResources& cmd);
Decision on_return(const JobState& state, const ReturnResources& cmd);
Decision on_notes(const JobState& state, const AddNotes& cmd);
void apply(JobState& s, const JobStatusChanged& e, int64_t at);
void apply(JobState& s, const JobNotesAdded& e, int64_t at);
void apply(JobState& s, const CopyResourcesApplied& e, int64_t at);
void apply(JobState& s, const CopyResourcesReturned& e, int64_t at);
void apply(JobState& s, const JobCleaned& e, int64_t at);

// ---- runs.cpp: a party's task runs ----------------------------------------------------------------------
// A run whose start was asked for but whose launcher is not yet recorded.
bool launching(const JobState& s, const TaskRun& run);
// A run that has started, or is starting, can be stopped; one never started is left alone (spec 4.6).
bool stoppable(const JobState& s, const TaskRun& run);
// A run's own status, with what it implies: in callback mode the scheduler is told (spec 4.5), and a run
// that ends gives back the task cores it held (spec 5.4).
void record_party_status(Step& step, const TaskRun& run, Status to, const std::string& error);
// Sets a run's own status from outside its worker (a stop, a timeout, an interrupt): a running worker is
// killed; a run still being launched passes through running and whatever its launcher started is killed.
void set_party_status(Step& step, const TaskRun& run, Status to, const std::string& error);
// The federated status of a local run, as the scheduler set it.
void set_run_status(Step& step, const TaskRun& run, Status to, const std::string& reason);
// Stops every run of the copy that is running or starting (spec 4.6).
void stop_runs(Step& step, const PartyRef& party, Status status, const std::string& reason);
Decision on_report(const JobState& state, const ReportTaskStatus& cmd);
Decision on_launch(const JobState& state, const RecordLaunch& cmd);
Decision on_fail_run(const JobState& state, const FailRun& cmd);
Decision on_timeout_run(const JobState& state, const TimeoutRun& cmd);
Decision on_update_task(const JobState& state, const UpdateTaskStatus& cmd);
Decision on_start_task(const JobState& state, const StartTask& cmd);
Decision on_stop_task(const JobState& state, const StopTask& cmd);
Decision on_rerun_task(const JobState& state, const RerunTask& cmd);
Decision on_collect(const JobState& state, const CollectTask& cmd);
void apply(JobState& s, const TaskVersionCreated& e, int64_t at);
void apply(JobState& s, const TaskStatusChanged& e, int64_t at);
void apply(JobState& s, const TaskPartyStatusChanged& e, int64_t at);
void apply(JobState& s, const TaskLaunched& e, int64_t at);
void apply(JobState& s, const TaskStartRequested& e, int64_t at);

// ---- task_cores.cpp: a run's cores out of its copy's job cores (spec 5.4) -------------------------------
Decision on_apply_task_cores(const JobState& state, const ApplyTaskResources& cmd);
Decision on_return_task_cores(const JobState& state, const ReturnTaskResources& cmd);
void apply(JobState& s, const TaskResourcesApplied& e, int64_t at);
void apply(JobState& s, const TaskResourcesReturned& e, int64_t at);

// ---- schedule.cpp: the scheduler's federated record -----------------------------------------------------
// The scheduler's step: fold the parties' statuses, admit, start every ready task, fold the job status.
void advance(Step& step);
// The job status at the schedule record and every local copy where the transition is allowed; a change
// of the schedule record is pushed to the remote parties unless `push` is false.
void set_job_status(Step& step, Status to, const std::string& reason, bool push = true);
// Every remote party that joined stops its unfinished runs.
void stop_remote_copies(Step& step, Status status, const std::string& reason);
// Starts a task whose dependencies succeeded and whose resources every party granted (spec 4.4).
void start_task(Step& step, const std::string& task);
// A new version of a task at the schedule record and every local party.
void new_version(Step& step, const std::string& task, int auto_retries, const std::string& reason,
                 int64_t not_before = 0);
Decision on_stop(const JobState& state, const StopJob& cmd);
Decision on_rerun(const JobState& state, const RerunJob& cmd);
Decision on_clean(const JobState& state, const CleanJob& cmd);
Decision on_timeout_job(const JobState& state, const TimeoutJob& cmd);
Decision on_party_report(const JobState& state, const ReportPartyStatus& cmd);
Decision on_copy_created(const JobState& state, const CopyCreateAnswered& cmd);
Decision on_end_call_answered(const JobState& state, const EndCallAnswered& cmd);
Decision on_task_started(const JobState& state, const TaskStartAnswered& cmd);
void apply(JobState& s, const ScheduleStatusChanged& e, int64_t at);
void apply(JobState& s, const JobCancelRequested& e, int64_t at);
void apply(JobState& s, const ScheduleTaskVersionCreated& e, int64_t at);
void apply(JobState& s, const ScheduleTaskStatusChanged& e, int64_t at);
void apply(JobState& s, const PartyJoined& e, int64_t at);
void apply(JobState& s, const EndDelivered& e, int64_t at);
void apply(JobState& s, const JobProgressChanged& e, int64_t at);

// ---- admission.cpp: the job's and each task's resources, all or nothing ---------------------------------
// Admission of a waiting job (spec 4.2, 5.3). True when the job was admitted now.
bool admit(Step& step);
// A task's resources at its remote parties (spec 5.4). True: the task may start.
bool admit_task(Step& step, const std::string& task);
// Closes a task's open attempt, giving back what was granted unless `granted`.
void close_task_admission(Step& step, const std::string& task, bool granted, const std::string& reason);
// The calls that ask again what an open attempt has not had answered (after a restart).
void ask_again(Step& step);
Decision on_resources_answered(const JobState& state, const ResourcesAnswered& cmd);
Decision on_task_resources_answer(const JobState& state, const TaskResourcesAnswer& cmd);
void apply(JobState& s, const AdmissionStarted& e, int64_t at);
void apply(JobState& s, const PartyResourcesAnswered& e, int64_t at);
void apply(JobState& s, const AdmissionEnded& e, int64_t at);
void apply(JobState& s, const TaskAdmissionStarted& e, int64_t at);
void apply(JobState& s, const TaskResourcesAnswered& e, int64_t at);
void apply(JobState& s, const TaskAdmissionEnded& e, int64_t at);

// ---- tracking.cpp: what runs produce ----------------------------------------------------------------------
Decision decide_tracking(const JobState& state, const SaveMetrics& cmd);
Decision decide_tracking(const JobState& state, const TrackDataOutput& cmd);
Decision decide_tracking(const JobState& state, const SaveModel& cmd);
Decision decide_tracking(const JobState& state, const DeleteTracking& cmd);
void apply(JobState& s, const MetricsSaved& e, int64_t at);
void apply(JobState& s, const DataOutputTracked& e, int64_t at);
void apply(JobState& s, const ModelSaved& e, int64_t at);
void apply(JobState& s, const TrackingDeleted& e, int64_t at);

}  // namespace flowstone::domain::job
