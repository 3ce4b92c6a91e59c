#include "events/job.hpp"

#include <algorithm>
#include <set>

#include "events/task_resources.hpp"
#include "events/tracking.hpp"

namespace flowstone::domain {
namespace {

const PartyRef kSchedule{};  // the schedule record

bool is_schedule(const PartyRef& party) {
  return party.role.empty();
}

int json_int(const Json& obj, const char* key, int fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return fallback;
  return it->get<int>();
}

// Cores one run of the task takes at the party: the task's own engine_run.cores (task conf or
// party_tasks conf), else dag.conf.task.engine_run.cores, else the default. Arbiters take none.
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
  // Task conf wins, then the job conf; an explicit 0 means 0 (FATE-Flow cannot tell 0 from unset).
  if (const TaskSpec* spec = dag.find_task(task)) {
    if (spec->conf.contains("auto_retries") && spec->conf["auto_retries"].is_number_integer())
      return spec->conf["auto_retries"].get<int>();
  }
  return json_int(dag.conf, "auto_retries", defaults.auto_retries);
}

JobEvent at(int64_t now_ms, JobEventBody body) {
  return JobEvent{now_ms, std::move(body)};
}

TaskRun* find_run(JobState& s, const std::string& task, int version, const PartyRef& party) {
  for (auto& run : s.runs)
    if (run.task_name == task && run.task_version == version && run.party == party) return &run;
  return nullptr;
}

JobCopy* find_copy(JobState& s, const PartyRef& party) {
  for (auto& c : s.copies)
    if (c.party == party) return &c;
  return nullptr;
}

std::string status_text(Status status) {
  return std::string(to_string(status));
}

std::string party_text(const PartyRef& party) {
  return party.role + ":" + party.party_id;
}

// A run whose start was asked for but whose launcher is not yet recorded: at the scheduler, its
// federated status left waiting (the scheduler launches its own runs); at a party, the scheduler's
// partner/task/start arrived.
bool launching(const JobState& s, const TaskRun& run) {
  return run.party_status == Status::waiting &&
         (run.start_requested || (s.is_scheduler && run.status != Status::waiting));
}

// Progress as FATE-Flow computes it: the share of tasks (latest versions) in an end status.
int schedule_progress(const JobState& s) {
  if (s.topo.empty()) return 0;
  int ended = 0;
  for (const auto& [task, st] : s.schedule)
    if (is_end(st.status)) ++ended;
  return static_cast<int>(100 * ended / s.topo.size());
}

// Why a task reached an interrupt status: the first party in that status, with its error.
std::string interrupt_reason(const ScheduleTask& st, Status status) {
  for (const auto& [party, party_status] : st.party_status) {
    if (party_status != status) continue;
    std::string reason = "task " + st.task_name + " " + status_text(status) + " at " + party_text(party);
    auto error = st.party_error.find(party);
    if (error != st.party_error.end() && !error->second.empty()) reason += ": " + error->second;
    return reason;
  }
  return "task " + st.task_name + " " + status_text(status);
}

void stamp_times(Status status, int64_t now, int64_t& start, int64_t& end) {
  if (status == Status::running && start == 0) start = now;
  if (is_end(status)) end = now;
  if (status == Status::waiting) end = 0;
}

// Builds decisions step by step: every event is applied at once to a working state, so later steps
// of the same decision see what earlier steps did.
class Builder {
 public:
  Builder(const JobState& state, int64_t now) : state_(state), now_(now) {}
  const JobState& state() const { return state_; }
  Decision& decision() { return decision_; }
  int64_t now() const { return now_; }

  void emit(JobEventBody body) {
    JobEvent event = at(now_, std::move(body));
    bool held = false;
    if (const auto* changed = std::get_if<JobStatusChanged>(&event.body))
      if (const JobCopy* copy = state_.copy(changed->party)) held = copy->resource_in_use;
    bool task_cores_held = false;
    if (const auto* changed = std::get_if<TaskPartyStatusChanged>(&event.body);
        changed && is_end(changed->status))
      if (const TaskRun* run =
              find_task_run(state_, changed->task_name, changed->task_version, changed->party))
        task_cores_held = run->task_resources_held;
    apply(state_, event);
    decision_.events.push_back(event);
    if (const auto* changed = std::get_if<TaskPartyStatusChanged>(&event.body)) {
      report_to_scheduler(*changed);
      // A run that ends gives its task cores back to its copy's job cores (spec 5.4), as an event.
      if (task_cores_held)
        emit(TaskResourcesReturned{changed->task_name, changed->task_version, changed->party,
                                   "task " + status_text(changed->status)});
    }
    // A copy that ends gives its resources back in the same decision (spec 5.3), so an ended job never
    // holds any.
    if (const auto* changed = std::get_if<JobStatusChanged>(&event.body);
        changed && is_end(changed->status) && state_.copy(changed->party)) {
      if (held) {
        return_resources(changed->party, "job " + status_text(changed->status));
      } else {
        effect(ReleaseLocalResources{changed->party});  // no longer waits in the party's queue either
      }
    }
  }

  void return_resources(const PartyRef& party, const std::string& reason) {
    const JobCopy* copy = state_.copy(party);
    if (!copy || !copy->resource_in_use) return;
    emit(CopyResourcesReturned{party, copy->cores, reason});
    effect(ReleaseLocalResources{party, !is_end(copy->status)});
  }
  void effect(Effect e) { decision_.effects.push_back(std::move(e)); }

  // ---- partner calls (spec 1.5): bodies carry the destination's role and party_id ----
  Json job_body(const PartyRef& party) const {
    return Json{{"job_id", state_.job_id}, {"role", party.role}, {"party_id", party.party_id}};
  }
  Json task_body(const PartyRef& party, const std::string& task, int version) const {
    Json body = job_body(party);
    body["task_id"] = task_id_of(state_.job_id, task);
    body["task_version"] = version;
    return body;
  }
  void call(const PartyRef& party, const char* endpoint, Json body) {
    effect(PartnerCall{party, endpoint, std::move(body), false, "", 0, 0});
  }
  void call_joined(const char* endpoint, const Json& extra) {
    for (const PartyRef& party : state_.remote_parties) {
      if (!state_.joined.count(party)) continue;
      Json body = job_body(party);
      body.update(extra);
      call(party, endpoint, std::move(body));
    }
  }
  void call_task_parties(const std::string& task, int version, const char* endpoint, const Json& extra) {
    for (const PartyRef& party : state_.remote_parties_of(task)) {
      Json body = task_body(party, task, version);
      body.update(extra);
      call(party, endpoint, std::move(body));
    }
  }

  // In callback mode a party pushes every change of its own status to the scheduler (spec 4.5).
  void report_to_scheduler(const TaskPartyStatusChanged& e) {
    if (state_.is_scheduler || state_.sync_type != "callback" || !state_.is_local(e.party)) return;
    Json body = task_body(e.party, e.task_name, e.task_version);
    body["status"] = to_string(e.status);
    if (!e.error.empty()) body["error"] = e.error;  // Flowstone's addition: the scheduler shows it
    call(PartyRef{"", state_.scheduler_party_id}, "scheduler/task/report", std::move(body));
  }

  // Job status at the schedule record and every local copy where the transition is allowed; a change
  // of the schedule record is pushed to the remote parties unless `push` is false.
  void set_job_status(Status to, const std::string& reason, bool push = true) {
    bool changed = false;
    if (state_.is_scheduler && state_.schedule_status != to &&
        job_transition_allowed(state_.schedule_status, to)) {
      emit(JobStatusChanged{kSchedule, to, reason});
      changed = true;
    }
    for (const auto& copy : std::vector<JobCopy>(state_.copies))
      if (copy.status != to && job_transition_allowed(copy.status, to))
        emit(JobStatusChanged{copy.party, to, reason});
    if (changed && push)
      call_joined("partner/job/status/update", Json{{"status", to_string(to)}, {"reason", reason}});
  }

  // The job ended or was stopped: every remote party stops its unfinished runs (Flowstone adds the
  // status to use; FATE-Flow parties ignore it and use failed).
  void stop_remote_copies(Status status, const std::string& reason) {
    call_joined("partner/job/stop", Json{{"stop_status", to_string(status)}, {"reason", reason}});
  }

  // Federated task status at the schedule record and every local copy's latest run, pushed to the
  // task's remote parties.
  void set_task_status(const std::string& task, Status to, const std::string& reason) {
    if (state_.is_scheduler) {
      const ScheduleTask& st = state_.schedule.at(task);
      if (st.status != to && task_transition_allowed(st.status, to)) {
        emit(TaskStatusChanged{task, st.task_version, kSchedule, "", to, reason});
        call_task_parties(task, st.task_version, "partner/task/status/update",
                          Json{{"status", to_string(to)}, {"reason", reason}});
      }
    }
    for (const PartyRef& party : state_.parties_of(task)) {
      const TaskRun* run = state_.latest_run(task, party);
      if (run && run->status != to && task_transition_allowed(run->status, to))
        emit(TaskStatusChanged{task, run->task_version, party, run->execution_id, to, reason});
    }
  }

