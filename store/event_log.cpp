// EventLog on RocksDB: an append-only log of per-stream events with one global order, plus query
// views written in the same atomic batch as the events that produce them.
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
#include "store/event_log.hpp"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <utility>

namespace flowstone::store {
namespace {

constexpr const char* kEventsCf = "events";
constexpr const char* kGlobalCf = "global";
constexpr const char* kStreamsCf = "streams";
constexpr const char* kIdempotencyCf = "idempotency";
constexpr const char* kMetaCf = "meta";
constexpr const char* kLastGlobalSeqKey = "last_global_seq";
// Past this many cached stream versions the writer forgets them all (they reload on next touch).
constexpr size_t kMaxCachedStreams = 1 << 18;

void PutBE64(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  dst->append(buf, 8);
}

std::string BE64(uint64_t v) {
  std::string s;
  PutBE64(&s, v);
  return s;
}

uint64_t GetBE64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string EventKey(const std::string& stream, uint64_t version) {
  std::string k;
  k.reserve(stream.size() + 9);
  k.append(stream);
  k.push_back('\0');
  PutBE64(&k, version);
  return k;
}

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  if (s.IsInvalidArgument()) return Status::InvalidArgument(s.ToString());
  return Status::IOError(s.ToString());
}

Status ClosedStatus() {
  return Status::Closed("event log is closed");
}

struct Pending {
  AppendRequest request;
  std::function<void(AppendResult)> done;
  size_t bytes = 0;
};

}  // namespace

struct EventLog::Impl {
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

