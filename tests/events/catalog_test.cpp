// The Catalog aggregate: tables, providers and imported models, decided and applied as a host does.
#include "events/catalog.hpp"

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
  EXPECT_EQ(Decide(s, RegisterProvider{provider("2.2.0", "docker", {{"image", "fate:2.2"}}), 3}).code, 0);
  EXPECT_EQ(Decide(s, RegisterProvider{provider("2.2.0", "gpu", {{"image", "x"}}), 4}).code, 4001);
  EXPECT_EQ(Decide(s, RegisterProvider{provider("2.2.0", "docker", Json::object()), 4}).code, 5001);
  ASSERT_NE(find_provider(s, "fate:2.1.0@local"), nullptr);
  EXPECT_EQ(find_provider(s, "fate:2.1.0@local")->metadata.value("path", ""), "/opt/fate2");
  EXPECT_EQ(find_provider(s, "fate")->device, "docker");  // the latest registered
  EXPECT_EQ(find_provider(s, "fate@k8s"), nullptr);
  CatalogDecision deleted = Decide(s, DeleteProviders{"fate", "", "docker", 5});
  EXPECT_EQ(deleted.data, true);
  EXPECT_EQ(s.providers.size(), 1u);
  EXPECT_EQ(Decide(s, DeleteProviders{"nope", "", "", 6}).data, false);
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
  EXPECT_EQ(Decide(s, RegisterTable{t, 3}).code, 5001);
  EXPECT_EQ(Decide(s, DeleteTable{"exp", "a", 4}).code, 0);
  EXPECT_EQ(Decide(s, DeleteTable{"exp", "a", 5}).code, 7001);
  EXPECT_TRUE(catalog_views(s).empty());
}

}  // namespace
}  // namespace flowstone::domain
