// The audit history of a job: one line of text per event (the schedule log's lines too), and the entry
// /v2/job/history/query answers with.
#include <type_traits>
#include <utility>

#include "events/job/views.hpp"

namespace flowstone::domain {

std::string describe_event(const JobEvent& e) {
  return std::visit(
      [](const auto& b) -> std::string {
        using T = std::decay_t<decltype(b)>;
        auto party = [](const PartyRef& p) {
          return p.role.empty() ? std::string("scheduler") : p.role + ":" + p.party_id;
        };
        if constexpr (std::is_same_v<T, JobCreated>) {
          return "job created by " + b.initiator_party_id + ", scheduler " + b.scheduler_party_id;
        } else if constexpr (std::is_same_v<T, JobStatusChanged>) {
          return "job status " + std::string(to_string(b.status)) + " at " + party(b.party) + " (" +
                 b.reason + ")";
        } else if constexpr (std::is_same_v<T, ScheduleStatusChanged>) {
          return "job status " + std::string(to_string(b.status)) + " at scheduler (" + b.reason + ")";
        } else if constexpr (std::is_same_v<T, ScheduleTaskVersionCreated>) {
          return "task " + b.task_name + " version " + std::to_string(b.task_version) + " at scheduler (" +
                 b.reason + ")";
        } else if constexpr (std::is_same_v<T, ScheduleTaskStatusChanged>) {
          return "task " + b.task_name + "." + std::to_string(b.task_version) + " status " +
                 std::string(to_string(b.status)) + " at scheduler";
        } else if constexpr (std::is_same_v<T, JobCancelRequested>) {
          return "stop requested with " + std::string(to_string(b.stop_status)) + " (" + b.reason + ")";
        } else if constexpr (std::is_same_v<T, JobNotesAdded>) {
          return "notes at " + party(b.party) + ": " + b.notes;
        } else if constexpr (std::is_same_v<T, TaskVersionCreated>) {
          return "task " + b.task_name + " version " + std::to_string(b.task_version) + " at " +
                 party(b.party) + " (" + b.reason + ")";
        } else if constexpr (std::is_same_v<T, TaskStatusChanged>) {
          return "task " + b.task_name + "." + std::to_string(b.task_version) + " status " +
                 std::string(to_string(b.status)) + " at " + party(b.party);
        } else if constexpr (std::is_same_v<T, TaskPartyStatusChanged>) {
          return "task " + b.execution_id + " party_status " + std::string(to_string(b.status)) +
                 (b.error.empty() ? "" : " error: " + b.error);
        } else if constexpr (std::is_same_v<T, TaskLaunched>) {
          return "task " + b.execution_id + " launched, launcher pid " + std::to_string(b.launcher_pid);
        } else if constexpr (std::is_same_v<T, PartyJoined>) {
          return party(b.party) + " created its copy of the job";
        } else if constexpr (std::is_same_v<T, EndDelivered>) {
          return party(b.party) + " has the job's end";
        } else if constexpr (std::is_same_v<T, CopyResourcesApplied>) {
          return party(b.party) + " holds " + std::to_string(b.cores) + " cores";
        } else if constexpr (std::is_same_v<T, CopyResourcesReturned>) {
          return party(b.party) + " returned " + std::to_string(b.cores) + " cores (" + b.reason + ")";
        } else if constexpr (std::is_same_v<T, TaskResourcesApplied>) {
          return party(b.party) + " task " + b.task_name + " version " + std::to_string(b.task_version) +
                 " holds " + std::to_string(b.cores) + " of the job's cores";
        } else if constexpr (std::is_same_v<T, TaskResourcesReturned>) {
          return party(b.party) + " task " + b.task_name + " version " + std::to_string(b.task_version) +
                 " returned its cores (" + b.reason + ")";
        } else if constexpr (std::is_same_v<T, JobProgressChanged>) {
          return "job progress " + std::to_string(b.progress) + "% pushed to the parties";
        } else if constexpr (std::is_same_v<T, TaskAdmissionStarted>) {
          return "task " + b.task_name + "." + std::to_string(b.task_version) + " resources attempt " +
                 std::to_string(b.attempt) + ": asked at its remote parties";
        } else if constexpr (std::is_same_v<T, TaskResourcesAnswered>) {
          return "task " + b.task_name + "." + std::to_string(b.task_version) + " resources attempt " +
                 std::to_string(b.attempt) + ": " + party(b.party) +
                 (b.code == 0 ? " granted" : " refused (" + std::to_string(b.code) + " " + b.message + ")");
        } else if constexpr (std::is_same_v<T, TaskAdmissionEnded>) {
          return "task " + b.task_name + "." + std::to_string(b.task_version) + " resources attempt " +
                 std::to_string(b.attempt) + (b.granted ? ": granted everywhere" : ": " + b.reason);
        } else if constexpr (std::is_same_v<T, AdmissionStarted>) {
          return "admission attempt " + std::to_string(b.attempt) + ": resources asked at every party";
        } else if constexpr (std::is_same_v<T, PartyResourcesAnswered>) {
          return "admission attempt " + std::to_string(b.attempt) + ": " + party(b.party) +
                 (b.code == 0 ? " granted" : " refused (" + std::to_string(b.code) + " " + b.message + ")");
        } else if constexpr (std::is_same_v<T, JobCleaned>) {
          return "job cleaned (" + b.reason + "): its views and outputs removed here";
        } else if constexpr (std::is_same_v<T, MetricsSaved>) {
          std::string names;
          for (const Json& m : b.metrics)
            names += (names.empty() ? "" : ", ") + m.value("name", std::string("?"));
          return "task " + b.execution_id + " saved metrics: " + names;
        } else if constexpr (std::is_same_v<T, DataOutputTracked>) {
          return "task " + b.execution_id + " output data " + b.record.value("output_key", std::string()) +
                 "[" + std::to_string(b.record.value("index", 0)) + "] = table " +
                 b.record.value("namespace", std::string()) + "." + b.record.value("name", std::string());
        } else if constexpr (std::is_same_v<T, ModelSaved>) {
          return "task " + b.execution_id + " saved model " + b.storage_key + " (" + std::to_string(b.size) +
                 " bytes)";
        } else if constexpr (std::is_same_v<T, TrackingDeleted>) {
          return b.kind + "s deleted" + (b.task_name.empty() ? "" : " of task " + b.task_name) +
                 (b.party.role.empty() ? "" : " at " + party(b.party));
        } else if constexpr (std::is_same_v<T, AdmissionEnded>) {
          return "admission attempt " + std::to_string(b.attempt) +
                 (b.granted ? ": granted everywhere" : ": " + b.reason);
        } else if constexpr (std::is_same_v<T, TaskStartRequested>) {
          return "task " + b.execution_id + " start requested by the scheduler";
        }
      },
      e.body);
}

bool is_trouble(const JobEvent& e) {
  auto bad = [](Status s) { return s == Status::failed || s == Status::timeout || s == Status::canceled; };
  if (const auto* b = std::get_if<JobStatusChanged>(&e.body)) return bad(b->status);
  if (const auto* b = std::get_if<ScheduleStatusChanged>(&e.body)) return bad(b->status);
  if (const auto* b = std::get_if<TaskStatusChanged>(&e.body)) return bad(b->status);
  if (const auto* b = std::get_if<ScheduleTaskStatusChanged>(&e.body)) return bad(b->status);
  if (const auto* b = std::get_if<TaskPartyStatusChanged>(&e.body))
    return bad(b->status) || !b->error.empty();
  if (const auto* b = std::get_if<PartyResourcesAnswered>(&e.body)) return b->code != 0;
  if (const auto* b = std::get_if<TaskResourcesAnswered>(&e.body)) return b->code != 0;
  return std::holds_alternative<JobCancelRequested>(e.body);
}

namespace {

// Detects an event body's `party` and `reason`/`error` members, which most events have.
template <class T, class = void>
struct has_party : std::false_type {};
template <class T>
struct has_party<T, std::void_t<decltype(std::declval<T>().party.party_id)>> : std::true_type {};
template <class T, class = void>
struct has_reason : std::false_type {};
template <class T>
struct has_reason<T, std::void_t<decltype(std::declval<T>().reason)>> : std::true_type {};
template <class T, class = void>
struct has_error : std::false_type {};
template <class T>
struct has_error<T, std::void_t<decltype(std::declval<T>().error)>> : std::true_type {};

template <class T, class = void>
struct has_task : std::false_type {};
template <class T>
struct has_task<T,
                std::void_t<decltype(std::declval<T>().task_name), decltype(std::declval<T>().task_version)>>
    : std::true_type {};
template <class T, class = void>
struct has_status : std::false_type {};
template <class T>
struct has_status<T, std::enable_if_t<std::is_same_v<decltype(std::declval<T>().status), Status>>>
    : std::true_type {};

}  // namespace

Json history_entry(uint64_t version, const JobEvent& e) {
  Json entry{{"version", version},
             {"at", e.at_ms},
             {"kind", event_kind(e)},
             {"what", describe_event(e)},
             {"actor", e.actor}};
  // Who the event is about (a role:party, or the scheduler), why, and the task run and status it names:
  // the timeline's columns, and what the dashboard colours the DAG with.
  std::visit(
      [&entry](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        std::string who = "scheduler", why;
        if constexpr (has_party<T>::value)
          if (!b.party.role.empty()) who = b.party.role + ":" + b.party.party_id;
        if constexpr (has_reason<T>::value) why = b.reason;
        if constexpr (has_error<T>::value)
          if (why.empty()) why = b.error;
        entry["party"] = who;
        entry["reason"] = why;
        if constexpr (has_task<T>::value) {
          entry["task_name"] = b.task_name;
          entry["task_version"] = b.task_version;
        }
        if constexpr (has_status<T>::value) entry["status"] = to_string(b.status);
      },
      e.body);
  return entry;
}

}  // namespace flowstone::domain
