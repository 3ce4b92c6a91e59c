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
// Effects are what the host must do once the events are durable (launch or kill a worker). Time enters
// only through commands (`now_ms`) and is recorded in events, so replaying the log rebuilds the same
// state. Pure: no I/O, no clock; not thread-safe (one owner per job).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "events/dag.hpp"
#include "events/json.hpp"
#include "events/status.hpp"

namespace flowstone::domain {

// Server-side defaults recorded in the job's creation event, so a config change never alters replay.
struct JobDefaults {
  int job_cores = 4;
  int task_cores = 4;
  int64_t task_timeout_s = 259200;
  int auto_retries = 0;
  std::string sync_type = "callback";
  int computing_partitions = 8;
};

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
};

using JobEventBody =
    std::variant<JobCreated, JobStatusChanged, JobCancelRequested, JobNotesAdded, TaskVersionCreated,
                 TaskStatusChanged, TaskPartyStatusChanged, TaskLaunched>;
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
  std::string cmd, log_dir, error;
};

struct JobCopy {
  PartyRef party;
  Status status = Status::ready;
  std::string description;
  int64_t create_time = 0, update_time = 0, start_time = 0, end_time = 0;
  int cores = 0;
};

struct ScheduleTask {  // latest version of one task, as the scheduler sees it
  std::string task_name;
  int task_version = 0;
  Status status = Status::waiting;
  std::map<PartyRef, Status> party_status;
  int auto_retries = 0;
};

struct JobState {
  bool exists = false;
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
  bool cancel_requested = false;
  Status cancel_status = Status::canceled;
  int64_t create_time = 0, update_time = 0, start_time = 0, end_time = 0;
  std::map<std::string, ScheduleTask> schedule;

  std::vector<JobCopy> copies;
  std::vector<TaskRun> runs;  // every version of every task at every local party

  const JobCopy* copy(const PartyRef& party) const;
  const TaskRun* latest_run(const std::string& task_name, const PartyRef& party) const;
  const TaskRun* run_by_execution(const std::string& execution_id) const;
  std::vector<PartyRef> parties_of(const std::string& task_name) const;  // local parties running it
  bool is_local(const PartyRef& party) const;
};

// ---- commands -------------------------------------------------------------------------------------

struct CreateJob {
  std::string job_id;
  Json dag_schema;  // as submitted; validated and completed here
  std::string local_party_id;
  std::string user_name;
  JobDefaults defaults;
  int64_t now_ms = 0;
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

using JobCommand =
    std::variant<CreateJob, ReportTaskStatus, RecordLaunch, FailRun, StopJob, RerunJob, AddNotes, Advance>;

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
using Effect = std::variant<LaunchRun, KillRun, CheckRun>;

struct Decision {
  int code = 0;  // FATE return code; non-zero: rejected, no events
  std::string message = "success";
  std::vector<JobEvent> events;
  std::vector<Effect> effects;
  Json data;  // reply data for the caller, if any
};

Decision decide(const JobState& state, const JobCommand& command);
JobState evolve(JobState state, const JobEvent& event);
void apply(JobState& state, const JobEvent& event);  // in-place evolve

// decide(), then the scheduler's Advance on the resulting state, as one decision: a command and the
// scheduling it enables are appended together (one sync).
Decision decide_and_advance(const JobState& state, const JobCommand& command, int64_t now_ms);

// What a host restarting on this state must do: launch runs the scheduler started but no launcher
// took, and check runs whose launcher may be gone. (Liveness itself is the host's business.)
std::vector<Effect> recovery_effects(const JobState& state);

// FATE-Flow ids (spec 4.1).
std::string task_id_of(const std::string& job_id, const std::string& task_name);
std::string execution_id_of(const std::string& job_id, const std::string& task_name, int version,
                            const PartyRef& party);

// The worker config (spec 7.2) parts the domain knows; the host adds mlmd, computing and log settings.
Json task_config(const JobState& state, const TaskRun& run);

}  // namespace flowstone::domain
