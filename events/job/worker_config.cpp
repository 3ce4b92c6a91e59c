// The worker config (spec 7.2): the parts of FATE's task config the job knows. The host adds mlmd (this
// server's address), the computing settings and the log settings.
#include "events/job/job.hpp"

namespace flowstone::domain {

Json task_config(const JobState& state, const TaskRun& run) {
  const TaskSpec* spec = state.dag().find_task(run.task_name);
  std::string stage = spec && !spec->stage.empty()
                          ? spec->stage
                          : (state.dag().stage.empty() ? "default" : state.dag().stage);
  Json parties = Json::array();
  for (const PartyRef& p : task_parties(state.dag(), run.task_name))
    parties.push_back(Json{{"role", p.role}, {"partyid", p.party_id}});
  Json conf = task_conf(state.dag(), run.task_name, run.party);
  Json engine_run =
      conf.contains("engine_run") && conf["engine_run"].is_object() ? conf["engine_run"] : Json::object();
  engine_run["cores"] = run.cores;
  const std::string federation_id =
      task_id_of(state.job_id, run.task_name) + "_" + std::to_string(run.task_version);
  return Json{
      {"job_id", state.job_id},
      {"task_id", task_id_of(state.job_id, run.task_name)},
      {"task_version", std::to_string(run.task_version)},
      {"task_name", run.task_name},
      {"role", run.party.role},
      {"party_id", run.party.party_id},
      {"party_task_id", run.execution_id},
      {"component", run.component},
      {"stage", stage},
      {"model_id", state.model_id},
      {"model_version", state.model_version},
      {"parameters", task_parameters(state.dag(), run.task_name, run.party)},
      {"input_artifacts", task_input_artifacts(state.dag(), run.task_name, run.party)},
      {"conf",
       {{"device", {{"type", "CPU"}}},
        {"federation",
         {{"type", "standalone"},
          {"metadata",
           {{"federation_id", federation_id},
            {"parties",
             {{"local", {{"role", run.party.role}, {"partyid", run.party.party_id}}},
              {"parties", parties}}}}}}},
        {"storage", "standalone"}}},
      {"engine_run", engine_run},
      {"computing_partitions",
       json_int(state.dag().conf, "computing_partitions", state.defaults.computing_partitions)},
      {"launcher_name", "default"},
      {"launcher_conf", Json::object()},
  };
}

}  // namespace flowstone::domain
