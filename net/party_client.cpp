// PartyClient: the worker threads take calls from one ready queue ordered by not-before time. A lane's
// next call enters the queue only once the previous one is answered, so a lane never has two calls
// queued or in flight at once. A failed attempt puts its call back with a later not-before time rather
// than sleeping on the thread, and an idle worker waits for the earliest not-before time with
// wait_until. Each worker keeps its own keep-alive connections (one KeepAliveClient per worker).
#include "net/party_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/http_client.hpp"
#include "net/json_io.hpp"

namespace flowstone::net {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kErrorBodyExcerpt = 200;  // bytes of a non-2xx reply quoted in the error

struct Job {
  PartyCall call;
  PartyAnswerCallback done;
  std::optional<PartyAddress> address;  // nullopt: no route and no proxy, answered without sending
  std::string body_text;                // serialised at the first attempt, on a worker thread
  Clock::time_point first_attempt;
  std::chrono::milliseconds backoff{0};
  int attempts = 0;
  std::string last_error;
};

std::string describe_call(const Job& job) {
  return "POST " + job.address->host + ":" + std::to_string(job.address->port) + "/v2/" + job.call.endpoint +
         " (party " + job.call.dest_party_id + ")";
}

// What one attempt gave: a final answer, or the error that makes the call worth another try.
struct Outcome {
  std::optional<PartyAnswer> answer;
  std::string error;
};

Outcome attempt(KeepAliveClient& http, const Job& job, std::chrono::milliseconds timeout) {
  HttpCall request;
  request.method = "POST";
  request.host = job.address->host;
  request.port = job.address->port;
  const std::string& endpoint = job.call.endpoint;
  request.target = "/v2/" + endpoint.substr(!endpoint.empty() && endpoint[0] == '/' ? 1 : 0);
  request.body = job.body_text;
  request.content_type = "application/json";  // the body is never empty: at least "{}" or "null"
  request.headers["dest-party-id"] = job.call.dest_party_id;
  request.headers["service"] = "fateflow";
  request.headers["initiator-party-id"] = job.call.initiator_party_id;
  if (!job.call.idempotency_key.empty()) {
    request.headers["x-flowstone-idempotency-key"] = job.call.idempotency_key;
  }
  request.timeout = timeout;

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

PartyAnswer federated_error(std::string why, int attempts) {
  PartyAnswer answer;
  answer.code = kFederatedError;
  answer.message = "Federated schedule error, " + why;
  answer.reply = envelope(to_int(answer.code), answer.message);
  answer.attempts = attempts;
  return answer;
}

}  // namespace

struct PartyClient::Impl {
  explicit Impl(PartyClientOptions opts) : options(std::move(opts)) {}

  // mu held. Queues `job` to be attempted from `not_before` on.
  void Schedule(Clock::time_point not_before, std::unique_ptr<Job> job) {
    ready.emplace(std::make_pair(not_before, sequence++), std::move(job));
    wake.notify_one();
  }

  // mu held on entry and on return. Answers outside the lock, then lets the next call of the lane go.
  void Finish(std::unique_ptr<Job> job, PartyAnswer answer, std::unique_lock<std::mutex>& lock) {
    --pending;  // before the answer, so that whoever sees the answer sees the count without the call
    lock.unlock();
    if (job->done) {
      try {
        job->done(std::move(answer));
      } catch (const std::exception& e) {
        spdlog::error("party client: answer callback failed: {}", e.what());
      }
    }
    lock.lock();
    if (!job->address) return;  // never entered its lane
    auto lane = lanes.find(job->call.lane);
    if (lane == lanes.end()) return;
    if (lane->second.empty()) {
      lanes.erase(lane);
      return;
    }
    std::unique_ptr<Job> next = std::move(lane->second.front());
    lane->second.pop_front();
    Schedule(Clock::now(), std::move(next));
  }

  void Work(KeepAliveClient& http) {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      if (stopping) return;
      if (ready.empty()) {
        wake.wait(lock);
        continue;
      }
      auto first = ready.begin();
      const Clock::time_point not_before = first->first.first;
      if (Clock::now() < not_before) {
        wake.wait_until(lock, not_before);
        continue;
      }
      std::unique_ptr<Job> job = std::move(first->second);
      ready.erase(first);
      // Another idle worker, if any, now watches the next entry.
      if (!ready.empty()) wake.notify_one();

      if (!job->address) {
        PartyAnswer answer = federated_error("no route to party " + job->call.dest_party_id, 0);
        Finish(std::move(job), std::move(answer), lock);
        continue;
      }
      if (job->attempts == 0) {
        job->first_attempt = Clock::now();
        job->backoff = options.backoff_initial;
      }
      ++job->attempts;
      lock.unlock();
      if (job->attempts == 1) {
        job->body_text = job->call.body.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
      }
      Outcome outcome = attempt(http, *job, options.attempt_timeout);
      if (!outcome.answer) {
        job->last_error = describe_call(*job) + ": " + outcome.error;
        spdlog::debug("party client: attempt {} failed: {}", job->attempts, job->last_error);
      }
      lock.lock();
      if (stopping) {
        lock.unlock();  // the dropped call's callback is destroyed outside the lock
        return;
      }

      if (outcome.answer) {
        outcome.answer->attempts = job->attempts;
        Finish(std::move(job), std::move(*outcome.answer), lock);
        continue;
      }
      const Clock::time_point now = Clock::now();
      const Clock::time_point give_up_at = job->first_attempt + job->call.give_up_after;
      if (now < give_up_at) {
        // The last retry is made at the end of the window rather than after it.
        const Clock::time_point retry_at = std::min(now + job->backoff, give_up_at);
        job->backoff =
            std::max(std::chrono::milliseconds(1), std::min(job->backoff * 2, options.backoff_max));
        Schedule(retry_at, std::move(job));
        continue;
      }
      spdlog::warn("party client: giving up after {} attempts in {} ms: {}", job->attempts,
                   job->call.give_up_after.count(), job->last_error);
      PartyAnswer answer = federated_error(job->last_error, job->attempts);
      Finish(std::move(job), std::move(answer), lock);
    }
  }

  const PartyClientOptions options;  // immutable: Resolve reads it without the lock

  std::mutex lifecycle;  // Stop
  mutable std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;
  size_t pending = 0;
  uint64_t sequence = 0;  // equal not-before times keep submission order
  std::map<std::pair<Clock::time_point, uint64_t>, std::unique_ptr<Job>> ready;
  // A lane is present while one of its calls is ready, waiting for a retry or in flight; the deque
  // holds the calls behind that one.
  std::unordered_map<std::string, std::deque<std::unique_ptr<Job>>> lanes;
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

void PartyClient::Send(PartyCall call, PartyAnswerCallback done) {
  auto job = std::make_unique<Job>();
  job->address = Resolve(call.dest_party_id);
  job->call = std::move(call);
  job->done = std::move(done);
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->stopping) return;
  ++impl_->pending;
  if (job->address) {
    auto [lane, idle] = impl_->lanes.try_emplace(job->call.lane);
    if (!idle) {
      lane->second.push_back(std::move(job));
      return;
    }
  }
  impl_->Schedule(Clock::now(), std::move(job));
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
  std::map<std::pair<Clock::time_point, uint64_t>, std::unique_ptr<Job>> ready;
  std::unordered_map<std::string, std::deque<std::unique_ptr<Job>>> lanes;
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    ready.swap(impl.ready);
    lanes.swap(impl.lanes);
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

size_t PartyClient::Pending() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->pending;
}

}  // namespace flowstone::net
