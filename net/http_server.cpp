// Boost.Beast HTTP/1.1 server, in the style of Beast's advanced server example: one listener, one
// Session per connection (kept alive by shared_from_this and by its pending operations), each session
// running on its own strand (the socket's executor).
//
// Lifetime rules:
// * Core owns the io_context (through a shared_ptr) and everything shared by sessions and responders.
//   Sessions hold the Core, so the io_context outlives every socket, even a session kept alive only by a
//   responder that the application still holds after the server is gone.
// * A responder never touches asio once the I/O threads are stopped (Core::alive, checked under the
//   Core mutex): a late answer is dropped instead of being posted into a dead context.
// * Stop() breaks the Core <-> pending-handler cycle: it closes every session's socket and runs the
//   context until the aborted operations have released their handlers.
#include "net/http_server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "net/json_io.hpp"

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
using tcp = asio::ip::tcp;

constexpr uint32_t kHeaderLimit = 64 * 1024;
constexpr std::chrono::seconds kLingerTimeout{2};  // discarding input after an error response
constexpr size_t kLingerLimit = size_t{4} << 20;   // bytes discarded at most before closing

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

bool is_http_error(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category();
}

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

class Session;

// Everything the listener, the sessions and the responders share.
struct Core {
  explicit Core(HttpServerOptions opts, Handler h)
      : ioc(std::make_shared<asio::io_context>(opts.threads > 0 ? opts.threads : 1)),
        options(std::move(opts)),
        handler(std::move(h)) {}

  std::shared_ptr<asio::io_context> ioc;  // first: destroyed last
  HttpServerOptions options;
  Handler handler;
  std::optional<tcp::acceptor> acceptor;
  // Accept failures (EMFILE above all: out of descriptors) pause accepting on this timer, with backoff,
  // instead of retrying at once in a loop that spins a core and floods the log. Acceptor strand only.
  std::optional<asio::steady_timer> accept_pause;
  std::chrono::milliseconds accept_backoff{0};
  std::chrono::steady_clock::time_point accept_warned{};
  uint64_t accept_failures_unreported = 0;

  std::mutex mu;
  std::condition_variable idle;
  bool alive = true;      // I/O threads running: responses may be posted
  bool draining = false;  // Stop() in progress: responses close their connection
  size_t in_flight = 0;   // requests handed to the handler whose response is not yet written
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;

  bool is_alive() {
    std::lock_guard<std::mutex> lock(mu);
    return alive;
  }
  bool is_draining() {
    std::lock_guard<std::mutex> lock(mu);
    return draining;
  }
  void begin_request() {
    std::lock_guard<std::mutex> lock(mu);
    ++in_flight;
  }
  void end_request() {
    std::lock_guard<std::mutex> lock(mu);
    if (in_flight > 0 && --in_flight == 0) idle.notify_all();
  }
};

