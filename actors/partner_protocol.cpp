#include "actors/partner_protocol.hpp"

#include <type_traits>

namespace flowstone::actors {
namespace {

using namespace domain;

Json job_body(const JobState& job, const PartyRef& party) {
  return Json{{"job_id", job.job_id}, {"role", party.role}, {"party_id", party.party_id}};
}

Json task_body(const JobState& job, const PartyRef& party, const std::string& task, int version) {
  Json body = job_body(job, party);
  body["task_id"] = task_id_of(job.job_id, task);
  body["task_version"] = version;
  return body;
}

Json with(Json body, std::initializer_list<std::pair<const char*, Json>> more) {
  for (auto& [key, value] : more) body[key] = value;
  return body;
}

// `reason` is Flowstone's addition to FATE's bodies: sent only when there is one.
Json with_reason(Json body, const std::string& reason) {
  if (!reason.empty()) body["reason"] = reason;
  return body;
}

}  // namespace

PartnerRequest request_of(const JobState& job, const RemoteCall& call) {
  return std::visit(
      [&](const auto& c) -> PartnerRequest {
        using T = std::decay_t<decltype(c)>;
        PartnerRequest r;
        if constexpr (std::is_same_v<T, CreateRemoteCopy>) {
          r.endpoint = "partner/job/create";
          const Json& schema = job.dag().raw.is_object() ? job.dag().raw : Json::object();
          r.body =
              with(job_body(job, c.party), {{"dag", schema.value("dag", Json::object())},
                                            {"schema_version", schema.value("schema_version", Json("2.0.0"))},
                                            {"kind", "fate"}});
          r.initiator_party_id = job.initiator_party_id;
          r.answer_matters = true;
        } else if constexpr (std::is_same_v<T, UpdateRemoteJob>) {
          r.endpoint = "partner/job/status/update";
          r.body = with_reason(with(job_body(job, c.party), {{"status", to_string(c.status)}}), c.reason);
        } else if constexpr (std::is_same_v<T, ApplyRemoteJobResources>) {
          r.endpoint = "partner/job/resource/apply";
          r.body = job_body(job, c.party);
          r.answer_matters = true;
        } else if constexpr (std::is_same_v<T, ReturnRemoteJobResources>) {
          r.endpoint = "partner/job/resource/return";
          r.body = job_body(job, c.party);
        } else if constexpr (std::is_same_v<T, StartRemoteJob>) {
          r.endpoint = "partner/job/start";
          r.body = with(job_body(job, c.party), {{"extra_info", Json::object()}});
        } else if constexpr (std::is_same_v<T, UpdateRemoteProgress>) {
          r.endpoint = "partner/job/update";
          r.body = with(job_body(job, c.party), {{"progress", static_cast<double>(c.progress)}});
        } else if constexpr (std::is_same_v<T, StopRemoteJob>) {
          r.endpoint = "partner/job/stop";
          r.body = with(job_body(job, c.party), {{"stop_status", to_string(c.status)}, {"reason", c.reason}});
          r.answer_matters = true;  // an answer records that the party has the end (EndDelivered)
        } else if constexpr (std::is_same_v<T, ApplyRemoteTaskResources>) {
          r.endpoint = "partner/task/resource/apply";
          r.body = task_body(job, c.party, c.task_name, c.task_version);
          r.answer_matters = true;
        } else if constexpr (std::is_same_v<T, ReturnRemoteTaskResources>) {
          r.endpoint = "partner/task/resource/return";
          r.body = task_body(job, c.party, c.task_name, c.task_version);
        } else if constexpr (std::is_same_v<T, UpdateRemoteTask>) {
          r.endpoint = "partner/task/status/update";
          r.body = with(task_body(job, c.party, c.task_name, c.task_version),
                        {{"status", to_string(c.status)}, {"reason", c.reason}});
        } else if constexpr (std::is_same_v<T, StartRemoteTask>) {
          r.endpoint = "partner/task/start";
          r.body = task_body(job, c.party, c.task_name, c.task_version);
          r.answer_matters = true;
        } else if constexpr (std::is_same_v<T, StopRemoteTask>) {
          r.endpoint = "partner/task/stop";
          r.body = with(task_body(job, c.party, c.task_name, c.task_version),
                        {{"status", to_string(c.status)}, {"reason", c.reason}});
        } else if constexpr (std::is_same_v<T, RerunRemoteTask>) {
          r.endpoint = "partner/task/rerun";
          r.body =
              with(task_body(job, c.party, c.task_name, c.task_version), {{"new_version", c.new_version}});
        } else if constexpr (std::is_same_v<T, CollectRemoteTask>) {
          r.endpoint = "partner/task/collect";
          r.body = task_body(job, c.party, c.task_name, c.task_version);
          r.answer_matters = true;
          r.collect = true;
        } else if constexpr (std::is_same_v<T, ReportToScheduler>) {
          r.endpoint = "scheduler/task/report";
          r.body =
              with(task_body(job, c.party, c.task_name, c.task_version), {{"status", to_string(c.status)}});
          if (!c.error.empty()) r.body["error"] = c.error;  // Flowstone's addition: the scheduler shows it
        } else {
          static_assert(sizeof(T) == 0, "every remote call has a request");
        }
        return r;
      },
      call);
}

std::optional<JobCommand> answer_of(const RemoteCall& call, const net::PartyAnswer& answer) {
  return std::visit(
      [&](const auto& c) -> std::optional<JobCommand> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, CreateRemoteCopy>) {
          return CopyCreateAnswered{c.party, answer.code, answer.message, 0};
        } else if constexpr (std::is_same_v<T, ApplyRemoteJobResources>) {
          return ResourcesAnswered{c.party, c.attempt, answer.code, answer.message, 0};
        } else if constexpr (std::is_same_v<T, ApplyRemoteTaskResources>) {
          return TaskResourcesAnswer{
              c.party, c.task_name, c.task_version, c.attempt, answer.code, answer.message, 0};
        } else if constexpr (std::is_same_v<T, StopRemoteJob>) {
          return EndCallAnswered{c.party, answer.code, 0};
        } else if constexpr (std::is_same_v<T, StartRemoteTask>) {
          return TaskStartAnswered{c.party, c.task_name, c.task_version, answer.code, answer.message, 0};
        } else if constexpr (std::is_same_v<T, CollectRemoteTask>) {
          const Json& data = answer.data;
          if (!ok(answer.code) || !data.is_object()) return std::nullopt;
          auto text = [&](const char* key) {
            auto it = data.find(key);
            return it != data.end() && it->is_string() ? it->get<std::string>() : std::string();
          };
          auto status = parse_status(text("party_status"));
          if (!status) return std::nullopt;
          return ReportPartyStatus{c.party, c.task_name, c.task_version, *status, text("error"), true, 0};
        } else {
          return std::nullopt;
        }
      },
      call);
}

}  // namespace flowstone::actors
