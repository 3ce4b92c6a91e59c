// The DAG's scheduling questions (spec 2.4, 2.5): task order and dependencies, the parties of a task, and
// its merged parameters, conf and input artifacts for one party.
#include <set>

#include "events/dag/dag.hpp"
#include "events/dag/syntax.hpp"

namespace flowstone::domain {
namespace {

using namespace dag_syntax;

bool party_listed(const Json& parties_json_list, const PartyRef& party) {
  for (const Json& p : parties_json_list) {
    if (p["role"] != party.role) continue;
    for (const Json& id : p["party_id"]) {
      if (id == party.party_id) return true;
    }
  }
  return false;
}

size_t task_index(const Dag& dag, const std::string& name) {
  for (size_t i = 0; i < dag.tasks.size(); ++i) {
    if (dag.tasks[i].name == name) return i;
  }
  return dag.tasks.size();
}

}  // namespace

std::vector<size_t> dag_syntax::kahn_order(const Dag& dag, std::vector<std::vector<size_t>>* deps_out) {
  const size_t n = dag.tasks.size();
  std::vector<std::vector<size_t>> deps(n), consumers(n);
  for (size_t i = 0; i < n; ++i) {
    for (const std::string& producer : task_dependencies(dag, dag.tasks[i].name)) {
      const size_t p = task_index(dag, producer);
      if (p == n) continue;
      deps[i].push_back(p);
      consumers[p].push_back(i);
    }
  }
  std::vector<size_t> pending(n);
  std::set<size_t> ready;
  for (size_t i = 0; i < n; ++i) {
    pending[i] = deps[i].size();
    if (pending[i] == 0) ready.insert(i);
  }
  std::vector<size_t> order;
  while (!ready.empty()) {
    const size_t next = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(next);
    for (size_t c : consumers[next]) {
      if (--pending[c] == 0) ready.insert(c);
    }
  }
  if (deps_out) *deps_out = std::move(deps);
  return order;
}

const TaskSpec* Dag::find_task(const std::string& name) const {
  const size_t i = task_index(*this, name);
  return i < tasks.size() ? &tasks[i] : nullptr;
}

std::vector<std::string> task_dependencies(const Dag& dag, const std::string& task_name) {
  std::vector<std::string> out;
  const TaskSpec* task = dag.find_task(task_name);
  if (!task) return out;
  for (const InputChannel& channel : task->inputs) {
    if (channel.source != kSourceTaskOutput) continue;
    if (std::find(out.begin(), out.end(), channel.producer_task) == out.end())
      out.push_back(channel.producer_task);
  }
  return out;
}

std::vector<std::string> topological_order(const Dag& dag) {
  std::vector<std::string> out;
  for (size_t i : kahn_order(dag)) out.push_back(dag.tasks[i].name);
  return out;
}

std::vector<PartyRef> task_parties(const Dag& dag, const std::string& task_name) {
  const TaskSpec* task = dag.find_task(task_name);
  if (!task) return {};
  return task->parties ? *task->parties : dag.parties;
}

Json task_parameters(const Dag& dag, const std::string& task_name, const PartyRef& party) {
  const TaskSpec* task = dag.find_task(task_name);
  if (!task) return Json::object();
  Json params = task->parameters;
  for (const auto& site : dag.party_tasks.items()) {
    const Json& entry = site.value();
    if (!party_listed(entry["parties"], party)) continue;
    auto t = entry["tasks"].find(task_name);
    if (t != entry["tasks"].end() && t->contains("parameters")) params.update((*t)["parameters"]);
  }
  return params;
}

Json task_conf(const Dag& dag, const std::string& task_name, const PartyRef& party) {
  const TaskSpec* task = dag.find_task(task_name);
  if (!task) return Json::object();
  Json conf = Json::object();
  auto job_task = dag.conf.find("task");
  if (job_task != dag.conf.end()) {
    conf = *job_task;
    // FATE dumps dag.conf with exclude_defaults, so the default launcher name never reaches the merge.
    auto launcher = conf.find("launcher_name");
    if (launcher != conf.end() && *launcher == "default") conf.erase(launcher);
  }
  conf.update(task->conf);
  for (const auto& site : dag.party_tasks.items()) {
    const Json& entry = site.value();
    if (!party_listed(entry["parties"], party)) continue;
    conf.update(entry["conf"]);
    auto t = entry["tasks"].find(task_name);
    if (t != entry["tasks"].end() && t->contains("conf")) conf.update((*t)["conf"]);
  }
  return conf;
}

Json task_input_artifacts(const Dag& dag, const std::string& task_name, const PartyRef& party) {
  Json out = Json::object();
  const TaskSpec* task = dag.find_task(task_name);
  if (!task || !contains(task_parties(dag, task_name), party)) return out;
  const auto warehouse = dag.conf.find("model_warehouse");
  for (const InputChannel& channel : task->inputs) {
    bool keep = true;
    if (channel.parties) {
      keep = contains(*channel.parties, party);
    } else if (channel.source == kSourceTaskOutput) {
      keep = contains(task_parties(dag, channel.producer_task), party);
    }
    if (!keep) continue;
    Json spec = channel.spec;
    spec["parties"] = parties_json({party});
    if (channel.source == kSourceModelWarehouse && !spec.contains("model_id") &&
        warehouse != dag.conf.end()) {
      for (const char* key : {"model_id", "model_version"}) {
        if (warehouse->contains(key)) spec[key] = (*warehouse)[key];
      }
    }
    // A list source keeps its list shape only while more than one channel survives for this party.
    Json& slot = out[channel.kind][channel.input_key][channel.source];
    if (slot.is_null()) {
      slot = std::move(spec);
    } else {
      if (!slot.is_array()) slot = Json::array({slot});
      slot.push_back(std::move(spec));
    }
  }
  return out;
}

}  // namespace flowstone::domain
