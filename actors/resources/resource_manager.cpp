#include "actors/resources/resource_manager.hpp"

#include "actors/metrics/server_metrics.hpp"
#include "actors/persistence/detached_owner.hpp"
#include "actors/persistence/event_sourced.hpp"
#include "events/job/views.hpp"
#include "store/codec/party_codec.hpp"

namespace flowstone::actors {
namespace {

struct LedgerAggregate {
  using State = domain::LedgerState;
  using Event = domain::LedgerEvent;
  using Command = domain::LedgerCommand;
  // A refusal is an answer too, and may change the queue: every decision is recorded unless the log fails.
  struct Decision : domain::LedgerDecision {
    bool stored = true;
    bool ok() const { return stored; }
  };

  // In place: the waiting queue may hold thousands of jobs, and copying it for every decision made a long
  // admission run quadratic.
  static constexpr bool kInPlace = true;
  static Decision decide_in_place(State& state, Command& command, int64_t now_ms) {
    Decision d{domain::decide(state, command, now_ms)};
    for (const auto& e : d.events) domain::apply(state, e);
    return d;
  }
  static void apply(State& state, const Event& event) { domain::apply(state, event); }
  // Every job's grant, return and wait is an event of this one stream: a restart starts from its latest
  // snapshot instead of replaying every job the party ever ran.
  static constexpr uint64_t kSnapshotEvery = 1000;
  static std::string encode_snapshot(const State& state) { return store::encode_ledger_snapshot(state); }
  static std::optional<State> decode_snapshot(std::string_view bytes, std::string* error) {
    return store::decode_ledger_snapshot(bytes, error);
  }
  static std::string encode(const Event& event) { return store::encode_party_event(event); }
  static std::optional<Event> decode(std::string_view bytes, std::string* error) {
    return store::decode_party_event(bytes, error);
  }
  static std::vector<store::ViewWrite> view_changes(const State&, const State&, const std::vector<Event>&) {
    return {};
  }
  // The ledger takes no idempotency keys: a job asks again with the same holder, which is idempotent.
  static std::string result_of(const Decision&) { return ""; }
  static Decision from_result(const std::string&) { return Decision{}; }
  static Decision storage_error(const std::string& why) {
    Decision d;
    d.code = RetCode::server_exception;
    d.message = "cannot record the reservation: " + why;
    d.stored = false;
    return d;
  }
};

struct ResourceState;
using Self = resource_actor::stateful_pointer<ResourceState>;

class LedgerOwner : public DetachedOwner<LedgerAggregate, resource_actor> {
 public:
  explicit LedgerOwner(Self self);
  void recovered() override;
  void persisted(const LedgerAggregate::Decision& decision) override;
  void damaged(const std::string& why) override;

