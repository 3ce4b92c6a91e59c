// FATE-Flow's authentication (spec 1.4) on real servers: signed client requests with FATE's md5 construction,
// the app and permission routes with FATE's role rules, refusals with FATE's codes that change nothing, a
// replayed request refused (FATE accepts it), and two sites with site authentication on running a job, each
// signing its calls with the app the other gave it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "net/signature.hpp"
#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct App {
  std::string id, token;
};

const App kAdmin{"admin", "fate_flow_admin"};

int next_nonce = 1000;

// The headers the flow CLI sends for `app` (spec 1.4).
Headers client_headers(const App& app, int64_t timestamp_ms = now_ms(), const std::string& nonce = "4711") {
  const std::string timestamp = std::to_string(timestamp_ms);
  return Headers{{"appId", app.id},
                 {"userName", "alice"},
                 {"Timestamp", timestamp},
                 {"Nonce", nonce},
                 {"Signature", net::fate_signature(app.id, "alice", nonce, timestamp, app.token)}};
}

Json call(PartyServer& server, const std::string& method, const std::string& route, const Json& body,
          const Headers& headers) {
  return json_of(server.raw(method, "/v2/" + route, method == "GET" ? "" : body.dump(), headers));
}

Json signed_call(PartyServer& server, const App& app, const std::string& method, const std::string& route,
                 const Json& body = Json::object()) {
  return call(server, method, route, body, client_headers(app, now_ms(), std::to_string(++next_nonce)));
}

class ClientAuth : public SitesTest {};

