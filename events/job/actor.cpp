// Who caused an event, for the audit timeline: named from the command that decided it when its sender did
// not name itself (a client route names its caller; the others are known by the command's kind), and
// "scheduler" (or "server" at a party that does not schedule the job) for the step that follows a command.
#include "events/job/parts.hpp"

namespace flowstone::domain {
namespace {

std::string scheduler_of(const JobState& state) {
  return state.scheduler_party_id.empty() ? "scheduler" : "scheduler " + state.scheduler_party_id;
}

}  // namespace

std::string command_actor(const JobState& state, const JobCommand& command) {
  return std::visit(
      [&](const auto& cmd) -> std::string {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, CreateJob>)
          return cmd.initiator_party_id.empty() ? "client" : "initiator " + cmd.initiator_party_id;
        if constexpr (std::is_same_v<T, StopJob> || std::is_same_v<T, RerunJob> ||
                      std::is_same_v<T, CleanJob> || std::is_same_v<T, AddNotes> ||
                      std::is_same_v<T, DeleteTracking>)
          return "client";
        if constexpr (std::is_same_v<T, ReportTaskStatus> || std::is_same_v<T, SaveMetrics> ||
                      std::is_same_v<T, TrackDataOutput>)
          return "worker " + cmd.execution_id;
        if constexpr (std::is_same_v<T, SaveModel>) return "worker " + cmd.model.execution_id;
        if constexpr (std::is_same_v<T, RecordLaunch> || std::is_same_v<T, FailRun>) return "launcher";
        if constexpr (std::is_same_v<T, TimeoutRun> || std::is_same_v<T, TimeoutJob>) return "detector";
        if constexpr (std::is_same_v<T, HoldResources>) return "resource manager";
        if constexpr (std::is_same_v<T, JoinJob>) return "scheduler";  // the job's first event here
        if constexpr (std::is_same_v<T, UpdateCopyStatus> || std::is_same_v<T, UpdateTaskStatus> ||
                      std::is_same_v<T, StartTask> || std::is_same_v<T, StopTask> ||
                      std::is_same_v<T, StopCopy> || std::is_same_v<T, RerunTask> ||
                      std::is_same_v<T, CollectTask> || std::is_same_v<T, ApplyTaskResources> ||
                      std::is_same_v<T, ReturnTaskResources> || std::is_same_v<T, ReturnResources>)
          return scheduler_of(state);
        if constexpr (std::is_same_v<T, ReportPartyStatus>)
          return cmd.collected ? scheduler_of(state) : party_text(cmd.party);
        if constexpr (std::is_same_v<T, ResourcesAnswered>)  // a local copy's: this server's resource manager
          return state.is_local(cmd.party) ? "resource manager" : party_text(cmd.party);
        if constexpr (std::is_same_v<T, CopyCreateAnswered> || std::is_same_v<T, EndCallAnswered> ||
                      std::is_same_v<T, TaskResourcesAnswer> || std::is_same_v<T, TaskStartAnswered>)
          return party_text(cmd.party);  // its answer
        if constexpr (std::is_same_v<T, Advance>) return step_actor(state);
        return "server";
      },
      command);
}

std::string step_actor(const JobState& state) {
  return state.is_scheduler ? scheduler_of(state) : "server";
}

Decision decide_and_advance(const JobState& state, const JobCommand& command, int64_t now_ms, JobState* next,
                            const std::string& actor) {
  Decision first = decide(state, command);
  if (!first.ok()) return first;
  const std::string by = actor.empty() ? command_actor(state, command) : actor;
  for (auto& e : first.events) e.actor = by;
  JobState after = state;
  for (const auto& e : first.events) apply(after, e);
  const std::string step_by = step_actor(after);  // a new job is the scheduler's only after its creation
  Step step(std::move(after), now_ms);
  job::advance(step);
  Decision more = step.take(next);
  for (auto& e : more.events) {
    e.actor = step_by;
    first.events.push_back(std::move(e));
  }
  first.effects.insert(first.effects.end(), std::make_move_iterator(more.effects.begin()),
                       std::make_move_iterator(more.effects.end()));
  return first;
}

}  // namespace flowstone::domain