HttpResponse error_response(int status, int code, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.body = envelope_text(code, message);
  return response;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Core> core, tcp::socket&& socket)
      : core_(std::move(core)), stream_(std::move(socket)), strand_(stream_.get_executor()) {}

  ~Session() {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->sessions.erase(this);
  }

  void start() {
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      core_->sessions.emplace(this, weak_from_this());
    }
    beast::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    asio::dispatch(strand_, [self = shared_from_this()] { self->do_read(); });
  }

  // Any thread. Hands a response to the session's strand, unless the I/O threads are gone.
  void post_response(HttpResponse response) {
    std::lock_guard<std::mutex> lock(core_->mu);
    if (!core_->alive) return;
    asio::post(strand_, [self = shared_from_this(), response = std::move(response)]() mutable {
      self->write_response(std::move(response));
    });
  }

  // Strand (or a stopped context): closes the connection at once.
  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void do_read() {
    if (!core_->is_alive()) return close();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(core_->options.body_limit);  // checked against Content-Length after the header
    stream_.expires_after(core_->options.header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    auto& header = parser_->get();
    auto expect = header.find(http::field::expect);
    if (expect != header.end() && beast::iequals(expect->value(), "100-continue") && !parser_->is_done()) {
      auto interim =
          std::make_shared<http::response<http::empty_body>>(http::status::continue_, header.version());
      http::async_write(stream_, *interim, [self = shared_from_this(), interim](beast::error_code e, size_t) {
        if (e) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    stream_.expires_after(core_->options.io_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return close();
    }
    if (ec == http::error::body_limit) {
      return write_error(error_response(
          413, 5001,
          "request body exceeds the limit of " + std::to_string(core_->options.body_limit) + " bytes"));
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      return write_error(error_response(
          431, 5001, "request header exceeds the limit of " + std::to_string(kHeaderLimit) + " bytes"));
    }
    if (is_http_error(ec) && ec != http::error::partial_message && ec != http::error::short_read) {
      return write_error(error_response(400, 5001, "malformed HTTP request: " + ec.message()));
    }
    // Transport errors, timeouts, a peer gone in the middle of a message: nobody to answer.
    close();
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    if (!core_->is_alive()) return close();

    http::request<http::string_body> message = parser_->release();
    parser_.reset();
    version_ = message.version();
    keep_alive_ = message.keep_alive();
    head_ = message.method() == http::verb::head;

    HttpRequest request = request_of(std::move(message));
    beast::error_code peer_error;
    auto peer = stream_.socket().remote_endpoint(peer_error);
    if (!peer_error) request.remote_address = peer.address().to_string();

    stream_.expires_never();  // the handler may take its time; the response write re-arms the timer
    core_->begin_request();
    Responder respond = make_responder();
    try {
      core_->handler(std::move(request), respond);
    } catch (const std::exception& e) {
      respond(error_response(500, 6000, std::string("handler failed: ") + e.what()));
    } catch (...) {
      respond(error_response(500, 6000, "handler failed"));
    }
  }

  Responder make_responder();

  void fill(http::response<http::string_body>& out, HttpResponse& response, bool keep_alive) {
    if (response.status < 100 || response.status > 999) {
      spdlog::error("http: handler answered with invalid status {}", response.status);
      response = error_response(500, 6000, "invalid response status " + std::to_string(response.status));
    }
    out.version(version_);
    out.result(static_cast<unsigned>(response.status));
    out.set(http::field::server, "flowstone");
    if (!response.content_type.empty()) out.set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) out.insert(name, value);
    out.keep_alive(keep_alive);
    if (head_) {
      out.content_length(response.body.size());
    } else {
      out.body() = std::move(response.body);
      out.prepare_payload();
    }
  }

  // Strand. Writes the response to a request that went to the handler.
  void write_response(HttpResponse response) {
    auto out = std::make_shared<http::response<http::string_body>>();
    fill(*out, response, keep_alive_ && !core_->is_draining());
    stream_.expires_after(core_->options.io_timeout);
    http::async_write(stream_, *out, [self = shared_from_this(), out](beast::error_code ec, size_t) {
      self->core_->end_request();
      if (ec) return self->close();
      if (out->need_eof()) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return self->close();
      }
      self->do_read();
    });
  }

  // Strand. Answers a request that could not be read, then closes the connection gracefully.
  void write_error(HttpResponse response) {
    head_ = false;
    if (parser_ && parser_->is_header_done()) {
      version_ = parser_->get().version();
    } else {
      version_ = 11;
    }
    parser_.reset();
    auto out = std::make_shared<http::response<http::string_body>>();
    fill(*out, response, false);
    stream_.expires_after(core_->options.io_timeout);
    http::async_write(stream_, *out, [self = shared_from_this(), out](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->linger();
    });
  }

  // Half-closes and discards what the client still sends (e.g. the rest of a refused body) for a
  // short while: closing with unread input would reset the connection and could destroy the error
  // response before the client reads it.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.consume(buffer_.size());
    discarded_ = 0;
    stream_.expires_after(kLingerTimeout);
    discard();
  }

  void discard() {
    if (!core_->is_alive()) return close();
    stream_.async_read_some(asio::buffer(discard_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->discarded_ += n;
                              if (ec || self->discarded_ > kLingerLimit) return self->close();
                              self->discard();
                            });
  }

  std::shared_ptr<Core> core_;  // first: keeps the io_context alive until the socket is gone
  beast::tcp_stream stream_;
  asio::any_io_executor strand_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;
  size_t discarded_ = 0;
  char discard_buffer_[8192];
};

// The shared state of one Responder: answers once; if the last copy goes away unanswered, answers 500.
class ResponderState {
 public:
  explicit ResponderState(std::shared_ptr<Session> session) : session_(std::move(session)) {}
  ResponderState(const ResponderState&) = delete;
  ResponderState& operator=(const ResponderState&) = delete;

  ~ResponderState() {
    if (!called_.exchange(true) && session_) {
      session_->post_response(error_response(500, 6000, "no response"));
    }
  }

  void respond(HttpResponse response) {
    if (called_.exchange(true)) {
      spdlog::warn("http: responder called more than once; later answer dropped");
      return;
    }
    std::shared_ptr<Session> session = std::move(session_);
    if (session) session->post_response(std::move(response));
  }

 private:
  std::atomic<bool> called_{false};
  std::shared_ptr<Session> session_;
};

Responder Session::make_responder() {
  auto state = std::make_shared<ResponderState>(shared_from_this());
  return [state](HttpResponse response) { state->respond(std::move(response)); };
}

void do_accept(const std::shared_ptr<Core>& core);

