#include "events/job_views.hpp"

#include <cstdio>

namespace flowstone::domain {
namespace {

Json elapsed(int64_t start, int64_t end) {
  return start > 0 && end > 0 ? Json(end - start) : Json(nullptr);
}
Json time_or_null(int64_t t) {
  return t > 0 ? Json(t) : Json(nullptr);
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
      {"provider_name", "flowstone"},
      {"create_time", run.create_time},
      {"update_time", run.update_time},
      {"start_time", time_or_null(run.start_time)},
      {"end_time", time_or_null(run.end_time)},
      {"elapsed", elapsed(run.start_time, run.end_time)},
  };
}

std::vector<ViewRow> job_views(const JobState& s) {
  std::vector<ViewRow> rows;
  if (!s.exists) return rows;
  for (const JobCopy& copy : s.copies)
    rows.push_back({kJobsView, job_view_key(s.job_id, copy.party), job_row(s, copy).dump()});
  for (const TaskRun& run : s.runs) {
    rows.push_back({kTasksView, task_view_key(s.job_id, run), task_row(s, run).dump()});
    rows.push_back({kExecutionsView, run.execution_id, s.job_id});
  }
  return rows;
}

}  // namespace flowstone::domain
