// The dashboard's parts of the HTTP edge: a built page served from memory (StaticSite), and a streamed
// response (server-sent events) written as it is produced until the client leaves.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "net/static_site.hpp"
#include "tests/net/loopback_server.hpp"
#include "tests/net/raw_connection.hpp"

namespace flowstone::net {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::RawConnection;

class BuiltPage : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("flowstone-site-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "assets");
    std::ofstream(root_ / "index.html") << "<!doctype html><title>t</title>";
    std::ofstream(root_ / "assets" / "app-1234.js") << "console.log(1)";
    std::ofstream(root_ / "logo.svg") << "<svg/>";
  }
  void TearDown() override { fs::remove_all(root_); }
  HttpRequest get(const std::string& path, const std::string& method = "GET") {
    HttpRequest request;
    request.method = method;
    request.path = path;
    return request;
  }
  fs::path root_;
};

TEST_F(BuiltPage, ServesIndexAssetsAndNothingElse) {
  std::string error;
  auto site = StaticSite::Load(root_.string(), &error);
  ASSERT_TRUE(site) << error;
  EXPECT_EQ(site->files(), 3u);

  auto index = site->Serve(get("/"));
  ASSERT_TRUE(index);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index->body, "<!doctype html><title>t</title>");

  auto script = site->Serve(get("/assets/app-1234.js"));
  ASSERT_TRUE(script);
  EXPECT_EQ(script->content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(std::find(script->headers.begin(), script->headers.end(),
                      std::make_pair(std::string("Cache-Control"),
                                     std::string("public, max-age=31536000, immutable"))),
            script->headers.end());
  EXPECT_EQ(site->Serve(get("/logo.svg"))->content_type, "image/svg+xml");
  EXPECT_TRUE(site->Serve(get("/index.html", "HEAD")));

  EXPECT_FALSE(site->Serve(get("/missing.js")));
  EXPECT_FALSE(site->Serve(get("/../index.html")));
  EXPECT_FALSE(site->Serve(get("/v2/job/query")));
  EXPECT_FALSE(site->Serve(get("/", "POST")));
}

TEST_F(BuiltPage, AFolderWithoutIndexIsRefusedWithWhy) {
  fs::remove(root_ / "index.html");
  std::string error;
  EXPECT_FALSE(StaticSite::Load(root_.string(), &error));
  EXPECT_NE(error.find("no index.html"), std::string::npos) << error;
  EXPECT_FALSE(StaticSite::Load((root_ / "nowhere").string(), &error));
  EXPECT_NE(error.find("nowhere"), std::string::npos) << error;
}

// A server whose every answer is a stream; the test holds the sinks it was given.
class Streams {
 public:
  Handler handler() {
    return [this](HttpRequest&&, Responder respond) {
      HttpResponse response;
      response.content_type = "text/event-stream";
      response.body = "retry: 1000\n\n";
      response.stream = [this](std::shared_ptr<StreamSink> sink) {
        std::lock_guard<std::mutex> lock(mu_);
        sinks_.push_back(std::move(sink));
        changed_.notify_all();
      };
      respond(std::move(response));
    };
  }
  std::shared_ptr<StreamSink> WaitForSink(size_t index) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, 5s, [&] { return sinks_.size() > index; });
    return sinks_.size() > index ? sinks_[index] : nullptr;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::shared_ptr<StreamSink>> sinks_;
};

TEST(StreamedResponse, ChunksArriveAsWrittenUntilTheClientLeaves) {
  Streams streams;
  auto server = testing::start_server(streams.handler());
  {
    RawConnection client(server->port());
    ASSERT_TRUE(client.send("GET /feed HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(client.read_until("retry: 1000\n\n")) << client.pending();
    std::string head = client.pending();
    EXPECT_NE(head.find("HTTP/1.1 200"), std::string::npos);
    EXPECT_NE(head.find("text/event-stream"), std::string::npos);
    EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;  // the body ends with the connection

    auto sink = streams.WaitForSink(0);
    ASSERT_TRUE(sink);
    EXPECT_TRUE(sink->write("id: 1\ndata: one\n\n"));
    EXPECT_TRUE(sink->write("id: 2\ndata: two\n\n"));
    ASSERT_TRUE(client.read_until("data: two\n\n")) << client.pending();
    EXPECT_LT(client.pending().find("data: one"), client.pending().find("data: two"));
  }
  // The client is gone: the producer learns it from write() and drops the sink.
  auto sink = streams.WaitForSink(0);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  bool refused = false;
  while (!refused && std::chrono::steady_clock::now() < deadline) {
    refused = !sink->write(": ping\n\n");
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(refused);
  server->Stop();
}

TEST(StreamedResponse, StopClosesOpenStreamsWithoutWaitingForThem) {
  Streams streams;
  auto server = testing::start_server(streams.handler());
  RawConnection client(server->port());
  ASSERT_TRUE(client.send("GET /feed HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto sink = streams.WaitForSink(0);
  ASSERT_TRUE(sink);
  auto start = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);  // not the 3 s drain
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_FALSE(sink->write("data: late\n\n"));
}

}  // namespace
}  // namespace flowstone::net