// Acceptor strand. One warning per 10 s at most, with the failures since the last one; accepting resumes
// after 10 ms, doubling to 1 s while it keeps failing (connections wait in the listen backlog meanwhile).
void pause_accepting(const std::shared_ptr<Core>& core, const beast::error_code& ec) {
  using namespace std::chrono;
  ++core->accept_failures_unreported;
  core->accept_backoff = std::clamp(core->accept_backoff * 2, milliseconds(10), milliseconds(1000));
  const auto now = steady_clock::now();
  if (now - core->accept_warned >= seconds(10)) {
    spdlog::warn("http: accept failed ({} time(s) since the last warning): {}; accepting again in {} ms",
                 core->accept_failures_unreported, ec.message(), core->accept_backoff.count());
    core->accept_warned = now;
    core->accept_failures_unreported = 0;
  }
  if (!core->accept_pause) core->accept_pause.emplace(core->acceptor->get_executor());
  core->accept_pause->expires_after(core->accept_backoff);
  core->accept_pause->async_wait([core](beast::error_code wait_ec) {
    if (wait_ec || !core->acceptor->is_open()) return;
    do_accept(core);
  });
}

// Acceptor strand.
void do_accept(const std::shared_ptr<Core>& core) {
  core->acceptor->async_accept(asio::make_strand(*core->ioc),
                               [core](beast::error_code ec, tcp::socket socket) {
                                 if (ec == asio::error::operation_aborted || !core->acceptor->is_open())
                                   return;
                                 if (ec) return pause_accepting(core, ec);
                                 core->accept_backoff = std::chrono::milliseconds(0);
                                 std::make_shared<Session>(core, std::move(socket))->start();
                                 do_accept(core);
                               });
}

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions options, Handler handler)
      : core(std::make_shared<Core>(std::move(options), std::move(handler))) {}

  std::shared_ptr<Core> core;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};
  std::mutex lifecycle;  // Start/Stop
  bool started = false;
  bool stopped = false;
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  Stop();
}

std::string HttpServer::Start() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lock(impl.lifecycle);
  if (impl.started) return impl.stopped ? "server already stopped" : "server already started";
  Core& core = *impl.core;
  const HttpServerOptions& options = core.options;
  if (!core.handler) return "no request handler";

  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(options.host, ec);
  if (ec) {
    tcp::resolver resolver(*core.ioc);
    auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec || results.empty()) {
      return "cannot resolve listen address '" + options.host + "': " + (ec ? ec.message() : "no address");
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, options.port);
  std::string where = options.host + ":" + std::to_string(options.port);

  core.acceptor.emplace(asio::make_strand(*core.ioc));
  auto fail = [&](const char* what) {
    std::string message = std::string("cannot ") + what + " " + where + ": " + ec.message();
    beast::error_code ignored;
    core.acceptor->close(ignored);
    core.acceptor.reset();
    return message;
  };
  core.acceptor->open(endpoint.protocol(), ec);
  if (ec) return fail("open socket for");
  core.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("set SO_REUSEADDR on");
  core.acceptor->bind(endpoint, ec);
  if (ec) return fail("bind");
  core.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  impl.port = core.acceptor->local_endpoint(ec).port();

  impl.started = true;
  impl.work.emplace(asio::make_work_guard(*core.ioc));
  asio::dispatch(core.acceptor->get_executor(), [core = impl.core] { do_accept(core); });
  int threads = options.threads > 0 ? options.threads : 1;
  for (int i = 0; i < threads; ++i) {
    impl.threads.emplace_back([ioc = core.ioc] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("http: exception on an I/O thread: {}", e.what());
        }
      }
    });
  }
  return "";
}

uint16_t HttpServer::port() const {
  return impl_->port.load();
}

void HttpServer::Stop() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lifecycle(impl.lifecycle);
  if (!impl.started || impl.stopped) return;
  impl.stopped = true;
  std::shared_ptr<Core> core = impl.core;

  // 1. No new connections; responses from now on close their connection.
  {
    std::lock_guard<std::mutex> lock(core->mu);
    core->draining = true;
  }
  asio::post(core->acceptor->get_executor(), [core] {
    beast::error_code ignored;
    core->acceptor->close(ignored);
    if (core->accept_pause) core->accept_pause->cancel();
  });

  // 2. Let the requests already handed to the handler be answered, for up to `drain`.
  {
    std::unique_lock<std::mutex> lock(core->mu);
    if (!core->idle.wait_for(lock, core->options.drain, [&] { return core->in_flight == 0; })) {
      spdlog::warn("http: stopping with {} request(s) still unanswered", core->in_flight);
    }
    core->alive = false;  // responders stop posting from here on
  }

  // 3. Stop the I/O threads.
  impl.work.reset();
  core->ioc->stop();
  for (auto& thread : impl.threads) thread.join();
  impl.threads.clear();

  // 4. No thread runs the context now: close every socket, then run the context until the aborted
  //    operations have released their handlers (and with them the sessions they keep alive).
  beast::error_code ignored;
  core->acceptor->close(ignored);
  if (core->accept_pause) core->accept_pause->cancel();
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard<std::mutex> lock(core->mu);
    for (auto& [raw, weak] : core->sessions) {
      if (auto session = weak.lock()) sessions.push_back(std::move(session));
    }
  }
  for (auto& session : sessions) session->close();
  sessions.clear();
  core->ioc->restart();
  core->ioc->run_for(std::chrono::seconds(2));
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
  *out = request_of(parser.release());
  return true;
}

}  // namespace flowstone::net
