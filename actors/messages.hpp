// The messages actors exchange and their typed interfaces. Everything stays in one process, so the
// payload types are declared local-only (CAF_ALLOW_UNSAFE_MESSAGE_TYPE): they are never serialized.
#pragma once
#include <caf/all.hpp>
#include <functional>
#include <string>

#include "events/access/access.hpp"
#include "events/catalog/catalog.hpp"
#include "events/job/job.hpp"
#include "net/api.hpp"
#include "net/party_client.hpp"
#include "store/event_log.hpp"

namespace flowstone::actors {

// A command for one job's aggregate. An idempotency key makes a retried command answer from the
// first result instead of running again.
struct JobCommandMsg {
  domain::JobCommand command;
  std::string idempotency_key;
  std::string actor;  // who asked, for the audit ("": named from the command by the domain)
};

struct JobReply {
  RetCode code = RetCode::success;
  std::string message = "success";
  Json data = nullptr;
};

// The event log finished an append the job actor started.
struct AppendDoneMsg {
  uint64_t ticket = 0;
  store::AppendResult result;
};

// An API request on its way to the actor that answers it; `reply` may be called from any thread.
// `route` is its entry in the route table (actors/api_routes.hpp), which names the handler.
struct ApiRoute;
struct ApiCallMsg {
  net::ApiRequest request;
  net::ApiCallback reply;
  const ApiRoute* route = nullptr;
};

// A read-only request on its way to the query actor, with the handler that answers it.
struct ReadContext;
using ReadHandler = net::ApiReply (*)(const ReadContext&, const Json& params);
struct ReadCallMsg {
  net::ApiRequest request;
  net::ApiCallback reply;
  ReadHandler read = nullptr;
};

// Worker processes: start one, stop one, check one after a restart.
struct LaunchMsg {
  std::string job_id;
  std::string execution_id;
  Json task_config;
  std::string component;
  std::string task_dir;
  std::string log_dir;
  std::string provider;  // dag.conf.task.provider (name:version@device); "" or a built-in: Flowstone's own
  Json provider_row;     // its registration (providers view), looked up by the launcher
  int cores = 0;         // the run's cores and timeout: a batch scheduler (device slurm) is asked for them
  int64_t timeout_s = 0;
};
struct KillMsg {
  std::string execution_id;
  int64_t launcher_pid = 0;
  std::string task_dir;
};
struct DeleteOutputsMsg {  // after the kills sent before it: remove a job's folder of outputs
  std::string job_dir;
};
struct CheckMsg {
  std::string execution_id;
  int64_t launcher_pid = 0;
  std::string task_dir;
};

// The resource manager: reserve a copy's cores (code 0 granted, 1005 not now, 1006 never), release them.
struct ReserveMsg {
  std::string job_id;
  domain::PartyRef party;
  int cores = 0;
  int priority = 0;
  int64_t order = 0;  // domain::job_order: the same at every party
};
struct ReserveReply {
  RetCode code = RetCode::success;
  std::string message;
};
struct ReleaseMsg {
  std::string job_id;
  domain::PartyRef party;
  bool still_waiting = false;
};
using resource_actor = caf::typed_actor<caf::replies_to<ReserveMsg>::with<ReserveReply>,
                                        caf::reacts_to<ReleaseMsg>, caf::reacts_to<AppendDoneMsg>>;

// A remote party answered a partner/task/collect the job's supervisor sent.
struct CollectAnsweredMsg {
  domain::CollectRemoteTask call;
  net::PartyAnswer answer;
};

// The job's supervisor looks at the remote parties' runs (see actors/supervisor.hpp).
using supervise_atom = caf::atom_constant<caf::atom("supervise")>;

// The job's detectors look again: task and job timeouts, the end of an auto-retry's backoff.
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;

// The scheduler's actor tells the parties that still owe an answer to the job's end of it again.
using deliver_end_atom = caf::atom_constant<caf::atom("deliverend")>;

// The registry asks a job's actor at rest to stop; it answers true and stops if it still is at rest.
using retire_atom = caf::atom_constant<caf::atom("retire")>;

using job_actor =
    caf::typed_actor<caf::replies_to<JobCommandMsg>::with<JobReply>, caf::reacts_to<AppendDoneMsg>,
                     caf::reacts_to<CollectAnsweredMsg>, caf::reacts_to<supervise_atom>,
                     caf::reacts_to<deadline_atom>, caf::reacts_to<deliver_end_atom>,
                     caf::replies_to<retire_atom>::with<bool>>;

// Starts, stops and watches worker processes; answers by sending RecordLaunch / FailRun to the job.
using launcher_actor = caf::typed_actor<caf::reacts_to<job_actor, LaunchMsg>, caf::reacts_to<KillMsg>,
                                        caf::reacts_to<DeleteOutputsMsg>, caf::reacts_to<job_actor, CheckMsg>,
                                        caf::reacts_to<caf::tick_atom>>;

// The catalog actor (actors/catalog/catalog_actor.hpp): tables, providers, imported models, and the files
// behind models. A command answers like a job command.
// A command for the access aggregate (apps, roles, grants: events/access/access.hpp).
struct AccessCommandMsg {
  domain::AccessCommand command;
};

struct CatalogCommandMsg {
  domain::CatalogCommand command;
};
// Store a model tar a worker uploaded: checked, parsed, written and synced before the answer; the answer's
// ModelSaved is what the job records.
struct StoreModelMsg {
  std::string storage_key;
  std::string tar;
};
struct StoreModelReply {
  RetCode code = RetCode::success;
  std::string message = "success";
  domain::ModelSaved model;  // file, size, digest, meta_data filled in
};
// Store every model tar of an export zip under a new model id and version (/v2/model/import).
struct ImportModelsMsg {
  std::string model_id, model_version;
  std::string zip;
};
// Store an uploaded file (/v2/data/component/upload/file) before its upload job is submitted; the
// reply's data is the path.
struct StoreUploadMsg {
  std::string path;
  std::string data;
};
using catalog_actor =
    caf::typed_actor<caf::replies_to<CatalogCommandMsg>::with<JobReply>, caf::reacts_to<AppendDoneMsg>,
                     caf::replies_to<StoreModelMsg>::with<StoreModelReply>,
                     caf::replies_to<ImportModelsMsg>::with<JobReply>,
                     caf::replies_to<StoreUploadMsg>::with<JobReply>>;

// Routes API calls to job actors (spawning them from the log on demand) and to the query actor.
// The registry's look at the job actors at rest (every few seconds), to stop the idle ones.
using idle_sweep_atom = caf::atom_constant<caf::atom("idlesweep")>;

using registry_actor = caf::typed_actor<caf::reacts_to<ApiCallMsg>, caf::reacts_to<idle_sweep_atom>>;

// The owner of the access stream; it publishes each new state to the AccessBoard the edge reads.
using access_actor =
    caf::typed_actor<caf::replies_to<AccessCommandMsg>::with<JobReply>, caf::reacts_to<AppendDoneMsg>>;

// Answers read-only routes from the projections.
using query_actor = caf::typed_actor<caf::reacts_to<ReadCallMsg>>;

}  // namespace flowstone::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::JobCommandMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::JobReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::AppendDoneMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::CollectAnsweredMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::ReserveMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::ReserveReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::ReleaseMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::ApiCallMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::ReadCallMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::LaunchMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::KillMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::CheckMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::DeleteOutputsMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::CatalogCommandMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::AccessCommandMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::StoreModelMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::StoreModelReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::ImportModelsMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::StoreUploadMsg)
