#include "store/codec/job_codec.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstring>

#include "events.capnp.h"
#include "store/codec/capnp_bytes.hpp"

namespace flowstone::store {
namespace {

using domain::PartyRef;
using domain::Status;

std::string text(capnp::Text::Reader t) {
  return std::string(t.cStr(), t.size());
}

void put_party(schema::Party::Builder b, const PartyRef& p) {
  b.setRole(p.role);
  b.setPartyId(p.party_id);
}
PartyRef get_party(schema::Party::Reader r) {
  return PartyRef{text(r.getRole()), text(r.getPartyId())};
}

// JSON carried as text; an undecodable one marks the event bad.
Json json_text(capnp::Text::Reader t, bool* ok) {
  Json value = Json::parse(std::string_view(t.cStr(), t.size()), nullptr, false);
  if (value.is_discarded()) *ok = false;
  return value;
}

Status get_status(capnp::Text::Reader t, bool* ok) {
  auto s = domain::parse_status(std::string_view(t.cStr(), t.size()));
  if (!s) *ok = false;
  return s.value_or(Status::failed);
}

}  // namespace

std::string encode_job_event(const domain::JobEvent& event) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::JobEvent>();
  root.setAtMs(event.at_ms);
  root.setActor(event.actor);
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, domain::JobCreated>) {
          auto b = root.initJobCreated();
          b.setJobId(e.job_id);
          b.setDagSchemaJson(e.dag_schema.dump());
          b.setInitiatorPartyId(e.initiator_party_id);
          b.setSchedulerPartyId(e.scheduler_party_id);
          auto parties = b.initLocalParties(e.local_parties.size());
          for (size_t i = 0; i < e.local_parties.size(); ++i) put_party(parties[i], e.local_parties[i]);
          b.setIsScheduler(e.is_scheduler);
          b.setUserName(e.user_name);
          auto d = b.initDefaults();
          d.setJobCores(e.defaults.job_cores);
          d.setTaskCores(e.defaults.task_cores);
          d.setTaskTimeoutS(e.defaults.task_timeout_s);
          d.setAutoRetries(e.defaults.auto_retries);
          d.setSyncType(e.defaults.sync_type);
          d.setComputingPartitions(e.defaults.computing_partitions);
          d.setRetryBackoffMs(e.defaults.retry_backoff_ms);
          d.setAdmissionTimeoutS(e.defaults.admission_timeout_s);
        } else if constexpr (std::is_same_v<T, domain::JobStatusChanged>) {
          auto b = root.initJobStatusChanged();
          put_party(b.initParty(), e.party);
          b.setStatus(std::string(to_string(e.status)));
          b.setReason(e.reason);
        } else if constexpr (std::is_same_v<T, domain::JobCancelRequested>) {
          auto b = root.initJobCancelRequested();
          b.setStopStatus(std::string(to_string(e.stop_status)));
          b.setReason(e.reason);
        } else if constexpr (std::is_same_v<T, domain::JobNotesAdded>) {
          auto b = root.initJobNotesAdded();
          put_party(b.initParty(), e.party);
          b.setNotes(e.notes);
        } else if constexpr (std::is_same_v<T, domain::TaskVersionCreated>) {
          auto b = root.initTaskVersionCreated();
          b.setTaskName(e.task_name);
          b.setTaskVersion(e.task_version);
          put_party(b.initParty(), e.party);
          b.setExecutionId(e.execution_id);
          b.setAutoRetries(e.auto_retries);
          b.setReason(e.reason);
        } else if constexpr (std::is_same_v<T, domain::ScheduleStatusChanged>) {
          auto b = root.initScheduleStatusChanged();
          b.setStatus(std::string(to_string(e.status)));
          b.setReason(e.reason);
        } else if constexpr (std::is_same_v<T, domain::ScheduleTaskVersionCreated>) {
          auto b = root.initScheduleTaskVersionCreated();
          b.setTaskName(e.task_name);
          b.setTaskVersion(e.task_version);
          b.setAutoRetries(e.auto_retries);
          b.setReason(e.reason);
          b.setNotBefore(e.not_before);
        } else if constexpr (std::is_same_v<T, domain::ScheduleTaskStatusChanged>) {
          auto b = root.initScheduleTaskStatusChanged();
          b.setTaskName(e.task_name);
          b.setTaskVersion(e.task_version);
          b.setStatus(std::string(to_string(e.status)));
          b.setReason(e.reason);
        } else if constexpr (std::is_same_v<T, domain::TaskStatusChanged>) {
          auto b = root.initTaskStatusChanged();
          b.setTaskName(e.task_name);
          b.setTaskVersion(e.task_version);
          put_party(b.initParty(), e.party);
          b.setExecutionId(e.execution_id);
          b.setStatus(std::string(to_string(e.status)));
          b.setReason(e.reason);
        } else if constexpr (std::is_same_v<T, domain::TaskPartyStatusChanged>) {
          auto b = root.initTaskPartyStatusChanged();
          b.setTaskName(e.task_name);
          b.setTaskVersion(e.task_version);
          put_party(b.initParty(), e.party);
          b.setExecutionId(e.execution_id);
          b.setStatus(std::string(to_string(e.status)));
          b.setError(e.error);
        } else if constexpr (std::is_same_v<T, domain::TaskLaunched>) {
          auto b = root.initTaskLaunched();
          b.setTaskName(e.task_name);
          b.setTaskVersion(e.task_version);
          put_party(b.initParty(), e.party);
          b.setExecutionId(e.execution_id);
          b.setLauncherPid(e.launcher_pid);
          b.setCmd(e.cmd);
          b.setLogDir(e.log_dir);
          b.setProviderName(e.provider_name);
        } else if constexpr (std::is_same_v<T, domain::PartyJoined>) {
          put_party(root.initPartyJoined().initParty(), e.party);
        } else if constexpr (std::is_same_v<T, domain::EndDelivered>) {
          put_party(root.initEndDelivered().initParty(), e.party);
        } else if constexpr (std::is_same_v<T, domain::CopyResourcesApplied>) {
          auto b = root.initCopyResourcesApplied();
          put_party(b.initParty(), e.party);
          b.setCores(e.cores);
        } else if constexpr (std::is_same_v<T, domain::CopyResourcesReturned>) {
          auto b = root.initCopyResourcesReturned();
          put_party(b.initParty(), e.party);
          b.setCores(e.cores);
          b.setReason(e.reason);
        } else if constexpr (std::is_same_v<T, domain::TaskResourcesApplied>) {
          auto b = root.initTaskResourcesApplied();
          b.setTaskName(e.task_name);
          b.setTaskVersion(e.task_version);
          put_party(b.initParty(), e.party);
          b.setCores(e.cores);
        } else if constexpr (std::is_same_v<T, domain::TaskResourcesReturned>) {
          auto b = root.initTaskResourcesReturned();
          b.setTaskName(e.task_name);
          b.setTaskVersion(e.task_version);
          put_party(b.initParty(), e.party);
          b.setReason(e.reason);
        } else if constexpr (std::is_same_v<T, domain::JobProgressChanged>) {
          root.initJobProgressChanged().setProgress(e.progress);
        } else if constexpr (std::is_same_v<T, domain::TaskAdmissionStarted>) {
          auto b = root.initTaskAdmissionStarted();
          b.setTaskName(e.task_name);
          b.setTaskVersion(e.task_version);
          b.setAttempt(e.attempt);
        } else if constexpr (std::is_same_v<T, domain::TaskResourcesAnswered>) {
          auto b = root.initTaskResourcesAnswered();
          b.setTaskName(e.task_name);
          b.setTaskVersion(e.task_version);
          put_party(b.initParty(), e.party);
          b.setAttempt(e.attempt);
          b.setCode(e.code);
          b.setMessage(e.message);
        } else if constexpr (std::is_same_v<T, domain::TaskAdmissionEnded>) {
          auto b = root.initTaskAdmissionEnded();
          b.setTaskName(e.task_name);
          b.setTaskVersion(e.task_version);
          b.setAttempt(e.attempt);
          b.setGranted(e.granted);
          b.setReason(e.reason);
        } else if constexpr (std::is_same_v<T, domain::AdmissionStarted>) {
          root.initAdmissionStarted().setAttempt(e.attempt);
        } else if constexpr (std::is_same_v<T, domain::PartyResourcesAnswered>) {
          auto b = root.initPartyResourcesAnswered();
          put_party(b.initParty(), e.party);
          b.setAttempt(e.attempt);
          b.setCode(e.code);
          b.setMessage(e.message);
        } else if constexpr (std::is_same_v<T, domain::JobCleaned>) {
          root.initJobCleaned().setReason(e.reason);
        } else if constexpr (std::is_same_v<T, domain::MetricsSaved>) {
          auto b = root.initMetricsSaved();
          b.setExecutionId(e.execution_id);
          b.setMetricsJson(e.metrics.dump());
        } else if constexpr (std::is_same_v<T, domain::DataOutputTracked>) {
          auto b = root.initDataOutputTracked();
          b.setExecutionId(e.execution_id);
          b.setRecordJson(e.record.dump());
        } else if constexpr (std::is_same_v<T, domain::ModelSaved>) {
          auto b = root.initModelSaved();
          b.setExecutionId(e.execution_id);
          b.setOutputKey(e.output_key);
          b.setTypeName(e.type_name);
          b.setModelId(e.model_id);
          b.setModelVersion(e.model_version);
          b.setStorageKey(e.storage_key);
          b.setFile(e.file);
          b.setSha256(e.digest);
          b.setSize(e.size);
          b.setMetaDataJson(e.meta_data.dump());
        } else if constexpr (std::is_same_v<T, domain::TrackingDeleted>) {
          auto b = root.initTrackingDeleted();
          b.setKind(e.kind);
          b.setTaskName(e.task_name);
          put_party(b.initParty(), e.party);
          b.setOutputKey(e.output_key);
        } else if constexpr (std::is_same_v<T, domain::AdmissionEnded>) {
          auto b = root.initAdmissionEnded();
          b.setAttempt(e.attempt);
          b.setGranted(e.granted);
          b.setReason(e.reason);
        } else if constexpr (std::is_same_v<T, domain::TaskStartRequested>) {
          auto b = root.initTaskStartRequested();
          b.setTaskName(e.task_name);
          b.setTaskVersion(e.task_version);
          put_party(b.initParty(), e.party);
          b.setExecutionId(e.execution_id);
        } else {
          static_assert(sizeof(T) == 0, "every job event has an encoding");
        }
      },
      event.body);
  return message_bytes(message);
}

