#include "events/common/status.hpp"

#include <array>
#include <set>

namespace flowstone::domain {
namespace {

constexpr std::array<std::string_view, 9> kNames = {"waiting", "ready", "running", "canceled", "timeout",
                                                    "failed",  "pass",  "success", "finished"};

// The fold rules test membership of a handful of values; a sorted set of distinct statuses with `pass`
// already replaced by `success` is what both FATE-Flow folds start from.
std::set<Status> distinct_with_pass_as_success(const std::vector<Status>& statuses) {
  std::set<Status> out;
  for (Status s : statuses) out.insert(s == Status::pass ? Status::success : s);
  return out;
}

}  // namespace

std::string_view to_string(Status status) {
  const auto index = static_cast<size_t>(status);
  return index < kNames.size() ? kNames[index] : std::string_view("unknown");
}

std::optional<Status> parse_status(std::string_view text) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == text) return static_cast<Status>(i);
  }
  return std::nullopt;
}

bool is_end(Status status) {
  switch (status) {
    case Status::canceled:
    case Status::timeout:
    case Status::failed:
    case Status::pass:
    case Status::success:
      return true;
    default:
      return false;
  }
}

bool is_interrupt(Status status) {
  return status == Status::canceled || status == Status::timeout || status == Status::failed;
}

bool is_success(Status status) {
  return status == Status::pass || status == Status::success;
}

bool is_ongoing(Status status) {
  return status == Status::waiting || status == Status::running;
}

bool is_job_status(Status status) {
  return status != Status::pass;
}

bool is_task_status(Status status) {
  return status != Status::ready && status != Status::finished;
}

bool job_transition_allowed(Status from, Status to) {
  using S = Status;
  switch (from) {
    case S::ready:
      return to == S::waiting || to == S::canceled || to == S::timeout || to == S::failed;
    case S::waiting:
      return to == S::running || to == S::canceled || to == S::timeout || to == S::failed || to == S::success;
    case S::running:
      return to == S::canceled || to == S::timeout || to == S::failed || to == S::success;
    case S::canceled:
      return to == S::waiting;
    case S::timeout:
      return to == S::failed || to == S::success || to == S::waiting;
    case S::failed:
      return to == S::waiting || to == S::canceled;
    case S::success:
      return to == S::waiting;
    default:
      return false;  // pass and finished are not job states anyone moves out of
  }
}

bool task_transition_allowed(Status from, Status to) {
  using S = Status;
  switch (from) {
    case S::waiting:
      // Not failed/canceled: a task that never started cannot be failed (stop skips waiting tasks).
      return to == S::running || to == S::success;
    case S::running:
      return to == S::canceled || to == S::timeout || to == S::failed || to == S::pass || to == S::success;
    case S::canceled:
      return to == S::waiting;
    case S::timeout:
      return to == S::failed || to == S::success;
    default:
      return false;  // failed, pass, success are final for a task version; ready/finished are not task states
  }
}

std::optional<Status> fold_task_status(const std::vector<Status>& party_statuses) {
  if (party_statuses.empty()) return Status::failed;
  const std::set<Status> set = distinct_with_pass_as_success(party_statuses);
  if (set.size() == 1) return *set.begin();
  // Ascending level: canceled beats timeout beats failed (the opposite of the job fold).
  for (Status s : {Status::canceled, Status::timeout, Status::failed}) {
    if (set.count(s)) return s;
  }
  if (set.count(Status::running)) return Status::running;
  // FATE-Flow checks only for `success` here, so some parties done and the rest not yet started is running.
  if (set.count(Status::success)) return Status::running;
  return std::nullopt;
}

std::optional<Status> fold_job_status(const std::vector<Status>& task_statuses, SchedulingCode code) {
  const std::set<Status> set = distinct_with_pass_as_success(task_statuses);
  // FATE-Flow raises on an empty set too; a job always has at least one task.
  if (set.empty()) return std::nullopt;
  if (set.size() == 1) return *set.begin();
  if (set.count(Status::running)) return Status::running;
  if (set.count(Status::waiting) && code == SchedulingCode::have_next) return Status::running;
  // Descending level: failed beats timeout beats canceled (the opposite of the task fold).
  for (Status s : {Status::failed, Status::timeout, Status::canceled}) {
    if (set.count(s)) return s;
  }
  // Some tasks done, the rest waiting and this tick could start none of them.
  if (set == std::set<Status>{Status::waiting, Status::success} && code == SchedulingCode::no_next) {
    return Status::canceled;
  }
  return std::nullopt;
}

}  // namespace flowstone::domain
