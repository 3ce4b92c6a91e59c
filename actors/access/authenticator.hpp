// Authenticator: FATE-Flow's request authentication at the HTTP edge (spec 1.4), before a request reaches
// any actor. With `authentication.client` on, every client route needs the headers appId, userName,
// Timestamp, Nonce (4 characters) and Signature; with `authentication.site` on, every partner and scheduler
// route needs appId, Timestamp, Nonce, Signature and initiatorPartyId, signed with this site's own app.
// Then the app's roles must allow the route (FATE's casbin policy: client routes for client and
// super_client, app and permission routes for super_client, partner and scheduler routes for site; admin
// may call everything; beyond FATE, provider/register for super_client only). Worker routes are never signed, as in FATE.
//
// Beyond FATE: a nonce seen within the expiry window is refused (FATE accepts the replay), a timestamp more
// than the window ahead is refused, and a `Signature-Method: hmac-sha256` header selects HMAC-SHA256.
//
// Thread rules: Check() runs on HTTP I/O threads: no blocking beyond a short lock on the nonce window.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "actors/access/access_board.hpp"
#include "actors/clock.hpp"
#include "actors/config.hpp"
#include "net/api.hpp"

namespace flowstone::actors {

enum class RouteGroup { client, site, worker };
RouteGroup route_group(const std::string& path);  // path under /v2/
// The roles FATE's casbin policy lets call a route.
std::vector<std::string> roles_for(const std::string& path);

class Authenticator {
 public:
  Authenticator(AuthConfig config, std::shared_ptr<AccessBoard> board, std::shared_ptr<const Clock> clock);

  // nullopt: the request may go on. Otherwise the refusal, with FATE's code.
  std::optional<net::ApiReply> Check(const net::ApiRequest& request, const std::string& path);

  static constexpr int64_t kWindowMs = 60000;  // FATE's expiry

 private:
  bool FirstUse(const std::string& app_id, const std::string& nonce, const std::string& timestamp,
                int64_t now_ms);

  AuthConfig config_;
  std::shared_ptr<AccessBoard> board_;
  std::shared_ptr<const Clock> clock_;
  std::mutex mu_;
  std::set<std::string> seen_;                    // app \0 nonce \0 timestamp, within the window
  std::multimap<int64_t, std::string> expiries_;  // when each of them leaves the window
};

}  // namespace flowstone::actors
