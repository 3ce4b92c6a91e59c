// A job's settings: the server's job_default_config, recorded in JobCreated so that a config change never
// alters how a job replays, and the values each task run takes from the DAG and those defaults (its cores,
// timeout and retries). Pure functions; thread-safe.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>

#include "events/dag/dag.hpp"

namespace flowstone::domain {

struct JobDefaults {
  int job_cores = 4;
  int task_cores = 4;
  int64_t task_timeout_s = 259200;
  int auto_retries = 0;
  std::string sync_type = "callback";
  int computing_partitions = 8;
  int64_t retry_backoff_ms = 1000;  // the first auto-retry waits this long, each later one twice as long
  int64_t admission_timeout_s = 0;  // a job waiting for admission longer than this times out (0: never)
};

// How long a job or a task whose resources were refused waits before the scheduler asks again: 500 ms
// after the first refusal, doubling up to 2 s (each attempt is a few events in the job's history).
inline constexpr int64_t kAdmissionRetryMs = 500;
inline constexpr int64_t kAdmissionRetryMaxMs = 2000;
inline int64_t admission_retry_delay(int refusals) {
  return std::min(kAdmissionRetryMs << std::min(std::max(refusals - 1, 0), 4), kAdmissionRetryMaxMs);
}

// An integer member of a JSON object, or `fallback` when it is absent or not an integer.
int json_int(const Json& object, const char* key, int fallback);

// Cores one run of the task takes at the party: the task's own engine_run.cores (task conf or party_tasks
// conf), else dag.conf.task.engine_run.cores, else the default. Arbiters take none.
int task_cores(const Dag& dag, const std::string& task, const PartyRef& party, const JobDefaults& defaults);
// The task's timeout in seconds (task conf `timeout`, else the default).
int64_t task_timeout(const Dag& dag, const std::string& task, const PartyRef& party,
                     const JobDefaults& defaults);
// The task's auto_retries: its own conf wins, then the job conf (an explicit 0 means 0), then the default.
int auto_retries_of(const Dag& dag, const std::string& task, const JobDefaults& defaults);
// The cores a copy of the job takes at a party before its tasks are counted: dag.conf.cores, else the
// default; none for an arbiter.
int copy_cores(const Dag& dag, const PartyRef& party, const JobDefaults& defaults);
// dag.conf.timeout in seconds (Flowstone's job-level timeout); 0: none.
int64_t job_timeout_s(const Dag& dag);

}  // namespace flowstone::domain
