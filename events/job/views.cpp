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

namespace {

// A job row with `dag` as the value of its "dag" member.
Json job_row_with(const JobState& s, const JobCopy& copy, Json dag) {
  int tasks = 0, ended = 0;
  for (const std::string& task : s.topo) {
    if (const TaskRun* run = s.latest_run(task, copy.party)) {
      ++tasks;
      if (is_end(run->status)) ++ended;
    }
  }
  Json inheritance = s.dag().conf.contains("inheritance") ? s.dag().conf["inheritance"] : Json(nullptr);
  Json row{
      {"job_id", s.job_id},
      {"role", copy.party.role},
      {"party_id", copy.party.party_id},
      {"protocol", "fate"},
      {"user_name", s.user_name},
      {"description", copy.description},
      {"tag", is_end(copy.status) ? "job_end" : ""},
      {"dag", std::move(dag)},
      {"parties", parties_json(s.dag())},
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
  // Flowstone: the scheduler still owes a remote party the stop that tells it of the end (recovery repeats
  // it at a restart). Only present while true, so the rows of jobs that owe nothing are FATE-Flow's.
  if (s.end_undelivered()) row["end_undelivered"] = true;
  return row;
}

// What a job row carries for its DAG until the row's text is made (a string no client can send: ids with
// control characters are refused at the edge).
const char kDagPlaceholder[] =
    "\x01"
    "dag"
    "\x01";

}  // namespace

Json job_row(const JobState& s, const JobCopy& copy) {
  return job_row_with(s, copy, s.dag().raw);
}

std::string job_row_text(const JobState& s, const JobCopy& copy) {
  std::string text = job_row_with(s, copy, Json(kDagPlaceholder)).dump();
  if (!s.dag_text) return job_row(s, copy).dump();
  // The DAG's text, dumped once when the job was created, takes the placeholder's place: no row copies or
  // dumps the DAG again. Inside a dumped string every quote is escaped, so the marker can only be the member.
  static const std::string marker = "\"dag\":" + Json(kDagPlaceholder).dump();
  const size_t at = text.find(marker);
  if (at == std::string::npos) return job_row(s, copy).dump();
  text.replace(at + 6, marker.size() - 6, *s.dag_text);
  return text;
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

}  // namespace flowstone::domain
