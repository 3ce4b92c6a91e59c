// Synchronous HTTP/1.1 client on Boost.Beast. Each call owns a private io_context and one connection
// ("Connection: close"); the steps run as asynchronous operations on that context so that one deadline
// (beast::tcp_stream's expiry) bounds connect, write and read together.
#include "net/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <exception>
#include <string_view>

namespace flowstone::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kResponseBodyLimit = uint64_t{256} << 20;
constexpr uint32_t kResponseHeaderLimit = 1 << 20;

std::string lower(beast::string_view text) {
  std::string out(text.data(), text.size());
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Runs the io_context until the operation started by `start` completes; returns its error code.
template <class Start>
beast::error_code run_step(asio::io_context& ioc, Start&& start) {
  beast::error_code result;
  bool done = false;
  start([&](beast::error_code ec) {
    result = ec;
    done = true;
  });
  ioc.restart();
  ioc.run();
  if (!done) result = asio::error::operation_aborted;
  return result;
}

std::string describe(const beast::error_code& ec, std::string_view stage) {
  if (ec == beast::error::timeout) return "timeout";
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::connection_reset) return std::string(stage) + ": connection reset by peer";
  if (ec == http::error::body_limit) {
    return "response body exceeds the limit of " + std::to_string(kResponseBodyLimit) + " bytes";
  }
  if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == http::error::partial_message) {
    return std::string(stage) + ": connection closed by server";
  }
  return std::string(stage) + ": " + ec.message();
}

}  // namespace

HttpResult http_call(const HttpCall& call) {
  HttpResult out;
  try {
    const Clock::time_point deadline = Clock::now() + call.timeout;
    asio::io_context ioc;

    // Resolve: numeric addresses need no resolver.
    std::vector<tcp::endpoint> endpoints;
    beast::error_code ec;
    asio::ip::address address = asio::ip::make_address(call.host, ec);
    if (!ec) {
      endpoints.emplace_back(address, call.port);
    } else {
      tcp::resolver resolver(ioc);
      auto results = resolver.resolve(call.host, std::to_string(call.port), ec);
      if (ec) {
        out.error = "cannot resolve host '" + call.host + "': " + ec.message();
        return out;
      }
      for (const auto& entry : results) endpoints.push_back(entry.endpoint());
      if (endpoints.empty()) {
        out.error = "cannot resolve host '" + call.host + "'";
        return out;
      }
    }

    beast::tcp_stream stream(ioc);
    stream.expires_at(deadline);
    ec = run_step(ioc, [&](auto done) {
      stream.async_connect(endpoints, [done](beast::error_code e, const tcp::endpoint&) mutable { done(e); });
    });
    if (ec) {
      out.error = describe(ec, "connect");
      return out;
    }

    http::request<http::string_body> request;
    http::verb verb = http::string_to_verb(call.method);
    if (verb == http::verb::unknown) {
      request.method_string(call.method);
    } else {
      request.method(verb);
    }
    request.target(call.target.empty() ? std::string("/") : call.target);
    request.version(11);
    const bool ipv6_literal = call.host.find(':') != std::string::npos;
    request.set(http::field::host,
                (ipv6_literal ? "[" + call.host + "]" : call.host) + ":" + std::to_string(call.port));
    request.set(http::field::user_agent, "flowstone");
    request.set(http::field::accept, "*/*");
    for (const auto& [name, value] : call.headers) request.set(name, value);
    if (!call.body.empty() && !call.content_type.empty() &&
        request.find(http::field::content_type) == request.end()) {
      request.set(http::field::content_type, call.content_type);
    }
    request.body() = call.body;
    request.prepare_payload();
    request.keep_alive(false);

    stream.expires_at(deadline);
    ec = run_step(ioc, [&](auto done) {
      http::async_write(stream, request, [done](beast::error_code e, size_t) mutable { done(e); });
    });
    // A server may refuse a request before reading it whole (413 after the header) and close the
    // connection while the body is still being sent: the answer may still be there to read.
    const beast::error_code write_error = ec;
    if (write_error == beast::error::timeout) {
      out.error = describe(write_error, "write");
      return out;
    }

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kResponseBodyLimit);
    parser.header_limit(kResponseHeaderLimit);
    // HEAD responses announce a length but carry no body.
    if (verb == http::verb::head) parser.skip(true);
    stream.expires_at(deadline);
    ec = run_step(ioc, [&](auto done) {
      http::async_read(stream, buffer, parser, [done](beast::error_code e, size_t) mutable { done(e); });
    });
    if (ec) {
      out.error = write_error ? describe(write_error, "write") : describe(ec, "read");
      return out;
    }

    http::response<http::string_body> response = parser.release();
    out.ok = true;
    out.status = static_cast<int>(response.result_int());
    for (const auto& field : response) {
      std::string name = lower(field.name_string());
      auto it = out.headers.find(name);
      if (it == out.headers.end()) {
        out.headers.emplace(std::move(name), std::string(field.value()));
      } else {
        it->second += ", ";
        it->second.append(field.value().data(), field.value().size());
      }
    }
    auto content_type = out.headers.find("content-type");
    if (content_type != out.headers.end()) out.content_type = content_type->second;
    out.body = std::move(response.body());

    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
  } catch (const std::exception& e) {
    out = HttpResult{};
    out.error = std::string("http call failed: ") + e.what();
  }
  return out;
}

std::string encode_query(const std::vector<std::pair<std::string, std::string>>& params) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto encode = [](std::string& out, const std::string& text) {
    for (unsigned char c : text) {
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back('%');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0x0F]);
      }
    }
  };
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    encode(out, name);
    out.push_back('=');
    encode(out, value);
  }
  return out;
}

}  // namespace flowstone::net
