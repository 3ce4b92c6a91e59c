#include "actors/outputs.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "actors/job/job_actor.hpp"
#include "actors/queries.hpp"
#include "events/catalog/catalog.hpp"
#include "events/dag/dag.hpp"
#include "events/job/views.hpp"
#include "net/archive.hpp"

namespace flowstone::actors {
namespace {

namespace fs = std::filesystem;
using net::ApiReply;
using net::param;
using net::reply;

std::optional<Json> get_row(store::EventLog& log, const char* family, const std::string& key) {
  std::string value;
  if (!log.GetView(family, key, &value).ok()) return std::nullopt;
  return Json::parse(value, nullptr, false);
}

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream data;
  data << in.rdbuf();
  *out = data.str();
  return true;
}

ApiReply raw(std::string body, std::string content_type, const std::string& filename = "") {
  ApiReply r;
  net::HttpResponse http;
  http.body = std::move(body);
  http.content_type = std::move(content_type);
  if (!filename.empty())
    http.headers.push_back({"Content-Disposition", "attachment; filename=\"" + filename + "\""});
  r.raw = std::move(http);
  return r;
}

ApiReply raw_json(const Json& body) {
  return raw(body.dump(), "application/json");
}

// The task a client names (job_id, role, party_id, task_name): its latest version's row.
std::optional<Json> latest_task(store::EventLog& log, const Json& params) {
  std::vector<Json> rows = scan_view(log, domain::kTasksView,
                                     domain::join0({param(params, "job_id"), param(params, "task_name"),
                                                    param(params, "role"), param(params, "party_id")}) +
                                         '\0');
  if (rows.empty()) return std::nullopt;
  return rows.back();  // keys end with the zero-padded version
}

ApiReply no_task(const Json& params) {
  return reply(RetCode::task_not_found, "No found task: job_id[" + param(params, "job_id") + "] role[" +
                                            param(params, "role") + "] party_id[" +
                                            param(params, "party_id") + "] task_name[" +
                                            param(params, "task_name") + "]");
}

std::string run_prefix(const Json& task) {
  return domain::tracking_run_prefix(task.value("job_id", ""),
                                     {task.value("role", ""), task.value("party_id", "")},
                                     task.value("task_name", ""), task.value("task_version", 0));
}

Json metric_key(const Json& m) {
  return Json{{"name", m.value("name", "")},
              {"type", m.contains("type") ? m["type"] : Json(nullptr)},
              {"groups", m.contains("groups") ? m["groups"] : Json::array()},
              {"step_axis", m.contains("step_axis") ? m["step_axis"] : Json(nullptr)}};
}

// The models of the named task: rows of the models view under the job's model id and version.
std::vector<Json> task_models(store::EventLog& log, const Json& params) {
  auto job =
      get_row(log, domain::kJobsView,
              domain::join0({param(params, "job_id"), param(params, "role"), param(params, "party_id")}));
  if (!job) return {};
  std::string prefix =
      domain::join0({job->value("model_id", ""), job->value("model_version", ""), param(params, "role"),
                     param(params, "party_id"), param(params, "task_name")}) +
      '\0';
  return scan_view(log, domain::kModelsView, prefix);
}

// The JSON model members of one stored tar, by FATE's meta: {output_key: model | [models by index]}.
void decode_models(const Json& row, Json* out) {
  std::string bytes;
  std::vector<net::ArchiveEntry> entries;
  if (!read_file(row.value("file", ""), &bytes) || !net::read_archive(bytes, &entries).empty()) return;
  const std::string key = row.value("output_key", "");
  std::vector<std::pair<int64_t, Json>> indexed;
  for (const Json& meta : row.value("meta_data", Json::array())) {
    std::string model_key = meta.value("model_key", "");
    for (const auto& entry : entries) {
      if (entry.name != model_key) continue;
      Json model = Json::parse(entry.data, nullptr, false);
      if (model.is_discarded()) model = entry.data;
      if (meta.contains("index") && meta["index"].is_number_integer())
        indexed.push_back({meta["index"].get<int64_t>(), model});
      else
        (*out)[key] = model;
    }
  }
  if (!indexed.empty()) {
    std::sort(indexed.begin(), indexed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    Json list = Json::array();
    for (auto& [i, m] : indexed) list.push_back(m);
    (*out)[key] = list;
  }
}

ApiReply tar_of(const Json& row, RetCode missing_code) {
  std::string bytes;
  if (!read_file(row.value("file", ""), &bytes))
    return reply(missing_code, "model file of " + row.value("storage_key", "") + " is missing");
  return raw(std::move(bytes), "application/x-tar",
             row.value("task_name", "model") + "_" + row.value("output_key", "") + ".tar");
}

// The tracked outputs of the named task (optionally one output_key), in key and index order.
std::vector<Json> task_outputs(store::EventLog& log, const Json& task, const std::string& output_key) {
  std::string prefix = run_prefix(task);
  if (!output_key.empty()) prefix += output_key + '\0';
  return scan_view(log, domain::kDataOutputsView, prefix);
}

std::optional<Json> table_of(store::EventLog& log, const std::string& ns, const std::string& name) {
  return get_row(log, domain::kTablesView, domain::join0({ns, name}));
}

Json tracking_answer(const Json& table) {
  return Json{{"namespace", table.value("namespace", "")},
              {"name", table.value("name", "")},
              {"count", table.value("count", 0)},
              {"meta", table.value("meta", Json::object())},
              {"engine", table.value("engine", "")},
              {"path", table.value("path", "")},
              {"source", table.value("source", Json::object())},
              {"data_type", table.value("data_type", "")}};
}

// A table's rows as stored (<path>/data.csv), or "" if it has no file or its path lies outside the file
// roots (a tracked uri is the worker's word: it is not trusted to name any file of the server).
std::string table_csv(const ServerConfig& config, const Json& table) {
  std::string csv, resolved;
  if (!config.file_roots().Confine(table.value("path", "") + "/data.csv", &resolved).empty()) return csv;
  read_file(resolved, &csv);
  return csv;
}

Json header_of(const Json& table) {
  const Json meta = table.value("meta", Json::object());
  return meta.is_object() && meta.contains("header") ? meta["header"] : Json::array();
}

ApiReply data_table_or_display(store::EventLog& log, const Json& params, bool display) {
  auto task = latest_task(log, params);
  if (!task) return raw_json(Json::object());
  Json out = Json::object();
  for (const Json& record : task_outputs(log, *task, "")) {
    std::string key = record.value("output_key", "");
    if (!out.contains(key)) out[key] = Json::array();
    if (!display) {
      out[key].push_back(
          Json{{"namespace", record.value("namespace", "")}, {"name", record.value("name", "")}});
      continue;
    }
    auto table = table_of(log, record.value("namespace", ""), record.value("name", ""));
    Json overview = record.value("overview", Json::object());
    out[key].push_back(Json{{"data", table ? table->value("part_of_data", Json::array())
                                           : overview.value("samples", Json::array())},
                            {"metadata", table ? table->value("meta", Json::object())
                                               : record.value("meta_data", Json::object())},
                            {"total", table ? table->value("count", 0) : overview.value("count", 0)}});
  }
  return raw_json(out);
}

// The providers every server has without registering them: Flowstone's own component executables
// (<bin_dir>/flowstone-<component>), listed under its own name and under FATE's `fate_flow`, which DAGs
// written for FATE-Flow name.
std::vector<Json> builtin_providers(const ServerConfig& config) {
  Json components = Json::array();
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(config.bin_dir, ec)) {
    const std::string file = entry.path().filename().string();
    const std::string prefix = "flowstone-";
    if (file.rfind(prefix, 0) != 0 || file == "flowstone-launcher" || file == "flowstone-fate-worker")
      continue;
    if (entry.is_regular_file(ec)) names.push_back(file.substr(prefix.size()));
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) components.push_back(name);
  components.push_back(kNativeNoop);
  std::vector<Json> rows;
  for (const char* name : {"flowstone", "fate_flow"})
    rows.push_back(Json{{"provider_name", std::string(name) + ":" + kBuiltinProviderVersion + "@local"},
                        {"name", name},
                        {"version", kBuiltinProviderVersion},
                        {"device", "local"},
                        {"metadata", {{"path", config.bin_dir}}},
                        {"protocol", "fate"},
                        {"components", components},
                        {"builtin", true}});
  return rows;
}

// ---- logs -------------------------------------------------------------------------------------------

// The files behind a log type: the schedule log of the job, or the task's captured output (and the
// level files a FATE component writes under root/, when there are any).
std::vector<std::string> log_files(const ServerConfig& config, const Json& params, std::string* error) {
  std::string type = param(params, "log_type"), job = param(params, "job_id");
  std::string job_dir = config.log_dir + "/" + job;
  if (type == "schedule_info") return {job_dir + "/fate_flow_schedule.log"};
  if (type == "schedule_error") return {job_dir + "/fate_flow_schedule_error.log"};
  static const std::map<std::string, std::pair<std::string, std::string>> task_types = {
      {"task_error", {"ERROR", "task_entrypoint.stderr"}},
      {"task_warning", {"WARNING", "task_entrypoint.stderr"}},
      {"task_info", {"INFO", "task_entrypoint.stdout"}},
      {"task_debug", {"DEBUG", "task_entrypoint.stdout"}}};
  auto it = task_types.find(type);
  if (it == task_types.end()) {
    *error = "log_type '" + type +
             "' is not one of schedule_info, schedule_error, task_error, task_warning, "
             "task_info, task_debug";
    return {};
  }
  std::string task = param(params, "task_name");
  if (task.empty() || param(params, "role").empty() || param(params, "party_id").empty()) {
    *error = "log_type " + type + " needs role, party_id and task_name";
    return {};
  }
  std::string dir = job_dir + "/" + param(params, "role") + "/" + param(params, "party_id") + "/" + task;
  return {dir + "/root/" + it->second.first, dir + "/" + it->second.second};
}

std::vector<std::string> log_lines(const std::vector<std::string>& files) {
  std::vector<std::string> lines;
  for (const std::string& file : files) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  return lines;
}

// ---- model export -----------------------------------------------------------------------------------

}  // namespace

