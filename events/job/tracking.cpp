#include "events/job/tracking.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "events/job/parts.hpp"
#include "events/job/views.hpp"

namespace flowstone::domain {
namespace {

Decision one_event(int64_t now, JobEventBody body) {
  Decision d;
  d.events.push_back(JobEvent{now, std::move(body), ""});
  return d;
}

// A save from a run that has ended is stale: it changes nothing (spec 11, item 2). Null when the run
// may save; otherwise the decision to answer.
std::optional<Decision> unusable_run(const JobState& state, const std::string& execution_id) {
  const TaskRun* run = state.run_by_execution(execution_id);
  if (!run) return reject(RetCode::task_not_found, "No found task: execution_id[" + execution_id + "]");
  if (is_end(run->party_status)) {
    Decision d;
    d.message = "ignored: task " + execution_id + " already ended (" +
                std::string(to_string(run->party_status)) + ")";
    return d;
  }
  return std::nullopt;
}

TrackedBy tracked_by(const JobState& state, const std::string& execution_id, int64_t at_ms) {
  TrackedBy by;
  by.execution_id = execution_id;
  by.time = at_ms;
  if (const TaskRun* run = state.run_by_execution(execution_id)) {
    by.task_name = run->task_name;
    by.task_version = run->task_version;
    by.party = run->party;
  }
  return by;
}

bool matches(const TrackingDeleted& what, const TrackedBy& by) {
  return (what.task_name.empty() || what.task_name == by.task_name) &&
         (what.party.role.empty() || what.party == by.party);
}

std::string padded(int64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%08lld", static_cast<long long>(n));
  return buf;
}

std::string run_prefix(const std::string& job_id, const TrackedBy& by) {
  return join0({job_id, by.party.role, by.party.party_id, by.task_name, padded(by.task_version)});
}

}  // namespace

std::string metric_problem(const Json& metrics, std::string* field) {
  if (!metrics.is_array()) {
    *field = "data";
    return "Not a valid list.";
  }
  for (size_t i = 0; i < metrics.size(); ++i) {
    const Json& m = metrics[i];
    std::string at = "data[" + std::to_string(i) + "]";
    if (!m.is_object()) {
      *field = at;
      return "Not a valid mapping type.";
    }
    if (!m.contains("name") || !m["name"].is_string() || m["name"].get<std::string>().empty()) {
      *field = at + ".name";
      return "Missing data for required field (a non-empty string).";
    }
    if (!m.contains("data") || !(m["data"].is_array() || m["data"].is_object())) {
      *field = at + ".data";
      return "Missing data for required field (a list or a mapping).";
    }
    for (const char* text_field : {"type", "step_axis"})
      if (m.contains(text_field) && !m[text_field].is_null() && !m[text_field].is_string()) {
        *field = at + "." + text_field;
        return "Not a valid string.";
      }
    if (m.contains("groups") && !m["groups"].is_null()) {
      if (!m["groups"].is_array()) {
        *field = at + ".groups";
        return "Not a valid list.";
      }
      for (const Json& g : m["groups"])
        if (!g.is_object() || !g.contains("name") || !g["name"].is_string()) {
          *field = at + ".groups";
          return "Each group must be a mapping with a string name.";
        }
    }
  }
  return "";
}

std::string table_name_problem(const std::string& value) {
  if (value.empty()) return "must not be empty";
  if (value.find('/') != std::string::npos || value.find('\\') != std::string::npos)
    return "must not contain a path separator";
  if (value == "." || value == ".." || value.find("..") != std::string::npos) return "must not contain '..'";
  if (value.find('\0') != std::string::npos) return "must not contain a NUL character";
  return "";
}

std::string model_storage_key(const std::string& model_id, const std::string& model_version,
                              const PartyRef& party, const std::string& task_name,
                              const std::string& output_key) {
  return model_id + "/" + model_version + "/" + party.role + "/" + party.party_id + "/" + task_name + "/" +
         output_key;
}

// ---- decide -----------------------------------------------------------------------------------------

namespace job {

Decision decide_tracking(const JobState& state, const SaveMetrics& cmd) {
  if (auto stop = unusable_run(state, cmd.execution_id)) return *stop;
  std::string field;
  if (std::string problem = metric_problem(cmd.metrics, &field); !problem.empty())
    return reject(RetCode::invalid_parameter, "Invalid request: " + field + ": " + problem);
  // A batch sent again (a retry after a lost answer) is already recorded: nothing new.
  bool all_known = !cmd.metrics.empty();
  for (const Json& item : cmd.metrics) {
    bool known =
        std::any_of(state.tracking.metrics.begin(), state.tracking.metrics.end(),
                    [&](const auto& r) { return r.by.execution_id == cmd.execution_id && r.metric == item; });
    all_known = all_known && known;
  }
  if (all_known || cmd.metrics.empty()) return Decision{};
  return one_event(cmd.now_ms, MetricsSaved{cmd.execution_id, cmd.metrics});
}

Decision decide_tracking(const JobState& state, const TrackDataOutput& cmd) {
  if (auto stop = unusable_run(state, cmd.execution_id)) return *stop;
  const Json& r = cmd.record;
  for (const char* name : {"namespace", "name"})
    if (std::string problem = table_name_problem(r.value(name, std::string())); !problem.empty())
      return reject(RetCode::invalid_parameter, std::string("Invalid request: ") + name + " " + problem);
  for (const auto& existing : state.tracking.data_outputs)
    if (existing.by.execution_id == cmd.execution_id && existing.record == r) return Decision{};
  return one_event(cmd.now_ms, DataOutputTracked{cmd.execution_id, r});
}

Decision decide_tracking(const JobState& state, const SaveModel& cmd) {
  if (auto stop = unusable_run(state, cmd.model.execution_id)) return *stop;
  for (const auto& existing : state.tracking.models)
    if (existing.model.storage_key == cmd.model.storage_key && existing.model.digest == cmd.model.digest)
      return Decision{};
  return one_event(cmd.now_ms, cmd.model);
}

Decision decide_tracking(const JobState& state, const DeleteTracking& cmd) {
  if (!state.exists) return reject(RetCode::job_not_found, "No found job");
  bool any = false;
  if (cmd.what.kind == "metric") {
    for (const auto& r : state.tracking.metrics) any = any || matches(cmd.what, r.by);
  } else if (cmd.what.kind == "model") {
    for (const auto& r : state.tracking.models)
      any = any || (matches(cmd.what, r.by) &&
                    (cmd.what.output_key.empty() || cmd.what.output_key == r.model.output_key));
  } else {
    return reject(RetCode::invalid_parameter,
                  "Invalid request: unknown tracking kind '" + cmd.what.kind + "'");
  }
  if (!any) {
    Decision d;
    d.data = false;
    return d;
  }
  Decision d = one_event(cmd.now_ms, cmd.what);
  d.data = true;
  return d;
}

// ---- evolve -----------------------------------------------------------------------------------------

void apply(JobState& state, const MetricsSaved& e, int64_t at_ms) {
  TrackedBy by = tracked_by(state, e.execution_id, at_ms);
  for (const Json& item : e.metrics) state.tracking.metrics.push_back({by, item});
}

void apply(JobState& state, const DataOutputTracked& e, int64_t at_ms) {
  auto& outputs = state.tracking.data_outputs;
  std::string key = e.record.value("output_key", std::string());
  int64_t index = e.record.value("index", int64_t{0});
  // Saved again for the same output and index: the later record replaces the earlier.
  outputs.erase(std::remove_if(outputs.begin(), outputs.end(),
                               [&](const DataOutputRecord& r) {
                                 return r.by.execution_id == e.execution_id &&
                                        r.record.value("output_key", std::string()) == key &&
                                        r.record.value("index", int64_t{0}) == index;
                               }),
                outputs.end());
  outputs.push_back({tracked_by(state, e.execution_id, at_ms), e.record});
}

void apply(JobState& state, const ModelSaved& e, int64_t at_ms) {
  auto& models = state.tracking.models;
  models.erase(std::remove_if(models.begin(), models.end(),
                              [&](const ModelRecord& r) { return r.model.storage_key == e.storage_key; }),
               models.end());
  models.push_back({tracked_by(state, e.execution_id, at_ms), e});
}

void apply(JobState& state, const TrackingDeleted& e, int64_t) {
  auto& t = state.tracking;
  if (e.kind == "metric")
    t.metrics.erase(std::remove_if(t.metrics.begin(), t.metrics.end(),
                                   [&](const MetricRecord& r) { return matches(e, r.by); }),
                    t.metrics.end());
  if (e.kind == "model")
    t.models.erase(std::remove_if(t.models.begin(), t.models.end(),
                                  [&](const ModelRecord& r) {
                                    return matches(e, r.by) &&
                                           (e.output_key.empty() || e.output_key == r.model.output_key);
                                  }),
                   t.models.end());
}

}  // namespace job

// ---- views ------------------------------------------------------------------------------------------

void tracking_views(const JobState& s, std::vector<ViewRow>* rows) {
  size_t seq = 0;
  for (const MetricRecord& r : s.tracking.metrics)
    rows->push_back({kMetricsView, run_prefix(s.job_id, r.by) + '\0' + padded(static_cast<int64_t>(seq++)),
                     r.metric.dump()});
  for (const DataOutputRecord& r : s.tracking.data_outputs) {
    Json row = r.record;
    row["job_id"] = s.job_id;
    row["task_name"] = r.by.task_name;
    row["task_version"] = r.by.task_version;
    row["role"] = r.by.party.role;
    row["party_id"] = r.by.party.party_id;
    row["execution_id"] = r.by.execution_id;
    row["create_time"] = r.by.time;
    rows->push_back({kDataOutputsView,
                     run_prefix(s.job_id, r.by) + '\0' + r.record.value("output_key", std::string()) + '\0' +
                         padded(r.record.value("index", int64_t{0})),
                     row.dump()});
  }
  for (const ModelRecord& r : s.tracking.models)
    rows->push_back({kModelsView,
                     model_view_key(r.model.model_id, r.model.model_version, r.by.party, r.by.task_name,
                                    r.model.output_key),
                     model_row(s.job_id, r.by, r.model).dump()});
}

Json model_row(const std::string& job_id, const TrackedBy& by, const ModelSaved& m) {
  return Json{{"job_id", job_id},
              {"model_id", m.model_id},
              {"model_version", m.model_version},
              {"role", by.party.role},
              {"party_id", by.party.party_id},
              {"task_name", by.task_name},
              {"task_version", by.task_version},
              {"execution_id", m.execution_id},
              {"output_key", m.output_key},
              {"type_name", m.type_name},
              {"storage_key", m.storage_key},
              {"storage_engine", "file"},
              {"file", m.file},
              {"size", m.size},
              {"sha256", m.digest},
              {"meta_data", m.meta_data},
              {"create_time", by.time}};
}

std::string model_view_key(const std::string& model_id, const std::string& model_version,
                           const PartyRef& party, const std::string& task_name,
                           const std::string& output_key) {
  return join0({model_id, model_version, party.role, party.party_id, task_name, output_key});
}

std::string tracking_run_prefix(const std::string& job_id, const PartyRef& party,
                                const std::string& task_name, int task_version) {
  TrackedBy by;
  by.party = party;
  by.task_name = task_name;
  by.task_version = task_version;
  return run_prefix(job_id, by) + '\0';
}

}  // namespace flowstone::domain
