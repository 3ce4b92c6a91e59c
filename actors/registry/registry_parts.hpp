// The registry's parts, shared by its files: its state (the job actors it started, the relay inbox, the job
// id counter), the helpers every route family uses, and the route families themselves (registry.cpp: the
// front door, submit and dispatch; partner_routes.cpp: partner and scheduler routes; run_routes.cpp: what
// runs produce and the catalog routes). Everything here runs on the registry actor.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <variant>

#include "actors/api_routes.hpp"
#include "actors/job/job_actor.hpp"
#include "actors/outputs.hpp"
#include "actors/registry/registry.hpp"
#include "events/common/ids.hpp"
#include "events/job/views.hpp"
#include "events/resources/ledger.hpp"
#include "store/codec/job_codec.hpp"

namespace flowstone::actors::registry_parts {

using net::ApiReply;

inline constexpr auto kCommandTimeout = std::chrono::seconds(60);
inline constexpr const char* kIdempotencyHeader = "x-flowstone-idempotency-key";

struct RegistryState {
  std::shared_ptr<Environment> env;
  std::unordered_map<std::string, job_actor> jobs;
  std::set<caf::actor_addr> retiring;  // job actors asked to stop when idle, until their exit message
  // Relay messages that arrived for this server's runs, until their worker takes them (in memory: a
  // relay belongs to one run, which is failed and retried if the server restarts under it).
  std::map<std::string, Json> relay_inbox;
  int64_t last_us = 0;
  int counter = 0;
  static inline const char* name = "flowstone.registry";
};

using net::param;
using net::reply;

// ---- shared by the route files ---------------------------------------------------------------------------

// Job actors: started from their stream on demand (invalid if the job does not exist here), let go after a
// refused create.
job_actor start_job(Self self, const std::string& job_id, bool new_job = false);
job_actor find_job(Self self, const std::string& job_id);
void count_job_actors(Self self);
void forget_job(Self self, const std::string& job_id, const job_actor& job);
std::string idempotency_key(const net::ApiRequest& request);
void send_command(Self self, const job_actor& job, domain::JobCommand command, const net::ApiRequest& request,
                  net::ApiCallback done);
// A call to another party on behalf of a client request; its answer is the client's reply.
void forward(Self self, const std::string& dest, const std::string& endpoint, Json body,
             net::ApiCallback done);
std::string scheduler_of(Self self, const std::string& job_id);
bool is_local_party(const ServerConfig& config, const std::string& party_id);
std::optional<ApiReply> dag_refusal(const Environment& env, const Json& dag, const std::string& at,
                                    RetCode missing_code, const std::string& missing_prefix);
// Why a job this site would schedule is refused for now: as many jobs as flowstone.max_waiting_jobs already
// wait here. Null when it may be created.
std::optional<ApiReply> waiting_cap_refusal(const Environment& env);
std::shared_ptr<const domain::JobState> inherited_job(Self self, const Json& dag);
std::string new_job_id(Self self);
// `actor`: who asked, for the audit ("": the domain names it: client, or the initiator party).
void create_job(Self self, Json schema, std::string initiator, std::string user, net::ApiCallback done,
                std::optional<RetCode> refused_code, std::string actor = "");
domain::PartyRef party_of(const Json& params);

// ---- the command routes' handlers (the route table in actors/api_routes.cpp names them) ------------------

// registry.cpp: submit and the client routes of a job.
void submit(Self self, ApiCallMsg& call);
void site_info_route(Self self, ApiCallMsg& call);
void server_info(Self self, ApiCallMsg& call);
void stop_job(Self self, ApiCallMsg& call);
void rerun_job(Self self, ApiCallMsg& call);
void clean_job(Self self, ApiCallMsg& call);
void add_notes(Self self, ApiCallMsg& call);
void worker_task_status(Self self, ApiCallMsg& call);

// partner_routes.cpp: what other parties ask of this site's job copies (spec 1.7, 1.8).
void join(Self self, ApiCallMsg& call);
void scheduler_job_create(Self self, ApiCallMsg& call);
void partner_job_status_update(Self self, ApiCallMsg& call);
void partner_job_start(Self self, ApiCallMsg& call);
void partner_job_stop(Self self, ApiCallMsg& call);
void partner_job_update(Self self, ApiCallMsg& call);
void partner_task_status_update(Self self, ApiCallMsg& call);
void partner_task_start(Self self, ApiCallMsg& call);
void partner_task_stop(Self self, ApiCallMsg& call);
void partner_task_collect(Self self, ApiCallMsg& call);
void partner_task_rerun(Self self, ApiCallMsg& call);
void scheduler_task_report(Self self, ApiCallMsg& call);
void scheduler_job_stop(Self self, ApiCallMsg& call);
void scheduler_job_rerun(Self self, ApiCallMsg& call);
void apply_job_resources(Self self, ApiCallMsg& call);
void return_job_resources(Self self, ApiCallMsg& call);
void apply_task_resources(Self self, ApiCallMsg& call);
void return_task_resources(Self self, ApiCallMsg& call);
void clean_queue(Self self, ApiCallMsg& call);

// access_routes.cpp: apps and permissions (FATE's /v2/app and /v2/permission).
void create_client_app(Self self, ApiCallMsg& call);
void delete_client_app(Self self, ApiCallMsg& call);
void query_client_apps(Self self, ApiCallMsg& call);
void create_site_app(Self self, ApiCallMsg& call);
void delete_site_app(Self self, ApiCallMsg& call);
void query_site_apps(Self self, ApiCallMsg& call);
void create_partner_app(Self self, ApiCallMsg& call);
void delete_partner_app(Self self, ApiCallMsg& call);
void query_partner_apps(Self self, ApiCallMsg& call);
void grant_role(Self self, ApiCallMsg& call);
void revoke_role(Self self, ApiCallMsg& call);
void query_permissions(Self self, ApiCallMsg& call);
void query_roles(Self self, ApiCallMsg& call);
void grant_resources(Self self, ApiCallMsg& call);
void revoke_resources(Self self, ApiCallMsg& call);
void query_resources(Self self, ApiCallMsg& call);

// run_routes.cpp: what runs save, the catalog's writes, the server registry's writes.
void save_metrics(Self self, ApiCallMsg& call);
void track_data(Self self, ApiCallMsg& call);
void save_model(Self self, ApiCallMsg& call);
void relay_send(Self self, ApiCallMsg& call);
void relay_receive(Self self, ApiCallMsg& call);
void relay_deliver(Self self, ApiCallMsg& call);
void delete_metrics(Self self, ApiCallMsg& call);
void delete_task_models(Self self, ApiCallMsg& call);
void delete_models(Self self, ApiCallMsg& call);
void import_models(Self self, ApiCallMsg& call);
void register_provider(Self self, ApiCallMsg& call);
void delete_providers(Self self, ApiCallMsg& call);
void delete_table(Self self, ApiCallMsg& call);
void bind_table(Self self, ApiCallMsg& call);
void upload_server_file(Self self, ApiCallMsg& call);
void upload_file(Self self, ApiCallMsg& call);
void transform_table(Self self, ApiCallMsg& call);
void download_table(Self self, ApiCallMsg& call);
void register_server(Self self, ApiCallMsg& call);
void delete_server(Self self, ApiCallMsg& call);
void register_service(Self self, ApiCallMsg& call);
void delete_service(Self self, ApiCallMsg& call);

}  // namespace flowstone::actors::registry_parts