  // Starts a task whose dependencies succeeded at every party and whose resources every party granted
  // (spec 4.4): remote parties learn its status and start it; local runs are launched.
  void start_task(const std::string& task) {
    int version = state_.schedule.at(task).task_version;
    set_task_status(task, Status::running, "dependencies succeeded");
    for (const PartyRef& party : state_.remote_parties_of(task))
      effect(
          PartnerCall{party, "partner/task/start", task_body(party, task, version), true, task, version, 0});
    for (const PartyRef& party : state_.parties_of(task))
      if (const TaskRun* run = state_.latest_run(task, party)) effect(LaunchRun{run->execution_id});
  }

  // A task reached an end status: its remote runs are stopped with it (for success this only cleans up).
  void stop_remote_runs(const std::string& task, Status status, const std::string& reason) {
    int version = state_.schedule.at(task).task_version;
    call_task_parties(task, version, "partner/task/stop",
                      Json{{"status", to_string(status)}, {"reason", reason}});
  }

  // A remote party's own status as the scheduler learns it (report, collect, failed start). A party
  // that failed before it was seen running passes through running, so its failure is not lost.
  bool observe(const PartyRef& party, const std::string& task, int version, Status to,
               const std::string& error) {
    std::string exec = execution_id_of(state_.job_id, task, version, party);
    if (state_.schedule.at(task).party_status.at(party) == Status::waiting && is_interrupt(to))
      emit(TaskPartyStatusChanged{task, version, party, exec, Status::running, ""});
    if (!task_transition_allowed(state_.schedule.at(task).party_status.at(party), to)) return false;
    emit(TaskPartyStatusChanged{task, version, party, exec, to, error});
    return true;
  }

  // A party's own status; kills the worker when a running run is interrupted from outside. A run the
  // scheduler started (federated status no longer waiting) whose launch is not yet recorded is stopped
  // too: it passes through running, and whatever the launcher may already have started is killed (the
  // launcher's own record, when it arrives, is answered with a kill as well).
  void set_party_status(const TaskRun& run, Status to, const std::string& error) {
    const std::string exec = run.execution_id;
    const int64_t pid = run.launcher_pid;
    if (launching(state_, run) && is_interrupt(to)) {
      emit(TaskPartyStatusChanged{run.task_name, run.task_version, run.party, exec, Status::running, ""});
      emit(TaskPartyStatusChanged{run.task_name, run.task_version, run.party, exec, to, error});
      effect(KillRun{exec, pid});
      return;
    }
    if (!task_transition_allowed(run.party_status, to)) return;
    bool kill = run.party_status == Status::running && is_interrupt(to) && pid != 0;
    emit(TaskPartyStatusChanged{run.task_name, run.task_version, run.party, exec, to, error});
    if (kill) effect(KillRun{exec, pid});
  }

  // New versions of a task at the schedule record and every local copy.
  void new_version(const std::string& task, int auto_retries, const std::string& reason,
                   int64_t not_before = 0) {
    int version = -1;
    if (state_.is_scheduler) version = state_.schedule.at(task).task_version;
    for (const PartyRef& party : state_.parties_of(task))
      if (const TaskRun* run = state_.latest_run(task, party)) version = std::max(version, run->task_version);
    int next = version + 1;
    if (state_.is_scheduler) {
      emit(TaskVersionCreated{task, next, kSchedule, "", auto_retries, reason, not_before});
      call_task_parties(task, version, "partner/task/rerun", Json{{"new_version", next}});
    }
    for (const PartyRef& party : state_.parties_of(task))
      emit(TaskVersionCreated{task, next, party, execution_id_of(state_.job_id, task, next, party),
                              auto_retries, reason});
  }

 private:
  JobState state_;
  int64_t now_;
  Decision decision_;
};

// ---- command handlers -------------------------------------------------------------------------------

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

std::string copy_ids(const std::string& job_id, const PartyRef& party) {
  return "job_id[" + job_id + "],role[" + party.role + "],party_id[" + party.party_id + "]";
}

// A copy that needs more cores than the party has in total could never start (spec 5.3: 1006). Empty
// when every copy fits.
std::string over_capacity(const JobState& created, int party_cores) {
  if (party_cores <= 0) return "";
  for (const JobCopy& copy : created.copies)
    if (copy.cores > party_cores)
      return "Resource limit exceeded: job " + created.job_id + " needs " + std::to_string(copy.cores) +
             " cores at " + party_text(copy.party) + ", which has " + std::to_string(party_cores) +
             " in total (dag.conf.cores, task engine_run.cores)";
  return "";
}

// dag.conf.inheritance (spec 4.8): the listed tasks are taken over from an earlier job at every local
// party: each run starts as success, with the earlier run's data outputs, metrics and models (re-keyed to
// this job's model id and version; the stored tar is shared). Runs at once here, at creation, so the
// scheduler never starts them; a party that cannot inherit refuses the job. Returns the problem, or "".
std::string inherit(Builder& b, const JobState* source) {
  const JobState& s = b.state();
  const Json inheritance = s.dag.conf.value("inheritance", Json(nullptr));
  if (!inheritance.is_object()) return "";
  std::string source_id = inheritance.value("job_id", std::string());
  std::vector<std::string> tasks = inheritance.value("task_list", std::vector<std::string>());
  if (tasks.empty()) return "";
  if (!source || !source->exists || source->job_id != source_id)
    return "dag.conf.inheritance.job_id: job " + source_id + " is not at this site";
  std::string reason = "inherited from job " + source_id;
  for (const std::string& task : tasks) {
    if (!s.dag.find_task(task))
      return "dag.conf.inheritance.task_list: '" + task + "' is not a task of this job";
    for (const PartyRef& party : b.state().parties_of(task)) {
      const TaskRun* from = source->latest_run(task, party);
      if (!from || from->party_status != Status::success)
        return "dag.conf.inheritance: task " + task + " of job " + source_id + " did not succeed at " +
               party_text(party);
      const TaskRun* run = b.state().latest_run(task, party);
      const std::string exec = run->execution_id;
      b.emit(TaskPartyStatusChanged{task, run->task_version, party, exec, Status::success, ""});
      b.emit(TaskStatusChanged{task, run->task_version, party, exec, Status::success, reason});
      Json metrics = Json::array();
      for (const auto& m : source->tracking.metrics)
        if (m.by.execution_id == from->execution_id) metrics.push_back(m.metric);
      if (!metrics.empty()) b.emit(MetricsSaved{exec, metrics});
      for (const auto& d : source->tracking.data_outputs)
        if (d.by.execution_id == from->execution_id) b.emit(DataOutputTracked{exec, d.record});
      for (const auto& m : source->tracking.models) {
        if (m.by.execution_id != from->execution_id) continue;
        ModelSaved model = m.model;
        model.execution_id = exec;
        model.model_id = s.model_id;
        model.model_version = s.model_version;
        model.storage_key = model_storage_key(s.model_id, s.model_version, party, task, model.output_key);
        b.emit(model);
      }
    }
    if (s.is_scheduler) {
      for (const PartyRef& party : s.remote_parties_of(task))  // each inherits at its own site
        b.emit(TaskPartyStatusChanged{task, 0, party, execution_id_of(s.job_id, task, 0, party),
                                      Status::success, ""});
      b.emit(TaskStatusChanged{task, 0, kSchedule, "", Status::success, reason});
    }
  }
  return "";
}

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
    return reject(1000, "dag.conf.scheduler_party_id: " + scheduler + " is not this site (party_id " +
                            cmd.local_party_id + ")");

  Builder b(state, cmd.now_ms);
  b.emit(JobCreated{cmd.job_id, schema, initiator, scheduler, local_parties_of(dag, cmd.local_party_id), true,
                    cmd.user_name, cmd.defaults});
  if (std::string problem = over_capacity(b.state(), cmd.party_cores); !problem.empty())
    return reject(1006, problem);
  if (std::string problem = inherit(b, cmd.inherit_from.get()); !problem.empty())
    return reject(1000, problem);
  b.set_job_status(Status::waiting, "created");
  // The job is durable here first; then every other party creates its copy (retried until answered)
  // and learns that the job waits (spec 4.1).
  for (const PartyRef& party : b.state().remote_parties) {
    Json body = b.job_body(party);
    body["dag"] = schema["dag"];
    body["schema_version"] = schema.value("schema_version", Json("2.0.0"));
    body["kind"] = "fate";
    b.effect(PartnerCall{party, "partner/job/create", std::move(body), true, "", 0, 0});
    Json waiting = b.job_body(party);
    waiting["status"] = "waiting";
    b.call(party, "partner/job/status/update", std::move(waiting));
  }
  Decision d = std::move(b.decision());
  d.data = Json{{"model_id", conf["model_id"]}, {"model_version", conf["model_version"]}};
  return d;
}

