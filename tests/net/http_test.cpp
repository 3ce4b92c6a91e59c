#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "net/json_io.hpp"
#include "tests/net/raw_connection.hpp"

namespace flowstone::net {
namespace {

using namespace std::chrono_literals;
using testing::RawConnection;
using Clock = std::chrono::steady_clock;

// Echoes the request as JSON.
Json describe(const HttpRequest& request) {
  Json query = Json::array();
  for (const auto& [name, value] : request.query) query.push_back({name, value});
  Json headers = Json::object();
  for (const auto& [name, value] : request.headers) headers[name] = value;
  return {{"method", request.method}, {"target", request.target}, {"path", request.path},
          {"query", query},           {"headers", headers},       {"body", request.body}};
}

HttpResponse json_response(const Json& data) {
  HttpResponse response;
  response.body = envelope_text(0, "success", data);
  return response;
}

HttpServerOptions local_options() {
  HttpServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  return options;
}

HttpCall call_to(uint16_t port, std::string method, std::string target, std::string body = "") {
  HttpCall call;
  call.method = std::move(method);
  call.port = port;
  call.target = std::move(target);
  call.body = std::move(body);
  call.timeout = 5000ms;
  return call;
}

Json body_json(const std::string& body) {
  std::string error;
  auto json = parse_json(body, &error);
  EXPECT_TRUE(json) << error << " in " << body;
  return json ? *json : Json();
}

class EchoServer : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(local_options(), [this](HttpRequest&& request, Responder respond) {
      ++calls_;
      HttpResponse response = json_response(describe(request));
      response.headers.emplace_back("Content-Disposition", "attachment; filename=\"x.json\"");
      respond(std::move(response));
    });
    ASSERT_EQ(server_->Start(), "");
    ASSERT_NE(server_->port(), 0);
  }
  void TearDown() override { server_->Stop(); }

  std::unique_ptr<HttpServer> server_;
  std::atomic<int> calls_{0};
};

TEST_F(EchoServer, GetWithQueryDecodingAndLowerCasedHeaders) {
  HttpCall call =
      call_to(server_->port(), "GET", "/v2/job/query/?job_id=a%20b&x=1+2&x=%E4%B8%AD&flag&=&y=%zz");
  call.headers["X-Custom-Header"] = "Value";
  HttpResult result = http_call(call);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.content_type, "application/json");
  EXPECT_EQ(result.headers["content-disposition"], "attachment; filename=\"x.json\"");
  Json body = body_json(result.body);
  EXPECT_EQ(body["code"], 0);
  const Json& data = body["data"];
  EXPECT_EQ(data["method"], "GET");
  EXPECT_EQ(data["target"], "/v2/job/query/?job_id=a%20b&x=1+2&x=%E4%B8%AD&flag&=&y=%zz");
  EXPECT_EQ(data["path"], "/v2/job/query");
  EXPECT_EQ(data["query"], Json::parse(R"([["","" ],["flag",""],["job_id","a b"],["x","1 2"],["x","中"],
                                           ["y","%zz"]])"));
  EXPECT_EQ(data["headers"]["x-custom-header"], "Value");
  EXPECT_TRUE(data["headers"].contains("host"));
  EXPECT_EQ(data["body"], "");
}

TEST_F(EchoServer, PathNormalisation) {
  HttpResult root = http_call(call_to(server_->port(), "GET", "/"));
  ASSERT_TRUE(root.ok) << root.error;
  EXPECT_EQ(body_json(root.body)["data"]["path"], "/");
  HttpResult encoded = http_call(call_to(server_->port(), "GET", "/v2/a%2Fb%20c//"));
  ASSERT_TRUE(encoded.ok) << encoded.error;
  EXPECT_EQ(body_json(encoded.body)["data"]["path"], "/v2/a/b c");
}

TEST_F(EchoServer, PostRoundTrip) {
  std::string payload = R"({"dag": {"conf": {"x": 1}}, "name": "é"})";
  HttpResult result = http_call(call_to(server_->port(), "POST", "/v2/job/submit", payload));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.status, 200);
  Json data = body_json(result.body)["data"];
  EXPECT_EQ(data["method"], "POST");
  EXPECT_EQ(data["body"], payload);
  EXPECT_EQ(data["headers"]["content-type"], "application/json");
  EXPECT_EQ(data["headers"]["content-length"], std::to_string(payload.size()));
}

