#include "apps/fate_worker/fate_task.hpp"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "apps/fate_worker/fate_spec.hpp"
#include "net/archive.hpp"
#include "net/yaml_json.hpp"

namespace flowstone::fate_worker {
namespace {

namespace fs = std::filesystem;
using worker::ApiAnswer;
using worker::Outcome;
using worker::TaskContext;
using Query = std::vector<std::pair<std::string, std::string>>;

// FATE-Flow's fallback when the job conf names no computing_partitions.
constexpr int kDefaultPartitions = 16;
// The provider's cleanup tears down sessions; one that hangs must not keep a stop waiting forever.
constexpr std::chrono::seconds kCleanupTimeout{120};

// ---- small helpers (the JSON readers are fate_spec.hpp's) ------------------------------------------

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Outcome fail(const std::string& error) {
  return Outcome{false, error};
}

std::string answer_error(const ApiAnswer& answer) {
  if (!answer.reached) return "server not reachable (" + answer.message + ")";
  return "code " + std::to_string(answer.code) + " " + answer.message;
}

std::string tail_of(const CliRun& run) {
  std::string tail = run.stderr_tail;
  while (!tail.empty() && std::isspace(static_cast<unsigned char>(tail.back()))) tail.pop_back();
  return tail.empty() ? "" : ":\n" + tail;
}

std::string read_file(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

// The path part of `scheme://path`, or the whole text when it has no scheme.
std::string uri_path(const std::string& uri) {
  auto at = uri.find("://");
  return at == std::string::npos ? uri : uri.substr(at + 3);
}

// ---- the task's own log lines --------------------------------------------------------------------

// Writes the wrapper's own messages to stdout/stderr (the launcher's task_entrypoint logs) and, when the
// server named a log folder, to <log_dir>/root/<LEVEL> next to the provider's, where the server's
// `log/query` task_* types look. Each file holds its level and above, as Python's FileHandlers do.
class TaskLog {
 public:
  explicit TaskLog(std::string root_dir) : root_dir_(std::move(root_dir)) {}
  void info(const std::string& message) { write(1, "INFO", message); }
  void warn(const std::string& message) { write(2, "WARNING", message); }
  void error(const std::string& message) { write(3, "ERROR", message); }

 private:
  void write(int rank, const char* level, const std::string& message) {
    auto now = std::chrono::system_clock::now();
    std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm local{};
    localtime_r(&seconds, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &local);
    char millis_text[8];
    std::snprintf(millis_text, sizeof millis_text, ",%03d", static_cast<int>(millis));
    std::string line = std::string("[") + level + "][" + stamp + millis_text + "][" +
                       std::to_string(getpid()) + "][flowstone-fate-worker]: " + message + "\n";
    (rank >= 2 ? std::cerr : std::cout) << line << std::flush;
    if (root_dir_.empty()) return;
    static const char* const kFiles[] = {"DEBUG", "INFO", "WARNING", "ERROR"};
    for (int i = 0; i <= rank; ++i) std::ofstream(root_dir_ + "/" + kFiles[i], std::ios::app) << line;
  }

  std::string root_dir_;
};

// ---- step 2: the declared inputs, resolved through the worker API ----------------------------------

// Downloads one model channel's tar, unpacks it under `dir` and describes it as an input artifact.
std::string fetch_model(const Run& run, const Json& channel, const Json& spec, const std::string& dir,
                        Json* artifact) {
  const TaskContext& ctx = run.ctx;
  std::string model_id = text(channel, "model_id");
  std::string model_version = text(channel, "model_version");
  // A task_output_artifact channel names a model of this job; a model_warehouse one may name another.
  if (model_id.empty()) model_id = ctx.model_id;
  if (model_version.empty()) model_version = ctx.model_version;
  std::string producer = text(channel, "producer_task");
  std::string output_key = text(channel, "output_artifact_key");
  if (producer.empty() || output_key.empty()) return "cannot resolve channel " + channel.dump();
  Query query = {{"model_id", model_id},     {"model_version", model_version}, {"role", ctx.role},
                 {"party_id", ctx.party_id}, {"task_name", producer},          {"output_key", output_key}};
  ApiAnswer answer = worker::download_model(ctx, query);
  if (answer.code != 0)
    return "model download of " + producer + "." + output_key + " failed: " + answer_error(answer);
  if (answer.raw.empty()) return "model download of " + producer + "." + output_key + " answered no tar";
  std::vector<net::ArchiveEntry> entries;
  std::string error = net::read_archive(answer.raw, &entries);
  if (!error.empty()) return "model " + producer + "." + output_key + ": " + error;

  std::error_code ec;
  fs::remove_all(dir, ec);  // a previous attempt's files must not mix with this model's
  fs::create_directories(dir, ec);
  if (ec) return "cannot create " + dir + ": " + ec.message();
  Json meta;
  std::string meta_member;
  for (const auto& entry : entries) {
    fs::path target = fs::path(dir) / entry.name;  // read_archive rejects absolute names and ".."
    fs::create_directories(target.parent_path(), ec);
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out.write(entry.data.data(), static_cast<std::streamsize>(entry.data.size()));
    if (!out) return "cannot write " + target.string();
    if (meta_member.empty() && ends_with(entry.name, ".meta.yaml")) {
      meta_member = entry.name;
      error = net::parse_yaml_or_json(entry.data, &meta);
      if (!error.empty()) return "model " + producer + "." + output_key + ": " + entry.name + ": " + error;
    }
  }
  std::string model_key = text(meta, "model_key");
  if (model_key.empty() && !meta_member.empty())
    model_key = meta_member.substr(0, meta_member.size() - std::string(".meta.yaml").size());
  std::string type_name = text(meta, "type_name");
  if (type_name.empty()) type_name = first_type(spec);
  *artifact = Json{{"uri", "file://" + (model_key.empty() ? dir : dir + "/" + model_key)},
                   {"metadata", fate_metadata(meta)},
                   {"type_name", type_name}};
  return "";
}

// Step 2: the declared inputs as TaskConfigSpec input artifacts, keyed by input name.
Outcome resolve_inputs(Run& run, TaskLog& log, Json* inputs) {
  for (const Json& spec : declared(run.definition, "inputs", "data")) {
    std::string name = text(spec, "name");
    bool optional = flag(spec, "optional");
    if (!channel_given(run.ctx.input_artifacts, "data", name)) {
      if (optional) continue;
      return fail("required input data " + name + " of " + run.component + " is not given");
    }
    std::string error;
    std::vector<Json> tables = worker::input_tables(run.ctx, name, &error);
    if (tables.empty()) {
      std::string why = "input data " + name + ": " + (error.empty() ? "resolved to no table" : error);
      // Like FATE-Flow: an optional input whose producer left nothing is simply not given.
      if (optional) {
        log.warn(why + "; optional, so left out");
        continue;
      }
      return fail(why);
    }
    Json artifacts = Json::array();
    for (const Json& table : tables) artifacts.push_back(data_input_artifact(run, table, spec));
    if (flag(spec, "is_multi")) {
      (*inputs)[name] = std::move(artifacts);
    } else {
      if (artifacts.size() > 1) log.warn("input data " + name + " takes one table; using the first");
      (*inputs)[name] = artifacts[0];
    }
    log.info("input data " + name + ": " + (*inputs)[name].dump());
  }
  for (const Json& spec : declared(run.definition, "inputs", "model")) {
    std::string name = text(spec, "name");
    bool optional = flag(spec, "optional");
    std::vector<std::pair<std::string, Json>> channels;
    if (channel_given(run.ctx.input_artifacts, "model", name))
      collect_channels(run.ctx.input_artifacts["model"][name], &channels);
    if (channels.empty()) {
      if (optional) continue;
      return fail("required input model " + name + " of " + run.component + " is not given");
    }
    Json artifacts = Json::array();
    std::string error;
    for (size_t i = 0; i < channels.size() && error.empty(); ++i) {
      std::string dir =
          run.cwd + "/input/model/" + name + (channels.size() > 1 ? "/" + std::to_string(i) : "");
      Json artifact;
      error = fetch_model(run, channels[i].second, spec, dir, &artifact);
      if (error.empty()) artifacts.push_back(std::move(artifact));
    }
    if (!error.empty()) {
      std::string why = "input model " + name + ": " + error;
      if (optional) {
        log.warn(why + "; optional, so left out");
        continue;
      }
      return fail(why);
    }
    (*inputs)[name] = flag(spec, "is_multi") ? artifacts : artifacts[0];
    log.info("input model " + name + ": " + (*inputs)[name].dump());
  }
  return Outcome{};
}

// ---- step 6: what the component produced, back to the server --------------------------------------

Outcome push_data(const Run& run, TaskLog& log, const std::string& key, const Json& artifact, int index) {
  if (member(artifact, "consumed").is_boolean() && !artifact["consumed"].get<bool>()) {
    log.info("data output " + key + " not consumed: not tracked");
    return Outcome{};
  }
  std::string type_name = text(artifact, "type_name");
  std::string uri = text(artifact, "uri");
  const Json& metadata = member(artifact, "metadata");
  std::string ns = text(metadata, "namespace");
  std::string name = text(metadata, "name");
  if (ns.empty() || name.empty()) {
    // Unnamed tables are named by where they were written: <...>/<namespace>/<name>.
    fs::path path = fs::path(uri_path(uri)).lexically_normal();
    if (path.filename().empty()) path = path.parent_path();
    name = path.filename().string();
    ns = path.parent_path().filename().string();
  }
  if (ns.empty() || name.empty()) return fail("data output " + key + " has neither a name nor a usable uri");
  if (type_name == "data_unresolved") {
    // The component wrote a table of its own: it must exist, and is tracked without a uri.
    ApiAnswer found = worker::query_tracking(run.ctx, {{"namespace", ns}, {"name", name}});
    if (found.code != 0)
      return fail("data output " + key + ": table " + ns + "." + name + " not found: " + answer_error(found));
    uri.clear();
  }
  const Json& overview = member(metadata, "data_overview");
  const Json& samples = member(overview, "samples");
  const Json& source = member(metadata, "source");
  int partitions = member(run.ctx.config, "computing_partitions").is_number_integer()
                       ? run.ctx.config["computing_partitions"].get<int>()
                       : kDefaultPartitions;
  Json record = {
      {"meta_data", object_or_empty(member(metadata, "metadata"))},
      {"uri", uri},
      {"output_key", key},
      {"namespace", ns},
      {"name", name},
      {"overview",
       {{"count", member(overview, "count")}, {"samples", samples.is_array() ? samples : Json::array()}}},
      {"partitions", partitions},
      {"source", source.is_object() && !source.empty() ? source : artifact_source(run, key, index)},
      {"data_type", type_name},
      {"index", index}};
  ApiAnswer answer = worker::track_data(run.ctx, record);
  if (answer.code != 0) return fail("tracking data output " + key + " failed: " + answer_error(answer));
  log.info("data output " + key + " tracked as " + ns + "." + name);
  return Outcome{};
}

Outcome push_model(const Run& run, TaskLog& log, const std::string& key, const Json& artifact,
                   const Json& index) {
  std::string uri = text(artifact, "uri");
  if (uri.rfind("file://", 0) != 0) return fail("model output " + key + " is not a file:// uri: " + uri);
  fs::path path = fs::path(uri_path(uri)).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();
  std::string model_key = path.filename().string();
  std::string type_name = text(artifact, "type_name");
  std::vector<net::ArchiveEntry> entries;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::string error = net::add_directory(path.string(), model_key + "/", &entries);
    if (!error.empty()) return fail("model output " + key + ": " + error);
  } else {
    bool ok = false;
    std::string data = read_file(path.string(), &ok);
    if (!ok) return fail("model output " + key + " was declared at " + path.string() + " but not written");
    entries.push_back({model_key, std::move(data)});
  }
  Json meta = fate_metadata(member(artifact, "metadata"));
  meta["model_key"] = model_key;
  meta["type_name"] = type_name;
  meta["index"] = index;
  if (!meta["source"].is_object()) meta["source"] = artifact_source(run, key, index);
  entries.push_back({model_key + ".meta.yaml", meta.dump(2)});  // JSON is YAML
  std::string tar;
  std::string error = net::write_archive(net::ArchiveFormat::tar, entries, &tar);
  if (!error.empty()) return fail("model output " + key + ": cannot build its tar: " + error);
  ApiAnswer answer = worker::save_model(run.ctx, key, type_name, tar);
  if (answer.code != 0) return fail("saving model output " + key + " failed: " + answer_error(answer));
  log.info("model output " + key + " saved (" + std::to_string(tar.size()) + " bytes)");
  return Outcome{};
}

Outcome push_metric(const Run& run, TaskLog& log, const std::string& key, const Json& artifact) {
  std::string uri = text(artifact, "uri");
  if (uri.rfind("http://", 0) == 0 || uri.rfind("https://", 0) == 0)
    return Outcome{};  // posted by the provider
  std::string path = uri_path(uri);
  Json metrics;
  std::string error = net::load_yaml_or_json(path, &metrics);
  if (!error.empty()) return fail("metric output " + key + ": " + error);
  // A file holds a list of MetricData, or one of them.
  if (metrics.is_object()) metrics = Json::array({metrics});
  if (!metrics.is_array()) return fail("metric output " + key + " in " + path + " is not a list of metrics");
  if (metrics.empty()) return Outcome{};
  ApiAnswer answer = worker::save_metrics(run.ctx, metrics);
  if (answer.code != 0) return fail("saving metric output " + key + " failed: " + answer_error(answer));
  log.info("metric output " + key + ": " + std::to_string(metrics.size()) + " metric(s) saved");
  return Outcome{};
}

Outcome push_outputs(const Run& run, TaskLog& log, const Json& io_meta) {
  const Json& outputs = member(io_meta, "outputs");
  // Named copies: a range-for over items() of a temporary would read a destroyed object.
  const Json data = object_or_empty(member(outputs, "data"));
  const Json models = object_or_empty(member(outputs, "model"));
  const Json metrics = object_or_empty(member(outputs, "metric"));
  for (const auto& [key, value] : data.items()) {
    std::vector<Json> artifacts = as_list(value);
    for (size_t i = 0; i < artifacts.size(); ++i) {
      Outcome outcome = push_data(run, log, key, artifacts[i], static_cast<int>(i));
      if (!outcome.success) return outcome;
    }
  }
  for (const auto& [key, value] : models.items()) {
    std::vector<Json> artifacts = as_list(value);
    for (size_t i = 0; i < artifacts.size(); ++i) {
      // Only a multi output's models are indexed; FATE-Flow's model query orders those by it.
      Outcome outcome = push_model(run, log, key, artifacts[i], value.is_array() ? Json(i) : Json());
      if (!outcome.success) return outcome;
    }
  }
  for (const auto& [key, value] : metrics.items()) {
    for (const Json& artifact : as_list(value)) {
      Outcome outcome = push_metric(run, log, key, artifact);
      if (!outcome.success) return outcome;
    }
  }
  return Outcome{};
}

// ---- steps 1 to 6 ---------------------------------------------------------------------------------

Outcome load_definition(Run& run, TaskLog& log) {
  std::string path = run.cwd + "/output/define.yaml";
  std::error_code ec;
  fs::remove(path, ec);  // a stale definition must not pass for this run's
  CliRun cli = run_provider_cli(run.provider,
                                {"artifact-type", "--name", run.component, "--role", run.ctx.role, "--stage",
                                 run.stage, "--output-path", path},
                                {});
  if (!cli.succeeded())
    return fail("artifact-type of component " + run.component + " " + cli.describe() + tail_of(cli));
  std::string error = net::load_yaml_or_json(path, &run.definition);
  if (!error.empty()) return fail("component definition: " + error);
  if (!run.definition.is_object()) return fail("component definition in " + path + " is not a mapping");
  log.info("component " + run.component + " definition: " + run.definition.dump());
  return Outcome{};
}

Outcome execute(Run& run, TaskLog& log) {
  Json inputs = Json::object();
  Outcome outcome = resolve_inputs(run, log, &inputs);
  if (!outcome.success) return outcome;
  const TaskContext& ctx = run.ctx;
  Json task_config = {
      {"job_id", ctx.job_id},
      {"task_id", ctx.task_id},
      {"party_task_id", ctx.execution_id},
      {"task_name", ctx.task_name},
      {"component", run.component},
      {"role", ctx.role},
      {"party_id", ctx.party_id},
      {"stage", run.stage},
      {"parameters", ctx.parameters},
      {"input_artifacts", std::move(inputs)},
      {"output_artifacts", allocate_outputs(run)},
      {"conf", fate_conf(run)},
  };
  std::string config_path = run.cwd + "/input/task_parameters.yaml";
  {
    std::ofstream out(config_path, std::ios::trunc);
    out << task_config.dump(2) << "\n";  // JSON is YAML
    if (!out) return fail("cannot write " + config_path);
  }
  std::string result_path = run.cwd + "/output/task_result.yaml";
  std::error_code ec;
  fs::remove(result_path, ec);  // only this run's result may count
  log.info("executing " + run.component + " with " + config_path);
  CliRun cli = run_provider_cli(
      run.provider, {"execute", "--config", config_path, "--execution-final-meta-path", result_path}, {});
  log.info("component " + run.component + " " + cli.describe());
  Json result;
  std::string error = net::load_yaml_or_json(result_path, &result);
  if (!error.empty() || !result.is_object())
    return fail("component " + run.component + " left no result (code 2008: " + cli.describe() + ")" +
                tail_of(cli));
  const Json& status = member(result, "status");
  const Json& code = member(status, "code");
  if (!code.is_number_integer() || code.get<long long>() != 0) {
    const Json& exceptions = member(status, "exceptions");
    std::string why = exceptions.is_string() ? exceptions.get<std::string>()
                      : exceptions.is_null() ? "status " + status.dump()
                                             : exceptions.dump();
    return fail("component " + run.component + " failed: " + why);
  }
  return push_outputs(run, log, member(result, "io_meta"));
}

}  // namespace

Outcome run_fate_task(const TaskContext& context, const Provider& provider) {
  Run run;
  run.ctx = context;
  run.provider = provider;
  std::error_code ec;
  run.cwd = fs::current_path(ec).string();
  if (ec) return fail("cannot read the working directory: " + ec.message());
  run.component = text(context.config, "component");
  run.stage = text(context.config, "stage");
  if (run.stage.empty()) run.stage = "default";
  if (run.component.empty()) return fail("task config names no component");
  run.log_dir = text(member(member(context.config, "conf"), "logger"), "log_dir");
  std::string root_log;
  if (!run.log_dir.empty()) {
    // The provider's FileHandlers need the folder; without it our own lines stay on stdout/stderr.
    fs::create_directories(run.log_dir + "/root", ec);
    if (!ec) root_log = run.log_dir + "/root";
  }
  TaskLog log(root_log);
  for (const char* dir : {"/input", "/output"}) {
    fs::create_directories(run.cwd + dir, ec);
    if (ec) return fail("cannot create " + run.cwd + dir + ": " + ec.message());
  }
  log.info("fate task " + context.execution_id + ": component " + run.component + ", stage " + run.stage +
           ", python " + provider.python);
  Outcome outcome = load_definition(run, log);
  if (outcome.success) outcome = execute(run, log);
  if (!outcome.success) log.error(outcome.error);
  return outcome;
}

void cleanup_fate_task(const Json& config, const Provider& provider) {
  const Json& conf = member(config, "conf");
  // FATE's TaskCleanupConfigSpec: the sessions to close, read from the env variable named here.
  Json cleanup = {{"computing", object_or_empty(member(conf, "computing"))},
                  {"federation", object_or_empty(member(conf, "federation"))}};
  const std::string env_name = "FATE_TASK_CLEANUP_CONFIG";
  CliRun cli = run_provider_cli(provider, {"cleanup", "--env-name", env_name}, {{env_name, cleanup.dump()}},
                                kCleanupTimeout);
  std::cout << "provider cleanup " << cli.describe() << (cli.succeeded() ? "" : tail_of(cli)) << std::endl;
}

}  // namespace flowstone::fate_worker
