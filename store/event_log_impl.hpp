// EventLog's insides, shared by its two files: event_log.cpp (opening, the public calls, the readers) and
// event_log_writer.cpp (the writer thread's group commit). Private to store/: nothing outside includes it.
//
// Layout (all integers are big-endian u64, so byte order == numeric order):
//   events       stream '\0' version  -> global_seq payload
//   global       global_seq           -> stream '\0' version
//   streams      stream               -> current version
//   idempotency  key                  -> stream version after the first append, result bytes
//   meta         "last_global_seq"    -> last global sequence written (retention may leave gaps below it)
//   <view>       one column family per Options::view_families, rows written by appends / ReplaceView
//
// Thread rules: AppendAsync only queues (mutex + condvar). One writer thread owns the stream-version
// cache and the global sequence counter; it drains everything queued (up to max_batch_bytes), checks
// each request in order against the cache (including earlier requests of the same group), builds ONE
// WriteBatch, writes it once (WAL sync when Options::sync), then runs the callbacks in order. If the
// write fails every request of the group gets IOError and the caches are reloaded from the database.
// Readers use RocksDB directly under a shared lock; Close joins the writer (after it drains the queue)
// and then takes the lock exclusively to close the database.
#pragma once
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/event_log.hpp"

namespace flowstone::store {
namespace log_internal {

inline constexpr const char* kEventsCf = "events";
inline constexpr const char* kGlobalCf = "global";
inline constexpr const char* kStreamsCf = "streams";
inline constexpr const char* kIdempotencyCf = "idempotency";
inline constexpr const char* kMetaCf = "meta";
inline constexpr const char* kLastGlobalSeqKey = "last_global_seq";
// Past this many cached stream versions the writer forgets them all (they reload on next touch).
inline constexpr size_t kMaxCachedStreams = 1 << 18;

inline void PutBE64(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  dst->append(buf, 8);
}

inline std::string BE64(uint64_t v) {
  std::string s;
  PutBE64(&s, v);
  return s;
}

inline uint64_t GetBE64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

inline std::string EventKey(const std::string& stream, uint64_t version) {
  std::string k;
  k.reserve(stream.size() + 9);
  k.append(stream);
  k.push_back('\0');
  PutBE64(&k, version);
  return k;
}

inline Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  if (s.IsInvalidArgument()) return Status::InvalidArgument(s.ToString());
  return Status::IOError(s.ToString());
}

inline Status ClosedStatus() {
  return Status::Closed("event log is closed");
}

struct Pending {
  AppendRequest request;
  std::function<void(AppendResult)> done;
  size_t bytes = 0;
  std::chrono::steady_clock::time_point queued_at;  // its latency: queued to durable
};

}  // namespace log_internal

struct EventLog::Impl {
  using Pending = log_internal::Pending;

  Options options;
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // every handle opened (destroyed on close)
  rocksdb::ColumnFamilyHandle* events = nullptr;
  rocksdb::ColumnFamilyHandle* global = nullptr;
  rocksdb::ColumnFamilyHandle* streams = nullptr;
  rocksdb::ColumnFamilyHandle* idempotency = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> views;  // Options::view_families only

  // Guards `db` against Close while readers use it (writer thread is joined before Close locks it).
  std::shared_mutex db_mu;

  // Append queue.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Pending> queue;
  bool closing = false;
  std::thread writer;

  std::mutex close_mu;  // serialises Close
  bool closed = false;

  // Writer-thread state.
  std::unordered_map<std::string, uint64_t> stream_cache;
  std::atomic<uint64_t> last_global_seq{0};
  std::atomic<int> fail_writes{0};

  Status LoadLastGlobalSeq(uint64_t* out);
  Status ReadStreamVersion(const std::string& stream, uint64_t* out);
  // Writer thread only.
  Status CachedVersion(const std::string& stream, uint64_t* out);
  Status View(const std::string& family, rocksdb::ColumnFamilyHandle** out);
  void WriterLoop();
  void CommitGroup(std::vector<Pending>* group);
  // Stops the writer (draining the queue) and closes the database. Idempotent.
  void Close();
};

}  // namespace flowstone::store
