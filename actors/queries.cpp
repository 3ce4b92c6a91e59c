#include "actors/queries.hpp"

#include <algorithm>
#include <set>

#include "actors/outputs.hpp"
#include "events/catalog/catalog.hpp"
#include "events/dag/dag.hpp"
#include "events/job/views.hpp"
#include "store/codec/job_codec.hpp"

namespace flowstone::actors {
namespace {

using net::ApiReply;

using net::param;
using net::reply;

// A filter value may be one value or a list (FATE's role[] / status[] list parameters).
std::vector<std::string> values(const Json& params, const char* name) {
  std::vector<std::string> out;
  for (const std::string& key : {std::string(name), std::string(name) + "[]"}) {
    auto it = params.find(key);
    if (it == params.end() || it->is_null()) continue;
    if (it->is_array()) {
      for (const auto& v : *it) out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
    } else {
      out.push_back(it->is_string() ? it->get<std::string>() : it->dump());
    }
  }
  return out;
}

bool matches(const Json& row, const char* field, const std::string& wanted) {
  if (wanted.empty()) return true;
  const Json& v = row[field];
  return (v.is_string() ? v.get<std::string>() : v.dump()) == wanted;
}

std::string job_prefix(const std::string& job_id) {
  return job_id.empty() ? std::string() : domain::job_view_prefix(job_id);
}

// Paging as FATE-Flow does it: offset = limit * (page - 1); no limit -> everything.
Json page(std::vector<Json> rows, const Json& params) {
  std::string order = param(params, "order");
  std::string order_by = param(params, "order_by");
  if (order_by.empty()) order_by = "create_time";
  bool ascending = order == "asc";
  std::stable_sort(rows.begin(), rows.end(), [&](const Json& a, const Json& b) {
    return ascending ? a[order_by] < b[order_by] : b[order_by] < a[order_by];
  });
  size_t count = rows.size();
  int64_t limit = params.value("limit", int64_t{0});
  int64_t page_no = std::max<int64_t>(1, params.value("page", int64_t{1}));
  Json data = Json::array();
  size_t begin = limit > 0 ? static_cast<size_t>(limit * (page_no - 1)) : 0;
  size_t end = limit > 0 ? std::min(count, begin + static_cast<size_t>(limit)) : count;
  for (size_t i = begin; i < end; ++i) data.push_back(std::move(rows[i]));
  return Json{{"count", count}, {"data", data}};
}

ApiReply query_jobs(store::EventLog& log, const Json& params) {
  std::string job_id = param(params, "job_id"), role = param(params, "role"),
              party_id = param(params, "party_id"), status = param(params, "status");
  if (job_id.empty() && role.empty() && party_id.empty() && status.empty())
    return reply(RetCode::job_not_found,
                 "No found job: a filter (job_id, role, party_id or status) is required");
  Json data = Json::array();
  for (Json& row : scan_view(log, domain::kJobsView, job_prefix(job_id)))
    if (matches(row, "job_id", job_id) && matches(row, "role", role) && matches(row, "party_id", party_id) &&
        matches(row, "status", status))
      data.push_back(std::move(row));
  if (data.empty()) return reply(RetCode::job_not_found, "No found job");
  return reply(RetCode::success, "success", data);
}

ApiReply list_jobs(store::EventLog& log, const Json& params) {
  std::string job_id = param(params, "job_id"), description = param(params, "description"),
              party_id = param(params, "party_id"), partner = param(params, "partner");
  auto roles = values(params, "role");
  auto statuses = values(params, "status");
  auto contains = [](const Json& v, const std::string& part) {
    return part.empty() || (v.is_string() && v.get<std::string>().find(part) != std::string::npos);
  };
  auto in = [](const std::vector<std::string>& set, const Json& v) {
    return set.empty() ||
           (v.is_string() && std::find(set.begin(), set.end(), v.get<std::string>()) != set.end());
  };
  std::vector<Json> rows;
  for (Json& row : scan_view(log, domain::kJobsView, "")) {
    if (!contains(row["job_id"], job_id) || !contains(row["description"], description) ||
        !contains(row["party_id"], party_id) || !in(roles, row["role"]) || !in(statuses, row["status"]))
      continue;
    std::set<std::string> partners;
    for (const auto& p : row["parties"])
      for (const auto& id : p["party_id"])
        if (id != row["party_id"]) partners.insert(id.get<std::string>());
    row["partners"] = partners;
    if (!partner.empty() && !partners.count(partner)) continue;
    rows.push_back(std::move(row));
  }
  return reply(RetCode::success, "success", page(std::move(rows), params));
}

// Tasks with the filters; the latest version per (task_id, role, party_id) unless a version is asked.
std::vector<Json> filter_tasks(store::EventLog& log, const Json& params) {
  std::string job_id = param(params, "job_id");
  std::vector<Json> latest;
  bool any_version = params.contains("task_version");
  for (Json& row : scan_view(log, domain::kTasksView, job_prefix(job_id))) {
    if (!matches(row, "job_id", job_id) || !matches(row, "role", param(params, "role")) ||
        !matches(row, "party_id", param(params, "party_id")) ||
        !matches(row, "task_name", param(params, "task_name")) ||
        !matches(row, "task_id", param(params, "task_id")))
      continue;
    if (any_version && row["task_version"] != params["task_version"]) continue;
    // Rows of one (task, role, party) are stored in version order: a later one replaces an earlier one.
    if (!any_version && !latest.empty()) {
      Json& last = latest.back();
      if (last["task_id"] == row["task_id"] && last["role"] == row["role"] &&
          last["party_id"] == row["party_id"]) {
        last = std::move(row);
        continue;
      }
    }
    latest.push_back(std::move(row));
  }
  std::string status = param(params, "status");
  std::vector<Json> out;
  for (Json& row : latest)
    if (matches(row, "status", status)) out.push_back(std::move(row));
  return out;
}

ApiReply query_tasks(store::EventLog& log, const Json& params) {
  std::vector<Json> rows = filter_tasks(log, params);
  if (rows.empty()) return reply(RetCode::task_not_found, "No found task");
  return reply(RetCode::success, "success", Json(rows));
}

ApiReply list_tasks(store::EventLog& log, const Json& params) {
  // Every attempt is listed, so retries are visible.
  std::vector<Json> rows;
  for (Json& row : scan_view(log, domain::kTasksView, job_prefix(param(params, "job_id")))) {
    if (!matches(row, "job_id", param(params, "job_id")) || !matches(row, "role", param(params, "role")) ||
        !matches(row, "party_id", param(params, "party_id")) ||
        !matches(row, "task_name", param(params, "task_name")))
      continue;
    rows.push_back(std::move(row));
  }
  return reply(RetCode::success, "success", page(std::move(rows), params));
}

ApiReply dag_dependency(store::EventLog& log, const Json& params) {
  std::string job_id = param(params, "job_id");
  domain::PartyRef party{param(params, "role"), param(params, "party_id")};
  std::string value;
  if (!log.GetView(domain::kJobsView, domain::job_view_key(job_id, party), &value).ok())
    return reply(RetCode::job_not_found, "No found job: job_id[" + job_id + "], role[" + party.role +
                                             "], party_id[" + party.party_id + "]");
  Json row = Json::parse(value, nullptr, false);
  auto parsed = domain::parse_dag(row["dag"]);
  if (auto* err = std::get_if<domain::DagError>(&parsed))
    return reply(RetCode::job_params_error, err->message);
  const domain::Dag& dag = std::get<domain::Dag>(parsed);
  Json list = Json::array(), stages = Json::object(), modules = Json::object(), deps = Json::object();
  for (const std::string& name : domain::topological_order(dag)) {
    const domain::TaskSpec* task = dag.find_task(name);
    list.push_back(name);
    stages[name] = !task->stage.empty() ? task->stage : (dag.stage.empty() ? "default" : dag.stage);
    modules[name] = task->component_ref;
    Json edges = Json::array();
    for (const auto& input : task->inputs) {
      if (input.source != "task_output_artifact") continue;
      edges.push_back(Json{{"type", input.input_key},
                           {"model_type", input.kind},
                           {"component_name", input.producer_task},
                           {"up_output_info", Json::array({input.output_artifact_key})}});
    }
    if (edges.empty()) edges.push_back(Json{{"up_output_info", Json::array()}});
    deps[name] = edges;
  }
  return reply(RetCode::success, "success",
               Json{{"component_list", list},
                    {"component_stage", stages},
                    {"component_module", modules},
                    {"dependencies", deps}});
}

// Flowstone's addition: a job's audit history, every event of its stream in order.
ApiReply job_history(store::EventLog& log, const Json& params) {
  std::string job_id = param(params, "job_id");
  std::vector<store::StoredEvent> stored;
  auto status = log.ReadStream("job:" + job_id, 1, &stored);
  if (!status.ok()) return reply(RetCode::server_exception, "cannot read the log: " + status.ToString());
  if (stored.empty()) return reply(RetCode::job_not_found, "No found job: job_id[" + job_id + "]");
  Json out = Json::array();
  for (const auto& s : stored) {
    std::string error;
    auto event = store::decode_job_event(s.payload, &error);
    if (!event)
      return reply(RetCode::server_exception,
                   "event " + std::to_string(s.version) + " undecodable: " + error);
    out.push_back(domain::history_entry(s.version, *event));
  }
  return reply(RetCode::success, "success", out);
}

// The server registry (spec 1.6): /v2/server/query/all answers {SERVER_NAME: {host, port, protocol}},
// /v2/server/query and /v2/server/service/query one row each, or 6003.
ApiReply query_servers(store::EventLog& log, const Json& params, const std::string& route) {
  if (route == "server/query/all") {
    Json all = Json::object();
    log.ScanView(domain::kServersView, "", [&](const std::string& name, const std::string& value) {
      Json row = Json::parse(value, nullptr, false);
      all[name] = Json{{"host", row["host"]}, {"port", row["port"]}, {"protocol", row["protocol"]}};
      return true;
    });
    return reply(RetCode::success, "success", all);
  }
  const std::string server = domain::server_key(param(params, "server_name"));
  const bool service = route == "server/service/query";
  std::string value;
  const std::string key = service ? domain::join0({server, param(params, "service_name")}) : server;
  if (!log.GetView(service ? domain::kServicesView : domain::kServersView, key, &value).ok())
    return reply(RetCode::server_not_found,
                 "no found server " + server +
                     (service ? " service " + param(params, "service_name") : std::string()));
  return reply(RetCode::success, "success", Json::parse(value, nullptr, false));
}

struct QueryState {
  store::EventLog* log = nullptr;
  ServerConfig config;
  static inline const char* name = "flowstone.queries";
};

query_actor::behavior_type queries_impl(query_actor::stateful_pointer<QueryState> self, store::EventLog* log,
                                        ServerConfig config) {
  self->state.log = log;
  self->state.config = std::move(config);
  return {
      [=](ApiCallMsg& call) {
        auto& st = self->state;
        if (is_output_query(call.request.route))
          return call.reply(answer_output_query(st.config, *st.log, call.request));
        call.reply(answer_query(*st.log, call.request));
      },
  };
}

}  // namespace

net::ApiReply answer_query(store::EventLog& log, const net::ApiRequest& request) {
  const std::string& route = request.route;
  if (route == "job/query") return query_jobs(log, request.params);
  if (route == "job/list/query") return list_jobs(log, request.params);
  if (route == "job/task/query") return query_tasks(log, request.params);
  if (route == "job/task/list/query") return list_tasks(log, request.params);
  if (route == "job/dag/dependency") return dag_dependency(log, request.params);
  if (route == "job/history/query") return job_history(log, request.params);
  if (route.rfind("server/", 0) == 0) return query_servers(log, request.params, route);
  return reply(RetCode::server_not_found, "No found route: " + route);
}

query_actor spawn_queries(caf::actor_system& system, store::EventLog* log, const ServerConfig& config) {
  return system.spawn<caf::detached>(queries_impl, log, config);
}

}  // namespace flowstone::actors
