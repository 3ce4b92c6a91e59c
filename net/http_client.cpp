// Synchronous HTTP/1.1 client on Boost.Beast. A Connection runs each step (connect, write, read) as an
// asynchronous operation on an io_context that only its calling thread runs, so that one deadline
// (beast::tcp_stream's expiry) bounds all the steps of a call together. http_call uses a fresh context
// and connection per call ("Connection: close"); a KeepAliveClient keeps one context and one open
// connection per host:port.
#include "net/http_client.hpp"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <exception>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

#include "net/tls.hpp"

namespace flowstone::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
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
  if (ec == asio::error::operation_aborted) return std::string(stage) + ": cancelled";
  if (ec == asio::error::connection_reset) return std::string(stage) + ": connection reset by peer";
  if (ec == http::error::body_limit) {
    return "response body exceeds the limit of " + std::to_string(kResponseBodyLimit) + " bytes";
  }
  // TLS 1.3 reports a refused client certificate on the first read, not in the handshake.
  if (ec.category() == asio::error::get_ssl_category()) return std::string(stage) + ": TLS: " + ec.message();
  if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == http::error::partial_message) {
    return std::string(stage) + ": connection closed by server";
  }
  return std::string(stage) + ": " + ec.message();
}

// Numeric addresses need no resolver.
bool resolve(asio::io_context& ioc, const std::string& host, uint16_t port, std::vector<tcp::endpoint>* out,
             std::string* error) {
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec) {
    out->emplace_back(address, port);
    return true;
  }
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec) {
    *error = "cannot resolve host '" + host + "': " + ec.message();
    return false;
  }
  for (const auto& entry : results) out->push_back(entry.endpoint());
  if (out->empty()) {
    *error = "cannot resolve host '" + host + "'";
    return false;
  }
  return true;
}

http::request<http::string_body> build_request(const HttpCall& call, bool keep_alive) {
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
  request.keep_alive(keep_alive);
  return request;
}

void take_response(http::response<http::string_body>&& response, HttpResult* out) {
  out->ok = true;
  out->status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    std::string name = lower(field.name_string());
    auto it = out->headers.find(name);
    if (it == out->headers.end()) {
      out->headers.emplace(std::move(name), std::string(field.value()));
    } else {
      it->second += ", ";
      it->second.append(field.value().data(), field.value().size());
    }
  }
  auto content_type = out->headers.find("content-type");
  if (content_type != out->headers.end()) out->content_type = content_type->second;
  out->body = std::move(response.body());
}

// One client connection, opened on the first request and kept while both sides allow it; TLS when the
// call says so.
class Connection {
 public:
  // cancelled (may be null): once set, a failed request is not sent again on a new connection.
  Connection(asio::io_context& ioc, const std::atomic<bool>* cancelled) : ioc_(ioc), cancelled_(cancelled) {}

  // Sends `call` and reads its response before call.timeout, connecting first when not connected.
  // keep_alive: asks the server to keep the connection open, and keeps it when the response agrees.
  HttpResult Exchange(const HttpCall& call, bool keep_alive) {
    const Clock::time_point deadline = Clock::now() + call.timeout;
    const bool reused = open_;
    HttpResult out;
    if (!open_ && !Connect(call, deadline, &out.error)) return out;
    beast::error_code failure;
    out = RoundTrip(call, keep_alive, deadline, &failure);
    // A kept connection fails like this when the server closed it while it was idle, before it saw
    // the request: send the request again on a new connection.
    if (!out.ok && reused && failure != beast::error::timeout && failure != asio::error::operation_aborted &&
        !(cancelled_ && cancelled_->load())) {
      HttpResult retry;
      if (!Connect(call, deadline, &retry.error)) return retry;
      out = RoundTrip(call, keep_alive, deadline, &failure);
    }
    return out;
  }

