// EventSourced<A>: the one host of every aggregate instance (a job, the catalog, a party's ledger), after
// Akka's EventSourcedBehavior. The aggregate is only its decide and apply; the host owns the rest:
//
//   replaying   the stream is read (by the store reader, off the actor's thread) and every event applied.
//               An event that does not decode stops the owner: the stream is damaged, which is logged and
//               reported, never skipped. Commands that arrive meanwhile are stashed.
//   ready       a command is decided against the current state.
//   appending   the decisions' events, the view rows they change and an idempotency key are appended as one
//               synced batch (the commands waiting at that moment are decided into one append, each on the
//               state the one before left); the state moves on only when the batch is durable, then the
//               callers are answered and the effects run. Commands are stashed meanwhile.
//
// An append refused as a conflict (the stream is not at the version this owner knows) replays the stream
// again before the next command; the commands of that append are answered with a storage error.
//
// Idempotency is the log writer's alone: a command with a key that changes nothing is still shown to the
// writer (a lookup that writes nothing), so a retry always gets the first answer.
//
// A (the aggregate's traits) provides:
//   State, Event, Command, Decision (with .code, .events, .ok()), and
//   static Decision decide(const State&, Command&, int64_t now_ms, State* next);  // next: the state after
//   static void apply(State&, const Event&);
//   static std::string encode(const Event&);
//   static std::optional<Event> decode(std::string_view bytes, std::string* error);
//   static std::vector<store::ViewWrite> view_changes(const State& before, const State& after,
//                                                     const std::vector<Event>& events);
//   static std::string result_of(const Decision&);           // stored with an idempotency key
//   static Decision from_result(const std::string& stored);  // a duplicate's answer
//   static Decision storage_error(const std::string& why);   // the answer when the log fails
// An aggregate whose state is large and whose decisions are small (a party's ledger with thousands of
// waiters) may instead declare `static constexpr bool kInPlace = true` and
//   static Decision decide_in_place(State&, Command&, int64_t now_ms);  // applies its events to the state
// so no decision copies the state; its view_changes then gets the state after the decision as both before
// and after. An append that is not stored then replays the stream again, as a conflict does, since the
// state already moved on.
//
// An aggregate whose stream grows without end (a party's ledger, the catalog) may also declare snapshots:
//   static constexpr uint64_t kSnapshotEvery = N;
//   static std::string encode_snapshot(const State&);
//   static std::optional<State> decode_snapshot(std::string_view bytes, std::string* error);
// Every append that takes the stream past a multiple of N then carries the state after it as a snapshot
// row in the same batch (store/snapshots.hpp), and a replay may start from the latest snapshot (the owner
// reads it, see replayed()).
//
// The Owner (the hosting actor) reads and appends for the host, and is told when the aggregate recovered,
// persisted a decision, or found its stream damaged. Not thread-safe: the owning actor's mailbox serialises
// every call.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "store/event_log.hpp"
#include "store/snapshots.hpp"

namespace flowstone::actors {

template <class A, class = void>
struct decides_in_place : std::false_type {};
template <class A>
struct decides_in_place<A, std::void_t<decltype(A::kInPlace)>> : std::bool_constant<A::kInPlace> {};

template <class A, class = void>
struct has_snapshots : std::false_type {};
template <class A>
struct has_snapshots<A, std::void_t<decltype(A::kSnapshotEvery)>> : std::true_type {};

template <class A>
class EventSourced {
 public:
  using State = typename A::State;
  using Event = typename A::Event;
  using Command = typename A::Command;
  using Decision = typename A::Decision;
  using Reply = std::function<void(const Decision&)>;

  class Owner {
   public:
    virtual ~Owner() = default;
    virtual int64_t now_ms() = 0;
    virtual void read_stream(const std::string& stream) = 0;                 // answer with replayed()
    virtual void append(store::AppendRequest request, uint64_t ticket) = 0;  // answer with appended()
    virtual void recovered() = 0;                          // replay is done: the owner's own recovery
    virtual void persisted(const Decision& decision) = 0;  // durable and applied: effects, timers
    virtual void damaged(const std::string& why) = 0;      // the stream cannot be replayed
  };

  EventSourced(std::string stream, Owner* owner) : stream_(std::move(stream)), owner_(owner) {}

  const State& state() const { return state_; }
  uint64_t version() const { return version_; }
  bool ready() const { return phase_ == Phase::ready; }
  // Ready with nothing stashed or being appended: stopping the owner now loses nothing.
  bool idle() const { return phase_ == Phase::ready && stash_.empty() && !in_flight_; }
  bool damaged() const { return phase_ == Phase::damaged; }
  const std::string& stream() const { return stream_; }

  void start() {
    phase_ = Phase::replaying;
    owner_->read_stream(stream_);
  }
  // A stream its owner has just named (a new job's id, never used): there is nothing to replay.
  void start_new() { replayed(store::Status::OK(), {}); }

  // The stored events of the stream (from version 1, or after `from`: a snapshot's state at version
  // `from_version`), or why they could not be read.
  void replayed(const store::Status& status, const std::vector<store::StoredEvent>& stored,
                State* from = nullptr, uint64_t from_version = 0) {
    if (!status.ok()) return fail("cannot read stream " + stream_ + ": " + status.ToString());
    if (from) {
      state_ = std::move(*from);
      version_ = from_version;
    }
    for (const auto& s : stored) {
      std::string error;
      std::optional<Event> event = A::decode(s.payload, &error);
      if (!event)
        return fail("stream " + stream_ + " event " + std::to_string(s.version) +
                    " does not decode: " + error);
      A::apply(state_, *event);
      version_ = s.version;
    }
    phase_ = Phase::ready;
    owner_->recovered();
    drain();
  }

