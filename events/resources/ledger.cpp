#include "events/resources/ledger.hpp"

#include <vector>

namespace flowstone::domain {
namespace {

// A waiter that has not asked again for this long has gone (admitted elsewhere, stopped, failed).
constexpr int64_t kWaiterGoneMs = 5000;

}  // namespace

int64_t job_order(const std::string& job_id) {
  if (job_id.size() < 21) return 0;
  int64_t order = 0;
  for (size_t i = 2; i < 20; ++i) {
    if (job_id[i] < '0' || job_id[i] > '9') return 0;
    order = order * 10 + (job_id[i] - '0');
  }
  char last = job_id.back();
  return order * 10 + (last >= '0' && last <= '9' ? last - '0' : 0);
}

int Ledger::in_use() const {
  int sum = 0;
  for (const auto& [holder, cores] : held_) sum += cores;
  return sum;
}

int Ledger::held_by(const std::string& holder) const {
  auto it = held_.find(holder);
  return it == held_.end() ? 0 : it->second;
}

void Ledger::Restore(const std::string& holder, int cores) {
  held_[holder] = cores;
}

void Ledger::Release(const std::string& holder, int64_t now_ms, bool keep_waiting) {
  held_.erase(holder);
  waiting_.erase(holder);
  auto parked = granted_waiters_.find(holder);
  if (keep_waiting && parked != granted_waiters_.end()) {
    parked->second.last_refused_ms = now_ms;
    waiting_[holder] = parked->second;
  }
  if (parked != granted_waiters_.end()) granted_waiters_.erase(parked);
}

LedgerAnswer Ledger::Refuse(const std::string& holder, const Waiter& me, int64_t now_ms,
                            std::string message) {
  Waiter& w = waiting_[holder];
  if (w.first_refused_ms == 0) w.first_refused_ms = now_ms;
  w.cores = me.cores;
  w.priority = me.priority;
  w.submitted_ms = me.submitted_ms;
  w.last_refused_ms = now_ms;
  return LedgerAnswer{RetCode::job_resource_exception, "Job resource exception: " + message};
}

LedgerAnswer Ledger::Reserve(const std::string& holder, int cores, int priority, int64_t submitted_ms,
                             int64_t now_ms) {
  if (held_.count(holder)) return LedgerAnswer{RetCode::success, "held already"};
  if (cores > total_)
    return LedgerAnswer{RetCode::job_resource_limit_exceeded,
                        "Resource limit exceeded: the job needs " + std::to_string(cores) +
                            " cores and the party has " + std::to_string(total_) + " in total"};
  std::vector<std::string> gone;
  for (const auto& [other, w] : waiting_)
    if (now_ms - w.last_refused_ms > kWaiterGoneMs) gone.push_back(other);
  for (const auto& other : gone) waiting_.erase(other);

  Waiter me{cores, priority, submitted_ms, 0, 0};
  const int free = total_ - in_use();
  for (const auto& [other, w] : waiting_) {
    if (other == holder || held_.count(other) || !ahead(w, me)) continue;
    bool starving = now_ms - w.first_refused_ms >= starvation_ms_;
    if (w.cores <= free || starving)
      return Refuse(holder, me, now_ms,
                    std::string(starving ? "cores are kept for " : "waiting behind ") + other +
                        " (priority " + std::to_string(w.priority) + ", " + std::to_string(w.cores) +
                        " cores)");
  }
  if (cores > free)
    return Refuse(holder, me, now_ms,
                  std::to_string(cores) + " cores needed, " + std::to_string(free) + " of " +
                      std::to_string(total_) + " free");
  held_[holder] = cores;
  if (auto it = waiting_.find(holder); it != waiting_.end()) {
    granted_waiters_[holder] = it->second;
    waiting_.erase(it);
  }
  return LedgerAnswer{RetCode::success, "success"};
}

}  // namespace flowstone::domain