Decision on_report(const JobState& state, const ReportTaskStatus& cmd) {
  const TaskRun* run = state.run_by_execution(cmd.execution_id);
  if (!run) return reject(2000, "No found task: execution_id[" + cmd.execution_id + "]");
  // A run this server interrupted (stop, timeout) stays so: its killed worker's last word changes nothing
  // (the table would let timeout become failed or success).
  if (is_interrupt(run->party_status)) return Decision{};
  Builder b(state, cmd.now_ms);
  // The worker's end report overtook the launcher's record (the worker ran, so the run passes through
  // running; waiting -> failed is not a transition and the error would otherwise be lost).
  if (run->party_status == Status::waiting && run->status != Status::waiting && is_end(cmd.status))
    b.emit(TaskPartyStatusChanged{run->task_name, run->task_version, run->party, run->execution_id,
                                  Status::running, ""});
  // A stale or repeated report is not an error: it simply takes no effect (spec 11, item 2).
  const TaskRun* now = b.state().run_by_execution(cmd.execution_id);
  if (task_transition_allowed(now->party_status, cmd.status))
    b.emit(TaskPartyStatusChanged{now->task_name, now->task_version, now->party, now->execution_id,
                                  cmd.status, cmd.error});
  return std::move(b.decision());
}

Decision on_launch(const JobState& state, const RecordLaunch& cmd) {
  const TaskRun* run = state.run_by_execution(cmd.execution_id);
  if (!run) return reject(2000, "No found task: execution_id[" + cmd.execution_id + "]");
  // A repeated record of the launcher already recorded changes nothing; the run must not be killed.
  if (run->party_status == Status::running && run->launcher_pid == cmd.launcher_pid) return Decision{};
  Builder b(state, cmd.now_ms);
  b.emit(TaskLaunched{run->task_name, run->task_version, run->party, run->execution_id, cmd.launcher_pid,
                      cmd.cmd, cmd.log_dir, cmd.provider_name});
  if (run->party_status == Status::waiting) {
    b.emit(TaskPartyStatusChanged{run->task_name, run->task_version, run->party, run->execution_id,
                                  Status::running, ""});
  } else if (!is_success(run->party_status)) {
    // Stopped while its launcher was starting: it must not run.
    b.effect(KillRun{run->execution_id, cmd.launcher_pid});
  }
  return std::move(b.decision());
}

Decision on_fail_run(const JobState& state, const FailRun& cmd) {
  const TaskRun* run = state.run_by_execution(cmd.execution_id);
  if (!run) return reject(2000, "No found task: execution_id[" + cmd.execution_id + "]");
  if (is_interrupt(run->party_status)) return Decision{};  // interrupted here already (see on_report)
  Builder b(state, cmd.now_ms);
  if (run->party_status == Status::waiting)  // a run that never started still passes through running
    b.emit(TaskPartyStatusChanged{run->task_name, run->task_version, run->party, run->execution_id,
                                  Status::running, ""});
  if (const TaskRun* now = b.state().run_by_execution(cmd.execution_id);
      task_transition_allowed(now->party_status, Status::failed))
    b.emit(TaskPartyStatusChanged{now->task_name, now->task_version, now->party, now->execution_id,
                                  Status::failed, cmd.error});
  return std::move(b.decision());
}

Decision on_stop(const JobState& state, const StopJob& cmd) {
  if (!state.exists) return reject(1001, "No found job");
  Builder b(state, cmd.now_ms);
  if (state.is_scheduler && !is_end(state.schedule_status) && !state.cancel_requested) {
    b.emit(JobCancelRequested{cmd.stop_status, cmd.reason});
    b.stop_remote_copies(cmd.stop_status, cmd.reason);
  }
  // Every run that is running, or started by the scheduler with its launch not yet recorded, is stopped
  // with the requested status; finished runs and runs never started are left alone (spec 4.6).
  for (const auto& copy : state.copies) {
    for (const std::string& task : state.topo) {
      const TaskRun* run = b.state().latest_run(task, copy.party);
      if (run && (run->party_status == Status::running ||
                  (run->party_status == Status::waiting && run->status == Status::running)))
        b.set_party_status(*run, cmd.stop_status, cmd.reason);
    }
  }
  for (const auto& copy : state.copies)
    if (!is_end(copy.status) && job_transition_allowed(copy.status, cmd.stop_status))
      b.emit(JobStatusChanged{copy.party, cmd.stop_status, cmd.reason});
  return std::move(b.decision());
}

// The task and every task downstream of it, in topological order.
std::vector<std::string> task_and_downstream(const JobState& state, const std::string& from) {
  std::set<std::string> chosen = {from};
  for (const std::string& task : state.topo)
    for (const std::string& dep : state.dependencies.at(task))
      if (chosen.count(dep)) chosen.insert(task);
  std::vector<std::string> out;
  for (const std::string& task : state.topo)
    if (chosen.count(task)) out.push_back(task);
  return out;
}

Decision on_rerun(const JobState& state, const RerunJob& cmd) {
  if (!state.exists) return reject(1001, "No found job");
  Builder b(state, cmd.now_ms);
  // Only the scheduler decides reruns (spec 4.7): interrupted tasks get a new version. From a named task
  // (Flowstone's addition), that task and everything downstream of it do, even if they succeeded.
  if (state.is_scheduler && !cmd.task_name.empty()) {
    if (!state.schedule.count(cmd.task_name))
      return reject(1000, "task_name: job " + state.job_id + " has no task '" + cmd.task_name + "'");
    if (!is_end(state.schedule_status))
      return reject(1000, "task_name: job " + state.job_id + " is " + status_text(state.schedule_status) +
                              "; a rerun from a task needs an ended job");
    for (const std::string& task : task_and_downstream(state, cmd.task_name))
      b.new_version(task, state.schedule.at(task).auto_retries, "rerun from " + cmd.task_name);
  } else if (state.is_scheduler) {
    for (const std::string& task : state.topo) {
      const ScheduleTask& st = state.schedule.at(task);
      if (is_interrupt(st.status)) b.new_version(task, st.auto_retries, "rerun");
    }
  }
  if (b.decision().events.empty()) return std::move(b.decision());
  if (is_end(state.schedule_status)) b.set_job_status(Status::waiting, "rerun");
  return std::move(b.decision());
}

Decision on_clean(const JobState& state, const CleanJob& cmd) {
  if (!state.exists) return reject(1001, "No found job");
  if (state.cleaned) return Decision{};
  Decision d = on_stop(state, StopJob{Status::canceled, "job cleaned", cmd.now_ms});
  JobState stopped = state;
  for (const auto& e : d.events) apply(stopped, e);
  Builder b(stopped, cmd.now_ms);
  b.emit(JobCleaned{"cleaned by user"});
  b.effect(DeleteOutputs{});
  d.events.insert(d.events.end(), b.decision().events.begin(), b.decision().events.end());
  d.effects.insert(d.effects.end(), b.decision().effects.begin(), b.decision().effects.end());
  return d;
}

Decision on_timeout_run(const JobState& state, const TimeoutRun& cmd) {
  const TaskRun* run = state.run_by_execution(cmd.execution_id);
  if (!run || run->party_status != Status::running || run->start_time == 0 || run->timeout_s <= 0 ||
      cmd.now_ms - run->start_time < run->timeout_s * 1000)
    return Decision{};  // not (or no longer) past its timeout
  Builder b(state, cmd.now_ms);
  b.set_party_status(*run, Status::timeout,
                     "task timed out: running longer than " + std::to_string(run->timeout_s) + " s");
  return std::move(b.decision());
}

Decision on_timeout_job(const JobState& state, const TimeoutJob& cmd) {
  // The admission detector: a job that has waited for its resources longer than admission_timeout_s.
  int64_t admission = state.defaults.admission_timeout_s;
  if (state.is_scheduler && state.schedule_status == Status::waiting && !state.cancel_requested &&
      admission > 0 && state.waiting_since > 0 && cmd.now_ms - state.waiting_since >= admission * 1000)
    return on_stop(state, StopJob{Status::timeout,
                                  "not admitted within " + std::to_string(admission) + " s" +
                                      (state.pending_reason.empty() ? "" : " (" + state.pending_reason + ")"),
                                  cmd.now_ms});
  int64_t limit = job_timeout_s(state);
  if (!state.is_scheduler || state.schedule_status != Status::running || limit <= 0 ||
      state.start_time == 0 || cmd.now_ms - state.start_time < limit * 1000)
    return Decision{};
  return on_stop(
      state, StopJob{Status::timeout, "job timed out: running longer than " + std::to_string(limit) + " s",
                     cmd.now_ms});
}

// The scheduler records one party's answer to the current admission attempt.
void record_answer(Builder& b, const PartyRef& party, int attempt, int code, const std::string& message) {
  const JobState& s = b.state();
  if (!s.is_scheduler || s.schedule_status != Status::waiting || !s.admission_open ||
      attempt != s.admission_attempt || s.admission_answers.count(party))
    return;
  if (code == 0 && s.is_local(party)) b.emit(CopyResourcesApplied{party, s.copy(party)->cores});
  b.emit(PartyResourcesAnswered{party, attempt, code, message});
}

Decision on_resources_answered(const JobState& state, const ResourcesAnswered& cmd) {
  Builder b(state, cmd.now_ms);
  record_answer(b, cmd.party, cmd.attempt, cmd.code, cmd.message);
  // A grant that came too late for its attempt is given back at once.
  if (cmd.code == 0 && b.decision().events.empty() && state.copy(cmd.party) &&
      !state.copy(cmd.party)->resource_in_use)
    b.effect(ReleaseLocalResources{cmd.party});
  return std::move(b.decision());
}

