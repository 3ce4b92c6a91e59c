// The HTTP server out of file descriptors: accepting pauses (with backoff and a rate-limited warning)
// instead of spinning on EMFILE, and serves again once descriptors are free. This is what ended the 30 s
// admission run of federation_bench: thousands of open files, then an accept loop that never slept.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

#include "net/http_client.hpp"
#include "net/http_server.hpp"

namespace flowstone::net {
namespace {

using namespace std::chrono_literals;

size_t open_descriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A loopback connection, or -1 with errno set.
int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(HttpServer, OutOfDescriptorsItPausesAcceptingAndServesAgainOnceSomeAreFree) {
  HttpServerOptions options;
  options.host = "127.0.0.1";
  options.threads = 2;
  HttpServer server(options, [](HttpRequest&&, Responder respond) {
    HttpResponse response;
    response.body = R"({"code":0,"message":"success"})";
    respond(std::move(response));
  });
  ASSERT_EQ(server.Start(), "");
  std::ostringstream warnings;
  auto previous = spdlog::default_logger();
  // Kept alive to the end of the test: a server thread may still be logging through it after the switch back.
  auto capture =
      std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(warnings));
  spdlog::set_default_logger(capture);

  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit tight = saved;
  tight.rlim_cur = open_descriptors() + 40;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  // Clients until this process has no descriptor left: the server's accepts fail with EMFILE before.
  std::vector<int> clients;
  for (int i = 0; i < 200; ++i) {
    int fd = connect_to(server.port());
    if (fd < 0) break;
    clients.push_back(fd);
  }
  const bool ran_out = errno == EMFILE;
  std::this_thread::sleep_for(300ms);  // test only: lets the server meet EMFILE several times
  for (int fd : clients) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_TRUE(ran_out) << "opened " << clients.size() << " connections without running out";
  spdlog::set_default_logger(previous);
  // One warning for the whole episode, not one per failed accept.
  size_t accept_warnings = 0;
  for (size_t at = warnings.str().find("accept failed"); at != std::string::npos;
       at = warnings.str().find("accept failed", at + 1))
    ++accept_warnings;
  EXPECT_EQ(accept_warnings, 1u) << warnings.str().substr(0, 2000);

  HttpCall call;
  call.method = "GET";
  call.port = server.port();
  call.target = "/v2/site/info/query";
  call.timeout = 10000ms;
  HttpResult result = http_call(call);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.status, 200);
  server.Stop();
  capture->flush();
}

}  // namespace
}  // namespace flowstone::net
