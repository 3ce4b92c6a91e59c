// Read-only routes answered from the projections (jobs and tasks views), with FATE-Flow's filters,
// paging, "latest version" rule and error codes. The actor is detached: its reads may touch disk.
#pragma once
#include "actors/config.hpp"
#include "actors/messages.hpp"
#include "net/api.hpp"
#include "store/event_log.hpp"

namespace flowstone::actors {

net::ApiReply answer_query(store::EventLog& log, const net::ApiRequest& request);

// Also answers the output routes (actors/outputs.hpp), which need the server's folders.
query_actor spawn_queries(caf::actor_system& system, store::EventLog* log, const ServerConfig& config);

}  // namespace flowstone::actors