Decision on_hold(const JobState& state, const HoldResources& cmd) {
  const JobCopy* copy = state.copy(cmd.party);
  if (!copy) return reject(1001, "No found job: " + copy_ids(state.job_id, cmd.party));
  if (copy->resource_in_use) return Decision{};  // applied already
  if (is_end(copy->status))
    return reject(1005, "Job resource exception: " + copy_ids(state.job_id, cmd.party) + " has ended");
  Builder b(state, cmd.now_ms);
  b.emit(CopyResourcesApplied{cmd.party, copy->cores});
  return std::move(b.decision());
}

Decision on_return(const JobState& state, const ReturnResources& cmd) {
  if (!state.copy(cmd.party)) return reject(1001, "No found job: " + copy_ids(state.job_id, cmd.party));
  Builder b(state, cmd.now_ms);
  b.return_resources(cmd.party, cmd.reason);
  return std::move(b.decision());
}

Decision on_notes(const JobState& state, const AddNotes& cmd) {
  if (!state.exists || !state.copy(cmd.party)) return reject(1001, "No found job");
  Builder b(state, cmd.now_ms);
  b.emit(JobNotesAdded{cmd.party, cmd.notes});
  return std::move(b.decision());
}

// ---- partner commands --------------------------------------------------------------------------------

Decision on_join(const JobState& state, const JoinJob& cmd) {
  if (state.exists) {
    if (state.copy(cmd.party)) return Decision{};  // a repeated create changes nothing
    return reject(1002,
                  "Create job failed: " + copy_ids(cmd.job_id, cmd.party) + ": not served by this site");
  }
  auto parsed = parse_dag(cmd.dag_schema);
  if (auto* err = std::get_if<DagError>(&parsed)) return reject(1002, "Create job failed: " + err->message);
  const Dag& dag = std::get<Dag>(parsed);
  std::vector<PartyRef> local = local_parties_of(dag, cmd.local_party_id);
  if (std::find(local.begin(), local.end(), cmd.party) == local.end())
    return reject(1002, "Create job failed: party " + party_text(cmd.party) +
                            " is not in dag.parties or not served by this site (party_id " +
                            cmd.local_party_id + ")");
  Json schema = cmd.dag_schema;
  Json& conf = schema["dag"]["conf"];
  complete_conf(conf, cmd.job_id, "", cmd.local_party_id, false, cmd.defaults);
  Builder b(state, cmd.now_ms);
  b.emit(JobCreated{cmd.job_id, schema, conf["initiator_party_id"].get<std::string>(),
                    conf["scheduler_party_id"].get<std::string>(), local, false, "", cmd.defaults});
  if (std::string problem = over_capacity(b.state(), cmd.party_cores); !problem.empty())
    return reject(1006, problem);
  if (std::string problem = inherit(b, cmd.inherit_from.get()); !problem.empty())
    return reject(1002, "Create job failed: " + problem);
  return std::move(b.decision());
}

Decision on_update_copy(const JobState& state, const UpdateCopyStatus& cmd) {
  const JobCopy* copy = state.copy(cmd.party);
  if (!copy) return reject(1001, "No found job: " + copy_ids(state.job_id, cmd.party));
  if (copy->status == cmd.status || !job_transition_allowed(copy->status, cmd.status)) {
    if (cmd.start) return Decision{};
    return reject(1003, "Update job does not take effect: " + copy_ids(state.job_id, cmd.party) + ",status[" +
                            status_text(cmd.status) + "]");
  }
  Builder b(state, cmd.now_ms);
  b.emit(JobStatusChanged{cmd.party, cmd.status, cmd.reason});
  return std::move(b.decision());
}

Decision no_task(const JobState& state, const PartyRef& party, const std::string& task, int version) {
  return reject(2000, "No found task: " + task_ids(state.job_id, party, task, version));
}

Decision on_update_task(const JobState& state, const UpdateTaskStatus& cmd) {
  const TaskRun* run = find_task_run(state, cmd.task_name, cmd.task_version, cmd.party);
  if (!run) return no_task(state, cmd.party, cmd.task_name, cmd.task_version);
  if (run->status == cmd.status || !task_transition_allowed(run->status, cmd.status))
    return reject(2002, "Update task status does not take effect: " +
                            task_ids(state.job_id, cmd.party, cmd.task_name, cmd.task_version) + ",status[" +
                            status_text(cmd.status) + "]");
  Builder b(state, cmd.now_ms);
  b.emit(TaskStatusChanged{run->task_name, run->task_version, run->party, run->execution_id, cmd.status,
                           cmd.reason});
  return std::move(b.decision());
}

Decision on_start_task(const JobState& state, const StartTask& cmd) {
  const TaskRun* run = find_task_run(state, cmd.task_name, cmd.task_version, cmd.party);
  if (!run) return no_task(state, cmd.party, cmd.task_name, cmd.task_version);
  // Started already (or being started): a repeated start changes nothing.
  if (run->start_requested || run->launcher_pid != 0 || run->party_status != Status::waiting)
    return Decision{};
  Builder b(state, cmd.now_ms);
  if (run->status == Status::waiting)
    b.emit(TaskStatusChanged{run->task_name, run->task_version, run->party, run->execution_id,
                             Status::running, "started by the scheduler"});
  b.emit(TaskStartRequested{run->task_name, run->task_version, run->party, run->execution_id});
  b.effect(LaunchRun{run->execution_id});
  return std::move(b.decision());
}

// A run that has started, or is starting, can be stopped; one never started is left alone (spec 4.6).
bool stoppable(const JobState& s, const TaskRun& run) {
  return run.party_status == Status::running || launching(s, run);
}

Decision on_stop_task(const JobState& state, const StopTask& cmd) {
  const TaskRun* run = find_task_run(state, cmd.task_name, cmd.task_version, cmd.party);
  if (!run) return no_task(state, cmd.party, cmd.task_name, cmd.task_version);
  Builder b(state, cmd.now_ms);
  if (stoppable(state, *run)) b.set_party_status(*run, cmd.status, cmd.reason);
  return std::move(b.decision());
}

Decision on_stop_copy(const JobState& state, const StopCopy& cmd) {
  const JobCopy* copy = state.copy(cmd.party);
  if (!copy) return reject(1001, "No found job: " + copy_ids(state.job_id, cmd.party));
  Builder b(state, cmd.now_ms);
  for (const std::string& task : state.topo) {
    const TaskRun* run = b.state().latest_run(task, cmd.party);
    if (run && stoppable(b.state(), *run)) b.set_party_status(*run, cmd.status, cmd.reason);
  }
  if (!is_end(copy->status) && job_transition_allowed(copy->status, cmd.status))
    b.emit(JobStatusChanged{cmd.party, cmd.status, cmd.reason});
  return std::move(b.decision());
}

Decision on_rerun_task(const JobState& state, const RerunTask& cmd) {
  const TaskRun* latest = state.latest_run(cmd.task_name, cmd.party);
  if (!latest) return no_task(state, cmd.party, cmd.task_name, cmd.new_version);
  if (latest->task_version >= cmd.new_version) return Decision{};  // created already
  Builder b(state, cmd.now_ms);
  b.emit(TaskVersionCreated{cmd.task_name, cmd.new_version, cmd.party,
                            execution_id_of(state.job_id, cmd.task_name, cmd.new_version, cmd.party),
                            latest->auto_retries, "rerun by the scheduler"});
  return std::move(b.decision());
}

Decision on_collect(const JobState& state, const CollectTask& cmd) {
  const TaskRun* run = find_task_run(state, cmd.task_name, cmd.task_version, cmd.party);
  if (!run) return no_task(state, cmd.party, cmd.task_name, cmd.task_version);
  auto time = [](int64_t t) { return t > 0 ? Json(t) : Json(nullptr); };
  Decision d;
  d.data = Json{
      {"job_id", state.job_id},
      {"task_id", task_id_of(state.job_id, run->task_name)},
      {"task_version", run->task_version},
      {"role", run->party.role},
      {"party_id", run->party.party_id},
      {"status", to_string(run->status)},
      {"party_status", to_string(run->party_status)},
      {"start_time", time(run->start_time)},
      {"update_time", time(run->update_time)},
      {"end_time", time(run->end_time)},
      {"elapsed", run->start_time && run->end_time ? Json(run->end_time - run->start_time) : Json(nullptr)},
      {"error", run->error}};
  return d;
}

// ---- what the scheduler learns ------------------------------------------------------------------------

Decision on_party_report(const JobState& state, const ReportPartyStatus& cmd) {
  auto task = state.is_scheduler ? state.schedule.find(cmd.task_name) : state.schedule.end();
  if (task == state.schedule.end() || !task->second.party_status.count(cmd.party))
    return cmd.collected ? Decision{} : no_task(state, cmd.party, cmd.task_name, cmd.task_version);
  Builder b(state, cmd.now_ms);
  bool took_effect = task->second.task_version == cmd.task_version &&
                     b.observe(cmd.party, cmd.task_name, cmd.task_version, cmd.status, cmd.error);
  if (!took_effect && !cmd.collected)  // FATE-Flow's answer to a repeated or stale report
    return reject(2002, "Update task status does not take effect: " +
                            task_ids(state.job_id, cmd.party, cmd.task_name, cmd.task_version) +
                            ",status[False]");
  return std::move(b.decision());
}

