// PartyClient: the worker threads take attempts from one FIFO queue; each worker keeps its own keep-alive
// connections (one KeepAliveClient per worker), so a slow party holds one worker, not the others.
#include "net/party_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "net/http_client.hpp"
#include "net/json_io.hpp"

namespace flowstone::net {
namespace {

constexpr size_t kErrorBodyExcerpt = 200;  // bytes of a non-2xx reply quoted in the error

struct Job {
  std::shared_ptr<const PartyCall> call;
  PartyAttemptCallback done;
  std::optional<PartyAddress> address;  // nullopt: no route and no proxy, answered without sending
};

std::string describe_call(const Job& job) {
  return std::string("POST ") + (job.address->tls ? "https://" : "") + job.address->host + ":" +
         std::to_string(job.address->port) + "/v2/" + job.call->endpoint + " (party " +
         job.call->dest_party_id + ")";
}

using Outcome = PartyAttempt;

Outcome attempt(KeepAliveClient& http, const Job& job, const PartyClientOptions& options) {
  HttpCall request;
  request.method = "POST";
  request.host = job.address->host;
  request.port = job.address->port;
  const std::string& endpoint = job.call->endpoint;
  request.target = "/v2/" + endpoint.substr(!endpoint.empty() && endpoint[0] == '/' ? 1 : 0);
  request.body = job.call->body.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
  request.content_type = "application/json";  // the body is never empty: at least "{}" or "null"
  request.headers["dest-party-id"] = job.call->dest_party_id;
  request.headers["service"] = "fateflow";
  request.headers["initiator-party-id"] = job.call->initiator_party_id;
  if (!job.call->idempotency_key.empty()) {
    request.headers["x-flowstone-idempotency-key"] = job.call->idempotency_key;
  }
  if (options.sign) options.sign(*job.call, &request.headers);
  request.timeout = options.attempt_timeout;
  if (job.address->tls) {
    if (!options.tls)
      return Outcome{std::nullopt, "no TLS configured to call an https address (flowstone.tls)"};
    request.tls = options.tls;
  }

  Outcome out;
  HttpResult result = http.Call(request);
  if (!result.ok) {
    out.error = result.error;
    return out;
  }
  if (result.status < 200 || result.status > 299) {
    out.error = "HTTP " + std::to_string(result.status);
    if (!result.body.empty()) out.error += ": " + result.body.substr(0, kErrorBodyExcerpt);
    return out;
  }
  std::string parse_error;
  std::optional<Json> reply = parse_json(result.body, &parse_error);
  if (!reply) {
    out.error = "reply is not JSON: " + parse_error;
    return out;
  }
  if (!reply->is_object()) {
    out.error = "reply is not a JSON object";
    return out;
  }
  PartyAnswer answer;
  if (auto code = reply->find("code"); code != reply->end() && !code->is_null()) {
    if (!code->is_number()) {
      out.error = "reply code is not a number";
      return out;
    }
    answer.code = ret_code_of(code->get<int>());
  }
  if (auto message = reply->find("message"); message != reply->end() && !message->is_null()) {
    answer.message = message->is_string() ? message->get<std::string>() : message->dump();
  }
  if (auto data = reply->find("data"); data != reply->end()) answer.data = *data;
  answer.reply = std::move(*reply);
  out.answer = std::move(answer);
  return out;
}

}  // namespace

PartyAnswer federated_error(const std::string& why, int attempts) {
  PartyAnswer answer;
  answer.code = kFederatedError;
  answer.message = "Federated schedule error, " + why;
  answer.reply = envelope(to_int(answer.code), answer.message);
  answer.attempts = attempts;
  return answer;
}

struct PartyClient::Impl {
  explicit Impl(PartyClientOptions opts) : options(std::move(opts)) {}

  void Work(KeepAliveClient& http) {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      wake.wait(lock, [&] { return stopping || !queue.empty(); });
      if (stopping) return;
      Job job = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      Outcome outcome;
      if (!job.address) {
        outcome.error = "no route to party " + job.call->dest_party_id;
      } else {
        const auto start = std::chrono::steady_clock::now();
        outcome = attempt(http, job, options);
        if (options.observe) {
          const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
          options.observe(*job.call, outcome, took.count());
        }
        if (!outcome.answer) outcome.error = describe_call(job) + ": " + outcome.error;
      }
      lock.lock();
      if (stopping) {
        lock.unlock();  // the dropped call's callback is destroyed outside the lock
        return;
      }
      --pending;  // before the answer, so that whoever sees the answer sees the count without the call
      lock.unlock();
      try {
        job.done(std::move(outcome));
      } catch (const std::exception& e) {
        spdlog::error("party client: answer callback failed: {}", e.what());
      }
      job = Job{};  // the callback's captures go outside the lock
      lock.lock();
    }
  }

  const PartyClientOptions options;  // immutable: Resolve reads it without the lock

  std::mutex lifecycle;  // Stop
  mutable std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;
  size_t pending = 0;
  std::deque<Job> queue;
  std::vector<std::unique_ptr<KeepAliveClient>> clients;  // one per worker; fixed before they start
  std::vector<std::thread> threads;
};

PartyClient::PartyClient(PartyClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  const int threads = std::max(1, impl_->options.threads);
  for (int i = 0; i < threads; ++i) impl_->clients.push_back(std::make_unique<KeepAliveClient>());
  for (int i = 0; i < threads; ++i) {
    impl_->threads.emplace_back([impl = impl_.get(), http = impl_->clients[i].get()] { impl->Work(*http); });
  }
}

PartyClient::~PartyClient() {
  Stop();
}

void PartyClient::Attempt(std::shared_ptr<const PartyCall> call, PartyAttemptCallback done) {
  Job job;
  job.address = Resolve(call->dest_party_id);
  job.call = std::move(call);
  job.done = std::move(done);
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopping) return;
    ++impl_->pending;
    impl_->queue.push_back(std::move(job));
  }
  impl_->wake.notify_one();
}

void PartyClient::Stop() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lifecycle(impl.lifecycle);
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    if (impl.stopping) return;
    impl.stopping = true;
  }
  impl.wake.notify_all();
  for (auto& http : impl.clients) http->Cancel();  // an attempt in flight ends now, not at its timeout
  for (auto& thread : impl.threads) thread.join();
  impl.threads.clear();

  // The dropped calls' callbacks are destroyed outside the lock: they may hold anything.
  std::deque<Job> dropped;
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    dropped.swap(impl.queue);
    if (impl.pending > 0) spdlog::debug("party client: stopping with {} call(s) unanswered", impl.pending);
    impl.pending = 0;
  }
}

std::optional<PartyAddress> PartyClient::Resolve(const std::string& dest_party_id) const {
  const PartyClientOptions& options = impl_->options;
  if (dest_party_id == "0") return options.self;
  auto route = options.routes.find(dest_party_id);
  if (route != options.routes.end()) return route->second;
  return options.proxy;
}

bool PartyClient::HasRoute(const std::string& dest_party_id) const {
  return dest_party_id == "0" || impl_->options.routes.count(dest_party_id) > 0;
}

std::vector<std::string> PartyClient::RoutedParties() const {
  std::vector<std::string> out;
  for (const auto& [party_id, address] : impl_->options.routes) out.push_back(party_id);
  return out;
}

size_t PartyClient::Pending() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->pending;
}

}  // namespace flowstone::net
