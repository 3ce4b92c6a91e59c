#include "actors/queries.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "actors/metrics/server_metrics.hpp"
#include "actors/outputs.hpp"
#include "events/catalog/catalog.hpp"
#include "events/dag/dag.hpp"
#include "events/job/job.hpp"
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
  auto it = row.find(field);
  if (it == row.end()) return false;
  return (it->is_string() ? it->get<std::string>() : it->dump()) == wanted;
}

std::string job_prefix(const std::string& job_id) {
  return job_id.empty() ? std::string() : domain::job_view_prefix(job_id);
}

// Paging as FATE-Flow does it: offset = limit * (page - 1), no limit -> everything; sorted by `order_by`
// (default create_time), ascending only for order=asc. While the view is scanned only each kept row's sort
// column and key are held; the page's rows are read back at the end. Listing 10k jobs (each row holds its
// DAG) so parses one page of rows at a time, not 10k at once (that took the server from 100 MB to 750 MB).
class Pager {
 public:
  Pager(const Json& params, const char* family) : family_(family) {
    order_by_ = param(params, "order_by");
    if (order_by_.empty()) order_by_ = "create_time";
    ascending_ = param(params, "order") == "asc";
    limit_ = params.value("limit", int64_t{0});
    page_no_ = std::max<int64_t>(1, params.value("page", int64_t{1}));
  }

  // A row that passed the filters. A column a row lacks sorts as null (first).
  void keep(const Json& row, const std::string& key) { kept_.push_back({row.value(order_by_, Json()), key}); }

  // {count, data}: the page's rows as stored, each passed through `finish`.
  Json page(store::EventLog& log, const std::function<void(Json&)>& finish = nullptr) {
    std::stable_sort(kept_.begin(), kept_.end(), [&](const Kept& a, const Kept& b) {
      return ascending_ ? a.sort_value < b.sort_value : b.sort_value < a.sort_value;
    });
    const size_t count = kept_.size();
    const size_t begin = limit_ > 0 ? std::min(count, static_cast<size_t>(limit_ * (page_no_ - 1))) : 0;
    const size_t end = limit_ > 0 ? std::min(count, begin + static_cast<size_t>(limit_)) : count;
    Json data = Json::array();
    for (size_t i = begin; i < end; ++i) {
      std::string value;
      if (!log.GetView(family_, kept_[i].key, &value).ok()) continue;  // gone since the scan
      Json row = Json::parse(value, nullptr, false);
      if (finish) finish(row);
      data.push_back(std::move(row));
    }
    return Json{{"count", count}, {"data", std::move(data)}};
  }

 private:
  struct Kept {
    Json sort_value;
    std::string key;
  };
  std::string family_, order_by_;
  bool ascending_ = false;
  int64_t limit_ = 0, page_no_ = 1;
  std::vector<Kept> kept_;
};

// The parties of a job row other than its own.
std::set<std::string> partners_of(const Json& row) {
  std::set<std::string> partners;
  const Json own = row.value("party_id", Json());
  for (const auto& p : row.value("parties", Json::array()))
    for (const auto& id : p.value("party_id", Json::array()))
      if (id != own && id.is_string()) partners.insert(id.get<std::string>());
  return partners;
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

}  // namespace