TEST_F(EchoServer, KeepAliveServesTwoRequestsOnOneConnection) {
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.send("GET /first?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto first = connection.read_response();
  ASSERT_TRUE(first.complete);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(body_json(first.body)["data"]["path"], "/first");
  EXPECT_EQ(first.head.find("connection: close"), std::string::npos) << first.head;

  ASSERT_TRUE(connection.send("POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
  auto second = connection.read_response();
  ASSERT_TRUE(second.complete);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(body_json(second.body)["data"]["path"], "/second");
  EXPECT_EQ(body_json(second.body)["data"]["body"], "{}");
  EXPECT_EQ(calls_.load(), 2);

  // Connection: close is honoured.
  ASSERT_TRUE(connection.send("GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto third = connection.read_response();
  ASSERT_TRUE(third.complete);
  EXPECT_NE(third.head.find("connection: close"), std::string::npos) << third.head;
  EXPECT_TRUE(connection.closed_by_peer());
}

TEST_F(EchoServer, PipelinedRequestsAreAnsweredInOrder) {
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto a = connection.read_response();
  auto b = connection.read_response();
  ASSERT_TRUE(a.complete && b.complete);
  EXPECT_EQ(body_json(a.body)["data"]["path"], "/a");
  EXPECT_EQ(body_json(b.body)["data"]["path"], "/b");
}

TEST_F(EchoServer, MalformedRequestLineGives400Json) {
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.send("THIS IS NOT HTTP\r\n\r\n"));
  auto response = connection.read_response();
  ASSERT_TRUE(response.complete);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.head.find("content-type: application/json"), std::string::npos);
  Json body = body_json(response.body);
  EXPECT_EQ(body["code"], 5001);
  EXPECT_NE(body["message"].get<std::string>().find("malformed HTTP request"), std::string::npos);
  EXPECT_TRUE(connection.closed_by_peer());
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(EchoServer, Expect100Continue) {
  RawConnection connection(server_->port());
  ASSERT_TRUE(
      connection.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = connection.read_response();
  ASSERT_TRUE(interim.complete);
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(connection.send("hello"));
  auto response = connection.read_response();
  ASSERT_TRUE(response.complete);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(body_json(response.body)["data"]["body"], "hello");
}

TEST(HttpServer, OversizedBodyIsRefusedAfterTheHeader) {
  HttpServerOptions options = local_options();
  options.body_limit = 1024;
  std::atomic<int> calls{0};
  HttpServer server(options, [&](HttpRequest&&, Responder respond) {
    ++calls;
    respond(json_response(nullptr));
  });
  ASSERT_EQ(server.Start(), "");

  RawConnection connection(server.port());
  auto start = Clock::now();
  ASSERT_TRUE(connection.send(
      "POST /v2/data/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n{\"a\":"));
  auto response = connection.read_response(5000ms);
  ASSERT_TRUE(response.complete);
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_EQ(response.status, 413);
  EXPECT_NE(response.head.find("connection: close"), std::string::npos);
  Json body = body_json(response.body);
  EXPECT_EQ(body["code"], 5001);
  EXPECT_EQ(body["message"], "request body exceeds the limit of 1024 bytes");
  EXPECT_TRUE(connection.closed_by_peer());
  EXPECT_EQ(calls.load(), 0);

  // A chunked body that grows past the limit is refused too.
  RawConnection chunked(server.port());
  std::string chunk(2000, 'x');
  ASSERT_TRUE(chunked.send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" +
                           chunk + "\r\n"));
  auto refused = chunked.read_response(5000ms);
  ASSERT_TRUE(refused.complete);
  EXPECT_EQ(refused.status, 413);

  // Within the limit, through the client.
  HttpResult ok = http_call(call_to(server.port(), "POST", "/x", std::string(1024, 'a')));
  ASSERT_TRUE(ok.ok) << ok.error;
  EXPECT_EQ(ok.status, 200);
  HttpResult big = http_call(call_to(server.port(), "POST", "/x", std::string(1025, 'a')));
  ASSERT_TRUE(big.ok) << big.error;
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(calls.load(), 1);

  // A large body sent whole by the client: the refusal is still read.
  HttpResult huge = http_call(call_to(server.port(), "POST", "/x", std::string(32 << 20, 'a')));
  ASSERT_TRUE(huge.ok) << huge.error;
  EXPECT_EQ(huge.status, 413);
}

TEST(HttpServer, OversizedHeaderIsRefused) {
  HttpServer server(local_options(),
                    [](HttpRequest&&, Responder respond) { respond(json_response(nullptr)); });
  ASSERT_EQ(server.Start(), "");
  RawConnection connection(server.port());
  ASSERT_TRUE(
      connection.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100 * 1024, 'h') + "\r\n\r\n"));
  auto response = connection.read_response();
  ASSERT_TRUE(response.complete);
  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(body_json(response.body)["code"], 5001);
}

// Slowloris: a header dribbled a line at a time, and a connection that sends nothing, are closed once the
// header deadline passes, while a normal client is answered meanwhile.
TEST(HttpServer, SlowAndSilentConnectionsAreClosedAtTheHeaderDeadline) {
  HttpServerOptions options = local_options();
  options.header_timeout = 400ms;
  HttpServer server(options, [](HttpRequest&&, Responder respond) { respond(json_response(nullptr)); });
  ASSERT_EQ(server.Start(), "");
  RawConnection dribbler(server.port()), silent(server.port());
  ASSERT_TRUE(dribbler.send("GET / HTTP/1.1\r\nHost: x\r\n"));
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(dribbler.send("X-Slow: 1\r\n"));
  }
  EXPECT_EQ(http_call(call_to(server.port(), "GET", "/")).status, 200);
  EXPECT_TRUE(dribbler.closed_by_peer(3000ms));
  EXPECT_TRUE(silent.closed_by_peer(3000ms));
}

TEST(HttpServer, ResponderCalledFromAnotherThreadAfterADelay) {
  std::vector<std::thread> workers;
  std::mutex mu;
  HttpServer server(local_options(), [&](HttpRequest&& request, Responder respond) {
    std::lock_guard<std::mutex> lock(mu);
    workers.emplace_back([respond, path = request.path] {
      std::this_thread::sleep_for(150ms);
      respond(json_response(Json{{"path", path}}));
    });
  });
  ASSERT_EQ(server.Start(), "");
  auto start = Clock::now();
  HttpResult result = http_call(call_to(server.port(), "GET", "/slow"));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_GE(Clock::now() - start, 140ms);
  EXPECT_EQ(body_json(result.body)["data"]["path"], "/slow");
  std::lock_guard<std::mutex> lock(mu);
  for (auto& worker : workers) worker.join();
}

TEST(HttpServer, ManyConcurrentClients) {
  HttpServer server(local_options(), [](HttpRequest&& request, Responder respond) {
    std::thread([respond, body = request.body] { respond(json_response(body)); }).detach();
  });
  ASSERT_EQ(server.Start(), "");
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string body = std::to_string(t) + ":" + std::to_string(i);
        HttpResult r = http_call(call_to(server.port(), "POST", "/c", body));
        if (r.ok && r.status == 200 && body_json(r.body)["data"] == body) ++ok;
      }
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(ok.load(), 160);
}

