#include "events/job/views.hpp"

#include <cstdio>

namespace flowstone::domain {
namespace {

Json elapsed(int64_t start, int64_t end) {
  return start > 0 && end > 0 ? Json(end - start) : Json(nullptr);
}
Json time_or_null(int64_t t) {
  return t > 0 ? Json(t) : Json(nullptr);
}

Json parties_json(const Dag& dag) {
  Json out = Json::array();
  for (const PartyRef& p : dag.parties) {
    bool merged = false;
    for (auto& entry : out)
      if (entry["role"] == p.role) {
        entry["party_id"].push_back(p.party_id);
        merged = true;
      }
    if (!merged) out.push_back(Json{{"role", p.role}, {"party_id", Json::array({p.party_id})}});
  }
  return out;
}

// Why the copy waits, as its scheduler knows it: the job's admission while it waits, then the first task
// still waiting for its resources at a remote party while it runs.
std::string pending_reason(const JobState& s, const JobCopy& copy) {
  if (!s.is_scheduler) return "";
  if (copy.status == Status::waiting) return s.pending_reason;
  if (copy.status != Status::running) return "";
  for (const std::string& task : s.topo)
    if (const ScheduleTask& st = s.schedule.at(task);
        st.status == Status::waiting && !st.pending_reason.empty())
      return "task " + task + " " + st.pending_reason;
  return "";
}

// Why a run the scheduler has not started yet still waits (its task's resources at a remote party).
std::string task_pending_reason(const JobState& s, const TaskRun& run) {
  if (!s.is_scheduler || run.status != Status::waiting) return "";
  auto st = s.schedule.find(run.task_name);
  if (st == s.schedule.end() || st->second.task_version != run.task_version) return "";
  return st->second.pending_reason;
}

}  // namespace

std::string job_view_key(const std::string& job_id, const PartyRef& party) {
  return join0({job_id, party.role, party.party_id});
}
std::string job_view_prefix(const std::string& job_id) {
  return job_id + std::string(1, '\0');
}

std::string task_view_key(const std::string& job_id, const TaskRun& run) {
  char version[16];
  std::snprintf(version, sizeof version, "%08d", run.task_version);
  return join0({job_id, run.task_name, run.party.role, run.party.party_id, version});
}

Json job_row(const JobState& s, const JobCopy& copy) {
  int tasks = 0, ended = 0;
  for (const std::string& task : s.topo) {
    if (const TaskRun* run = s.latest_run(task, copy.party)) {
      ++tasks;
      if (is_end(run->status)) ++ended;
    }
  }
  Json inheritance = s.dag.conf.contains("inheritance") ? s.dag.conf["inheritance"] : Json(nullptr);
  return Json{
      {"job_id", s.job_id},
      {"role", copy.party.role},
      {"party_id", copy.party.party_id},
      {"protocol", "fate"},
      {"user_name", s.user_name},
      {"description", copy.description},
      {"tag", is_end(copy.status) ? "job_end" : ""},
      {"dag", s.dag.raw},
      {"parties", parties_json(s.dag)},
      {"initiator_party_id", s.initiator_party_id},
      {"scheduler_party_id", s.scheduler_party_id},
      {"status", to_string(copy.status)},
      {"status_code", nullptr},
      {"inheritance", inheritance},
      {"progress", tasks ? ended * 100 / tasks : 0},
      {"priority", s.priority},
      {"model_id", s.model_id},
      {"model_version", s.model_version},
      {"engine_name", "standalone"},
      {"cores", copy.cores},
      {"memory", 0},
      {"sync_type", s.sync_type},
      {"cancel_signal", s.cancel_requested},
      {"create_time", copy.create_time},
      {"update_time", copy.update_time},
      {"start_time", time_or_null(copy.start_time)},
      {"end_time", time_or_null(copy.end_time)},
      {"elapsed", elapsed(copy.start_time, copy.end_time)},
      {"status_reason", copy.status_reason},
      {"resource_in_use", copy.resource_in_use},
      {"pending_reason", pending_reason(s, copy)},
  };
}

Json task_row(const JobState& s, const TaskRun& run) {
  return Json{
      {"job_id", s.job_id},
      {"task_id", task_id_of(s.job_id, run.task_name)},
      {"task_name", run.task_name},
      {"task_version", run.task_version},
      {"role", run.party.role},
      {"party_id", run.party.party_id},
      {"component", run.component},
      {"execution_id", run.execution_id},
      {"scheduler_party_id", s.scheduler_party_id},
      {"status", to_string(run.status)},
      {"party_status", to_string(run.party_status)},
      {"sync_type", s.sync_type},
      {"task_cores", run.cores},
      {"timeout", run.timeout_s},
      {"auto_retries", run.auto_retries},
      {"run_pid", run.launcher_pid ? Json(run.launcher_pid) : Json(nullptr)},
      {"cmd", run.cmd},
      {"log_dir", run.log_dir},
      {"error_report", run.error},
      {"provider_name", run.provider_name.empty() ? "flowstone" : run.provider_name},
      {"pending_reason", task_pending_reason(s, run)},
      {"create_time", run.create_time},
      {"update_time", run.update_time},
      {"start_time", time_or_null(run.start_time)},
      {"end_time", time_or_null(run.end_time)},
      {"elapsed", elapsed(run.start_time, run.end_time)},
  };
}

std::string join0(std::initializer_list<std::string> parts) {
  std::string out;
  bool first = true;
  for (const auto& p : parts) {
    if (!first) out.push_back('\0');
    out += p;
    first = false;
  }
  return out;
}

std::vector<ViewRow> job_views(const JobState& s) {
  std::vector<ViewRow> rows;
  if (!s.exists || s.cleaned) return rows;
  for (const JobCopy& copy : s.copies)
    rows.push_back({kJobsView, job_view_key(s.job_id, copy.party), job_row(s, copy).dump()});
  // The party's resource ledger: what each copy holds of its party's total (applied minus returned).
  for (const JobCopy& copy : s.copies)
    if (copy.resource_in_use)
      rows.push_back({kResourcesView, join0({copy.party.party_id, copy.party.role, s.job_id}),
                      Json{{"job_id", s.job_id},
                           {"role", copy.party.role},
                           {"party_id", copy.party.party_id},
                           {"cores", copy.cores},
                           {"status", to_string(copy.status)}}
                          .dump()});
  for (const TaskRun& run : s.runs) {
    rows.push_back({kTasksView, task_view_key(s.job_id, run), task_row(s, run).dump()});
    rows.push_back({kExecutionsView, run.execution_id, s.job_id});
  }
  tracking_views(s, &rows);
  return rows;
}

std::string describe_event(const JobEvent& e) {
  return std::visit(
      [](const auto& b) -> std::string {
        using T = std::decay_t<decltype(b)>;
        auto party = [](const PartyRef& p) {
          return p.role.empty() ? std::string("scheduler") : p.role + ":" + p.party_id;
        };
        if constexpr (std::is_same_v<T, JobCreated>) {
          return "job created by " + b.initiator_party_id + ", scheduler " + b.scheduler_party_id;
        } else if constexpr (std::is_same_v<T, JobStatusChanged>) {
          return "job status " + std::string(to_string(b.status)) + " at " + party(b.party) + " (" +
                 b.reason + ")";
        } else if constexpr (std::is_same_v<T, ScheduleStatusChanged>) {
          return "job status " + std::string(to_string(b.status)) + " at scheduler (" + b.reason + ")";
        } else if constexpr (std::is_same_v<T, ScheduleTaskVersionCreated>) {
          return "task " + b.task_name + " version " + std::to_string(b.task_version) + " at scheduler (" +
                 b.reason + ")";
        } else if constexpr (std::is_same_v<T, ScheduleTaskStatusChanged>) {
          return "task " + b.task_name + "." + std::to_string(b.task_version) + " status " +
                 std::string(to_string(b.status)) + " at scheduler";
        } else if constexpr (std::is_same_v<T, JobCancelRequested>) {
          return "stop requested with " + std::string(to_string(b.stop_status)) + " (" + b.reason + ")";
        } else if constexpr (std::is_same_v<T, JobNotesAdded>) {
          return "notes at " + party(b.party) + ": " + b.notes;
        } else if constexpr (std::is_same_v<T, TaskVersionCreated>) {
          return "task " + b.task_name + " version " + std::to_string(b.task_version) + " at " +
                 party(b.party) + " (" + b.reason + ")";
        } else if constexpr (std::is_same_v<T, TaskStatusChanged>) {
          return "task " + b.task_name + "." + std::to_string(b.task_version) + " status " +
                 std::string(to_string(b.status)) + " at " + party(b.party);
        } else if constexpr (std::is_same_v<T, TaskPartyStatusChanged>) {
          return "task " + b.execution_id + " party_status " + std::string(to_string(b.status)) +
                 (b.error.empty() ? "" : " error: " + b.error);
        } else if constexpr (std::is_same_v<T, TaskLaunched>) {
          return "task " + b.execution_id + " launched, launcher pid " + std::to_string(b.launcher_pid);
        } else if constexpr (std::is_same_v<T, PartyJoined>) {
          return party(b.party) + " created its copy of the job";
        } else if constexpr (std::is_same_v<T, CopyResourcesApplied>) {
          return party(b.party) + " holds " + std::to_string(b.cores) + " cores";
        } else if constexpr (std::is_same_v<T, CopyResourcesReturned>) {
          return party(b.party) + " returned " + std::to_string(b.cores) + " cores (" + b.reason + ")";
        } else if constexpr (std::is_same_v<T, TaskResourcesApplied>) {
          return party(b.party) + " task " + b.task_name + " version " + std::to_string(b.task_version) +
                 " holds " + std::to_string(b.cores) + " of the job's cores";
        } else if constexpr (std::is_same_v<T, TaskResourcesReturned>) {
          return party(b.party) + " task " + b.task_name + " version " + std::to_string(b.task_version) +
                 " returned its cores (" + b.reason + ")";
        } else if constexpr (std::is_same_v<T, JobProgressChanged>) {
          return "job progress " + std::to_string(b.progress) + "% pushed to the parties";
        } else if constexpr (std::is_same_v<T, TaskAdmissionStarted>) {
          return "task " + b.task_name + "." + std::to_string(b.task_version) + " resources attempt " +
                 std::to_string(b.attempt) + ": asked at its remote parties";
        } else if constexpr (std::is_same_v<T, TaskResourcesAnswered>) {
          return "task " + b.task_name + "." + std::to_string(b.task_version) + " resources attempt " +
                 std::to_string(b.attempt) + ": " + party(b.party) +
                 (b.code == 0 ? " granted" : " refused (" + std::to_string(b.code) + " " + b.message + ")");
        } else if constexpr (std::is_same_v<T, TaskAdmissionEnded>) {
          return "task " + b.task_name + "." + std::to_string(b.task_version) + " resources attempt " +
                 std::to_string(b.attempt) + (b.granted ? ": granted everywhere" : ": " + b.reason);
        } else if constexpr (std::is_same_v<T, AdmissionStarted>) {
          return "admission attempt " + std::to_string(b.attempt) + ": resources asked at every party";
        } else if constexpr (std::is_same_v<T, PartyResourcesAnswered>) {
          return "admission attempt " + std::to_string(b.attempt) + ": " + party(b.party) +
                 (b.code == 0 ? " granted" : " refused (" + std::to_string(b.code) + " " + b.message + ")");
        } else if constexpr (std::is_same_v<T, JobCleaned>) {
          return "job cleaned (" + b.reason + "): its views and outputs removed here";
        } else if constexpr (std::is_same_v<T, MetricsSaved>) {
          std::string names;
          for (const Json& m : b.metrics)
            names += (names.empty() ? "" : ", ") + m.value("name", std::string("?"));
          return "task " + b.execution_id + " saved metrics: " + names;
        } else if constexpr (std::is_same_v<T, DataOutputTracked>) {
          return "task " + b.execution_id + " output data " + b.record.value("output_key", std::string()) +
                 "[" + std::to_string(b.record.value("index", 0)) + "] = table " +
                 b.record.value("namespace", std::string()) + "." + b.record.value("name", std::string());
        } else if constexpr (std::is_same_v<T, ModelSaved>) {
          return "task " + b.execution_id + " saved model " + b.storage_key + " (" + std::to_string(b.size) +
                 " bytes)";
        } else if constexpr (std::is_same_v<T, TrackingDeleted>) {
          return b.kind + "s deleted" + (b.task_name.empty() ? "" : " of task " + b.task_name) +
                 (b.party.role.empty() ? "" : " at " + party(b.party));
        } else if constexpr (std::is_same_v<T, AdmissionEnded>) {
          return "admission attempt " + std::to_string(b.attempt) +
                 (b.granted ? ": granted everywhere" : ": " + b.reason);
        } else if constexpr (std::is_same_v<T, TaskStartRequested>) {
          return "task " + b.execution_id + " start requested by the scheduler";
        }
      },
      e.body);
}

bool is_trouble(const JobEvent& e) {
  auto bad = [](Status s) { return s == Status::failed || s == Status::timeout || s == Status::canceled; };
  if (const auto* b = std::get_if<JobStatusChanged>(&e.body)) return bad(b->status);
  if (const auto* b = std::get_if<ScheduleStatusChanged>(&e.body)) return bad(b->status);
  if (const auto* b = std::get_if<TaskStatusChanged>(&e.body)) return bad(b->status);
  if (const auto* b = std::get_if<ScheduleTaskStatusChanged>(&e.body)) return bad(b->status);
  if (const auto* b = std::get_if<TaskPartyStatusChanged>(&e.body))
    return bad(b->status) || !b->error.empty();
  if (const auto* b = std::get_if<PartyResourcesAnswered>(&e.body)) return b->code != 0;
  if (const auto* b = std::get_if<TaskResourcesAnswered>(&e.body)) return b->code != 0;
  return std::holds_alternative<JobCancelRequested>(e.body);
}

Json history_entry(uint64_t version, const JobEvent& e) {
  return Json{{"version", version}, {"at", e.at_ms}, {"kind", event_kind(e)}, {"what", describe_event(e)}};
}

}  // namespace flowstone::domain
