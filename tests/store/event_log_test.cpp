#include "store/event_log.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace flowstone::store {
namespace {

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/flowstone_event_log_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    options_.view_families = {"jobs", "tasks"};
    Reopen();
  }
  void TearDown() override {
    log_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    log_.reset();
    Status s = EventLog::Open(dir_, options_, &log_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  static AppendRequest Req(const std::string& stream, uint64_t expected, std::vector<std::string> events) {
    AppendRequest r;
    r.stream = stream;
    r.expected_version = expected;
    r.events = std::move(events);
    return r;
  }

  std::vector<StoredEvent> Read(const std::string& stream, uint64_t from = 1) {
    std::vector<StoredEvent> out;
    Status s = log_->ReadStream(stream, from, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  std::vector<StoredEvent> Global(uint64_t from = 1) {
    std::vector<StoredEvent> out;
    Status s = log_->ReadGlobal(from, [&](const StoredEvent& e) {
      out.push_back(e);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  // Makes the writer thread block inside a callback until the returned promise is set, so that
  // whatever is queued meanwhile is committed as one group.
  std::promise<void> BlockWriter() {
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    auto entered = std::make_shared<std::promise<void>>();
    std::future<void> in = entered->get_future();
    log_->AppendAsync(Req("blocker", log_->StreamVersion("blocker"), {"b"}), [gate, entered](AppendResult r) {
      EXPECT_TRUE(r.status.ok()) << r.status.ToString();
      entered->set_value();
      gate.wait();
    });
    in.wait();
    return release;
  }

  std::string dir_;
  Options options_;
  std::unique_ptr<EventLog> log_;
};

TEST_F(EventLogTest, AppendAndReadBack) {
  AppendResult r = log_->Append(Req("job-1", 0, {"a", "b", "c"}));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.stream_version, 3u);
  EXPECT_EQ(r.last_global_seq, 3u);
  EXPECT_FALSE(r.duplicate);

  auto events = Read("job-1");
  ASSERT_EQ(events.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(events[i].stream, "job-1");
    EXPECT_EQ(events[i].version, i + 1);
    EXPECT_EQ(events[i].global_seq, i + 1);
  }
  EXPECT_EQ(events[0].payload, "a");
  EXPECT_EQ(events[2].payload, "c");

  auto tail = Read("job-1", 2);
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0].payload, "b");
  EXPECT_TRUE(Read("job-1", 4).empty());
  EXPECT_TRUE(Read("job-2").empty());
  EXPECT_EQ(log_->StreamVersion("job-1"), 3u);
  EXPECT_EQ(log_->StreamVersion("nope"), 0u);

  // Binary payloads and a stream whose name is a prefix of another.
  std::string bin("\0\xff\x01", 3);
  ASSERT_TRUE(log_->Append(Req("job", 0, {bin})).status.ok());
  auto j = Read("job");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].payload, bin);
  EXPECT_EQ(Read("job-1").size(), 3u);
}

TEST_F(EventLogTest, VersionsAndGlobalSeqAcrossStreams) {
  ASSERT_TRUE(log_->Append(Req("a", 0, {"a1"})).status.ok());
  ASSERT_TRUE(log_->Append(Req("b", 0, {"b1", "b2"})).status.ok());
  AppendResult r = log_->Append(Req("a", 1, {"a2"}));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.stream_version, 2u);
  EXPECT_EQ(r.last_global_seq, 4u);
  EXPECT_EQ(log_->LastGlobalSeq(), 4u);

  auto all = Global();
  ASSERT_EQ(all.size(), 4u);
  std::vector<std::string> payloads;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].global_seq, i + 1);
    payloads.push_back(all[i].payload);
  }
  EXPECT_EQ(payloads, (std::vector<std::string>{"a1", "b1", "b2", "a2"}));
  EXPECT_EQ(all[3].stream, "a");
  EXPECT_EQ(all[3].version, 2u);

  auto from3 = Global(3);
  ASSERT_EQ(from3.size(), 2u);
  EXPECT_EQ(from3[0].payload, "b2");

  int visited = 0;
  ASSERT_TRUE(log_->ReadGlobal(1, [&](const StoredEvent&) { return ++visited < 2; }).ok());
  EXPECT_EQ(visited, 2);

  std::vector<std::string> streams;
  ASSERT_TRUE(log_->ListStreams(&streams).ok());
  EXPECT_EQ(streams, (std::vector<std::string>{"a", "b"}));
}

