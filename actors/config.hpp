// ServerConfig: one party server's settings, read from a FATE-Flow style service_conf.yaml.
// FATE-Flow's keys are used where they exist (party_id, fateflow.host/http_port,
// computing.standalone.cores, job defaults); Flowstone's own settings live under `flowstone:`.
// Unknown keys produce warnings, never a failure. Immutable after loading; safe to share.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "events/job.hpp"

namespace flowstone::actors {

struct ServerConfig {
  std::string party_id = "9999";
  std::string host = "127.0.0.1";
  uint16_t http_port = 9380;
  std::string data_dir = "flowstone-data";  // holds db/ and jobs/
  std::string log_dir;                      // default: <data_dir>/logs
  std::string bin_dir;                      // launcher and component executables; default: beside flowstone
  size_t body_limit = 64u << 20;
  int http_threads = 1;
  int computing_cores = 32;  // computing.standalone.cores: the party's total
  domain::JobDefaults defaults;

  std::string db_dir() const { return data_dir + "/db"; }
  std::string job_dir() const { return data_dir + "/jobs"; }
};

// Loads the file; relative paths are taken from the file's folder. Returns an error message (empty on
// success); `warnings` gets one line per ignored or unknown key.
std::string load_config(const std::string& path, ServerConfig* config, std::vector<std::string>* warnings);

}  // namespace flowstone::actors
