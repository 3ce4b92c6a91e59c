#include "actors/clock.hpp"

#include <caf/all.hpp>
#include <chrono>

namespace flowstone::actors {
namespace {

class SystemClock : public Clock {
 public:
  int64_t now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

struct TimerAction {
  std::function<void()> run;
};

}  // namespace
}  // namespace flowstone::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::TimerAction)

namespace flowstone::actors {
namespace {

// One hidden actor per server whose mailbox receives the actions: CAF's delayed_anon_send brings each at
// its time.
using timer_actor = caf::typed_actor<caf::reacts_to<TimerAction>>;

timer_actor::behavior_type timer_impl(timer_actor::pointer) {
  return {[](const TimerAction& action) { action.run(); }};
}

class CafTimers : public Timers {
 public:
  CafTimers(caf::actor_system& system, std::shared_ptr<const Clock> clock)
      : clock_(std::move(clock)), runner_(system.spawn<caf::hidden>(timer_impl)) {}
  ~CafTimers() override { caf::anon_send_exit(runner_, caf::exit_reason::user_shutdown); }
  void at(int64_t due_ms, std::function<void()> action) override {
    const int64_t delay = std::max<int64_t>(due_ms - clock_->now_ms(), 0);
    caf::delayed_anon_send(runner_, std::chrono::milliseconds(delay), TimerAction{std::move(action)});
  }

 private:
  std::shared_ptr<const Clock> clock_;
  timer_actor runner_;
};

}  // namespace

std::shared_ptr<Clock> system_clock() {
  return std::make_shared<SystemClock>();
}

std::shared_ptr<Timers> caf_timers(caf::actor_system& system, std::shared_ptr<const Clock> clock) {
  return std::make_shared<CafTimers>(system, std::move(clock));
}

}  // namespace flowstone::actors
