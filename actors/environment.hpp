// What every actor of one party server shares: its configuration, the event log, the clock and the
// long-lived actors. Built once by the server before any actor starts; read-only afterwards.
#pragma once
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "actors/config.hpp"
#include "actors/messages.hpp"
#include "net/party_client.hpp"
#include "store/event_log.hpp"

namespace flowstone::actors {

struct Environment {
  ServerConfig config;
  uint16_t http_port = 0;  // the bound port (config may ask for 0)
  int64_t started_ms = 0;  // when this server started (its flow instance's timestamp)
  store::EventLog* log = nullptr;
  launcher_actor launcher;
  query_actor queries;
  resource_actor resources;
  catalog_actor catalog;
  std::shared_ptr<spdlog::logger> server_log;
  std::shared_ptr<net::PartyClient> parties;  // calls to other parties' servers

  // Wall-clock milliseconds: the only place time enters; commands carry it into events.
  static int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  std::string job_stream(const std::string& job_id) const { return "job:" + job_id; }
};

}  // namespace flowstone::actors