// The scheduler records a remote party's answer to a task's resource apply. A grant that belongs to no open
// attempt (the job ended, the task moved on, the party answered twice) is given back at once, so no party
// holds cores for a run that will not start.
void record_task_answer(Builder& b, const PartnerAnswered& cmd) {
  const JobState& s = b.state();
  auto task = s.schedule.find(cmd.task_name);
  const bool current = task != s.schedule.end() && task->second.resource_open &&
                       task->second.task_version == cmd.task_version &&
                       task->second.resource_attempt == cmd.attempt &&
                       !task->second.resource_answers.count(cmd.party);
  if (current) {
    b.emit(TaskResourcesAnswered{cmd.task_name, cmd.task_version, cmd.party, cmd.attempt, cmd.code,
                                 cmd.message});
  } else if (cmd.code == 0) {
    b.call(cmd.party, "partner/task/resource/return",
           b.task_body(cmd.party, cmd.task_name, cmd.task_version));
  }
}

Decision on_answered(const JobState& state, const PartnerAnswered& cmd) {
  if (!state.exists || !state.is_scheduler) return Decision{};
  Builder b(state, cmd.now_ms);
  if (cmd.endpoint == "partner/job/create") {
    if (cmd.code == 0 && !state.joined.count(cmd.party)) {
      b.emit(PartyJoined{cmd.party});
      if (state.schedule_status != Status::waiting) {  // the job moved on meanwhile: catch the party up
        Json body = b.job_body(cmd.party);
        body["status"] = to_string(state.schedule_status);
        b.call(cmd.party, "partner/job/status/update", body);
        if (is_end(state.schedule_status)) b.stop_remote_copies(state.schedule_status, state.schedule_reason);
      }
    } else if (cmd.code != 0 && !is_end(state.schedule_status)) {
      std::string reason = "party " + party_text(cmd.party) + " could not create the job: " + cmd.message;
      b.set_job_status(Status::failed, reason);
      b.stop_remote_copies(Status::failed, reason);
    }
  } else if (cmd.endpoint == "partner/job/resource/apply") {
    record_answer(b, cmd.party, cmd.attempt, cmd.code, cmd.message);
  } else if (cmd.endpoint == "partner/task/resource/apply") {
    record_task_answer(b, cmd);
  } else if (cmd.endpoint == "partner/task/start" && cmd.code != 0) {
    auto task = state.schedule.find(cmd.task_name);
    if (task != state.schedule.end() && task->second.task_version == cmd.task_version &&
        task->second.party_status.count(cmd.party))
      b.observe(cmd.party, cmd.task_name, cmd.task_version, Status::failed,
                "task start failed at " + party_text(cmd.party) + ": " + cmd.message);
  }
  return std::move(b.decision());
}

// Every local party running the task has room for its cores next to the runs already started.
bool fits(const JobState& s, const std::string& task) {
  for (const PartyRef& party : s.parties_of(task)) {
    const TaskRun* candidate = s.latest_run(task, party);
    const JobCopy* copy = s.copy(party);
    if (!candidate || !copy || candidate->cores == 0) continue;
    int used = 0;
    for (const std::string& other : s.topo) {
      const TaskRun* run = s.latest_run(other, party);
      if (run && run->status == Status::running && !is_end(run->party_status)) used += run->cores;
    }
    if (used + candidate->cores > copy->cores) return false;
  }
  return true;
}

// Admission of a waiting job (spec 4.2, 5.3), all or nothing: every party is asked for the job's cores;
// once all have answered, either every party granted and the job starts, or the parties that granted
// give theirs back and the job waits (and asks again at admission_retry_at()), or fails when a party can
// never hold it (1006). True when the job was admitted now.
bool admit(Builder& b) {
  const JobState& s = b.state();
  if (s.admission_open) {
    std::vector<PartyRef> parties = s.dag.parties;
    for (const PartyRef& party : parties)
      if (!s.admission_answers.count(party)) return false;  // still waiting for answers
    std::string refusal;
    bool limit = false;
    for (const auto& [party, answer] : s.admission_answers) {
      if (answer.code == 0) continue;
      if (refusal.empty()) refusal = "waiting for resources at " + party_text(party) + ": " + answer.message;
      if (answer.code == 1006) {
        limit = true;
        refusal = "party " + party_text(party) + " can never hold the job: " + answer.message;
      }
    }
    b.emit(AdmissionEnded{s.admission_attempt, refusal.empty(), refusal});
    if (refusal.empty()) {
      b.set_job_status(Status::running, "admitted", /*push=*/false);
      b.call_joined("partner/job/start", Json{{"extra_info", Json::object()}});
      return true;
    }
    for (const auto& [party, answer] : std::map<PartyRef, PartyResourcesAnswered>(s.admission_answers)) {
      if (answer.code != 0) continue;
      if (s.is_local(party)) {
        b.return_resources(party, "another party refused the job's resources");
      } else {
        b.call(party, "partner/job/resource/return", b.job_body(party));
      }
    }
    if (limit) {
      b.set_job_status(Status::failed, refusal);
      b.stop_remote_copies(Status::failed, refusal);
    }
    return false;
  }
  // After a refusal the job asks again only after a pause; after a rerun it asks at once.
  if (!s.pending_reason.empty() && b.now() < s.admission_retry_at()) return false;
  b.emit(AdmissionStarted{s.admission_attempt + 1});
  for (const PartyRef& party : std::vector<PartyRef>(s.dag.parties)) {
    if (const JobCopy* copy = s.copy(party)) {
      b.effect(ApplyLocalResources{party, copy->cores, s.admission_attempt});
    } else {
      b.effect(PartnerCall{party, "partner/job/resource/apply", b.job_body(party), true, "", 0,
                           s.admission_attempt});
    }
  }
  return false;
}

// The apply of `task`'s current version to `party` for the open attempt.
PartnerCall task_apply(const Builder& b, const PartyRef& party, const std::string& task) {
  const ScheduleTask& st = b.state().schedule.at(task);
  return PartnerCall{party,
                     "partner/task/resource/apply",
                     b.task_body(party, task, st.task_version),
                     true,
                     task,
                     st.task_version,
                     st.resource_attempt};
}

// Gives back what the parties granted in the task's open attempt, and closes it.
void close_task_admission(Builder& b, const std::string& task, bool granted, const std::string& reason) {
  const ScheduleTask st = b.state().schedule.at(task);
  b.emit(TaskAdmissionEnded{task, st.task_version, st.resource_attempt, granted, reason});
  if (granted) return;
  for (const auto& [party, answer] : st.resource_answers)
    if (answer.code == 0)
      b.call(party, "partner/task/resource/return", b.task_body(party, task, st.task_version));
}

// A task's resources at its remote parties (spec 5.4), all or nothing, as FATE's scheduler negotiates them:
// every remote party of the task is asked (partner/task/resource/apply); once all have answered, either all
// granted and the task may start, or the grants are returned (partner/task/resource/return) and the task
// keeps waiting with a pending reason naming the party, asking again after admission_retry_delay(), or at
// once when a run of the job ends somewhere. The local parties' room is fits()'s. True: the task may start.
bool admit_task(Builder& b, const std::string& task) {
  const JobState& s = b.state();
  const std::vector<PartyRef> remote = s.remote_parties_of(task);
  if (remote.empty()) return true;
  const ScheduleTask& st = s.schedule.at(task);
  if (st.resource_open) {
    for (const PartyRef& party : remote)
      if (!st.resource_answers.count(party)) return false;  // still waiting for answers
    std::string refusal;
    for (const auto& [party, answer] : st.resource_answers)
      if (answer.code != 0 && refusal.empty())
        refusal = "waiting for task resources at " + party_text(party) + ": " + answer.message;
    close_task_admission(b, task, refusal.empty(), refusal);
    return refusal.empty();
  }
  if (!st.pending_reason.empty() && b.now() < st.resource_time + admission_retry_delay(st.refusals) &&
      s.party_ends == st.party_ends_at_refusal)
    return false;  // refused: ask again after a pause, or once a run has ended somewhere
  b.emit(TaskAdmissionStarted{task, st.task_version, st.resource_attempt + 1});
  for (const PartyRef& party : remote) b.effect(task_apply(b, party, task));
  return false;
}