  // A command from a caller (answered through `reply`, if any) or from the owner itself.
  void submit(Command command, std::string idempotency_key, Reply reply) {
    stash_.push_back(Pending{std::move(command), std::move(idempotency_key), std::move(reply)});
    drain();
  }

  void appended(uint64_t ticket, const store::AppendResult& result) {
    if (phase_ != Phase::appending || !in_flight_ || in_flight_->ticket != ticket) return;
    InFlight f = std::move(*in_flight_);
    in_flight_.reset();
    phase_ = Phase::ready;
    if (result.duplicate) {
      // The first answer; this decision is dropped (a keyed command is always alone in its append).
      for (auto& item : f.items) answer(item.pending, A::from_result(result.result));
      if (kInPlace && !f.lookup_only) return replay_again();
    } else if (!result.status.ok()) {
      // Not durable, so not applied and not acknowledged: the state stays as the log says.
      for (auto& item : f.items) answer(item.pending, A::storage_error(result.status.ToString()));
      // A conflict: someone else wrote the stream (an owner before this one, still finishing). Read it again,
      // so the next append is made on what is stored.
      if (result.status.IsConflict() || (kInPlace && !f.lookup_only)) return replay_again();
    } else {
      if (!f.lookup_only) {
        if constexpr (!kInPlace) state_ = std::move(f.next);
        version_ = result.stream_version;
      }
      for (auto& item : f.items) {
        answer(item.pending, item.decision);
        if (item.decision.ok()) owner_->persisted(item.decision);
      }
    }
    drain();
  }

 private:
  enum class Phase { idle, replaying, ready, appending, damaged };
  struct Pending {
    Command command;
    std::string key;
    Reply reply;
  };
  struct Item {
    Pending pending;
    Decision decision;
  };
  struct InFlight {  // one append: the commands decided into it, and the state after them
    uint64_t ticket = 0;
    std::vector<Item> items;
    State next;
    bool lookup_only = false;
  };

  static void answer(Pending& p, const Decision& d) {
    if (p.reply) p.reply(d);
  }

  void fail(const std::string& why) {
    phase_ = Phase::damaged;
    owner_->damaged(why);
    const Decision refused = A::storage_error(why);
    for (auto& p : stash_) answer(p, refused);
    stash_.clear();
  }

  // Decides the stashed commands into one append: each on the state the one before it left, so several
  // commands (a launch and its worker's report, answers arriving together) cost one sync. A command with an
  // idempotency key goes alone, since the key names its append. Every answer waits for the append.
  void drain() {
    if (phase_ != Phase::ready || stash_.empty()) return;
    InFlight f;
    store::AppendRequest request;
    request.stream = stream_;
    request.expected_version = version_;
    const State* current = &state_;
    State next;
    bool changed = false;
    while (!stash_.empty() && f.items.size() < kMaxBatch) {
      const bool keyed = !stash_.front().key.empty();
      if (keyed && !f.items.empty()) break;
      Pending p = std::move(stash_.front());
      stash_.pop_front();
      Decision decision;
      if constexpr (kInPlace) {
        decision = A::decide_in_place(state_, p.command, owner_->now_ms());
      } else {
        State after;
        decision = A::decide(*current, p.command, owner_->now_ms(), &after);
        if (decision.ok() && !decision.events.empty()) {
          for (auto& w : A::view_changes(*current, after, decision.events))
            request.views.push_back(std::move(w));
          next = std::move(after);
          current = &next;
        }
      }
      const bool changes = decision.ok() && !decision.events.empty();
      if (changes) {
        for (const auto& e : decision.events) request.events.push_back(A::encode(e));
        if constexpr (kInPlace)
          for (auto& w : A::view_changes(state_, state_, decision.events))
            request.views.push_back(std::move(w));
        changed = true;
      }
      if (keyed) {
        request.idempotency_key = p.key;
        if (changes)
          request.result = A::result_of(decision);
        else
          request.lookup_only = true;  // nothing to store: only a retry's first answer matters
      }
      f.items.push_back(Item{std::move(p), std::move(decision)});
      if (keyed) break;
    }
    if constexpr (has_snapshots<A>::value) {
      const uint64_t after = version_ + request.events.size();
      if (changed && after / A::kSnapshotEvery > version_ / A::kSnapshotEvery) {
        const State& reached = kInPlace ? state_ : *current;
        request.views.push_back(store::snapshot_write(stream_, after, A::encode_snapshot(reached)));
      }
    }
    if (!changed && request.idempotency_key.empty()) {  // nothing to write and no key to look up
      for (auto& item : f.items) {
        answer(item.pending, item.decision);
        if (item.decision.ok()) owner_->persisted(item.decision);
      }
      return drain();
    }
    f.ticket = ++tickets_;
    f.lookup_only = !changed;
    if (changed && !kInPlace) f.next = std::move(next);
    const uint64_t ticket = f.ticket;
    in_flight_ = std::move(f);
    phase_ = Phase::appending;
    owner_->append(std::move(request), ticket);
  }

  static constexpr size_t kMaxBatch = 64;
  static constexpr bool kInPlace = decides_in_place<A>::value;

  void replay_again() {
    state_ = State{};
    version_ = 0;
    start();
  }

  const std::string stream_;
  Owner* owner_;
  Phase phase_ = Phase::idle;
  State state_;
  uint64_t version_ = 0;
  std::deque<Pending> stash_;
  std::optional<InFlight> in_flight_;
  uint64_t tickets_ = 0;
};

}  // namespace flowstone::actors
