// Strict DAG validation. FATE-Flow's own model falls back to `Any` when the DAG does not validate and fails
// later at partner create (spec 11.18); here every problem is reported up front with the offending field.
#include <algorithm>
#include <initializer_list>
#include <set>
#include <string_view>
#include <utility>

#include "events/dag/dag.hpp"
#include "events/dag/syntax.hpp"

namespace flowstone::domain {
namespace {

using namespace dag_syntax;

// Thrown inside the parser only; parse_dag turns it into a DagError. Validation stops at the first problem.
struct Invalid {
  std::string field;
  std::string reason;
};

[[noreturn]] void fail(std::string field, std::string reason) {
  throw Invalid{std::move(field), std::move(reason)};
}

std::string sub(const std::string& path, std::string_view key) {
  std::string out = path;
  out += '.';
  out += key;
  return out;
}
std::string sub(const std::string& path, size_t index) {
  return sub(path, std::to_string(index));
}

std::string in_quotes(std::string_view s) {
  return "'" + std::string(s) + "'";
}

bool one_of(std::string_view value, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

const Json& require_object(const Json& v, const std::string& path) {
  if (!v.is_object()) fail(path, "must be an object");
  return v;
}

const std::string& require_string(const Json& v, const std::string& path) {
  if (!v.is_string()) fail(path, "must be a string");
  return v.get_ref<const std::string&>();
}

const std::string& require_nonempty_string(const Json& v, const std::string& path) {
  const std::string& s = require_string(v, path);
  if (s.empty()) fail(path, "must not be empty");
  return s;
}

bool is_positive(const Json& v) {
  return v.is_number_unsigned() ? v.get<uint64_t>() > 0 : v.get<int64_t>() > 0;
}

void require_int(const Json& v, const std::string& path) {
  if (!v.is_number_integer()) fail(path, "must be an integer");
}

void require_positive_int(const Json& v, const std::string& path) {
  if (!v.is_number_integer() || !is_positive(v)) fail(path, "must be an integer > 0");
}

void require_non_negative_int(const Json& v, const std::string& path) {
  if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<int64_t>() < 0)) {
    fail(path, "must be an integer >= 0");
  }
}

// Users write `party_id: [9999]` in YAML; FATE's pydantic model coerces integers to strings, so do we.
std::string party_id_string(const Json& v, const std::string& path) {
  if (v.is_number_integer()) return v.dump();
  return require_nonempty_string(v, path);
}

void require_string_or_int(const Json& v, const std::string& path) {
  if (!v.is_string() && !v.is_number_integer()) fail(path, "must be a string or an integer");
}

void require_string_list(const Json& v, const std::string& path) {
  if (!v.is_array()) fail(path, "must be a list of strings");
  for (size_t i = 0; i < v.size(); ++i) require_string(v[i], sub(path, i));
}

// A list of PartySpec {role, party_id: [..]}, flattened. `universe` (dag.parties) is checked when given.
// An empty list is returned as such; callers decide whether that means "absent" (FATE treats [] as unset).
std::vector<PartyRef> parse_parties(const Json& v, const std::string& path,
                                    const std::vector<PartyRef>* universe) {
  if (!v.is_array()) fail(path, "must be a list of parties {role, party_id}");
  std::vector<PartyRef> out;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string at = sub(path, i);
    const Json& spec = require_object(v[i], at);
    const Json* role = member(spec, "role");
    if (!role) fail(sub(at, "role"), "required");
    const std::string& role_name = require_string(*role, sub(at, "role"));
    if (!one_of(role_name, {"guest", "host", "arbiter", "local"})) {
      fail(sub(at, "role"),
           "unknown role " + in_quotes(role_name) + " (expected guest, host, arbiter or local)");
    }
    const std::string ids_path = sub(at, "party_id");
    const Json* ids = member(spec, "party_id");
    if (!ids) fail(ids_path, "required");
    if (!ids->is_array()) fail(ids_path, "must be a list of party ids");
    if (ids->empty()) fail(ids_path, "must list at least one party id");
    for (size_t j = 0; j < ids->size(); ++j) {
      const std::string id_path = sub(ids_path, j);
      PartyRef party{role_name, party_id_string((*ids)[j], id_path)};
      if (contains(out, party))
        fail(id_path, "party " + role_name + " " + party.party_id + " is listed twice");
      if (universe && !contains(*universe, party)) {
        fail(id_path, "party " + role_name + " " + party.party_id + " is not in dag.parties");
      }
      out.push_back(std::move(party));
    }
  }
  return out;
}

