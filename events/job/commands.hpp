// The commands of the Job aggregate: what a client, a worker, the launcher, the detectors, another
// party's server and the answers to this server's own calls ask of one job. Each carries the time it is
// decided at (`now_ms`, stamped by the host), which the events it causes record.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "events/common/json.hpp"
#include "events/common/party.hpp"
#include "events/common/ret_code.hpp"
#include "events/common/status.hpp"
#include "events/job/config.hpp"
#include "events/job/tracking.hpp"

namespace flowstone::domain {

struct JobState;

// ---- clients and this server's own parts ----------------------------------------------------------------

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
struct TimeoutJob {  // the detector: the job may have passed dag.conf.timeout or its admission timeout
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
struct HoldResources {  // the party's resource manager granted the copy its cores: record it
  PartyRef party;
  int64_t now_ms = 0;
};
struct ReturnResources {  // partner/job/resource/return, or a refused admission elsewhere
  PartyRef party;
  std::string reason;
  int64_t now_ms = 0;
};

// ---- the scheduler drives a party (/v2/partner/...) -------------------------------------------------------

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

// ---- what the scheduler learns: reports, and the answers to its own calls ---------------------------------

struct ReportPartyStatus {  // scheduler/task/report, and the answers to partner/task/collect
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  Status status = Status::running;
  std::string error;
  bool collected = false;  // from a collect: an ineffective status is not an error
  int64_t now_ms = 0;
};
struct CopyCreateAnswered {  // the answer to CreateRemoteCopy (code 104: the party was unreachable)
  PartyRef party;
  RetCode code = RetCode::success;
  std::string message;
  int64_t now_ms = 0;
};
struct EndCallAnswered {  // a party's answer to the stop sent at the job's end (StopRemoteJob)
  PartyRef party;
  RetCode code = RetCode::success;  // 104: not delivered; any other answer: the party has it
  int64_t now_ms = 0;
};
struct ResourcesAnswered {  // a party's answer to the job's resource apply (this server's resource
  PartyRef party;           // manager for a local copy, partner/job/resource/apply for a remote one)
  int attempt = 0;
  RetCode code = RetCode::success;
  std::string message;
  int64_t now_ms = 0;
};
struct TaskResourcesAnswer {  // a remote party's answer to ApplyRemoteTaskResources
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  int attempt = 0;
  RetCode code = RetCode::success;
  std::string message;
  int64_t now_ms = 0;
};
struct TaskStartAnswered {  // a remote party's answer to StartRemoteTask
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  RetCode code = RetCode::success;
  std::string message;
  int64_t now_ms = 0;
};

using JobCommand =
    std::variant<CreateJob, ReportTaskStatus, RecordLaunch, FailRun, StopJob, RerunJob, AddNotes, Advance,
                 TimeoutRun, TimeoutJob, CleanJob, JoinJob, UpdateCopyStatus, UpdateTaskStatus, StartTask,
                 StopTask, StopCopy, RerunTask, CollectTask, ReportPartyStatus, CopyCreateAnswered,
                 TaskStartAnswered, TaskResourcesAnswer, HoldResources, ReturnResources, ResourcesAnswered,
                 SaveMetrics, TrackDataOutput, SaveModel, DeleteTracking, ApplyTaskResources,
                 ReturnTaskResources, EndCallAnswered>;

// A command with who gave it, as the host decides it. `actor` is "" when the sender leaves naming it to
// command_actor (events/job/actor.cpp): only client routes name their caller.
struct ActorCommand {
  JobCommand command;
  std::string actor;
};

}  // namespace flowstone::domain
