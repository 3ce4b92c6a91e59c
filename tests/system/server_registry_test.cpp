// The `flow server` group against a real server (spec 1.6): the flow instance (/v2/server/fateflow), and the
// server registry, whose servers and services are events of the catalog, so they survive a crash and are
// rebuilt from the log. Bad input names the field and stores nothing.
#include <gtest/gtest.h>

#include <string>

#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

class ServerRegistry : public SitesTest {};

TEST_F(ServerRegistry, FlowServerInfoListsThisInstanceAsFateDoes) {
  PartyServer& s = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start(s));
  Json info = s.get("server/fateflow");
  ASSERT_EQ(code_of(info), 0) << info.dump();
  const std::string instance = "flow-127.0.0.1-" + std::to_string(s.port());
  ASSERT_EQ(info["data"].size(), 1u) << info.dump();
  const Json& flow = info["data"][instance];
  EXPECT_EQ(flow.value("instance_id", ""), instance) << info.dump();
  EXPECT_EQ(flow.value("host", ""), "127.0.0.1") << info.dump();
  EXPECT_EQ(flow.value("http_port", 0), s.port()) << info.dump();
  EXPECT_TRUE(flow["timestamp"].is_number_integer()) << info.dump();
  EXPECT_TRUE(flow["version"].is_string()) << info.dump();
}

TEST_F(ServerRegistry, ServersAndServicesAreRegisteredQueriedDeletedAndSurviveACrash) {
  PartyServer& s = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start(s));
  Json all = s.get("server/query/all");
  ASSERT_EQ(code_of(all), 0) << all.dump();
  EXPECT_EQ(all["data"], Json::object());

  Json registered =
      s.post("server/registry", {{"server_name", "serving"}, {"host", "10.0.0.2"}, {"port", 8059}});
  ASSERT_EQ(code_of(registered), 0) << registered.dump();
  EXPECT_EQ(registered["data"],
            (Json{{"host", "10.0.0.2"}, {"port", 8059}, {"protocol", "http"}, {"server_name", "SERVING"}}));
  Json service = s.post("server/service/registry", {{"server_name", "serving"},
                                                    {"service_name", "load"},
                                                    {"uri", "/v1/model/load"},
                                                    {"headers", {{"token", "t"}}}});
  ASSERT_EQ(code_of(service), 0) << service.dump();

  // Bad input: the offending field is named and nothing is stored.
  Json bad_port = s.post("server/registry", {{"server_name", "x"}, {"host", "h"}, {"port", "eighty"}});
  EXPECT_EQ(code_of(bad_port), 5001) << bad_port.dump();
  EXPECT_TRUE(contains(bad_port.dump(), "port")) << bad_port.dump();
  Json no_host = s.post("server/registry", {{"server_name", "x"}, {"port", 80}});
  EXPECT_EQ(code_of(no_host), 5001) << no_host.dump();
  EXPECT_TRUE(contains(no_host.dump(), "host")) << no_host.dump();
  Json orphan = s.post("server/service/registry",
                       {{"server_name", "nowhere"}, {"service_name", "load"}, {"uri", "/v1/x"}});
  EXPECT_EQ(code_of(orphan), 6003) << orphan.dump();
  EXPECT_EQ(code_of(s.get("server/query", {{"server_name", "x"}})), 6003);

  // Crash and restart: the registry comes back from the log.
  s.kill9();
  ASSERT_EQ(s.restart(), "");
  all = s.get("server/query/all");
  ASSERT_EQ(code_of(all), 0) << all.dump();
  EXPECT_EQ(all["data"], (Json{{"SERVING", {{"host", "10.0.0.2"}, {"port", 8059}, {"protocol", "http"}}}}));
  Json one = s.get("server/query", {{"server_name", "Serving"}});
  ASSERT_EQ(code_of(one), 0) << one.dump();
  EXPECT_EQ(one["data"].value("server_name", ""), "SERVING") << one.dump();
  EXPECT_EQ(one["data"].value("port", 0), 8059) << one.dump();
  Json load = s.get("server/service/query", {{"server_name", "serving"}, {"service_name", "load"}});
  ASSERT_EQ(code_of(load), 0) << load.dump();
  EXPECT_EQ(load["data"].value("url", ""), "http://10.0.0.2:8059/v1/model/load") << load.dump();
  EXPECT_EQ(load["data"].value("method", ""), "POST") << load.dump();
  EXPECT_EQ(load["data"]["headers"], (Json{{"token", "t"}})) << load.dump();

  // Deleting answers as FATE does: "success" when something went, "failed" when there was nothing.
  Json gone = s.post("server/service/delete", {{"server_name", "serving"}, {"service_name", "load"}});
  EXPECT_EQ(code_of(gone), 0) << gone.dump();
  EXPECT_EQ(gone.value("message", ""), "success");
  EXPECT_EQ(s.post("server/service/delete", {{"server_name", "serving"}, {"service_name", "load"}})
                .value("message", ""),
            "failed");
  EXPECT_EQ(code_of(s.get("server/service/query", {{"server_name", "serving"}, {"service_name", "load"}})),
            6003);
  EXPECT_EQ(s.post("server/delete", {{"server_name", "serving"}}).value("message", ""), "success");
  EXPECT_EQ(s.post("server/delete", {{"server_name", "serving"}}).value("message", ""), "failed");
  EXPECT_EQ(s.get("server/query/all")["data"], Json::object());

  // The views are what the log says.
  ASSERT_GE(s.stop(), 0);
  EXPECT_TRUE(store_verifies(s));
}

}  // namespace
}  // namespace flowstone::systest
