// What a job's task runs produce, as part of the Job aggregate: metrics, data outputs (tracked tables)
// and models, each recorded by an event in the job's stream, so the audit history shows what every task
// produced and a rebuild restores every view of it. A record names its run by execution_id; the run's
// task, version and party are resolved when the event is applied.
//
// The bodies are FATE's (spec 1.9, 7.4): a metric item {name, type, groups, step_axis, data}, a data
// tracking record {output_key, index, namespace, name, uri, meta_data, overview, partitions, source,
// data_type}, a model {output_key, type_name, storage key, meta_data = the tar's parsed *.meta.yaml}.
// They are free-form JSON in FATE too, so they travel as JSON. Pure; not thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "events/common/json.hpp"
#include "events/dag/dag.hpp"

namespace flowstone::domain {

// ---- events ---------------------------------------------------------------------------------------

struct MetricsSaved {  // POST /v2/worker/metric/save: a batch of metric items
  std::string execution_id;
  Json metrics;  // list of MetricData
};
struct DataOutputTracked {  // POST /v2/worker/data/tracking/save
  std::string execution_id;
  Json record;
};
struct ModelSaved {  // POST /v2/worker/model/save: the tar is stored at `file` before this event
  std::string execution_id;
  std::string output_key, type_name, model_id, model_version, storage_key, file, digest;
  int64_t size = 0;
  Json meta_data;  // list of the tar's parsed *.meta.yaml members
};
struct TrackingDeleted {   // output/metric/delete, output/model/delete, model/delete
  std::string kind;        // "metric" or "model"
  std::string task_name;   // empty: every task
  PartyRef party;          // empty role: every party
  std::string output_key;  // models only; empty: every key
};

// ---- records (state) ------------------------------------------------------------------------------

struct TrackedBy {  // the run a record came from
  std::string task_name;
  int task_version = 0;
  PartyRef party;
  std::string execution_id;
  int64_t time = 0;
};
struct MetricRecord {
  TrackedBy by;
  Json metric;
};
struct DataOutputRecord {
  TrackedBy by;
  Json record;
};
struct ModelRecord {
  TrackedBy by;
  ModelSaved model;
};
struct Tracking {
  std::vector<MetricRecord> metrics;
  std::vector<DataOutputRecord> data_outputs;
  std::vector<ModelRecord> models;
};

// ---- commands -------------------------------------------------------------------------------------

struct SaveMetrics {
  std::string execution_id;
  Json metrics;
  int64_t now_ms = 0;
};
struct TrackDataOutput {
  std::string execution_id;
  Json record;
  int64_t now_ms = 0;
};
struct SaveModel {  // the host stored the tar first; `model.execution_id` names the run
  ModelSaved model;
  int64_t now_ms = 0;
};
struct DeleteTracking {
  TrackingDeleted what;
  int64_t now_ms = 0;
};

// ---- validation of the worker's bodies (shared by the route and the domain) -----------------------

// The first problem of a metric/save `data` list: "" when it is a list of MetricData; else the offending
// field ("data[2].name") in *field and the problem as the result.
std::string metric_problem(const Json& metrics, std::string* field);

// Why a table name or namespace cannot be used ("" if it can): empty, a path separator, "..".
std::string table_name_problem(const std::string& value);

// A model's row in the models views (a job's, or an imported one with an empty job_id).
Json model_row(const std::string& job_id, const TrackedBy& by, const ModelSaved& model);

// FATE's storage key of a model: <model_id>/<model_version>/<role>/<party_id>/<task_name>/<output_key>.
std::string model_storage_key(const std::string& model_id, const std::string& model_version,
                              const PartyRef& party, const std::string& task_name,
                              const std::string& output_key);

}  // namespace flowstone::domain
