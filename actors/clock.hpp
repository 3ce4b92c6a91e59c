// Time, injected. Every actor reads the time from its Environment's Clock and arms its timers through its
// Timers, never from the system directly, so tests can run actors on a clock they move by hand: timeouts,
// retries and backoffs happen without sleeping (tests/actors).
//
// Thread rules: both are shared by every actor of a server; every method is thread-safe. A timer's action
// runs on a thread of the Timers' own (the CAF clock's, or the test's that moves the clock) and must only
// post a message to an actor.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace caf {
class actor_system;
}

namespace flowstone::actors {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() const = 0;  // milliseconds since the epoch
};

class Timers {
 public:
  virtual ~Timers() = default;
  // Runs `action` once the clock reaches `due_ms` (at once if it has).
  virtual void at(int64_t due_ms, std::function<void()> action) = 0;
};

// The wall clock, and timers on the CAF actor system's clock.
std::shared_ptr<Clock> system_clock();
std::shared_ptr<Timers> caf_timers(caf::actor_system& system, std::shared_ptr<const Clock> clock);

// A clock that moves only when told, with the timers that go with it: Advance fires every timer that has
// come due, in due order, on the calling thread.
class ManualClock : public Clock, public Timers {
 public:
  explicit ManualClock(int64_t start_ms) : now_(start_ms) {}
  int64_t now_ms() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void at(int64_t due_ms, std::function<void()> action) override {
    bool due;
    {
      std::lock_guard<std::mutex> lock(mu_);
      due = due_ms <= now_;
      if (!due) pending_.emplace(std::make_pair(due_ms, sequence_++), std::move(action));
    }
    if (due) action();
  }
  void Advance(int64_t ms) {
    std::vector<std::function<void()>> fire;
    {
      std::lock_guard<std::mutex> lock(mu_);
      now_ += ms;
      while (!pending_.empty() && pending_.begin()->first.first <= now_) {
        fire.push_back(std::move(pending_.begin()->second));
        pending_.erase(pending_.begin());
      }
    }
    for (auto& action : fire) action();
  }
  size_t pending() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pending_.size();
  }

 private:
  mutable std::mutex mu_;
  int64_t now_;
  uint64_t sequence_ = 0;
  std::map<std::pair<int64_t, uint64_t>, std::function<void()>> pending_;
};

}  // namespace flowstone::actors
