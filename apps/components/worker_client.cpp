#include "apps/components/worker_client.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "net/archive.hpp"
#include "net/http_client.hpp"
#include "net/json_io.hpp"
#include "net/multipart.hpp"
#include "net/yaml_json.hpp"

namespace flowstone::worker {
namespace {

using Clock = std::chrono::steady_clock;
using Query = std::vector<std::pair<std::string, std::string>>;

// How long an API call keeps retrying a server that is down or starting (code 6000).
constexpr std::chrono::seconds kApiPatience{120};
// One request's own timeout: models travel in these calls, so it is generous.
constexpr std::chrono::milliseconds kRequestTimeout{60000};

// A config value that FATE writes as a string but a hand-made config may give as a number.
std::string text_of(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  if (value.is_number()) return value.dump();
  return "";
}

std::string member_text(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it == object.end() ? "" : text_of(*it);
}

bool load_context(int argc, char** argv, TaskContext* ctx, std::string* error) {
  std::string env_name = "CONFIG";  // FATE's entrypoint default; the launcher passes FATE_TASK_CONFIG
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--env-name") env_name = argv[i + 1];
  const char* text = std::getenv(env_name.c_str());
  if (!text) {
    *error = "environment variable " + env_name + " with the task config is not set";
    return false;
  }
  // JSON from Flowstone's launcher and in containers (CONFIG); FATE's local launcher writes YAML.
  std::string json_error;
  auto config = net::parse_json(text, &json_error);
  if (!config) {
    Json document;
    std::string yaml_error = net::parse_yaml_or_json(text, &document);
    if (!yaml_error.empty()) {
      *error = "task config in " + env_name + " is neither JSON (" + json_error + ") nor YAML (" +
               yaml_error + ")";
      return false;
    }
    config = std::move(document);
  }
  if (!config->is_object()) {
    *error = "task config in " + env_name + " is not a mapping";
    return false;
  }
  ctx->config = *config;
  ctx->job_id = member_text(*config, "job_id");
  ctx->task_id = member_text(*config, "task_id");
  ctx->execution_id = member_text(*config, "party_task_id");
  ctx->task_name = member_text(*config, "task_name");
  ctx->role = member_text(*config, "role");
  ctx->party_id = member_text(*config, "party_id");
  ctx->task_version = std::atoi(member_text(*config, "task_version").c_str());
  ctx->model_id = member_text(*config, "model_id");
  ctx->model_version = member_text(*config, "model_version");
  if (config->contains("parameters") && (*config)["parameters"].is_object())
    ctx->parameters = (*config)["parameters"];
  if (config->contains("input_artifacts") && (*config)["input_artifacts"].is_object())
    ctx->input_artifacts = (*config)["input_artifacts"];
  const Json* options = &*config;
  for (const char* key : {"conf", "computing", "metadata", "options"}) {
    if (!options->is_object() || !options->contains(key)) {
      options = nullptr;
      break;
    }
    options = &(*options)[key];
  }
  if (options) {
    ctx->data_dir = member_text(*options, "data_dir");
    if (auto roots = options->find("file_roots"); roots != options->end() && roots->is_array())
      for (const Json& root : *roots)
        if (root.is_string()) ctx->file_roots.push_back(root.get<std::string>());
  }
  const Json* meta = nullptr;
  if (config->contains("mlmd") && (*config)["mlmd"].is_object() && (*config)["mlmd"].contains("metadata"))
    meta = &(*config)["mlmd"]["metadata"];
  if (!meta || !meta->is_object() || ctx->execution_id.empty()) {
    *error = "task config lacks party_task_id or mlmd.metadata";
    return false;
  }
  if (meta->contains("host") && (*meta)["host"].is_string()) ctx->host = (*meta)["host"].get<std::string>();
  int port = std::atoi(member_text(*meta, "port").c_str());
  if (port > 0 && port < 65536) ctx->port = static_cast<uint16_t>(port);
  return true;
}

// Reads a response as the FATE-Flow envelope; a body that is not JSON (a model tar) is kept in `raw`,
// with code 0 when the status is 200.
ApiAnswer to_answer(const net::HttpResult& result) {
  ApiAnswer answer;
  answer.reached = result.ok;
  if (!result.ok) {
    answer.message = result.error;
    return answer;
  }
  auto first = result.body.find_first_not_of(" \t\r\n");
  bool looks_json = result.content_type.find("json") != std::string::npos ||
                    (first != std::string::npos && result.body[first] == '{');
  if (looks_json) {
    std::string parse_error;
    auto body = net::parse_json(result.body, &parse_error);
    if (body && body->is_object() && body->contains("code") && (*body)["code"].is_number_integer()) {
      answer.code = (*body)["code"].get<int>();
      answer.message = member_text(*body, "message");
      if (body->contains("data")) answer.data = (*body)["data"];
      return answer;
    }
  }
  answer.raw = result.body;
  if (result.status == 200) {
    answer.code = 0;
  } else {
    answer.message = "HTTP " + std::to_string(result.status) + ": " + result.body.substr(0, 300);
  }
  return answer;
}

struct RetryPolicy {
  Clock::duration patience = kApiPatience;
  bool retry_unparsed = false;  // also retry answers that are not the JSON envelope
};

// Every worker API call goes through here: retries transport errors and code 6000 (the server is
// starting or could not store the request yet) with a growing delay until `policy.patience` has passed.
ApiAnswer call_api(const TaskContext& context, const std::string& method, const std::string& target,
                   const std::string& body, const std::string& content_type, const RetryPolicy& policy = {}) {
  net::HttpCall call;
  call.method = method;
  call.host = context.host;
  call.port = context.port;
  call.target = target;
  call.body = body;
  call.content_type = content_type;
  call.timeout = kRequestTimeout;
  auto delay = std::chrono::milliseconds(100);
  const auto deadline = Clock::now() + policy.patience;
  while (true) {
    ApiAnswer answer = to_answer(net::http_call(call));
    bool gateway = answer.code == -1 &&
                   (answer.message.rfind("HTTP 502", 0) == 0 || answer.message.rfind("HTTP 503", 0) == 0 ||
                    answer.message.rfind("HTTP 504", 0) == 0);
    bool retry =
        !answer.reached || answer.code == 6000 || gateway || (policy.retry_unparsed && answer.code == -1);
    if (!retry || Clock::now() + delay >= deadline) return answer;
    std::cerr << method << " " << target << " not answered yet ("
              << (answer.reached ? "code " + std::to_string(answer.code) + " " + answer.message
                                 : answer.message)
              << "), not accepted yet; retrying" << std::endl;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(5000));
  }
}

ApiAnswer post_json(const TaskContext& context, const std::string& route, const Json& body) {
  return call_api(context, "POST", route, body.dump(), "application/json");
}

ApiAnswer get_query(const TaskContext& context, const std::string& route, const Query& query) {
  return call_api(context, "GET", route + "?" + net::encode_query(query), "", "application/json");
}

// The channel specs of one input (a channel, a list of channels, or a {source: spec | [spec]} map) as
// (source, spec) pairs.
void collect_channels(const Json& value, std::vector<std::pair<std::string, Json>>* out) {
  if (value.is_array()) {
    for (const Json& item : value) collect_channels(item, out);
    return;
  }
  if (!value.is_object()) return;
  for (const auto& [source, spec] : value.items()) {
    if (spec.is_array()) {
      for (const Json& one : spec) out->emplace_back(source, one);
    } else {
      out->emplace_back(source, spec);
    }
  }
}

}  // namespace

