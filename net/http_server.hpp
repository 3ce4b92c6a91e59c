// HttpServer: the Boost.Beast HTTP/1.1 edge, plain or TLS. One session object per connection (lifetime held
// by shared_from_this), keep-alive, header and body limits enforced while reading (a larger body is refused
// with 413 and a JSON envelope, without reading it whole), and any request handed to one Handler.
//
// Thread rules: the handler runs on an I/O thread and must not block: it hands the request to actors and
// returns. The Responder it gets may be called exactly once, from any thread; it posts the response to
// the connection's strand. A responder dropped without being called answers 500 with a JSON envelope.
// Stop() stops accepting, lets in-flight requests finish for up to `drain` and joins the I/O threads.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowstone::net {

class TlsContext;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent, e.g. "/v2/job/query?job_id=1"
  std::string path;    // decoded path without the query, trailing '/' removed (except "/")
  std::multimap<std::string, std::string> query;  // decoded query parameters
  std::map<std::string, std::string> headers;     // names lower-cased
  std::string body;
  std::string remote_address;    // the peer's IP address as text ("127.0.0.1", "::1"); "" if unknown
  bool tls = false;              // arrived over TLS
  std::string peer_certificate;  // subject of the client's verified TLS certificate; "" when none

  // First value of a query parameter, or nullptr.
  const std::string* query_param(const std::string& name) const;
  const std::string* header(const std::string& lower_name) const;
};

// Where a streamed response's body goes (server-sent events). Any thread; write() queues a chunk and returns
// false once the connection is gone or its reader is too slow (more than 4 MiB unsent: the connection is
// closed), and the producer then drops the sink. backlog() is what is queued and not yet sent, so a producer
// can wait for a slow reader instead of overrunning it. The stream ends when either side closes; a client
// that half-closes its sending side counts as gone.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual bool write(std::string chunk) = 0;
  virtual size_t backlog() const = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (e.g. Content-Disposition)
  int code = 0;  // the envelope's code, for metrics (not sent as such)
  // Set: a streamed response. The header goes out without a length (the body ends when the connection
  // closes), then the session hands its sink to this function, on the connection's I/O strand (it must not
  // block: keep the sink and write from elsewhere); `body` is written first.
  std::function<void(std::shared_ptr<StreamSink>)> stream;
};

using Responder = std::function<void(HttpResponse)>;
using Handler = std::function<void(HttpRequest&& request, Responder respond)>;

// Parses one whole request from `bytes` as a session does (the same header and body limits, the same
// HttpRequest); false with why when it is malformed, incomplete or over a limit. The fuzz target's door.
bool parse_request(std::string_view bytes, size_t body_limit, HttpRequest* out, std::string* error);

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 9380;  // 0: pick a free port (see HttpServer::port())
  int threads = 1;
  size_t body_limit = 64 << 20;
  std::chrono::milliseconds drain{3000};
  // How long a connection may take to send a request's header, waiting for it included: an idle keep-alive
  // connection, or one that dribbles its header (slowloris), is closed after this.
  std::chrono::milliseconds header_timeout{20000};
  // How long the body may take after its header (uploads are large), and writing a response.
  std::chrono::milliseconds io_timeout{60000};
  // Null: plain HTTP. Set: a connection whose first bytes are a TLS handshake speaks TLS with this context,
  // any other plain HTTP; requests say which (HttpRequest::tls), and the handler decides what each may do.
  std::shared_ptr<const TlsContext> tls;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the I/O threads. Returns an error message, empty on success.
  std::string Start();
  uint16_t port() const;
  void Stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace flowstone::net