std::optional<std::vector<PartyRef>> parse_optional_parties(const Json& owner, const std::string& path,
                                                            const std::vector<PartyRef>& universe) {
  const Json* v = member(owner, "parties");
  if (!v) return std::nullopt;
  std::vector<PartyRef> parties = parse_parties(*v, sub(path, "parties"), &universe);
  if (parties.empty()) return std::nullopt;
  return parties;
}

// TaskConfSpec keys (dag.conf.task, tasks[T].conf, party_tasks conf); other keys pass through untouched.
Json parse_task_conf(const Json& v, const std::string& path) {
  Json conf = without_nulls(require_object(v, path));
  for (const auto& item : conf.items()) {
    const std::string& key = item.key();
    const Json& value = item.value();
    const std::string at = sub(path, key);
    if (key == "engine_run") {
      require_object(value, at);
    } else if (key == "provider" || key == "launcher_name") {
      require_string(value, at);
    } else if (key == "timeout") {
      require_positive_int(value, at);
    }
  }
  return conf;
}

Json parse_job_conf(const Json& v, const std::string& path) {
  Json conf = without_nulls(require_object(v, path));
  for (auto& item : conf.items()) {
    const std::string& key = item.key();
    Json& value = item.value();
    const std::string at = sub(path, key);
    if (key == "initiator_party_id" || key == "scheduler_party_id") {
      value = party_id_string(value, at);
    } else if (key == "priority") {
      require_int(value, at);
    } else if (key == "cores" || key == "computing_partitions" || key == "timeout") {
      require_positive_int(value, at);
    } else if (key == "auto_retries") {
      require_non_negative_int(value, at);
    } else if (key == "sync_type") {
      if (!one_of(require_string(value, at), {"poll", "callback"})) {
        fail(at, "must be \"poll\" or \"callback\"");
      }
    } else if (key == "model_id") {
      require_string(value, at);
    } else if (key == "model_version") {
      require_string_or_int(value, at);
    } else if (key == "inheritance") {
      value = without_nulls(require_object(value, at));
      if (const Json* job_id = member(value, "job_id")) require_string(*job_id, sub(at, "job_id"));
      if (const Json* list = member(value, "task_list")) require_string_list(*list, sub(at, "task_list"));
    } else if (key == "model_warehouse") {
      value = without_nulls(require_object(value, at));
      if (const Json* id = member(value, "model_id")) require_string(*id, sub(at, "model_id"));
      if (const Json* ver = member(value, "model_version"))
        require_string_or_int(*ver, sub(at, "model_version"));
    } else if (key == "task") {
      value = parse_task_conf(value, at);
    } else if (key == "extra") {
      require_object(value, at);
    }
  }
  return conf;
}

void require_stage(const Json& v, const std::string& path) {
  const std::string& stage = require_string(v, path);
  if (!one_of(stage, {"train", "predict", "default", "cross_validation"})) {
    fail(path,
         "unknown stage " + in_quotes(stage) + " (expected train, predict, default or cross_validation)");
  }
}

// What the parser knows while reading one task's inputs.
struct TaskContext {
  const std::string& task_name;
  const std::set<std::string>& task_names;
  const std::vector<PartyRef>& dag_parties;
};

enum class FieldType { string, string_or_int, parties };
struct ChannelField {
  std::string_view name;
  FieldType type;
  bool required;
};

