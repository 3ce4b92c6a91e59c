// The Ledger: one party's computing cores and who holds them, with the admission policy that decides
// who gets them next. Pure: no I/O, no clock (callers pass `now_ms`); one owner (the resource manager
// actor); not thread-safe.
//
// Policy (written down in the README): a request is granted when its cores fit in what is free, unless a
// job ranked ahead of it is waiting and either fits now (it goes first: priority, higher first, then
// submit order) or has waited longer than `starvation_ms` (then the capacity is kept for it, so a large
// job is not starved by a stream of small ones). A job that does not fit does not block the ones behind
// it. A job that asks for more than the party's total can never run: 1006.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "events/common/ret_code.hpp"

namespace flowstone::domain {

// The party's computing capacity, registered as an event at every start where it changed (spec 5.1).
struct CapacityRegistered {
  std::string engine = "standalone";
  int cores = 0;
  int64_t at_ms = 0;
};

// A job's submit order from its id: the scheduler's YYYYmmddHHMMSS + microseconds + counter (spec 4.1),
// read as "YYmmddHHMMSSffffff" then the counter's last digit; 0 for an id of another shape.
int64_t job_order(const std::string& job_id);

struct LedgerAnswer {
  RetCode code = RetCode::success;  // granted; job_resource_exception: not now; ..._limit_exceeded: never
  std::string message;
};

class Ledger {
 public:
  explicit Ledger(int total_cores = 0, int64_t starvation_ms = 60000)
      : total_(total_cores), starvation_ms_(starvation_ms) {}

  // `holder`: one job copy ("job_id/role/party_id"). `order`: the job's submit order, the same at every
  // party (job_order()), so every party ranks waiting jobs alike and two parties never keep cores for
  // two different jobs that each wait for the other.
  LedgerAnswer Reserve(const std::string& holder, int cores, int priority, int64_t order, int64_t now_ms);
  // `keep_waiting`: the job gives its grant back because another party refused it; it still waits, and
  // keeps its place (its first refusal counts on towards starvation).
  void Release(const std::string& holder, int64_t now_ms = 0, bool keep_waiting = false);
  void Restore(const std::string& holder, int cores);  // a holding recorded in the log, at start

  int total() const { return total_; }
  int in_use() const;
  int held_by(const std::string& holder) const;
  size_t waiting() const { return waiting_.size(); }

 private:
  struct Waiter {
    int cores = 0, priority = 0;
    int64_t submitted_ms = 0, first_refused_ms = 0, last_refused_ms = 0;
  };
  static bool ahead(const Waiter& a, const Waiter& b) {
    return a.priority != b.priority ? a.priority > b.priority : a.submitted_ms < b.submitted_ms;
  }
  LedgerAnswer Refuse(const std::string& holder, const Waiter& me, int64_t now_ms, std::string message);

  int total_;
  int64_t starvation_ms_;
  std::map<std::string, int> held_;
  std::map<std::string, Waiter> waiting_;
  std::map<std::string, Waiter> granted_waiters_;  // holders that had waited: their place, if they come back
};

}  // namespace flowstone::domain
