// The Job aggregate: everything one party server knows about one job, as a pure state machine.
//
// A job exists once per (role, party_id) hosted here (its "copies"), each with its tasks, one run per
// (task, version, party). A task run has the party's own `party_status` (local truth, set by the worker
// and the launcher) and the federated `status` (set by the scheduler). If this server is the job's
// scheduler, the state also holds the schedule record: the scheduler's job status, and per task the
// federated status and its mirror of every party's status (spec 11, item 1).
//
//   decide(state, command) -> Decision{events, effects} or an error code and message
//   evolve(state, event)   -> state
//
// With parties on other servers, this server's aggregate is one of several: the scheduler's holds the
// schedule record and drives the others through partner calls (effects); a party's answers the
// partner commands and, in callback mode, reports its own statuses to the scheduler (effects too).
//
// Effects are what the host must do once the events are durable (launch or kill a worker, call another
// party). Time enters
// only through commands (`now_ms`) and is recorded in events, so replaying the log rebuilds the same
// state. Pure: no I/O, no clock; not thread-safe (one owner per job).
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "events/dag.hpp"
#include "events/json.hpp"
#include "events/status.hpp"
#include "events/tracking.hpp"

namespace flowstone::domain {

// Server-side defaults recorded in the job's creation event, so a config change never alters replay.
struct JobDefaults {
  int job_cores = 4;
  int task_cores = 4;
  int64_t task_timeout_s = 259200;
  int auto_retries = 0;
  std::string sync_type = "callback";
  int computing_partitions = 8;
  int64_t retry_backoff_ms = 1000;  // the first auto-retry waits this long, each later one twice as long
  int64_t admission_timeout_s = 0;  // a job waiting for admission longer than this times out (0: never)
};

// How long a job that could not get its resources waits before the scheduler asks again: 500 ms after the
// first refusal, doubling up to 2 s (each attempt is a few events in the job's history).
inline constexpr int64_t kAdmissionRetryMs = 500;
inline constexpr int64_t kAdmissionRetryMaxMs = 2000;
// The pause after `refusals` refused attempts in a row (the same backoff for a job's and a task's resources).
inline int64_t admission_retry_delay(int refusals) {
  return std::min(kAdmissionRetryMs << std::min(std::max(refusals - 1, 0), 4), kAdmissionRetryMaxMs);
}

// ---- events ---------------------------------------------------------------------------------------
// A `party` with an empty role names the schedule record (the scheduler's own view), not a copy.

struct JobCreated {
  std::string job_id;
  Json dag_schema;  // validated, with dag.conf defaults filled in
  std::string initiator_party_id;
  std::string scheduler_party_id;
  std::vector<PartyRef> local_parties;  // copies hosted by this server
  bool is_scheduler = false;
  std::string user_name;
  JobDefaults defaults;
};
struct JobStatusChanged {
  PartyRef party;
  Status status = Status::waiting;
  std::string reason;
};
struct JobCancelRequested {
  Status stop_status = Status::canceled;
  std::string reason;
};
struct JobNotesAdded {
  PartyRef party;
  std::string notes;
};
struct TaskVersionCreated {
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  std::string execution_id;
  int auto_retries = 0;
  std::string reason;
  int64_t not_before = 0;  // an auto-retry starts no earlier than this
};
struct TaskStatusChanged {  // the federated status
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  std::string execution_id;
  Status status = Status::waiting;
  std::string reason;
};
struct TaskPartyStatusChanged {  // a party's own status; at the scheduler it also updates the mirror
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  std::string execution_id;
  Status status = Status::waiting;
  std::string error;
};
struct TaskLaunched {
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  std::string execution_id;
  int64_t launcher_pid = 0;
  std::string cmd;
  std::string log_dir;
  std::string provider_name;  // name:version@device that ran it; "" in logs written before it was kept
};

struct PartyJoined {  // at the scheduler: a party on another server created its copy of the job
  PartyRef party;
};
struct CopyResourcesApplied {  // a copy holds `cores` of its party's total (granted by the resource manager)
  PartyRef party;
  int cores = 0;
};
struct TaskResourcesApplied {  // a party's run holds `cores` of its copy's job cores (spec 5.4)
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  int cores = 0;
};
struct TaskResourcesReturned {  // the run gave them back (returned by the scheduler)
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  std::string reason;
};
struct CopyResourcesReturned {  // the copy gave them back
  PartyRef party;
  int cores = 0;
  std::string reason;
};
struct AdmissionStarted {  // at the scheduler: every party is asked for the job's resources (attempt n)
  int attempt = 0;
};
struct PartyResourcesAnswered {  // at the scheduler: one party's answer in this attempt (0: granted)
  PartyRef party;
  int attempt = 0;
  int code = 0;
  std::string message;
};
struct AdmissionEnded {  // at the scheduler: every party answered; granted everywhere, or why not
  int attempt = 0;
  bool granted = false;
  std::string reason;
};
// A task's resources at its remote parties (spec 5.4), all or nothing: the scheduler asks every remote
// party of the task (partner/task/resource/apply) before it starts the task, and starts it only when all
// granted; otherwise it returns the grants and the task keeps waiting.
struct TaskAdmissionStarted {  // at the scheduler: attempt n of the task's version asks its remote parties
  std::string task_name;
  int task_version = 0;
  int attempt = 0;
};
struct TaskResourcesAnswered {  // at the scheduler: one remote party's answer to the attempt (0: granted)
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  int attempt = 0;
  int code = 0;
  std::string message;
};
struct TaskAdmissionEnded {  // at the scheduler: every remote party answered, or the job ended first
  std::string task_name;
  int task_version = 0;
  int attempt = 0;
  bool granted = false;
  std::string reason;  // why not: the party that refused, with its answer
};
struct JobProgressChanged {  // at the scheduler: the share of tasks ended, as pushed to the parties
  int progress = 0;
};
struct JobCleaned {  // /v2/job/clean: the job's views and outputs are gone here; its history stays
  std::string reason;
};
struct TaskStartRequested {  // at a party: the scheduler asked it to start this run
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  std::string execution_id;
};

using JobEventBody =
    std::variant<JobCreated, JobStatusChanged, JobCancelRequested, JobNotesAdded, TaskVersionCreated,
                 TaskStatusChanged, TaskPartyStatusChanged, TaskLaunched, PartyJoined, TaskStartRequested,
                 CopyResourcesApplied, CopyResourcesReturned, AdmissionStarted, PartyResourcesAnswered,
                 AdmissionEnded, JobCleaned, MetricsSaved, DataOutputTracked, ModelSaved, TrackingDeleted,
                 TaskResourcesApplied, TaskResourcesReturned, TaskAdmissionStarted, TaskResourcesAnswered,
                 TaskAdmissionEnded, JobProgressChanged>;
struct JobEvent {
  int64_t at_ms = 0;
  JobEventBody body;
};

// ---- state ----------------------------------------------------------------------------------------

struct TaskRun {
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  std::string execution_id;
  std::string component;
  Status status = Status::waiting;        // federated
  Status party_status = Status::waiting;  // local
  int cores = 0;
  int64_t timeout_s = 0;
  int auto_retries = 0;
  int64_t create_time = 0, update_time = 0, start_time = 0, end_time = 0;
  int64_t launcher_pid = 0;
  bool start_requested = false;
  std::string cmd, log_dir, error;
  std::string provider_name;         // as launched (TaskLaunched)
  bool task_resources_held = false;  // granted by partner/task/resource/apply and not returned
};

struct JobCopy {
  PartyRef party;
  Status status = Status::ready;
  std::string status_reason;  // why the last status change happened (e.g. another party's error)
  std::string description;
  int64_t create_time = 0, update_time = 0, start_time = 0, end_time = 0;
  int cores = 0;
  bool resource_in_use = false;  // the copy holds `cores` of the party's total
};

struct ScheduleTask {  // latest version of one task, as the scheduler sees it
  std::string task_name;
  int task_version = 0;
  Status status = Status::waiting;
  std::map<PartyRef, Status> party_status;
  std::map<PartyRef, std::string> party_error;
  std::map<PartyRef, int64_t> party_update_time;  // last change of each party's status
  int64_t start_time = 0;
  int auto_retries = 0;
  std::string reason;  // why the federated status last changed (an interrupt names the party and its error)
  int64_t not_before = 0;  // backoff of an auto-retry: the version waits until then
  // The version's resources at its remote parties (TaskAdmission* events): the current attempt, whether it
  // is still open (asked, not every party answered), each party's answer, and why the task still waits.
  int resource_attempt = 0;
  bool resource_open = false;
  int64_t resource_time = 0;  // when the current attempt started
  std::map<PartyRef, TaskResourcesAnswered> resource_answers;
  std::string pending_reason;
  int refusals = 0;               // refused attempts in a row
  int party_ends_at_refusal = 0;  // JobState::party_ends when the last attempt was refused
};

struct JobState {
  bool exists = false;
  bool cleaned = false;  // /v2/job/clean: no views, no outputs
  std::string job_id;
  Dag dag;
  std::string initiator_party_id, scheduler_party_id, user_name;
  bool is_scheduler = false;
  JobDefaults defaults;
  int priority = 0;
  std::string sync_type, model_id, model_version;
  std::vector<std::string> topo;  // task names, producers first
  std::map<std::string, std::vector<std::string>> dependencies;

