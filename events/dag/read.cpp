// read_dag: the trusting reader of a dag_schema that was validated when it was accepted (the one a JobCreated
// of any build records). It checks nothing and refuses nothing, so a rule added to the validator later never
// changes how an old job replays; it normalises as parse_dag does (nulls mean absent, party ids are text,
// party_tasks in one shape). A value of an unexpected type reads as absent.
#include <optional>

#include "events/dag/dag.hpp"
#include "events/dag/syntax.hpp"

namespace flowstone::domain {
namespace {

using namespace dag_syntax;

std::string text(const Json* v) {
  if (!v) return "";
  if (v->is_string()) return v->get<std::string>();
  return v->is_number_integer() ? v->dump() : "";
}

std::vector<PartyRef> read_parties(const Json* v) {
  std::vector<PartyRef> out;
  if (!v || !v->is_array()) return out;
  for (const Json& spec : *v) {
    const Json* ids = member(spec, "party_id");
    if (!ids || !ids->is_array()) continue;
    const std::string role = text(member(spec, "role"));
    for (const Json& id : *ids) out.push_back(PartyRef{role, text(&id)});
  }
  return out;
}

std::optional<std::vector<PartyRef>> read_optional_parties(const Json& owner) {
  std::vector<PartyRef> parties = read_parties(member(owner, "parties"));
  if (parties.empty()) return std::nullopt;
  return parties;
}

Json read_job_conf(const Json* v) {
  Json conf = v ? without_nulls(*v) : Json::object();
  for (const char* id : {"initiator_party_id", "scheduler_party_id"})
    if (conf.contains(id)) conf[id] = text(&conf[id]);
  for (const char* nested : {"inheritance", "model_warehouse", "task"})
    if (conf.contains(nested)) conf[nested] = without_nulls(conf[nested]);
  return conf;
}

std::vector<InputChannel> read_inputs(const Json* v) {
  std::vector<InputChannel> out;
  if (!v) return out;
  for (const char* kind : {"data", "model"}) {
    const Json* by_key = member(*v, kind);
    if (!by_key || !by_key->is_object()) continue;
    for (const auto& input : by_key->items()) {
      if (!input.value().is_object()) continue;
      for (const auto& src : input.value().items()) {
        const Json& value = src.value();
        if (value.is_null()) continue;
        const Json channels = value.is_array() ? value : Json::array({value});
        for (const Json& spec : channels) {
          InputChannel channel;
          channel.kind = kind;
          channel.input_key = input.key();
          channel.source = src.key();
          channel.spec = without_nulls(spec);
          channel.parties = read_optional_parties(spec);
          if (channel.source != kSourceDataWarehouse) {
            channel.producer_task = text(member(spec, "producer_task"));
            channel.output_artifact_key = text(member(spec, "output_artifact_key"));
          }
          out.push_back(std::move(channel));
        }
      }
    }
  }
  return out;
}

TaskSpec read_task(const std::string& name, const Json& v) {
  TaskSpec task;
  task.name = name;
  task.component_ref = text(member(v, "component_ref"));
  task.stage = text(member(v, "stage"));
  task.parties = read_optional_parties(v);
  if (const Json* params = member(v, "parameters"); params && params->is_object()) task.parameters = *params;
  if (const Json* conf = member(v, "conf")) task.conf = without_nulls(*conf);
  task.inputs = read_inputs(member(v, "inputs"));
  return task;
}

Json read_party_tasks(const Json* v) {
  Json out = Json::object();
  if (!v || !v->is_object()) return out;
  for (const auto& site : v->items()) {
    if (!site.value().is_object()) continue;
    Json tasks = Json::object();
    if (const Json* tasks_v = member(site.value(), "tasks"); tasks_v && tasks_v->is_object()) {
      for (const auto& t : tasks_v->items()) {
        Json entry = Json::object();
        if (const Json* params = member(t.value(), "parameters")) entry["parameters"] = *params;
        if (const Json* conf = member(t.value(), "conf")) entry["conf"] = without_nulls(*conf);
        tasks[t.key()] = std::move(entry);
      }
    }
    const Json* conf = member(site.value(), "conf");
    out[site.key()] = {{"parties", parties_json(read_parties(member(site.value(), "parties")))},
                       {"tasks", std::move(tasks)},
                       {"conf", conf ? without_nulls(*conf) : Json::object()}};
  }
  return out;
}

}  // namespace

Dag read_dag(const Json& schema) {
  Dag dag;
  dag.raw = schema;
  dag.schema_version = text(member(schema, "schema_version"));
  if (const Json* kind = member(schema, "kind")) dag.kind = text(kind);
  const Json* body = member(schema, "dag");
  if (!body) return dag;
  dag.parties = read_parties(member(*body, "parties"));
  dag.conf = read_job_conf(member(*body, "conf"));
  dag.stage = text(member(*body, "stage"));
  if (const Json* tasks = member(*body, "tasks"); tasks && tasks->is_object())
    for (const auto& t : tasks->items()) dag.tasks.push_back(read_task(t.key(), t.value()));
  dag.party_tasks = read_party_tasks(member(*body, "party_tasks"));
  return dag;
}

}  // namespace flowstone::domain
