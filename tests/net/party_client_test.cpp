// PartyClient and the party proxy against real HttpServers on 127.0.0.1 (port 0 unless a test needs a
// known free port). Waits are for events ("the server has seen the request"), with generous upper bounds.
#include "net/party_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "net/json_io.hpp"
#include "net/proxy_handler.hpp"

namespace flowstone {
inline void PrintTo(RetCode code, std::ostream* os) {
  *os << to_int(code);
}
}  // namespace flowstone

namespace flowstone::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kEventually = 20s;

std::unique_ptr<HttpServer> start_server(Handler handler, uint16_t port = 0, int threads = 2) {
  HttpServerOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.threads = threads;
  auto server = std::make_unique<HttpServer>(options, std::move(handler));
  std::string error = server->Start();
  EXPECT_EQ(error, "");
  return server;
}

// A port nothing listens on (one the kernel just handed out and that was closed again).
uint16_t free_port() {
  auto server = start_server([](HttpRequest&&, Responder respond) { respond(HttpResponse{}); });
  uint16_t port = server->port();
  server->Stop();
  return port;
}

HttpResponse reply(int code, const std::string& message, Json data = nullptr, Json extra = Json::object()) {
  HttpResponse response;
  response.body = envelope_text(code, message, std::move(data), std::move(extra));
  return response;
}

Json parse(const std::string& text) {
  std::string error;
  std::optional<Json> json = parse_json(text, &error);
  EXPECT_TRUE(json) << error << " in " << text;
  return json ? *json : Json();
}

PartyAddress local(uint16_t port) {
  return PartyAddress{"127.0.0.1", port};
}

PartyClientOptions fast_options() {
  PartyClientOptions options;
  options.threads = 4;
  options.attempt_timeout = 5000ms;
  options.backoff_initial = 20ms;
  options.backoff_max = 200ms;
  return options;
}

PartyCall call_to(std::string dest, std::string lane = "lane", Json body = Json::object()) {
  PartyCall call;
  call.lane = std::move(lane);
  call.dest_party_id = std::move(dest);
  call.endpoint = "partner/job/create";
  call.body = std::move(body);
  call.give_up_after = 10000ms;
  return call;
}

std::future<PartyAnswer> send(PartyClient& client, PartyCall call) {
  auto promise = std::make_shared<std::promise<PartyAnswer>>();
  std::future<PartyAnswer> answer = promise->get_future();
  client.Send(std::move(call), [promise](PartyAnswer a) { promise->set_value(std::move(a)); });
  return answer;
}

PartyAnswer await(std::future<PartyAnswer>& answer) {
  if (answer.wait_for(kEventually) != std::future_status::ready) {
    ADD_FAILURE() << "no answer within " << kEventually.count() << " s";
    return PartyAnswer{};
  }
  return answer.get();
}

// What a server saw, and a way to wait until it has seen enough.
class Recorder {
 public:
  void Add(const HttpRequest& request) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    changed_.notify_all();
  }
  bool WaitFor(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, kEventually, [&] { return requests_.size() >= count; });
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<HttpRequest> requests_;
};

// Holds responders of requests the test answers later (for calls that must stay in flight).
class HeldResponses {
 public:
  void Hold(Responder respond) {
    std::lock_guard<std::mutex> lock(mu_);
    held_.push_back(std::move(respond));
  }
  void ReleaseAll(const HttpResponse& response) {
    std::vector<Responder> held;
    {
      std::lock_guard<std::mutex> lock(mu_);
      held.swap(held_);
    }
    for (auto& respond : held) respond(response);
  }

 private:
  std::mutex mu_;
  std::vector<Responder> held_;
};