  Status LoadLastGlobalSeq(uint64_t* out) {
    std::string v;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), meta, kLastGlobalSeqKey, &v);
    if (s.IsNotFound()) {
      *out = 0;
      return Status::OK();
    }
    if (!s.ok()) return FromRocks(s);
    if (v.size() != 8)
      return Status::Corruption("meta last_global_seq has " + std::to_string(v.size()) + " bytes");
    *out = GetBE64(v.data());
    return Status::OK();
  }

  Status ReadStreamVersion(const std::string& stream, uint64_t* out) {
    std::string v;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), streams, stream, &v);
    if (s.IsNotFound()) {
      *out = 0;
      return Status::OK();
    }
    if (!s.ok()) return FromRocks(s);
    if (v.size() != 8) return Status::Corruption("streams value for " + stream + " has bad size");
    *out = GetBE64(v.data());
    return Status::OK();
  }

  // Writer thread only.
  Status CachedVersion(const std::string& stream, uint64_t* out) {
    auto it = stream_cache.find(stream);
    if (it != stream_cache.end()) {
      *out = it->second;
      return Status::OK();
    }
    Status s = ReadStreamVersion(stream, out);
    if (s.ok()) stream_cache.emplace(stream, *out);
    return s;
  }

  Status View(const std::string& family, rocksdb::ColumnFamilyHandle** out) {
    auto it = views.find(family);
    if (it == views.end()) return Status::InvalidArgument("unknown view family '" + family + "'");
    *out = it->second;
    return Status::OK();
  }

  void WriterLoop() {
    std::vector<Pending> group;
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return !queue.empty() || closing; });
        if (queue.empty()) return;  // closing and drained
        size_t bytes = 0;
        while (!queue.empty()) {
          size_t b = queue.front().bytes;
          if (!group.empty() && bytes + b > options.max_batch_bytes) break;
          bytes += b;
          group.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
      CommitGroup(&group);
      group.clear();
    }
  }

  void CommitGroup(std::vector<Pending>* group) {
    rocksdb::WriteBatch batch;
    std::vector<AppendResult> results(group->size());
    // Idempotency keys stored by earlier requests of this group: key -> (stream version, result).
    std::unordered_map<std::string, std::pair<uint64_t, std::string>> group_keys;
    uint64_t seq = last_global_seq.load(std::memory_order_relaxed);
    const uint64_t first_seq = seq;
    bool wrote = false;
    bool seq_changed = false;

    for (size_t i = 0; i < group->size(); ++i) {
      const AppendRequest& req = (*group)[i].request;
      AppendResult& res = results[i];

      // Shape checks.
      if (req.stream.find('\0') != std::string::npos) {
        res.status = Status::InvalidArgument("stream name contains NUL");
        continue;
      }
      if (req.stream.empty() && !req.events.empty()) {
        res.status = Status::InvalidArgument("events need a stream");
        continue;
      }
      std::vector<rocksdb::ColumnFamilyHandle*> view_cfs(req.views.size());
      bool bad = false;
      for (size_t v = 0; v < req.views.size() && !bad; ++v) {
        Status s = View(req.views[v].family, &view_cfs[v]);
        if (!s.ok()) {
          res.status = s;
          bad = true;
        }
      }
      if (bad) continue;

      uint64_t current = 0;
      if (!req.stream.empty()) {
        Status s = CachedVersion(req.stream, &current);
        if (!s.ok()) {
          res.status = s;
          continue;
        }
      }

      // Idempotency before the version check: a retry of a successful append must see its result.
      if (!req.idempotency_key.empty()) {
        auto g = group_keys.find(req.idempotency_key);
        if (g != group_keys.end()) {
          res.duplicate = true;
          res.result = g->second.second;
          res.stream_version = current;
          continue;
        }
        std::string v;
        rocksdb::Status s = db->Get(rocksdb::ReadOptions(), idempotency, req.idempotency_key, &v);
        if (s.ok()) {
          if (v.size() < 8) {
            res.status = Status::Corruption("idempotency value too short");
            continue;
          }
          res.duplicate = true;
          res.result = v.substr(8);
          res.stream_version = current;
          continue;
        }
        if (!s.IsNotFound()) {
          res.status = FromRocks(s);
          continue;
        }
      }

      if (req.lookup_only) {  // the key is new: nothing is written, the caller answers afresh
        res.stream_version = current;
        continue;
      }

      if (!req.stream.empty() && current != req.expected_version) {
        res.status = Status::Conflict("stream " + req.stream + " is at version " + std::to_string(current) +
                                      ", expected " + std::to_string(req.expected_version));
        res.stream_version = current;
        continue;
      }

      // Valid: add everything to the batch.
      uint64_t version = current;
      for (const std::string& payload : req.events) {
        ++version;
        ++seq;
        std::string value;
        value.reserve(8 + payload.size());
        PutBE64(&value, seq);
        value.append(payload);
        std::string key = EventKey(req.stream, version);
        batch.Put(events, key, value);
        batch.Put(global, BE64(seq), key);
        seq_changed = true;
      }
      if (!req.events.empty()) {
        batch.Put(streams, req.stream, BE64(version));
        stream_cache[req.stream] = version;
        res.last_global_seq = seq;
      }
      for (size_t v = 0; v < req.views.size(); ++v) {
        const ViewWrite& w = req.views[v];
        if (w.value)
          batch.Put(view_cfs[v], w.key, *w.value);
        else
          batch.Delete(view_cfs[v], w.key);
      }
      for (const std::string& gone : req.remove_streams) {
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), events));
        const std::string prefix = gone + '\0';
        for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
          batch.Delete(events, it->key());
          if (it->value().size() >= 8) batch.Delete(global, rocksdb::Slice(it->value().data(), 8));
        }
        batch.Delete(streams, gone);
        stream_cache.erase(gone);
        wrote = true;
      }
      if (!req.idempotency_key.empty()) {
        std::string v = BE64(version);
        v.append(req.result);
        batch.Put(idempotency, req.idempotency_key, v);
        group_keys.emplace(req.idempotency_key, std::make_pair(version, req.result));
      }
      res.stream_version = version;
      wrote = true;
    }

    if (wrote) {
      if (seq_changed) batch.Put(meta, kLastGlobalSeqKey, BE64(seq));
      rocksdb::WriteOptions wo;
      wo.sync = options.sync;
      rocksdb::Status ws;
      const auto write_start = std::chrono::steady_clock::now();
      if (fail_writes.load() > 0) {
        fail_writes.fetch_sub(1);
        ws = rocksdb::Status::IOError("injected write failure");
      } else {
        ws = db->Write(wo, &batch);
      }
      const CommitStats stats{group->size(), static_cast<size_t>(seq - first_seq),
                              std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - write_start),
                              ws.ok()};
      if (!ws.ok()) {
        spdlog::error("event log: group commit of {} appends failed: {}", group->size(), ws.ToString());
        for (AppendResult& r : results) {
          r = AppendResult();
          r.status = Status::IOError(ws.ToString());
        }
        // Roll back: forget cached versions, reload the global sequence from what is durable.
        stream_cache.clear();
        uint64_t durable = 0;
        if (LoadLastGlobalSeq(&durable).ok()) last_global_seq.store(durable);
      } else {
        last_global_seq.store(seq);
      }
      // After the sequence moved: an observer that reads LastGlobalSeq() on this call sees the new events.
      if (options.on_commit) options.on_commit(stats);
    }
    if (stream_cache.size() > kMaxCachedStreams) stream_cache.clear();

    for (size_t i = 0; i < group->size(); ++i) {
      auto& done = (*group)[i].done;
      if (done) done(std::move(results[i]));
    }
  }

  // Stops the writer (draining the queue) and closes the database. Idempotent.
  void Close() {
    std::lock_guard<std::mutex> close_lock(close_mu);
    if (closed) return;
    {
      std::lock_guard<std::mutex> lk(mu);
      closing = true;
    }
    cv.notify_all();
    if (writer.joinable()) writer.join();
    std::unique_lock<std::shared_mutex> db_lock(db_mu);
    if (db != nullptr) {
      for (rocksdb::ColumnFamilyHandle* h : handles) {
        rocksdb::Status s = db->DestroyColumnFamilyHandle(h);
        if (!s.ok()) spdlog::warn("event log: destroying a column family handle: {}", s.ToString());
      }
      handles.clear();
      views.clear();
      events = global = streams = idempotency = meta = nullptr;
      rocksdb::Status s = db->Close();
      if (!s.ok()) spdlog::warn("event log: close: {}", s.ToString());
      delete db;
      db = nullptr;
    }
    closed = true;
  }
};