const std::vector<ChannelField>& channel_fields(std::string_view source) {
  static const std::vector<ChannelField> task_output = {
      {"producer_task", FieldType::string, true},
      {"output_artifact_key", FieldType::string, true},
      {"output_artifact_type_alias", FieldType::string, false},
      {"parties", FieldType::parties, false}};
  static const std::vector<ChannelField> data_warehouse = {{"job_id", FieldType::string, false},
                                                           {"producer_task", FieldType::string, false},
                                                           {"output_artifact_key", FieldType::string, false},
                                                           {"namespace", FieldType::string, false},
                                                           {"name", FieldType::string, false},
                                                           {"dataset_id", FieldType::string, false},
                                                           {"parties", FieldType::parties, false}};
  static const std::vector<ChannelField> model_warehouse = {
      {"model_id", FieldType::string, false},
      {"model_version", FieldType::string_or_int, false},
      {"producer_task", FieldType::string, true},
      {"output_artifact_key", FieldType::string, true},
      {"parties", FieldType::parties, false}};
  if (source == kSourceTaskOutput) return task_output;
  if (source == kSourceDataWarehouse) return data_warehouse;
  return model_warehouse;
}

InputChannel parse_channel(const Json& v, const std::string& kind, const std::string& input_key,
                           const std::string& source, const std::string& path, const TaskContext& ctx) {
  require_object(v, path);
  const std::vector<ChannelField>& fields = channel_fields(source);
  // FATE's channel models forbid extra keys: a misspelt key would otherwise silently drop a wiring.
  for (const auto& item : v.items()) {
    const bool known = std::any_of(fields.begin(), fields.end(),
                                   [&](const ChannelField& f) { return f.name == item.key(); });
    if (!known)
      fail(sub(path, item.key()), "unknown field " + in_quotes(item.key()) + " in a " + source + " channel");
  }
  InputChannel channel;
  channel.kind = kind;
  channel.input_key = input_key;
  channel.source = source;
  channel.spec = without_nulls(v);
  for (const ChannelField& field : fields) {
    const std::string at = sub(path, field.name);
    const Json* value = member(v, field.name);
    if (!value) {
      if (field.required) fail(at, "required");
      continue;
    }
    switch (field.type) {
      case FieldType::string:
        if (field.required) {
          require_nonempty_string(*value, at);
        } else {
          require_string(*value, at);
        }
        break;
      case FieldType::string_or_int:
        require_string_or_int(*value, at);
        break;
      case FieldType::parties: {
        std::vector<PartyRef> parties = parse_parties(*value, at, &ctx.dag_parties);
        if (!parties.empty()) channel.parties = std::move(parties);
        break;
      }
    }
  }
  if (source != kSourceDataWarehouse) {
    channel.producer_task = channel.spec["producer_task"].get<std::string>();
    channel.output_artifact_key = channel.spec["output_artifact_key"].get<std::string>();
  }
  if (source == kSourceTaskOutput) {
    const std::string at = sub(path, "producer_task");
    if (channel.producer_task == ctx.task_name)
      fail(at, "task " + in_quotes(ctx.task_name) + " depends on itself");
    if (!ctx.task_names.count(channel.producer_task))
      fail(at, "unknown task " + in_quotes(channel.producer_task));
  }
  return channel;
}

