// The events of the Job aggregate, by the part of the job they belong to. Every event is a fact that
// happened at `at_ms` (time enters only as event data, so replay is deterministic). Old logs keep decoding:
// the codec (store/codec/job_codec.*) reads the kinds of earlier builds into these.
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "events/common/json.hpp"
#include "events/common/party.hpp"
#include "events/common/status.hpp"
#include "events/job/config.hpp"
#include "events/job/tracking.hpp"

namespace flowstone::domain {

// ---- a party's copy of the job (copy lifecycle) ---------------------------------------------------------

struct JobCreated {
  std::string job_id;
  Json dag_schema;  // validated, with dag.conf defaults filled in: replay reads it, never validates it
  std::string initiator_party_id;
  std::string scheduler_party_id;
  std::vector<PartyRef> local_parties;  // copies hosted by this server
  bool is_scheduler = false;
  std::string user_name;
  JobDefaults defaults;
};
struct JobStatusChanged {  // a local copy's status
  PartyRef party;
  Status status = Status::waiting;
  std::string reason;
};
struct JobNotesAdded {
  PartyRef party;
  std::string notes;
};
struct CopyResourcesApplied {  // a copy holds `cores` of its party's total (granted by the resource manager)
  PartyRef party;
  int cores = 0;
};
struct CopyResourcesReturned {  // the copy gave them back
  PartyRef party;
  int cores = 0;
  std::string reason;
};
struct JobCleaned {  // /v2/job/clean: the job's views and outputs are gone here; its history stays
  std::string reason;
};

// ---- a party's task runs ------------------------------------------------------------------------------

struct TaskVersionCreated {  // a local run of a new version
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  std::string execution_id;
  int auto_retries = 0;
  std::string reason;
};
struct TaskStatusChanged {  // a local run's federated status, as the scheduler set it
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  std::string execution_id;
  Status status = Status::waiting;
  std::string reason;
};
struct TaskPartyStatusChanged {  // a party's own status of its run; at the scheduler it also updates the
                                 // mirror
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
struct TaskStartRequested {  // at a party: the scheduler asked it to start this run
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  std::string execution_id;
};
struct TaskResourcesApplied {  // a party's run holds `cores` of its copy's job cores (spec 5.4)
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  int cores = 0;
};
struct TaskResourcesReturned {  // the run gave them back (returned by the scheduler, or the run ended)
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  std::string reason;
};

// ---- the scheduler's federated record -----------------------------------------------------------------

struct ScheduleStatusChanged {  // the job's status as its scheduler folds it (spec 3.5)
  Status status = Status::waiting;
  std::string reason;
};
struct JobCancelRequested {
  Status stop_status = Status::canceled;
  std::string reason;
};
struct ScheduleTaskVersionCreated {  // a new version of a task at every party
  std::string task_name;
  int task_version = 0;
  int auto_retries = 0;
  std::string reason;
  int64_t not_before = 0;  // an auto-retry starts no earlier than this
};
struct ScheduleTaskStatusChanged {  // a task's federated status (spec 3.4)
  std::string task_name;
  int task_version = 0;
  Status status = Status::waiting;
  std::string reason;
};
struct PartyJoined {  // a party on another server created its copy of the job
  PartyRef party;
};
struct EndDelivered {  // a remote party answered the stop that told it of the job's end: a restart need
  PartyRef party;      // not repeat it (until every remote party has one, recovery repeats the end calls)
};
struct JobProgressChanged {  // the share of tasks ended, as pushed to the parties
  int progress = 0;
};

// ---- admission: the job's resources and each task's, all or nothing ---------------------------------

struct AdmissionStarted {  // every party is asked for the job's resources (attempt n)
  int attempt = 0;
};
struct PartyResourcesAnswered {  // one party's answer in this attempt (0: granted)
  PartyRef party;
  int attempt = 0;
  int code = 0;
  std::string message;
};
struct AdmissionEnded {  // every party answered; granted everywhere, or why not
  int attempt = 0;
  bool granted = false;
  std::string reason;
};
struct TaskAdmissionStarted {  // attempt n of the task's version asks its remote parties
  std::string task_name;
  int task_version = 0;
  int attempt = 0;
};
struct TaskResourcesAnswered {  // one remote party's answer to the attempt (0: granted)
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  int attempt = 0;
  int code = 0;
  std::string message;
};
struct TaskAdmissionEnded {  // every remote party answered, or the job ended first
  std::string task_name;
  int task_version = 0;
  int attempt = 0;
  bool granted = false;
  std::string reason;  // why not: the party that refused, with its answer
};

using JobEventBody =
    std::variant<JobCreated, JobStatusChanged, JobNotesAdded, CopyResourcesApplied, CopyResourcesReturned,
                 JobCleaned, TaskVersionCreated, TaskStatusChanged, TaskPartyStatusChanged, TaskLaunched,
                 TaskStartRequested, TaskResourcesApplied, TaskResourcesReturned, ScheduleStatusChanged,
                 JobCancelRequested, ScheduleTaskVersionCreated, ScheduleTaskStatusChanged, PartyJoined,
                 JobProgressChanged, AdmissionStarted, PartyResourcesAnswered, AdmissionEnded,
                 TaskAdmissionStarted, TaskResourcesAnswered, TaskAdmissionEnded, MetricsSaved,
                 DataOutputTracked, ModelSaved, TrackingDeleted, EndDelivered>;

struct JobEvent {
  int64_t at_ms = 0;
  JobEventBody body;
  std::string actor;  // who caused it (the audit's "actor"): events/job/actor.cpp; "" in logs before it
};

// The event's kind, as the audit history names it ("JobCreated", ...).
const char* event_kind(const JobEvent& event);

}  // namespace flowstone::domain
