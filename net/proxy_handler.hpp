// The request handler of an nginx-style party proxy (what FATE sites run between parties): every request
// is forwarded to the server routed for its dest-party-id header, with its method, target, headers and
// body, and answered with the upstream's status, headers and body. The proxy's own errors are JSON
// envelopes with code 104 (FATE-Flow's FEDERATED_ERROR): 400 without a dest-party-id header, 404 for a
// party without a route, 502 when the upstream cannot be reached (so that a PartyClient retries).
//
// Faults (a test and chaos tool, off by default): a seeded share of the forwarded calls is dropped before it
// reaches the upstream (the caller gets 502), has its answer dropped after the upstream handled it (502 too:
// the caller cannot tell, and retries), is delivered twice (the second copy after the first is answered; the
// caller gets the first answer), or is held up to `max_delay` first (which also reorders calls, as several
// threads forward). A party can be cut off for a while: every call to it gets 502 until then. Two control
// routes, answered by the proxy itself: POST /_proxy/cut?party=ID&ms=N, and GET /_proxy/stats (what was
// injected so far, as JSON).
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

struct ProxyFaults {
  double drop_request = 0;  // shares of forwarded calls, each in [0, 1], drawn independently
  double drop_answer = 0;
  double duplicate = 0;
  double delay = 0;
  std::chrono::milliseconds max_delay{200};
  uint64_t seed = 1;
  bool any() const { return drop_request > 0 || drop_answer > 0 || duplicate > 0 || delay > 0; }
};

struct ProxyHandlerOptions {
  int threads = 4;
  std::chrono::milliseconds upstream_timeout{60000};  // connect, send and read one request upstream
  ProxyFaults faults;
};

Handler make_proxy_handler(std::map<std::string, PartyAddress> routes, ProxyHandlerOptions options = {});

}  // namespace flowstone::net
