#include "actors/access/authenticator.hpp"

#include <cstdlib>

#include "net/signature.hpp"

namespace flowstone::actors {
namespace {

std::string header(const net::ApiRequest& request, const char* lower_name) {
  auto it = request.headers.find(lower_name);
  return it == request.headers.end() ? "" : it->second;
}

bool starts_with(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

net::ApiReply refusal(RetCode code, std::string message) {
  return net::reply(code, std::move(message));
}

}  // namespace

RouteGroup route_group(const std::string& path) {
  if (starts_with(path, "partner/") || starts_with(path, "scheduler/")) return RouteGroup::site;
  if (starts_with(path, "worker/")) return RouteGroup::worker;
  return RouteGroup::client;
}

std::vector<std::string> roles_for(const std::string& path) {
  switch (route_group(path)) {
    case RouteGroup::site:
      return {domain::kRoleSite};
    case RouteGroup::worker:
      return {};
    case RouteGroup::client:
      break;
  }
  // Beyond FATE: a provider names executables this server will run, so registering one is an admin action.
  if (starts_with(path, "app/") || starts_with(path, "permission/") || path == "provider/register")
    return {domain::kRoleSuperClient};
  return {domain::kRoleClient, domain::kRoleSuperClient};
}

Authenticator::Authenticator(AuthConfig config, std::shared_ptr<AccessBoard> board,
                             std::shared_ptr<const Clock> clock)
    : config_(std::move(config)), board_(std::move(board)), clock_(std::move(clock)) {}

std::optional<net::ApiReply> Authenticator::Check(const net::ApiRequest& request, const std::string& path) {
  const RouteGroup group = route_group(path);
  const bool client = group == RouteGroup::client && config_.client;
  const bool site = group == RouteGroup::site && config_.site;
  if (!client && !site) return std::nullopt;

  const std::string app_id = header(request, "appid"), timestamp = header(request, "timestamp"),
                    nonce = header(request, "nonce"), signature = header(request, "signature");
  // FATE signs a client request over its userName, a site request over its initiatorPartyId.
  const std::string middle = client ? header(request, "username") : header(request, "initiatorpartyid");
  if (app_id.empty()) return refusal(RetCode::invalid_parameter, "invalid parameter: appId");
  char* end = nullptr;
  const long long sent_ms = std::strtoll(timestamp.c_str(), &end, 10);
  if (timestamp.empty() || *end != '\0')
    return refusal(RetCode::invalid_parameter, "invalid parameter: Timestamp");
  if (nonce.size() != 4) return refusal(RetCode::invalid_parameter, "invalid parameter: Nonce");
  if (signature.empty()) return refusal(RetCode::invalid_parameter, "invalid parameter: Signature");

  const int64_t now = clock_->now_ms();
  if (sent_ms + kWindowMs < now) return refusal(RetCode::expired, "Request expired: timestamp " + timestamp);
  if (sent_ms - kWindowMs > now)
    return refusal(RetCode::expired, "Request timestamp " + timestamp + " is ahead of this site's clock");
  auto state = board_->Snapshot();
  const domain::App* app = state->app(app_id);
  if (!app) return refusal(RetCode::no_found_appid, "No found appid: " + app_id);
  const bool hmac = header(request, "signature-method") == "hmac-sha256";
  const std::string expected =
      hmac ? net::hmac_sha256_signature(app_id, middle, nonce, timestamp, app->app_token)
           : net::fate_signature(app_id, middle, nonce, timestamp, app->app_token);
  if (!net::same_signature(expected, signature)) return refusal(RetCode::verify_failed, "varify failed!");
  if (!FirstUse(app_id, nonce, timestamp, now))
    return refusal(RetCode::verify_failed, "replayed request: nonce " + nonce + " of app " + app_id +
                                               " was used within " + std::to_string(kWindowMs / 1000) + " s");
  if (app_id != domain::kAdminAppId) {
    bool allowed = false;
    for (const std::string& role : roles_for(path)) allowed = allowed || state->has_role(app_id, role);
    if (!allowed)
      return refusal(RetCode::authentication_failed,
                     "Authentication Failed: app_id[" + app_id + "], path[/v2/" + path + "]");
  }
  return std::nullopt;
}

bool Authenticator::FirstUse(const std::string& app_id, const std::string& nonce,
                             const std::string& timestamp, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  while (!expiries_.empty() && expiries_.begin()->first < now_ms) {
    seen_.erase(expiries_.begin()->second);
    expiries_.erase(expiries_.begin());
  }
  const std::string key = app_id + '\0' + nonce + '\0' + timestamp;
  if (!seen_.insert(key).second) return false;
  // Kept until the timestamp itself expires: after that the request is refused as expired anyway.
  expiries_.emplace(std::strtoll(timestamp.c_str(), nullptr, 10) + kWindowMs, key);
  return true;
}

}  // namespace flowstone::actors
