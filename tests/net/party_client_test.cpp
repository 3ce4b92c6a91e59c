// The transport of party calls (PartyClient) and the party proxy against real HttpServers on 127.0.0.1.
// One attempt is one request: no order, retries or windows here (the Party actor owns those:
// tests/actors/party_actor_test.cpp). Waits are for events, with generous upper bounds.
#include "net/party_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.hpp"
#include "net/proxy_handler.hpp"
#include "tests/net/loopback_server.hpp"

namespace flowstone::net {
namespace {

using namespace std::chrono_literals;
using namespace flowstone::net::testing;
using Clock = std::chrono::steady_clock;

PartyClientOptions fast_options() {
  PartyClientOptions options;
  options.threads = 4;
  options.attempt_timeout = 5000ms;
  return options;
}

PartyCall call_to(std::string dest, Json body = Json::object()) {
  PartyCall call;
  call.dest_party_id = std::move(dest);
  call.endpoint = "partner/job/create";
  call.body = std::move(body);
  return call;
}

std::future<PartyAttempt> send(PartyClient& client, PartyCall call) {
  auto promise = std::make_shared<std::promise<PartyAttempt>>();
  std::future<PartyAttempt> attempt = promise->get_future();
  client.Attempt(std::make_shared<const PartyCall>(std::move(call)),
                 [promise](PartyAttempt a) { promise->set_value(std::move(a)); });
  return attempt;
}

PartyAttempt await(std::future<PartyAttempt>& attempt) {
  if (attempt.wait_for(kEventually) != std::future_status::ready) {
    ADD_FAILURE() << "no answer within "
                  << std::chrono::duration_cast<std::chrono::seconds>(kEventually).count() << " s";
    return PartyAttempt{};
  }
  return attempt.get();
}

PartyAnswer answer_of(std::future<PartyAttempt>& attempt) {
  PartyAttempt done = await(attempt);
  EXPECT_TRUE(done.answer) << done.error;
  return done.answer ? *done.answer : PartyAnswer{};
}

TEST(PartyClient, SendsFateFlowHeadersAndBodyAndAnswersWithTheReply) {
  Recorder seen;
  auto server = start_server([&](HttpRequest&& request, Responder respond) {
    seen.Add(request);
    respond(reply(0, "success", {{"x", 1}}, {{"job_id", "202401010000000001"}}));
  });
  PartyClientOptions options = fast_options();
  options.routes["10000"] = local(server->port());
  PartyClient client(options);

  PartyCall call = call_to("10000", {{"job_id", "j1"}, {"roles", {1, 2}}, {"name", "é"}});
  call.initiator_party_id = "9999";
  call.idempotency_key = "create-j1-10000";
  auto first = send(client, call);
  PartyAnswer answer = answer_of(first);
  EXPECT_EQ(answer.code, RetCode::success);
  EXPECT_EQ(answer.message, "success");
  EXPECT_EQ(answer.data, Json({{"x", 1}}));
  EXPECT_EQ(answer.reply["job_id"], "202401010000000001");

  // Without an initiator or idempotency key: the initiator header is still sent, empty; the key is not.
  auto second = send(client, call_to("10000"));
  EXPECT_EQ(answer_of(second).code, RetCode::success);

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

TEST(PartyClient, ANonZeroCodeIsAnAnswer) {
  auto server =
      start_server([&](HttpRequest&&, Responder respond) { respond(reply(103, "job already exists")); });
  PartyClientOptions options = fast_options();
  options.routes["10000"] = local(server->port());
  PartyClient client(options);

  auto pending = send(client, call_to("10000"));
  PartyAnswer answer = answer_of(pending);
  EXPECT_EQ(answer.code, ret_code_of(103));
  EXPECT_EQ(answer.message, "job already exists");
}

TEST(PartyClient, NothingListeningIsAnErrorNamingTheCall) {
  PartyClientOptions options = fast_options();
  options.routes["10000"] = local(free_port());
  PartyClient client(options);
  auto pending = send(client, call_to("10000"));
  PartyAttempt attempt = await(pending);
  EXPECT_FALSE(attempt.answer);
  EXPECT_NE(attempt.error.find("/v2/partner/job/create (party 10000)"), std::string::npos) << attempt.error;
  EXPECT_NE(attempt.error.find("connection refused"), std::string::npos) << attempt.error;
}

TEST(PartyClient, ResolvesSelfThenRouteThenProxy) {
  PartyClientOptions options;
  options.self = local(9380);
  options.routes["9999"] = local(9381);
  PartyClient direct(options);
  EXPECT_EQ(direct.Resolve("0")->port, 9380);
  EXPECT_EQ(direct.Resolve("9999")->port, 9381);
  EXPECT_FALSE(direct.Resolve("10000"));
  EXPECT_EQ(direct.RoutedParties(), std::vector<std::string>{"9999"});
  options.proxy = PartyAddress{"proxy.example", 9370};
  PartyClient proxied(options);
  EXPECT_EQ(proxied.Resolve("9999")->port, 9381);
  EXPECT_EQ(proxied.Resolve("10000")->host, "proxy.example");
  EXPECT_FALSE(proxied.HasRoute("10000"));
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
  EXPECT_EQ(answer_of(remote).message, "via proxy");
  auto local_call = send(client, call_to("0"));
  EXPECT_EQ(answer_of(local_call).message, "self");

  ASSERT_EQ(at_proxy.count(), 1u);
  const HttpRequest request = at_proxy.requests()[0];
  EXPECT_EQ(request.target, "/v2/partner/job/create");
  EXPECT_EQ(request.headers.at("dest-party-id"), "10000");
  EXPECT_EQ(request.headers.at("service"), "fateflow");
  EXPECT_EQ(request.headers.at("initiator-party-id"), "9999");
  ASSERT_EQ(at_self.count(), 1u);
  EXPECT_EQ(at_self.requests()[0].headers.at("dest-party-id"), "0");
}

TEST(PartyClient, UnusableRepliesAreErrorsWorthAnotherTry) {
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

  const char* expected[] = {"HTTP 503", "reply is not JSON", "reply is not a JSON object"};
  for (const char* why : expected) {
    auto pending = send(client, call_to("10000"));
    PartyAttempt attempt = await(pending);
    EXPECT_FALSE(attempt.answer);
    EXPECT_NE(attempt.error.find(why), std::string::npos) << attempt.error;
  }
  auto last = send(client, call_to("10000"));
  EXPECT_EQ(answer_of(last).code, RetCode::success);
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
  EXPECT_EQ(answer_of(first).code, RetCode::success);
  server->Stop();
  server = start_server(handler, port);
  // The kept connection was closed by the old server: the request goes again on a new one, in the same
  // attempt.
  auto second = send(client, call_to("10000"));
  EXPECT_EQ(answer_of(second).code, RetCode::success);
}

TEST(PartyClient, StopDropsUnansweredCallsWithoutWaitingForThem) {
  Recorder seen;
  HeldResponses held;
  auto server = start_server([&](HttpRequest&& request, Responder respond) {
    held.Hold(std::move(respond));
    seen.Add(request);
  });
  PartyClientOptions options = fast_options();
  options.threads = 1;
  options.attempt_timeout = 60000ms;
  options.routes["10000"] = local(server->port());
  auto client = std::make_unique<PartyClient>(options);

  std::atomic<int> answers{0};
  auto count = [&](PartyAttempt) { ++answers; };
  client->Attempt(std::make_shared<const PartyCall>(call_to("10000")), count);
  client->Attempt(std::make_shared<const PartyCall>(call_to("10000")), count);
  ASSERT_TRUE(seen.WaitFor(1));
  EXPECT_EQ(client->Pending(), 2u);
  const Clock::time_point start = Clock::now();
  client->Stop();
  EXPECT_LT(Clock::now() - start, 10s);  // the attempt in flight is cancelled, not waited for
  client->Attempt(std::make_shared<const PartyCall>(call_to("10000")), count);
  EXPECT_EQ(client->Pending(), 0u);
  client.reset();
  held.ReleaseAll(reply(0, "success"));
  EXPECT_EQ(answers.load(), 0);
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

  PartyCall to_guest = call_to("9999", {{"role", "guest"}});
  to_guest.initiator_party_id = "9999";
  to_guest.idempotency_key = "k-guest";
  auto guest_answer = send(client, to_guest);
  auto host_answer = send(client, call_to("10000", {{"role", "host"}}));
  EXPECT_EQ(answer_of(guest_answer).data["server"], "guest");
  EXPECT_EQ(answer_of(host_answer).data["server"], "host");

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