TEST_F(EventLogTest, ExpectedVersionConflictWritesNothing) {
  ASSERT_TRUE(log_->Append(Req("s", 0, {"1"})).status.ok());
  AppendRequest bad = Req("s", 0, {"x", "y"});
  bad.views.push_back({"jobs", "s", std::string("should not land")});
  bad.idempotency_key = "k-bad";
  AppendResult r = log_->Append(bad);
  EXPECT_TRUE(r.status.IsConflict());
  EXPECT_EQ(r.status.message(), "stream s is at version 1, expected 0");
  EXPECT_EQ(log_->StreamVersion("s"), 1u);
  EXPECT_EQ(Read("s").size(), 1u);
  EXPECT_EQ(log_->LastGlobalSeq(), 1u);
  std::string v;
  EXPECT_TRUE(log_->GetView("jobs", "s", &v).IsNotFound());
  EXPECT_TRUE(log_->LookupIdempotency("k-bad", &v).IsNotFound());

  // Ahead of the stream is a conflict too.
  EXPECT_TRUE(log_->Append(Req("s", 5, {"z"})).status.IsConflict());
  // The right version still works and global seq has no gap.
  AppendResult ok = log_->Append(Req("s", 1, {"2"}));
  ASSERT_TRUE(ok.status.ok());
  EXPECT_EQ(ok.last_global_seq, 2u);
}

TEST_F(EventLogTest, IdempotencyReturnsFirstResult) {
  AppendRequest r = Req("s", 0, {"e1"});
  r.idempotency_key = "submit-42";
  r.result = "job-42";
  AppendResult first = log_->Append(r);
  ASSERT_TRUE(first.status.ok());
  EXPECT_FALSE(first.duplicate);

  ASSERT_TRUE(log_->Append(Req("s", 1, {"e2"})).status.ok());

  AppendRequest again = Req("s", 0, {"other"});  // stale expected version: idempotency wins
  again.idempotency_key = "submit-42";
  again.result = "job-43";
  AppendResult dup = log_->Append(again);
  ASSERT_TRUE(dup.status.ok()) << dup.status.ToString();
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.result, "job-42");
  EXPECT_EQ(dup.stream_version, 2u);
  EXPECT_EQ(dup.last_global_seq, 0u);
  EXPECT_EQ(Read("s").size(), 2u);
  EXPECT_EQ(log_->LastGlobalSeq(), 2u);

  std::string stored;
  ASSERT_TRUE(log_->LookupIdempotency("submit-42", &stored).ok());
  EXPECT_EQ(stored, "job-42");
  EXPECT_TRUE(log_->LookupIdempotency("nope", &stored).IsNotFound());
}

TEST_F(EventLogTest, IdempotencyRepeatedWithinOneGroup) {
  std::promise<void> release = BlockWriter();
  std::vector<AppendResult> results(5);
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i) {
    AppendRequest r = Req("s" + std::to_string(i), 0, {"e"});
    r.idempotency_key = "same";
    r.result = "result-" + std::to_string(i);
    log_->AppendAsync(r, [&results, &done, i](AppendResult res) {
      results[i] = std::move(res);
      done++;
    });
  }
  release.set_value();
  while (done.load() < 5) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  ASSERT_TRUE(results[0].status.ok());
  EXPECT_FALSE(results[0].duplicate);
  EXPECT_EQ(results[0].stream_version, 1u);
  for (int i = 1; i < 5; ++i) {
    ASSERT_TRUE(results[i].status.ok()) << i;
    EXPECT_TRUE(results[i].duplicate) << i;
    EXPECT_EQ(results[i].result, "result-0");
    EXPECT_EQ(results[i].stream_version, 0u);  // their own streams were never written
    EXPECT_EQ(log_->StreamVersion("s" + std::to_string(i)), 0u);
  }
  EXPECT_EQ(Read("s0").size(), 1u);
  EXPECT_EQ(log_->LastGlobalSeq(), 2u);  // blocker + s0
}

