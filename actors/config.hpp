// ServerConfig: one party server's settings, read from a FATE-Flow style service_conf.yaml.
// FATE-Flow's keys are used where they exist (party_id, fateflow.host/http_port,
// computing.standalone.cores, job defaults); Flowstone's own settings live under `flowstone:`.
// Unknown keys produce warnings, never a failure. Immutable after loading; safe to share.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events/job/job.hpp"
#include "net/archive.hpp"
#include "net/file_roots.hpp"
#include "net/networks.hpp"
#include "net/party_client.hpp"
#include "net/tls.hpp"

namespace flowstone::actors {

// How this party reaches the others (spec 1.5) and how it supervises their runs (spec 4.5).
struct FederationConfig {
  std::map<std::string, net::PartyAddress> routes;  // flowstone.route_table: party_id -> "host:port"
  std::optional<net::PartyAddress> proxy;           // federation.nginx when fateflow.proxy_name is nginx
  int threads = 4;                                  // concurrent partner calls
  int64_t create_timeout_ms = 60000;                // how long a party may stay unreachable at job creation
  int64_t call_timeout_ms = 600000;                 // how long any other partner call is retried
  int64_t poll_interval_ms = 1000;                  // poll mode: how often unfinished runs are collected
  int64_t reconcile_after_ms = 10000;               // callback mode: collect a run not heard of for this long
};

// FATE's `authentication` switches (spec 1.4); all off by default. `signature_method` is what this site signs
// its own calls with: "md5" (FATE's) or "hmac-sha256" (Flowstone peers only).
struct AuthConfig {
  bool client = false;
  bool site = false;
  bool permission = false;
  std::string signature_method = "md5";
  bool any() const { return client || site; }
};

// flowstone.tls: HTTPS on the API port (plain HTTP stays for loopback clients and workers), and for calls
// to partners whose route is "https://host:port".
struct TlsConfig {
  net::TlsFiles files;          // cert + key: this site's identity, served and shown to partners; ca: theirs
  bool verify_clients = false;  // partner and scheduler routes need a client certificate signed by ca
  bool enabled() const { return !files.cert.empty(); }
};

struct ServerConfig {
  std::string party_id = "9999";
  std::string host = "127.0.0.1";
  uint16_t http_port = 9380;
  uint16_t grpc_port = 0;  // fateflow.grpc_port: only reported (flow server info); Flowstone serves HTTP
  std::string data_dir = "flowstone-data";  // holds db/ and jobs/
  std::string log_dir;                      // default: <data_dir>/logs
  std::string bin_dir;                      // launcher and component executables; default: beside flowstone
  std::string web_dir;                      // the dashboard's built files; default: <bin_dir>/web
  size_t body_limit = 64u << 20;
  int64_t header_timeout_s = 20;  // flowstone.header_timeout_s: a request's header (and idle keep-alive)
  int64_t read_timeout_s = 60;    // flowstone.read_timeout_s: a request's body, a response's write
  // flowstone.rate_limit: requests a second per client (appId, else address) and per partner site (party
  // id) on average, with bursts up to `burst` times that; 0: no limit.
  double client_rate_per_s = 0, site_rate_per_s = 0, rate_burst = 2;
  // flowstone.max_waiting_jobs: submissions are refused while this many jobs wait at this site; 0: no cap.
  int64_t max_waiting_jobs = 0;
  TlsConfig tls;
  int http_threads = 1;
  int computing_cores = 32;             // computing.standalone.cores: the party's total
  int64_t queue_starvation_ms = 60000;  // a waiting job ranked ahead gets cores kept for it after this
  // flowstone.job_actor_idle_ms: a job's actor at rest (ended everywhere here, its end delivered, nothing
  // in flight) this long is stopped; the next command for the job replays its stream into a new one.
  int64_t job_actor_idle_ms = 60000;
  domain::JobDefaults defaults;
  FederationConfig federation;
  AuthConfig auth;
  // Where server-side paths named in requests may lie, besides the data dir and <data_dir>/upload
  // (flowstone.file_roots), and where a local provider's package or entrypoint may lie
  // (flowstone.provider_roots; none by default, so a local provider needs the operator's say-so).
  std::vector<std::string> extra_file_roots;
  std::vector<std::string> provider_roots;
  net::ArchiveLimits archive_limits;  // flowstone.archive_max_mb, flowstone.archive_max_entries
  // Where worker routes may be called from besides loopback (flowstone.worker_networks, CIDR blocks): the
  // site's compute network when workers run on other machines.
  net::Networks worker_networks;

  std::string db_dir() const { return data_dir + "/db"; }
  std::string job_dir() const { return data_dir + "/jobs"; }
  std::string upload_dir() const { return data_dir + "/upload"; }
  net::FileRoots file_roots() const;        // data_dir, upload_dir and extra_file_roots, resolved
  net::FileRoots provider_folders() const;  // provider_roots, resolved
};

// Loads the file; relative paths are taken from the file's folder. Returns an error message (empty on
// success); `warnings` gets one line per ignored or unknown key.
std::string load_config(const std::string& path, ServerConfig* config, std::vector<std::string>* warnings);

}  // namespace flowstone::actors
