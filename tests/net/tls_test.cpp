// The HTTP edge and client over TLS (net/tls.hpp) with certificates made by openssl for the test: one port
// serves TLS and plain HTTP, the handler is told which and who the verified client is; a client that does
// not trust the server's CA, or a client certificate from an unknown CA, gets no connection; too many header
// fields are refused with 431.
#include "net/tls.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "net/json_io.hpp"

namespace flowstone::net {
namespace {

using namespace std::chrono_literals;

class TlsEdge : public ::testing::Test {
 protected:
  void SetUp() override {
    certs_ = ::testing::TempDir() + "/flowstone-net-tls-" + std::to_string(::getpid());
    const std::string command = std::string(FLOWSTONE_SOURCE_DIR) + "/apps/flowstone/make_certs.sh " +
                                certs_ + " server client";
    ASSERT_EQ(std::system(command.c_str()), 0) << "openssl could not make the test certificates";
    std::string error;
    auto context = TlsContext::Server(files("site-server", "ca"), /*verify_clients=*/true, &error);
    ASSERT_TRUE(context) << error;
    HttpServerOptions options;
    options.port = 0;
    options.tls = context;
    server_ = std::make_unique<HttpServer>(options, [](HttpRequest&& request, Responder respond) {
      HttpResponse response;
      response.body = Json{{"tls", request.tls}, {"peer", request.peer_certificate}}.dump();
      respond(std::move(response));
    });
    ASSERT_EQ(server_->Start(), "");
  }
  void TearDown() override {
    if (server_) server_->Stop();
    std::system(("rm -rf " + certs_).c_str());
  }

  TlsFiles files(const std::string& identity, const std::string& ca) const {
    return TlsFiles{identity.empty() ? "" : certs_ + "/" + identity + ".pem",
                    identity.empty() ? "" : certs_ + "/" + identity + ".key", certs_ + "/" + ca + ".pem"};
  }
  HttpResult get(const std::string& identity, const std::string& ca, const std::string& host = "127.0.0.1") {
    HttpCall call;
    call.host = host;
    call.port = server_->port();
    call.target = "/";
    call.timeout = 5000ms;
    if (!ca.empty()) {
      std::string error;
      call.tls = TlsContext::Client(files(identity, ca), &error);
      EXPECT_TRUE(call.tls) << error;
    }
    return http_call(call);
  }
  Json answer(const HttpResult& result) {
    EXPECT_TRUE(result.ok) << result.error;
    std::string error;
    auto json = parse_json(result.body, &error);
    return json ? *json : Json();
  }

  std::string certs_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(TlsEdge, OnePortServesTlsAndPlainAndTellsTheHandlerWhich) {
  Json plain = answer(get("", ""));
  EXPECT_EQ(plain["tls"], false);
  Json anonymous = answer(get("", "ca"));
  EXPECT_EQ(anonymous["tls"], true);
  EXPECT_EQ(anonymous["peer"], "");
  Json known = answer(get("site-client", "ca"));
  EXPECT_EQ(known["tls"], true);
  EXPECT_NE(known["peer"].get<std::string>().find("CN=client"), std::string::npos) << known.dump();
  // The certificate names 127.0.0.1 and localhost: both are checked and accepted.
  EXPECT_EQ(answer(get("", "ca", "localhost"))["tls"], true);
}

TEST_F(TlsEdge, UntrustedServersAndClientsGetNoConnection) {
  HttpResult doubting = get("", "rogue-ca");
  EXPECT_FALSE(doubting.ok);
  EXPECT_NE(doubting.error.find("certificate rejected"), std::string::npos) << doubting.error;
  HttpResult rogue = get("rogue", "ca");
  EXPECT_FALSE(rogue.ok) << "a client certificate from an unknown CA: " << rogue.body;
  // The server still serves the others.
  EXPECT_EQ(answer(get("site-client", "ca"))["tls"], true);
}

TEST_F(TlsEdge, BadFilesAreNamed) {
  std::string error;
  EXPECT_FALSE(TlsContext::Server(files("missing", "ca"), false, &error));
  EXPECT_NE(error.find("missing.pem"), std::string::npos) << error;
  EXPECT_FALSE(TlsContext::Server(TlsFiles{certs_ + "/site-server.pem", certs_ + "/site-client.key", ""},
                                  false, &error));
  EXPECT_NE(error.find("does not match"), std::string::npos) << error;
  EXPECT_FALSE(TlsContext::Server(files("site-server", ""), true, &error));
  EXPECT_NE(error.find("CA"), std::string::npos) << error;
}

TEST_F(TlsEdge, TooManyHeaderFieldsAre431) {
  HttpCall call;
  call.port = server_->port();
  call.target = "/";
  for (int i = 0; i < 150; ++i) call.headers["x-field-" + std::to_string(i)] = "v";
  HttpResult result = http_call(call);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.status, 431);
  EXPECT_NE(result.body.find("fields"), std::string::npos) << result.body;
}

}  // namespace
}  // namespace flowstone::net
