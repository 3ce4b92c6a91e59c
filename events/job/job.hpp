// The Job aggregate: one job at one party server, as a pure state machine.
//
//   decide(state, command)  -> Decision{events, effects} or a refusal
//   apply(state, event)     (evolve: the state after the event)
//
// Its parts, one file each (events/job/): the copy lifecycle (create.cpp, copy.cpp), the task runs of the
// parties served here (runs.cpp, task_cores.cpp), the scheduler's federated record (schedule.cpp), admission
// of the job's and each task's resources (admission.cpp), what runs produce (tracking.cpp), inheritance
// (inheritance.cpp) and what a restarting host must redo (recovery.cpp). decide.cpp and apply.cpp route
// commands and events to them.
//
// With parties on other servers, this server's aggregate is one of several: the scheduler's holds the
// schedule record and drives the others with typed calls (effects.hpp); a party's answers the partner
// commands and, in callback mode, reports its own statuses to the scheduler. Time enters only through
// commands (`now_ms`) and is recorded in events, so replaying the log rebuilds the same state. Pure: no
// I/O, no clock; not thread-safe (one owner per job).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "events/job/commands.hpp"
#include "events/job/config.hpp"
#include "events/job/decision.hpp"
#include "events/job/effects.hpp"
#include "events/job/events.hpp"
#include "events/job/state.hpp"

namespace flowstone::domain {

Decision decide(const JobState& state, const JobCommand& command);

// decide(), then the scheduler's Advance on the resulting state, as one decision: a command and the
// scheduling it enables are appended together (one sync). `next`, if given, receives the state after it.
// The command's events record `actor` as who caused them (empty: command_actor), the step's step_actor.
Decision decide_and_advance(const JobState& state, const JobCommand& command, int64_t now_ms,
                            JobState* next = nullptr, const std::string& actor = "");

// Who caused a command's events when its sender did not say (events/job/actor.cpp): "worker <execution
// id>", "launcher", "detector", "resource manager", "scheduler <party>", a party "role:id" for its report
// or answer, "client".
std::string command_actor(const JobState& state, const JobCommand& command);
// Who caused the events of the step that follows a command: "scheduler <party>", or "server" at a party
// that does not schedule the job.
std::string step_actor(const JobState& state);

JobState evolve(JobState state, const JobEvent& event);

// What a host restarting on this state must do: launch runs the scheduler started but no launcher took,
// check runs whose launcher may be gone, and repeat the calls whose outcome is not yet recorded (every
// partner command is idempotent by meaning). (Liveness is the host's business.)
std::vector<Effect> recovery_effects(const JobState& state);
// The calls that tell the remote parties that have not answered the job's end of it (its status, then the
// stop): repeated by recovery, and by the scheduler's actor after a backoff while any is owed.
std::vector<Effect> undelivered_end_calls(const JobState& state);

// The collects that ask each remote party for the status of the job's unfinished runs
// (partner/task/collect). `stale_ms` > 0: only parties whose status has not changed for that long.
std::vector<CollectRemoteTask> collect_calls(const JobState& state, int64_t now_ms, int64_t stale_ms);

// When the detectors must look again: the earliest time a local run passes its timeout, the job passes
// dag.conf.timeout or its admission timeout, an auto-retry's backoff ends, or a refused job or task asks
// for its resources again. 0: nothing pending.
int64_t next_deadline(const JobState& state);

// The worker config (spec 7.2) parts the domain knows; the host adds mlmd, computing and log settings.
Json task_config(const JobState& state, const TaskRun& run);

}  // namespace flowstone::domain
