// Job and task statuses of FATE-Flow 2.x: values, levels, transition tables (spec 3.1, 3.2) and the
// two status folds (spec 3.4 federated task status, 3.5 job status). Pure functions, thread-safe.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace flowstone::domain {

// Declaration order is FATE-Flow's StatusSet order; the underlying value is the "level" used in tie-breaks.
enum class Status : uint8_t {
  waiting = 0,
  ready,
  running,
  canceled,
  timeout,
  failed,
  pass,
  success,
  finished
};

std::string_view to_string(Status status);
std::optional<Status> parse_status(std::string_view text);
inline int level(Status status) {
  return static_cast<int>(status);
}

bool is_end(Status status);          // canceled, timeout, failed, pass, success
bool is_interrupt(Status status);    // canceled, timeout, failed
bool is_success(Status status);      // pass, success
bool is_ongoing(Status status);      // waiting, running
bool is_job_status(Status status);   // ready, waiting, running, finished, canceled, timeout, failed, success
bool is_task_status(Status status);  // waiting, running, canceled, timeout, failed, pass, success

// Spec 3.2. Same-status writes are not transitions and return false.
bool job_transition_allowed(Status from, Status to);
bool task_transition_allowed(Status from, Status to);

// The fold's scheduling input: HAVE_NEXT means some waiting task can start now (all its producers succeeded).
enum class SchedulingCode { no_next, have_next };

// Spec 3.4: federated task status from the party statuses of one task version. Empty input -> failed.
// nullopt where FATE-Flow raises (a mix it cannot name, e.g. {waiting, ready}).
std::optional<Status> fold_task_status(const std::vector<Status>& party_statuses);

// Spec 3.5: job status from the federated statuses of the latest version of every task. nullopt where
// FATE-Flow raises (the tick is aborted). The cancel-signal rule is applied by the caller.
std::optional<Status> fold_job_status(const std::vector<Status>& task_statuses, SchedulingCode code);

}  // namespace flowstone::domain