void advance(Builder& b) {
  const JobState& s = b.state();  // the builder's working state: it follows every emit
  if (!s.exists || !s.is_scheduler) return;

  if (s.schedule_status == Status::waiting) {
    if (s.cancel_requested) {
      b.set_job_status(s.cancel_status, s.cancel_reason.empty() ? "canceled while waiting" : s.cancel_reason);
      return;
    }
    if (!s.all_joined()) return;  // every party must have created its copy first
    if (!admit(b)) return;
  }
  if (s.schedule_status != Status::running) return;

  // 1. Federated task statuses from the party statuses; ended tasks are stopped at every party,
  //    interrupted ones retried or they interrupt the job.
  bool interrupted = false;
  for (const std::string& task : s.topo) {
    const ScheduleTask& st = s.schedule.at(task);
    std::vector<Status> parties;
    for (const auto& [party, status] : st.party_status) parties.push_back(status);
    std::optional<Status> fed = fold_task_status(parties);
    if (fed && *fed != st.status && task_transition_allowed(st.status, *fed)) {
      std::string reason = is_interrupt(*fed) ? interrupt_reason(st, *fed) : "parties reported";
      b.set_task_status(task, *fed, reason);
      if (is_end(*fed)) b.stop_remote_runs(task, *fed, reason);
    }
    const ScheduleTask& now = s.schedule.at(task);
    if (!is_interrupt(now.status)) continue;
    // The reason recorded when the task was interrupted names the party where it happened.
    std::string reason = now.reason.empty() ? interrupt_reason(now, now.status) : now.reason;
    for (const PartyRef& party : s.parties_of(task))
      if (const TaskRun* run = s.latest_run(task, party)) b.set_party_status(*run, now.status, reason);
    bool retry = !s.cancel_requested && (now.status == Status::failed || now.status == Status::timeout) &&
                 now.auto_retries > 0;
    if (retry) {
      // Exponential backoff: the first retry waits retry_backoff_ms, each later one twice as long.
      int64_t backoff = s.defaults.retry_backoff_ms << std::min(now.task_version, 10);
      b.new_version(task, now.auto_retries - 1, "auto retry", b.now() + backoff);
    } else {
      interrupted = true;
    }
  }

  // 2. Start every waiting task whose producers all succeeded, while there is room.
  bool have_next = false;
  if (!s.cancel_requested && !interrupted) {
    for (const std::string& task : s.topo) {
      if (s.schedule.at(task).status != Status::waiting) continue;
      const auto& deps = s.dependencies.at(task);
      bool ready = std::all_of(deps.begin(), deps.end(), [&](const std::string& dep) {
        return s.schedule.at(dep).status == Status::success;
      });
      if (!ready) continue;
      have_next = true;
      if (s.schedule.at(task).not_before > b.now()) continue;  // an auto-retry waiting out its backoff
      // No room here, or not (yet) granted at every remote party: later tasks wait too, so order is kept.
      if (!fits(s, task) || !admit_task(b, task)) break;
      b.start_task(task);
    }
  }

  // 3. Progress, then the job status from the latest version of every task. Progress is pushed once the
  //    round's task starts are decided (none still waits for a party's answer), in FATE's order.
  const bool asking = std::any_of(s.schedule.begin(), s.schedule.end(),
                                  [](const auto& task) { return task.second.resource_open; });
  if (int progress = schedule_progress(s); !s.remote_parties.empty() && progress > s.progress && !asking) {
    b.emit(JobProgressChanged{progress});
    b.call_joined("partner/job/update", Json{{"progress", static_cast<double>(progress)}});
  }
  std::vector<Status> statuses;
  for (const std::string& task : s.topo) statuses.push_back(s.schedule.at(task).status);
  std::optional<Status> job =
      fold_job_status(statuses, have_next ? SchedulingCode::have_next : SchedulingCode::no_next);
  if (!job || *job == s.schedule_status) return;
  if (*job == Status::waiting && s.cancel_requested) job = s.cancel_status;
  // A job that failed or was interrupted is explained by the first task that ended the way the job did;
  // the reason goes to every party with the status, so each party's row says why (and where).
  std::string reason = "tasks " + std::string(to_string(*job));
  for (const std::string& task : s.topo)
    if (const ScheduleTask& st = s.schedule.at(task); st.status == *job && !st.reason.empty()) {
      if (*job != Status::success) reason = st.reason;
      break;
    }
  b.set_job_status(*job, reason);
  if (!is_end(s.schedule_status)) return;
  // An ended job starts no task: the grants of attempts still open are given back.
  for (const std::string& task : s.topo)
    if (s.schedule.at(task).resource_open) close_task_admission(b, task, false, "job " + status_text(*job));
  b.stop_remote_copies(s.schedule_status, reason);
}

}  // namespace

// ---- state helpers ----------------------------------------------------------------------------------

const JobCopy* JobState::copy(const PartyRef& party) const {
  for (const auto& c : copies)
    if (c.party == party) return &c;
  return nullptr;
}

const TaskRun* JobState::latest_run(const std::string& task_name, const PartyRef& party) const {
  const TaskRun* best = nullptr;
  for (const auto& run : runs)
    if (run.task_name == task_name && run.party == party && (!best || run.task_version > best->task_version))
      best = &run;
  return best;
}

const TaskRun* JobState::run_by_execution(const std::string& execution_id) const {
  for (const auto& run : runs)
    if (run.execution_id == execution_id) return &run;
  return nullptr;
}

std::vector<PartyRef> JobState::parties_of(const std::string& task_name) const {
  std::vector<PartyRef> out;
  for (const PartyRef& p : task_parties(dag, task_name))
    if (is_local(p)) out.push_back(p);
  return out;
}

std::vector<PartyRef> JobState::remote_parties_of(const std::string& task_name) const {
  std::vector<PartyRef> out;
  for (const PartyRef& p : task_parties(dag, task_name))
    if (!is_local(p)) out.push_back(p);
  return out;
}

std::string task_name_of(const std::string& job_id, const std::string& task_id) {
  std::string prefix = job_id + "_";
  if (task_id.size() <= prefix.size() || task_id.compare(0, prefix.size(), prefix) != 0) return "";
  return task_id.substr(prefix.size());
}

bool JobState::is_local(const PartyRef& party) const {
  return copy(party) != nullptr;
}

std::string task_id_of(const std::string& job_id, const std::string& task_name) {
  return job_id + "_" + task_name;
}

std::string execution_id_of(const std::string& job_id, const std::string& task_name, int version,
                            const PartyRef& party) {
  return task_id_of(job_id, task_name) + "_" + std::to_string(version) + "_" + party.role + "_" +
         party.party_id;
}

// ---- decide -----------------------------------------------------------------------------------------

std::string task_ids(const std::string& job_id, const PartyRef& party, const std::string& task, int version) {
  return copy_ids(job_id, party) + ",task_id[" + task_id_of(job_id, task) + "],task_version[" +
         std::to_string(version) + "]";
}

const TaskRun* find_task_run(const JobState& s, const std::string& task, int version, const PartyRef& party) {
  for (const auto& run : s.runs)
    if (run.task_name == task && run.task_version == version && run.party == party) return &run;
  return nullptr;
}

Decision reject(int code, std::string message) {
  Decision d;
  d.code = code;
  d.message = std::move(message);
  return d;
}

Decision decide(const JobState& state, const JobCommand& command) {
  return std::visit(
      [&](const auto& cmd) -> Decision {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, CreateJob>) {
          return on_create(state, cmd);
        } else if constexpr (std::is_same_v<T, ReportTaskStatus>) {
          return on_report(state, cmd);
        } else if constexpr (std::is_same_v<T, RecordLaunch>) {
          return on_launch(state, cmd);
        } else if constexpr (std::is_same_v<T, FailRun>) {
          return on_fail_run(state, cmd);
        } else if constexpr (std::is_same_v<T, StopJob>) {
          return on_stop(state, cmd);
        } else if constexpr (std::is_same_v<T, RerunJob>) {
          return on_rerun(state, cmd);
        } else if constexpr (std::is_same_v<T, AddNotes>) {
          return on_notes(state, cmd);
        } else if constexpr (std::is_same_v<T, HoldResources>) {
          return on_hold(state, cmd);
        } else if constexpr (std::is_same_v<T, ReturnResources>) {
          return on_return(state, cmd);
        } else if constexpr (std::is_same_v<T, ResourcesAnswered>) {
          return on_resources_answered(state, cmd);
        } else if constexpr (std::is_same_v<T, CleanJob>) {
          return on_clean(state, cmd);
        } else if constexpr (std::is_same_v<T, TimeoutRun>) {
          return on_timeout_run(state, cmd);
        } else if constexpr (std::is_same_v<T, TimeoutJob>) {
          return on_timeout_job(state, cmd);
        } else if constexpr (std::is_same_v<T, JoinJob>) {
          return on_join(state, cmd);
        } else if constexpr (std::is_same_v<T, UpdateCopyStatus>) {
          return on_update_copy(state, cmd);
        } else if constexpr (std::is_same_v<T, UpdateTaskStatus>) {
          return on_update_task(state, cmd);
        } else if constexpr (std::is_same_v<T, StartTask>) {
          return on_start_task(state, cmd);
        } else if constexpr (std::is_same_v<T, StopTask>) {
          return on_stop_task(state, cmd);
        } else if constexpr (std::is_same_v<T, StopCopy>) {
          return on_stop_copy(state, cmd);
        } else if constexpr (std::is_same_v<T, RerunTask>) {
          return on_rerun_task(state, cmd);
        } else if constexpr (std::is_same_v<T, CollectTask>) {
          return on_collect(state, cmd);
        } else if constexpr (std::is_same_v<T, ReportPartyStatus>) {
          return on_party_report(state, cmd);
        } else if constexpr (std::is_same_v<T, PartnerAnswered>) {
          return on_answered(state, cmd);
        } else if constexpr (std::is_same_v<T, SaveMetrics> || std::is_same_v<T, TrackDataOutput> ||
                             std::is_same_v<T, SaveModel> || std::is_same_v<T, DeleteTracking>) {
          return decide_tracking(state, cmd);
        } else if constexpr (std::is_same_v<T, ApplyTaskResources> ||
                             std::is_same_v<T, ReturnTaskResources>) {
          return decide_task_resources(state, cmd);
        } else {
          Builder b(state, cmd.now_ms);
          advance(b);
          return std::move(b.decision());
        }
      },
      command);
}

