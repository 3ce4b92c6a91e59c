// PartyProcess: a `flowstone serve` child process in a folder of its own, for the demo, benchmarks and
// tests. Writes service_conf.yaml (plus any extra YAML given), starts the server with its stderr in
// server.out (`extra_yaml`: more top-level lines; `flowstone_yaml`: more entries of the flowstone: mapping),
// waits until /v2/site/info/query answers, and stops it with SIGTERM (or kill -9). Not thread-safe; one
// owner.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/common/json.hpp"

namespace flowstone::cli {

class PartyProcess {
 public:
  // `port` 0 picks a free loopback port.
  PartyProcess(std::string flowstone_binary, std::string dir, std::string party_id = "9999",
               uint16_t port = 0, std::string extra_yaml = "", std::string flowstone_yaml = "");
  ~PartyProcess();

  std::string Start();  // error message, empty once the server answers
  int Stop();           // SIGTERM and wait; returns the exit status
  void Kill();          // SIGKILL and wait
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  uint16_t port() const { return port_; }
  const std::string& party_id() const { return party_id_; }
  const std::string& dir() const { return dir_; }
  std::string config_path() const { return dir_ + "/service_conf.yaml"; }
  std::string data_dir() const { return dir_ + "/data"; }

  // The server's JSON answer (nullopt if it could not be reached).
  std::optional<Json> Get(const std::string& route,
                          const std::vector<std::pair<std::string, std::string>>& query = {});
  std::optional<Json> Post(const std::string& route, const Json& body);

 private:
  std::string binary_, dir_, party_id_, extra_yaml_, flowstone_yaml_;
  uint16_t port_;
  pid_t pid_ = -1;
};

// A free TCP port on 127.0.0.1 (bound and released).
uint16_t free_port();

}  // namespace flowstone::cli
