// The CLI's calls to a party server (used by the client commands, the job history commands and the demo):
// the server's address from --server, $FLOWSTONE_SERVER or --config (http:// or https://), the app requests
// are signed with (--app-id/--app-token or $FLOWSTONE_APP_ID/$FLOWSTONE_APP_TOKEN), one call, the envelope
// printed. Not thread-safe; one command at a time.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apps/flowstone/commands.hpp"
#include "events/common/json.hpp"
#include "net/tls.hpp"

namespace flowstone::cli {

struct Address {
  std::string host = "127.0.0.1";
  uint16_t port = 9380;
  // A server with client authentication on: requests are signed as the flow CLI signs them, with this app.
  std::string app_id, app_token;
  // --server https://...: TLS, verifying the server against $FLOWSTONE_CA (else the system's CAs).
  std::shared_ptr<const net::TlsContext> tls;
  std::string tls_error;  // why TLS could not be set up: no call is made
};

// A server on this machine (the demo's parties).
Address loopback(uint16_t port);
// Where the flags, the environment or the config say the server is, and the app to sign with.
Address server_address(const Flags& flags);
// One call to /v2/<route>; nullopt with why when no JSON answer came.
std::optional<Json> call(const Address& a, const std::string& method, const std::string& route,
                         const std::vector<std::pair<std::string, std::string>>& query, const Json& body,
                         std::string* error);
// Prints the envelope (or the error); 0 when its code is 0, else 1.
int print(const std::optional<Json>& reply, const std::string& error);
// The named flags as query parameters / a JSON body.
std::vector<std::pair<std::string, std::string>> query_of(const Flags& flags,
                                                          std::initializer_list<const char*> names);
Json body_of(const Flags& flags, std::initializer_list<const char*> names);
// Milliseconds since the epoch as local "YYYY-MM-DD HH:MM:SS"; "-" for 0.
std::string local_time(int64_t ms);

}  // namespace flowstone::cli
