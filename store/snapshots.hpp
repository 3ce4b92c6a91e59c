// Aggregate snapshots: an aggregate's state at a version of its stream, so a restart replays only the
// events after it. A snapshot is a row of the `snapshots` family (key: the stream) written in the same
// atomic batch as the events that reach its version, so it is never ahead of or apart from the log. Its
// bytes are the aggregate's own (a versioned Cap'n Proto message, see schemas/events.capnp); one that does
// not decode is ignored and the whole stream replayed. Snapshots are not views: a store rebuild leaves
// them, and losing one costs only a longer replay. Thread-safe (the log is).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "store/event_log.hpp"

namespace flowstone::store {

inline constexpr const char* kSnapshotsFamily = "snapshots";

struct Snapshot {
  uint64_t version = 0;  // the stream's version the state is at
  std::string bytes;     // the aggregate's encoding of its state
};

// The row written with the append that reaches `version`.
ViewWrite snapshot_write(const std::string& stream, uint64_t version, std::string_view bytes);
// The stream's latest snapshot: NotFound if it has none, Corruption if its row is malformed.
Status ReadSnapshot(EventLog& log, const std::string& stream, Snapshot* out);

}  // namespace flowstone::store