std::string api_error(const std::string& call, const ApiAnswer& answer) {
  if (!answer.reached) return call + " failed: server not reachable (" + answer.message + ")";
  return call + " failed: code " + std::to_string(answer.code) + " " + answer.message;
}

bool report_status(const TaskContext& context, const std::string& status, const std::string& error) {
  RetryPolicy policy;
  policy.patience = std::chrono::hours(24);
  policy.retry_unparsed = true;
  ApiAnswer answer =
      call_api(context, "POST", "/v2/worker/task/status",
               Json{{"execution_id", context.execution_id}, {"status", status}, {"error", error}}.dump(),
               "application/json", policy);
  if (!answer.reached || answer.code == 6000 || answer.code == -1) return false;
  if (answer.code != 0) std::cerr << "report answered code " << answer.code << " " << answer.message << "\n";
  // Tells the launcher (our cwd is the task folder) that it need not report this exit itself.
  if (status != "running") std::ofstream("status_reported") << status << "\n";
  return true;
}

ApiAnswer save_metrics(const TaskContext& context, const Json& metrics) {
  Json data = metrics.is_array() ? metrics : Json::array({metrics});
  return post_json(context, "/v2/worker/metric/save",
                   Json{{"execution_id", context.execution_id}, {"data", std::move(data)}});
}

