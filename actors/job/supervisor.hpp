// Supervisor: how the scheduler learns the statuses of a job's runs at the other parties (spec 4.5),
// as one strategy per sync_type behind one interface. The job actor asks its supervisor every
// interval() which runs to collect (partner/task/collect); the answers come back as party reports.
//
//   push (callback): parties report each change of their runs; the supervisor only collects a run it has
//                    not heard of for a while, so a lost report cannot leave a task running forever
//                    (FATE-Flow has no such fallback).
//   poll:            every unfinished run at every remote party is collected each interval.
//
// Pure policy over the job's state: no I/O, no clock (the caller passes `now_ms`). Thread rules: const
// after construction; used by the one job actor that owns it.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "actors/config.hpp"
#include "events/job/job.hpp"

namespace flowstone::actors {

class Supervisor {
 public:
  virtual ~Supervisor() = default;
  virtual const char* name() const = 0;
  virtual std::chrono::milliseconds interval() const = 0;
  // The collect calls due now.
  virtual std::vector<domain::CollectRemoteTask> due(const domain::JobState& job, int64_t now_ms) const = 0;
};

// The strategy of the job's sync_type ("callback" or "poll").
std::unique_ptr<Supervisor> make_supervisor(const std::string& sync_type, const FederationConfig& config);

}  // namespace flowstone::actors