TEST(PartyClient, SendsFateFlowHeadersAndBodyAndAnswersWithTheReply) {
  Recorder seen;
  auto server = start_server([&](HttpRequest&& request, Responder respond) {
    seen.Add(request);
    respond(reply(0, "success", {{"x", 1}}, {{"job_id", "202401010000000001"}}));
  });
  PartyClientOptions options = fast_options();
  options.routes["10000"] = local(server->port());
  PartyClient client(options);

  PartyCall call = call_to("10000", "lane", {{"job_id", "j1"}, {"roles", {1, 2}}, {"name", "é"}});
  call.initiator_party_id = "9999";
  call.idempotency_key = "create-j1-10000";
  auto first = send(client, call);
  PartyAnswer answer = await(first);
  EXPECT_EQ(answer.code, RetCode::success);
  EXPECT_EQ(answer.message, "success");
  EXPECT_EQ(answer.data, Json({{"x", 1}}));
  EXPECT_EQ(answer.reply["job_id"], "202401010000000001");
  EXPECT_EQ(answer.attempts, 1);

  // Without an initiator or idempotency key: the initiator header is still sent, empty; the key is not.
  auto second = send(client, call_to("10000"));
  EXPECT_EQ(await(second).code, RetCode::success);

  std::vector<HttpRequest> requests = seen.requests();
  ASSERT_EQ(requests.size(), 2u);
  const HttpRequest& with = requests[0];
  EXPECT_EQ(with.method, "POST");
  EXPECT_EQ(with.target, "/v2/partner/job/create");
  EXPECT_EQ(with.headers.at("content-type"), "application/json");
  EXPECT_EQ(with.headers.at("dest-party-id"), "10000");
  EXPECT_EQ(with.headers.at("service"), "fateflow");
  EXPECT_EQ(with.headers.at("initiator-party-id"), "9999");
  EXPECT_EQ(with.headers.at("x-flowstone-idempotency-key"), "create-j1-10000");
  EXPECT_EQ(parse(with.body), call.body);
  const HttpRequest& without = requests[1];
  ASSERT_TRUE(without.headers.count("initiator-party-id"));
  EXPECT_EQ(without.headers.at("initiator-party-id"), "");
  EXPECT_FALSE(without.headers.count("x-flowstone-idempotency-key"));
  EXPECT_EQ(parse(without.body), Json::object());
  EXPECT_EQ(client.Pending(), 0u);
}

TEST(PartyClient, NonZeroCodeIsFinal) {
  std::atomic<int> requests{0};
  auto server = start_server([&](HttpRequest&&, Responder respond) {
    ++requests;
    respond(reply(103, "job already exists"));
  });
  PartyClientOptions options = fast_options();
  options.routes["10000"] = local(server->port());
  PartyClient client(options);

  auto pending = send(client, call_to("10000"));
  PartyAnswer answer = await(pending);
  EXPECT_EQ(answer.code, ret_code_of(103));
  EXPECT_EQ(answer.message, "job already exists");
  EXPECT_EQ(answer.attempts, 1);
  // Several backoff periods later there is still one request.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(requests.load(), 1);
}

TEST(PartyClient, OneLaneDeliversInOrderOneAtATime) {
  std::atomic<int> in_flight{0};
  std::atomic<bool> overlapped{false};
  std::mutex mu;
  std::vector<int> arrived;
  // Four I/O threads: the server itself could run requests side by side if the client sent them so.
  auto server = start_server(
      [&](HttpRequest&& request, Responder respond) {
        if (in_flight.fetch_add(1) != 0) overlapped = true;
        {
          std::lock_guard<std::mutex> lock(mu);
          arrived.push_back(parse(request.body)["i"].get<int>());
        }
        std::this_thread::sleep_for(1ms);  // test only: widens the window in which an overlap would show
        in_flight.fetch_sub(1);
        respond(reply(0, "success"));
      },
      0, 4);
  PartyClientOptions options = fast_options();
  options.routes["10000"] = local(server->port());
  PartyClient client(options);

  constexpr int kCalls = 50;
  std::vector<int> answered;
  std::promise<void> all_answered;
  for (int i = 0; i < kCalls; ++i) {
    client.Send(call_to("10000", "job-1", {{"i", i}}), [&, i](PartyAnswer answer) {
      EXPECT_EQ(answer.code, RetCode::success);
      std::lock_guard<std::mutex> lock(mu);
      answered.push_back(i);
      if (answered.size() == kCalls) all_answered.set_value();
    });
  }
  ASSERT_EQ(all_answered.get_future().wait_for(kEventually), std::future_status::ready);
  std::vector<int> expected;
  for (int i = 0; i < kCalls; ++i) expected.push_back(i);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(arrived, expected);
  EXPECT_EQ(answered, expected);
  EXPECT_FALSE(overlapped.load());
}