ApiAnswer track_data(const TaskContext& context, Json record) {
  record["execution_id"] = context.execution_id;
  return post_json(context, "/v2/worker/data/tracking/save", record);
}

ApiAnswer query_tracking(const TaskContext& context, const Query& query) {
  return get_query(context, "/v2/worker/data/tracking/query", query);
}

std::vector<Json> input_tables(const TaskContext& context, const std::string& input_key, std::string* error) {
  std::vector<Json> tables;
  error->clear();
  const Json& data = context.input_artifacts.contains("data") ? context.input_artifacts["data"] : Json();
  if (!data.is_object() || !data.contains(input_key) || data[input_key].is_null()) return tables;
  std::vector<std::pair<std::string, Json>> channels;
  collect_channels(data[input_key], &channels);
  if (channels.empty()) {
    *error = "input data " + input_key + " has no channel: " + data[input_key].dump();
    return {};
  }
  for (const auto& [source, spec] : channels) {
    Query query;
    std::string producer = member_text(spec, "producer_task");
    std::string output_key = member_text(spec, "output_artifact_key");
    if (source == "data_warehouse" && !member_text(spec, "name").empty() &&
        !member_text(spec, "namespace").empty()) {
      query = {{"namespace", member_text(spec, "namespace")}, {"name", member_text(spec, "name")}};
    } else if ((source == "task_output_artifact" || source == "data_warehouse") && !producer.empty() &&
               !output_key.empty()) {
      std::string job_id = member_text(spec, "job_id");
      query = {{"job_id", job_id.empty() ? context.job_id : job_id},
               {"role", context.role},
               {"party_id", context.party_id},
               {"task_name", producer},
               {"output_key", output_key}};
    } else {
      *error = "input data " + input_key + ": cannot resolve channel " + source + " " + spec.dump();
      return {};
    }
    ApiAnswer answer = query_tracking(context, query);
    if (answer.code != 0) {
      *error = api_error("query_tracking(" + net::encode_query(query) + ") for input " + input_key, answer);
      return {};
    }
    if (answer.data.is_array()) {
      for (const Json& table : answer.data) tables.push_back(table);
    } else if (answer.data.is_object()) {
      tables.push_back(answer.data);
    }
  }
  if (tables.empty()) *error = "input data " + input_key + " resolved to no table";
  return tables;
}

ApiAnswer save_model(const TaskContext& context, const std::string& output_key, const std::string& type_name,
                     const std::string& tar) {
  std::vector<net::FormPart> parts;
  auto field = [&parts](const std::string& name, const std::string& value) {
    net::FormPart part;
    part.name = name;
    part.data = value;
    parts.push_back(std::move(part));
  };
  field("model_id", context.model_id);
  field("model_version", context.model_version);
  field("execution_id", context.execution_id);
  field("output_key", output_key);
  field("type_name", type_name);
  net::FormPart file;
  file.name = "file";
  file.filename = output_key + ".tar";
  file.content_type = "application/x-tar";
  file.data = tar;
  parts.push_back(std::move(file));
  std::string content_type;
  std::string body = net::build_multipart(parts, &content_type);
  return call_api(context, "POST", "/v2/worker/model/save", body, content_type);
}

