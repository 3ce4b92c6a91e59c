#include "actors/resource_manager.hpp"

#include "events/job/views.hpp"
#include "store/codec/job_codec.hpp"

namespace flowstone::actors {
namespace {

struct ResourceState {
  std::shared_ptr<Environment> env;
  domain::Ledger ledger;
  static inline const char* name = "flowstone.resources";
};

using Self = resource_actor::stateful_pointer<ResourceState>;

// The configured total, as an event when it differs from the last one registered.
void register_capacity(Self self) {
  auto& st = self->state;
  const std::string stream = "party:" + st.env->config.party_id;
  std::vector<store::StoredEvent> stored;
  st.env->log->ReadStream(stream, 1, &stored);
  int last = -1;
  for (const auto& s : stored)
    if (auto e = store::decode_party_event(s.payload, nullptr)) last = e->cores;
  if (last == st.env->config.computing_cores) return;
  store::AppendRequest request;
  request.stream = stream;
  request.expected_version = stored.size();
  request.events.push_back(store::encode_party_event(
      domain::CapacityRegistered{"standalone", st.env->config.computing_cores, st.env->now_ms()}));
  auto result = st.env->log->Append(std::move(request));
  if (!result.status.ok())
    st.env->server_log->error("cannot register the capacity: {}", result.status.ToString());
  else
    st.env->server_log->info("capacity registered: {} cores (was {})", st.env->config.computing_cores, last);
}

// Holdings recorded in the log (the "resources" view).
void restore(Self self) {
  auto& st = self->state;
  st.env->log->ScanView(domain::kResourcesView, "", [&](const std::string&, const std::string& value) {
    Json row = Json::parse(value, nullptr, false);
    if (!row.is_object()) return true;
    st.ledger.Restore(holder_of(row.value("job_id", ""), {row.value("role", ""), row.value("party_id", "")}),
                      row.value("cores", 0));
    return true;
  });
}

}  // namespace

std::string holder_of(const std::string& job_id, const domain::PartyRef& party) {
  return job_id + "/" + party.role + "/" + party.party_id;
}

resource_actor::behavior_type resources_impl(Self self, std::shared_ptr<Environment> env) {
  auto& st = self->state;
  st.env = std::move(env);
  st.ledger = domain::Ledger(st.env->config.computing_cores, st.env->config.queue_starvation_ms);
  register_capacity(self);
  restore(self);
  st.env->server_log->info("resources: {} of {} cores in use", st.ledger.in_use(), st.ledger.total());
  return {
      [=](const ReserveMsg& msg) -> ReserveReply {
        auto answer = self->state.ledger.Reserve(holder_of(msg.job_id, msg.party), msg.cores, msg.priority,
                                                 msg.order, self->state.env->now_ms());
        return ReserveReply{answer.code, answer.message};
      },
      [=](const ReleaseMsg& msg) {
        self->state.ledger.Release(holder_of(msg.job_id, msg.party), self->state.env->now_ms(),
                                   msg.still_waiting);
      },
  };
}

resource_actor spawn_resource_manager(caf::actor_system& system, std::shared_ptr<Environment> env) {
  // Detached: the capacity registration at start blocks on a synced write.
  return system.spawn<caf::detached>(resources_impl, std::move(env));
}

}  // namespace flowstone::actors
