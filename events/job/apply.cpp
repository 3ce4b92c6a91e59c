// evolve: each event changes the state through the part of the job it belongs to (parts.hpp).
#include "events/job/parts.hpp"

namespace flowstone::domain {

void apply(JobState& state, const JobEvent& event) {
  state.update_time = std::max(state.update_time, event.at_ms);
  std::visit([&](const auto& e) { job::apply(state, e, event.at_ms); }, event.body);
}

JobState evolve(JobState state, const JobEvent& event) {
  apply(state, event);
  return state;
}

const char* event_kind(const JobEvent& event) {
  return std::visit(
      [](const auto& e) -> const char* {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, JobCreated>) return "JobCreated";
        if constexpr (std::is_same_v<T, JobStatusChanged>) return "JobStatusChanged";
        if constexpr (std::is_same_v<T, JobNotesAdded>) return "JobNotesAdded";
        if constexpr (std::is_same_v<T, CopyResourcesApplied>) return "CopyResourcesApplied";
        if constexpr (std::is_same_v<T, CopyResourcesReturned>) return "CopyResourcesReturned";
        if constexpr (std::is_same_v<T, JobCleaned>) return "JobCleaned";
        if constexpr (std::is_same_v<T, TaskVersionCreated>) return "TaskVersionCreated";
        if constexpr (std::is_same_v<T, TaskStatusChanged>) return "TaskStatusChanged";
        if constexpr (std::is_same_v<T, TaskPartyStatusChanged>) return "TaskPartyStatusChanged";
        if constexpr (std::is_same_v<T, TaskLaunched>) return "TaskLaunched";
        if constexpr (std::is_same_v<T, TaskStartRequested>) return "TaskStartRequested";
        if constexpr (std::is_same_v<T, TaskResourcesApplied>) return "TaskResourcesApplied";
        if constexpr (std::is_same_v<T, TaskResourcesReturned>) return "TaskResourcesReturned";
        if constexpr (std::is_same_v<T, ScheduleStatusChanged>) return "ScheduleStatusChanged";
        if constexpr (std::is_same_v<T, JobCancelRequested>) return "JobCancelRequested";
        if constexpr (std::is_same_v<T, ScheduleTaskVersionCreated>) return "ScheduleTaskVersionCreated";
        if constexpr (std::is_same_v<T, ScheduleTaskStatusChanged>) return "ScheduleTaskStatusChanged";
        if constexpr (std::is_same_v<T, PartyJoined>) return "PartyJoined";
        if constexpr (std::is_same_v<T, EndDelivered>) return "EndDelivered";
        if constexpr (std::is_same_v<T, JobProgressChanged>) return "JobProgressChanged";
        if constexpr (std::is_same_v<T, AdmissionStarted>) return "AdmissionStarted";
        if constexpr (std::is_same_v<T, PartyResourcesAnswered>) return "PartyResourcesAnswered";
        if constexpr (std::is_same_v<T, AdmissionEnded>) return "AdmissionEnded";
        if constexpr (std::is_same_v<T, TaskAdmissionStarted>) return "TaskAdmissionStarted";
        if constexpr (std::is_same_v<T, TaskResourcesAnswered>) return "TaskResourcesAnswered";
        if constexpr (std::is_same_v<T, TaskAdmissionEnded>) return "TaskAdmissionEnded";
        if constexpr (std::is_same_v<T, MetricsSaved>) return "MetricsSaved";
        if constexpr (std::is_same_v<T, DataOutputTracked>) return "DataOutputTracked";
        if constexpr (std::is_same_v<T, ModelSaved>) return "ModelSaved";
        if constexpr (std::is_same_v<T, TrackingDeleted>) return "TrackingDeleted";
      },
      event.body);
}

}  // namespace flowstone::domain