ApiAnswer save_json_model(const TaskContext& context, const std::string& output_key, const Json& model) {
  const std::string model_key = output_key + ".json";
  Json meta = {
      {"metadata", Json::object()},
      {"name", nullptr},
      {"namespace", nullptr},
      {"model_overview", Json::object()},
      {"data_overview", nullptr},
      {"source",
       {{"task_id", context.task_id},
        {"party_task_id", context.execution_id},
        {"task_name", context.task_name},
        {"component", member_text(context.config, "component")},
        {"output_artifact_key", output_key},
        {"output_index", nullptr}}},
      {"model_key", model_key},
      {"type_name", "json_model"},
      {"index", nullptr},
  };
  std::string tar;
  // JSON is YAML: the meta member is written as JSON text.
  std::string error = net::write_archive(
      net::ArchiveFormat::tar, {{model_key, model.dump(2)}, {model_key + ".meta.yaml", meta.dump(2)}}, &tar);
  if (!error.empty()) {
    ApiAnswer answer;
    answer.message = "cannot build the model tar: " + error;
    return answer;
  }
  return save_model(context, output_key, "json_model", tar);
}

ApiAnswer download_model(const TaskContext& context, const Query& query) {
  return get_query(context, "/v2/worker/model/download", query);
}

std::vector<std::string> input_models(const TaskContext& context, const std::string& input_key,
                                      std::string* error) {
  std::vector<std::string> tars;
  error->clear();
  const Json& models = context.input_artifacts.contains("model") ? context.input_artifacts["model"] : Json();
  if (!models.is_object() || !models.contains(input_key) || models[input_key].is_null()) return tars;
  std::vector<std::pair<std::string, Json>> channels;
  collect_channels(models[input_key], &channels);
  if (channels.empty()) {
    *error = "input model " + input_key + " has no channel: " + models[input_key].dump();
    return {};
  }
  for (const auto& [source, spec] : channels) {
    std::string producer = member_text(spec, "producer_task");
    std::string output_key = member_text(spec, "output_artifact_key");
    std::string model_id = context.model_id;
    std::string model_version = context.model_version;
    if (source == "model_warehouse") {
      model_id = member_text(spec, "model_id");
      model_version = member_text(spec, "model_version");
    } else if (source != "task_output_artifact") {
      model_id.clear();
    }
    if (producer.empty() || output_key.empty() || model_id.empty()) {
      *error = "input model " + input_key + ": cannot resolve channel " + source + " " + spec.dump();
      return {};
    }
    const Query query = {{"model_id", model_id},  {"model_version", model_version},
                         {"role", context.role},  {"party_id", context.party_id},
                         {"task_name", producer}, {"output_key", output_key}};
    ApiAnswer answer = download_model(context, query);
    if (answer.code != 0 || answer.raw.empty()) {
      *error = api_error("download_model(" + net::encode_query(query) + ") for input " + input_key, answer);
      return {};
    }
    tars.push_back(std::move(answer.raw));
  }
  return tars;
}

ApiAnswer relay_send(const TaskContext& context, const std::string& dest_role,
                     const std::string& dest_party_id, const std::string& key, const Json& payload) {
  return post_json(context, "/v2/worker/relay/send",
                   Json{{"execution_id", context.execution_id},
                        {"dest_role", dest_role},
                        {"dest_party_id", dest_party_id},
                        {"key", key},
                        {"payload", payload}});
}

ApiAnswer relay_receive(const TaskContext& context, const std::string& src_role,
                        const std::string& src_party_id, const std::string& key, double timeout_s) {
  const Query query = {{"execution_id", context.execution_id},
                       {"src_role", src_role},
                       {"src_party_id", src_party_id},
                       {"key", key}};
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  auto delay = std::chrono::milliseconds(200);
  while (true) {
    ApiAnswer answer = get_query(context, "/v2/worker/relay/receive", query);
    if (answer.code != 2005) return answer;  // 2005: not arrived yet
    if (Clock::now() + delay >= deadline) {
      answer.message = "no message " + key + " from " + src_role + " " + src_party_id + " within " +
                       std::to_string(static_cast<long long>(timeout_s)) +
                       " s (last answer: " + answer.message + ")";
      return answer;
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(2000));
  }
}

