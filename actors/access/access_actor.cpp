#include "actors/access/access_actor.hpp"

#include <random>

#include "actors/persistence/aggregate_parts.hpp"
#include "actors/persistence/detached_owner.hpp"
#include "actors/persistence/event_sourced.hpp"
#include "store/codec/access_codec.hpp"

namespace flowstone::actors {
namespace {

struct AccessAggregate : StampedAggregate<domain::AccessState, domain::AccessEvent, domain::AccessCommand,
                                          domain::AccessDecision> {
  static std::string encode(const Event& event) { return store::encode_access_event(event); }
  static std::optional<Event> decode(std::string_view bytes, std::string* error) {
    return store::decode_access_event(bytes, error);
  }
  static std::vector<store::ViewWrite> view_changes(const State&, const State&, const std::vector<Event>&) {
    return {};  // answered from the published state, not from views
  }
  static Decision storage_error(const std::string& why) {
    Decision d;
    d.code = RetCode::server_exception;
    d.message = "cannot store the access change: " + why;
    return d;
  }
};

struct AccessActorState;
using Self = access_actor::stateful_pointer<AccessActorState>;

class AccessOwner : public DetachedOwner<AccessAggregate, access_actor> {
 public:
  explicit AccessOwner(Self self);
  void recovered() override;
  void persisted(const AccessAggregate::Decision& decision) override;
  void damaged(const std::string& why) override;
  // The state as it is now, for the edge and the registry. Called before a change is answered, so a
  // client that sees the answer finds the change in force on its next request.
  void publish();

 private:
  Self self_;
};

struct AccessActorState {
  std::shared_ptr<Environment> env;
  std::unique_ptr<AccessOwner> owner;
  std::unique_ptr<EventSourced<AccessAggregate>> host;
  static inline const char* name = "flowstone.access";
};

AccessOwner::AccessOwner(Self self) : DetachedOwner(self, self->state.env), self_(self) {}

void AccessOwner::publish() {
  self_->state.env->access_board->Publish(
      std::make_shared<const domain::AccessState>(self_->state.host->state()));
}

void AccessOwner::recovered() {
  publish();
  const Environment& env = *self_->state.env;
  if (!env.config.auth.any()) return;
  self_->state.host->submit(domain::Bootstrap{env.config.party_id, random_app_token(), 0}, "",
                            [this](const AccessAggregate::Decision&) { publish(); });
}

void AccessOwner::persisted(const AccessAggregate::Decision& decision) {
  for (const auto& event : decision.events)
    self_->state.env->server_log->info("access: {}", domain::describe_access_event(event));
}

void AccessOwner::damaged(const std::string& why) {
  self_->state.env->server_log->error("access: {}; apps and grants are not served", why);
  self_->state.env->damaged->Mark(store::kAccessStream, why);
}

access_actor::behavior_type access_impl(Self self, std::shared_ptr<Environment> env) {
  auto& st = self->state;
  st.env = std::move(env);
  st.owner = std::make_unique<AccessOwner>(self);
  st.host = std::make_unique<EventSourced<AccessAggregate>>(store::kAccessStream, st.owner.get());
  st.owner->bind(st.host.get());
  st.host->start();
  return {
      [=](AccessCommandMsg& msg) -> caf::result<JobReply> {
        auto promise = self->make_response_promise<JobReply>();
        self->state.host->submit(std::move(msg.command), "",
                                 [self, promise](const AccessAggregate::Decision& d) mutable {
                                   if (!d.events.empty()) self->state.owner->publish();
                                   promise.deliver(JobReply{d.code, d.message, d.data});
                                 });
        return promise;
      },
      [=](AppendDoneMsg& done) { self->state.host->appended(done.ticket, done.result); },
  };
}

std::string random_of(const char* alphabet, size_t length) {
  static thread_local std::random_device device;
  const std::string letters(alphabet);
  std::uniform_int_distribution<size_t> pick(0, letters.size() - 1);
  std::string out;
  for (size_t i = 0; i < length; ++i) out.push_back(letters[pick(device)]);
  return out;
}

}  // namespace

std::string random_app_id() {
  return random_of("0123456789", 8);
}

std::string random_app_token() {
  return random_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16);
}

access_actor spawn_access(caf::actor_system& system, std::shared_ptr<Environment> env) {
  return system.spawn<caf::detached>(access_impl, std::move(env));
}

}  // namespace flowstone::actors
