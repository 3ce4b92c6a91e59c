// The connections of the HTTP server, in the style of Beast's advanced (flex) server example: one Session
// per connection (kept alive by shared_from_this and by its pending operations), each running on its own
// strand (the socket's executor). With TLS configured, a Detector first looks at a connection's first bytes
// and hands it to a TLS or a plain session; both are one template over the stream.
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <exception>
#include <type_traits>

#include "net/http_core.hpp"
#include "net/http_message.hpp"
#include "net/json_io.hpp"
#include "net/tls.hpp"

namespace flowstone::net::http_detail {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

constexpr std::chrono::seconds kLingerTimeout{2};      // discarding input after an error response
constexpr size_t kLingerLimit = size_t{4} << 20;       // bytes discarded at most before closing
constexpr size_t kStreamQueueLimit = size_t{4} << 20;  // a streamed response's unsent bytes: past it, the
                                                       // reader is too slow and the connection is closed

bool is_http_error(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category();
}

// What a responder needs of a session, whatever its stream.
class Answerable : public Connection {
 public:
  using Connection::Connection;
  // Any thread. Hands a response to the session's strand, unless the I/O threads are gone.
  virtual void post_response(HttpResponse response) = 0;
  // Any thread. Queues a chunk of a streamed response; false once the connection is closed or too slow.
  virtual bool post_chunk(std::string chunk) = 0;
  // Any thread. Bytes of a streamed response queued and not yet written.
  virtual size_t unsent() const = 0;
};

// The sink a streamed response's producer writes to: it does not keep the connection alive.
class SessionSink : public StreamSink {
 public:
  explicit SessionSink(std::weak_ptr<Answerable> session) : session_(std::move(session)) {}
  bool write(std::string chunk) override {
    auto session = session_.lock();
    return session && session->post_chunk(std::move(chunk));
  }
  size_t backlog() const override {
    auto session = session_.lock();
    return session ? session->unsent() : 0;
  }

 private:
  std::weak_ptr<Answerable> session_;
};

Responder make_responder(std::shared_ptr<Answerable> session);

// One connection's requests, over plain TCP (beast::tcp_stream) or TLS (beast::ssl_stream of one).
template <class Stream>
class Session : public Answerable, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  // `buffer`: bytes already read from the connection (the detector's).
  template <class... StreamArgs>
  Session(std::shared_ptr<Core> core, beast::flat_buffer&& buffer, StreamArgs&&... stream_args)
      : Answerable(std::move(core)),
        stream_(std::forward<StreamArgs>(stream_args)...),
        strand_(stream_.get_executor()),
        buffer_(std::move(buffer)) {}

