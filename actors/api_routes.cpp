#include "actors/api_routes.hpp"

#include <cerrno>

#include "actors/registry/registry_parts.hpp"
#include "net/json_io.hpp"

namespace flowstone::actors {
namespace {

using net::Field;
using net::FieldKind;
using namespace registry_parts;

constexpr RouteAnswer cmd(RegistryHandler handler) {
  return RouteAnswer{handler, nullptr};
}
constexpr RouteAnswer rd(ReadHandler handler) {
  return RouteAnswer{nullptr, handler};
}

std::vector<Field> JobFields(std::vector<Field> more) {
  std::vector<Field> fields = {
      {"job_id", FieldKind::str, true}, {"role", FieldKind::str, true}, {"party_id", FieldKind::str, true}};
  fields.insert(fields.end(), more.begin(), more.end());
  return fields;
}

std::vector<Field> TaskFields(std::vector<Field> more) {
  std::vector<Field> fields =
      JobFields({{"task_id", FieldKind::str, true}, {"task_version", FieldKind::integer, true}});
  fields.insert(fields.end(), more.begin(), more.end());
  return fields;
}

std::vector<Field> OutputFields() {
  return JobFields({{"task_name", FieldKind::str, true}});
}

}  // namespace

const std::vector<ApiRoute>& api_routes() {
  static const std::vector<ApiRoute> table = {
      {"POST", "job/submit", {{"dag_schema", FieldKind::object, true}}, cmd(submit)},
      {"GET",
       "job/query",
       {{"job_id", FieldKind::str, false},
        {"role", FieldKind::str, false},
        {"party_id", FieldKind::str, false},
        {"status", FieldKind::str, false}},
       rd(reads::query_jobs)},
      {"GET",
       "job/list/query",
       {{"limit", FieldKind::integer, false},
        {"page", FieldKind::integer, false},
        {"created_from", FieldKind::integer, false},  // Flowstone: creation time range, ms
        {"created_to", FieldKind::integer, false}},
       rd(reads::list_jobs)},
      {"POST", "job/stop", {{"job_id", FieldKind::str, true}}, cmd(stop_job)},
      {"POST", "job/rerun", {{"job_id", FieldKind::str, true}}, cmd(rerun_job)},
      {"GET", "job/task/query", {{"task_version", FieldKind::integer, false}}, rd(reads::query_tasks)},
      {"GET",
       "job/task/list/query",
       {{"limit", FieldKind::integer, false}, {"page", FieldKind::integer, false}},
       rd(reads::list_tasks)},
      {"GET",
       "job/dag/dependency",
       {{"job_id", FieldKind::str, true}, {"role", FieldKind::str, true}, {"party_id", FieldKind::str, true}},
       rd(reads::dag_dependency)},
      {"POST",
       "job/notes/add",
       {{"job_id", FieldKind::str, true},
        {"role", FieldKind::str, true},
        {"party_id", FieldKind::str, true},
        {"notes", FieldKind::str, true}},
       cmd(add_notes)},
      {"POST",
       "worker/task/status",
       {{"execution_id", FieldKind::str, true},
        {"status", FieldKind::str, true},
        {"error", FieldKind::any, false}},
       cmd(worker_task_status)},
      {"GET", "site/info/query", {}, cmd(site_info_route)},
      {"GET", "server/fateflow", {}, cmd(server_info)},
      // The server registry (spec 1.6): other servers by name, and their services.
      {"GET", "server/query/all", {}, rd(reads::server_query_all)},
      {"GET", "server/query", {{"server_name", FieldKind::str, true}}, rd(reads::server_query)},
      {"POST",
       "server/registry",
       {{"server_name", FieldKind::str, true},
        {"host", FieldKind::str, true},
        {"port", FieldKind::integer, true},
        {"protocol", FieldKind::str, false}},
       cmd(register_server)},
      {"POST", "server/delete", {{"server_name", FieldKind::str, true}}, cmd(delete_server)},
      {"GET",
       "server/service/query",
       {{"server_name", FieldKind::str, true}, {"service_name", FieldKind::str, true}},
       rd(reads::service_query)},
      {"POST",
       "server/service/registry",
       {{"server_name", FieldKind::str, true},
        {"service_name", FieldKind::str, true},
        {"uri", FieldKind::str, true},
        {"method", FieldKind::str, false},
        {"params", FieldKind::object, false},
        {"data", FieldKind::object, false},
        {"headers", FieldKind::object, false},
        {"protocol", FieldKind::str, false}},
       cmd(register_service)},
      {"POST",
       "server/service/delete",
       {{"server_name", FieldKind::str, true}, {"service_name", FieldKind::str, true}},
       cmd(delete_service)},
      // Worker routes (spec 1.9); worker/metric/save/<execution_id> arrives here with the id as a field.
      {"POST",
       "worker/metric/save",
       {{"execution_id", FieldKind::str, true}, {"data", FieldKind::any, false}},
       cmd(save_metrics)},
      {"POST",
       "worker/data/tracking/save",
       {{"execution_id", FieldKind::str, true},
        {"meta_data", FieldKind::object, true},
        {"uri", FieldKind::str, true},
        {"output_key", FieldKind::str, true},
        {"namespace", FieldKind::str, true},
        {"name", FieldKind::str, true},
        {"overview", FieldKind::object, true},
        {"partitions", FieldKind::integer, false},
        {"source", FieldKind::object, true},
        {"data_type", FieldKind::str, true},
        {"index", FieldKind::integer, true}},
       cmd(track_data)},
      {"GET", "worker/data/tracking/query", {}, rd(reads::tracking_query)},
      {"POST",
       "worker/model/save",
       {{"model_id", FieldKind::str, true},
        {"model_version", FieldKind::str, true},
        {"execution_id", FieldKind::str, true},
        {"output_key", FieldKind::str, true},
        {"type_name", FieldKind::str, true}},
       cmd(save_model)},
      {"GET",
       "worker/model/download",
       {{"model_id", FieldKind::str, true},
        {"model_version", FieldKind::str, true},
        {"role", FieldKind::str, true},
        {"party_id", FieldKind::str, true},
        {"task_name", FieldKind::str, true},
        {"output_key", FieldKind::str, true}},
       rd(reads::worker_model_download)},
      // Flowstone's relay between the parties of one federated task run (apps/components/psi.cpp uses it).
      {"POST",
       "worker/relay/send",
       {{"execution_id", FieldKind::str, true},
        {"dest_role", FieldKind::str, true},
        {"dest_party_id", FieldKind::str, true},
        {"key", FieldKind::str, true},
        {"payload", FieldKind::any, false}},
       cmd(relay_send)},
      {"GET",
       "worker/relay/receive",
       {{"execution_id", FieldKind::str, true},
        {"src_role", FieldKind::str, true},
        {"src_party_id", FieldKind::str, true},
        {"key", FieldKind::str, true}},
       cmd(relay_receive)},
      {"POST",
       "partner/relay/receive",
       {{"job_id", FieldKind::str, true},
        {"federation_id", FieldKind::str, true},
        {"src_role", FieldKind::str, true},
        {"src_party_id", FieldKind::str, true},
        {"dest_role", FieldKind::str, true},
        {"dest_party_id", FieldKind::str, true},
        {"key", FieldKind::str, true},
        {"payload", FieldKind::any, false}},
       cmd(relay_deliver)},
      // Outputs (spec 1.6): the task is the latest version of job_id/role/party_id/task_name.
      {"GET", "output/metric/key/query", OutputFields(), rd(reads::metric_keys)},
      {"GET", "output/metric/query", OutputFields(), rd(reads::metrics)},
      {"POST", "output/metric/delete", OutputFields(), cmd(delete_metrics)},
      {"GET", "output/model/query", OutputFields(), rd(reads::model_query)},
      {"GET", "output/model/download", OutputFields(), rd(reads::model_download)},
      {"POST", "output/model/delete", OutputFields(), cmd(delete_task_models)},
      {"GET", "output/data/download", OutputFields(), rd(reads::data_download)},
      {"GET", "output/data/table", OutputFields(), rd(reads::data_table)},
      {"GET", "output/data/display", OutputFields(), rd(reads::data_display)},
      {"GET",
       "log/count",
       {{"log_type", FieldKind::str, true}, {"job_id", FieldKind::str, true}},
       rd(reads::log_count)},
      {"GET",
       "log/query",
       {{"log_type", FieldKind::str, true},
        {"job_id", FieldKind::str, true},
        {"role", FieldKind::str, true},
        {"party_id", FieldKind::str, true},
        {"begin", FieldKind::integer, false},
        {"end", FieldKind::integer, false}},
       rd(reads::log_query)},
      {"POST", "job/log/download", {{"job_id", FieldKind::str, true}}, rd(reads::log_download)},
      {"GET", "job/data/view", JobFields({}), rd(reads::data_view)},
      {"POST",
       "model/export",
       {{"model_id", FieldKind::str, true},
        {"model_version", FieldKind::str, true},
        {"party_id", FieldKind::str, true},
        {"role", FieldKind::str, true},
        {"path", FieldKind::str, true}},
       rd(reads::model_export)},
      {"POST",
       "model/import",
       {{"model_id", FieldKind::str, true}, {"model_version", FieldKind::str, true}},
       cmd(import_models)},
      {"POST",
       "model/delete",
       {{"model_id", FieldKind::str, true}, {"model_version", FieldKind::str, true}},
       cmd(delete_models)},
      {"POST",
       "data/component/upload",
       {{"file", FieldKind::str, true},
        {"head", FieldKind::any, true},
        {"partitions", FieldKind::integer, true},
        {"meta", FieldKind::object, true},
        {"namespace", FieldKind::str, false},
        {"name", FieldKind::str, false}},
       cmd(upload_server_file)},
      {"POST",
       "data/component/upload/file",
       {{"head", FieldKind::any, true},
        {"partitions", FieldKind::integer, true},
        {"meta", FieldKind::any, true},
        {"namespace", FieldKind::str, false},
        {"name", FieldKind::str, false}},
       cmd(upload_file)},
      {"POST",
       "data/component/dataframe/transformer",
       {{"data_warehouse", FieldKind::object, true},
        {"namespace", FieldKind::str, true},
        {"name", FieldKind::str, true},
        {"drop", FieldKind::any, false}},
       cmd(transform_table)},
      {"GET",
       "data/download",
       {{"name", FieldKind::str, true}, {"namespace", FieldKind::str, true}},
       rd(reads::table_download)},
      {"POST",
       "data/component/download",
       {{"name", FieldKind::str, true}, {"namespace", FieldKind::str, true}, {"path", FieldKind::str, false}},
       cmd(download_table)},
      {"GET",
       "table/query",
       {{"namespace", FieldKind::str, true}, {"name", FieldKind::str, true}},
       rd(reads::table_query)},
      {"POST",
       "table/delete",
       {{"namespace", FieldKind::str, true}, {"name", FieldKind::str, true}},
       cmd(delete_table)},
      {"POST",
       "table/bind/path",
       {{"namespace", FieldKind::str, true}, {"name", FieldKind::str, true}, {"path", FieldKind::str, true}},
       cmd(bind_table)},
      {"POST",
       "provider/register",
       {{"name", FieldKind::str, true},
        {"device", FieldKind::str, true},
        {"version", FieldKind::str, true},
        {"metadata", FieldKind::object, true},
        {"protocol", FieldKind::str, false},
        {"components_description", FieldKind::any, false}},
       cmd(register_provider)},
      {"GET", "provider/query", {}, rd(reads::provider_query)},
      {"POST", "provider/delete", {}, cmd(delete_providers)},
      {"GET",
       "job/history/query",
       {{"job_id", FieldKind::str, true}},
       rd(reads::job_history)},  // Flowstone: a job's audit history
      {"GET",
       "job/replay/query",
       {{"job_id", FieldKind::str, true}, {"until", FieldKind::integer, true}},
       rd(reads::job_replay)},  // Flowstone: the job's views as they were after one of its events
      // Flowstone: the event log's global order as server-sent events (the dashboard's live feed); resumes
      // after the SSE Last-Event-ID header or `after`, only one job's events with `job_id`.
      {"GET",
       "dashboard/feed",
       {{"job_id", FieldKind::str, false}, {"after", FieldKind::integer, false}},
       RouteAnswer{nullptr, nullptr, true}},
      {"POST", "job/queue/clean", {}, cmd(clean_queue)},
      {"POST", "job/clean", {{"job_id", FieldKind::str, true}}, cmd(clean_job)},
      // Scheduler routes (spec 1.7).
      {"POST",
       "scheduler/job/create",
       {{"dag", FieldKind::object, true}, {"schema_version", FieldKind::str, true}},
       cmd(scheduler_job_create)},
      {"POST", "scheduler/task/report",
       TaskFields({{"status", FieldKind::str, false}, {"error", FieldKind::any, false}}),
       cmd(scheduler_task_report)},
      {"POST",
       "scheduler/job/stop",
       {{"job_id", FieldKind::str, true}, {"stop_status", FieldKind::str, false}},
       cmd(scheduler_job_stop)},
      {"POST", "scheduler/job/rerun", {{"job_id", FieldKind::str, true}}, cmd(scheduler_job_rerun)},
      // Partner routes (spec 1.8): every body names the job copy; task routes name the run too.
      {"POST", "partner/job/create",
       JobFields({{"dag", FieldKind::object, true}, {"schema_version", FieldKind::str, true}}), cmd(join)},
      {"POST", "partner/job/start", JobFields({{"extra_info", FieldKind::any, false}}),
       cmd(partner_job_start)},
      {"POST", "partner/job/status/update", JobFields({{"status", FieldKind::str, true}}),
       cmd(partner_job_status_update)},
      {"POST", "partner/job/update", JobFields({{"progress", FieldKind::any, false}}),
       cmd(partner_job_update)},
      {"POST", "partner/job/resource/apply", JobFields({}), cmd(apply_job_resources)},
      {"POST", "partner/job/resource/return", JobFields({}), cmd(return_job_resources)},
      {"POST", "partner/job/stop", JobFields({{"stop_status", FieldKind::str, false}}),
       cmd(partner_job_stop)},
      {"POST", "partner/task/resource/apply", TaskFields({}), cmd(apply_task_resources)},
      {"POST", "partner/task/resource/return", TaskFields({}), cmd(return_task_resources)},
      {"POST", "partner/task/start", TaskFields({}), cmd(partner_task_start)},
      {"POST", "partner/task/collect", TaskFields({}), cmd(partner_task_collect)},
      {"POST", "partner/task/status/update", TaskFields({{"status", FieldKind::str, true}}),
       cmd(partner_task_status_update)},
      {"POST", "partner/task/stop", TaskFields({{"status", FieldKind::str, false}}), cmd(partner_task_stop)},
      {"POST", "partner/task/rerun", TaskFields({{"new_version", FieldKind::integer, true}}),
       cmd(partner_task_rerun)},
      // Apps and permissions (spec 1.6; FATE's client_app.py and permission_app.py).
      {"POST", "app/client/create", {{"app_name", FieldKind::str, true}}, cmd(create_client_app)},
      {"POST", "app/client/delete", {{"app_id", FieldKind::str, true}}, cmd(delete_client_app)},
      {"GET",
       "app/client/query",
       {{"app_id", FieldKind::str, false}, {"app_name", FieldKind::str, false}},
       cmd(query_client_apps)},
      {"POST", "app/site/create", {{"party_id", FieldKind::str, true}}, cmd(create_site_app)},
      {"POST", "app/site/delete", {{"party_id", FieldKind::str, true}}, cmd(delete_site_app)},
      {"GET", "app/site/query", {{"party_id", FieldKind::str, true}}, cmd(query_site_apps)},
      {"POST",
       "app/partner/create",
       {{"party_id", FieldKind::str, true},
        {"app_id", FieldKind::str, true},
        {"app_token", FieldKind::str, true}},
       cmd(create_partner_app)},
      {"POST", "app/partner/delete", {{"party_id", FieldKind::str, true}}, cmd(delete_partner_app)},
      {"GET", "app/partner/query", {{"party_id", FieldKind::str, false}}, cmd(query_partner_apps)},
      {"POST",
       "permission/grant",
       {{"app_id", FieldKind::str, true}, {"role", FieldKind::str, true}},
       cmd(grant_role)},
      {"POST",
       "permission/delete",
       {{"app_id", FieldKind::str, true}, {"role", FieldKind::str, true}},
       cmd(revoke_role)},
      {"GET", "permission/query", {{"app_id", FieldKind::str, true}}, cmd(query_permissions)},
      {"GET", "permission/role/query", {}, cmd(query_roles)},
      {"POST",
       "permission/resource/grant",
       {{"party_id", FieldKind::str, true},
        {"component", FieldKind::str, false},
        {"dataset", FieldKind::list, false}},
       cmd(grant_resources)},
      {"POST",
       "permission/resource/delete",
       {{"party_id", FieldKind::str, true},
        {"component", FieldKind::str, false},
        {"dataset", FieldKind::list, false}},
       cmd(revoke_resources)},
      {"GET", "permission/resource/query", {{"party_id", FieldKind::str, true}}, cmd(query_resources)},
  };
  return table;
}

namespace {

std::string header_or(const net::ApiRequest& request, const char* name, const std::string& fallback) {
  auto it = request.headers.find(name);
  return it == request.headers.end() || it->second.empty() ? fallback : it->second;
}

// A caller is its app when authentication is on (checked before: the appId is verified), else its address
// (an unsigned appId could be anyone's, and initiator-party-id names a job's initiator, not the caller).
std::optional<net::ApiReply> over_rate(RouteTargets& targets, const net::ApiRequest& request,
                                       RouteGroup group) {
  net::RateLimiter* limiter = group == RouteGroup::client ? targets.client_rate.get()
                              : group == RouteGroup::site ? targets.site_rate.get()
                                                          : nullptr;
  if (!limiter) return std::nullopt;
  const std::string caller =
      targets.auth ? header_or(request, "appid", request.remote_address) : request.remote_address;
  if (limiter->Allow(caller, targets.clock->now_ms())) return std::nullopt;
  net::ApiReply refused = net::reply(RetCode::too_many_requests,
                                     "Too many requests from " + caller + ": past this site's rate limit");
  refused.raw = net::HttpResponse{429,
                                  "application/json",
                                  net::envelope_text(to_int(RetCode::too_many_requests), refused.message),
                                  {{"Retry-After", "1"}},
                                  to_int(RetCode::too_many_requests),
                                  nullptr};
  return refused;
}

// With TLS on, what a request's transport may reach; nullopt when it may go on. Worker routes have their
// own rule (where they are called from).
std::optional<net::ApiReply> off_transport(const RouteTargets& targets, const net::ApiRequest& request,
                                           RouteGroup group) {
  if (!targets.tls || group == RouteGroup::worker) return std::nullopt;
  if (group == RouteGroup::client) {
    if (request.tls || request.from_loopback()) return std::nullopt;
    return net::reply(RetCode::no_permission, "No permission: this site takes client calls from " +
                                                  request.remote_address +
                                                  " over HTTPS only (flowstone.tls)");
  }
  if (!request.tls)
    return net::reply(
        RetCode::no_permission,
        "No permission: partner and scheduler routes are served over HTTPS only (flowstone.tls)");
  if (targets.client_certificates && request.peer_certificate.empty())
    return net::reply(
        RetCode::no_permission,
        "No permission: partner and scheduler routes need a TLS client certificate signed by this "
        "site's CA (flowstone.tls.verify_clients)");
  return std::nullopt;
}

// A streamed answer: the feed takes the connection's sink once the header is out.
net::ApiReply feed_reply(const RouteTargets& targets, const net::ApiRequest& request) {
  if (!targets.feed) return net::reply(RetCode::server_exception, "the event feed is not running");
  // The resume point: SSE's Last-Event-ID on a reconnect, else `after`, else none (live from now).
  std::optional<uint64_t> after;
  const char* location = "headers";
  const char* field = "Last-Event-ID";
  std::string text;
  bool given = false;
  if (auto it = request.headers.find("last-event-id"); it != request.headers.end()) {
    text = it->second;
    given = !text.empty();  // an empty Last-Event-ID means "from now", as for EventSource's first connect
  } else if (request.params.contains("after")) {
    text = param(request.params, "after");
    location = "query";
    field = "after";
    given = true;
  }
  if (given) {
    char* end = nullptr;
    errno = 0;
    uint64_t seq = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || text[0] == '-' || errno == ERANGE)
      return net::invalid_request(location, field, "Not a valid integer.");
    after = seq;
  }
  net::HttpResponse stream;
  stream.content_type = "text/event-stream";
  stream.headers.emplace_back("Cache-Control", "no-cache");
  stream.body = "retry: 2000\n\n";  // how long EventSource waits before it reconnects
  stream.stream = [feed = targets.feed, after,
                   job_id = param(request.params, "job_id")](std::shared_ptr<net::StreamSink> sink) {
    feed->Subscribe(std::move(sink), after, job_id);
  };
  net::ApiReply out;
  out.raw = std::move(stream);
  return out;
}

}  // namespace

