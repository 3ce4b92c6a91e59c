#include "events/job/state.hpp"

namespace flowstone::domain {

const Dag& JobState::dag() const {
  static const Dag kNone;
  return dag_spec ? *dag_spec : kNone;
}

const JobCopy* JobState::copy(const PartyRef& party) const {
  for (const auto& c : copies)
    if (c.party == party) return &c;
  return nullptr;
}

JobCopy* JobState::copy(const PartyRef& party) {
  for (auto& c : copies)
    if (c.party == party) return &c;
  return nullptr;
}

bool JobState::end_undelivered() const {
  if (!is_scheduler || !is_end(schedule_status)) return false;
  for (const PartyRef& party : remote_parties)
    if (!end_delivered.count(party)) return true;
  return false;
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

const TaskRun* JobState::find_run(const std::string& task, int version, const PartyRef& party) const {
  for (const auto& run : runs)
    if (run.task_name == task && run.task_version == version && run.party == party) return &run;
  return nullptr;
}

TaskRun* JobState::find_run(const std::string& task, int version, const PartyRef& party) {
  for (auto& run : runs)
    if (run.task_name == task && run.task_version == version && run.party == party) return &run;
  return nullptr;
}

std::vector<PartyRef> JobState::parties_of(const std::string& task_name) const {
  std::vector<PartyRef> out;
  for (const PartyRef& p : task_parties(dag(), task_name))
    if (is_local(p)) out.push_back(p);
  return out;
}

std::vector<PartyRef> JobState::remote_parties_of(const std::string& task_name) const {
  std::vector<PartyRef> out;
  for (const PartyRef& p : task_parties(dag(), task_name))
    if (!is_local(p)) out.push_back(p);
  return out;
}

std::string task_id_of(const std::string& job_id, const std::string& task_name) {
  return job_id + "_" + task_name;
}

std::string execution_id_of(const std::string& job_id, const std::string& task_name, int version,
                            const PartyRef& party) {
  return task_id_of(job_id, task_name) + "_" + std::to_string(version) + "_" + party.role + "_" +
         party.party_id;
}

std::string task_name_of(const std::string& job_id, const std::string& task_id) {
  std::string prefix = job_id + "_";
  if (task_id.size() <= prefix.size() || task_id.compare(0, prefix.size(), prefix) != 0) return "";
  return task_id.substr(prefix.size());
}

std::string copy_ids(const std::string& job_id, const PartyRef& party) {
  return "job_id[" + job_id + "],role[" + party.role + "],party_id[" + party.party_id + "]";
}

std::string task_ids(const std::string& job_id, const PartyRef& party, const std::string& task, int version) {
  return copy_ids(job_id, party) + ",task_id[" + task_id_of(job_id, task) + "],task_version[" +
         std::to_string(version) + "]";
}

int schedule_progress(const JobState& s) {
  if (s.topo.empty()) return 0;
  int ended = 0;
  for (const auto& [task, st] : s.schedule)
    if (is_end(st.status)) ++ended;
  return static_cast<int>(100 * ended / s.topo.size());
}

}  // namespace flowstone::domain