  void start() {
    enroll(this->weak_from_this());
    beast::error_code ec;
    lowest().socket().set_option(tcp::no_delay(true), ec);
    asio::dispatch(strand_, [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->handshake();
      } else {
        self->do_read();
      }
    });
  }

  void post_response(HttpResponse response) override {
    std::lock_guard<std::mutex> lock(core_->mu);
    if (!core_->alive) return;
    asio::post(strand_, [self = this->shared_from_this(), response = std::move(response)]() mutable {
      self->write_response(std::move(response));
    });
  }

  bool post_chunk(std::string chunk) override {
    if (closed_.load()) return false;
    std::lock_guard<std::mutex> lock(core_->mu);
    if (!core_->alive) return false;  // nothing may be posted into stopped I/O threads (http_core.hpp)
    if (queued_bytes_.load() + chunk.size() > kStreamQueueLimit) {
      if (!closed_.exchange(true)) {
        spdlog::info("http: a streamed response's reader is too slow; closing its connection");
        asio::post(strand_, [self = this->shared_from_this()] { self->close(); });
      }
      return false;
    }
    queued_bytes_.fetch_add(chunk.size());
    asio::post(strand_, [self = this->shared_from_this(), chunk = std::move(chunk)]() mutable {
      self->chunks_.push_back(std::move(chunk));
      if (self->chunks_.size() == 1) self->write_chunk();
    });
    return true;
  }

  size_t unsent() const override { return queued_bytes_.load(); }

  void close() override {
    closed_.store(true);
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().close();
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // The handshake must finish within the header deadline, as a plain request's header must.
  void handshake() {
    lowest().expires_after(core_->options.header_timeout);
    stream_.async_handshake(ssl::stream_base::server, buffer_.data(),
                            [self = this->shared_from_this()](beast::error_code ec, size_t used) {
                              if (ec) {
                                beast::error_code peer_error;
                                auto peer = self->lowest().socket().remote_endpoint(peer_error);
                                spdlog::info("http: {} from {}",
                                             handshake_failure(self->stream_.native_handle(), ec.message()),
                                             peer_error ? std::string("?") : peer.address().to_string());
                                return self->close();
                              }
                              self->buffer_.consume(used);
                              self->peer_certificate_ = verified_peer_subject(self->stream_.native_handle());
                              self->do_read();
                            });
  }

  // The end of the connection in good order: TLS says close_notify (bounded by a short deadline).
  void finish() {
    if constexpr (kTls) {
      lowest().expires_after(kLingerTimeout);
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->close(); });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      close();
    }
  }

  void do_read() {
    if (!core_->is_alive()) return close();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(core_->options.body_limit);  // checked against Content-Length after the header
    lowest().expires_after(core_->options.header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    auto& header = parser_->get();
    if (header_count(header) > kHeaderCountLimit) {
      return write_error(error_response(
          431, 5001, "request header has more than " + std::to_string(kHeaderCountLimit) + " fields"));
    }
    auto expect = header.find(http::field::expect);
    if (expect != header.end() && beast::iequals(expect->value(), "100-continue") && !parser_->is_done()) {
      auto interim =
          std::make_shared<http::response<http::empty_body>>(http::status::continue_, header.version());
      http::async_write(stream_, *interim,
                        [self = this->shared_from_this(), interim](beast::error_code e, size_t) {
                          if (e) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    lowest().expires_after(core_->options.io_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return finish();
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
    auto peer = lowest().socket().remote_endpoint(peer_error);
    if (!peer_error) request.remote_address = peer.address().to_string();
    request.tls = kTls;
    request.peer_certificate = peer_certificate_;

    lowest().expires_never();  // the handler may take its time; the response write re-arms the timer
    core_->begin_request();
    Responder respond = make_responder(this->shared_from_this());
    try {
      core_->handler(std::move(request), respond);
    } catch (const std::exception& e) {
      respond(error_response(500, 6000, std::string("handler failed: ") + e.what()));
    } catch (...) {
      respond(error_response(500, 6000, "handler failed"));
    }
  }

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
    if (response.stream && !head_) return start_stream(std::move(response));
    auto out = std::make_shared<http::response<http::string_body>>();
    fill(*out, response, keep_alive_ && !core_->is_draining());
    lowest().expires_after(core_->options.io_timeout);
    http::async_write(stream_, *out, [self = this->shared_from_this(), out](beast::error_code ec, size_t) {
      self->core_->end_request();
      if (ec) return self->close();
      if (out->need_eof()) return self->finish();
      self->do_read();
    });
  }

  // Strand. A streamed response: the header without a length (the body ends when the connection does), its
  // first bytes, then whatever the producer writes through the sink until either side closes. The request
  // counts as answered once the header is out, so Stop() does not wait for a stream to end.
  void start_stream(HttpResponse response) {
    auto header = std::make_shared<http::response<http::empty_body>>();
    header->version(version_);
    header->result(static_cast<unsigned>(response.status));
    header->set(http::field::server, "flowstone");
    if (!response.content_type.empty()) header->set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) header->insert(name, value);
    header->keep_alive(false);
    lowest().expires_after(core_->options.io_timeout);
    http::async_write(stream_, *header,
                      [self = this->shared_from_this(), header, open = std::move(response.stream),
                       first = std::move(response.body)](beast::error_code ec, size_t) mutable {
                        self->core_->end_request();
                        if (ec) return self->close();
                        self->lowest().expires_never();
                        self->watch_reader();
                        if (!first.empty()) self->post_chunk(std::move(first));
                        open(std::make_shared<SessionSink>(self->weak_from_this()));
                      });
  }

  // Strand. Writes the oldest queued chunk; the next follows when it is out.
  void write_chunk() {
    lowest().expires_after(core_->options.io_timeout);
    asio::async_write(stream_, asio::buffer(chunks_.front()),
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        self->queued_bytes_.fetch_sub(self->chunks_.front().size());
                        self->chunks_.pop_front();
                        if (ec) return self->close();
                        if (!self->chunks_.empty()) return self->write_chunk();
                        self->lowest().expires_never();
                      });
  }

  // Strand. While a response streams, reading tells when the client goes away (it sends nothing else).
  void watch_reader() {
    stream_.async_read_some(asio::buffer(discard_buffer_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t) {
                              if (ec || !self->core_->is_alive()) return self->close();
                              self->watch_reader();
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
    lowest().expires_after(core_->options.io_timeout);
    http::async_write(stream_, *out, [self = this->shared_from_this(), out](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->linger();
    });
  }

  // Discards what the client still sends (e.g. the rest of a refused body) for a short while: closing
  // with unread input would reset the connection and could destroy the error response before the
  // client reads it. A plain connection is half-closed first, so the client sees the end at once.
  void linger() {
    if constexpr (!kTls) {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    buffer_.consume(buffer_.size());
    discarded_ = 0;
    lowest().expires_after(kLingerTimeout);
    discard();
  }

  void discard() {
    if (!core_->is_alive()) return close();
    stream_.async_read_some(asio::buffer(discard_buffer_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->discarded_ += n;
                              if (ec || self->discarded_ > kLingerLimit) return self->close();
                              self->discard();
                            });
  }

  Stream stream_;
  asio::any_io_executor strand_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string peer_certificate_;  // TLS: the verified client certificate's subject
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;
  size_t discarded_ = 0;
  char discard_buffer_[8192];
  std::deque<std::string> chunks_;  // a streamed response's chunks not yet written (strand)
  std::atomic<size_t> queued_bytes_{0};
  std::atomic<bool> closed_{false};
};

using PlainSession = Session<beast::tcp_stream>;
using TlsSession = Session<beast::ssl_stream<beast::tcp_stream>>;

// With TLS configured: reads a connection's first bytes and hands it to a TLS or a plain session.
class Detector : public Connection, public std::enable_shared_from_this<Detector> {
 public:
  Detector(std::shared_ptr<Core> core, tcp::socket&& socket)
      : Connection(std::move(core)), stream_(std::move(socket)) {}

  void start() {
    enroll(weak_from_this());
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->stream_.expires_after(self->core_->options.header_timeout);
      beast::async_detect_ssl(self->stream_, self->buffer_, [self](beast::error_code ec, bool tls) {
        if (ec) return self->close();
        if (tls) {
          std::make_shared<TlsSession>(self->core_, std::move(self->buffer_), std::move(self->stream_),
                                       self->core_->options.tls->native())
              ->start();
        } else {
          std::make_shared<PlainSession>(self->core_, std::move(self->buffer_), std::move(self->stream_))
              ->start();
        }
      });
    });
  }

  void close() override {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

// The shared state of one Responder: answers once; if the last copy goes away unanswered, answers 500.
class ResponderState {
 public:
  explicit ResponderState(std::shared_ptr<Answerable> session) : session_(std::move(session)) {}
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
    std::shared_ptr<Answerable> session = std::move(session_);
    if (session) session->post_response(std::move(response));
  }

 private:
  std::atomic<bool> called_{false};
  std::shared_ptr<Answerable> session_;
};

Responder make_responder(std::shared_ptr<Answerable> session) {
  auto state = std::make_shared<ResponderState>(std::move(session));
  return [state](HttpResponse response) { state->respond(std::move(response)); };
}

}  // namespace

HttpResponse error_response(int status, int code, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.body = envelope_text(code, message);
  return response;
}

void start_connection(const std::shared_ptr<Core>& core, tcp::socket&& socket) {
  if (core->options.tls) {
    std::make_shared<Detector>(core, std::move(socket))->start();
  } else {
    std::make_shared<PlainSession>(core, beast::flat_buffer(), std::move(socket))->start();
  }
}

}  // namespace flowstone::net::http_detail
