// decide: each command goes to the part of the job it concerns (parts.hpp); the scheduler's step follows in
// the same decision.
#include "events/job/parts.hpp"

namespace flowstone::domain {

Decision reject(RetCode code, std::string message) {
  Decision d;
  d.code = code;
  d.message = std::move(message);
  return d;
}

Decision decide(const JobState& state, const JobCommand& command) {
  using namespace job;
  return std::visit(
      [&](const auto& cmd) -> Decision {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, CreateJob>) return on_create(state, cmd);
        if constexpr (std::is_same_v<T, JoinJob>) return on_join(state, cmd);
        if constexpr (std::is_same_v<T, UpdateCopyStatus>) return on_update_copy(state, cmd);
        if constexpr (std::is_same_v<T, StopCopy>) return on_stop_copy(state, cmd);
        if constexpr (std::is_same_v<T, HoldResources>) return on_hold(state, cmd);
        if constexpr (std::is_same_v<T, ReturnResources>) return on_return(state, cmd);
        if constexpr (std::is_same_v<T, AddNotes>) return on_notes(state, cmd);
        if constexpr (std::is_same_v<T, ReportTaskStatus>) return on_report(state, cmd);
        if constexpr (std::is_same_v<T, RecordLaunch>) return on_launch(state, cmd);
        if constexpr (std::is_same_v<T, FailRun>) return on_fail_run(state, cmd);
        if constexpr (std::is_same_v<T, TimeoutRun>) return on_timeout_run(state, cmd);
        if constexpr (std::is_same_v<T, UpdateTaskStatus>) return on_update_task(state, cmd);
        if constexpr (std::is_same_v<T, StartTask>) return on_start_task(state, cmd);
        if constexpr (std::is_same_v<T, StopTask>) return on_stop_task(state, cmd);
        if constexpr (std::is_same_v<T, RerunTask>) return on_rerun_task(state, cmd);
        if constexpr (std::is_same_v<T, CollectTask>) return on_collect(state, cmd);
        if constexpr (std::is_same_v<T, ApplyTaskResources>) return on_apply_task_cores(state, cmd);
        if constexpr (std::is_same_v<T, ReturnTaskResources>) return on_return_task_cores(state, cmd);
        if constexpr (std::is_same_v<T, StopJob>) return on_stop(state, cmd);
        if constexpr (std::is_same_v<T, RerunJob>) return on_rerun(state, cmd);
        if constexpr (std::is_same_v<T, CleanJob>) return on_clean(state, cmd);
        if constexpr (std::is_same_v<T, TimeoutJob>) return on_timeout_job(state, cmd);
        if constexpr (std::is_same_v<T, ReportPartyStatus>) return on_party_report(state, cmd);
        if constexpr (std::is_same_v<T, CopyCreateAnswered>) return on_copy_created(state, cmd);
        if constexpr (std::is_same_v<T, EndCallAnswered>) return on_end_call_answered(state, cmd);
        if constexpr (std::is_same_v<T, TaskStartAnswered>) return on_task_started(state, cmd);
        if constexpr (std::is_same_v<T, ResourcesAnswered>) return on_resources_answered(state, cmd);
        if constexpr (std::is_same_v<T, TaskResourcesAnswer>) return on_task_resources_answer(state, cmd);
        if constexpr (std::is_same_v<T, SaveMetrics> || std::is_same_v<T, TrackDataOutput> ||
                      std::is_same_v<T, SaveModel> || std::is_same_v<T, DeleteTracking>)
          return decide_tracking(state, cmd);
        if constexpr (std::is_same_v<T, Advance>) {
          Step step(state, cmd.now_ms);
          advance(step);
          return step.take();
        }
      },
      command);
}

}  // namespace flowstone::domain
