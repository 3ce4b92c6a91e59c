// The Open Flow API as one table: every route declared once, with its method, its path under /v2/, the
// fields the HTTP edge checks (where FATE-Flow validates them), and the handler that answers it. A command
// handler runs on the registry (it talks to job actors, the catalog and other parties); a read handler runs
// on the query actor (detached: it reads the views and stored files). The edge sends each request straight
// to its handler's actor, so no actor looks a route up by name.
//
// Thread rules: the table is immutable; bind_api_routes' answers run on HTTP I/O threads and only send.
#pragma once
#include <atomic>
#include <memory>
#include <vector>

#include "actors/access/authenticator.hpp"
#include "actors/feed/event_feed.hpp"
#include "actors/messages.hpp"
#include "actors/queries.hpp"
#include "actors/registry/registry.hpp"
#include "net/api.hpp"
#include "net/rate_limiter.hpp"

namespace flowstone::actors {

using RegistryHandler = void (*)(registry_parts::Self, ApiCallMsg&);

// Who answers a route: exactly one is set.
struct RouteAnswer {
  RegistryHandler command = nullptr;
  ReadHandler read = nullptr;
  bool feed = false;  // the event feed (server-sent events), answered from RouteTargets::feed
};

struct ApiRoute {
  const char* method;
  const char* path;  // under /v2/
  std::vector<net::Field> fields;
  RouteAnswer answer;
};

const std::vector<ApiRoute>& api_routes();

// Where the edge sends requests. Until `ready`, requests are answered "starting" (HTTP 503), so a party
// calling while this server starts retries instead of taking it as an answer.
struct RouteTargets {
  std::atomic<bool> ready{false};
  registry_actor registry;
  query_actor queries;
  std::shared_ptr<Authenticator> auth;  // null when client and site authentication are off
  net::Networks worker_networks;        // besides loopback, where worker routes may be called from
  // flowstone.tls: partner and scheduler routes only over TLS (with a verified client certificate when
  // `client_certificates`); client routes over plain HTTP only from this machine.
  bool tls = false, client_certificates = false;
  // Per client and per partner site (null: no limit), with the clock they count on.
  std::unique_ptr<net::RateLimiter> client_rate, site_rate;
  std::shared_ptr<const Clock> clock;
  std::shared_ptr<EventFeed> feed;  // the dashboard's live events
};

// The table as the HTTP edge takes it: each route's answer sends the request to its handler's actor.
std::vector<net::Route> bind_api_routes(std::shared_ptr<RouteTargets> targets);

}  // namespace flowstone::actors