Decision decide_and_advance(const JobState& state, const JobCommand& command, int64_t now_ms) {
  Decision first = decide(state, command);
  if (first.code != 0) return first;
  JobState next = state;
  for (const auto& e : first.events) apply(next, e);
  Builder b(next, now_ms);
  advance(b);
  Decision& more = b.decision();
  first.events.insert(first.events.end(), more.events.begin(), more.events.end());
  first.effects.insert(first.effects.end(), more.effects.begin(), more.effects.end());
  return first;
}

std::vector<Effect> recovery_effects(const JobState& state) {
  std::vector<Effect> out;
  Builder b(state, 0);  // for the bodies of repeated calls; its events are never used
  for (const auto& copy : state.copies) {
    for (const std::string& task : state.topo) {
      const TaskRun* run = state.latest_run(task, copy.party);
      if (!run) continue;
      if (launching(state, *run) && run->launcher_pid == 0)
        out.push_back(LaunchRun{run->execution_id});
      else if (run->party_status == Status::running)
        out.push_back(CheckRun{run->execution_id, run->launcher_pid});
      // A report the scheduler may have missed while this server was down (callback mode).
      if (!state.is_scheduler && state.sync_type == "callback" && run->party_status != Status::waiting)
        b.report_to_scheduler(TaskPartyStatusChanged{task, run->task_version, copy.party, run->execution_id,
                                                     run->party_status, run->error});
    }
  }
  if (state.is_scheduler) {
    // Creates not yet answered, and starts of running tasks not yet seen at their party.
    for (const PartyRef& party : state.remote_parties) {
      if (state.joined.count(party) || is_end(state.schedule_status)) continue;
      Json body = b.job_body(party);
      body["dag"] = state.dag.raw.value("dag", Json::object());
      body["schema_version"] = state.dag.raw.value("schema_version", Json("2.0.0"));
      body["kind"] = "fate";
      b.effect(PartnerCall{party, "partner/job/create", std::move(body), true, "", 0, 0});
    }
    // An admission attempt still open: ask the parties that have not answered again.
    if (state.admission_open && state.schedule_status == Status::waiting) {
      for (const PartyRef& party : state.dag.parties) {
        if (state.admission_answers.count(party)) continue;
        if (const JobCopy* copy = state.copy(party)) {
          b.effect(ApplyLocalResources{party, copy->cores, state.admission_attempt});
        } else {
          b.effect(PartnerCall{party, "partner/job/resource/apply", b.job_body(party), true, "", 0,
                               state.admission_attempt});
        }
      }
    }
    for (const auto& [task, st] : state.schedule) {
      // A task's resource apply still open: ask the parties that have not answered again.
      if (st.resource_open)
        for (const PartyRef& party : state.remote_parties_of(task))
          if (!st.resource_answers.count(party)) b.effect(task_apply(b, party, task));
      // Federated statuses pushed just before the crash may not have arrived: push them again.
      if (st.status != Status::waiting)
        b.call_task_parties(task, st.task_version, "partner/task/status/update",
                            Json{{"status", to_string(st.status)}, {"reason", st.reason}});
      if (st.status != Status::running) continue;
      for (const PartyRef& party : state.remote_parties_of(task))
        if (st.party_status.at(party) == Status::waiting)
          b.effect(PartnerCall{party, "partner/task/start", b.task_body(party, task, st.task_version), true,
                               task, st.task_version, 0});
    }
    if (is_end(state.schedule_status)) {
      b.call_joined("partner/job/status/update",
                    Json{{"status", to_string(state.schedule_status)}, {"reason", state.schedule_reason}});
      b.stop_remote_copies(state.schedule_status, state.schedule_reason);
    }
  }
  for (auto& effect : b.decision().effects) out.push_back(std::move(effect));
  return out;
}

int64_t job_timeout_s(const JobState& state) {
  return state.dag.conf.is_object() && state.dag.conf.contains("timeout") &&
                 state.dag.conf["timeout"].is_number()
             ? state.dag.conf["timeout"].get<int64_t>()
             : 0;
}

int64_t next_deadline(const JobState& state) {
  int64_t next = 0;
  auto consider = [&](int64_t t) {
    if (t > 0 && (next == 0 || t < next)) next = t;
  };
  for (const auto& run : state.runs)
    if (run.party_status == Status::running && run.start_time > 0 && run.timeout_s > 0)
      consider(run.start_time + run.timeout_s * 1000);
  if (state.is_scheduler && state.schedule_status == Status::waiting && !state.admission_open &&
      !state.pending_reason.empty())
    consider(state.admission_retry_at());
  if (state.is_scheduler && state.schedule_status == Status::waiting && !state.cancel_requested &&
      state.defaults.admission_timeout_s > 0 && state.waiting_since > 0)
    consider(state.waiting_since + state.defaults.admission_timeout_s * 1000);
  if (state.is_scheduler && state.schedule_status == Status::running) {
    if (int64_t limit = job_timeout_s(state); limit > 0 && state.start_time > 0)
      consider(state.start_time + limit * 1000);
    for (const auto& [task, st] : state.schedule) {
      if (st.status != Status::waiting) continue;
      consider(st.not_before);
      if (!st.resource_open && !st.pending_reason.empty())
        consider(st.resource_time + admission_retry_delay(st.refusals));
    }
  }
  return next;
}

std::vector<PartnerCall> collect_calls(const JobState& state, int64_t now_ms, int64_t stale_ms) {
  std::vector<PartnerCall> out;
  if (!state.is_scheduler || state.schedule_status != Status::running) return out;
  for (const auto& [task, st] : state.schedule) {
    if (st.status != Status::running) continue;
    for (const PartyRef& party : state.remote_parties_of(task)) {
      if (is_end(st.party_status.at(party))) continue;
      auto changed = st.party_update_time.find(party);
      int64_t since = std::max(st.start_time, changed == st.party_update_time.end() ? 0 : changed->second);
      if (stale_ms > 0 && now_ms - since < stale_ms) continue;
      Json body{{"job_id", state.job_id},
                {"role", party.role},
                {"party_id", party.party_id},
                {"task_id", task_id_of(state.job_id, task)},
                {"task_version", st.task_version}};
      out.push_back(
          PartnerCall{party, "partner/task/collect", std::move(body), true, task, st.task_version, 0});
    }
  }
  return out;
}

// ---- evolve -----------------------------------------------------------------------------------------