TEST_F(ClientAuth, SignedRequestsPassAndEveryBadOneGetsFatesCodeAndChangesNothing) {
  PartyServer& site = add(kGuest);
  site.options().extra_yaml += "\nauthentication: {client: true, site: false, permission: false}\n";
  site.options().sign = [] { return client_headers(kAdmin, now_ms(), std::to_string(++next_nonce)); };
  ASSERT_NO_FATAL_FAILURE(start(site));

  EXPECT_EQ(code_of(call(site, "GET", "job/list/query", nullptr, {})), 5001) << "unsigned: appId is missing";
  Json created = signed_call(site, kAdmin, "POST", "app/client/create", Json{{"app_name", "peer"}});
  ASSERT_EQ(code_of(created), 0) << created.dump();
  const App peer{created["data"].value("app_id", ""), created["data"].value("app_token", "")};
  EXPECT_EQ(peer.id.size(), 8u);
  EXPECT_EQ(peer.token.size(), 16u);

  // A new client app holds no role: FATE's casbin check refuses it.
  EXPECT_EQ(code_of(signed_call(site, peer, "GET", "job/list/query")), 5004);
  Json granted =
      signed_call(site, kAdmin, "POST", "permission/grant", Json{{"app_id", peer.id}, {"role", "client"}});
  ASSERT_EQ(code_of(granted), 0) << granted.dump();
  EXPECT_EQ(code_of(signed_call(site, peer, "GET", "job/list/query")), 0);
  // A client may not create apps (super_client and admin only), nor call the app pages at all.
  EXPECT_EQ(code_of(signed_call(site, peer, "POST", "app/client/create", Json{{"app_name", "x"}})), 5004);
  // Nor register a provider: it names executables this server runs (beyond FATE: admin and super_client).
  EXPECT_EQ(code_of(signed_call(site, peer, "POST", "provider/register",
                                Json{{"name", "evil"}, {"version", "1"}, {"device", "docker"}})),
            5004);

  const Json apps_before = signed_call(site, kAdmin, "GET", "app/client/query?app_name=intruder");
  ASSERT_EQ(code_of(apps_before), 0) << apps_before.dump();
  const Json body{{"app_name", "intruder"}};
  Headers expired = client_headers(kAdmin, now_ms() - 120000, "1111");
  EXPECT_EQ(code_of(call(site, "POST", "app/client/create", body, expired)), 5000);
  Headers forged = client_headers(kAdmin, now_ms(), "2222");
  forged["Signature"] = net::fate_signature("admin", "alice", "2222", forged["Timestamp"], "guessed");
  EXPECT_EQ(code_of(call(site, "POST", "app/client/create", body, forged)), 5003);
  EXPECT_EQ(code_of(call(site, "POST", "app/client/create", body, client_headers(App{"12345678", "t"}))),
            5002);
  Headers short_nonce = client_headers(kAdmin, now_ms(), "12");
  EXPECT_EQ(code_of(call(site, "POST", "app/client/create", body, short_nonce)), 5001);
  // The same signed request twice: the second is a replay (FATE would run it again).
  Headers once = client_headers(kAdmin, now_ms(), "3333");
  EXPECT_EQ(code_of(call(site, "POST", "app/client/create", body, once)), 0);
  Json replayed = call(site, "POST", "app/client/create", body, once);
  EXPECT_EQ(code_of(replayed), 5003) << replayed.dump();
  EXPECT_TRUE(contains(replayed.value("message", ""), "replayed")) << replayed.dump();
  const Json apps_after = signed_call(site, kAdmin, "GET", "app/client/query?app_name=intruder");
  EXPECT_EQ(apps_after["data"].size(), apps_before["data"].size() + 1) << "only the first of the two stored";

  // Roles and resources through the permission routes, as `flow permission` calls them.
  Json roles = signed_call(site, kAdmin, "GET", "permission/query?app_id=" + peer.id);
  ASSERT_EQ(code_of(roles), 0) << roles.dump();
  ASSERT_TRUE(roles["data"].contains("client")) << roles.dump();
  EXPECT_FALSE(roles["data"]["client"].empty());
  Json grant = signed_call(site, kAdmin, "POST", "permission/resource/grant",
                           Json{{"party_id", kHost},
                                {"component", "psi,reader"},
                                {"dataset", Json::array({Json{{"name", "t1"}, {"namespace", "ns"}}})}});
  ASSERT_EQ(code_of(grant), 0) << grant.dump();
  Json resources = signed_call(site, kAdmin, "GET", "permission/resource/query?party_id=" + kHost);
  EXPECT_EQ(resources["data"]["component"], Json::array({"psi", "reader"})) << resources.dump();
  EXPECT_EQ(resources["data"]["dataset"], Json::array({Json{{"name", "t1"}, {"namespace", "ns"}}}))
      << resources.dump();

  // Worker routes are never signed (FATE), and reach their handler.
  Json worker =
      call(site, "POST", "worker/task/status", Json{{"execution_id", "nope"}, {"status", "running"}}, {});
  EXPECT_NE(code_of(worker), 5001) << worker.dump();

  // Apps, roles and grants survive a restart: they are events of the access stream.
  ASSERT_EQ(site.stop(), 0);
  ASSERT_EQ(site.restart(), "");
  EXPECT_EQ(code_of(signed_call(site, peer, "GET", "job/list/query")), 0);
}

TEST_F(ClientAuth, AppAndPermissionRoutesAreRestrictedWhenAuthenticationIsOff) {
  PartyServer& site = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start(site));
  EXPECT_EQ(code_of(site.post("app/client/create", Json{{"app_name", "x"}})), 6001);
  EXPECT_EQ(code_of(site.get("permission/role/query")), 6001);
}

class SiteAuth : public SitesTest {};