TEST_F(EventLogTest, ConflictsWithinOneGroupSeeEarlierRequests) {
  std::promise<void> release = BlockWriter();
  std::vector<AppendResult> results(3);
  std::atomic<int> done{0};
  auto cb = [&](int i) {
    return [&results, &done, i](AppendResult r) {
      results[i] = std::move(r);
      done++;
    };
  };
  log_->AppendAsync(Req("g", 0, {"1", "2"}), cb(0));
  log_->AppendAsync(Req("g", 0, {"x"}), cb(1));  // conflict: g is at 2 after the first
  log_->AppendAsync(Req("g", 2, {"3"}), cb(2));  // fine
  release.set_value();
  while (done.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(results[0].status.ok());
  EXPECT_TRUE(results[1].status.IsConflict());
  EXPECT_EQ(results[1].status.message(), "stream g is at version 2, expected 0");
  ASSERT_TRUE(results[2].status.ok());
  EXPECT_EQ(results[2].stream_version, 3u);
  auto g = Read("g");
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[2].payload, "3");
  EXPECT_EQ(Global().size(), 4u);
}

TEST_F(EventLogTest, ViewWritesLandWithEventsAndDeletesWork) {
  AppendRequest r = Req("job-1", 0, {"created"});
  r.views.push_back({"jobs", "job-1", std::string("waiting")});
  r.views.push_back({"tasks", "job-1/t1", std::string("waiting")});
  r.views.push_back({"tasks", "job-1/t2", std::string("waiting")});
  ASSERT_TRUE(log_->Append(r).status.ok());
  std::string v;
  ASSERT_TRUE(log_->GetView("jobs", "job-1", &v).ok());
  EXPECT_EQ(v, "waiting");
  ASSERT_TRUE(log_->GetView("tasks", "job-1/t2", &v).ok());

  AppendRequest r2 = Req("job-1", 1, {"running"});
  r2.views.push_back({"jobs", "job-1", std::string("running")});
  r2.views.push_back({"tasks", "job-1/t2", std::nullopt});
  ASSERT_TRUE(log_->Append(r2).status.ok());
  ASSERT_TRUE(log_->GetView("jobs", "job-1", &v).ok());
  EXPECT_EQ(v, "running");
  EXPECT_TRUE(log_->GetView("tasks", "job-1/t2", &v).IsNotFound());
  EXPECT_TRUE(log_->GetView("tasks", "job-1/t1", &v).ok());

  // A request naming an unknown view is refused whole.
  AppendRequest bad = Req("job-1", 2, {"x"});
  bad.views.push_back({"jobs", "job-1", std::string("bad")});
  bad.views.push_back({"nope", "k", std::string("v")});
  AppendResult br = log_->Append(bad);
  EXPECT_EQ(br.status.code(), Status::Code::invalid_argument);
  EXPECT_EQ(log_->StreamVersion("job-1"), 2u);
  ASSERT_TRUE(log_->GetView("jobs", "job-1", &v).ok());
  EXPECT_EQ(v, "running");
  EXPECT_EQ(log_->GetView("nope", "k", &v).code(), Status::Code::invalid_argument);
  EXPECT_EQ(log_->ScanView("nope", "", [](const std::string&, const std::string&) { return true; }).code(),
            Status::Code::invalid_argument);
  EXPECT_EQ(log_->ReplaceView("nope", {}).code(), Status::Code::invalid_argument);

  // View-only append (no events) on the stream still checks the version.
  AppendRequest vo = Req("job-1", 2, {});
  vo.views.push_back({"jobs", "job-1", std::string("annotated")});
  AppendResult vr = log_->Append(vo);
  ASSERT_TRUE(vr.status.ok());
  EXPECT_EQ(vr.stream_version, 2u);
  EXPECT_EQ(vr.last_global_seq, 0u);
  ASSERT_TRUE(log_->GetView("jobs", "job-1", &v).ok());
  EXPECT_EQ(v, "annotated");
}

