#include "actors/job/supervisor.hpp"

#include <algorithm>

namespace flowstone::actors {
namespace {

class PushSupervisor : public Supervisor {
 public:
  explicit PushSupervisor(int64_t reconcile_after_ms) : reconcile_after_ms_(reconcile_after_ms) {}
  const char* name() const override { return "push"; }
  std::chrono::milliseconds interval() const override {
    return std::chrono::milliseconds(std::max<int64_t>(reconcile_after_ms_ / 2, 10));
  }
  std::vector<domain::CollectRemoteTask> due(const domain::JobState& job, int64_t now_ms) const override {
    return domain::collect_calls(job, now_ms, reconcile_after_ms_);
  }

 private:
  int64_t reconcile_after_ms_;
};

class PollSupervisor : public Supervisor {
 public:
  explicit PollSupervisor(int64_t interval_ms) : interval_ms_(interval_ms) {}
  const char* name() const override { return "poll"; }
  std::chrono::milliseconds interval() const override { return std::chrono::milliseconds(interval_ms_); }
  std::vector<domain::CollectRemoteTask> due(const domain::JobState& job, int64_t now_ms) const override {
    return domain::collect_calls(job, now_ms, 0);
  }

 private:
  int64_t interval_ms_;
};

}  // namespace

std::unique_ptr<Supervisor> make_supervisor(const std::string& sync_type, const FederationConfig& config) {
  if (sync_type == "poll") return std::make_unique<PollSupervisor>(config.poll_interval_ms);
  return std::make_unique<PushSupervisor>(config.reconcile_after_ms);
}

}  // namespace flowstone::actors
