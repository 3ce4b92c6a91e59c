// The request handler of an nginx-style party proxy (what FATE sites run between parties): every request
// is forwarded to the server routed for its dest-party-id header, with its method, target, headers and
// body, and answered with the upstream's status, headers and body. The proxy's own errors are JSON
// envelopes with code 104 (FATE-Flow's FEDERATED_ERROR): 400 without a dest-party-id header, 404 for a
// party without a route, 502 when the upstream cannot be reached (so that a PartyClient retries).
//
// Thread rules: the handler runs on the HttpServer's I/O threads and never blocks them: forwarding is
// done by `threads` threads of its own, each keeping keep-alive connections to the upstreams. Those
// threads stop when the last copy of the handler is destroyed; requests still queued then are dropped
// (their responders answer 500 if the server is still up).
#pragma once
#include <chrono>
#include <map>
#include <string>

#include "net/http_server.hpp"
#include "net/party_client.hpp"

namespace flowstone::net {

struct ProxyHandlerOptions {
  int threads = 4;
  std::chrono::milliseconds upstream_timeout{60000};  // connect, send and read one request upstream
};

Handler make_proxy_handler(std::map<std::string, PartyAddress> routes, ProxyHandlerOptions options = {});

}  // namespace flowstone::net