  void Close() {
    if (beast::tcp_stream* stream = lowest()) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
    }
    open_ = false;
  }

 private:
  beast::tcp_stream* lowest() {
    if (tls_) return &beast::get_lowest_layer(*tls_);
    return plain_ ? &*plain_ : nullptr;
  }

  // Runs `step` on the open stream, whichever it is.
  template <class Step>
  beast::error_code on_stream(Step&& step) {
    return run_step(ioc_, [&](auto done) {
      if (tls_) {
        step(*tls_, done);
      } else {
        step(*plain_, done);
      }
    });
  }

  bool Connect(const HttpCall& call, Clock::time_point deadline, std::string* error) {
    Close();
    tls_.reset();
    plain_.reset();
    std::vector<tcp::endpoint> endpoints;
    if (!resolve(ioc_, call.host, call.port, &endpoints, error)) return false;
    if (call.tls) {
      tls_.emplace(ioc_, call.tls->native());
      if (!expect_peer_host(tls_->native_handle(), call.host, error)) return false;
    } else {
      plain_.emplace(ioc_);
    }
    beast::tcp_stream& stream = *lowest();
    stream.expires_at(deadline);
    beast::error_code ec = run_step(ioc_, [&](auto done) {
      stream.async_connect(endpoints, [done](beast::error_code e, const tcp::endpoint&) mutable { done(e); });
    });
    if (ec) {
      *error = describe(ec, "connect");
      Close();
      return false;
    }
    // Requests and responses are single writes; small ones must not wait for delayed ACKs.
    beast::error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);
    if (tls_) {
      ec = run_step(ioc_, [&](auto done) {
        tls_->async_handshake(ssl::stream_base::client, [done](beast::error_code e) mutable { done(e); });
      });
      if (ec) {
        *error =
            ec == beast::error::timeout ? "timeout" : handshake_failure(tls_->native_handle(), ec.message());
        Close();
        return false;
      }
    }
    buffer_.clear();
    open_ = true;
    return true;
  }

  HttpResult RoundTrip(const HttpCall& call, bool keep_alive, Clock::time_point deadline,
                       beast::error_code* failure) {
    HttpResult out;
    http::request<http::string_body> request = build_request(call, keep_alive);
    lowest()->expires_at(deadline);
    beast::error_code ec = on_stream([&](auto& stream, auto done) {
      http::async_write(stream, request, [done](beast::error_code e, size_t) mutable { done(e); });
    });
    // A server may refuse a request before reading it whole (413 after the header) and close the
    // connection while the body is still being sent: the answer may still be there to read.
    const beast::error_code write_error = ec;
    if (write_error == beast::error::timeout || write_error == asio::error::operation_aborted) {
      *failure = write_error;
      out.error = describe(write_error, "write");
      Close();
      return out;
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(kResponseBodyLimit);
    parser.header_limit(kResponseHeaderLimit);
    // HEAD responses announce a length but carry no body.
    if (request.method() == http::verb::head) parser.skip(true);
    lowest()->expires_at(deadline);
    ec = on_stream([&](auto& stream, auto done) {
      http::async_read(stream, buffer_, parser, [done](beast::error_code e, size_t) mutable { done(e); });
    });
    if (ec) {
      *failure = write_error ? write_error : ec;
      out.error = write_error ? describe(write_error, "write") : describe(ec, "read");
      Close();
      return out;
    }

    http::response<http::string_body> response = parser.release();
    const bool kept = keep_alive && response.keep_alive() && !write_error;
    take_response(std::move(response), &out);
    if (!kept) Close();
    return out;
  }

  asio::io_context& ioc_;
  const std::atomic<bool>* cancelled_;
  std::optional<beast::tcp_stream> plain_;  // exactly one of the two while connected
  std::optional<TlsStream> tls_;
  beast::flat_buffer buffer_;
  bool open_ = false;
};

}  // namespace

HttpResult http_call(const HttpCall& call) {
  try {
    asio::io_context ioc;
    Connection connection(ioc, nullptr);
    return connection.Exchange(call, /*keep_alive=*/false);
  } catch (const std::exception& e) {
    HttpResult out;
    out.error = std::string("http call failed: ") + e.what();
    return out;
  }
}

struct KeepAliveClient::Impl {
  asio::io_context ioc;  // first: outlives the sockets of the connections
  std::atomic<bool> cancelled{false};
  std::map<std::tuple<std::string, uint16_t, const TlsContext*>, std::unique_ptr<Connection>> connections;
};

KeepAliveClient::KeepAliveClient() : impl_(std::make_unique<Impl>()) {}

KeepAliveClient::~KeepAliveClient() = default;

HttpResult KeepAliveClient::Call(const HttpCall& call) {
  HttpResult out;
  if (impl_->cancelled.load()) {
    out.error = "cancelled";
    return out;
  }
  std::unique_ptr<Connection>& connection = impl_->connections[{call.host, call.port, call.tls.get()}];
  if (!connection) connection = std::make_unique<Connection>(impl_->ioc, &impl_->cancelled);
  try {
    return connection->Exchange(call, /*keep_alive=*/true);
  } catch (const std::exception& e) {
    connection->Close();
    out.error = std::string("http call failed: ") + e.what();
    return out;
  }
}

void KeepAliveClient::Cancel() {
  impl_->cancelled.store(true);
  // The context is run only by the owning thread, inside a call: closing the sockets there aborts the
  // step in progress (or the first step of the next call) without touching the sockets from here.
  asio::post(impl_->ioc, [impl = impl_.get()] {
    for (auto& [where, connection] : impl->connections) {
      if (connection) connection->Close();
    }
  });
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
