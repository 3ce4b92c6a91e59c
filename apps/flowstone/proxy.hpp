// `flowstone proxy`: an nginx-style router between party servers, as FATE sites run one. It forwards each
// request to the server routed for its dest-party-id header (see net/proxy_handler.hpp).
//
//   flowstone proxy --port 9370 --route 9999=127.0.0.1:9381 --route 10000=127.0.0.1:9382 [--host H]
//                   [--threads N] [--drop-requests P] [--drop-answers P] [--duplicates P] [--delays P]
//                   [--max-delay-ms N] [--seed N]     (faults: shares P in [0, 1] of forwarded calls)
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "net/party_client.hpp"
#include "net/proxy_handler.hpp"

namespace flowstone::cli {

struct ProxyOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // required on the command line; 0 picks a free port
  std::map<std::string, net::PartyAddress> routes;
  int threads = 4;  // forwarding threads
  net::ProxyFaults faults;
};

// Reads `flowstone proxy` options from argv[first...]. On a bad or missing option, says why on stderr
// and returns false.
bool parse_proxy_args(int argc, char** argv, int first, ProxyOptions* options);

// Serves until SIGTERM or SIGINT. Returns the exit code.
int run_proxy(const ProxyOptions& options);

}  // namespace flowstone::cli