TEST(PartyClient, LanesRunInParallelAndASlowLaneHoldsOnlyItself) {
  Recorder seen;
  HeldResponses held;
  auto server = start_server([&](HttpRequest&& request, Responder respond) {
    // Recorded after it is held and before it is answered: once the test sees a request, it may
    // release it, and an answer implies the request was recorded.
    if (parse(request.body)["lane"] == "A") {
      held.Hold(std::move(respond));  // lane A's server is slow: answered when the test says so
      seen.Add(request);
    } else {
      seen.Add(request);
      respond(reply(0, "success"));
    }
  });
  PartyClientOptions options = fast_options();
  options.threads = 2;
  options.routes["10000"] = local(server->port());
  PartyClient client(options);

  auto a1 = send(client, call_to("10000", "A", {{"lane", "A"}, {"n", 1}}));
  auto a2 = send(client, call_to("10000", "A", {{"lane", "A"}, {"n", 2}}));
  ASSERT_TRUE(seen.WaitFor(1));
  auto b = send(client, call_to("10000", "B", {{"lane", "B"}}));
  EXPECT_EQ(await(b).code, RetCode::success);
  EXPECT_EQ(a1.wait_for(0ms), std::future_status::timeout);
  // a2 waits behind a1: the server has seen a1 and b only.
  std::vector<HttpRequest> requests = seen.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(parse(requests[0].body)["n"], 1);
  EXPECT_EQ(client.Pending(), 2u);

  held.ReleaseAll(reply(0, "success"));
  EXPECT_EQ(await(a1).code, RetCode::success);
  ASSERT_TRUE(seen.WaitFor(3));
  held.ReleaseAll(reply(0, "success"));
  EXPECT_EQ(await(a2).code, RetCode::success);
  EXPECT_EQ(parse(seen.requests()[2].body)["n"], 2);
}

TEST(PartyClient, RetriesUntilTheServerListens) {
  const uint16_t port = free_port();
  PartyClientOptions options = fast_options();
  options.backoff_initial = 50ms;
  options.routes["10000"] = local(port);
  PartyClient client(options);

  auto pending = send(client, call_to("10000"));
  std::this_thread::sleep_for(500ms);
  auto server = start_server([](HttpRequest&&, Responder respond) { respond(reply(0, "success")); }, port);
  PartyAnswer answer = await(pending);
  EXPECT_EQ(answer.code, RetCode::success);
  EXPECT_GT(answer.attempts, 1);
}

TEST(PartyClient, GivesUpWithFederatedErrorWhenNothingListens) {
  const uint16_t port = free_port();
  PartyClientOptions options = fast_options();
  options.backoff_initial = 50ms;
  options.routes["10000"] = local(port);
  PartyClient client(options);

  PartyCall call = call_to("10000");
  call.give_up_after = 800ms;
  const Clock::time_point start = Clock::now();
  auto pending = send(client, call);
  PartyAnswer answer = await(pending);
  EXPECT_GE(Clock::now() - start, 800ms);  // the whole window is used, measured from the first attempt
  EXPECT_EQ(answer.code, kFederatedError);
  EXPECT_EQ(answer.message.rfind("Federated schedule error, ", 0), 0u) << answer.message;
  EXPECT_NE(answer.message.find("connection refused"), std::string::npos) << answer.message;
  EXPECT_GT(answer.attempts, 2);
  EXPECT_EQ(answer.reply["code"], kFederatedError);
  EXPECT_EQ(client.Pending(), 0u);
}