// inputs = {data?: {key: {source: channel | [channel]}}, model?: {...}}; other keys are ignored like FATE
// does.
std::vector<InputChannel> parse_inputs(const Json& v, const std::string& path, const TaskContext& ctx) {
  require_object(v, path);
  std::vector<InputChannel> out;
  for (const char* kind : {"data", "model"}) {
    const Json* by_key = member(v, kind);
    if (!by_key) continue;
    const std::string kind_path = sub(path, kind);
    require_object(*by_key, kind_path);
    for (const auto& input : by_key->items()) {
      if (input.value().is_null()) continue;
      const std::string key_path = sub(kind_path, input.key());
      if (!input.value().is_object()) fail(key_path, "must be an object {source: channel}");
      size_t channels = 0;
      for (const auto& src : input.value().items()) {
        const std::string& source = src.key();
        const std::string src_path = sub(key_path, source);
        if (!one_of(source, {kSourceTaskOutput, kSourceDataWarehouse, kSourceModelWarehouse})) {
          fail(src_path, "unknown channel source " + in_quotes(source) +
                             " (expected task_output_artifact, data_warehouse or model_warehouse)");
        }
        const Json& value = src.value();
        if (value.is_null()) continue;
        if (value.is_array()) {
          if (value.empty()) fail(src_path, "must list at least one channel");
          for (size_t i = 0; i < value.size(); ++i) {
            out.push_back(parse_channel(value[i], kind, input.key(), source, sub(src_path, i), ctx));
          }
        } else {
          out.push_back(parse_channel(value, kind, input.key(), source, src_path, ctx));
        }
        ++channels;
      }
      if (channels == 0) {
        fail(key_path, "names no channel (expected task_output_artifact, data_warehouse or model_warehouse)");
      }
    }
  }
  return out;
}

TaskSpec parse_task(const std::string& name, const Json& v, const std::string& path,
                    const std::set<std::string>& names, const std::vector<PartyRef>& dag_parties) {
  require_object(v, path);
  TaskSpec task;
  task.name = name;
  const Json* ref = member(v, "component_ref");
  if (!ref) fail(sub(path, "component_ref"), "required");
  task.component_ref = require_nonempty_string(*ref, sub(path, "component_ref"));
  if (const Json* stage = member(v, "stage")) {
    require_stage(*stage, sub(path, "stage"));
    task.stage = stage->get<std::string>();
  }
  task.parties = parse_optional_parties(v, path, dag_parties);
  if (const Json* params = member(v, "parameters")) {
    // Parameter values are the component's business: nulls inside stay (e.g. batch_size: null).
    task.parameters = require_object(*params, sub(path, "parameters"));
  }
  if (const Json* conf = member(v, "conf")) task.conf = parse_task_conf(*conf, sub(path, "conf"));
  if (const Json* deps = member(v, "dependent_tasks"))
    require_string_list(*deps, sub(path, "dependent_tasks"));
  if (const Json* outputs = member(v, "outputs")) require_object(*outputs, sub(path, "outputs"));
  if (const Json* inputs = member(v, "inputs")) {
    task.inputs = parse_inputs(*inputs, sub(path, "inputs"), TaskContext{name, names, dag_parties});
  }
  return task;
}

// Normalised party_tasks: {site: {parties: [{role, party_id: [id]}...], tasks: {T: {parameters?, conf?}},
// conf}}.
Json parse_party_tasks(const Json& v, const std::string& path, const std::set<std::string>& names,
                       const std::vector<PartyRef>& dag_parties) {
  require_object(v, path);
  Json out = Json::object();
  for (const auto& site : v.items()) {
    if (site.value().is_null()) continue;
    const std::string site_path = sub(path, site.key());
    const Json& spec = require_object(site.value(), site_path);
    const Json* parties_v = member(spec, "parties");
    if (!parties_v) fail(sub(site_path, "parties"), "required");
    std::vector<PartyRef> parties = parse_parties(*parties_v, sub(site_path, "parties"), &dag_parties);
    if (parties.empty()) fail(sub(site_path, "parties"), "must list at least one party");
    Json tasks = Json::object();
    if (const Json* tasks_v = member(spec, "tasks")) {
      const std::string tasks_path = sub(site_path, "tasks");
      require_object(*tasks_v, tasks_path);
      for (const auto& t : tasks_v->items()) {
        const std::string t_path = sub(tasks_path, t.key());
        if (!names.count(t.key())) fail(t_path, "unknown task " + in_quotes(t.key()));
        Json entry = Json::object();
        if (!t.value().is_null()) {
          require_object(t.value(), t_path);
          if (const Json* params = member(t.value(), "parameters")) {
            entry["parameters"] = require_object(*params, sub(t_path, "parameters"));
          }
          if (const Json* conf = member(t.value(), "conf"))
            entry["conf"] = parse_task_conf(*conf, sub(t_path, "conf"));
        }
        tasks[t.key()] = std::move(entry);
      }
    }
    Json conf = Json::object();
    if (const Json* conf_v = member(spec, "conf")) conf = parse_task_conf(*conf_v, sub(site_path, "conf"));
    out[site.key()] = {
        {"parties", parties_json(parties)}, {"tasks", std::move(tasks)}, {"conf", std::move(conf)}};
  }
  return out;
}

