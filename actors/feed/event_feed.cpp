// The event feed's thread: see event_feed.hpp.
#include "actors/feed/event_feed.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "events/common/json.hpp"
#include "events/job/views.hpp"
#include "store/codec/job_codec.hpp"
#include "store/event_log.hpp"

namespace flowstone::actors {
namespace {

constexpr size_t kEventsPerRound = 2000;  // per subscriber and wake-up, so one far-behind reader cannot
                                          // hold up the others
constexpr const char* kJobStreamPrefix = "job:";
constexpr size_t kReaderBacklogLimit = size_t{1} << 20;  // unsent bytes: past them, wait for the reader
constexpr std::chrono::milliseconds kBusyReaderPause{50};

std::string server_sent_event(const char* type, const std::optional<uint64_t>& id, const Json& data) {
  std::string out;
  if (id) out += "id: " + std::to_string(*id) + "\n";
  out += std::string("event: ") + type +
         "\ndata: " + data.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
  return out;
}

}  // namespace

EventFeed::EventFeed(std::chrono::milliseconds heartbeat) : heartbeat_(heartbeat) {}

EventFeed::~EventFeed() {
  Stop();
}

void EventFeed::Start(store::EventLog* log) {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  log_ = log;
  thread_ = std::thread([this] { Run(); });
}

void EventFeed::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.clear();
}

void EventFeed::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++notifications_;
  }
  wake_.notify_all();
}

void EventFeed::Subscribe(std::shared_ptr<net::StreamSink> sink, std::optional<uint64_t> after_seq,
                          std::string job_id) {
  auto subscriber = std::make_shared<Subscriber>(Subscriber{std::move(sink), after_seq, std::move(job_id)});
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    subscribers_.push_back(std::move(subscriber));
    ++notifications_;
  }
  wake_.notify_all();
}

size_t EventFeed::subscribers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return subscribers_.size();
}

void EventFeed::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t handled = 0;
  auto next_beat = std::chrono::steady_clock::now() + heartbeat_;
  while (!stopping_) {
    handled = notifications_;
    auto round = subscribers_;
    lock.unlock();

    const uint64_t last_seq = log_->LastGlobalSeq();
    const bool beat = std::chrono::steady_clock::now() >= next_beat;
    std::vector<std::shared_ptr<Subscriber>> gone;
    bool more = false, busy = false;
    for (auto& subscriber : round) {
      Round result = Round::gone;
      try {
        result = CatchUp(*subscriber, last_seq);
        if (result != Round::gone && beat && !subscriber->sink->write(": keep-alive\n\n"))
          result = Round::gone;
      } catch (const std::exception& e) {
        spdlog::error("event feed: a subscriber is dropped: {}", e.what());
      }
      if (result == Round::gone) gone.push_back(subscriber);
      more = more || result == Round::more;
      busy = busy || result == Round::reader_busy;
    }

    lock.lock();
    subscribers_.erase(
        std::remove_if(subscribers_.begin(), subscribers_.end(),
                       [&](const auto& s) { return std::find(gone.begin(), gone.end(), s) != gone.end(); }),
        subscribers_.end());
    if (beat) next_beat = std::chrono::steady_clock::now() + heartbeat_;
    if (more) continue;  // another round at once for readers still catching up
    const auto until =
        busy ? std::min(next_beat, std::chrono::steady_clock::now() + kBusyReaderPause) : next_beat;
    wake_.wait_until(lock, until, [&] { return stopping_ || notifications_ != handled; });
  }
}

EventFeed::Round EventFeed::CatchUp(Subscriber& subscriber, uint64_t last_seq) {
  if (!subscriber.cursor || *subscriber.cursor > last_seq) {
    // New, or resuming past the end of this log: start from now, and say so.
    subscriber.cursor = last_seq;
    return subscriber.sink->write(server_sent_event("hello", last_seq, Json{{"seq", last_seq}}))
               ? Round::caught_up
               : Round::gone;
  }
  if (*subscriber.cursor == last_seq) return Round::caught_up;
  if (subscriber.sink->backlog() > kReaderBacklogLimit) return Round::reader_busy;
  bool alive = true, busy = false;
  size_t sent = 0;
  store::Status status = log_->ReadGlobal(*subscriber.cursor + 1, [&](const store::StoredEvent& stored) {
    if (stored.global_seq > last_seq || sent >= kEventsPerRound) return false;
    if (subscriber.sink->backlog() > kReaderBacklogLimit) {
      busy = true;
      return false;
    }
    subscriber.cursor = stored.global_seq;
    ++sent;
    if (stored.stream.rfind(kJobStreamPrefix, 0) != 0) return true;
    std::string job_id = stored.stream.substr(std::char_traits<char>::length(kJobStreamPrefix));
    if (!subscriber.job_id.empty() && job_id != subscriber.job_id) return true;
    std::string error;
    auto event = store::decode_job_event(stored.payload, &error);
    Json entry = event ? domain::history_entry(stored.version, *event)
                       : Json{{"version", stored.version}, {"kind", "Undecodable"}, {"what", error}};
    entry["seq"] = stored.global_seq;
    entry["job_id"] = job_id;
    alive = subscriber.sink->write(server_sent_event("job", stored.global_seq, entry));
    return alive;
  });
  if (!status.ok()) {
    spdlog::error("event feed: cannot read the log after sequence {}: {}; the subscriber is dropped",
                  *subscriber.cursor, status.ToString());
    return Round::gone;
  }
  if (!alive) return Round::gone;
  if (busy) return Round::reader_busy;
  if (sent == 0) {
    // Nothing readable up to last_seq (a gap): never spin on it.
    subscriber.cursor = last_seq;
    return Round::caught_up;
  }
  return *subscriber.cursor < last_seq ? Round::more : Round::caught_up;
}

}  // namespace flowstone::actors
