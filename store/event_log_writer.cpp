// The writer thread of the event log: it drains every append queued at that moment into one RocksDB
// WriteBatch and one sync (group commit), checks each against the stream versions and idempotency keys
// (earlier requests of the same group included), then answers them in order. See event_log_impl.hpp.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "store/event_log_impl.hpp"

namespace flowstone::store {

using namespace log_internal;

Status EventLog::Impl::LoadLastGlobalSeq(uint64_t* out) {
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

Status EventLog::Impl::ReadStreamVersion(const std::string& stream, uint64_t* out) {
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
Status EventLog::Impl::CachedVersion(const std::string& stream, uint64_t* out) {
  auto it = stream_cache.find(stream);
  if (it != stream_cache.end()) {
    *out = it->second;
    return Status::OK();
  }
  Status s = ReadStreamVersion(stream, out);
  if (s.ok()) stream_cache.emplace(stream, *out);
  return s;
}

Status EventLog::Impl::View(const std::string& family, rocksdb::ColumnFamilyHandle** out) {
  auto it = views.find(family);
  if (it == views.end()) return Status::InvalidArgument("unknown view family '" + family + "'");
  *out = it->second;
  return Status::OK();
}

void EventLog::Impl::WriterLoop() {
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

void EventLog::Impl::CommitGroup(std::vector<Pending>* group) {
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
    const auto written = std::chrono::steady_clock::now();
    CommitStats stats{group->size(),
                      static_cast<size_t>(seq - first_seq),
                      std::chrono::duration_cast<std::chrono::microseconds>(written - write_start),
                      ws.ok(),
                      {}};
    for (const Pending& p : *group)
      stats.append_latencies.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(written - p.queued_at));
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

}  // namespace flowstone::store
