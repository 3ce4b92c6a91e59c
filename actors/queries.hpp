// Read-only routes: their handlers and the actor that runs them. Each handler answers one route of the
// route table (actors/api_routes.cpp) from the projections and the stored files, with FATE-Flow's filters,
// paging, "latest version" rule and error codes.
//
// Thread rules: handlers block (RocksDB reads, file reads), so they run only on the query actor, which is
// detached; the HTTP edge sends read routes straight to it.
#pragma once
#include <memory>

#include "actors/config.hpp"
#include "actors/environment.hpp"
#include "actors/messages.hpp"
#include "net/api.hpp"
#include "store/event_log.hpp"

namespace flowstone::actors {

// What a read handler may look at.
struct ReadContext {
  store::EventLog& log;
  const ServerConfig& config;
  const DamagedStreams& damaged;
};

namespace reads {

// Jobs and tasks (queries.cpp).
net::ApiReply query_jobs(const ReadContext& read, const Json& params);
net::ApiReply list_jobs(const ReadContext& read, const Json& params);
net::ApiReply query_tasks(const ReadContext& read, const Json& params);
net::ApiReply list_tasks(const ReadContext& read, const Json& params);
net::ApiReply dag_dependency(const ReadContext& read, const Json& params);
net::ApiReply job_history(const ReadContext& read, const Json& params);
net::ApiReply job_replay(const ReadContext& read, const Json& params);
// The server registry (queries.cpp).
net::ApiReply server_query_all(const ReadContext& read, const Json& params);
net::ApiReply server_query(const ReadContext& read, const Json& params);
net::ApiReply service_query(const ReadContext& read, const Json& params);

// What task runs produced and what the catalog holds (outputs.cpp).
net::ApiReply metric_keys(const ReadContext& read, const Json& params);
net::ApiReply metrics(const ReadContext& read, const Json& params);
net::ApiReply model_query(const ReadContext& read, const Json& params);
net::ApiReply model_download(const ReadContext& read, const Json& params);
net::ApiReply worker_model_download(const ReadContext& read, const Json& params);
net::ApiReply tracking_query(const ReadContext& read, const Json& params);
net::ApiReply data_download(const ReadContext& read, const Json& params);
net::ApiReply data_table(const ReadContext& read, const Json& params);
net::ApiReply data_display(const ReadContext& read, const Json& params);
net::ApiReply table_query(const ReadContext& read, const Json& params);
net::ApiReply table_download(const ReadContext& read, const Json& params);
net::ApiReply provider_query(const ReadContext& read, const Json& params);
net::ApiReply data_view(const ReadContext& read, const Json& params);
net::ApiReply log_count(const ReadContext& read, const Json& params);
net::ApiReply log_query(const ReadContext& read, const Json& params);
net::ApiReply log_download(const ReadContext& read, const Json& params);
net::ApiReply model_export(const ReadContext& read, const Json& params);

}  // namespace reads

query_actor spawn_queries(caf::actor_system& system, std::shared_ptr<Environment> env);

}  // namespace flowstone::actors