TEST(PartyClient, NoRouteIsAnsweredAtOnceEvenBehindABusyLane) {
  Recorder seen;
  HeldResponses held;
  auto server = start_server([&](HttpRequest&& request, Responder respond) {
    held.Hold(std::move(respond));
    seen.Add(request);
  });
  PartyClientOptions options = fast_options();
  options.routes["9999"] = local(server->port());
  PartyClient client(options);
  EXPECT_FALSE(client.Resolve("10000"));

  auto busy = send(client, call_to("9999", "job-1"));
  ASSERT_TRUE(seen.WaitFor(1));
  auto unroutable = send(client, call_to("10000", "job-1"));
  PartyAnswer answer = await(unroutable);
  EXPECT_EQ(answer.code, kFederatedError);
  EXPECT_NE(answer.message.find("no route to party 10000"), std::string::npos) << answer.message;
  EXPECT_EQ(answer.attempts, 0);
  held.ReleaseAll(reply(0, "success"));
  EXPECT_EQ(await(busy).code, RetCode::success);
}

TEST(PartyClient, ResolvesSelfThenRouteThenProxy) {
  PartyClientOptions options;
  options.self = local(9380);
  options.routes["9999"] = local(9381);
  PartyClient direct(options);
  EXPECT_EQ(direct.Resolve("0")->port, 9380);
  EXPECT_EQ(direct.Resolve("9999")->port, 9381);
  EXPECT_FALSE(direct.Resolve("10000"));
  options.proxy = PartyAddress{"proxy.example", 9370};
  PartyClient proxied(options);
  EXPECT_EQ(proxied.Resolve("9999")->port, 9381);
  EXPECT_EQ(proxied.Resolve("10000")->host, "proxy.example");
  EXPECT_EQ(proxied.Resolve("0")->port, 9380);
}

TEST(PartyClient, WithoutARouteGoesToTheProxyWithTheDestHeader) {
  Recorder at_proxy;
  Recorder at_self;
  auto proxy = start_server([&](HttpRequest&& request, Responder respond) {
    at_proxy.Add(request);
    respond(reply(0, "via proxy"));
  });
  auto self = start_server([&](HttpRequest&& request, Responder respond) {
    at_self.Add(request);
    respond(reply(0, "self"));
  });
  PartyClientOptions options = fast_options();
  options.proxy = local(proxy->port());
  options.self = local(self->port());
  PartyClient client(options);

  PartyCall call = call_to("10000");
  call.initiator_party_id = "9999";
  auto remote = send(client, call);
  EXPECT_EQ(await(remote).message, "via proxy");
  auto local_call = send(client, call_to("0"));
  EXPECT_EQ(await(local_call).message, "self");

  ASSERT_EQ(at_proxy.count(), 1u);
  const HttpRequest request = at_proxy.requests()[0];
  EXPECT_EQ(request.target, "/v2/partner/job/create");
  EXPECT_EQ(request.headers.at("dest-party-id"), "10000");
  EXPECT_EQ(request.headers.at("service"), "fateflow");
  EXPECT_EQ(request.headers.at("initiator-party-id"), "9999");
  ASSERT_EQ(at_self.count(), 1u);
  EXPECT_EQ(at_self.requests()[0].headers.at("dest-party-id"), "0");
}

TEST(PartyClient, UnusableRepliesAreRetried) {
  std::atomic<int> requests{0};
  auto server = start_server([&](HttpRequest&&, Responder respond) {
    HttpResponse response;
    switch (requests++) {
      case 0:
        response = reply(104, "upstream down");
        response.status = 503;
        break;
      case 1:
        response.content_type = "text/html";
        response.body = "<html>gateway</html>";
        break;
      case 2:
        response.body = "[1, 2]";
        break;
      default:
        response = reply(0, "success");
    }
    respond(std::move(response));
  });
  PartyClientOptions options = fast_options();
  options.routes["10000"] = local(server->port());
  PartyClient client(options);

  auto pending = send(client, call_to("10000"));
  PartyAnswer answer = await(pending);
  EXPECT_EQ(answer.code, RetCode::success);
  EXPECT_EQ(answer.attempts, 4);
  EXPECT_EQ(requests.load(), 4);
}

