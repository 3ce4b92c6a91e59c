// The HTTP server's listener and its start and stop; the connections are in http_session.cpp, what both
// share in http_core.hpp (with its lifetime rules).
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
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

#include "net/http_core.hpp"

namespace flowstone::net {

namespace {

namespace beast = boost::beast;
using namespace http_detail;

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
                                 start_connection(core, std::move(socket));
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
  std::vector<std::shared_ptr<Connection>> connections;
  {
    std::lock_guard<std::mutex> lock(core->mu);
    for (auto& [raw, weak] : core->connections) {
      if (auto connection = weak.lock()) connections.push_back(std::move(connection));
    }
  }
  for (auto& connection : connections) connection->close();
  connections.clear();
  core->ioc->restart();
  core->ioc->run_for(std::chrono::seconds(2));
}

}  // namespace flowstone::net