EventLog::EventLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventLog::~EventLog() {
  if (impl_) impl_->Close();
}

Status EventLog::Open(const std::string& dir, const Options& options, std::unique_ptr<EventLog>* out) {
  for (const std::string& f : options.view_families) {
    if (f == kEventsCf || f == kGlobalCf || f == kStreamsCf || f == kIdempotencyCf || f == kMetaCf ||
        f == rocksdb::kDefaultColumnFamilyName || f.empty())
      return Status::InvalidArgument("view family name '" + f + "' is reserved");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("create " + dir + ": " + ec.message());

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;

  std::vector<std::string> names = {
      rocksdb::kDefaultColumnFamilyName, kEventsCf, kGlobalCf, kStreamsCf, kIdempotencyCf, kMetaCf};
  for (const std::string& f : options.view_families) names.push_back(f);
  std::vector<std::string> existing;
  rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(db_options, dir, &existing);
  if (ls.ok()) {
    for (const std::string& e : existing)
      if (std::find(names.begin(), names.end(), e) == names.end()) names.push_back(e);
  }  // else: a new database (ListColumnFamilies fails when there is none)
  std::sort(names.begin() + 1, names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, descriptors, &impl->handles, &impl->db);
  if (!s.ok()) return FromRocks(s);

  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& n = names[i];
    rocksdb::ColumnFamilyHandle* h = impl->handles[i];
    if (n == kEventsCf)
      impl->events = h;
    else if (n == kGlobalCf)
      impl->global = h;
    else if (n == kStreamsCf)
      impl->streams = h;
    else if (n == kIdempotencyCf)
      impl->idempotency = h;
    else if (n == kMetaCf)
      impl->meta = h;
  }
  for (const std::string& f : options.view_families) {
    auto it = std::find(names.begin(), names.end(), f);
    impl->views[f] = impl->handles[it - names.begin()];
  }

  uint64_t last = 0;
  Status st = impl->LoadLastGlobalSeq(&last);
  if (!st.ok()) {
    impl->Close();
    return st;
  }
  impl->last_global_seq.store(last);
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->WriterLoop(); });
  spdlog::info("event log: opened {} ({} column families, last global seq {})", dir, names.size(), last);
  out->reset(new EventLog(std::move(impl)));
  return Status::OK();
}