 private:
  Self self_;
};

struct ResourceState {
  std::shared_ptr<Environment> env;
  std::unique_ptr<LedgerOwner> owner;
  std::unique_ptr<EventSourced<LedgerAggregate>> host;
  domain::WaiterClock clock;
  static inline const char* name = "flowstone.resources";
};

LedgerOwner::LedgerOwner(Self self) : DetachedOwner(self, self->state.env), self_(self) {}

// The holdings the jobs recorded (the "resources" view, written with their events).
std::map<std::string, int> recorded_holdings(Environment& env) {
  std::map<std::string, int> recorded;
  env.log->ScanView(domain::kResourcesView, "", [&](const std::string&, const std::string& value) {
    Json row = Json::parse(value, nullptr, false);
    if (row.is_object())
      recorded[holder_of(row.value("job_id", ""), {row.value("role", ""), row.value("party_id", "")})] =
          row.value("cores", 0);
    return true;
  });
  return recorded;
}

void LedgerOwner::recovered() {
  auto& st = self_->state;
  const int64_t now = now_ms();
  for (const auto& [holder, waiter] : st.host->state().waiting) st.clock.asked(holder, now);
  const int was = st.host->state().total;
  st.host->submit(domain::RegisterCapacity{"standalone", st.env->config.computing_cores}, "",
                  [self = self_, was](const LedgerAggregate::Decision& d) {
                    if (!d.stored || d.events.empty()) return;
                    const int cores = self->state.env->config.computing_cores;
                    if (was < 0)
                      self->state.env->server_log->info("capacity registered: {} cores", cores);
                    else
                      self->state.env->server_log->info("capacity registered: {} cores (was {})", cores, was);
                  });
  st.host->submit(domain::ReconcileHoldings{recorded_holdings(*st.env)}, "",
                  [self = self_](const LedgerAggregate::Decision&) {
                    const auto& ledger = self->state.host->state();
                    self->state.env->server_log->info("resources: {} of {} cores in use, {} jobs waiting",
                                                      ledger.in_use(), ledger.total, ledger.waiting.size());
                  });
}

void LedgerOwner::persisted(const LedgerAggregate::Decision& decision) {
  auto& st = self_->state;
  const auto& ledger = st.host->state();
  st.env->ledger_figures->cores_in_use.store(ledger.in_use());
  st.env->ledger_figures->waiting.store(static_cast<int>(ledger.waiting.size()));
  for (const auto& e : decision.events) {
    st.clock.saw(e);
    // A holder is "job_id/role/party_id": the line starts with its job's id (FATE's log convention).
    const std::string* holder = nullptr;
    if (const auto* queued = std::get_if<domain::ReservationQueued>(&e.body)) holder = &queued->holder;
    if (const auto* forgotten = std::get_if<domain::WaiterForgotten>(&e.body)) holder = &forgotten->holder;
    if (holder)
      st.env->server_log->info("[job-{}] resources: {}", holder->substr(0, holder->find('/')),
                               domain::describe(e));
  }
}

void LedgerOwner::damaged(const std::string& why) {
  self_->state.env->server_log->error("resources: {}; no job is admitted at this party", why);
  self_->state.env->damaged->Mark(self_->state.host->stream(), why);
}

}  // namespace

std::string holder_of(const std::string& job_id, const domain::PartyRef& party) {
  return job_id + "/" + party.role + "/" + party.party_id;
}

resource_actor::behavior_type resources_impl(Self self, std::shared_ptr<Environment> env) {
  auto& st = self->state;
  st.env = std::move(env);
  st.owner = std::make_unique<LedgerOwner>(self);
  st.host = std::make_unique<EventSourced<LedgerAggregate>>(store::party_stream(st.env->config.party_id),
                                                            st.owner.get());
  st.owner->bind(st.host.get());
  st.host->start();
  return {
      [=](const ReserveMsg& msg) -> caf::result<ReserveReply> {
        auto& st = self->state;
        observe_mailbox(*st.env->metrics, "resources", self);
        auto promise = self->make_response_promise<ReserveReply>();
        const std::string holder = holder_of(msg.job_id, msg.party);
        const int64_t now = st.env->now_ms();
        st.clock.asked(holder, now);
        domain::ReserveCores reserve{holder,
                                     msg.cores,
                                     msg.priority,
                                     msg.order,
                                     st.env->config.queue_starvation_ms,
                                     st.clock.take_gone(now, holder)};
        st.host->submit(std::move(reserve), "", [promise](const LedgerAggregate::Decision& d) mutable {
          promise.deliver(ReserveReply{d.code, d.message});
        });
        return promise;
      },
      [=](const ReleaseMsg& msg) {
        self->state.host->submit(domain::ReleaseCores{holder_of(msg.job_id, msg.party), msg.still_waiting},
                                 "", nullptr);
      },
      [=](AppendDoneMsg& done) { self->state.host->appended(done.ticket, done.result); },
  };
}

resource_actor spawn_resource_manager(caf::actor_system& system, std::shared_ptr<Environment> env) {
  return system.spawn<caf::detached>(resources_impl, std::move(env));
}

}  // namespace flowstone::actors
