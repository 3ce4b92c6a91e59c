// EventFeed: the event log's global order as server-sent events, for the dashboard's live pages.
//
// Each subscriber has a cursor (the last global sequence it was sent). The feed's own thread wakes on
// every group commit (Notify, from the log's on_commit) and on every new subscriber, reads each cursor's
// tail from the log in order and writes it to the subscriber's sink, so a subscriber that reconnects with
// the last sequence it saw (SSE's Last-Event-ID) misses nothing and gets nothing twice. A job's events
// are sent as `event: job` with the timeline entry of /v2/job/history/query plus `seq` and `job_id`;
// other streams advance the cursor silently. A comment line every `heartbeat` finds dead connections. A
// resume point past the log's end (another data dir's Last-Event-ID) starts over with `hello`. A reader whose
// connection has a backlog is sent nothing more until it drains; a subscriber whose log read fails is dropped
// (with the error logged), so a damaged log never makes the thread spin.
//
// Thread rules: every method is thread-safe; reads of the log and sink writes happen on the feed's
// thread, never on an I/O or actor thread.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/http_server.hpp"

namespace flowstone::store {
class EventLog;
}

namespace flowstone::actors {

class EventFeed {
 public:
  explicit EventFeed(std::chrono::milliseconds heartbeat = std::chrono::seconds(15));
  ~EventFeed();
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  // Starts the feed's thread over an open log. Before this, subscribers wait.
  void Start(store::EventLog* log);
  // Stops the thread and drops every subscriber (their connections are the HTTP server's to close).
  void Stop();

  // Events were committed (any thread; cheap).
  void Notify();

  // A new subscriber: sent every event after `after_seq`, or, without it, a `hello` event with the current
  // last sequence and then every event after it. `job_id` non-empty: only that job's events.
  void Subscribe(std::shared_ptr<net::StreamSink> sink, std::optional<uint64_t> after_seq,
                 std::string job_id);

  size_t subscribers() const;

 private:
  struct Subscriber {
    std::shared_ptr<net::StreamSink> sink;
    std::optional<uint64_t> cursor;  // unset until the hello is sent
    std::string job_id;
  };
  // After a round of one subscriber: gone (drop it), caught up, more to send at once, or its reader is slow
  // (its connection has a backlog: wait a little rather than overrun it).
  enum class Round { gone, caught_up, more, reader_busy };
  void Run();
  Round CatchUp(Subscriber& subscriber, uint64_t last_seq);

  const std::chrono::milliseconds heartbeat_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t notifications_ = 0;
  store::EventLog* log_ = nullptr;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
  std::thread thread_;
};

}  // namespace flowstone::actors
