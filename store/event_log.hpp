// EventLog: the durable, ordered record of every state change, on RocksDB.
//
// Streams: each aggregate instance (a job) owns one stream of events numbered 1, 2, 3...; every event
// also gets a global sequence number (one total order across streams). An append writes a batch of
// events to one stream atomically, only if the stream is at `expected_version` (else Conflict: nothing
// is written). An append may carry an idempotency key: if the key was seen before, nothing is appended
// and the first append's stored result is returned (duplicate = true). The idempotency check lives here
// alone: a caller with nothing to append sends a lookup-only request to learn whether its key was seen.
//
// Projections (query views) live in their own column families. An append carries the view rows that
// its events produce, written in the same atomic batch, so a view never runs ahead of or behind the log.
// `ReplaceView` (used by rebuild) clears a view family and writes it anew.
//
// Durability: appends are synced (WAL fsync) before their callback runs. One writer thread drains every
// append waiting at that moment into a single WriteBatch and a single sync (group commit).
//
// Thread rules: every method is thread-safe. AppendAsync's callback runs on the writer thread and must
// not block; it must not call Append (it may call AppendAsync).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/status.hpp"

namespace flowstone::store {

struct ViewWrite {
  std::string family;  // a view family named in Options::view_families
  std::string key;
  std::optional<std::string> value;  // nullopt deletes the key
};

struct AppendRequest {
  std::string stream;
  uint64_t expected_version = 0;    // the stream's version before this append (0: a new stream)
  std::vector<std::string> events;  // encoded events (opaque bytes); may be empty if only views change
  std::vector<ViewWrite> views;
  std::string idempotency_key;  // empty: none
  std::string result;           // stored under the key, returned to a duplicate
  bool lookup_only = false;     // only ask whether the key was seen: nothing is written or synced
  // Retention: streams whose events (and places in the global order) are removed in the same batch, e.g.
  // with the event that records the removal (store/retention.hpp).
  std::vector<std::string> remove_streams;
};

struct AppendResult {
  Status status;
  uint64_t stream_version = 0;   // the stream's version after the append (or now, for a duplicate)
  uint64_t last_global_seq = 0;  // the global sequence of the last event appended (0 if none)
  bool duplicate = false;
  std::string result;  // the stored result when duplicate
};

struct StoredEvent {
  std::string stream;
  uint64_t version = 0;
  uint64_t global_seq = 0;
  std::string payload;
};

// One group commit that wrote, as the log tells Options::on_commit.
struct CommitStats {
  size_t appends = 0;                       // append requests in the group
  size_t events = 0;                        // events written
  std::chrono::microseconds write_time{0};  // the batch's write, its sync included
  bool ok = true;
  // Each append's time from AppendAsync to durable: its wait for the writer, then the group's write.
  std::vector<std::chrono::microseconds> append_latencies;
};

struct Options {
  bool sync = true;                        // false only for benchmarks that measure the non-durable path
  std::vector<std::string> view_families;  // e.g. {"jobs", "tasks", "executions"}
  size_t max_batch_bytes = 4 << 20;        // a group commit stops draining past this size
  // Called on the writer thread after each group commit that wrote, once LastGlobalSeq() includes it
  // (metrics, the live feed); must be quick.
  std::function<void(const CommitStats&)> on_commit;
};

class EventLog {
 public:
  static Status Open(const std::string& dir, const Options& options, std::unique_ptr<EventLog>* out);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  void AppendAsync(AppendRequest request, std::function<void(AppendResult)> done);
  AppendResult Append(AppendRequest request);  // blocks until synced

  Status ReadStream(const std::string& stream, uint64_t from_version, std::vector<StoredEvent>* out);
  uint64_t StreamVersion(const std::string& stream);
  Status ListStreams(std::vector<std::string>* out);
  uint64_t LastGlobalSeq();
  // Visits events in global order starting at from_seq; the visitor returns false to stop.
  Status ReadGlobal(uint64_t from_seq, const std::function<bool(const StoredEvent&)>& visit);

  Status GetView(const std::string& family, const std::string& key, std::string* value);
  // Visits keys with the prefix in key order; the visitor returns false to stop.
  Status ScanView(const std::string& family, const std::string& prefix,
                  const std::function<bool(const std::string& key, const std::string& value)>& visit);
  Status ReplaceView(const std::string& family, const std::vector<std::pair<std::string, std::string>>& rows);

  Status LookupIdempotency(const std::string& key, std::string* result);

  // Stops the writer after draining queued appends (their callbacks run), then closes the database.
  // Later appends complete with Status::Closed. Idempotent; also done by the destructor.
  void Close();

  // Tests only: the next `count` group commits fail as if RocksDB's Write had returned an I/O error.
  void TestOnlyFailNextWrites(int count);

 private:
  struct Impl;
  explicit EventLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowstone::store