std::vector<net::Route> bind_api_routes(std::shared_ptr<RouteTargets> targets) {
  std::vector<net::Route> bound;
  for (const ApiRoute& route : api_routes()) {
    const RouteGroup group = route_group(route.path);
    auto admit = [targets, group, path = std::string(route.path)](
                     const net::ApiRequest& request) -> std::optional<net::ApiReply> {
      if (!targets->ready.load(std::memory_order_acquire)) {
        net::ApiReply starting = net::reply(RetCode::server_exception, "server is starting");
        starting.raw = net::HttpResponse{
            503, "application/json", R"({"code":6000,"message":"server is starting"})", {}, 6000, nullptr};
        return starting;
      }
      // Workers are never signed (as in FATE), so where they call from is what keeps others out.
      if (group == RouteGroup::worker && !targets->worker_networks.Allows(request.remote_address))
        return net::reply(RetCode::no_permission, "No permission: worker routes answer only calls from " +
                                                      targets->worker_networks.Describe() + ", not " +
                                                      request.remote_address);
      if (auto refused = off_transport(*targets, request, group)) return refused;
      if (targets->auth)
        if (auto refused = targets->auth->Check(request, path)) return refused;
      return over_rate(*targets, request, group);
    };
    auto answer = [targets, route = &route](net::ApiRequest request, net::ApiCallback reply) {
      if (route->answer.feed) return reply(feed_reply(*targets, request));
      if (route->answer.read)
        return caf::anon_send(targets->queries,
                              ReadCallMsg{std::move(request), std::move(reply), route->answer.read});
      caf::anon_send(targets->registry, ApiCallMsg{std::move(request), std::move(reply), route});
    };
    bound.push_back(net::Route{route.method, route.path, route.fields, std::move(answer), std::move(admit)});
  }
  return bound;
}

}  // namespace flowstone::actors
