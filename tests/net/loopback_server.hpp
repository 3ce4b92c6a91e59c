// Loopback HTTP servers for tests of the calls between parties: a server on 127.0.0.1 with a handler, a
// port nothing listens on, FATE envelopes, and a recorder of what a server saw that a test can wait on.
#pragma once
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/http_server.hpp"
#include "net/json_io.hpp"
#include "net/party_client.hpp"

namespace flowstone {
inline void PrintTo(RetCode code, std::ostream* os) {
  *os << to_int(code);
}
}  // namespace flowstone

namespace flowstone::net::testing {

using namespace std::chrono_literals;

constexpr auto kEventually = 20s;

inline std::unique_ptr<HttpServer> start_server(Handler handler, uint16_t port = 0, int threads = 2) {
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
inline uint16_t free_port() {
  auto server = start_server([](HttpRequest&&, Responder respond) { respond(HttpResponse{}); });
  uint16_t port = server->port();
  server->Stop();
  return port;
}

inline HttpResponse reply(int code, const std::string& message, Json data = nullptr,
                          Json extra = Json::object()) {
  HttpResponse response;
  response.body = envelope_text(code, message, std::move(data), std::move(extra));
  return response;
}

inline Json parse(const std::string& text) {
  std::string error;
  std::optional<Json> json = parse_json(text, &error);
  EXPECT_TRUE(json) << error << " in " << text;
  return json ? *json : Json();
}

inline PartyAddress local(uint16_t port) {
  return PartyAddress{"127.0.0.1", port};
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

}  // namespace flowstone::net::testing