namespace reads {

ApiReply query_jobs(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
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
  // A job whose stream cannot be replayed (an event that does not decode) is never shown as if it were sound:
  // its rows carry `damaged` with why, and the answer's message says so.
  std::string message = "success";
  for (Json& row : data) {
    std::string why = read.damaged.Why("job:" + row.value("job_id", ""));
    if (why.empty()) continue;
    row["damaged"] = why;
    message = "job stream damaged: " + why;
  }
  return reply(RetCode::success, message, data);
}

ApiReply list_jobs(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
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
  // Flowstone: created between `created_from` and `created_to` (ms, either optional), and the count of jobs
  // by status among those the other filters keep (the dashboard's live counts).
  const int64_t created_from = params.value("created_from", int64_t{0});
  const int64_t created_to = params.value("created_to", INT64_MAX);
  Pager pager(params, domain::kJobsView);
  std::map<std::string, int64_t> by_status;
  log.ScanView(domain::kJobsView, "", [&](const std::string& key, const std::string& value) {
    Json row = Json::parse(value, nullptr, false);  // not const: a missing field reads as null
    if (!contains(row["job_id"], job_id) || !contains(row["description"], description) ||
        !contains(row["party_id"], party_id) || !in(roles, row["role"]))
      return true;
    const int64_t created = row.value("create_time", int64_t{0});
    if (created < created_from || created > created_to) return true;
    if (!partner.empty() && !partners_of(row).count(partner)) return true;
    ++by_status[row.value("status", "")];
    if (in(statuses, row["status"])) pager.keep(row, key);
    return true;
  });
  Json listed = pager.page(log, [](Json& row) { row["partners"] = partners_of(row); });
  listed["status_counts"] = by_status;
  return reply(RetCode::success, "success", std::move(listed));
}

ApiReply query_tasks(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
  std::vector<Json> rows = filter_tasks(log, params);
  if (rows.empty()) return reply(RetCode::task_not_found, "No found task");
  return reply(RetCode::success, "success", Json(rows));
}

ApiReply list_tasks(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
  // Every attempt is listed, so retries are visible.
  Pager pager(params, domain::kTasksView);
  log.ScanView(domain::kTasksView, job_prefix(param(params, "job_id")),
               [&](const std::string& key, const std::string& value) {
                 const Json row = Json::parse(value, nullptr, false);
                 if (matches(row, "job_id", param(params, "job_id")) &&
                     matches(row, "role", param(params, "role")) &&
                     matches(row, "party_id", param(params, "party_id")) &&
                     matches(row, "task_name", param(params, "task_name")))
                   pager.keep(row, key);
                 return true;
               });
  return reply(RetCode::success, "success", pager.page(log));
}

ApiReply dag_dependency(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
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
ApiReply job_history(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
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

// Flowstone's addition: the job's views as they were right after event `until` of its stream (the
// timeline's number), rebuilt by folding its events up to there: the audit's "what did it look like then".
ApiReply job_replay(const ReadContext& read, const Json& params) {
  const std::string job_id = param(params, "job_id");
  const std::string until_text = param(params, "until");
  char* end = nullptr;
  const unsigned long long until = std::strtoull(until_text.c_str(), &end, 10);
  if (until_text.empty() || *end != '\0' || until_text[0] == '-' || until == 0)
    return net::invalid_request("query", "until", "Must be an event number of the job (1 or more).");
  std::vector<store::StoredEvent> stored;
  auto status = read.log.ReadStream("job:" + job_id, 1, &stored);
  if (!status.ok()) return reply(RetCode::server_exception, "cannot read the log: " + status.ToString());
  if (stored.empty()) return reply(RetCode::job_not_found, "No found job: job_id[" + job_id + "]");
  if (until > stored.size())
    return reply(RetCode::invalid_parameter, "until " + until_text + ": job " + job_id + " has " +
                                                 std::to_string(stored.size()) + " events here");
  domain::JobState state;
  Json last;
  for (const auto& s : stored) {
    if (s.version > until) break;
    std::string error;
    auto event = store::decode_job_event(s.payload, &error);
    if (!event)
      return reply(RetCode::server_exception,
                   "event " + std::to_string(s.version) + " undecodable: " + error);
    state = domain::evolve(std::move(state), *event);
    last = domain::history_entry(s.version, *event);
  }
  Json jobs = Json::array(), tasks = Json::array();
  for (const auto& row : domain::job_views(state)) {
    if (row.family == domain::kJobsView) jobs.push_back(Json::parse(row.value, nullptr, false));
    if (row.family == domain::kTasksView) tasks.push_back(Json::parse(row.value, nullptr, false));
  }
  return reply(
      RetCode::success, "success",
      Json{{"until", until}, {"events", stored.size()}, {"event", last}, {"jobs", jobs}, {"tasks", tasks}});
}

// The server registry (spec 1.6): /v2/server/query/all answers {SERVER_NAME: {host, port, protocol}},
// /v2/server/query and /v2/server/service/query one row each, or 6003.
ApiReply server_query_all(const ReadContext& read, const Json&) {
  Json all = Json::object();
  read.log.ScanView(domain::kServersView, "", [&](const std::string& name, const std::string& value) {
    Json row = Json::parse(value, nullptr, false);
    all[name] = Json{{"host", row["host"]}, {"port", row["port"]}, {"protocol", row["protocol"]}};
    return true;
  });
  return reply(RetCode::success, "success", all);
}

ApiReply server_query(const ReadContext& read, const Json& params) {
  const std::string server = domain::server_key(param(params, "server_name"));
  std::string value;
  if (!read.log.GetView(domain::kServersView, server, &value).ok())
    return reply(RetCode::server_not_found, "no found server " + server);
  return reply(RetCode::success, "success", Json::parse(value, nullptr, false));
}

ApiReply service_query(const ReadContext& read, const Json& params) {
  const std::string server = domain::server_key(param(params, "server_name"));
  const std::string service = param(params, "service_name");
  std::string value;
  if (!read.log.GetView(domain::kServicesView, domain::join0({server, service}), &value).ok())
    return reply(RetCode::server_not_found, "no found server " + server + " service " + service);
  return reply(RetCode::success, "success", Json::parse(value, nullptr, false));
}

}  // namespace reads

namespace {

struct QueryState {
  std::shared_ptr<Environment> env;
  static inline const char* name = "flowstone.queries";
};

// Each call names its handler (the route table chose it); the actor only gives it the store to read.
query_actor::behavior_type queries_impl(query_actor::stateful_pointer<QueryState> self,
                                        std::shared_ptr<Environment> env) {
  self->state.env = std::move(env);
  return {
      [=](ReadCallMsg& call) {
        const Environment& env = *self->state.env;
        observe_mailbox(*env.metrics, "queries", self);
        const ReadContext read{*env.log, env.config, *env.damaged};
        call.reply(call.read(read, call.request.params));
      },
  };
}

}  // namespace

query_actor spawn_queries(caf::actor_system& system, std::shared_ptr<Environment> env) {
  return system.spawn<caf::detached>(queries_impl, std::move(env));
}

}  // namespace flowstone::actors
