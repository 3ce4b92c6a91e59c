// Projections rebuilt from the log alone: every job stream is replayed through the domain's evolve and
// its view rows recomputed. `RebuildViews` replaces the stored views with the result; `VerifyViews`
// compares them with what is stored and lists every difference (and checks the ledger invariant and that
// every model file an event names is on disk). Blocking; run them with the server
// stopped or from a thread that may block.
#pragma once
#include <string>
#include <vector>

#include "store/event_log.hpp"

namespace flowstone::store {

struct ProjectionReport {
  size_t streams = 0;
  size_t events = 0;
  size_t rows = 0;
  std::vector<std::string> differences;  // empty when the stored views equal the rebuilt ones
  std::vector<std::string> errors;       // undecodable events, unreadable streams
  bool ok() const { return differences.empty() && errors.empty(); }
};

// The view families the job projections use.
std::vector<std::string> job_view_families();
// Every family a server opens the log with: the job views and the aggregates' snapshots (snapshots.hpp).
std::vector<std::string> log_families();

Status RebuildViews(EventLog& log, ProjectionReport* report);
Status VerifyViews(EventLog& log, ProjectionReport* report);

}  // namespace flowstone::store
