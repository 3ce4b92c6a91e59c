// Query views of a job (FATE-Flow's t_job and t_task rows, same field names), as a pure function of the
// job's state. The host stores them in their own column families alongside the events that produced
// them; a rebuild recomputes them from the log alone. Pure and thread-safe.
#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "events/job/job.hpp"

namespace flowstone::domain {

inline constexpr const char* kJobsView = "jobs";              // job_id \0 role \0 party_id -> t_job row
inline constexpr const char* kTasksView = "tasks";            // job_id \0 task \0 role \0 party \0 version
inline constexpr const char* kExecutionsView = "executions";  // execution_id -> job_id
inline constexpr const char* kResourcesView = "resources";    // party_id \0 role \0 job_id -> cores held
// What runs produced (events/tracking.hpp); a run's prefix is job \0 role \0 party \0 task \0 version.
inline constexpr const char* kMetricsView = "metrics";  // run prefix \0 seq -> metric item
inline constexpr const char* kDataOutputsView =
    "data_outputs";                                   // run prefix \0 output_key \0 index -> record
inline constexpr const char* kModelsView = "models";  // model_id \0 version \0 role \0 party \0 task \0 key

struct ViewRow {
  std::string family;
  std::string key;
  std::string value;
  bool operator==(const ViewRow& o) const { return family == o.family && key == o.key && value == o.value; }
};

std::vector<ViewRow> job_views(const JobState& state);

// A change of one view row: its new value, or nullopt when the row is gone.
struct ViewChange {
  std::string family;
  std::string key;
  std::optional<std::string> value;
};
// The rows that `events` (turning `before` into `after`) change: only the rows of the copies, runs and tasks
// the events touch are rendered again, and every other row of the job is left as it is (a whole-job event,
// a create or a clean, changes every row). view_changes applied to views equal to job_views(before) give
// job_views(after).
std::vector<ViewChange> job_view_changes(const JobState& before, const JobState& after,
                                         const std::vector<JobEvent>& events);

// A view key from its parts, separated by '\0' (so a prefix scan stops at part boundaries).
std::string join0(std::initializer_list<std::string> parts);

std::string job_view_key(const std::string& job_id, const PartyRef& party);
std::string job_view_prefix(const std::string& job_id);  // every copy of one job
std::string task_view_key(const std::string& job_id, const TaskRun& run);

// The tracking views' keys (see above). tracking_run_prefix ends with the separator.
std::string tracking_run_prefix(const std::string& job_id, const PartyRef& party,
                                const std::string& task_name, int task_version);
std::string model_view_key(const std::string& model_id, const std::string& model_version,
                           const PartyRef& party, const std::string& task_name,
                           const std::string& output_key);
void tracking_views(const JobState& state, std::vector<ViewRow>* rows);

Json job_row(const JobState& state, const JobCopy& copy);
// job_row(state, copy).dump(), made without copying the DAG (the views' form).
std::string job_row_text(const JobState& state, const JobCopy& copy);
Json task_row(const JobState& state, const TaskRun& run);

// The audit history: one line of text per event, and the entry /v2/job/history/query answers with.
std::string describe_event(const JobEvent& event);
Json history_entry(uint64_t version, const JobEvent& event);
// An event that reports trouble (a failure, timeout or cancel, an error, a refusal): the schedule_error log.
bool is_trouble(const JobEvent& event);

}  // namespace flowstone::domain