TEST_F(EventLogTest, ReopenKeepsEverything) {
  AppendRequest r = Req("a", 0, {"a1", "a2"});
  r.views.push_back({"jobs", "a", std::string("v1")});
  r.idempotency_key = "key-a";
  r.result = "res-a";
  ASSERT_TRUE(log_->Append(r).status.ok());
  ASSERT_TRUE(log_->Append(Req("b", 0, {"b1"})).status.ok());
  log_->Close();
  log_->Close();  // idempotent

  Reopen();
  EXPECT_EQ(log_->StreamVersion("a"), 2u);
  EXPECT_EQ(log_->LastGlobalSeq(), 3u);
  EXPECT_EQ(Read("a").size(), 2u);
  std::string v;
  ASSERT_TRUE(log_->GetView("jobs", "a", &v).ok());
  EXPECT_EQ(v, "v1");
  AppendResult dup = log_->Append(r);
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.result, "res-a");

  EXPECT_TRUE(log_->Append(Req("a", 0, {"x"})).status.IsConflict());
  AppendResult next = log_->Append(Req("a", 2, {"a3"}));
  ASSERT_TRUE(next.status.ok());
  EXPECT_EQ(next.stream_version, 3u);
  EXPECT_EQ(next.last_global_seq, 4u);

  // A different set of view families still opens (existing families are kept).
  options_.view_families = {"executions"};
  Reopen();
  EXPECT_EQ(Read("a").size(), 3u);
  EXPECT_EQ(log_->GetView("jobs", "a", &v).code(), Status::Code::invalid_argument);
  options_.view_families = {"jobs", "tasks"};
  Reopen();
  ASSERT_TRUE(log_->GetView("jobs", "a", &v).ok());
  EXPECT_EQ(Global().size(), 4u);
}

TEST_F(EventLogTest, ConcurrentDistinctStreams) {
  constexpr int kThreads = 64;
  constexpr int kPerThread = 20;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string stream = "stream-" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        AppendResult r = log_->Append(Req(stream, i, {stream + ":" + std::to_string(i + 1)}));
        if (!r.status.ok() || r.stream_version != static_cast<uint64_t>(i + 1)) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);

  const uint64_t total = kThreads * kPerThread;
  EXPECT_EQ(log_->LastGlobalSeq(), total);
  auto all = Global();
  ASSERT_EQ(all.size(), total);
  std::vector<uint64_t> last_version(kThreads, 0);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].global_seq, i + 1);  // unique, gap-free
    int t = std::stoi(all[i].stream.substr(7));
    EXPECT_EQ(all[i].version, last_version[t] + 1);  // each stream in order within the global order
    last_version[t] = all[i].version;
    EXPECT_EQ(all[i].payload, all[i].stream + ":" + std::to_string(all[i].version));
  }
  for (int t = 0; t < kThreads; ++t) {
    auto events = Read("stream-" + std::to_string(t));
    ASSERT_EQ(events.size(), static_cast<size_t>(kPerThread));
    for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].version, i + 1);
  }
}

