// The Catalog aggregate: tables, providers and imported models, decided and applied as a host does.
#include "events/catalog/catalog.hpp"

#include <gtest/gtest.h>

namespace flowstone::domain {
namespace {

CatalogDecision Decide(CatalogState& state, CatalogCommand command) {
  CatalogDecision d = decide(state, command);
  for (const auto& e : d.events) apply(state, e);
  return d;
}

ProviderInfo provider(const std::string& version, const std::string& device, Json metadata) {
  ProviderInfo p;
  p.name = "fate";
  p.version = version;
  p.device = device;
  p.metadata = std::move(metadata);
  return p;
}

TEST(Catalog, ProvidersAreCreatedUpdatedFoundAndDeleted) {
  CatalogState s;
  EXPECT_EQ(Decide(s, RegisterProvider{provider("2.1.0", "local", {{"path", "/opt/fate"}}), 1}).message,
            "create success");
  EXPECT_EQ(Decide(s, RegisterProvider{provider("2.1.0", "local", {{"path", "/opt/fate2"}}), 2}).message,
            "update success");
  EXPECT_EQ(Decide(s, RegisterProvider{provider("2.2.0", "docker", {{"image", "fate:2.2"}}), 3}).code,
            RetCode::success);
  EXPECT_EQ(Decide(s, RegisterProvider{provider("2.2.0", "gpu", {{"image", "x"}}), 4}).code,
            RetCode::device_not_supported);
  EXPECT_EQ(Decide(s, RegisterProvider{provider("2.2.0", "docker", Json::object()), 4}).code,
            RetCode::invalid_parameter);
  ASSERT_NE(find_provider(s, "fate:2.1.0@local"), nullptr);
  EXPECT_EQ(find_provider(s, "fate:2.1.0@local")->metadata.value("path", ""), "/opt/fate2");
  EXPECT_EQ(find_provider(s, "fate")->device, "docker");  // the latest registered
  EXPECT_EQ(find_provider(s, "fate@k8s"), nullptr);
  CatalogDecision deleted = Decide(s, DeleteProviders{"fate", "", "docker", 5});
  EXPECT_EQ(deleted.data, true);
  EXPECT_EQ(s.providers.size(), 1u);
  EXPECT_EQ(Decide(s, DeleteProviders{"nope", "", "", 6}).data, false);
}

// A slurm provider needs no metadata (Flowstone's own components, as Slurm jobs); what it gives must be text.
TEST(Catalog, SlurmProvidersTakeOptionalTextMetadata) {
  CatalogState s;
  EXPECT_EQ(Decide(s, RegisterProvider{provider("1.0", "slurm", Json::object()), 1}).code, RetCode::success);
  EXPECT_EQ(Decide(s, RegisterProvider{provider("1.1", "slurm", {{"partition", "debug"}}), 2}).code,
            RetCode::success);
  EXPECT_EQ(Decide(s, RegisterProvider{provider("1.2", "slurm", {{"partition", 3}}), 3}).code,
            RetCode::invalid_parameter);
  Json empty_entrypoint = Json::object();  // ({"entrypoint", ""} alone would read as a std::string range)
  empty_entrypoint["entrypoint"] = "";
  EXPECT_EQ(Decide(s, RegisterProvider{provider("1.3", "slurm", empty_entrypoint), 4}).code,
            RetCode::invalid_parameter);
  ASSERT_NE(find_provider(s, "fate:1.1@slurm"), nullptr);
  EXPECT_EQ(find_provider(s, "fate:1.1@slurm")->metadata.value("partition", ""), "debug");
}

TEST(Catalog, TablesRegisterOnceAndAnUnknownOneIsNotFound) {
  CatalogState s;
  TableMeta t;
  t.ns = "exp";
  t.name = "a";
  t.count = 3;
  EXPECT_EQ(Decide(s, RegisterTable{t, 1}).events.size(), 1u);
  EXPECT_TRUE(Decide(s, RegisterTable{t, 2}).events.empty());  // the same meta again: nothing new
  t.name = "a/b";
  EXPECT_EQ(Decide(s, RegisterTable{t, 3}).code, RetCode::invalid_parameter);
  EXPECT_EQ(Decide(s, DeleteTable{"exp", "a", 4}).code, RetCode::success);
  EXPECT_EQ(Decide(s, DeleteTable{"exp", "a", 5}).code, RetCode::table_not_found);
  EXPECT_TRUE(catalog_views(s).empty());
}

TEST(Catalog, ServersAndTheirServicesAreRegisteredByNameInUpperCase) {
  CatalogState s;
  CatalogDecision d = Decide(s, RegisterServer{"serving", "10.0.0.2", "http", 8059, 1});
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(d.data,
            (Json{{"host", "10.0.0.2"}, {"port", 8059}, {"protocol", "http"}, {"server_name", "SERVING"}}));
  ASSERT_EQ(s.servers.count("SERVING"), 1u);
  EXPECT_TRUE(Decide(s, RegisterServer{"Serving", "10.0.0.2", "http", 8059, 2}).events.empty()) << "the same";
  d = Decide(s, RegisterServer{"SERVING", "10.0.0.3", "http", 8059, 3});
  ASSERT_EQ(d.events.size(), 1u) << "a new address replaces the old";
  EXPECT_EQ(s.servers.at("SERVING").host, "10.0.0.3");
  EXPECT_EQ(s.servers.at("SERVING").create_time, 1);
  EXPECT_EQ(s.servers.at("SERVING").update_time, 3);

  d = Decide(
      s, RegisterService{
             "serving", "load", "/v1/load", "POST", "http", Json::object(), Json::object(), {{"x", "y"}}, 4});
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  const ServiceInfo& load = s.services.at({"SERVING", "load"});
  EXPECT_EQ(load.url, "http://10.0.0.3:8059/v1/load");
  EXPECT_EQ(load.headers, (Json{{"x", "y"}}));
  // A service of an unknown server, a port that is none: refused, naming what is wrong.
  d = Decide(s, RegisterService{"nope", "load", "/v1/load", "POST", "http", {}, {}, {}, 5});
  EXPECT_EQ(d.code, RetCode::server_not_found);
  EXPECT_NE(d.message.find("NOPE"), std::string::npos) << d.message;
  d = Decide(s, RegisterServer{"other", "h", "http", 70000, 6});
  EXPECT_EQ(d.code, RetCode::invalid_parameter);
  EXPECT_NE(d.message.find("port"), std::string::npos) << d.message;
  EXPECT_EQ(Decide(s, RegisterServer{"other", "h", "gopher", 80, 6}).code, RetCode::invalid_parameter);

  EXPECT_EQ(Decide(s, DeleteService{"serving", "load", 7}).message, "success");
  EXPECT_EQ(Decide(s, DeleteService{"serving", "load", 8}).message, "failed");
  EXPECT_EQ(Decide(s, DeleteServer{"serving", 9}).message, "success");
  EXPECT_EQ(Decide(s, DeleteServer{"serving", 10}).message, "failed");
  EXPECT_TRUE(s.servers.empty());
}

}  // namespace
}  // namespace flowstone::domain