TEST_F(SiteAuth, TwoSitesThatExchangedAppsRunAJobAndAForgedPartnerCallIsRefused) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  guest.options().extra_yaml += "\nauthentication: {client: false, site: true, permission: false}\n";
  host.options().extra_yaml += "\nauthentication: {client: false, site: true, permission: true}\n";
  ASSERT_NO_FATAL_FAILURE(start_all());

  // `flow client create-partner` at each site with the other's own site app (`flow client query-site`).
  for (auto [from, to] : {std::pair{&guest, &host}, std::pair{&host, &guest}}) {
    Json site_app = from->get("app/site/query?party_id=" + from->party_id());
    ASSERT_EQ(code_of(site_app), 0) << site_app.dump();
    ASSERT_EQ(site_app["data"].size(), 1u) << site_app.dump();
    Json saved = to->post("app/partner/create", Json{{"party_id", from->party_id()},
                                                     {"app_id", site_app["data"][0]["app_id"]},
                                                     {"app_token", site_app["data"][0]["app_token"]}});
    ASSERT_EQ(code_of(saved), 0) << saved.dump();
  }

  // The host runs for the guest only what it granted to party 9999 (FATE's resource permission, 5005).
  Json refused;
  const std::string ungranted = guest.submit(
      make_dag(Json{{"a_0", noop_task()}}, Json{{"scheduler_party_id", kGuest}}, guest_and_host()), &refused);
  if (!ungranted.empty()) refused = wait_end(guest, ungranted);
  EXPECT_TRUE(contains(refused.dump(), "not granted")) << refused.dump(2) << diagnostics(ungranted);
  EXPECT_NE(refused.value("status", ""), "success");
  Json grant = host.post("permission/resource/grant", Json{{"party_id", kGuest}, {"component", "noop"}});
  ASSERT_EQ(code_of(grant), 0) << grant.dump();

  const std::string job_id = submit_ok(
      guest, make_dag(Json{{"a_0", noop_task()}}, Json{{"scheduler_party_id", kGuest}}, guest_and_host()));
  ASSERT_FALSE(job_id.empty());
  Json row = wait_end(guest, job_id);
  EXPECT_EQ(row.value("status", ""), "success") << row.dump(2) << diagnostics(job_id);
  EXPECT_EQ(wait_end(host, job_id, "host").value("status", ""), "success") << diagnostics(job_id);

  // Anyone else calling the host's partner routes: unsigned, or signed with a token it guessed.
  const Json stop{{"job_id", job_id}, {"role", "host"}, {"party_id", kHost}};
  EXPECT_EQ(code_of(host.post("partner/job/stop", stop)), 5001);
  const std::string timestamp = std::to_string(now_ms());
  Headers forged{{"appId", kHost},
                 {"Timestamp", timestamp},
                 {"Nonce", "5555"},
                 {"initiatorPartyId", kGuest},
                 {"Signature", net::fate_signature(kHost, kGuest, "5555", timestamp, "guessed")}};
  EXPECT_EQ(code_of(call(host, "POST", "partner/job/stop", stop, forged)), 5003);
  EXPECT_EQ(host.job_row(job_id, "host").value("status", ""), "success") << "nothing changed";
}

}  // namespace
}  // namespace flowstone::systest

namespace flowstone::systest {
namespace {

TEST(RateLimit, AClientPastItsRateGets429AndWorkersAreNotCounted) {
  ServerOptions options;
  options.flowstone_yaml = "rate_limit: {client_per_s: 2, burst: 2}";
  PartyServer site(options);
  ASSERT_EQ(site.start(), "");
  int refused = 0;
  net::HttpResult last;
  for (int i = 0; i < 12; ++i) {
    net::HttpResult r = site.raw("GET", "/v2/job/list/query", "", {{"appId", "busy"}});
    if (r.status == 429) {
      ++refused;
      last = r;
    }
  }
  EXPECT_GE(refused, 6) << "2 a second with bursts of 4: most of 12 calls at once are refused";
  EXPECT_EQ(code_of(json_of(last)), 6005) << last.body;
  EXPECT_TRUE(contains(last.body, "127.0.0.1")) << "unsigned: the caller is its address " << last.body;
  Json worker = json_of(site.raw("POST", "/v2/worker/task/status",
                                 Json{{"execution_id", "x"}, {"status", "running"}}.dump(), {}));
  EXPECT_NE(code_of(worker), 6005) << "workers are not clients: " << worker.dump();
}

}  // namespace
}  // namespace flowstone::systest