TEST(HttpServer, DroppedResponderAnswers500) {
  HttpServer server(local_options(), [](HttpRequest&&, Responder) {});
  ASSERT_EQ(server.Start(), "");
  HttpResult result = http_call(call_to(server.port(), "GET", "/dropped"));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.status, 500);
  EXPECT_EQ(result.content_type, "application/json");
  EXPECT_EQ(body_json(result.body), Json::parse(R"({"code":6000,"message":"no response"})"));
}

TEST(HttpServer, ThrowingHandlerAnswers500) {
  HttpServer server(local_options(), [](HttpRequest&&, Responder) { throw std::runtime_error("boom"); });
  ASSERT_EQ(server.Start(), "");
  HttpResult result = http_call(call_to(server.port(), "GET", "/throw"));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.status, 500);
  Json body = body_json(result.body);
  EXPECT_EQ(body["code"], 6000);
  EXPECT_NE(body["message"].get<std::string>().find("boom"), std::string::npos);
}

TEST(HttpServer, SecondAnswerIsIgnored) {
  HttpServer server(local_options(), [](HttpRequest&&, Responder respond) {
    respond(json_response("first"));
    respond(json_response("second"));
  });
  ASSERT_EQ(server.Start(), "");
  HttpResult result = http_call(call_to(server.port(), "GET", "/"));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(body_json(result.body)["data"], "first");
}

TEST(HttpServer, StopLetsAnInFlightRequestComplete) {
  std::promise<Responder> handed;
  HttpServerOptions options = local_options();
  options.drain = 3000ms;
  HttpServer server(options, [&](HttpRequest&&, Responder respond) { handed.set_value(respond); });
  ASSERT_EQ(server.Start(), "");
  uint16_t port = server.port();

  auto client =
      std::async(std::launch::async, [port] { return http_call(call_to(port, "GET", "/in-flight")); });
  Responder respond = handed.get_future().get();
  std::thread answer([respond] {
    std::this_thread::sleep_for(300ms);
    respond(json_response("done"));
  });
  auto start = Clock::now();
  server.Stop();
  auto stopped_after = Clock::now() - start;
  answer.join();

  HttpResult result = client.get();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(body_json(result.body)["data"], "done");
  EXPECT_GE(stopped_after, 250ms);
  EXPECT_LT(stopped_after, 2500ms);

  // The listener is gone.
  HttpResult refused = http_call(call_to(port, "GET", "/"));
  EXPECT_FALSE(refused.ok);
}