std::optional<domain::JobEvent> decode_job_event(std::string_view bytes, std::string* error) {
  return read_message<schema::JobEvent>(
      bytes, "event", error, [&](schema::JobEvent::Reader root) -> std::optional<domain::JobEvent> {
        domain::JobEvent event;
        event.at_ms = root.getAtMs();
        event.actor = text(root.getActor());
        bool ok = true;
        switch (root.which()) {
          case schema::JobEvent::JOB_CREATED: {
            auto r = root.getJobCreated();
            domain::JobCreated e;
            e.job_id = text(r.getJobId());
            e.dag_schema = json_text(r.getDagSchemaJson(), &ok);
            e.initiator_party_id = text(r.getInitiatorPartyId());
            e.scheduler_party_id = text(r.getSchedulerPartyId());
            for (auto p : r.getLocalParties()) e.local_parties.push_back(get_party(p));
            e.is_scheduler = r.getIsScheduler();
            e.user_name = text(r.getUserName());
            auto d = r.getDefaults();
            e.defaults.job_cores = d.getJobCores();
            e.defaults.task_cores = d.getTaskCores();
            e.defaults.task_timeout_s = d.getTaskTimeoutS();
            e.defaults.auto_retries = d.getAutoRetries();
            e.defaults.sync_type = text(d.getSyncType());
            e.defaults.computing_partitions = d.getComputingPartitions();
            e.defaults.retry_backoff_ms = d.getRetryBackoffMs();
            e.defaults.admission_timeout_s = d.getAdmissionTimeoutS();
            event.body = std::move(e);
            break;
          }
          case schema::JobEvent::JOB_STATUS_CHANGED: {
            auto r = root.getJobStatusChanged();
            domain::PartyRef party = get_party(r.getParty());
            if (party.role.empty())  // an earlier build's form of the scheduler's record
              event.body = domain::ScheduleStatusChanged{get_status(r.getStatus(), &ok), text(r.getReason())};
            else
              event.body =
                  domain::JobStatusChanged{party, get_status(r.getStatus(), &ok), text(r.getReason())};
            break;
          }
          case schema::JobEvent::SCHEDULE_STATUS_CHANGED: {
            auto r = root.getScheduleStatusChanged();
            event.body = domain::ScheduleStatusChanged{get_status(r.getStatus(), &ok), text(r.getReason())};
            break;
          }
          case schema::JobEvent::SCHEDULE_TASK_VERSION_CREATED: {
            auto r = root.getScheduleTaskVersionCreated();
            event.body =
                domain::ScheduleTaskVersionCreated{text(r.getTaskName()), r.getTaskVersion(),
                                                   r.getAutoRetries(), text(r.getReason()), r.getNotBefore()};
            break;
          }
          case schema::JobEvent::SCHEDULE_TASK_STATUS_CHANGED: {
            auto r = root.getScheduleTaskStatusChanged();
            event.body =
                domain::ScheduleTaskStatusChanged{text(r.getTaskName()), r.getTaskVersion(),
                                                  get_status(r.getStatus(), &ok), text(r.getReason())};
            break;
          }
          case schema::JobEvent::JOB_CANCEL_REQUESTED: {
            auto r = root.getJobCancelRequested();
            event.body = domain::JobCancelRequested{get_status(r.getStopStatus(), &ok), text(r.getReason())};
            break;
          }
          case schema::JobEvent::JOB_NOTES_ADDED: {
            auto r = root.getJobNotesAdded();
            event.body = domain::JobNotesAdded{get_party(r.getParty()), text(r.getNotes())};
            break;
          }
          case schema::JobEvent::TASK_VERSION_CREATED: {
            auto r = root.getTaskVersionCreated();
            domain::PartyRef party = get_party(r.getParty());
            if (party.role.empty())  // an earlier build's form of the scheduler's record
              event.body = domain::ScheduleTaskVersionCreated{text(r.getTaskName()), r.getTaskVersion(),
                                                              r.getAutoRetries(), text(r.getReason()),
                                                              r.getNotBefore()};
            else
              event.body = domain::TaskVersionCreated{
                  text(r.getTaskName()),    r.getTaskVersion(), party,
                  text(r.getExecutionId()), r.getAutoRetries(), text(r.getReason())};
            break;
          }
          case schema::JobEvent::TASK_STATUS_CHANGED: {
            auto r = root.getTaskStatusChanged();
            domain::PartyRef party = get_party(r.getParty());
            if (party.role.empty())  // an earlier build's form of the scheduler's record
              event.body =
                  domain::ScheduleTaskStatusChanged{text(r.getTaskName()), r.getTaskVersion(),
                                                    get_status(r.getStatus(), &ok), text(r.getReason())};
            else
              event.body = domain::TaskStatusChanged{
                  text(r.getTaskName()),          r.getTaskVersion(), party, text(r.getExecutionId()),
                  get_status(r.getStatus(), &ok), text(r.getReason())};
            break;
          }
          case schema::JobEvent::TASK_PARTY_STATUS_CHANGED: {
            auto r = root.getTaskPartyStatusChanged();
            event.body =
                domain::TaskPartyStatusChanged{text(r.getTaskName()),          r.getTaskVersion(),
                                               get_party(r.getParty()),        text(r.getExecutionId()),
                                               get_status(r.getStatus(), &ok), text(r.getError())};
            break;
          }
          case schema::JobEvent::TASK_LAUNCHED: {
            auto r = root.getTaskLaunched();
            event.body = domain::TaskLaunched{text(r.getTaskName()),   r.getTaskVersion(),
                                              get_party(r.getParty()), text(r.getExecutionId()),
                                              r.getLauncherPid(),      text(r.getCmd()),
                                              text(r.getLogDir()),     text(r.getProviderName())};
            break;
          }
          case schema::JobEvent::PARTY_JOINED:
            event.body = domain::PartyJoined{get_party(root.getPartyJoined().getParty())};
            break;
          case schema::JobEvent::END_DELIVERED:
            event.body = domain::EndDelivered{get_party(root.getEndDelivered().getParty())};
            break;
          case schema::JobEvent::COPY_RESOURCES_APPLIED: {
            auto r = root.getCopyResourcesApplied();
            event.body = domain::CopyResourcesApplied{get_party(r.getParty()), r.getCores()};
            break;
          }
          case schema::JobEvent::COPY_RESOURCES_RETURNED: {
            auto r = root.getCopyResourcesReturned();
            event.body =
                domain::CopyResourcesReturned{get_party(r.getParty()), r.getCores(), text(r.getReason())};
            break;
          }
          case schema::JobEvent::TASK_RESOURCES_APPLIED: {
            auto r = root.getTaskResourcesApplied();
            event.body = domain::TaskResourcesApplied{text(r.getTaskName()), r.getTaskVersion(),
                                                      get_party(r.getParty()), r.getCores()};
            break;
          }
          case schema::JobEvent::TASK_RESOURCES_RETURNED: {
            auto r = root.getTaskResourcesReturned();
            event.body = domain::TaskResourcesReturned{text(r.getTaskName()), r.getTaskVersion(),
                                                       get_party(r.getParty()), text(r.getReason())};
            break;
          }
          case schema::JobEvent::JOB_PROGRESS_CHANGED:
            event.body = domain::JobProgressChanged{root.getJobProgressChanged().getProgress()};
            break;
          case schema::JobEvent::TASK_ADMISSION_STARTED: {
            auto r = root.getTaskAdmissionStarted();
            event.body =
                domain::TaskAdmissionStarted{text(r.getTaskName()), r.getTaskVersion(), r.getAttempt()};
            break;
          }
          case schema::JobEvent::TASK_RESOURCES_ANSWERED: {
            auto r = root.getTaskResourcesAnswered();
            event.body = domain::TaskResourcesAnswered{
                text(r.getTaskName()), r.getTaskVersion(), get_party(r.getParty()),
                r.getAttempt(),        r.getCode(),        text(r.getMessage())};
            break;
          }
          case schema::JobEvent::TASK_ADMISSION_ENDED: {
            auto r = root.getTaskAdmissionEnded();
            event.body = domain::TaskAdmissionEnded{text(r.getTaskName()), r.getTaskVersion(), r.getAttempt(),
                                                    r.getGranted(), text(r.getReason())};
            break;
          }
          case schema::JobEvent::ADMISSION_STARTED:
            event.body = domain::AdmissionStarted{root.getAdmissionStarted().getAttempt()};
            break;
          case schema::JobEvent::PARTY_RESOURCES_ANSWERED: {
            auto r = root.getPartyResourcesAnswered();
            event.body = domain::PartyResourcesAnswered{get_party(r.getParty()), r.getAttempt(), r.getCode(),
                                                        text(r.getMessage())};
            break;
          }
          case schema::JobEvent::JOB_CLEANED:
            event.body = domain::JobCleaned{text(root.getJobCleaned().getReason())};
            break;
          case schema::JobEvent::METRICS_SAVED: {
            auto r = root.getMetricsSaved();
            event.body = domain::MetricsSaved{text(r.getExecutionId()), json_text(r.getMetricsJson(), &ok)};
            break;
          }
          case schema::JobEvent::DATA_OUTPUT_TRACKED: {
            auto r = root.getDataOutputTracked();
            event.body =
                domain::DataOutputTracked{text(r.getExecutionId()), json_text(r.getRecordJson(), &ok)};
            break;
          }
          case schema::JobEvent::MODEL_SAVED: {
            auto r = root.getModelSaved();
            domain::ModelSaved m;
            m.execution_id = text(r.getExecutionId());
            m.output_key = text(r.getOutputKey());
            m.type_name = text(r.getTypeName());
            m.model_id = text(r.getModelId());
            m.model_version = text(r.getModelVersion());
            m.storage_key = text(r.getStorageKey());
            m.file = text(r.getFile());
            m.digest = text(r.getSha256());
            m.size = r.getSize();
            m.meta_data = json_text(r.getMetaDataJson(), &ok);
            event.body = std::move(m);
            break;
          }
          case schema::JobEvent::TRACKING_DELETED: {
            auto r = root.getTrackingDeleted();
            event.body = domain::TrackingDeleted{text(r.getKind()), text(r.getTaskName()),
                                                 get_party(r.getParty()), text(r.getOutputKey())};
            break;
          }
          case schema::JobEvent::ADMISSION_ENDED: {
            auto r = root.getAdmissionEnded();
            event.body = domain::AdmissionEnded{r.getAttempt(), r.getGranted(), text(r.getReason())};
            break;
          }
          case schema::JobEvent::TASK_START_REQUESTED: {
            auto r = root.getTaskStartRequested();
            event.body = domain::TaskStartRequested{text(r.getTaskName()), r.getTaskVersion(),
                                                    get_party(r.getParty()), text(r.getExecutionId())};
            break;
          }
          default:
            if (error) *error = "unknown event kind " + std::to_string(static_cast<int>(root.which()));
            return std::nullopt;
        }
        if (!ok) {
          if (error) *error = "event has an unknown status value or undecodable JSON";
          return std::nullopt;
        }
        return event;
      });
}

}  // namespace flowstone::store
