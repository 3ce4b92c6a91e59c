// The state of the Job aggregate: everything one party server knows about one job, rebuilt from the job's
// events alone. A job exists once per (role, party_id) served here: its copies, each with one run per
// (task, version). A run has the party's own `party_status` (local truth, set by the worker and the
// launcher) and the federated `status` (set by the scheduler). If this server is the job's scheduler the
// state also holds the schedule record: the job's federated status, each task's latest version with its
// federated status and the scheduler's mirror of every party's status, admission, and the parties that
// joined (spec 11, item 1). Plain data; not thread-safe (one owner per job).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "events/dag/dag.hpp"
#include "events/job/events.hpp"
#include "events/job/tracking.hpp"

namespace flowstone::domain {

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

struct ScheduleTask {  // the latest version of one task, as the scheduler sees it
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
  // The job's DAG as JobCreated recorded it, and its text (for the job rows): read once, never changed, so
  // shared by every copy of the state (a decision works on a copy).
  std::shared_ptr<const Dag> dag_spec;
  std::shared_ptr<const std::string> dag_text;
  const Dag& dag() const;
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
  std::set<PartyRef> joined;         // remote parties that created their copy
  std::set<PartyRef> end_delivered;  // remote parties that answered the stop sent at the job's end
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
  Tracking tracking;                     // what the local runs produced (events/job/tracking.hpp)

  const JobCopy* copy(const PartyRef& party) const;
  JobCopy* copy(const PartyRef& party);
  const TaskRun* latest_run(const std::string& task_name, const PartyRef& party) const;
  const TaskRun* run_by_execution(const std::string& execution_id) const;
  const TaskRun* find_run(const std::string& task, int version, const PartyRef& party) const;
  TaskRun* find_run(const std::string& task, int version, const PartyRef& party);
  std::vector<PartyRef> parties_of(const std::string& task_name) const;  // local parties running it
  std::vector<PartyRef> remote_parties_of(const std::string& task_name) const;
  bool is_local(const PartyRef& party) const { return copy(party) != nullptr; }
  bool all_joined() const { return joined.size() >= remote_parties.size(); }
  // The scheduler of an ended job still owes a remote party the stop that tells it of the end (every remote
  // party: one whose answer to the create was lost may hold a copy the scheduler never heard of).
  bool end_undelivered() const;
};

// FATE-Flow ids (spec 4.1): task_id = <job_id>_<task_name>; execution_id (party_task_id) =
// <task_id>_<version>_<role>_<party_id>; the task name of a task id of this job ("" if it is not one).
std::string task_id_of(const std::string& job_id, const std::string& task_name);
std::string execution_id_of(const std::string& job_id, const std::string& task_name, int version,
                            const PartyRef& party);
std::string task_name_of(const std::string& job_id, const std::string& task_id);

// FATE's way of naming a copy and a run in messages:
// job_id[..],role[..],party_id[..](,task_id[..],task_version[..]).
std::string copy_ids(const std::string& job_id, const PartyRef& party);
std::string task_ids(const std::string& job_id, const PartyRef& party, const std::string& task, int version);

// Progress as FATE-Flow computes it at the scheduler: the share of tasks (latest versions) in an end status.
int schedule_progress(const JobState& state);

}  // namespace flowstone::domain
