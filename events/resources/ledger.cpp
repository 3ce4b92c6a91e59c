#include "events/resources/ledger.hpp"

#include <algorithm>
#include <optional>

namespace flowstone::domain {
namespace {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

bool ahead(const Waiter& a, const Waiter& b) {
  return a.priority != b.priority ? a.priority > b.priority : a.order < b.order;
}

LedgerDecision refuse(LedgerDecision d, std::string message) {
  d.code = RetCode::job_resource_exception;
  d.message = "Job resource exception: " + message;
  return d;
}

LedgerDecision reserve(const LedgerState& state, const ReserveCores& c, int64_t now_ms) {
  LedgerDecision d;
  if (state.held.count(c.holder)) {
    d.message = "held already";
    return d;
  }
  if (c.cores > state.total)
    return LedgerDecision{RetCode::job_resource_limit_exceeded,
                          "Resource limit exceeded: the job needs " + std::to_string(c.cores) +
                              " cores and the party has " + std::to_string(state.total) + " in total",
                          {}};
  for (const auto& holder : c.gone)
    if (holder != c.holder && state.waiting.count(holder))
      d.events.push_back(LedgerEvent{now_ms, WaiterForgotten{holder}});

  auto queued = state.waiting.find(c.holder);
  Waiter me{c.cores, c.priority, c.order,
            queued == state.waiting.end() ? now_ms : queued->second.first_refused_ms};
  auto refused = [&](std::string message) {
    const bool same = queued != state.waiting.end() && queued->second.cores == me.cores &&
                      queued->second.priority == me.priority && queued->second.order == me.order;
    if (!same) d.events.push_back(LedgerEvent{now_ms, ReservationQueued{c.holder, me}});
    return refuse(std::move(d), std::move(message));
  };

  // The waiters ranked ahead, in rank order, each keep room for themselves out of what is free: one that
  // fits now, or one starving (then all it needs, fitting or not). One that neither fits nor starves keeps
  // nothing, so smaller jobs behind it may pass. What is left is what the one asking may take.
  const int free = state.total - state.in_use();
  std::vector<std::pair<const std::string*, const Waiter*>> ranked_ahead;
  for (const auto& [other, w] : state.waiting) {
    if (other == c.holder || !ahead(w, me)) continue;
    if (std::find(c.gone.begin(), c.gone.end(), other) != c.gone.end()) continue;
    ranked_ahead.emplace_back(&other, &w);
  }
  std::sort(ranked_ahead.begin(), ranked_ahead.end(),
            [](const auto& a, const auto& b) { return ahead(*a.second, *b.second); });
  int left = free;
  const std::string* first_kept = nullptr;
  const Waiter* first_kept_waiter = nullptr;
  bool kept_for_starving = false;
  for (const auto& [other, w] : ranked_ahead) {
    const bool starving = now_ms - w->first_refused_ms >= c.starvation_ms;
    if (w->cores > left && !starving) continue;
    left -= w->cores;
    if (!first_kept || (starving && !kept_for_starving)) {
      first_kept = other;
      first_kept_waiter = w;
      kept_for_starving = starving;
    }
  }
  if (first_kept && c.cores > left)
    return refused(std::string(kept_for_starving ? "cores are kept for " : "waiting behind ") + *first_kept +
                   " (priority " + std::to_string(first_kept_waiter->priority) + ", " +
                   std::to_string(first_kept_waiter->cores) + " cores)");
  if (c.cores > free)
    return refused(std::to_string(c.cores) + " cores needed, " + std::to_string(free) + " of " +
                   std::to_string(state.total) + " free");
  d.events.push_back(LedgerEvent{now_ms, CoresReserved{c.holder, c.cores}});
  return d;
}

LedgerDecision release(const LedgerState& state, const ReleaseCores& c, int64_t now_ms) {
  LedgerDecision d;
  if (state.held.count(c.holder) || state.waiting.count(c.holder) || state.parked.count(c.holder))
    d.events.push_back(LedgerEvent{now_ms, CoresReleased{c.holder, c.keep_waiting}});
  return d;
}

LedgerDecision reconcile(const LedgerState& state, const ReconcileHoldings& c, int64_t now_ms) {
  LedgerDecision d;
  for (const auto& [holder, cores] : state.held)
    if (!c.recorded.count(holder)) d.events.push_back(LedgerEvent{now_ms, CoresReleased{holder, false}});
  for (const auto& [holder, cores] : c.recorded)
    if (state.held_by(holder) != cores || !state.held.count(holder))
      d.events.push_back(LedgerEvent{now_ms, CoresReserved{holder, cores}});
  return d;
}

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

int LedgerState::in_use() const {
  int sum = 0;
  for (const auto& [holder, cores] : held) sum += cores;
  return sum;
}

int LedgerState::held_by(const std::string& holder) const {
  auto it = held.find(holder);
  return it == held.end() ? 0 : it->second;
}

void apply(LedgerState& state, const LedgerEvent& event) {
  std::visit(overloaded{
                 [&](const CapacityRegistered& e) {
                   state.engine = e.engine;
                   state.total = e.cores;
                 },
                 [&](const CoresReserved& e) {
                   state.held[e.holder] = e.cores;
                   if (auto it = state.waiting.find(e.holder); it != state.waiting.end()) {
                     state.parked[e.holder] = it->second;
                     state.waiting.erase(it);
                   }
                 },
                 [&](const CoresReleased& e) {
                   state.held.erase(e.holder);
                   state.waiting.erase(e.holder);
                   auto parked = state.parked.find(e.holder);
                   if (parked == state.parked.end()) return;
                   if (e.keep_waiting) state.waiting[e.holder] = parked->second;
                   state.parked.erase(parked);
                 },
                 [&](const ReservationQueued& e) { state.waiting[e.holder] = e.waiter; },
                 [&](const WaiterForgotten& e) { state.waiting.erase(e.holder); },
             },
             event.body);
}

LedgerDecision decide(const LedgerState& state, const LedgerCommand& command, int64_t now_ms) {
  return std::visit(overloaded{
                        [&](const RegisterCapacity& c) {
                          LedgerDecision d;
                          if (c.cores != state.total || c.engine != state.engine)
                            d.events.push_back(LedgerEvent{now_ms, CapacityRegistered{c.engine, c.cores}});
                          return d;
                        },
                        [&](const ReserveCores& c) { return reserve(state, c, now_ms); },
                        [&](const ReleaseCores& c) { return release(state, c, now_ms); },
                        [&](const ReconcileHoldings& c) { return reconcile(state, c, now_ms); },
                    },
                    command);
}

void WaiterClock::saw(const LedgerEvent& event) {
  std::visit(overloaded{
                 [&](const CoresReserved& e) { last_.erase(e.holder); },
                 [&](const CoresReleased& e) {
                   if (e.keep_waiting)
                     last_[e.holder] = event.at_ms;  // asked again, in effect: it waits on
                   else
                     last_.erase(e.holder);
                 },
                 [&](const ReservationQueued& e) { last_.emplace(e.holder, event.at_ms); },
                 [&](const WaiterForgotten& e) { last_.erase(e.holder); },
                 [&](const CapacityRegistered&) {},
             },
             event.body);
}

std::vector<std::string> WaiterClock::take_gone(int64_t now_ms, const std::string& asking) {
  std::vector<std::string> gone;
  for (auto it = last_.begin(); it != last_.end();) {
    if (it->first != asking && now_ms - it->second > kGoneMs) {
      gone.push_back(it->first);
      it = last_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

Ledger::Ledger(int total_cores, int64_t starvation_ms) : starvation_ms_(starvation_ms) {
  Run(RegisterCapacity{"standalone", total_cores}, 0);
}

LedgerDecision Ledger::Run(const LedgerCommand& command, int64_t now_ms) {
  LedgerDecision d = decide(state_, command, now_ms);
  for (const auto& e : d.events) {
    apply(state_, e);
    clock_.saw(e);
  }
  return d;
}

LedgerAnswer Ledger::Reserve(const std::string& holder, int cores, int priority, int64_t order,
                             int64_t now_ms) {
  clock_.asked(holder, now_ms);
  auto gone = clock_.take_gone(now_ms, holder);
  LedgerDecision d =
      Run(ReserveCores{holder, cores, priority, order, starvation_ms_, std::move(gone)}, now_ms);
  return LedgerAnswer{d.code, d.message};
}

void Ledger::Release(const std::string& holder, int64_t now_ms, bool keep_waiting) {
  Run(ReleaseCores{holder, keep_waiting}, now_ms);
}

void Ledger::Restore(const std::string& holder, int cores) {
  apply(state_, LedgerEvent{0, CoresReserved{holder, cores}});
}

std::string describe(const LedgerEvent& event) {
  return std::visit(
      overloaded{
          [](const CapacityRegistered& e) {
            return "capacity registered: " + std::to_string(e.cores) + " cores (" + e.engine + ")";
          },
          [](const CoresReserved& e) { return e.holder + " holds " + std::to_string(e.cores) + " cores"; },
          [](const CoresReleased& e) {
            return e.holder + " released its cores" + (e.keep_waiting ? " and waits on" : "");
          },
          [](const ReservationQueued& e) {
            return e.holder + " waits for " + std::to_string(e.waiter.cores) + " cores (priority " +
                   std::to_string(e.waiter.priority) + ")";
          },
          [](const WaiterForgotten& e) { return e.holder + " stopped asking and waits no more"; },
      },
      event.body);
}

}  // namespace flowstone::domain
