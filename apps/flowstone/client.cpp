// The CLI's calls to a server: where it is (flags, environment, config), TLS, FATE's client signature, and
// the envelope printed.
#include "apps/flowstone/client.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <random>

#include "actors/config.hpp"
#include "net/http_client.hpp"
#include "net/json_io.hpp"
#include "net/signature.hpp"

namespace flowstone::cli {
namespace {

// --app-id/--app-token, else $FLOWSTONE_APP_ID/$FLOWSTONE_APP_TOKEN: the app the CLI signs with.
void take_app(const Flags& flags, Address* a) {
  const std::pair<const char*, std::string*> parts[] = {{"app_id", &a->app_id}, {"app_token", &a->app_token}};
  for (const auto& [name, value] : parts) {
    std::string env = std::string("FLOWSTONE_") + name;
    for (char& c : env) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (flags.count(name)) {
      *value = flags.at(name);
    } else if (const char* set = std::getenv(env.c_str())) {
      *value = set;
    }
  }
}

// FATE's client signature headers (appId, userName, Timestamp, Nonce, Signature), fresh for each request.
std::map<std::string, std::string> signature_headers(const Address& a) {
  const char* user = std::getenv("USER");
  const std::string user_name = user ? user : "flowstone";
  const std::string timestamp = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::system_clock::now().time_since_epoch())
                                                   .count());
  static std::mt19937 random(std::random_device{}());
  const std::string nonce = std::to_string(1000 + random() % 9000);
  return {{"appId", a.app_id},
          {"userName", user_name},
          {"Timestamp", timestamp},
          {"Nonce", nonce},
          {"Signature", net::fate_signature(a.app_id, user_name, nonce, timestamp, a.app_token)}};
}

}  // namespace

// A server on this machine (the demo's parties).
Address loopback(uint16_t port) {
  Address a;
  a.port = port;
  return a;
}

Address server_address(const Flags& flags) {
  Address a;
  take_app(flags, &a);
  std::string spec;
  if (flags.count("server")) {
    spec = flags.at("server");
  } else if (const char* env = std::getenv("FLOWSTONE_SERVER")) {
    spec = env;
  } else if (flags.count("config")) {
    actors::ServerConfig config;
    std::vector<std::string> warnings;
    if (actors::load_config(flags.at("config"), &config, &warnings).empty()) {
      a.host = config.host;
      a.port = config.http_port;
    }
    return a;
  }
  if (spec.rfind("http://", 0) == 0) spec = spec.substr(7);
  if (spec.rfind("https://", 0) == 0) {
    spec = spec.substr(8);
    net::TlsFiles files;
    if (const char* ca = std::getenv("FLOWSTONE_CA")) files.ca = ca;
    std::string error;
    a.tls = net::TlsContext::Client(files, &error);
    if (!a.tls) a.tls_error = "TLS: " + error;
  }
  auto colon = spec.rfind(':');
  if (colon != std::string::npos) {
    a.host = spec.substr(0, colon);
    a.port = static_cast<uint16_t>(std::atoi(spec.substr(colon + 1).c_str()));
  } else if (!spec.empty()) {
    a.host = spec;
  }
  return a;
}

std::optional<Json> call(const Address& a, const std::string& method, const std::string& route,
                         const std::vector<std::pair<std::string, std::string>>& query, const Json& body,
                         std::string* error) {
  net::HttpCall c;
  c.method = method;
  c.host = a.host;
  c.port = a.port;
  c.target = "/v2/" + route;
  if (!query.empty()) c.target += "?" + net::encode_query(query);
  if (method == "POST") c.body = body.dump();
  if (!a.app_id.empty()) c.headers = signature_headers(a);
  if (!a.tls_error.empty()) {
    *error = a.tls_error;
    return std::nullopt;
  }
  c.tls = a.tls;
  auto result = net::http_call(c);
  if (!result.ok) {
    *error = "cannot reach the server at " + a.host + ":" + std::to_string(a.port) + ": " + result.error;
    return std::nullopt;
  }
  auto json = net::parse_json(result.body, error);
  if (!json) *error = "the server answered something that is not JSON: " + result.body.substr(0, 200);
  return json;
}

int print(const std::optional<Json>& reply, const std::string& error) {
  if (!reply) {
    std::cerr << error << "\n";
    return 1;
  }
  std::cout << reply->dump(4) << std::endl;
  return reply->value("code", -1) == 0 ? 0 : 1;
}

std::vector<std::pair<std::string, std::string>> query_of(const Flags& flags,
                                                          std::initializer_list<const char*> names) {
  std::vector<std::pair<std::string, std::string>> q;
  for (const char* n : names)
    if (flags.count(n)) q.emplace_back(n, flags.at(n));
  return q;
}

Json body_of(const Flags& flags, std::initializer_list<const char*> names) {
  Json b = Json::object();
  for (const char* n : names)
    if (flags.count(n)) b[n] = flags.at(n);
  return b;
}

std::string local_time(int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

}  // namespace flowstone::cli
