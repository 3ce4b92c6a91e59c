// JobBoard: the federated status of every unfinished job this site schedules, as its actor last persisted
// it, for the counts other actors need without reading the log: the cap on waiting jobs
// (flowstone.max_waiting_jobs) checked at submit, and gauges. A job leaves the board when it ends.
//
// Thread rules: any thread; each call takes the board's lock briefly.
#pragma once
#include <array>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

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

 private:
  static size_t index(domain::Status status) { return static_cast<size_t>(status); }

  mutable std::mutex mu_;
  std::unordered_map<std::string, domain::Status> jobs_;
  std::array<size_t, static_cast<size_t>(domain::Status::finished) + 1> counts_{};
};

}  // namespace flowstone::actors