void EventLog::AppendAsync(AppendRequest request, std::function<void(AppendResult)> done) {
  Pending p;
  p.bytes = request.stream.size() + request.idempotency_key.size() + request.result.size() + 64;
  for (const std::string& e : request.events) p.bytes += e.size() + request.stream.size() + 40;
  for (const ViewWrite& v : request.views) p.bytes += v.key.size() + (v.value ? v.value->size() : 0) + 16;
  p.request = std::move(request);
  p.done = std::move(done);
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    if (!impl_->closing) {
      impl_->queue.push_back(std::move(p));
      p.done = nullptr;
    }
  }
  if (p.done) {  // closed: answer on the caller's thread
    AppendResult r;
    r.status = ClosedStatus();
    p.done(std::move(r));
    return;
  }
  impl_->cv.notify_one();
}

AppendResult EventLog::Append(AppendRequest request) {
  // The promise is shared with the callback so it outlives set_value even if the caller wakes first.
  auto promise = std::make_shared<std::promise<AppendResult>>();
  std::future<AppendResult> future = promise->get_future();
  AppendAsync(std::move(request), [promise](AppendResult r) { promise->set_value(std::move(r)); });
  return future.get();
}

Status EventLog::ReadStream(const std::string& stream, uint64_t from_version, std::vector<StoredEvent>* out) {
  out->clear();
  std::shared_lock<std::shared_mutex> lk(impl_->db_mu);
  if (impl_->db == nullptr) return ClosedStatus();
  std::string prefix = stream;
  prefix.push_back('\0');
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->events));
  for (it->Seek(EventKey(stream, std::max<uint64_t>(from_version, 1))); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    if (!k.starts_with(prefix)) break;
    rocksdb::Slice v = it->value();
    if (k.size() != prefix.size() + 8 || v.size() < 8)
      return Status::Corruption("bad event record in " + stream);
    StoredEvent e;
    e.stream = stream;
    e.version = GetBE64(k.data() + prefix.size());
    e.global_seq = GetBE64(v.data());
    e.payload.assign(v.data() + 8, v.size() - 8);
    out->push_back(std::move(e));
  }
  return FromRocks(it->status());
}

uint64_t EventLog::StreamVersion(const std::string& stream) {
  std::shared_lock<std::shared_mutex> lk(impl_->db_mu);
  if (impl_->db == nullptr) return 0;
  uint64_t v = 0;
  if (!impl_->ReadStreamVersion(stream, &v).ok()) return 0;
  return v;
}

Status EventLog::ListStreams(std::vector<std::string>* out) {
  out->clear();
  std::shared_lock<std::shared_mutex> lk(impl_->db_mu);
  if (impl_->db == nullptr) return ClosedStatus();
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->streams));
  for (it->SeekToFirst(); it->Valid(); it->Next()) out->push_back(it->key().ToString());
  return FromRocks(it->status());
}

uint64_t EventLog::LastGlobalSeq() {
  return impl_->last_global_seq.load();
}