TEST_F(EventLogTest, ConcurrentSameStreamOneWins) {
  constexpr int kThreads = 16;
  for (int round = 0; round < 5; ++round) {
    std::string stream = "contended-" + std::to_string(round);
    std::atomic<int> ready{0};
    std::atomic<int> wins{0};
    std::atomic<int> conflicts{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        ready++;
        while (ready.load() < kThreads) std::this_thread::yield();
        AppendResult r = log_->Append(Req(stream, 0, {"from-" + std::to_string(t)}));
        if (r.status.ok())
          wins++;
        else if (r.status.IsConflict())
          conflicts++;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(wins.load(), 1);
    EXPECT_EQ(conflicts.load(), kThreads - 1);
    EXPECT_EQ(Read(stream).size(), 1u);
  }
}

TEST_F(EventLogTest, CloseDrainsQueuedAppends) {
  std::promise<void> release = BlockWriter();
  constexpr int kQueued = 100;
  std::atomic<int> ok{0};
  std::atomic<int> called{0};
  for (int i = 0; i < kQueued; ++i) {
    log_->AppendAsync(Req("q", i, {"e" + std::to_string(i)}), [&](AppendResult r) {
      if (r.status.ok()) ok++;
      called++;
    });
  }
  std::thread closer([&] { log_->Close(); });
  // Wait until Close has stopped accepting: later appends answer Closed at once.
  for (;;) {
    auto p = std::make_shared<std::promise<AppendResult>>();
    auto f = p->get_future();
    log_->AppendAsync(Req("probe", 0, {}), [p](AppendResult r) { p->set_value(std::move(r)); });
    if (f.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready &&
        f.get().status.code() == Status::Code::closed)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  release.set_value();
  closer.join();
  EXPECT_EQ(called.load(), kQueued);
  EXPECT_EQ(ok.load(), kQueued);

  Reopen();
  EXPECT_EQ(log_->StreamVersion("q"), static_cast<uint64_t>(kQueued));
  EXPECT_EQ(Read("q").size(), static_cast<size_t>(kQueued));
}

TEST_F(EventLogTest, AppendAfterCloseReturnsClosed) {
  ASSERT_TRUE(log_->Append(Req("s", 0, {"e"})).status.ok());
  log_->Close();
  AppendResult r = log_->Append(Req("s", 1, {"f"}));
  EXPECT_EQ(r.status.code(), Status::Code::closed);
  std::vector<StoredEvent> out;
  EXPECT_EQ(log_->ReadStream("s", 1, &out).code(), Status::Code::closed);
  Reopen();
  EXPECT_EQ(log_->StreamVersion("s"), 1u);
}

TEST_F(EventLogTest, ReplaceViewReplaces) {
  AppendRequest r = Req("s", 0, {"e"});
  r.views.push_back({"jobs", "old-1", std::string("x")});
  r.views.push_back({"jobs", "old-2", std::string("y")});
  r.views.push_back({"tasks", "keep", std::string("z")});
  ASSERT_TRUE(log_->Append(r).status.ok());

  ASSERT_TRUE(log_->ReplaceView("jobs", {{"new-1", "a"}, {"old-2", "b"}}).ok());
  std::vector<std::pair<std::string, std::string>> rows;
  ASSERT_TRUE(log_->ScanView("jobs", "",
                             [&](const std::string& k, const std::string& v) {
                               rows.emplace_back(k, v);
                               return true;
                             })
                  .ok());
  EXPECT_EQ(rows, (std::vector<std::pair<std::string, std::string>>{{"new-1", "a"}, {"old-2", "b"}}));
  std::string v;
  EXPECT_TRUE(log_->GetView("tasks", "keep", &v).ok());  // other families untouched

  ASSERT_TRUE(log_->ReplaceView("jobs", {}).ok());
  int n = 0;
  ASSERT_TRUE(log_->ScanView("jobs", "",
                             [&](const std::string&, const std::string&) {
                               ++n;
                               return true;
                             })
                  .ok());
  EXPECT_EQ(n, 0);
}

TEST_F(EventLogTest, ScanViewPrefix) {
  ASSERT_TRUE(
      log_->ReplaceView(
              "tasks",
              {{"job-1/a", "1"}, {"job-1/b", "2"}, {"job-10/a", "3"}, {"job-2/a", "4"}, {"job-1", "5"}})
          .ok());
  std::vector<std::string> keys;
  ASSERT_TRUE(log_->ScanView("tasks", "job-1/",
                             [&](const std::string& k, const std::string&) {
                               keys.push_back(k);
                               return true;
                             })
                  .ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"job-1/a", "job-1/b"}));

  keys.clear();
  ASSERT_TRUE(log_->ScanView("tasks", "job-1",
                             [&](const std::string& k, const std::string&) {
                               keys.push_back(k);
                               return keys.size() < 3;  // stop early
                             })
                  .ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"job-1", "job-1/a", "job-1/b"}));

  keys.clear();
  ASSERT_TRUE(log_->ScanView("tasks", "zzz",
                             [&](const std::string& k, const std::string&) {
                               keys.push_back(k);
                               return true;
                             })
                  .ok());
  EXPECT_TRUE(keys.empty());
}

