// TLS between sites (flowstone.tls) on real servers with a throwaway PKI made by openssl: two sites with site
// authentication and client-certificate verification on run a job over HTTPS; a partner call over plain
// HTTP, over TLS without a client certificate, or with a certificate from a CA the site does not trust is
// refused and changes nothing; a client that does not trust the site's CA does not get through either.
#include "net/tls.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "net/http_client.hpp"
#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

class Tls : public SitesTest {
 protected:
  void SetUp() override {
    certs_ = ::testing::TempDir() + "/flowstone-tls-" + std::to_string(::getpid());
    const std::string command = std::string(FLOWSTONE_SOURCE_DIR) + "/apps/flowstone/make_certs.sh " +
                                certs_ + " " + kGuest + " " + kHost;
    ASSERT_EQ(std::system(command.c_str()), 0) << "openssl could not make the test certificates";
  }
  void TearDown() override { std::system(("rm -rf " + certs_).c_str()); }

  std::string tls_yaml(const std::string& party) const {
    return ", tls: {cert: " + certs_ + "/site-" + party + ".pem, key: " + certs_ + "/site-" + party +
           ".key, ca: " + certs_ + "/ca.pem, verify_clients: true}";
  }
  std::shared_ptr<net::TlsContext> client(const std::string& identity, const std::string& ca) const {
    net::TlsFiles files{identity.empty() ? "" : certs_ + "/" + identity + ".pem",
                        identity.empty() ? "" : certs_ + "/" + identity + ".key", certs_ + "/" + ca + ".pem"};
    std::string error;
    auto context = net::TlsContext::Client(files, &error);
    EXPECT_TRUE(context) << error;
    return context;
  }
  // POST /v2/<route> with `body`, or GET /v2/<route> when `body` is null.
  net::HttpResult call(PartyServer& at, const std::string& route, const Json& body,
                       std::shared_ptr<const net::TlsContext> tls) const {
    net::HttpCall request;
    request.method = body.is_null() ? "GET" : "POST";
    request.port = at.port();
    request.target = "/v2/" + route;
    if (!body.is_null()) request.body = body.dump();
    request.tls = std::move(tls);
    return net::http_call(request);
  }

  std::string certs_;
};

