// What the host of a job must do once a decision's events are durable: launch, stop or check a worker,
// ask this server's resource manager, and call other parties. The calls are typed; the partner protocol
// (actors/partner_protocol.*) turns each into FATE-Flow's request and its answer into a command
// (CopyCreateAnswered, ResourcesAnswered, TaskResourcesAnswer, TaskStartAnswered, ReportPartyStatus).
// Calls to one destination party go out in order per job and are repeated until answered.
#pragma once
#include <string>
#include <variant>

#include "events/common/party.hpp"
#include "events/common/status.hpp"

namespace flowstone::domain {

// ---- workers and this server ---------------------------------------------------------------------------

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
// This server's resource manager: grant a local copy its cores (answered as ResourcesAnswered for
// `attempt`), or take back what a copy returned.
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

// ---- calls to another party's server: the scheduler to a party (partner/...) -----------------------------

struct CreateRemoteCopy {  // partner/job/create; answered as CopyCreateAnswered
  PartyRef party;
};
struct UpdateRemoteJob {  // partner/job/status/update
  PartyRef party;
  Status status = Status::waiting;
  std::string reason;
};
struct ApplyRemoteJobResources {  // partner/job/resource/apply; answered as ResourcesAnswered
  PartyRef party;
  int attempt = 0;
};
struct ReturnRemoteJobResources {  // partner/job/resource/return
  PartyRef party;
};
struct StartRemoteJob {  // partner/job/start
  PartyRef party;
};
struct UpdateRemoteProgress {  // partner/job/update
  PartyRef party;
  int progress = 0;
};
struct StopRemoteJob {  // partner/job/stop (Flowstone adds the status; FATE-Flow parties use failed)
  PartyRef party;
  Status status = Status::failed;
  std::string reason;
};
struct ApplyRemoteTaskResources {  // partner/task/resource/apply; answered as TaskResourcesAnswer
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  int attempt = 0;
};
struct ReturnRemoteTaskResources {  // partner/task/resource/return
  PartyRef party;
  std::string task_name;
  int task_version = 0;
};
struct UpdateRemoteTask {  // partner/task/status/update: the federated status
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  Status status = Status::running;
  std::string reason;
};
struct StartRemoteTask {  // partner/task/start; answered as TaskStartAnswered
  PartyRef party;
  std::string task_name;
  int task_version = 0;
};
struct StopRemoteTask {  // partner/task/stop
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  Status status = Status::failed;
  std::string reason;
};
struct RerunRemoteTask {  // partner/task/rerun: `task_version` is the old version
  PartyRef party;
  std::string task_name;
  int task_version = 0;
  int new_version = 0;
};
struct CollectRemoteTask {  // partner/task/collect; answered as ReportPartyStatus{collected}
  PartyRef party;
  std::string task_name;
  int task_version = 0;
};

// ---- a party to its scheduler
// ------------------------------------------------------------------------------

struct ReportToScheduler {  // scheduler/task/report: a run's own status (callback mode, spec 4.5)
  std::string scheduler_party_id;
  PartyRef party;  // the reporting run's party
  std::string task_name;
  int task_version = 0;
  Status status = Status::running;
  std::string error;  // Flowstone's addition: the scheduler shows where and why a task failed
};

using RemoteCall =
    std::variant<CreateRemoteCopy, UpdateRemoteJob, ApplyRemoteJobResources, ReturnRemoteJobResources,
                 StartRemoteJob, UpdateRemoteProgress, StopRemoteJob, ApplyRemoteTaskResources,
                 ReturnRemoteTaskResources, UpdateRemoteTask, StartRemoteTask, StopRemoteTask,
                 RerunRemoteTask, CollectRemoteTask, ReportToScheduler>;

using Effect = std::variant<LaunchRun, KillRun, CheckRun, ApplyLocalResources, ReleaseLocalResources,
                            DeleteOutputs, RemoteCall>;

// The party a call goes to: the destination's party id (its scheduler's, for a report).
std::string destination_of(const RemoteCall& call);

}  // namespace flowstone::domain