std::string text_parameter(const Json& parameters, const char* key) {
  auto it = parameters.find(key);
  return it != parameters.end() && it->is_string() ? it->get<std::string>() : "";
}

int run_component(int argc, char** argv, const std::function<Outcome(const TaskContext&)>& body) {
  TaskContext context;
  std::string error;
  if (!load_context(argc, argv, &context, &error)) {
    std::cerr << "cannot start: " << error << "\n";
    return 2;
  }
  std::cout << "task " << context.execution_id << " (" << context.config.value("component", "")
            << ") starting" << std::endl;
  Outcome outcome;
  try {
    outcome = body(context);
  } catch (const std::exception& e) {
    outcome = Outcome{false, std::string("component raised: ") + e.what()};
  }
  std::cout << "task " << context.execution_id
            << (outcome.success ? " succeeded" : " failed: " + outcome.error) << std::endl;
  if (!report_status(context, outcome.success ? "success" : "failed", outcome.error)) return 3;
  return outcome.success ? 0 : 1;
}

Outcome noop_behaviour(const TaskContext& context) {
  const Json& p = context.parameters;
  double sleep_s = p.contains("sleep") && p["sleep"].is_number() ? p["sleep"].get<double>() : 0.0;
  if (sleep_s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(sleep_s));
  if (p.contains("fail") && p["fail"].is_boolean() && p["fail"].get<bool>())
    return Outcome{false,
                   p.value("error_message", std::string("noop failed as asked (parameter fail: true)"))};
  if (p.contains("fail_below_version") && p["fail_below_version"].is_number_integer()) {
    int below = p["fail_below_version"].get<int>();
    if (context.task_version < below)
      return Outcome{false, "noop fails below version " + std::to_string(below) + " (this is version " +
                                std::to_string(context.task_version) + ")"};
  }
  return Outcome{};
}

Outcome noop_outputs(const TaskContext& context) {
  const Json& p = context.parameters;
  auto enabled = [&p](const char* key) {
    return !(p.contains(key) && p[key].is_boolean() && !p[key].get<bool>());
  };
  if (enabled("emit_model")) {
    Json model = {{"component", member_text(context.config, "component")},
                  {"parameters", context.parameters},
                  {"task",
                   {{"job_id", context.job_id},
                    {"task_id", context.task_id},
                    {"task_version", context.task_version},
                    {"task_name", context.task_name},
                    {"role", context.role},
                    {"party_id", context.party_id},
                    {"execution_id", context.execution_id}}}};
    ApiAnswer answer = save_json_model(context, "output_model", model);
    if (answer.code != 0) return Outcome{false, api_error("save_json_model(output_model)", answer)};
  }
  if (enabled("emit_metric")) {
    Json metric = {{"name", "noop_metric"},
                   {"type", "noop"},
                   {"groups", Json::array({Json{{"name", "default"}, {"index", nullptr}}})},
                   {"step_axis", nullptr},
                   {"data", Json::array({Json{{"metric", Json::array({1.0})}, {"step", 0}}})}};
    ApiAnswer answer = save_metrics(context, Json::array({metric}));
    if (answer.code != 0) return Outcome{false, api_error("save_metrics(noop_metric)", answer)};
  }
  // A loss-like curve, as an algorithm saves one per iteration: loss = 1 / (1 + step / 2).
  const int steps =
      p.contains("loss_steps") && p["loss_steps"].is_number_integer() ? p["loss_steps"].get<int>() : 0;
  if (steps > 0) {
    Json points = Json::array();
    for (int step = 0; step < steps; ++step)
      points.push_back(Json{{"metric", Json::array({1.0 / (1.0 + step / 2.0)})}, {"step", step}});
    Json loss = {{"name", "loss"},
                 {"type", "loss"},
                 {"groups", Json::array({Json{{"name", "train"}, {"index", nullptr}}})},
                 {"step_axis", "iterations"},
                 {"data", std::move(points)}};
    ApiAnswer answer = save_metrics(context, Json::array({loss}));
    if (answer.code != 0) return Outcome{false, api_error("save_metrics(loss)", answer)};
  }
  return Outcome{};
}

}  // namespace flowstone::worker
