#include "apps/fate_worker/fate_spec.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace flowstone::fate_worker {
namespace {

namespace fs = std::filesystem;
using worker::TaskContext;

// The keys of FATE's artifact Metadata (a pydantic model the provider validates): anything else a
// model's meta.yaml carries is dropped rather than risk the provider refusing the task config.
const char* const kMetadataKeys[] = {"metadata", "name",      "namespace", "model_overview", "data_overview",
                                     "source",   "model_key", "type_name", "index"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// FATE's logger spec is a Python logging dictConfig. Flowstone's server names a folder instead; the
// dictConfig built here writes root/<LEVEL> files there, as FATE-Flow's does, plus the console.
Json python_logging(const std::string& log_dir) {
  Json handlers = Json::object();
  Json names = Json::array();
  for (const char* level : {"DEBUG", "INFO", "WARNING", "ERROR"}) {
    std::string handler = std::string("root_") + level;
    handlers[handler] = {{"class", "logging.FileHandler"},
                         {"level", level},
                         {"formatter", "fate"},
                         {"filename", log_dir + "/root/" + level},
                         {"delay", true}};
    names.push_back(handler);
  }
  handlers["console"] = {{"class", "logging.StreamHandler"},
                         {"level", "INFO"},
                         {"formatter", "fate"},
                         {"stream", "ext://sys.stderr"}};
  names.push_back("console");
  return Json{
      {"version", 1},
      {"disable_existing_loggers", false},
      {"formatters",
       {{"fate",
         {{"format",
           "[%(levelname)s][%(asctime)-8s][%(process)s][%(module)s.%(funcName)s][line:%(lineno)d]: "
           "%(message)s"}}}}},
      {"handlers", std::move(handlers)},
      {"root", {{"level", "DEBUG"}, {"handlers", std::move(names)}}},
  };
}

}  // namespace

const Json& member(const Json& object, const char* key) {
  static const Json null_json;
  if (!object.is_object()) return null_json;
  auto it = object.find(key);
  return it == object.end() ? null_json : *it;
}

std::string text(const Json& object, const char* key) {
  const Json& value = member(object, key);
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  if (value.is_number()) return value.dump();
  return "";
}

bool flag(const Json& object, const char* key) {
  const Json& value = member(object, key);
  return value.is_boolean() && value.get<bool>();
}

Json object_or_empty(const Json& value) {
  return value.is_object() ? value : Json::object();
}

std::vector<Json> as_list(const Json& value) {
  if (value.is_array()) return std::vector<Json>(value.begin(), value.end());
  if (value.is_object()) return {value};
  return {};
}

std::vector<Json> declared(const Json& definition, const char* side, const char* kind) {
  std::vector<Json> out;
  for (const Json& spec : as_list(member(member(definition, side), kind)))
    if (!text(spec, "name").empty()) out.push_back(spec);
  return out;
}

std::string first_type(const Json& spec) {
  const Json& types = member(spec, "types");
  if (types.is_array() && !types.empty()) return text(types[0], "type_name");
  return "";
}

Json fate_metadata(const Json& meta) {
  Json out = Json::object();
  for (const char* key : kMetadataKeys) out[key] = member(meta, key);
  if (!out["metadata"].is_object()) out["metadata"] = Json::object();
  return out;
}

Json data_input_artifact(const Run& run, const Json& table, const Json& spec) {
  std::string path = text(table, "path");
  std::string engine = lower(text(table, "engine"));
  if (engine.empty()) engine = text(member(run.ctx.config, "conf"), "storage");
  if (engine.empty()) engine = "standalone";
  std::string uri = path.find("://") != std::string::npos ? path : engine + "://" + path;
  Json metadata = {{"metadata", object_or_empty(member(table, "meta"))},
                   {"name", member(table, "name")},
                   {"namespace", member(table, "namespace")},
                   {"data_overview", {{"count", member(table, "count")}, {"samples", Json::array()}}}};
  // FATE validates a source as a full ArtifactSource; a warehouse table may carry none.
  const Json& source = member(table, "source");
  if (source.is_object() && !source.empty()) metadata["source"] = source;
  std::string type_name = text(table, "data_type");
  if (type_name.empty()) type_name = first_type(spec);
  return Json{{"uri", uri}, {"metadata", std::move(metadata)}, {"type_name", type_name}};
}

void collect_channels(const Json& value, std::vector<std::pair<std::string, Json>>* out) {
  if (value.is_array()) {
    for (const Json& item : value) collect_channels(item, out);
    return;
  }
  if (!value.is_object()) return;
  for (const auto& [source, spec] : value.items())
    for (const Json& one : as_list(spec)) out->emplace_back(source, one);
}

bool channel_given(const Json& input_artifacts, const char* kind, const std::string& key) {
  const Json& section = member(input_artifacts, kind);
  return section.is_object() && section.contains(key) && !section[key].is_null() && !section[key].empty();
}

Json allocate_outputs(const Run& run) {
  const TaskContext& ctx = run.ctx;
  std::string data_dir = ctx.data_dir.empty() ? run.cwd + "/data" : ctx.data_dir;
  data_dir = fs::absolute(data_dir).lexically_normal().string();
  Json outputs = Json::object();
  for (const char* kind : {"data", "model", "metric"}) {
    for (const Json& spec : declared(run.definition, "outputs", kind)) {
      std::string name = text(spec, "name");
      std::string type_name = first_type(spec);
      bool multi = flag(spec, "is_multi");
      std::string uri;
      if (type_name == "dataframe" || type_name == "table") {
        uri = "standalone://" + data_dir + "/output/" + ctx.task_id + "/" + ctx.execution_id + "/" + name +
              (multi ? "_{index}" : "_0");
      } else if (std::string(kind) == "metric" || type_name == "json_metric") {
        // The provider posts metrics straight to the server's per-run metric route.
        uri = "http://" + ctx.host + ":" + std::to_string(ctx.port) + "/v2/worker/metric/save/" +
              ctx.execution_id;
      } else {
        uri = "file://" + run.cwd + "/output/" + name + "/" + type_name + (multi ? "_{index}" : "");
      }
      Json artifact = {{"uri", uri}, {"metadata", Json::object()}};
      if (!type_name.empty()) artifact["type_name"] = type_name;
      outputs[name] = std::move(artifact);
    }
  }
  return outputs;
}

Json fate_conf(const Run& run) {
  Json conf = object_or_empty(member(run.ctx.config, "conf"));
  const Json& logger = member(conf, "logger");
  if (!member(logger, "config").is_object())
    conf["logger"] =
        run.log_dir.empty() ? Json{{"config", nullptr}} : Json{{"config", python_logging(run.log_dir)}};
  if (!conf.contains("computing"))
    conf["computing"] = {
        {"type", "standalone"},
        {"metadata",
         {{"computing_id", run.ctx.execution_id}, {"options", {{"data_dir", run.ctx.data_dir}}}}}};
  return conf;
}

Json artifact_source(const Run& run, const std::string& key, const Json& index) {
  return Json{{"task_id", run.ctx.task_id},     {"party_task_id", run.ctx.execution_id},
              {"task_name", run.ctx.task_name}, {"component", run.component},
              {"output_artifact_key", key},     {"output_index", index}};
}

}  // namespace flowstone::fate_worker
