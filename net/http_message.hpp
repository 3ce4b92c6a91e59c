// How a Beast request message becomes the HttpRequest the handler sees (target split into decoded path and
// query, header names lower-cased, repeated headers joined), and the header limits every parser applies.
// Shared by the server's sessions and parse_request (the fuzz target's door). Internal to net/.
//
// Thread rules: pure functions.
#pragma once
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>

#include "net/http_server.hpp"

namespace flowstone::net {

constexpr uint32_t kHeaderLimit = 64 * 1024;  // bytes of a request's header
constexpr size_t kHeaderCountLimit = 100;     // fields in a request's header

HttpRequest request_of(boost::beast::http::request<boost::beast::http::string_body>&& message);

// Fields in the header of a parsed message.
size_t header_count(const boost::beast::http::request<boost::beast::http::string_body>& message);

}  // namespace flowstone::net
