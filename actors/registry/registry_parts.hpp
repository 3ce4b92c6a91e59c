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
  // Relay messages that arrived for this server's runs, until their worker takes them (in memory: a
  // relay belongs to one run, which is failed and retried if the server restarts under it).
  std::map<std::string, Json> relay_inbox;
  int64_t last_us = 0;
  int counter = 0;
  static inline const char* name = "flowstone.registry";
};

using Self = registry_actor::stateful_pointer<RegistryState>;

using net::param;
using net::reply;

// ---- shared by the route files ---------------------------------------------------------------------------

// Job actors: started from their stream on demand (invalid if the job does not exist here), let go after a
// refused create.
job_actor start_job(Self self, const std::string& job_id, bool new_job = false);
job_actor find_job(Self self, const std::string& job_id);
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
std::shared_ptr<const domain::JobState> inherited_job(Self self, const Json& dag);
std::string new_job_id(Self self);
void create_job(Self self, Json schema, std::string initiator, std::string user, net::ApiCallback done,
                std::optional<RetCode> refused_code);
domain::PartyRef party_of(const Json& params);

// ---- route families: each answers the call and returns true, or returns false when the route is not its --

void submit(Self self, ApiCallMsg& call);       // registry.cpp
void site_route(Self self, ApiCallMsg& call);   // partner_routes.cpp: /v2/partner/*, /v2/scheduler/*
void clean_queue(Self self, ApiCallMsg& call);  // partner_routes.cpp
bool handle_server_registry(Self self, ApiCallMsg& call);  // run_routes.cpp
bool handle_tracking_route(Self self, ApiCallMsg& call);   // run_routes.cpp: worker saves, tables, models...

}  // namespace flowstone::actors::registry_parts
