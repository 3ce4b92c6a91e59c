// The rows of a job's views: all of them (job_views, for a rebuild), or those a decision changed
// (job_view_changes): each event names the copy, run or task it touches, and only their rows are rendered
// again. A whole-job event (a create, a clean) and the tracking records (whose keys number every record of
// the job) are compared row by row instead.
#include <map>
#include <set>
#include <tuple>

#include "events/job/views.hpp"

namespace flowstone::domain {
namespace {

struct Touched {
  bool all = false;
  bool all_copies = false;
  bool tracking = false;
  std::set<PartyRef> copies;
  std::set<std::tuple<std::string, int, PartyRef>> runs;
  std::set<std::string> tasks;  // every local run of the task
};

template <typename T>
constexpr bool is_one_of_schedule_events =
    std::is_same_v<T, ScheduleStatusChanged> || std::is_same_v<T, JobCancelRequested> ||
    std::is_same_v<T, PartyJoined> || std::is_same_v<T, EndDelivered> ||
    std::is_same_v<T, JobProgressChanged> || std::is_same_v<T, AdmissionStarted> ||
    std::is_same_v<T, PartyResourcesAnswered> || std::is_same_v<T, AdmissionEnded>;

Touched touched_by(const std::vector<JobEvent>& events) {
  Touched t;
  for (const JobEvent& event : events) {
    std::visit(
        [&](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, JobCreated> || std::is_same_v<T, JobCleaned>) {
            t.all = true;
          } else if constexpr (std::is_same_v<T, JobStatusChanged> || std::is_same_v<T, JobNotesAdded> ||
                               std::is_same_v<T, CopyResourcesApplied> ||
                               std::is_same_v<T, CopyResourcesReturned>) {
            t.copies.insert(e.party);
          } else if constexpr (std::is_same_v<T, TaskVersionCreated> ||
                               std::is_same_v<T, TaskStatusChanged> ||
                               std::is_same_v<T, TaskPartyStatusChanged>) {
            t.runs.emplace(e.task_name, e.task_version, e.party);
            t.copies.insert(e.party);  // the copy's progress counts its runs
          } else if constexpr (std::is_same_v<T, TaskLaunched> || std::is_same_v<T, TaskStartRequested> ||
                               std::is_same_v<T, TaskResourcesApplied> ||
                               std::is_same_v<T, TaskResourcesReturned>) {
            t.runs.emplace(e.task_name, e.task_version, e.party);
          } else if constexpr (is_one_of_schedule_events<T>) {
            t.all_copies = true;  // pending_reason and cancel_signal
          } else if constexpr (std::is_same_v<T, ScheduleTaskVersionCreated> ||
                               std::is_same_v<T, ScheduleTaskStatusChanged> ||
                               std::is_same_v<T, TaskAdmissionStarted> ||
                               std::is_same_v<T, TaskResourcesAnswered> ||
                               std::is_same_v<T, TaskAdmissionEnded>) {
            t.all_copies = true;
            t.tasks.insert(e.task_name);  // a waiting run's pending_reason
          } else {
            t.tracking = true;  // MetricsSaved, DataOutputTracked, ModelSaved, TrackingDeleted
          }
        },
        event.body);
  }
  return t;
}

using Rows = std::map<std::pair<std::string, std::string>, std::string>;  // (family, key) -> value

void diff(const Rows& before, const Rows& after, std::vector<ViewChange>* out) {
  for (const auto& [key, value] : after) {
    auto it = before.find(key);
    if (it == before.end() || it->second != value) out->push_back({key.first, key.second, value});
  }
  for (const auto& [key, value] : before)
    if (!after.count(key)) out->push_back({key.first, key.second, std::nullopt});
}

Rows rows_of(std::vector<ViewRow> rows) {
  Rows out;
  for (auto& row : rows) out[{row.family, row.key}] = std::move(row.value);
  return out;
}

void copy_rows(const JobState& s, const JobCopy& copy, Rows* out) {
  (*out)[{kJobsView, job_view_key(s.job_id, copy.party)}] = job_row_text(s, copy);
  if (copy.resource_in_use)
    (*out)[{kResourcesView, join0({copy.party.party_id, copy.party.role, s.job_id})}] = Json{
        {"job_id", s.job_id},
        {"role", copy.party.role},
        {"party_id", copy.party.party_id},
        {"cores", copy.cores},
        {"status", to_string(copy.status)}}.dump();
}

void run_rows(const JobState& s, const TaskRun& run, Rows* out) {
  (*out)[{kTasksView, task_view_key(s.job_id, run)}] = task_row(s, run).dump();
  (*out)[{kExecutionsView, run.execution_id}] = s.job_id;
}

// The rows of the touched copies, runs and tasks in one state.
Rows touched_rows(const JobState& s, const Touched& t) {
  Rows out;
  if (!s.exists || s.cleaned) return out;
  for (const JobCopy& copy : s.copies)
    if (t.all_copies || t.copies.count(copy.party)) copy_rows(s, copy, &out);
  for (const TaskRun& run : s.runs)
    if (t.tasks.count(run.task_name) || t.runs.count({run.task_name, run.task_version, run.party}))
      run_rows(s, run, &out);
  return out;
}

Rows tracking_rows(const JobState& s) {
  std::vector<ViewRow> rows;
  if (s.exists && !s.cleaned) tracking_views(s, &rows);
  return rows_of(std::move(rows));
}

}  // namespace

std::vector<ViewRow> job_views(const JobState& s) {
  std::vector<ViewRow> rows;
  if (!s.exists || s.cleaned) return rows;
  Rows out;
  for (const JobCopy& copy : s.copies) copy_rows(s, copy, &out);
  for (const TaskRun& run : s.runs) run_rows(s, run, &out);
  for (auto& [key, value] : out) rows.push_back({key.first, key.second, std::move(value)});
  tracking_views(s, &rows);
  return rows;
}

std::vector<ViewChange> job_view_changes(const JobState& before, const JobState& after,
                                         const std::vector<JobEvent>& events) {
  std::vector<ViewChange> out;
  const Touched t = touched_by(events);
  if (t.all) {
    diff(rows_of(job_views(before)), rows_of(job_views(after)), &out);
    return out;
  }
  diff(touched_rows(before, t), touched_rows(after, t), &out);
  if (t.tracking) diff(tracking_rows(before), tracking_rows(after), &out);
  return out;
}

}  // namespace flowstone::domain