namespace flowstone::systest {
namespace {

// The requests the flow CLI's client, permission, site and server groups send (reference/client-api.md, each
// body as recorded from fate_client 2.2.0), signed as the CLI signs them, against a site with client
// authentication and permissions on: every one is answered, and does what the command says.
TEST_F(ClientAuth, TheFlowCliGroupsClientPermissionSiteAndServerWorkAsRecorded) {
  PartyServer& site = add(kGuest);
  site.options().extra_yaml += "\nauthentication: {client: true, site: true, permission: true}\n";
  site.options().sign = [] { return client_headers(kAdmin, now_ms(), std::to_string(++next_nonce)); };
  ASSERT_NO_FATAL_FAILURE(start(site));
  auto flow = [&](const std::string& method, const std::string& route, const Json& body = Json::object()) {
    Json answer = signed_call(site, kAdmin, method, route, body);
    EXPECT_EQ(code_of(answer), 0) << method << " " << route << ": " << answer.dump();
    return answer;
  };

  // flow client create-client --app-name peer; query-client --app-id; permission grant/query/delete.
  const std::string app =
      flow("POST", "app/client/create", Json{{"app_name", "peer"}})["data"].value("app_id", "");
  ASSERT_FALSE(app.empty());
  EXPECT_EQ(flow("GET", "app/client/query?app_id=" + app)["data"].size(), 1u);
  flow("POST", "permission/grant", Json{{"app_id", app}, {"role", "client"}});
  EXPECT_TRUE(flow("GET", "permission/query?app_id=" + app)["data"].contains("client"));
  EXPECT_EQ(flow("POST", "permission/delete", Json{{"app_id", app}, {"role", "client"}})["data"]["status"],
            true);

  // flow permission grant-resource / query-resource / delete-resource -c permission_resource.json.
  const Json resource{{"component", "noop"},
                      {"dataset", Json::array({Json{{"name", "tiny_guest"}, {"namespace", "demo"}}})},
                      {"party_id", "9999"}};
  flow("POST", "permission/resource/grant", resource);
  Json granted = flow("GET", "permission/resource/query?party_id=9999")["data"];
  EXPECT_EQ(granted["component"], Json::array({"noop"})) << granted.dump();
  EXPECT_EQ(granted["dataset"], resource["dataset"]) << granted.dump();
  flow("POST", "permission/resource/delete", resource);
  EXPECT_EQ(flow("GET", "permission/resource/query?party_id=9999")["data"]["component"], Json::array());

  // flow site query; flow server info.
  EXPECT_EQ(flow("GET", "site/info/query")["data"].value("party_id", ""), kGuest);
  EXPECT_FALSE(flow("GET", "server/fateflow")["data"].empty());

  // flow client create-site / query-site / delete-site -p 10000.
  flow("POST", "app/site/create", Json{{"party_id", "10000"}});
  EXPECT_EQ(flow("GET", "app/site/query?party_id=10000")["data"].size(), 1u);
  flow("POST", "app/site/delete", Json{{"party_id", "10000"}});
  EXPECT_EQ(flow("GET", "app/site/query?party_id=10000")["data"].size(), 0u);

  // flow client create-partner -p 10000 --app-id a --app-token t / query-partner / delete-partner.
  flow("POST", "app/partner/create", Json{{"app_id", "a"}, {"app_token", "t"}, {"party_id", "10000"}});
  Json partner = flow("GET", "app/partner/query?party_id=10000")["data"];
  ASSERT_EQ(partner.size(), 1u);
  EXPECT_EQ(partner[0].value("app_token", ""), "t");
  flow("POST", "app/partner/delete", Json{{"party_id", "10000"}});
  EXPECT_EQ(flow("GET", "app/partner/query?party_id=10000")["data"].size(), 0u);

  // flow client delete-client --app-id.
  EXPECT_EQ(flow("POST", "app/client/delete", Json{{"app_id", app}})["data"]["status"], true);
  EXPECT_EQ(flow("GET", "app/client/query?app_id=" + app)["data"].size(), 0u);

  // Flowstone's own CLI signs as flow does when given an app; unsigned, the site refuses it.
  const std::string cli = std::string(FLOWSTONE_BIN_DIR) + "/flowstone job list --server 127.0.0.1:" +
                          std::to_string(site.port()) + " > /dev/null 2>&1";
  EXPECT_NE(std::system(cli.c_str()), 0);
  EXPECT_EQ(std::system(("FLOWSTONE_APP_ID=admin FLOWSTONE_APP_TOKEN=fate_flow_admin " + cli).c_str()), 0);
}

}  // namespace
}  // namespace flowstone::systest
