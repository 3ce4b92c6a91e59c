// The parts of the HTTP server its listener (http_server.cpp) and its connections (http_session.cpp) share:
// the Core, and the Connection interface through which Stop() closes every socket. Internal to net/.
//
// Lifetime rules:
// * Core owns the io_context (through a shared_ptr) and everything shared by sessions and responders.
//   Connections hold the Core, so the io_context outlives every socket, even a session kept alive only by
//   a responder that the application still holds after the server is gone.
// * A responder never touches asio once the I/O threads are stopped (Core::alive, checked under the
//   Core mutex): a late answer is dropped instead of being posted into a dead context.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "net/http_server.hpp"

namespace flowstone::net::http_detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Connection;

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
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;  // open sockets Stop() closes

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

// Anything holding a socket that Stop() must be able to close: enrolled while alive.
class Connection {
 public:
  explicit Connection(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  virtual ~Connection() {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->connections.erase(this);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Strand (or a stopped context): closes the socket at once.
  virtual void close() = 0;

 protected:
  void enroll(std::weak_ptr<Connection> self) {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->connections.emplace(this, std::move(self));
  }

  std::shared_ptr<Core> core_;  // a base: destroyed after the socket, so the io_context outlives it
};

// Starts serving an accepted connection: a plain session, or with TLS configured a detector that picks.
void start_connection(const std::shared_ptr<Core>& core, tcp::socket&& socket);

HttpResponse error_response(int status, int code, const std::string& message);

}  // namespace flowstone::net::http_detail
