// JobBoard: the federated status of every unfinished job this site schedules, as its actor last persisted
// it, for the counts other actors need without reading the log: the cap on waiting jobs
// (flowstone.max_waiting_jobs) checked at submit, and gauges. A job leaves the board when it ends.
// Beside it, the task runs this site hosts for unfinished jobs, by their party status (a gauge too), and
// the job actors at rest, for the registry to stop when idle.
//
// Thread rules: any thread; each call takes the board's lock briefly.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "events/common/status.hpp"

namespace flowstone::actors {

class JobBoard {
 public:
  void Set(const std::string& job_id, domain::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job_id);
    if (it != jobs_.end()) {
      --counts_[index(it->second)];
      jobs_.erase(it);
    }
    if (domain::is_end(status)) return;
    jobs_.emplace(job_id, status);
    ++counts_[index(status)];
  }
  size_t Count(domain::Status status) const {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_[index(status)];
  }

  using RunCounts = std::array<size_t, static_cast<size_t>(domain::Status::finished) + 1>;
  // The job's local task runs by party status now; an ended job's runs leave the board.
  void SetRuns(const std::string& job_id, bool ended, const RunCounts& runs) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = runs_.find(job_id);
    if (it != runs_.end()) {
      for (size_t i = 0; i < run_counts_.size(); ++i) run_counts_[i] -= it->second[i];
      runs_.erase(it);
    }
    if (ended) return;
    for (size_t i = 0; i < run_counts_.size(); ++i) run_counts_[i] += runs[i];
    runs_.emplace(job_id, runs);
  }
  // Job actors at rest (their job ended everywhere here, nothing in flight), since when; the registry
  // stops those idle for flowstone.job_actor_idle_ms. `since` 0: not at rest (or stopped).
  void SetRest(const std::string& job_id, int64_t since) {
    std::lock_guard<std::mutex> lock(mu_);
    if (since == 0)
      rest_.erase(job_id);
    else
      rest_[job_id] = since;
  }
  std::vector<std::string> RestingSince(int64_t before, size_t most) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [job_id, since] : rest_)
      if (since <= before && out.size() < most) out.push_back(job_id);
    return out;
  }

  // The messages queued at each job actor as its last command saw them (CAF 0.17 lets only the actor count
  // its mailbox); `depth` < 0 forgets an actor that stops. The gauge shows the deepest.
  void SetMailbox(const std::string& job_id, int64_t depth) {
    std::lock_guard<std::mutex> lock(mu_);
    if (depth < 0)
      mailboxes_.erase(job_id);
    else
      mailboxes_[job_id] = depth;
  }
  int64_t DeepestMailbox() const {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t deepest = 0;
    for (const auto& [job_id, depth] : mailboxes_) deepest = std::max(deepest, depth);
    return deepest;
  }

  // The jobs brought back at start: Replayed() says true once the last of them has replayed (or found its
  // stream damaged), so the start's replay can be timed.
  void ExpectReplays(const std::vector<std::string>& job_ids) {
    std::lock_guard<std::mutex> lock(mu_);
    replaying_.insert(job_ids.begin(), job_ids.end());
  }
  bool Replayed(const std::string& job_id) {
    std::lock_guard<std::mutex> lock(mu_);
    return replaying_.erase(job_id) > 0 && replaying_.empty();
  }

  size_t CountRuns(domain::Status status) const {
    std::lock_guard<std::mutex> lock(mu_);
    return run_counts_[index(status)];
  }

 private:
  static size_t index(domain::Status status) { return static_cast<size_t>(status); }

  mutable std::mutex mu_;
  std::unordered_map<std::string, domain::Status> jobs_;
  RunCounts counts_{};
  std::unordered_map<std::string, RunCounts> runs_;
  std::unordered_map<std::string, int64_t> rest_;
  std::unordered_set<std::string> replaying_;
  std::unordered_map<std::string, int64_t> mailboxes_;
  RunCounts run_counts_{};
};

}  // namespace flowstone::actors
