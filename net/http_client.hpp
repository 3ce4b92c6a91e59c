// HttpClient: a small synchronous HTTP/1.1 client (Boost.Beast) for the CLI, the workers and the
// launcher, and for blocking calls made from detached actors and worker threads. Never use it on an I/O
// thread of the server.
//
// Thread rules: http_call owns its connection; calls are independent and thread-safe. A KeepAliveClient
// belongs to one thread at a time, except Cancel(), which any thread may call.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace flowstone::net {

class TlsContext;

struct HttpResult {
  bool ok = false;    // a response arrived (any status)
  std::string error;  // transport error when !ok (e.g. "connection refused")
  int status = 0;
  std::string content_type;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names
};

struct HttpCall {
  std::string method = "GET";
  std::string host = "127.0.0.1";
  uint16_t port = 9380;
  std::string target = "/";  // path plus query
  std::string body;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds timeout{10000};
  std::shared_ptr<const TlsContext> tls;  // null: plain HTTP; else HTTPS with this context (net/tls.hpp)
};

// One request on a connection of its own ("Connection: close").
HttpResult http_call(const HttpCall& call);

// Calls like http_call, over connections kept open between calls (one per host:port), for clients that
// make many calls to few servers. A kept connection that the server has closed meanwhile (idle timeout,
// restart) is reopened and the request sent again once, within the same call.
class KeepAliveClient {
 public:
  KeepAliveClient();
  ~KeepAliveClient();
  KeepAliveClient(const KeepAliveClient&) = delete;
  KeepAliveClient& operator=(const KeepAliveClient&) = delete;

  HttpResult Call(const HttpCall& call);

  // Any thread: the call in progress, if any, and every later call fail at once with "cancelled". For
  // stopping the thread that owns this client without waiting for its call's timeout.
  void Cancel();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes a query string from name/value pairs ("a=1&b=x%20y").
std::string encode_query(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace flowstone::net