TEST_F(EventLogTest, FailedWriteFailsWholeGroupAndRollsBack) {
  ASSERT_TRUE(log_->Append(Req("s", 0, {"1"})).status.ok());
  log_->TestOnlyFailNextWrites(1);
  AppendRequest r = Req("s", 1, {"2", "3"});
  r.idempotency_key = "k";
  r.views.push_back({"jobs", "s", std::string("v")});
  AppendResult failed = log_->Append(r);
  EXPECT_EQ(failed.status.code(), Status::Code::io_error);
  EXPECT_EQ(log_->StreamVersion("s"), 1u);
  EXPECT_EQ(log_->LastGlobalSeq(), 1u);
  std::string v;
  EXPECT_TRUE(log_->LookupIdempotency("k", &v).IsNotFound());
  EXPECT_TRUE(log_->GetView("jobs", "s", &v).IsNotFound());

  // The cache was rolled back: the same request now succeeds with the same numbers.
  AppendResult ok = log_->Append(r);
  ASSERT_TRUE(ok.status.ok()) << ok.status.ToString();
  EXPECT_FALSE(ok.duplicate);
  EXPECT_EQ(ok.stream_version, 3u);
  EXPECT_EQ(ok.last_global_seq, 3u);
  auto all = Global();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].global_seq, 3u);
}

TEST_F(EventLogTest, RejectsBadRequests) {
  std::string nul("a\0b", 3);
  EXPECT_EQ(log_->Append(Req(nul, 0, {"e"})).status.code(), Status::Code::invalid_argument);
  EXPECT_EQ(log_->Append(Req("", 0, {"e"})).status.code(), Status::Code::invalid_argument);
  EXPECT_EQ(log_->LastGlobalSeq(), 0u);

  std::unique_ptr<EventLog> other;
  Options bad;
  bad.view_families = {"events"};
  EXPECT_EQ(EventLog::Open(dir_ + "-other", bad, &other).code(), Status::Code::invalid_argument);
}

TEST(StatusTest, ToString) {
  EXPECT_EQ(Status::OK().ToString(), "OK");
  EXPECT_EQ(Status::Conflict("stream s is at version 1, expected 0").ToString(),
            "Conflict: stream s is at version 1, expected 0");
  EXPECT_EQ(Status::NotFound("").ToString(), "NotFound");
  EXPECT_EQ(Status::IOError("disk").ToString(), "IOError: disk");
  EXPECT_EQ(Status::Corruption("x").ToString(), "Corruption: x");
  EXPECT_EQ(Status::InvalidArgument("x").ToString(), "InvalidArgument: x");
  EXPECT_EQ(Status::Closed("x").ToString(), "Closed: x");
}

}  // namespace
}  // namespace flowstone::store