namespace reads {

ApiReply metric_keys(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
  auto task = latest_task(log, params);
  if (!task) return no_task(params);
  Json keys = Json::array();
  for (const Json& m : scan_view(log, domain::kMetricsView, run_prefix(*task))) {
    Json key = metric_key(m);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  return reply(RetCode::success, "success", keys);
}

// Items saved in several batches under one key are one metric: their data lists are joined.
ApiReply metrics(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
  auto task = latest_task(log, params);
  if (!task) return no_task(params);
  Json filters = params.contains("filters") ? params["filters"] : Json::object();
  if (filters.is_string()) filters = Json::parse(filters.get<std::string>(), nullptr, false);
  if (!filters.is_object()) return net::invalid_request("query", "filters", "Not a valid mapping type.");
  Json out = Json::array();
  for (const Json& m : scan_view(log, domain::kMetricsView, run_prefix(*task))) {
    Json key = metric_key(m);
    bool wanted = true;
    for (const auto& [field, value] : filters.items())
      wanted = wanted && key.contains(field) && key[field] == value;
    if (!wanted) continue;
    auto same = std::find_if(out.begin(), out.end(), [&](const Json& o) { return metric_key(o) == key; });
    if (same == out.end()) {
      Json item = key;
      item["data"] = m.contains("data") ? m["data"] : Json::array();
      out.push_back(item);
    } else if ((*same)["data"].is_array() && m["data"].is_array()) {
      for (const Json& point : m["data"]) (*same)["data"].push_back(point);
    } else {
      (*same)["data"] = m["data"];
    }
  }
  return reply(RetCode::success, "success", out);
}

ApiReply model_query(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
  Json out = Json::object();
  for (const Json& row : task_models(log, params)) decode_models(row, &out);
  if (out.empty()) return reply(RetCode::no_found_model_output, "No found model");
  return reply(RetCode::success, "success", out);
}

ApiReply model_download(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
  auto rows = task_models(log, params);
  if (rows.empty()) return reply(RetCode::no_found_model_output, "No found model");
  return tar_of(rows.front(), RetCode::no_found_model_output);
}

ApiReply worker_model_download(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
  std::string key = domain::model_view_key(param(params, "model_id"), param(params, "model_version"),
                                           {param(params, "role"), param(params, "party_id")},
                                           param(params, "task_name"), param(params, "output_key"));
  auto row = get_row(log, domain::kModelsView, key);
  if (!row) row = get_row(log, domain::kImportedModelsView, key);
  if (!row)
    return reply(RetCode::component_output_exception,
                 "Request uri /v2/worker/model/download failed: no model " + key);
  return tar_of(*row, RetCode::component_output_exception);
}

ApiReply tracking_query(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
  std::string ns = param(params, "namespace"), name = param(params, "name");
  if (!ns.empty() && !name.empty()) {
    auto table = table_of(log, ns, name);
    if (!table)
      return reply(RetCode::table_not_found, "No found table: namespace[" + ns + "] name[" + name + "]");
    return reply(RetCode::success, "success", Json::array({tracking_answer(*table)}));
  }
  auto task = latest_task(log, params);
  if (!task) return no_task(params);
  Json out = Json::array();
  for (const Json& record : task_outputs(log, *task, param(params, "output_key"))) {
    auto table = table_of(log, record.value("namespace", ""), record.value("name", ""));
    if (!table) {
      if (record.value("uri", "").empty()) continue;
      return reply(RetCode::table_not_found, "No found table: namespace[" + record.value("namespace", "") +
                                                 "] name[" + record.value("name", "") + "]");
    }
    out.push_back(tracking_answer(*table));
  }
  if (out.empty()) return reply(RetCode::no_found_model_output, "failed");
  return reply(RetCode::success, "success", out);
}

ApiReply data_download(const ReadContext& read, const Json& params) {
  const ServerConfig& config = read.config;
  store::EventLog& log = read.log;
  auto task = latest_task(log, params);
  if (!task) return no_task(params);
  std::vector<net::ArchiveEntry> entries;
  for (const Json& record : task_outputs(log, *task, param(params, "output_key"))) {
    auto table = table_of(log, record.value("namespace", ""), record.value("name", ""));
    if (!table) continue;
    std::string base = record.value("output_key", "") + "/" + std::to_string(record.value("index", 0));
    entries.push_back({base + ".csv", table_csv(config, *table)});
    entries.push_back({base + ".meta", Json{{"header", header_of(*table)}}.dump()});
  }
  if (entries.empty())
    return reply(RetCode::table_not_found, "No found data output of task " + param(params, "task_name"));
  std::string tar;
  if (std::string e = net::write_archive(net::ArchiveFormat::tar_gz, entries, &tar); !e.empty())
    return reply(RetCode::component_output_exception, "cannot build the archive: " + e);
  return raw(std::move(tar), "application/gzip",
             param(params, "job_id") + "_" + param(params, "role") + "_" + param(params, "party_id") + "_" +
                 param(params, "task_name") + ".tar.gz");
}

ApiReply table_query(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
  std::string ns = param(params, "namespace"), name = param(params, "name");
  auto table = table_of(log, ns, name);
  if (!table)
    return reply(RetCode::table_not_found, "No found table: namespace[" + ns + "] name[" + name + "]");
  Json data = tracking_answer(*table);
  std::string display = param(params, "display");
  if (display == "true" || display == "True" || display == "1")
    data["display"] = table->value("part_of_data", Json::array());
  return reply(RetCode::success, "success", data);
}

ApiReply table_download(const ReadContext& read, const Json& params) {
  const ServerConfig& config = read.config;
  store::EventLog& log = read.log;
  std::string ns = param(params, "namespace"), name = param(params, "name");
  auto table = table_of(log, ns, name);
  if (!table)
    return reply(RetCode::table_not_found, "No found table: namespace[" + ns + "] name[" + name + "]");
  std::vector<net::ArchiveEntry> entries{{"data/0.csv", table_csv(config, *table)},
                                         {"data/0.meta", Json{{"header", header_of(*table)}}.dump()}};
  std::string tar;
  if (std::string e = net::write_archive(net::ArchiveFormat::tar_gz, entries, &tar); !e.empty())
    return reply(RetCode::component_output_exception, "cannot build the archive: " + e);
  return raw(std::move(tar), "application/gzip", "download_data_" + ns + "_" + name + ".tar.gz");
}

ApiReply provider_query(const ReadContext& read, const Json& params) {
  const ServerConfig& config = read.config;
  store::EventLog& log = read.log;
  Json out = Json::array();
  std::vector<Json> rows = builtin_providers(config);
  for (const Json& row : scan_view(log, domain::kProvidersView, "")) rows.push_back(row);
  for (const Json& row : rows) {
    bool wanted = true;
    for (const char* field : {"name", "device", "version", "provider_name"}) {
      std::string wanted_value = param(params, field);
      wanted = wanted && (wanted_value.empty() || row.value(field, "") == wanted_value);
    }
    if (wanted) out.push_back(row);
  }
  return reply(RetCode::success, "success", out);
}

// /v2/job/data/view: the tables each party's reader tasks read.
ApiReply data_view(const ReadContext& read, const Json& params) {
  store::EventLog& log = read.log;
  auto job =
      get_row(log, domain::kJobsView,
              domain::join0({param(params, "job_id"), param(params, "role"), param(params, "party_id")}));
  if (!job) return reply(RetCode::job_not_found, "No found job: job_id[" + param(params, "job_id") + "]");
  auto parsed = domain::parse_dag(job->value("dag", Json::object()));  // the whole dag_schema
  Json view = Json::object();
  if (const auto* dag = std::get_if<domain::Dag>(&parsed))
    for (const auto& task : dag->tasks) {
      if (task.component_ref != "reader") continue;
      for (const auto& party : domain::task_parties(*dag, task.name)) {
        Json p = domain::task_parameters(*dag, task.name, party);
        view[party.role][party.party_id].push_back(Json{{"namespace", p.value("namespace", Json(nullptr))},
                                                        {"name", p.value("name", Json(nullptr))}});
      }
    }
  return reply(
      RetCode::success, "success",
      Json{{"role", param(params, "role")}, {"party_id", param(params, "party_id")}, {"data_view", view}});
}

ApiReply log_count(const ReadContext& read, const Json& params) {
  const ServerConfig& config = read.config;
  std::string error;
  auto files = log_files(config, params, &error);
  if (!error.empty()) return reply(RetCode::invalid_parameter, "Invalid request: " + error);
  return reply(RetCode::success, "success", static_cast<int64_t>(log_lines(files).size()));
}

ApiReply log_query(const ReadContext& read, const Json& params) {
  const ServerConfig& config = read.config;
  std::string error;
  auto files = log_files(config, params, &error);
  if (!error.empty()) return reply(RetCode::invalid_parameter, "Invalid request: " + error);
  auto lines = log_lines(files);
  int64_t begin = params.value("begin", int64_t{1}),
          end = params.value("end", static_cast<int64_t>(lines.size()));
  static const std::regex ip(R"(\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b)");
  Json out = Json::array();
  for (int64_t n = std::max<int64_t>(begin, 1); n <= end && n <= static_cast<int64_t>(lines.size()); ++n)
    out.push_back(
        Json{{"line_num", n}, {"content", std::regex_replace(lines[n - 1], ip, "xxx.xxx.xxx.xxx")}});
  return reply(RetCode::success, "success", out);
}

ApiReply log_download(const ReadContext& read, const Json& params) {
  const ServerConfig& config = read.config;
  std::string job = param(params, "job_id");
  std::vector<net::ArchiveEntry> entries;
  if (!net::add_directory(config.log_dir + "/" + job, job + "/", &entries).empty())
    return reply(RetCode::file_not_found, "No found log of job " + job);
  std::string tar;
  if (std::string e = net::write_archive(net::ArchiveFormat::tar_gz, entries, &tar); !e.empty())
    return reply(RetCode::component_output_exception, "cannot build the archive: " + e);
  return raw(std::move(tar), "application/gzip", "job_" + job + "_log.tar.gz");
}

ApiReply model_export(const ReadContext& read, const Json& params) {
  const ServerConfig& config = read.config;
  store::EventLog& log = read.log;
  std::string dir;
  if (std::string problem = config.file_roots().Confine(param(params, "path"), &dir); !problem.empty())
    return reply(RetCode::no_permission, "No permission: path " + problem);
  std::string id = param(params, "model_id"), version = param(params, "model_version");
  std::string role = param(params, "role"), party = param(params, "party_id");
  std::string prefix = domain::join0({id, version, role, party}) + '\0';
  std::vector<Json> rows = scan_view(log, domain::kModelsView, prefix);
  for (const Json& row : scan_view(log, domain::kImportedModelsView, prefix)) rows.push_back(row);
  if (rows.empty())
    return reply(RetCode::no_found_model_output,
                 "No found model: model_id[" + id + "] model_version[" + version + "]");
  std::vector<net::ArchiveEntry> entries;
  for (const Json& row : rows) {
    std::string bytes;
    if (!read_file(row.value("file", ""), &bytes))
      return reply(RetCode::no_found_model_output,
                   "model file of " + row.value("storage_key", "") + " is missing");
    entries.push_back({row.value("storage_key", ""), std::move(bytes)});
  }
  std::string zip;
  if (std::string e = net::write_archive(net::ArchiveFormat::zip, entries, &zip); !e.empty())
    return reply(RetCode::component_output_exception, "cannot build the archive: " + e);
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string file = dir + "/" + id + "_" + version + "_" + role + "_" + party + ".zip";
  std::ofstream out(file, std::ios::binary);
  out << zip;
  if (!out.flush()) return reply(RetCode::file_not_found, "cannot write " + file);
  return reply(RetCode::success, "success", Json{{"path", file}, {"count", rows.size()}});
}

ApiReply data_table(const ReadContext& read, const Json& params) {
  return data_table_or_display(read.log, params, false);
}

ApiReply data_display(const ReadContext& read, const Json& params) {
  return data_table_or_display(read.log, params, true);
}

}  // namespace reads

std::vector<Json> scan_view(store::EventLog& log, const char* family, const std::string& prefix) {
  std::vector<Json> rows;
  log.ScanView(family, prefix, [&](const std::string&, const std::string& value) {
    rows.push_back(Json::parse(value, nullptr, false));
    return true;
  });
  return rows;
}

bool is_builtin_provider(const std::string& spec) {
  std::string name = spec.substr(0, spec.find_first_of(":@"));
  return name.empty() || name == "flowstone" || name == "fate_flow";
}

Json lookup_provider(store::EventLog& log, const std::string& spec) {
  domain::CatalogState catalog;
  for (const Json& row : scan_view(log, domain::kProvidersView, "")) {
    domain::ProviderInfo p;
    p.name = row.value("name", "");
    p.version = row.value("version", "");
    p.device = row.value("device", "");
    p.update_time = row.value("update_time", int64_t{0});
    catalog.providers[{p.name, p.version, p.device}] = p;
  }
  const domain::ProviderInfo* found = domain::find_provider(catalog, spec);
  if (!found) return nullptr;
  return *get_row(log, domain::kProvidersView, domain::join0({found->name, found->version, found->device}));
}

std::string model_file(const ServerConfig& config, const std::string& storage_key,
                       const std::string& digest) {
  return config.data_dir + "/model/" + storage_key + "." + digest.substr(0, 16) + ".tar";
}

std::pair<std::string, std::string> uri_address(const std::string& uri) {
  auto sep = uri.find("://");
  if (sep == std::string::npos) return {"", uri};
  return {uri.substr(0, sep), uri.substr(sep + 3)};
}

}  // namespace flowstone::actors