  // The schedule record (meaningful when is_scheduler).
  Status schedule_status = Status::ready;
  std::string schedule_reason;
  std::set<PartyRef> joined;  // remote parties that created their copy
  // Admission (all-or-nothing job resources): the current attempt and each party's answer to it.
  int admission_attempt = 0;
  bool admission_open = false;  // asked, not every party answered yet
  int64_t admission_time = 0;   // when the current attempt started
  std::map<PartyRef, PartyResourcesAnswered> admission_answers;
  std::string pending_reason;  // why the job still waits (which party, what it lacks)
  int refusals = 0;            // refused attempts in a row
  int64_t admission_retry_at() const { return admission_time + admission_retry_delay(refusals); }
  int party_ends = 0;  // runs the scheduler has seen end at any party (a refused task asks again at once)
  int progress = 0;    // as last pushed to the parties (partner/job/update)
  bool cancel_requested = false;
  Status cancel_status = Status::canceled;
  std::string cancel_reason;
  int64_t waiting_since = 0;  // when the schedule record last became waiting
  int64_t create_time = 0, update_time = 0, start_time = 0, end_time = 0;
  std::map<std::string, ScheduleTask> schedule;

  std::vector<JobCopy> copies;
  std::vector<PartyRef> remote_parties;  // the job's parties served by other servers
  std::vector<TaskRun> runs;             // every version of every task at every local party
  Tracking tracking;                     // what the local runs produced (events/tracking.hpp)