TEST_F(Tls, TwoSitesRunAJobOverHttpsAndEveryoneElseIsRefused) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect(federation_yaml(), "https://");
  for (PartyServer* site : {&guest, &host}) {
    site->options().flowstone_yaml += tls_yaml(site->party_id());
    site->options().extra_yaml += "\nauthentication: {client: false, site: true, permission: false}\n";
  }
  ASSERT_NO_FATAL_FAILURE(start_all());
  for (auto [from, to] : {std::pair{&guest, &host}, std::pair{&host, &guest}}) {
    Json site_app = from->get("app/site/query?party_id=" + from->party_id());
    ASSERT_EQ(site_app["data"].size(), 1u) << site_app.dump();
    Json saved = to->post("app/partner/create", Json{{"party_id", from->party_id()},
                                                     {"app_id", site_app["data"][0]["app_id"]},
                                                     {"app_token", site_app["data"][0]["app_token"]}});
    ASSERT_EQ(code_of(saved), 0) << saved.dump();
  }

  const std::string job_id = submit_ok(
      guest, make_dag(Json{{"a_0", noop_task()}}, Json{{"scheduler_party_id", kGuest}}, guest_and_host()));
  ASSERT_FALSE(job_id.empty());
  EXPECT_EQ(wait_end(guest, job_id).value("status", ""), "success") << diagnostics(job_id);
  EXPECT_EQ(wait_end(host, job_id, "host").value("status", ""), "success") << diagnostics(job_id);
  EXPECT_TRUE(contains(host.diagnostics(), "HTTPS")) << "the host says it serves HTTPS";

  const Json stop{{"job_id", job_id}, {"role", "host"}, {"party_id", kHost}};
  // Plain HTTP, even from this machine: partner routes are HTTPS only.
  Json plain = host.post("partner/job/stop", stop);
  EXPECT_EQ(code_of(plain), 5005) << plain.dump();
  EXPECT_TRUE(contains(plain.dump(), "HTTPS only")) << plain.dump();
  // TLS without a client certificate.
  Json anonymous = json_of(call(host, "partner/job/stop", stop, client("", "ca")));
  EXPECT_EQ(code_of(anonymous), 5005) << anonymous.dump();
  EXPECT_TRUE(contains(anonymous.dump(), "client certificate")) << anonymous.dump();
  // A certificate for the right address from a CA the host does not trust: no handshake.
  net::HttpResult rogue = call(host, "partner/job/stop", stop, client("rogue", "ca"));
  EXPECT_FALSE(rogue.ok) << rogue.status << " " << rogue.body;
  // A client that does not trust the host's CA refuses the host.
  net::HttpResult doubting = call(host, "job/query?job_id=" + job_id, nullptr, client("", "rogue-ca"));
  EXPECT_FALSE(doubting.ok);
  EXPECT_TRUE(contains(doubting.error, "certificate")) << doubting.error;
  EXPECT_EQ(host.job_row(job_id, "host").value("status", ""), "success") << "nothing changed";

  // A client that trusts the CA reads over HTTPS without a certificate of its own.
  Json read = json_of(call(host, "job/query?job_id=" + job_id, nullptr, client("", "ca")));
  EXPECT_EQ(code_of(read), 0) << read.dump();
  // So does the flowstone CLI, given the CA; without it, the system's CAs do not know this one.
  const std::string cli = std::string(FLOWSTONE_BIN_DIR) + "/flowstone job query -j " + job_id +
                          " --server https://127.0.0.1:" + std::to_string(host.port()) + " > /dev/null 2>&1";
  EXPECT_EQ(std::system(("FLOWSTONE_CA=" + certs_ + "/ca.pem " + cli).c_str()), 0);
  EXPECT_NE(std::system(cli.c_str()), 0);

  // The guest comes back with a certificate from another CA: the host does not talk to it, and the job fails
  // at the guest with the reason.
  ASSERT_GE(guest.stop(), 0);
  const std::string own = certs_ + "/site-" + kGuest;
  std::string& yaml = guest.options().flowstone_yaml;
  for (std::string ext : {".pem", ".key"})
    yaml.replace(yaml.find(own + ext), own.size() + ext.size(), certs_ + "/rogue" + ext);
  ASSERT_EQ(guest.restart(), "");
  Json refused;
  const std::string rogue_job = guest.submit(
      make_dag(Json{{"a_0", noop_task()}}, Json{{"scheduler_party_id", kGuest}}, guest_and_host()), &refused);
  if (!rogue_job.empty()) refused = wait_end(guest, rogue_job);
  EXPECT_NE(refused.value("status", ""), "success") << refused.dump(2);
  EXPECT_TRUE(contains(refused.dump(), "TLS") || contains(refused.dump(), "certificate")) << refused.dump(2);
  EXPECT_TRUE(host.job_row(rogue_job, "host").is_null()) << "the host has no such job";
}

// The README's demo with --secure: three parties, HTTPS with client certificates, site authentication on.
TEST(SecureDemo, ThreePartiesRunTheDemoJobOverHttpsWithSiteAuthentication) {
  const std::string dir = ::testing::TempDir() + "/flowstone-secure-demo-" + std::to_string(::getpid());
  const int base = free_port_run(3);  // guest, host, arbiter
  ASSERT_NE(base, 0);
  const std::string out = dir + ".out";
  const std::string command = "timeout 240 " + std::string(FLOWSTONE_BIN_DIR) +
                              "/flowstone demo --secure --dir " + dir + " --port " + std::to_string(base) +
                              " > " + out + " 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream file(out);
  const std::string printed((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(status, 0) << printed;
  EXPECT_TRUE(contains(printed, "talk HTTPS with client certificates")) << printed;
  EXPECT_TRUE(contains(printed, "job ended success at every party")) << printed;
  std::system(("rm -rf " + dir + " " + out).c_str());
}

}  // namespace
}  // namespace flowstone::systest
