// Reachability of the remote parties, as their Party actors last saw it: up or down since when, the last
// error, the calls waiting. Each Party actor writes its own row after every change; the site route and
// `flowstone site status` read all rows.
//
// Thread rules: every method is thread-safe and short (one lock, no I/O).
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "events/common/json.hpp"

namespace flowstone::actors {

enum class Reach { unknown, up, down, no_address };

struct PartyReachability {
  std::string party_id;
  std::string address;  // host:port the calls go to (the route, or the proxy), "" without one
  bool via_proxy = false;
  Reach state = Reach::unknown;  // unknown until the first call is answered or fails
  int64_t since_ms = 0;          // when `state` began
  int64_t last_answer_ms = 0;    // the last answer of any code
  int64_t last_error_ms = 0;
  std::string last_error;    // why the last failed attempt got no answer
  size_t calls_waiting = 0;  // calls in flight, waiting for a retry, or queued behind another of their lane
  uint64_t calls_answered = 0;
  uint64_t calls_given_up = 0;   // answered FEDERATED_ERROR after their window closed
  uint64_t failed_attempts = 0;  // attempts without an answer (retried or given up)
};

const char* reach_name(Reach reach);
Json reachability_json(const PartyReachability& row);

class ReachabilityBoard {
 public:
  void Put(const PartyReachability& row) {
    std::lock_guard<std::mutex> lock(mu_);
    rows_[row.party_id] = row;
  }
  std::vector<PartyReachability> All() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<PartyReachability> out;
    out.reserve(rows_.size());
    for (const auto& [id, row] : rows_) out.push_back(row);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, PartyReachability> rows_;
};

}  // namespace flowstone::actors