TEST(PartyClient, KeptConnectionSurvivesAServerRestart) {
  auto handler = [](HttpRequest&&, Responder respond) { respond(reply(0, "success")); };
  auto server = start_server(handler);
  const uint16_t port = server->port();
  PartyClientOptions options = fast_options();
  options.threads = 1;  // the second call runs on the connection the first one left open
  options.routes["10000"] = local(port);
  PartyClient client(options);

  auto first = send(client, call_to("10000"));
  EXPECT_EQ(await(first).attempts, 1);
  server->Stop();
  server = start_server(handler, port);
  // The kept connection was closed by the old server: the request goes again on a new one, in the same
  // attempt.
  auto second = send(client, call_to("10000"));
  PartyAnswer answer = await(second);
  EXPECT_EQ(answer.code, RetCode::success);
  EXPECT_EQ(answer.attempts, 1);
}

TEST(PartyClient, StopDropsUnansweredCallsWithoutWaitingForThem) {
  Recorder seen;
  HeldResponses held;
  auto server = start_server([&](HttpRequest&& request, Responder respond) {
    held.Hold(std::move(respond));
    seen.Add(request);
  });
  PartyClientOptions options = fast_options();
  options.attempt_timeout = 60000ms;
  options.routes["10000"] = local(server->port());
  auto client = std::make_unique<PartyClient>(options);

  std::atomic<int> answers{0};
  client->Send(call_to("10000", "A"), [&](PartyAnswer) { ++answers; });
  client->Send(call_to("10000", "A"), [&](PartyAnswer) { ++answers; });
  ASSERT_TRUE(seen.WaitFor(1));
  EXPECT_EQ(client->Pending(), 2u);
  const Clock::time_point start = Clock::now();
  client->Stop();
  EXPECT_LT(Clock::now() - start, 10s);  // the attempt in flight is cancelled, not waited for
  client->Send(call_to("10000", "B"), [&](PartyAnswer) { ++answers; });
  EXPECT_EQ(client->Pending(), 0u);
  client.reset();
  held.ReleaseAll(reply(0, "success"));
  EXPECT_EQ(answers.load(), 0);
}

TEST(PartyClient, ManyCallsOnManyLanes) {
  auto server = start_server([](HttpRequest&&, Responder respond) { respond(reply(0, "success")); }, 0, 2);
  PartyClientOptions options = fast_options();
  options.routes["10000"] = local(server->port());
  PartyClient client(options);

  constexpr int kLanes = 16;
  constexpr int kCalls = 4000;
  std::atomic<int> ok{0};
  std::atomic<int> done{0};
  std::promise<void> finished;
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < kCalls; ++i) {
    client.Send(call_to("10000", "lane-" + std::to_string(i % kLanes), {{"i", i}}), [&](PartyAnswer answer) {
      if (answer.code == RetCode::success && answer.attempts == 1) ++ok;
      if (++done == kCalls) finished.set_value();
    });
  }
  ASSERT_EQ(finished.get_future().wait_for(60s), std::future_status::ready);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(ok.load(), kCalls);
  std::printf("[ info     ] %d calls on %d lanes in %.2f s: %.0f calls/s\n", kCalls, kLanes, seconds,
              kCalls / seconds);
}

// --- the party proxy ---------------------------------------------------------------------------

std::unique_ptr<HttpServer> start_proxy(std::map<std::string, PartyAddress> routes) {
  ProxyHandlerOptions options;
  options.threads = 2;
  options.upstream_timeout = 5000ms;
  return start_server(make_proxy_handler(std::move(routes), options));
}

