// Request parsing shared by the server's sessions and parse_request: the target split into a decoded path
// and query parameters, header names lower-cased.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <cctype>
#include <string_view>

#include "net/http_message.hpp"

namespace flowstone::net {

const std::string* HttpRequest::query_param(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? nullptr : &it->second;
}

const std::string* HttpRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? nullptr : &it->second;
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; malformed escapes are kept as they are.
std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

void parse_target(std::string_view target, HttpRequest& request) {
  // Absolute form ("http://host:port/path?q"): drop scheme and authority.
  if (target.size() > 7 && (target.substr(0, 7) == "http://" || target.substr(0, 8) == "https://")) {
    size_t slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  request.path = percent_decode(path, false);
  while (request.path.size() > 1 && request.path.back() == '/') request.path.pop_back();
  if (request.path.empty()) request.path = "/";

  if (question == std::string_view::npos) return;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string name = percent_decode(piece.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? std::string() : percent_decode(piece.substr(eq + 1), true);
    request.query.emplace(std::move(name), std::move(value));
  }
}

std::string lower(beast::string_view text) {
  std::string out(text.data(), text.size());
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

// A parsed message as the handler sees it: method, target split into decoded path and query, headers by
// lower-case name (repeated headers joined with ", "), body.
HttpRequest request_of(http::request<http::string_body>&& message) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  parse_target(request.target, request);
  for (const auto& field : message) {
    std::string name = lower(field.name_string());
    auto it = request.headers.find(name);
    if (it == request.headers.end()) {
      request.headers.emplace(std::move(name), std::string(field.value()));
    } else {
      it->second += ", ";
      it->second.append(field.value().data(), field.value().size());
    }
  }
  request.body = std::move(message.body());
  return request;
}

size_t header_count(const http::request<http::string_body>& message) {
  return static_cast<size_t>(std::distance(message.begin(), message.end()));
}

bool parse_request(std::string_view bytes, size_t body_limit, HttpRequest* out, std::string* error) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(body_limit);
  parser.eager(true);
  beast::error_code ec;
  size_t used = 0;
  while (!ec && !parser.is_done() && used < bytes.size())
    used += parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
  if (ec == http::error::need_more) ec = {};
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) {
    *error = ec ? ec.message() : "incomplete request";
    return false;
  }
  if (header_count(parser.get()) > kHeaderCountLimit) {
    *error = "too many header fields";
    return false;
  }
  *out = request_of(parser.release());
  return true;
}

}  // namespace flowstone::net
