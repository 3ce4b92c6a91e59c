// HttpClient: a small synchronous HTTP/1.1 client (Boost.Beast) for the CLI, the workers and the
// launcher, and for blocking calls made from detached actors. Never use it on an I/O thread of the
// server. Thread rules: a function call owns its connection; calls are independent and thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace flowstone::net {

struct HttpResult {
  bool ok = false;       // a response arrived (any status)
  std::string error;     // transport error when !ok (e.g. "connection refused")
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
};

HttpResult http_call(const HttpCall& call);

// Percent-encodes a query string from name/value pairs ("a=1&b=x%20y").
std::string encode_query(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace flowstone::net
