// The worker side of FATE-Flow's worker API, for Flowstone's reference components. A component reads
// its task config from the environment (FATE_TASK_CONFIG or CONFIG, named by --env-name as FATE's
// entrypoint does), does its work, and reports its final status to the address in the config's `mlmd`
// section. A report that fails because the server is down is retried until the server accepts it.
// Single-threaded use.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "events/common/json.hpp"

namespace flowstone::worker {

struct TaskContext {
  Json config;
  std::string job_id;
  std::string task_id;
  std::string execution_id;
  std::string task_name;
  std::string role;
  std::string party_id;
  int task_version = 0;
  Json parameters = Json::object();
  Json input_artifacts = Json::object();
  std::string model_id;
  std::string model_version;
  std::string data_dir;                 // conf.computing.metadata.options.data_dir: where tables are written
  std::vector<std::string> file_roots;  // ...options.file_roots: where input files may be read from
  std::string host = "127.0.0.1";
  uint16_t port = 9380;
};

// What a component's body returns: success, or a failure with its message.
struct Outcome {
  bool success = true;
  std::string error;
};

// A component parameter as text: "" when it is absent or not a string.
std::string text_parameter(const Json& parameters, const char* key);

// Reads the context, runs `body`, reports its outcome. Returns the process exit code (0 on success,
// 2007 & 0xff semantics as FATE: non-zero when the component failed, 2 when the config is unusable).
int run_component(int argc, char** argv, const std::function<Outcome(const TaskContext&)>& body);

// POST /v2/worker/task/status, retried until the server answers. False if it never did.
bool report_status(const TaskContext& context, const std::string& status, const std::string& error);

// ---- the rest of the worker API (spec 1.9), plus Flowstone's relay -----------------------------------
// Each call retries transport errors and code 6000 (server starting) for a while, then gives up.

// The envelope of an answer: code 0 is success; `data` as sent; `raw` the body when it is not JSON.
struct ApiAnswer {
  bool reached = false;  // a response arrived
  int code = -1;
  std::string message;
  Json data;
  std::string raw;
};

// "<call> failed: code <code> <message>" (or "server not reachable"): the error a component fails with.
std::string api_error(const std::string& call, const ApiAnswer& answer);

// POST /v2/worker/metric/save {execution_id, data: metrics}; metrics is a list of MetricData
// ({name, type, groups:[{name,index}], step_axis, data}).
ApiAnswer save_metrics(const TaskContext& context, const Json& metrics);

// POST /v2/worker/data/tracking/save; `record` carries every field but execution_id (added here):
// meta_data, uri, output_key, namespace, name, overview{count,samples}, partitions, source, data_type, index.
ApiAnswer track_data(const TaskContext& context, Json record);

// GET /v2/worker/data/tracking/query: by namespace+name, or by job_id, role, party_id, task_name,
// output_key. On success `data` is a list of {namespace,name,count,meta,engine,path,source,data_type}.
ApiAnswer query_tracking(const TaskContext& context,
                         const std::vector<std::pair<std::string, std::string>>& query);

// The tables behind one of this task's data inputs (input_artifacts.data.<key>), resolved through
// query_tracking: a task output of this job at this party, or a warehouse table {name, namespace}.
// Every channel of the input (a list source gives several) adds its tables, in order. Empty without error
// when the task has no such input (the component decides whether it was required); empty with *error set
// when a channel cannot be resolved or resolves to nothing.
std::vector<Json> input_tables(const TaskContext& context, const std::string& input_key, std::string* error);

// POST /v2/worker/model/save (multipart: model_id, model_version, execution_id, output_key, type_name,
// file = tar). The tar holds the model file(s) and `<model_key>.meta.yaml`.
ApiAnswer save_model(const TaskContext& context, const std::string& output_key, const std::string& type_name,
                     const std::string& tar);

// Builds that tar for one JSON model and saves it: members `<output_key>.json` (the model) and
// `<output_key>.json.meta.yaml` (FATE's artifact Metadata: model_key, type_name json_model, index null,
// source{task_id, party_task_id, task_name, component, output_artifact_key}, model_overview).
ApiAnswer save_json_model(const TaskContext& context, const std::string& output_key, const Json& model);

// GET /v2/worker/model/download: the raw tar in `raw` when code is 0.
ApiAnswer download_model(const TaskContext& context,
                         const std::vector<std::pair<std::string, std::string>>& query);

// The model tars behind one of this task's model inputs (input_artifacts.model.<key>), downloaded with
// download_model: a task output of this job (the job's model_id/model_version, this role and party), or
// a model_warehouse channel's model_id/model_version. Same empty/error rules as input_tables.
std::vector<std::string> input_models(const TaskContext& context, const std::string& input_key,
                                      std::string* error);

// Relay (Flowstone): a small message channel between the parties of one federated task run.
// POST /v2/worker/relay/send {execution_id, dest_role, dest_party_id, key, payload}: the server passes it
// to the destination party's server. GET /v2/worker/relay/receive ?execution_id&src_role&src_party_id&key
// answers the payload, or code 2005 while it has not arrived; relay_receive polls until `timeout_s`.
ApiAnswer relay_send(const TaskContext& context, const std::string& dest_role,
                     const std::string& dest_party_id, const std::string& key, const Json& payload);
ApiAnswer relay_receive(const TaskContext& context, const std::string& src_role,
                        const std::string& src_party_id, const std::string& key, double timeout_s);

// The `noop` behaviour shared by the noop family: parameters `sleep` (seconds), `fail` (bool) with
// `error_message`, `fail_below_version` (fail while task_version is lower, so a retry can succeed).
Outcome noop_behaviour(const TaskContext& context);

// The outputs of the noop family after a success: the JSON model `output_model` ({component, parameters,
// task identity}) unless parameter emit_model is false, and the metric `noop_metric` unless emit_metric is
// false. A failed worker API call fails the task.
Outcome noop_outputs(const TaskContext& context);

}  // namespace flowstone::worker
