// DetachedOwner: the Owner parts that every detached actor hosting an aggregate shares (the catalog, the
// resource manager, the access actor). Time comes from the environment's clock; replay reads are done in
// place (the actor is detached, so it may block on RocksDB), from the latest snapshot for an aggregate that
// has them; an append goes to the log's group commit and
// its result comes back to the actor as AppendDoneMsg, which the actor hands to its host.
//
// Thread rules: called by the owning actor only; the append callback runs on the log's writer thread and
// only sends a message.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/environment.hpp"
#include "actors/persistence/event_sourced.hpp"

namespace flowstone::actors {

template <class Aggregate, class Handle>
class DetachedOwner : public EventSourced<Aggregate>::Owner {
 public:
  DetachedOwner(caf::abstract_actor* self, std::shared_ptr<Environment> env)
      : self_(self), env_(std::move(env)) {}
  // The host this owner answers for; set once it exists.
  void bind(EventSourced<Aggregate>* host) { host_ = host; }

  int64_t now_ms() override { return env_->now_ms(); }

  // From the stream's latest snapshot when the aggregate has snapshots and it decodes; else from the start.
  void read_stream(const std::string& stream) override {
    std::vector<store::StoredEvent> events;
    if constexpr (has_snapshots<Aggregate>::value) {
      store::Snapshot snapshot;
      if (store::ReadSnapshot(*env_->log, stream, &snapshot).ok()) {
        std::string error;
        std::optional<typename Aggregate::State> state = Aggregate::decode_snapshot(snapshot.bytes, &error);
        if (state) {
          store::Status status = env_->log->ReadStream(stream, snapshot.version + 1, &events);
          return host_->replayed(status, events, &*state, snapshot.version);
        }
        env_->server_log->warn(
            "the snapshot of {} at version {} is ignored ({}): the whole stream is replayed", stream,
            snapshot.version, error);
      }
    }
    store::Status status = env_->log->ReadStream(stream, 1, &events);
    host_->replayed(status, events);
  }

  void append(store::AppendRequest request, uint64_t ticket) override {
    auto handle = caf::actor_cast<Handle>(self_);
    env_->log->AppendAsync(std::move(request), [handle, ticket](store::AppendResult result) {
      caf::anon_send(handle, AppendDoneMsg{ticket, std::move(result)});
    });
  }

 private:
  caf::abstract_actor* self_;
  std::shared_ptr<Environment> env_;
  EventSourced<Aggregate>* host_ = nullptr;
};

}  // namespace flowstone::actors
