// Query views of a job (FATE-Flow's t_job and t_task rows, same field names), as a pure function of the
// job's state. The host stores them in their own column families alongside the events that produced
// them; a rebuild recomputes them from the log alone. Pure and thread-safe.
#pragma once
#include <string>
#include <vector>

#include "events/job.hpp"

namespace flowstone::domain {

inline constexpr const char* kJobsView = "jobs";              // job_id \0 role \0 party_id -> t_job row
inline constexpr const char* kTasksView = "tasks";            // job_id \0 task \0 role \0 party \0 version
inline constexpr const char* kExecutionsView = "executions";  // execution_id -> job_id
inline constexpr const char* kResourcesView = "resources";    // party_id \0 role \0 job_id -> cores held

struct ViewRow {
  std::string family;
  std::string key;
  std::string value;
  bool operator==(const ViewRow& o) const { return family == o.family && key == o.key && value == o.value; }
};

std::vector<ViewRow> job_views(const JobState& state);

std::string job_view_key(const std::string& job_id, const PartyRef& party);
std::string job_view_prefix(const std::string& job_id);  // every copy of one job
std::string task_view_key(const std::string& job_id, const TaskRun& run);

Json job_row(const JobState& state, const JobCopy& copy);
Json task_row(const JobState& state, const TaskRun& run);

// The audit history: one line of text per event, and the entry /v2/job/history/query answers with.
std::string describe_event(const JobEvent& event);
Json history_entry(uint64_t version, const JobEvent& event);

}  // namespace flowstone::domain