TEST(Proxy, RoutesPartyCallsByDestPartyId) {
  Recorder at_guest;
  Recorder at_host;
  auto guest = start_server([&](HttpRequest&& request, Responder respond) {
    at_guest.Add(request);
    respond(reply(0, "success", {{"server", "guest"}}));
  });
  auto host = start_server([&](HttpRequest&& request, Responder respond) {
    at_host.Add(request);
    respond(reply(0, "success", {{"server", "host"}}));
  });
  auto proxy = start_proxy({{"9999", local(guest->port())}, {"10000", local(host->port())}});
  PartyClientOptions options = fast_options();
  options.proxy = local(proxy->port());
  PartyClient client(options);

  PartyCall to_guest = call_to("9999", "g", {{"role", "guest"}});
  to_guest.initiator_party_id = "9999";
  to_guest.idempotency_key = "k-guest";
  auto guest_answer = send(client, to_guest);
  auto host_answer = send(client, call_to("10000", "h", {{"role", "host"}}));
  EXPECT_EQ(await(guest_answer).data["server"], "guest");
  EXPECT_EQ(await(host_answer).data["server"], "host");

  ASSERT_EQ(at_guest.count(), 1u);
  const HttpRequest request = at_guest.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/v2/partner/job/create");
  EXPECT_EQ(request.headers.at("dest-party-id"), "9999");
  EXPECT_EQ(request.headers.at("service"), "fateflow");
  EXPECT_EQ(request.headers.at("initiator-party-id"), "9999");
  EXPECT_EQ(request.headers.at("x-flowstone-idempotency-key"), "k-guest");
  EXPECT_EQ(request.headers.at("content-type"), "application/json");
  EXPECT_EQ(parse(request.body), to_guest.body);
  ASSERT_EQ(at_host.count(), 1u);
  EXPECT_EQ(at_host.requests()[0].headers.at("dest-party-id"), "10000");
  EXPECT_EQ(parse(at_host.requests()[0].body), Json({{"role", "host"}}));
}

TEST(Proxy, ForwardsMethodTargetHeadersAndTheUpstreamResponse) {
  Recorder seen;
  auto upstream = start_server([&](HttpRequest&& request, Responder respond) {
    seen.Add(request);
    HttpResponse response;
    response.status = 201;
    response.content_type = "text/plain";
    response.body = "created";
    response.headers.emplace_back("X-Upstream", "yes");
    respond(std::move(response));
  });
  auto proxy = start_proxy({{"10000", local(upstream->port())}});

  HttpCall call;
  call.method = "PUT";
  call.port = proxy->port();
  call.target = "/v2/some/path?a=1&b=x%20y";
  call.body = "raw bytes";
  call.content_type = "application/octet-stream";
  call.headers["dest-party-id"] = "10000";
  call.headers["X-Custom"] = "value";
  call.timeout = 5000ms;
  HttpResult result = http_call(call);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.status, 201);
  EXPECT_EQ(result.content_type, "text/plain");
  EXPECT_EQ(result.body, "created");
  EXPECT_EQ(result.headers["x-upstream"], "yes");

  ASSERT_EQ(seen.count(), 1u);
  const HttpRequest request = seen.requests()[0];
  EXPECT_EQ(request.method, "PUT");
  EXPECT_EQ(request.target, "/v2/some/path?a=1&b=x%20y");
  EXPECT_EQ(request.body, "raw bytes");
  EXPECT_EQ(request.headers.at("content-type"), "application/octet-stream");
  EXPECT_EQ(request.headers.at("x-custom"), "value");
  EXPECT_EQ(request.headers.at("dest-party-id"), "10000");
  EXPECT_EQ(request.headers.at("host"), "127.0.0.1:" + std::to_string(upstream->port()));
}

TEST(Proxy, OwnErrorsAreJsonEnvelopesWithCode104) {
  auto proxy = start_proxy({{"10000", local(free_port())}});
  auto post = [&](const char* dest) {
    HttpCall call;
    call.method = "POST";
    call.port = proxy->port();
    call.target = "/v2/partner/job/create";
    call.body = "{}";
    if (dest) call.headers["dest-party-id"] = dest;
    call.timeout = 10000ms;
    return http_call(call);
  };
  HttpResult missing = post(nullptr);
  ASSERT_TRUE(missing.ok) << missing.error;
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(parse(missing.body), Json({{"code", 104}, {"message", "missing dest-party-id header"}}));

  HttpResult unknown = post("77");
  ASSERT_TRUE(unknown.ok) << unknown.error;
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(parse(unknown.body), Json({{"code", 104}, {"message", "no route to party 77"}}));

  HttpResult unreachable = post("10000");
  ASSERT_TRUE(unreachable.ok) << unreachable.error;
  EXPECT_EQ(unreachable.status, 502);
  Json body = parse(unreachable.body);
  EXPECT_EQ(body["code"], 104);
  EXPECT_NE(body["message"].get<std::string>().find("connection refused"), std::string::npos) << body;
}

}  // namespace
}  // namespace flowstone::net