Status EventLog::ReadGlobal(uint64_t from_seq, const std::function<bool(const StoredEvent&)>& visit) {
  std::shared_lock<std::shared_mutex> lk(impl_->db_mu);
  if (impl_->db == nullptr) return ClosedStatus();
  rocksdb::DB* db = impl_->db;
  const rocksdb::Snapshot* snap = db->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  Status result;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, impl_->global));
    std::string value;
    for (it->Seek(BE64(from_seq)); it->Valid(); it->Next()) {
      rocksdb::Slice k = it->key();
      rocksdb::Slice ref = it->value();
      if (k.size() != 8 || ref.size() < 9 || ref[ref.size() - 9] != '\0') {
        result = Status::Corruption("bad global index record");
        break;
      }
      rocksdb::Status s = db->Get(ro, impl_->events, ref, &value);
      if (!s.ok()) {
        result = s.IsNotFound() ? Status::Corruption("global index points at a missing event") : FromRocks(s);
        break;
      }
      if (value.size() < 8) {
        result = Status::Corruption("bad event record");
        break;
      }
      StoredEvent e;
      e.stream.assign(ref.data(), ref.size() - 9);
      e.version = GetBE64(ref.data() + ref.size() - 8);
      e.global_seq = GetBE64(k.data());
      e.payload.assign(value.data() + 8, value.size() - 8);
      if (!visit(e)) break;
    }
    if (result.ok()) result = FromRocks(it->status());
  }
  db->ReleaseSnapshot(snap);
  return result;
}

Status EventLog::GetView(const std::string& family, const std::string& key, std::string* value) {
  std::shared_lock<std::shared_mutex> lk(impl_->db_mu);
  if (impl_->db == nullptr) return ClosedStatus();
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  Status st = impl_->View(family, &cf);
  if (!st.ok()) return st;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), cf, key, value);
  if (s.IsNotFound()) return Status::NotFound(family + "/" + key);
  return FromRocks(s);
}

Status EventLog::ScanView(
    const std::string& family, const std::string& prefix,
    const std::function<bool(const std::string& key, const std::string& value)>& visit) {
  std::shared_lock<std::shared_mutex> lk(impl_->db_mu);
  if (impl_->db == nullptr) return ClosedStatus();
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  Status st = impl_->View(family, &cf);
  if (!st.ok()) return st;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), cf));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (!it->key().starts_with(prefix)) break;
    if (!visit(it->key().ToString(), it->value().ToString())) break;
  }
  return FromRocks(it->status());
}

Status EventLog::ReplaceView(const std::string& family,
                             const std::vector<std::pair<std::string, std::string>>& rows) {
  std::shared_lock<std::shared_mutex> lk(impl_->db_mu);
  if (impl_->db == nullptr) return ClosedStatus();
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  Status st = impl_->View(family, &cf);
  if (!st.ok()) return st;
  rocksdb::WriteBatch batch;
  {
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) batch.Delete(cf, it->key());
    if (!it->status().ok()) return FromRocks(it->status());
  }
  for (const auto& [k, v] : rows) batch.Put(cf, k, v);
  rocksdb::WriteOptions wo;
  wo.sync = impl_->options.sync;
  return FromRocks(impl_->db->Write(wo, &batch));
}

Status EventLog::LookupIdempotency(const std::string& key, std::string* result) {
  std::shared_lock<std::shared_mutex> lk(impl_->db_mu);
  if (impl_->db == nullptr) return ClosedStatus();
  std::string v;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->idempotency, key, &v);
  if (s.IsNotFound()) return Status::NotFound("idempotency key " + key);
  if (!s.ok()) return FromRocks(s);
  if (v.size() < 8) return Status::Corruption("idempotency value too short");
  result->assign(v.data() + 8, v.size() - 8);
  return Status::OK();
}

void EventLog::Close() {
  impl_->Close();
}

void EventLog::TestOnlyFailNextWrites(int count) {
  impl_->fail_writes.store(count);
}

}  // namespace flowstone::store
