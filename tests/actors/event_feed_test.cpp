// The event feed (actors/feed/event_feed.hpp) over a real event log: a subscriber gets every job event after
// its resume point, in global order, each once, with the timeline's fields; a new one first gets `hello`
// with the current sequence and then what is committed later; one job's feed skips the others; a sink that
// refuses is dropped.
#include "actors/feed/event_feed.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "events/common/json.hpp"
#include "store/codec/job_codec.hpp"
#include "store/event_log.hpp"
#include "store/projections.hpp"

namespace flowstone::actors {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Collects what the feed writes, parsed into (id, event type, data).
class Collector : public net::StreamSink {
 public:
  struct Received {
    std::string id, type;
    Json data;
  };
  bool write(std::string chunk) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (refuse_) return false;
    Received r;
    size_t at = 0;
    while (at < chunk.size()) {
      size_t end = chunk.find('\n', at);
      std::string line = chunk.substr(at, end - at);
      at = end + 1;
      if (line.rfind("id: ", 0) == 0) r.id = line.substr(4);
      if (line.rfind("event: ", 0) == 0) r.type = line.substr(7);
      if (line.rfind("data: ", 0) == 0) r.data = Json::parse(line.substr(6));
    }
    if (!r.type.empty()) received_.push_back(r);
    changed_.notify_all();
    return true;
  }
  std::vector<Received> WaitFor(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, 5s, [&] { return received_.size() >= count; });
    return received_;
  }
  size_t backlog() const override { return 0; }
  void Refuse() {
    std::lock_guard<std::mutex> lock(mu_);
    refuse_ = true;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Received> received_;
  bool refuse_ = false;
};

class EventFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("flowstone-feed-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    store::Options options;
    options.view_families = store::job_view_families();
    options.on_commit = [this](const store::CommitStats&) { feed_.Notify(); };
    ASSERT_TRUE(store::EventLog::Open(dir_.string(), options, &log_).ok());
    feed_.Start(log_.get());
  }
  void TearDown() override {
    feed_.Stop();
    log_->Close();
    fs::remove_all(dir_);
  }
  // Appends one status event to a job's stream.
  void Append(const std::string& job_id, domain::Status status, const std::string& reason) {
    store::AppendRequest request;
    request.stream = "job:" + job_id;
    request.expected_version = log_->StreamVersion(request.stream);
    domain::JobEvent event;
    event.at_ms = 1000 + static_cast<int64_t>(log_->LastGlobalSeq());
    event.body = domain::ScheduleStatusChanged{status, reason};
    request.events.push_back(store::encode_job_event(event));
    ASSERT_TRUE(log_->Append(std::move(request)).status.ok());
  }

  fs::path dir_;
  std::unique_ptr<store::EventLog> log_;
  EventFeed feed_{200ms};
};

TEST_F(EventFeedTest, ResumesAfterASequenceWithEveryEventOnceInOrder) {
  Append("A", domain::Status::waiting, "created");
  Append("B", domain::Status::waiting, "created");
  Append("A", domain::Status::running, "admitted");
  auto all = std::make_shared<Collector>();
  feed_.Subscribe(all, 0, "");
  auto got = all->WaitFor(3);
  ASSERT_EQ(got.size(), 3u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].type, "job");
    EXPECT_EQ(got[i].id, std::to_string(i + 1));
    EXPECT_EQ(got[i].data["seq"], i + 1);
  }
  EXPECT_EQ(got[2].data["job_id"], "A");
  EXPECT_EQ(got[2].data["version"], 2);
  EXPECT_EQ(got[2].data["kind"], "ScheduleStatusChanged");
  EXPECT_EQ(got[2].data["status"], "running");
  EXPECT_EQ(got[2].data["reason"], "admitted");

  // A reconnect after sequence 2 gets 3 and what follows, nothing before.
  auto resumed = std::make_shared<Collector>();
  feed_.Subscribe(resumed, 2, "");
  Append("B", domain::Status::success, "tasks success");
  got = resumed->WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].data["seq"], 3);
  EXPECT_EQ(got[1].data["seq"], 4);
  EXPECT_EQ(all->WaitFor(4).size(), 4u);  // the first subscriber got the live one too, once
}

TEST_F(EventFeedTest, ANewSubscriberGetsHelloThenOnlyWhatIsCommittedLater) {
  Append("A", domain::Status::waiting, "created");
  auto live = std::make_shared<Collector>();
  feed_.Subscribe(live, std::nullopt, "");
  auto got = live->WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, "hello");
  EXPECT_EQ(got[0].data["seq"], 1);
  Append("A", domain::Status::running, "admitted");
  got = live->WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].data["seq"], 2);
}

TEST_F(EventFeedTest, AResumePointPastTheEndOfTheLogStartsOverWithHello) {
  Append("A", domain::Status::waiting, "created");
  auto stranger = std::make_shared<Collector>();
  feed_.Subscribe(stranger, 500, "");  // a Last-Event-ID from another data dir
  auto got = stranger->WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, "hello");
  EXPECT_EQ(got[0].data["seq"], 1);
  Append("A", domain::Status::running, "admitted");
  got = stranger->WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].data["seq"], 2);
}

TEST_F(EventFeedTest, OneJobsFeedSkipsOtherJobs) {
  auto only_b = std::make_shared<Collector>();
  feed_.Subscribe(only_b, 0, "B");
  Append("A", domain::Status::waiting, "created");
  Append("B", domain::Status::waiting, "created");
  Append("A", domain::Status::running, "admitted");
  Append("B", domain::Status::running, "admitted");
  Append("B", domain::Status::success, "tasks success");
  // Had an A event slipped through, B's third event would not be the third received.
  auto got = only_b->WaitFor(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].data["seq"], 2);
  EXPECT_EQ(got[1].data["seq"], 4);
  EXPECT_EQ(got[2].data["seq"], 5);
}

TEST_F(EventFeedTest, ASinkThatRefusesIsDropped) {
  auto gone = std::make_shared<Collector>();
  feed_.Subscribe(gone, std::nullopt, "");
  gone->WaitFor(1);
  EXPECT_EQ(feed_.subscribers(), 1u);
  gone->Refuse();
  Append("A", domain::Status::waiting, "created");
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (feed_.subscribers() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(feed_.subscribers(), 0u);
}

}  // namespace
}  // namespace flowstone::actors