void apply(JobState& s, const JobEvent& event) {
  const int64_t now = event.at_ms;
  s.update_time = std::max(s.update_time, now);
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, JobCreated>) {
          auto parsed = parse_dag(e.dag_schema);
          if (auto* dag = std::get_if<Dag>(&parsed)) s.dag = std::move(*dag);
          s.exists = true;
          s.job_id = e.job_id;
          s.initiator_party_id = e.initiator_party_id;
          s.scheduler_party_id = e.scheduler_party_id;
          s.user_name = e.user_name;
          s.is_scheduler = e.is_scheduler;
          s.defaults = e.defaults;
          s.create_time = s.update_time = now;
          const Json& conf = s.dag.conf;
          s.priority = json_int(conf, "priority", 0);
          s.sync_type = conf.value("sync_type", e.defaults.sync_type);
          s.model_id = conf.value("model_id", e.job_id);
          s.model_version = conf.value("model_version", std::string("0"));
          s.topo = topological_order(s.dag);
          for (const PartyRef& party : s.dag.parties)
            if (std::find(e.local_parties.begin(), e.local_parties.end(), party) == e.local_parties.end())
              s.remote_parties.push_back(party);
          for (const std::string& task : s.topo) s.dependencies[task] = task_dependencies(s.dag, task);
          int job_cores = json_int(conf, "cores", e.defaults.job_cores);
          for (const PartyRef& party : e.local_parties) {
            JobCopy copy;
            copy.party = party;
            copy.create_time = copy.update_time = now;
            copy.cores = party.role == "arbiter" ? 0 : job_cores;
            s.copies.push_back(copy);
          }
          for (const std::string& task : s.topo) {
            const TaskSpec* spec = s.dag.find_task(task);
            int retries = auto_retries_of(s.dag, task, e.defaults);
            for (const PartyRef& party : s.parties_of(task)) {
              TaskRun run;
              run.task_name = task;
              run.party = party;
              run.execution_id = execution_id_of(e.job_id, task, 0, party);
              run.component = spec ? spec->component_ref : "";
              run.cores = task_cores(s.dag, task, party, e.defaults);
              run.timeout_s = task_timeout(s.dag, task, party, e.defaults);
              run.auto_retries = retries;
              run.create_time = run.update_time = now;
              s.runs.push_back(run);
              if (JobCopy* copy = find_copy(s, party)) copy->cores = std::max(copy->cores, run.cores);
            }
            if (s.is_scheduler) {
              ScheduleTask st;
              st.task_name = task;
              st.auto_retries = retries;
              for (const PartyRef& party : task_parties(s.dag, task))
                st.party_status[party] = Status::waiting;
              s.schedule[task] = st;
            }
          }
        } else if constexpr (std::is_same_v<T, JobStatusChanged>) {
          if (is_schedule(e.party)) {
            s.schedule_status = e.status;
            s.schedule_reason = e.reason;
            stamp_times(e.status, now, s.start_time, s.end_time);
            if (e.status == Status::waiting) {
              s.cancel_requested = false;  // a rerun clears the cancel
              s.waiting_since = now;
            }
          } else if (JobCopy* copy = find_copy(s, e.party)) {
            copy->status = e.status;
            copy->status_reason = e.reason;
            copy->update_time = now;
            stamp_times(e.status, now, copy->start_time, copy->end_time);
          }
        } else if constexpr (std::is_same_v<T, JobCancelRequested>) {
          s.cancel_requested = true;
          s.cancel_status = e.stop_status;
          s.cancel_reason = e.reason;
        } else if constexpr (std::is_same_v<T, JobNotesAdded>) {
          if (JobCopy* copy = find_copy(s, e.party)) {
            copy->description = e.notes;
            copy->update_time = now;
          }
        } else if constexpr (std::is_same_v<T, TaskVersionCreated>) {
          if (is_schedule(e.party)) {
            ScheduleTask& st = s.schedule[e.task_name];
            st.task_version = e.task_version;
            st.status = Status::waiting;
            st.auto_retries = e.auto_retries;
            st.not_before = e.not_before;
            st.start_time = 0;
            st.reason.clear();
            st.party_error.clear();
            st.party_update_time.clear();
            st.resource_open = false;  // a new version asks for its own resources (attempts keep counting)
            st.resource_answers.clear();
            st.pending_reason.clear();
            st.refusals = 0;
            for (auto& [party, status] : st.party_status) status = Status::waiting;
          } else if (const TaskRun* prev = s.latest_run(e.task_name, e.party)) {
            TaskRun run;
            run.task_name = e.task_name;
            run.task_version = e.task_version;
            run.party = e.party;
            run.execution_id = e.execution_id;
            run.component = prev->component;
            run.cores = prev->cores;
            run.timeout_s = prev->timeout_s;
            run.auto_retries = e.auto_retries;
            run.create_time = run.update_time = now;
            s.runs.push_back(run);
          }
        } else if constexpr (std::is_same_v<T, TaskStatusChanged>) {
          if (is_schedule(e.party)) {
            auto it = s.schedule.find(e.task_name);
            if (it != s.schedule.end() && it->second.task_version == e.task_version) {
              it->second.status = e.status;
              it->second.reason = e.reason;
              if (e.status == Status::running) it->second.start_time = now;
            }
          } else if (TaskRun* run = find_run(s, e.task_name, e.task_version, e.party)) {
            run->status = e.status;
            run->update_time = now;
            // Another party's failure explains this run's end when its own report says nothing.
            if (is_interrupt(e.status) && run->error.empty()) run->error = e.reason;
          }
        } else if constexpr (std::is_same_v<T, TaskPartyStatusChanged>) {
          if (TaskRun* run = find_run(s, e.task_name, e.task_version, e.party)) {
            run->party_status = e.status;
            run->update_time = now;
            stamp_times(e.status, now, run->start_time, run->end_time);
            if (!e.error.empty()) run->error = e.error;
          }
          if (s.is_scheduler) {  // the scheduler's mirror of this party
            if (is_end(e.status)) ++s.party_ends;
            auto it = s.schedule.find(e.task_name);
            if (it != s.schedule.end() && it->second.task_version == e.task_version) {
              it->second.party_status[e.party] = e.status;
              it->second.party_update_time[e.party] = now;
              if (!e.error.empty()) it->second.party_error[e.party] = e.error;
            }
          }
        } else if constexpr (std::is_same_v<T, TaskLaunched>) {
          if (TaskRun* run = find_run(s, e.task_name, e.task_version, e.party)) {
            run->launcher_pid = e.launcher_pid;
            run->cmd = e.cmd;
            run->log_dir = e.log_dir;
            if (!e.provider_name.empty()) run->provider_name = e.provider_name;  // an adoption keeps it
            run->update_time = now;
          }
        } else if constexpr (std::is_same_v<T, PartyJoined>) {
          s.joined.insert(e.party);
        } else if constexpr (std::is_same_v<T, CopyResourcesApplied>) {
          if (JobCopy* copy = find_copy(s, e.party)) copy->resource_in_use = true;
        } else if constexpr (std::is_same_v<T, CopyResourcesReturned>) {
          if (JobCopy* copy = find_copy(s, e.party)) copy->resource_in_use = false;
        } else if constexpr (std::is_same_v<T, AdmissionStarted>) {
          s.admission_attempt = e.attempt;
          s.admission_open = true;
          s.admission_time = now;
          s.admission_answers.clear();
        } else if constexpr (std::is_same_v<T, PartyResourcesAnswered>) {
          if (e.attempt == s.admission_attempt) s.admission_answers[e.party] = e;
        } else if constexpr (std::is_same_v<T, JobCleaned>) {
          s.cleaned = true;
        } else if constexpr (std::is_same_v<T, AdmissionEnded>) {
          s.admission_open = false;
          s.pending_reason = e.granted ? "" : e.reason;
          s.refusals = e.granted ? 0 : s.refusals + 1;
        } else if constexpr (std::is_same_v<T, TaskStartRequested>) {
          if (TaskRun* run = find_run(s, e.task_name, e.task_version, e.party)) run->start_requested = true;
        } else if constexpr (std::is_same_v<T, MetricsSaved> || std::is_same_v<T, DataOutputTracked> ||
                             std::is_same_v<T, ModelSaved> || std::is_same_v<T, TrackingDeleted>) {
          apply_tracking(s, e, now);
        } else if constexpr (std::is_same_v<T, TaskResourcesApplied> ||
                             std::is_same_v<T, TaskResourcesReturned>) {
          if (TaskRun* run = find_run(s, e.task_name, e.task_version, e.party))
            run->task_resources_held = std::is_same_v<T, TaskResourcesApplied>;
        } else if constexpr (std::is_same_v<T, JobProgressChanged>) {
          s.progress = e.progress;
        } else if constexpr (std::is_same_v<T, TaskAdmissionStarted>) {
          auto it = s.schedule.find(e.task_name);
          if (it == s.schedule.end() || it->second.task_version != e.task_version) return;
          it->second.resource_attempt = e.attempt;
          it->second.resource_open = true;
          it->second.resource_time = now;
          it->second.resource_answers.clear();
        } else if constexpr (std::is_same_v<T, TaskResourcesAnswered>) {
          auto it = s.schedule.find(e.task_name);
          if (it != s.schedule.end() && it->second.task_version == e.task_version &&
              it->second.resource_attempt == e.attempt)
            it->second.resource_answers[e.party] = e;
        } else if constexpr (std::is_same_v<T, TaskAdmissionEnded>) {
          auto it = s.schedule.find(e.task_name);
          if (it == s.schedule.end() || it->second.task_version != e.task_version) return;
          ScheduleTask& st = it->second;
          st.resource_open = false;
          st.pending_reason = e.granted ? "" : e.reason;
          st.refusals = e.granted ? 0 : st.refusals + 1;
          st.party_ends_at_refusal = s.party_ends;
        }
      },
      event.body);
}

JobState evolve(JobState state, const JobEvent& event) {
  apply(state, event);
  return state;
}

// ---- worker config ----------------------------------------------------------------------------------

Json task_config(const JobState& state, const TaskRun& run) {
  const TaskSpec* spec = state.dag.find_task(run.task_name);
  std::string stage =
      spec && !spec->stage.empty() ? spec->stage : (state.dag.stage.empty() ? "default" : state.dag.stage);
  Json parties = Json::array();
  for (const PartyRef& p : task_parties(state.dag, run.task_name))
    parties.push_back(Json{{"role", p.role}, {"partyid", p.party_id}});
  Json conf = task_conf(state.dag, run.task_name, run.party);
  Json engine_run =
      conf.contains("engine_run") && conf["engine_run"].is_object() ? conf["engine_run"] : Json::object();
  engine_run["cores"] = run.cores;
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
      {"parameters", task_parameters(state.dag, run.task_name, run.party)},
      {"input_artifacts", task_input_artifacts(state.dag, run.task_name, run.party)},
      {"conf",
       {{"device", {{"type", "CPU"}}},
        {"federation",
         {{"type", "standalone"},
          {"metadata",
           {{"federation_id",
             task_id_of(state.job_id, run.task_name) + "_" + std::to_string(run.task_version)},
            {"parties",
             {{"local", {{"role", run.party.role}, {"partyid", run.party.party_id}}},
              {"parties", parties}}}}}}},
        {"storage", "standalone"}}},
      {"engine_run", engine_run},
      {"computing_partitions",
       json_int(state.dag.conf, "computing_partitions", state.defaults.computing_partitions)},
      {"launcher_name", "default"},
      {"launcher_conf", Json::object()},
  };
}

}  // namespace flowstone::domain
