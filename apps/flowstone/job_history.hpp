// Audit and repeat from history: `flowstone job history -j ID [--json]` prints the job's events at one party
// as a timeline (time, version, kind, what), `--json` the route's rows for scripts; `flowstone job resubmit
// -j ID` submits the job's recorded DAG and conf again as a new job, so a run can be repeated exactly;
// `flowstone job replay -j ID --until N` shows the job and its tasks as they were right after its event N.
#pragma once
#include "apps/flowstone/commands.hpp"

namespace flowstone::cli {

int job_history(const Flags& flags);
int job_resubmit(const Flags& flags);
int job_replay(const Flags& flags);

}  // namespace flowstone::cli
