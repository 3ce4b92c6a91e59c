// Task cores at a party (spec 5.4): a run's cores are carved from its copy's job cores. The scheduler
// asks with partner/task/resource/apply before it starts a task; this party grants only while the runs of
// its copy that hold cores leave room, and answers 2004 otherwise, so a scheduler (FATE's or Flowstone's)
// that starts parallel tasks never runs more task cores than the job has here. Grants and returns are
// events of the job (TaskResourcesApplied / TaskResourcesReturned); a run that ends gives its grant back.
// Pure functions of the job's state; thread-safe.
#pragma once
#include "events/job/job.hpp"

namespace flowstone::domain {

// Cores the copy `party` has given to its runs: running, or granted and still its task's latest version,
// and not ended.
int task_cores_in_use(const JobState& state, const PartyRef& party);

}  // namespace flowstone::domain
