// EventLog on RocksDB: an append-only log of per-stream events with one global order, plus query
// views written in the same atomic batch as the events that produce them. This file opens and closes it,
// queues appends for the writer (event_log_writer.cpp) and serves the readers; the layout and thread rules
// are in event_log_impl.hpp.
#include "store/event_log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <utility>

#include "store/event_log_impl.hpp"

namespace flowstone::store {

using namespace log_internal;

// Stops the writer (draining the queue) and closes the database. Idempotent.
void EventLog::Impl::Close() {
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
  p.queued_at = std::chrono::steady_clock::now();
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
