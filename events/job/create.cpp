// A job comes to exist here: at its scheduler (CreateJob, from a submit here or scheduler/job/create from
// the initiator), or at a party the scheduler asks (JoinJob, partner/job/create). The DAG is validated and
// completed once, here; JobCreated records the result, and replay only reads it (read_dag).
#include <algorithm>

#include "events/job/parts.hpp"

namespace flowstone::domain::job {
namespace {

std::string text_of(const Json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// dag.conf with nulls dropped and FATE-Flow's defaults filled in (spec 2.2, 4.1).
void complete_conf(Json& conf, const std::string& job_id, const std::string& initiator,
                   const std::string& local_party_id, bool all_local_role, const JobDefaults& defaults) {
  if (!conf.is_object()) conf = Json::object();
  for (auto it = conf.begin(); it != conf.end();) it = it->is_null() ? conf.erase(it) : std::next(it);
  if (!conf.contains("initiator_party_id")) conf["initiator_party_id"] = initiator;
  if (!conf.contains("scheduler_party_id"))
    conf["scheduler_party_id"] = all_local_role ? "0" : local_party_id;
  conf["initiator_party_id"] = text_of(conf["initiator_party_id"]);
  conf["scheduler_party_id"] = text_of(conf["scheduler_party_id"]);
  if (!conf.contains("sync_type")) conf["sync_type"] = defaults.sync_type;
  if (!conf.contains("computing_partitions")) conf["computing_partitions"] = defaults.computing_partitions;
  if (!conf.contains("auto_retries")) conf["auto_retries"] = defaults.auto_retries;
  if (!conf.contains("model_id")) conf["model_id"] = job_id;
  if (!conf.contains("model_version")) conf["model_version"] = "0";
  if (conf["model_version"].is_number_integer())
    conf["model_version"] = std::to_string(conf["model_version"].get<int64_t>());
}

// The dag's parties this server serves: every role of its party_id, and party "0" of local jobs.
std::vector<PartyRef> local_parties_of(const Dag& dag, const std::string& local_party_id) {
  std::vector<PartyRef> local;
  for (const PartyRef& p : dag.parties)
    if (p.party_id == local_party_id || (p.role == "local" && p.party_id == "0")) local.push_back(p);
  return local;
}

// A copy that needs more cores than the party has in total could never start (spec 5.3: 1006). Empty when
// every copy fits.
std::string over_capacity(const JobState& created, int party_cores) {
  if (party_cores <= 0) return "";
  for (const JobCopy& copy : created.copies)
    if (copy.cores > party_cores)
      return "Resource limit exceeded: job " + created.job_id + " needs " + std::to_string(copy.cores) +
             " cores at " + party_text(copy.party) + ", which has " + std::to_string(party_cores) +
             " in total (dag.conf.cores, task engine_run.cores)";
  return "";
}

}  // namespace

Decision on_create(const JobState& state, const CreateJob& cmd) {
  if (state.exists) {
    Decision d;  // a repeated create changes nothing (FATE-Flow swallows duplicate creates)
    d.data = Json{{"model_id", state.model_id}, {"model_version", state.model_version}};
    return d;
  }
  auto parsed = parse_dag(cmd.dag_schema);
  if (auto* err = std::get_if<DagError>(&parsed)) return reject(err->code, err->message);
  const Dag& dag = std::get<Dag>(parsed);
  bool all_local_role = std::all_of(dag.parties.begin(), dag.parties.end(),
                                    [](const PartyRef& p) { return p.role == "local"; });

  Json schema = cmd.dag_schema;
  Json& conf = schema["dag"]["conf"];
  std::string initiator = cmd.initiator_party_id.empty() ? cmd.local_party_id : cmd.initiator_party_id;
  complete_conf(conf, cmd.job_id, initiator, cmd.local_party_id, all_local_role, cmd.defaults);
  std::string scheduler = conf["scheduler_party_id"].get<std::string>();
  if (scheduler != cmd.local_party_id && scheduler != "0")
    return reject(RetCode::job_params_error, "dag.conf.scheduler_party_id: " + scheduler +
                                                 " is not this site (party_id " + cmd.local_party_id + ")");

  Step step(state, cmd.now_ms);
  step.emit(JobCreated{cmd.job_id, schema, initiator, scheduler, local_parties_of(dag, cmd.local_party_id),
                       true, cmd.user_name, cmd.defaults});
  if (std::string problem = over_capacity(step.state(), cmd.party_cores); !problem.empty())
    return reject(RetCode::job_resource_limit_exceeded, problem);
  if (std::string problem = inherit(step, cmd.inherit_from.get()); !problem.empty())
    return reject(RetCode::job_params_error, problem);
  set_job_status(step, Status::waiting, "created", /*push=*/false);
  // The job is durable here first; then every other party creates its copy (repeated until answered) and
  // learns that the job waits (spec 4.1).
  for (const PartyRef& party : std::vector<PartyRef>(step.state().remote_parties)) {
    step.call(CreateRemoteCopy{party});
    step.call(UpdateRemoteJob{party, Status::waiting, ""});
  }
  Decision d = step.take();
  d.data = Json{{"model_id", conf["model_id"]}, {"model_version", conf["model_version"]}};
  return d;
}

Decision on_join(const JobState& state, const JoinJob& cmd) {
  if (state.exists) {
    if (state.copy(cmd.party)) return Decision{};  // a repeated create changes nothing
    return reject(RetCode::create_job_failed,
                  "Create job failed: " + copy_ids(cmd.job_id, cmd.party) + ": not served by this site");
  }
  auto parsed = parse_dag(cmd.dag_schema);
  if (auto* err = std::get_if<DagError>(&parsed))
    return reject(RetCode::create_job_failed, "Create job failed: " + err->message);
  const Dag& dag = std::get<Dag>(parsed);
  std::vector<PartyRef> local = local_parties_of(dag, cmd.local_party_id);
  if (std::find(local.begin(), local.end(), cmd.party) == local.end())
    return reject(RetCode::create_job_failed,
                  "Create job failed: party " + party_text(cmd.party) +
                      " is not in dag.parties or not served by this site (party_id " + cmd.local_party_id +
                      ")");
  Json schema = cmd.dag_schema;
  Json& conf = schema["dag"]["conf"];
  complete_conf(conf, cmd.job_id, "", cmd.local_party_id, false, cmd.defaults);
  Step step(state, cmd.now_ms);
  step.emit(JobCreated{cmd.job_id, schema, conf["initiator_party_id"].get<std::string>(),
                       conf["scheduler_party_id"].get<std::string>(), local, false, "", cmd.defaults});
  if (std::string problem = over_capacity(step.state(), cmd.party_cores); !problem.empty())
    return reject(RetCode::job_resource_limit_exceeded, problem);
  if (std::string problem = inherit(step, cmd.inherit_from.get()); !problem.empty())
    return reject(RetCode::create_job_failed, "Create job failed: " + problem);
  return step.take();
}

void apply(JobState& s, const JobCreated& e, int64_t at) {
  // Validated when it was created: read, never validated again.
  s.dag_spec = std::make_shared<const Dag>(read_dag(e.dag_schema));
  s.dag_text = std::make_shared<const std::string>(e.dag_schema.dump());
  s.exists = true;
  s.job_id = e.job_id;
  s.initiator_party_id = e.initiator_party_id;
  s.scheduler_party_id = e.scheduler_party_id;
  s.user_name = e.user_name;
  s.is_scheduler = e.is_scheduler;
  s.defaults = e.defaults;
  s.create_time = s.update_time = at;
  const Json& conf = s.dag().conf;
  s.priority = json_int(conf, "priority", 0);
  s.sync_type = conf.value("sync_type", e.defaults.sync_type);
  s.model_id = conf.value("model_id", e.job_id);
  s.model_version = conf.value("model_version", std::string("0"));
  s.topo = topological_order(s.dag());
  for (const PartyRef& party : s.dag().parties)
    if (std::find(e.local_parties.begin(), e.local_parties.end(), party) == e.local_parties.end())
      s.remote_parties.push_back(party);
  for (const std::string& task : s.topo) s.dependencies[task] = task_dependencies(s.dag(), task);
  for (const PartyRef& party : e.local_parties) {
    JobCopy copy;
    copy.party = party;
    copy.create_time = copy.update_time = at;
    copy.cores = copy_cores(s.dag(), party, e.defaults);
    s.copies.push_back(copy);
  }
  for (const std::string& task : s.topo) {
    const TaskSpec* spec = s.dag().find_task(task);
    int retries = auto_retries_of(s.dag(), task, e.defaults);
    for (const PartyRef& party : s.parties_of(task)) {
      TaskRun run;
      run.task_name = task;
      run.party = party;
      run.execution_id = execution_id_of(e.job_id, task, 0, party);
      run.component = spec ? spec->component_ref : "";
      run.cores = task_cores(s.dag(), task, party, e.defaults);
      run.timeout_s = task_timeout(s.dag(), task, party, e.defaults);
      run.auto_retries = retries;
      run.create_time = run.update_time = at;
      s.runs.push_back(run);
      if (JobCopy* copy = s.copy(party)) copy->cores = std::max(copy->cores, run.cores);
    }
    if (s.is_scheduler) {
      ScheduleTask st;
      st.task_name = task;
      st.auto_retries = retries;
      for (const PartyRef& party : task_parties(s.dag(), task)) st.party_status[party] = Status::waiting;
      s.schedule[task] = st;
    }
  }
}

}  // namespace flowstone::domain::job
