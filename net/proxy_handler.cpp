// Proxy handler: the I/O thread answers what needs no upstream (no header, unknown party) and queues the
// rest; forwarding threads take the queued requests in arrival order. The queue is shared with the
// threads by a shared_ptr of their own, because the handler's last copy may go away on any thread, a
// forwarding thread included: a Responder keeps the server's core alive, and with it the handler.
#include "net/proxy_handler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
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

// What the fault injector decided for one call.
struct FaultPlan {
  bool cut = false, drop_request = false, drop_answer = false, duplicate = false;
  std::chrono::milliseconds delay{0};
};

struct FaultCounts {
  uint64_t forwarded = 0, cut = 0, dropped_requests = 0, dropped_answers = 0, duplicated = 0, delayed = 0;
};

struct ForwardQueue {
  std::chrono::milliseconds upstream_timeout{0};
  ProxyFaults faults;
  std::mt19937_64 random;                                                  // under mu
  std::map<std::string, std::chrono::steady_clock::time_point> cut_until;  // under mu
  FaultCounts counts;                                                      // under mu
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

// Under queue.mu: the faults of one call, drawn from the seeded generator.
FaultPlan plan_faults(ForwardQueue& queue, const std::string& party) {
  FaultPlan plan;
  auto cut = queue.cut_until.find(party);
  if (cut != queue.cut_until.end() && std::chrono::steady_clock::now() < cut->second) {
    plan.cut = true;
    ++queue.counts.cut;
    return plan;
  }
  ++queue.counts.forwarded;
  const ProxyFaults& f = queue.faults;
  if (!f.any()) return plan;
  std::uniform_real_distribution<double> share(0.0, 1.0);
  plan.drop_request = share(queue.random) < f.drop_request;
  plan.drop_answer = !plan.drop_request && share(queue.random) < f.drop_answer;
  plan.duplicate = !plan.drop_request && share(queue.random) < f.duplicate;
  if (share(queue.random) < f.delay)
    plan.delay = std::chrono::milliseconds(
        std::uniform_int_distribution<int64_t>(0, f.max_delay.count())(queue.random));
  queue.counts.dropped_requests += plan.drop_request;
  queue.counts.dropped_answers += plan.drop_answer;
  queue.counts.duplicated += plan.duplicate;
  queue.counts.delayed += plan.delay.count() > 0;
  return plan;
}

HttpResponse forward(KeepAliveClient& http, const Forward& job, std::chrono::milliseconds timeout) {
  HttpCall call;
  call.method = job.request.method;
  call.host = job.upstream.host;
  call.port = job.upstream.port;
  call.target = job.request.target;
  call.body = job.request.body;
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

HttpResponse forward_with_faults(KeepAliveClient& http, const Forward& job, const FaultPlan& plan,
                                 std::chrono::milliseconds timeout) {
  const std::string call = job.request.method + " " + job.request.target + " to party " + job.party;
  if (plan.cut) return error_reply(502, "party " + job.party + " is cut off by the fault proxy");
  if (plan.delay.count() > 0) std::this_thread::sleep_for(plan.delay);  // a forwarding thread of our own
  if (plan.drop_request) {
    spdlog::info("proxy fault: dropped {}", call);
    return error_reply(502, "request dropped by the fault proxy");
  }
  HttpResponse response = forward(http, job, timeout);
  if (plan.duplicate) {
    spdlog::info("proxy fault: delivered {} twice", call);
    forward(http, job, timeout);
  }
  if (plan.drop_answer) {
    spdlog::info("proxy fault: dropped the answer to {}", call);
    return error_reply(502, "answer dropped by the fault proxy");
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
      const FaultPlan plan = plan_faults(*queue, job.party);
      lock.unlock();
      job.respond(forward_with_faults(*http, job, plan, queue->upstream_timeout));
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
    queue_->faults = options.faults;
    queue_->random.seed(options.faults.seed);
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

  // The control routes: a cut, and the counts.
  HttpResponse Control(const HttpRequest& request) {
    std::lock_guard<std::mutex> lock(queue_->mu);
    if (request.path == "/_proxy/stats" && request.method == "GET") {
      const FaultCounts& c = queue_->counts;
      HttpResponse response;
      response.body = envelope_text(0, "success",
                                    Json{{"forwarded", c.forwarded},
                                         {"cut", c.cut},
                                         {"dropped_requests", c.dropped_requests},
                                         {"dropped_answers", c.dropped_answers},
                                         {"duplicated", c.duplicated},
                                         {"delayed", c.delayed}});
      return response;
    }
    if (request.path == "/_proxy/cut" && request.method == "POST") {
      const std::string* party = request.query_param("party");
      const std::string* ms = request.query_param("ms");
      char* end = nullptr;
      const long long millis = ms ? std::strtoll(ms->c_str(), &end, 10) : -1;
      if (!party || party->empty()) return error_reply(400, "cut: the query needs party=ID");
      if (!ms || ms->empty() || *end != '\0' || millis < 0)
        return error_reply(400, "cut: the query needs ms=N (milliseconds, 0 or more)");
      queue_->cut_until[*party] = std::chrono::steady_clock::now() + std::chrono::milliseconds(millis);
      HttpResponse response;
      response.body = envelope_text(0, "party " + *party + " cut off for " + *ms + " ms");
      return response;
    }
    return error_reply(404, "unknown proxy control route " + request.method + " " + request.path);
  }

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
    if (request.path.rfind("/_proxy/", 0) == 0) return respond(forwarders->Control(request));
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