void check_acyclic(const Dag& dag) {
  std::vector<std::vector<size_t>> deps;
  const std::vector<size_t> order = kahn_order(dag, &deps);
  if (order.size() == dag.tasks.size()) return;
  std::vector<bool> done(dag.tasks.size(), false);
  for (size_t i : order) done[i] = true;
  // Every task Kahn left behind still waits on another left-behind task, so walking producers from one of
  // them must revisit a task; the revisited stretch is a cycle.
  size_t current = static_cast<size_t>(std::find(done.begin(), done.end(), false) - done.begin());
  std::vector<size_t> walk;
  while (std::find(walk.begin(), walk.end(), current) == walk.end()) {
    walk.push_back(current);
    current = *std::find_if(deps[current].begin(), deps[current].end(), [&](size_t d) { return !done[d]; });
  }
  std::vector<size_t> cycle(std::find(walk.begin(), walk.end(), current), walk.end());
  std::reverse(cycle.begin(), cycle.end());  // producers first, as the data flows
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
  std::string text;
  for (size_t i : cycle) text += dag.tasks[i].name + " -> ";
  text += dag.tasks[cycle.front()].name;
  fail("dag.tasks", "dependency cycle: " + text);
}

Dag parse(const Json& schema) {
  if (!schema.is_object()) fail("dag_schema", "must be an object");
  Dag dag;
  dag.raw = schema;
  const Json* version = member(schema, "schema_version");
  if (!version) fail("schema_version", "required");
  dag.schema_version = require_string(*version, "schema_version");
  if (const Json* kind = member(schema, "kind")) dag.kind = require_nonempty_string(*kind, "kind");
  const Json* body = member(schema, "dag");
  if (!body) fail("dag", "required");
  require_object(*body, "dag");

  const Json* parties = member(*body, "parties");
  if (!parties) fail("dag.parties", "required");
  dag.parties = parse_parties(*parties, "dag.parties", nullptr);
  if (dag.parties.empty()) fail("dag.parties", "must list at least one party");

  if (const Json* conf = member(*body, "conf")) dag.conf = parse_job_conf(*conf, "dag.conf");
  if (const Json* stage = member(*body, "stage")) {
    require_stage(*stage, "dag.stage");
    dag.stage = stage->get<std::string>();
  }

  const Json* tasks = member(*body, "tasks");
  if (!tasks) fail("dag.tasks", "required");
  if (!tasks->is_object()) fail("dag.tasks", "must be an object {task_name: task}");
  if (tasks->empty()) fail("dag.tasks", "must define at least one task");
  std::set<std::string> names;
  for (const auto& t : tasks->items()) {
    if (t.key().empty()) fail("dag.tasks", "task names must not be empty");
    names.insert(t.key());
  }
  for (const auto& t : tasks->items()) {
    dag.tasks.push_back(parse_task(t.key(), t.value(), sub("dag.tasks", t.key()), names, dag.parties));
  }
  if (const Json* party_tasks = member(*body, "party_tasks")) {
    dag.party_tasks = parse_party_tasks(*party_tasks, "dag.party_tasks", names, dag.parties);
  }
  check_acyclic(dag);
  return dag;
}

}  // namespace

std::variant<Dag, DagError> parse_dag(const Json& dag_schema) {
  try {
    return parse(dag_schema);
  } catch (const Invalid& e) {
    return DagError{RetCode::job_params_error, e.field, e.field + ": " + e.reason};
  }
}

}  // namespace flowstone::domain
