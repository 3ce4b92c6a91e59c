// The Ledger: one party's computing cores, who holds them and who waits for them, as the aggregate of the
// stream "party:<party_id>". Pure: no I/O, no clock (commands carry the time); one owner (the resource
// manager actor); not thread-safe.
//
// Policy (written down in the README): a request is granted when its cores fit in what is left after the
// waiting jobs ranked ahead of it (priority, higher first, then submit order) have kept room for
// themselves: each that fits now keeps its cores, and so does each that has waited longer than
// `starvation_ms` since its first refusal, fitting or not (so a large job is not starved by a stream of
// small ones). A waiter ahead that does not fit and does not starve keeps nothing: it does not block the
// ones behind it. So a queue of small jobs is admitted as fast as their schedulers ask, in any order, while
// the ones ranked ahead never lose their place. A job that asks for more than the party's total can never
// run: 1006.
//
// The waiting queue is part of the state (ReservationQueued at a holder's first refusal, WaiterForgotten
// when it stops asking), so its order and each waiter's first refusal survive a restart. When a waiter
// last asked is not: WaiterClock keeps it in memory, and after a restart every waiter has a fresh
// WaiterClock::kGoneMs to ask again.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "events/common/ret_code.hpp"

namespace flowstone::domain {

// A job's submit order from its id: the scheduler's YYYYmmddHHMMSS + microseconds + counter (spec 4.1),
// read as "YYmmddHHMMSSffffff" then the counter's last digit; 0 for an id of another shape.
int64_t job_order(const std::string& job_id);

// ---- events ----------------------------------------------------------------------------------------

// The party's computing capacity, registered at every start where it changed (spec 5.1).
struct CapacityRegistered {
  std::string engine = "standalone";
  int cores = 0;
};
// `holder` (one job copy, "job_id/role/party_id") now holds `cores`.
struct CoresReserved {
  std::string holder;
  int cores = 0;
};
// The holder gives its cores back. `keep_waiting`: another party refused the job, so it still waits and
// keeps its place (its first refusal counts on towards starvation).
struct CoresReleased {
  std::string holder;
  bool keep_waiting = false;
};
struct Waiter {
  int cores = 0, priority = 0;
  int64_t order = 0;             // job_order(): the same at every party
  int64_t first_refused_ms = 0;  // starvation counts from here
};
// The holder was refused for the first time (or asks for something else now): it waits, in this rank.
struct ReservationQueued {
  std::string holder;
  Waiter waiter;
};
// The waiter stopped asking (admitted elsewhere, stopped, failed): it waits no more.
struct WaiterForgotten {
  std::string holder;
};

struct LedgerEvent {
  int64_t at_ms = 0;
  std::variant<CapacityRegistered, CoresReserved, CoresReleased, ReservationQueued, WaiterForgotten> body;
};

// ---- state -----------------------------------------------------------------------------------------

struct LedgerState {
  std::string engine = "standalone";
  int total = -1;                   // -1: no capacity registered yet
  std::map<std::string, int> held;  // holder -> cores
  std::map<std::string, Waiter> waiting;
  std::map<std::string, Waiter> parked;  // granted waiters: their place, should they be refused elsewhere

  int in_use() const;
  int held_by(const std::string& holder) const;
};

void apply(LedgerState& state, const LedgerEvent& event);

// ---- commands --------------------------------------------------------------------------------------

struct RegisterCapacity {
  std::string engine = "standalone";
  int cores = 0;
};
struct ReserveCores {
  std::string holder;
  int cores = 0, priority = 0;
  int64_t order = 0;
  int64_t starvation_ms = 60000;
  std::vector<std::string> gone;  // waiters that stopped asking (WaiterClock::take_gone)
};
struct ReleaseCores {
  std::string holder;
  bool keep_waiting = false;
};
// What the jobs' own logs say is held (holder -> cores): at start, the ledger is made to agree with them.
// A grant whose job never recorded it was never real; a holding recorded only by the job is the job's.
struct ReconcileHoldings {
  std::map<std::string, int> recorded;
};
using LedgerCommand = std::variant<RegisterCapacity, ReserveCores, ReleaseCores, ReconcileHoldings>;

struct LedgerDecision {
  RetCode code = RetCode::success;  // granted; job_resource_exception: not now; ..._limit_exceeded: never
  std::string message = "success";
  std::vector<LedgerEvent> events;
};

LedgerDecision decide(const LedgerState& state, const LedgerCommand& command, int64_t now_ms);

// ---- when each waiter last asked (volatile) ---------------------------------------------------------

class WaiterClock {
 public:
  static constexpr int64_t kGoneMs = 5000;  // a waiter that has not asked for longer has gone

  void asked(const std::string& holder, int64_t now_ms) { last_[holder] = now_ms; }
  // Keeps the clock to the holders that may wait: called with every event the ledger applied.
  void saw(const LedgerEvent& event);
  // The holders (other than `asking`) silent for longer than kGoneMs, no longer watched.
  std::vector<std::string> take_gone(int64_t now_ms, const std::string& asking);
  size_t watched() const { return last_.size(); }

 private:
  std::map<std::string, int64_t> last_;
};

// The ledger as one object, for callers that keep it in memory (the tests, the benchmarks): decide, then
// apply what was decided.
struct LedgerAnswer {
  RetCode code = RetCode::success;
  std::string message;
};

class Ledger {
 public:
  explicit Ledger(int total_cores = 0, int64_t starvation_ms = 60000);

  LedgerAnswer Reserve(const std::string& holder, int cores, int priority, int64_t order, int64_t now_ms);
  void Release(const std::string& holder, int64_t now_ms = 0, bool keep_waiting = false);
  void Restore(const std::string& holder, int cores);  // a holding recorded in the log, at start

  const LedgerState& state() const { return state_; }
  int total() const { return state_.total; }
  int in_use() const { return state_.in_use(); }
  int held_by(const std::string& holder) const { return state_.held_by(holder); }
  size_t waiting() const { return state_.waiting.size(); }

 private:
  LedgerDecision Run(const LedgerCommand& command, int64_t now_ms);

  LedgerState state_;
  int64_t starvation_ms_;
  WaiterClock clock_;
};

std::string describe(const LedgerEvent& event);

}  // namespace flowstone::domain