TEST(HttpServer, StopGivesUpAfterTheDrainTimeAndLateAnswersAreHarmless) {
  std::promise<Responder> handed;
  HttpServerOptions options = local_options();
  options.drain = 200ms;
  auto server = std::make_unique<HttpServer>(
      options, [&](HttpRequest&&, Responder respond) { handed.set_value(respond); });
  ASSERT_EQ(server->Start(), "");
  uint16_t port = server->port();
  // An idle keep-alive connection must not hold Stop() up either.
  RawConnection idle(port);
  ASSERT_TRUE(idle.connected());

  auto client = std::async(std::launch::async, [port] { return http_call(call_to(port, "GET", "/never")); });
  Responder respond = handed.get_future().get();
  auto start = Clock::now();
  server.reset();  // Stop() in the destructor
  EXPECT_LT(Clock::now() - start, 1500ms);
  HttpResult result = client.get();
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(idle.closed_by_peer(2000ms));
  respond(json_response("too late"));  // the server is gone: dropped, no crash
  respond = nullptr;
}

TEST(HttpServer, StartReportsAnAddressInUse) {
  HttpServer first(local_options(),
                   [](HttpRequest&&, Responder respond) { respond(json_response(nullptr)); });
  ASSERT_EQ(first.Start(), "");
  HttpServerOptions options = local_options();
  options.port = first.port();
  HttpServer second(options, [](HttpRequest&&, Responder respond) { respond(json_response(nullptr)); });
  std::string error = second.Start();
  EXPECT_NE(error, "");
  EXPECT_NE(error.find("in use"), std::string::npos) << error;
  second.Stop();  // harmless on a server that never started
}

TEST(HttpClient, ClosedPortFailsQuickly) {
  uint16_t port = 0;
  {
    HttpServer server(local_options(),
                      [](HttpRequest&&, Responder respond) { respond(json_response(nullptr)); });
    ASSERT_EQ(server.Start(), "");
    port = server.port();
  }
  auto start = Clock::now();
  HttpResult result = http_call(call_to(port, "GET", "/"));
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "connection refused");
}

TEST(HttpClient, TimesOutWhenNoAnswerComes) {
  std::mutex mu;
  std::vector<Responder> held;
  HttpServer server(local_options(), [&](HttpRequest&&, Responder respond) {
    std::lock_guard<std::mutex> lock(mu);
    held.push_back(std::move(respond));
  });
  ASSERT_EQ(server.Start(), "");
  HttpCall call = call_to(server.port(), "GET", "/hang");
  call.timeout = 200ms;
  auto start = Clock::now();
  HttpResult result = http_call(call);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "timeout");
  EXPECT_LT(Clock::now() - start, 1500ms);
  std::lock_guard<std::mutex> lock(mu);
  held.clear();
}

TEST(HttpClient, ResolvesHostNames) {
  HttpServer server(local_options(), [](HttpRequest&& request, Responder respond) {
    respond(json_response(request.header("host") ? Json(*request.header("host")) : Json()));
  });
  ASSERT_EQ(server.Start(), "");
  HttpCall call = call_to(server.port(), "GET", "/");
  call.host = "localhost";
  HttpResult result = http_call(call);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(body_json(result.body)["data"], "localhost:" + std::to_string(server.port()));
}

TEST(HttpClient, EncodeQuery) {
  EXPECT_EQ(encode_query({}), "");
  EXPECT_EQ(encode_query({{"a", "1"}, {"b", "x y"}}), "a=1&b=x%20y");
  EXPECT_EQ(encode_query({{"k&=", "A-Z_a.z~0/+?中"}}), "k%26%3D=A-Z_a.z~0%2F%2B%3F%E4%B8%AD");
}

TEST(HttpRequest, Accessors) {
  HttpRequest request;
  request.query.emplace("a", "1");
  request.query.emplace("a", "2");
  request.headers["x-y"] = "z";
  ASSERT_NE(request.query_param("a"), nullptr);
  EXPECT_EQ(*request.query_param("a"), "1");
  EXPECT_EQ(request.query_param("b"), nullptr);
  ASSERT_NE(request.header("x-y"), nullptr);
  EXPECT_EQ(*request.header("x-y"), "z");
  EXPECT_EQ(request.header("X-Y"), nullptr);
}

}  // namespace
}  // namespace flowstone::net
