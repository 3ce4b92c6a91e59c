// Proxy handler: the I/O thread answers what needs no upstream (no header, unknown party) and queues the
// rest; forwarding threads take the queued requests in arrival order. The queue is shared with the
// threads by a shared_ptr of their own, because the handler's last copy may go away on any thread, a
// forwarding thread included: a Responder keeps the server's core alive, and with it the handler.
#include "net/proxy_handler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "net/http_client.hpp"
#include "net/json_io.hpp"

namespace flowstone::net {
namespace {

// Hop-by-hop headers (RFC 7230 6.1) and the framing Beast rebuilds: not forwarded in either direction.
const std::set<std::string> kHopByHop = {
    "connection", "content-length", "keep-alive",        "proxy-connection",
    "te",         "trailer",        "transfer-encoding", "upgrade"};

struct Forward {
  HttpRequest request;
  std::string party;
  PartyAddress upstream;
  Responder respond;
};

struct ForwardQueue {
  std::chrono::milliseconds upstream_timeout{0};
  std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;
  std::deque<Forward> requests;
  std::vector<std::unique_ptr<KeepAliveClient>> clients;  // one per thread; fixed before they start
};

HttpResponse error_reply(int status, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.body = envelope_text(to_int(kFederatedError), message);
  return response;
}

HttpResponse forward(KeepAliveClient& http, Forward& job, std::chrono::milliseconds timeout) {
  HttpCall call;
  call.method = job.request.method;
  call.host = job.upstream.host;
  call.port = job.upstream.port;
  call.target = job.request.target;
  call.body = std::move(job.request.body);
  call.content_type.clear();  // forwarded with the other headers when the request has one
  for (const auto& [name, value] : job.request.headers) {
    if (name != "host" && !kHopByHop.count(name)) call.headers[name] = value;
  }
  call.timeout = timeout;

  HttpResult result = http.Call(call);
  if (!result.ok) {
    std::string message = "party " + job.party + " at " + job.upstream.host + ":" +
                          std::to_string(job.upstream.port) + " unreachable: " + result.error;
    spdlog::warn("proxy: {} {}: {}", job.request.method, job.request.target, message);
    return error_reply(502, message);
  }
  HttpResponse response;
  response.status = result.status;
  response.content_type = result.content_type;
  response.body = std::move(result.body);
  for (auto& [name, value] : result.headers) {
    // HttpResponse carries the content type; the server names itself.
    if (name != "content-type" && name != "server" && !kHopByHop.count(name)) {
      response.headers.emplace_back(name, std::move(value));
    }
  }
  return response;
}

void forward_loop(std::shared_ptr<ForwardQueue> queue, KeepAliveClient* http) {
  std::unique_lock<std::mutex> lock(queue->mu);
  for (;;) {
    queue->wake.wait(lock, [&] { return queue->stopping || !queue->requests.empty(); });
    if (queue->stopping) return;
    {
      Forward job = std::move(queue->requests.front());
      queue->requests.pop_front();
      lock.unlock();
      HttpResponse response = forward(*http, job, queue->upstream_timeout);
      job.respond(std::move(response));
      // `job` is destroyed here, before relocking: its Responder may be the last owner of the handler,
      // and then ~Forwarders runs on this thread and takes the lock.
    }
    lock.lock();
  }
}

// Owned by the handler's copies: stops the threads when the last copy goes.
class Forwarders {
 public:
  explicit Forwarders(const ProxyHandlerOptions& options) : queue_(std::make_shared<ForwardQueue>()) {
    queue_->upstream_timeout = options.upstream_timeout;
    const int threads = std::max(1, options.threads);
    for (int i = 0; i < threads; ++i) queue_->clients.push_back(std::make_unique<KeepAliveClient>());
    for (int i = 0; i < threads; ++i) threads_.emplace_back(forward_loop, queue_, queue_->clients[i].get());
  }

  ~Forwarders() {
    {
      std::lock_guard<std::mutex> lock(queue_->mu);
      queue_->stopping = true;
    }
    queue_->wake.notify_all();
    for (auto& http : queue_->clients) http->Cancel();
    for (auto& thread : threads_) {
      // On a forwarding thread itself: it returns to its loop, sees `stopping` and ends; the queue
      // stays alive through that thread's own shared_ptr.
      if (thread.get_id() == std::this_thread::get_id()) {
        thread.detach();
      } else {
        thread.join();
      }
    }
  }

  Forwarders(const Forwarders&) = delete;
  Forwarders& operator=(const Forwarders&) = delete;

  void Push(Forward job) {
    {
      std::lock_guard<std::mutex> lock(queue_->mu);
      queue_->requests.push_back(std::move(job));
    }
    queue_->wake.notify_one();
  }

 private:
  std::shared_ptr<ForwardQueue> queue_;
  std::vector<std::thread> threads_;
};

}  // namespace

Handler make_proxy_handler(std::map<std::string, PartyAddress> routes, ProxyHandlerOptions options) {
  auto forwarders = std::make_shared<Forwarders>(options);
  return [routes = std::move(routes), forwarders](HttpRequest&& request, Responder respond) {
    const std::string* header = request.header("dest-party-id");
    if (!header || header->empty()) {
      respond(error_reply(400, "missing dest-party-id header"));
      return;
    }
    std::string party = *header;
    auto route = routes.find(party);
    if (route == routes.end()) {
      respond(error_reply(404, "no route to party " + party));
      return;
    }
    forwarders->Push(Forward{std::move(request), std::move(party), route->second, std::move(respond)});
  };
}

}  // namespace flowstone::net
