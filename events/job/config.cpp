#include "events/job/config.hpp"

namespace flowstone::domain {

int json_int(const Json& obj, const char* key, int fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return fallback;
  return it->get<int>();
}

int task_cores(const Dag& dag, const std::string& task, const PartyRef& party, const JobDefaults& defaults) {
  if (party.role == "arbiter") return 0;
  Json conf = task_conf(dag, task, party);
  int cores = defaults.task_cores;
  if (conf.contains("engine_run")) cores = json_int(conf["engine_run"], "cores", cores);
  return std::max(cores, 0);
}

int64_t task_timeout(const Dag& dag, const std::string& task, const PartyRef& party,
                     const JobDefaults& defaults) {
  Json conf = task_conf(dag, task, party);
  auto it = conf.find("timeout");
  if (it != conf.end() && it->is_number_integer()) return it->get<int64_t>();
  return defaults.task_timeout_s;
}

int auto_retries_of(const Dag& dag, const std::string& task, const JobDefaults& defaults) {
  // FATE-Flow cannot tell 0 from unset; Flowstone can.
  if (const TaskSpec* spec = dag.find_task(task)) {
    if (spec->conf.contains("auto_retries") && spec->conf["auto_retries"].is_number_integer())
      return spec->conf["auto_retries"].get<int>();
  }
  return json_int(dag.conf, "auto_retries", defaults.auto_retries);
}

int copy_cores(const Dag& dag, const PartyRef& party, const JobDefaults& defaults) {
  return party.role == "arbiter" ? 0 : json_int(dag.conf, "cores", defaults.job_cores);
}

int64_t job_timeout_s(const Dag& dag) {
  return dag.conf.is_object() && dag.conf.contains("timeout") && dag.conf["timeout"].is_number()
             ? dag.conf["timeout"].get<int64_t>()
             : 0;
}

}  // namespace flowstone::domain
