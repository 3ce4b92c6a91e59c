// What every actor of one party server shares: its configuration, the event log, the clock and timers, and
// the long-lived actors. Built once by the server before any actor starts; read-only afterwards, except the
// damaged streams, which have a lock of their own.
#pragma once
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "actors/access/access_board.hpp"
#include "actors/clock.hpp"
#include "actors/config.hpp"
#include "actors/job/job_board.hpp"
#include "actors/messages.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/party/party_directory.hpp"
#include "actors/persistence/schedule_log.hpp"
#include "actors/persistence/store_reader.hpp"
#include "store/event_log.hpp"

namespace flowstone::actors {

// Streams that cannot be replayed (an event that does not decode), with why: their owners stopped, and the
// queries report them.
class DamagedStreams {
 public:
  void Mark(const std::string& stream, const std::string& why) {
    std::lock_guard<std::mutex> lock(mu_);
    damaged_[stream] = why;
  }
  std::string Why(const std::string& stream) const {  // "" when the stream is sound
    std::lock_guard<std::mutex> lock(mu_);
    auto it = damaged_.find(stream);
    return it == damaged_.end() ? "" : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> damaged_;
};

// What the resource manager last persisted, for gauges read on other threads.
struct LedgerFigures {
  std::atomic<int> cores_in_use{0};
  std::atomic<int> waiting{0};  // reservations queued at this party (of jobs scheduled here or elsewhere)
};

struct Environment {
  ServerConfig config;
  uint16_t http_port = 0;  // the bound port (config may ask for 0)
  int64_t started_ms = 0;  // when this server started (its flow instance's timestamp)
  store::EventLog* log = nullptr;
  std::shared_ptr<const Clock> clock = system_clock();  // the only place time enters; commands carry it
  std::shared_ptr<Timers> timers;
  std::shared_ptr<DamagedStreams> damaged = std::make_shared<DamagedStreams>();
  launcher_actor launcher;
  query_actor queries;
  resource_actor resources;
  catalog_actor catalog;
  access_actor access;
  std::shared_ptr<AccessBoard> access_board = std::make_shared<AccessBoard>();
  std::shared_ptr<JobBoard> job_board = std::make_shared<JobBoard>();
  std::shared_ptr<Metrics> metrics = std::make_shared<Metrics>();
  std::shared_ptr<LedgerFigures> ledger_figures = std::make_shared<LedgerFigures>();
  reader_actor reader;
  schedule_log_actor schedule_logs;
  std::shared_ptr<spdlog::logger> server_log;
  std::shared_ptr<PartyDirectory> parties;  // calls to other parties' servers, through their Party actors

  int64_t now_ms() const { return clock->now_ms(); }
  std::string job_stream(const std::string& job_id) const { return "job:" + job_id; }
};

}  // namespace flowstone::actors