  const JobCopy* copy(const PartyRef& party) const;
  const TaskRun* latest_run(const std::string& task_name, const PartyRef& party) const;
  const TaskRun* run_by_execution(const std::string& execution_id) const;
  std::vector<PartyRef> parties_of(const std::string& task_name) const;  // local parties running it
  std::vector<PartyRef> remote_parties_of(const std::string& task_name) const;
  bool is_local(const PartyRef& party) const;
  bool all_joined() const { return joined.size() >= remote_parties.size(); }
};

// ---- commands -------------------------------------------------------------------------------------

struct CreateJob {  // at the scheduler: /v2/job/submit here, or /v2/scheduler/job/create from the initiator
  std::string job_id;
  Json dag_schema;  // as submitted; validated and completed here
  std::string local_party_id;
  std::string initiator_party_id;  // empty: this party
  std::string user_name;
  JobDefaults defaults;
  int party_cores = 0;  // this party's total (computing.standalone.cores); 0: not checked
  int64_t now_ms = 0;
  // dag.conf.inheritance: the earlier job, as the host loaded it from its stream (null if none or absent).
  std::shared_ptr<const JobState> inherit_from;
};
struct ReportTaskStatus {  // the worker's report (POST /v2/worker/task/status)
  std::string execution_id;
  Status status = Status::success;
  std::string error;
  int64_t now_ms = 0;
};
struct RecordLaunch {  // the launcher started; the run becomes running
  std::string execution_id;
  int64_t launcher_pid = 0;
  std::string cmd, log_dir;
  int64_t now_ms = 0;
  std::string provider_name;  // name:version@device of the provider that runs it
};
struct FailRun {  // launch failed, or the worker is gone without a report
  std::string execution_id;
  std::string error;
  int64_t now_ms = 0;
};
struct StopJob {
  Status stop_status = Status::canceled;
  std::string reason;
  int64_t now_ms = 0;
};
struct RerunJob {
  std::string task_name;  // Flowstone's addition: rerun from this task (it and everything downstream)
  int64_t now_ms = 0;
};
struct CleanJob {  // /v2/job/clean: stop (canceled), then remove the job's views and outputs here
  int64_t now_ms = 0;
};
struct TimeoutRun {  // the detector: a local run may have passed its task timeout
  std::string execution_id;
  int64_t now_ms = 0;
};
struct TimeoutJob {  // the detector: the job may have passed dag.conf.timeout
  int64_t now_ms = 0;
};
struct AddNotes {
  PartyRef party;
  std::string notes;
  int64_t now_ms = 0;
};
struct Advance {  // the scheduler's step: fold statuses, admit, start ready tasks
  int64_t now_ms = 0;
};

// ---- partner commands: the scheduler drives a party (/v2/partner/...) ----
struct JoinJob {  // partner/job/create: create this server's copies of a job another party schedules
  std::string job_id;
  Json dag_schema;  // {dag, schema_version} as the scheduler completed it
  PartyRef party;   // the party the request names
  std::string local_party_id;
  JobDefaults defaults;
  int party_cores = 0;
  int64_t now_ms = 0;
  std::shared_ptr<const JobState> inherit_from;  // as for CreateJob
};
struct UpdateCopyStatus {  // partner/job/status/update; partner/job/start (`start`: always answers 0)
  PartyRef party;
  Status status = Status::waiting;
  std::string reason;
  bool start = false;
  int64_t now_ms = 0;
};
struct UpdateTaskStatus {  // partner/task/status/update: the federated status
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  Status status = Status::running;
  std::string reason;
  int64_t now_ms = 0;
};
struct StartTask {  // partner/task/start
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  int64_t now_ms = 0;
};
struct StopTask {  // partner/task/stop
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  Status status = Status::failed;
  std::string reason;
  int64_t now_ms = 0;
};
struct StopCopy {  // partner/job/stop: stop the copy's unfinished runs, then the copy
  PartyRef party;
  Status status = Status::failed;
  std::string reason;
  int64_t now_ms = 0;
};
struct RerunTask {  // partner/task/rerun
  PartyRef party;
  std::string task_name;
  int new_version = 0;
  int64_t now_ms = 0;
};

struct HoldResources {  // the party's resource manager granted the copy its cores: record it
  PartyRef party;
  int64_t now_ms = 0;
};
struct ReturnResources {  // partner/job/resource/return, or a refused admission elsewhere
  PartyRef party;
  std::string reason;
  int64_t now_ms = 0;
};
struct ResourcesAnswered {  // at the scheduler: a party's answer to the job's resource apply
  PartyRef party;
  int attempt = 0;
  int code = 0;
  std::string message;
  int64_t now_ms = 0;
};

struct CollectTask {  // partner/task/collect: a run's statuses, answered as data without events
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  int64_t now_ms = 0;
};

struct ApplyTaskResources {  // partner/task/resource/apply: the run's cores out of its copy's job cores
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  int64_t now_ms = 0;
};
struct ReturnTaskResources {  // partner/task/resource/return
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  int64_t now_ms = 0;
};

// ---- what the scheduler learns from the parties ----
struct ReportPartyStatus {  // scheduler/task/report, and the answers to partner/task/collect
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  Status status = Status::running;
  std::string error;
  bool collected = false;  // from a collect: an ineffective status is not an error
  int64_t now_ms = 0;
};
struct PartnerAnswered {  // a tracked partner call was answered (code 104: the party was unreachable)
  PartyRef party;
  std::string endpoint;
  std::string task_name;
  int task_version = 0;  // the call's task_version
  int attempt = 0;       // for a resource apply (job or task): the admission attempt it belongs to
  int code = 0;
  std::string message;
  int64_t now_ms = 0;
};

using JobCommand =
    std::variant<CreateJob, ReportTaskStatus, RecordLaunch, FailRun, StopJob, RerunJob, AddNotes, Advance,
                 TimeoutRun, TimeoutJob, CleanJob, JoinJob, UpdateCopyStatus, UpdateTaskStatus, StartTask,
                 StopTask, StopCopy, RerunTask, CollectTask, ReportPartyStatus, PartnerAnswered,
                 HoldResources, ReturnResources, ResourcesAnswered, SaveMetrics, TrackDataOutput, SaveModel,
                 DeleteTracking, ApplyTaskResources, ReturnTaskResources>;

// ---- effects --------------------------------------------------------------------------------------

struct LaunchRun {
  std::string execution_id;
};
struct KillRun {
  std::string execution_id;
  int64_t launcher_pid = 0;
};
struct CheckRun {  // after a restart: is the run's launcher still there?
  std::string execution_id;
  int64_t launcher_pid = 0;
};
// A call to another party's server (/v2/<endpoint>), sent in order per destination party and retried
// until answered. Tracked calls come back as PartnerAnswered.
struct PartnerCall {
  PartyRef party;        // the destination; an empty role means the scheduler party
  std::string endpoint;  // e.g. "partner/task/start", "scheduler/task/report"
  Json body;
  bool tracked = false;
  std::string task_name;  // for tracked task calls
  int task_version = 0;   // for tracked task calls
  int attempt = 0;        // for resource applies (job or task): the admission attempt
};
// This server's resource manager: grant a local copy its cores (the answer comes back as
// ResourcesAnswered for `attempt`), or take back what a copy returned.
struct ApplyLocalResources {
  PartyRef party;
  int cores = 0;
  int attempt = 0;
};
struct ReleaseLocalResources {
  PartyRef party;
  bool still_waiting = false;  // given back after a refusal elsewhere: the job keeps its place in the queue
};
struct DeleteOutputs {};  // the job's folder of task outputs at this party
using Effect = std::variant<LaunchRun, KillRun, CheckRun, PartnerCall, ApplyLocalResources,
                            ReleaseLocalResources, DeleteOutputs>;

struct Decision {
  int code = 0;  // FATE return code; non-zero: rejected, no events
  std::string message = "success";
  std::vector<JobEvent> events;
  std::vector<Effect> effects;
  Json data;  // reply data for the caller, if any
};

Decision decide(const JobState& state, const JobCommand& command);
Decision reject(int code, std::string message);  // a refusal: the code, the message, no events
// FATE's way of naming a run in messages: job_id[..],role[..],party_id[..],task_id[..],task_version[..].
std::string task_ids(const std::string& job_id, const PartyRef& party, const std::string& task, int version);
// The run of `task` at `version` at this party, or nullptr.
const TaskRun* find_task_run(const JobState& s, const std::string& task, int version, const PartyRef& party);
JobState evolve(JobState state, const JobEvent& event);
void apply(JobState& state, const JobEvent& event);  // in-place evolve

// decide(), then the scheduler's Advance on the resulting state, as one decision: a command and the
// scheduling it enables are appended together (one sync).
Decision decide_and_advance(const JobState& state, const JobCommand& command, int64_t now_ms);

// What a host restarting on this state must do: launch runs the scheduler started but no launcher
// took, check runs whose launcher may be gone, and repeat the partner calls whose outcome is not yet
// recorded (every partner command is idempotent by meaning). (Liveness is the host's business.)
std::vector<Effect> recovery_effects(const JobState& state);

// The partner calls that ask each remote party for the status of the job's unfinished runs
// (partner/task/collect). `stale_ms` > 0: only parties whose status has not changed for that long.
std::vector<PartnerCall> collect_calls(const JobState& state, int64_t now_ms, int64_t stale_ms);

// When the detectors must look again: the earliest time a local run passes its timeout, the job passes
// dag.conf.timeout, or an auto-retry's backoff ends. 0: nothing pending.
int64_t next_deadline(const JobState& state);
// dag.conf.timeout in seconds (Flowstone's job-level timeout); 0: none.
int64_t job_timeout_s(const JobState& state);

// Task name from a FATE task_id ("<job_id>_<task_name>"); empty if it is not of this job.
std::string task_name_of(const std::string& job_id, const std::string& task_id);

// FATE-Flow ids (spec 4.1).
std::string task_id_of(const std::string& job_id, const std::string& task_name);
std::string execution_id_of(const std::string& job_id, const std::string& task_name, int version,
                            const PartyRef& party);

// Tracking (events/tracking.cpp): the decisions on what runs produce, and the events' effect on state.
Decision decide_tracking(const JobState& state, const SaveMetrics& cmd);
Decision decide_tracking(const JobState& state, const TrackDataOutput& cmd);
Decision decide_tracking(const JobState& state, const SaveModel& cmd);
Decision decide_tracking(const JobState& state, const DeleteTracking& cmd);
void apply_tracking(JobState& state, const MetricsSaved& e, int64_t at_ms);
void apply_tracking(JobState& state, const DataOutputTracked& e, int64_t at_ms);
void apply_tracking(JobState& state, const ModelSaved& e, int64_t at_ms);
void apply_tracking(JobState& state, const TrackingDeleted& e, int64_t at_ms);

// The worker config (spec 7.2) parts the domain knows; the host adds mlmd, computing and log settings.
Json task_config(const JobState& state, const TaskRun& run);

}  // namespace flowstone::domain
