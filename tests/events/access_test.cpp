// The Access aggregate (events/access/access.hpp): FATE-Flow's rules for who may create, delete, grant and
// query apps, decided on state and applied as events.
#include "events/access/access.hpp"

#include <gtest/gtest.h>

namespace flowstone::domain {
namespace {

void run(AccessState& state, const AccessCommand& command, RetCode expected = RetCode::success) {
  AccessDecision d = decide(state, command);
  ASSERT_EQ(d.code, expected) << d.message;
  for (const auto& e : d.events) apply(state, e);
}

AccessState with_clients() {
  AccessState state;
  run(state, Bootstrap{"9999", "sitetoken", 1});
  run(state, CreateApp{Caller{"admin"}, "boss", "client", "11111111", "t1", 2});
  run(state, CreateApp{Caller{"admin"}, "worker", "client", "22222222", "t2", 3});
  run(state, GrantRole{Caller{"admin"}, "11111111", kRoleSuperClient, 4});
  run(state, GrantRole{Caller{"admin"}, "22222222", kRoleClient, 5});
  return state;
}

TEST(Access, BootstrapCreatesAdminAndTheSiteAppOnceAndKeepsTheirTokens) {
  AccessState state;
  run(state, Bootstrap{"9999", "first", 1});
  ASSERT_NE(state.app("admin"), nullptr);
  EXPECT_EQ(state.app("admin")->app_token, "fate_flow_admin");
  EXPECT_EQ(state.app("9999")->app_token, "first");
  EXPECT_TRUE(state.has_role("9999", kRoleSite));
  EXPECT_EQ(state.partner_apps.at("9999").app_token, "first");
  EXPECT_TRUE(decide(state, Bootstrap{"9999", "second", 2}).events.empty()) << "a restart keeps the token";
}

TEST(Access, FatesRulesForCreatingAndDeletingApps) {
  AccessState state = with_clients();
  run(state, CreateApp{Caller{"22222222"}, "x", "client", "33333333", "t", 6}, RetCode::no_permission);
  run(state, CreateApp{Caller{"44444444"}, "x", "client", "33333333", "t", 6}, RetCode::no_permission);
  run(state, CreateApp{Caller{"11111111"}, "x", "client", "33333333", "t", 6});
  run(state, DeleteApp{Caller{"11111111"}, "11111111", "", "", 7}, RetCode::no_permission);  // itself
  run(state, DeleteApp{Caller{"11111111"}, "admin", "", "", 7}, RetCode::no_permission);
  run(state, DeleteApp{Caller{"22222222"}, "33333333", "", "", 7}, RetCode::no_permission);
  run(state, DeleteApp{Caller{"11111111"}, "33333333", "", "", 7});
  EXPECT_EQ(state.app("33333333"), nullptr);
  // `flow client delete-client` names a client app: the site's own app is not one, and stays.
  AccessDecision site = decide(state, DeleteApp{Caller{"admin"}, "9999", "", "client", 8});
  EXPECT_EQ(site.data["status"], false);
  EXPECT_TRUE(site.events.empty());
}

TEST(Access, GrantReplacesRolesAndChecksTheAppsType) {
  AccessState state = with_clients();
  run(state, GrantRole{Caller{"admin"}, "22222222", kRoleSite, 6}, RetCode::role_type_error);
  run(state, GrantRole{Caller{"admin"}, "99999999", kRoleClient, 6}, RetCode::no_found_appid);
  run(state, GrantRole{Caller{"11111111"}, "22222222", kRoleSuperClient, 6},
      RetCode::no_permission);  // a super_client may not change the roles of an app that has some
  run(state, GrantRole{Caller{"admin"}, "22222222", kRoleSuperClient, 6});
  EXPECT_TRUE(state.has_role("22222222", kRoleSuperClient));
  EXPECT_FALSE(state.has_role("22222222", kRoleClient)) << "grant replaces the app's roles";
}

TEST(Access, QueriesFollowFatesRules) {
  AccessState state = with_clients();
  EXPECT_EQ(query_apps(state, Caller{"22222222"}, "22222222", "", "").code, RetCode::success);
  EXPECT_EQ(query_apps(state, Caller{"22222222"}, "11111111", "", "").code, RetCode::no_permission);
  EXPECT_EQ(query_apps(state, Caller{"11111111"}, "22222222", "", "").code, RetCode::success);
  EXPECT_EQ(query_apps(state, Caller{"admin"}, "", "", "client").data.size(), 0u)
      << "FATE's query without a filter answers nothing (no list of every token)";
  Json boss = query_apps(state, Caller{"admin"}, "", "boss", "").data;
  ASSERT_EQ(boss.size(), 1u);
  EXPECT_EQ(boss[0]["create_time"], 2);
  EXPECT_EQ(boss[0]["update_time"], 2);
  EXPECT_EQ(query_permissions(state, Caller{"admin"}, "99999999", {}).code, RetCode::no_found_appid);
  run(state, RevokeRole{Caller{"admin"}, "22222222", "boss", 6}, RetCode::invalid_parameter);
  run(state, RevokeRole{Caller{"admin"}, "99999999", kRoleClient, 6}, RetCode::no_found_appid);
}

TEST(Access, APartnerAppKeepsWhenItWasFirstSaved) {
  AccessState state = with_clients();
  run(state, SavePartnerApp{"10000", "10000", "first", 10});
  run(state, SavePartnerApp{"10000", "10000", "second", 20});
  Json row = partner_app_row(state.partner_apps.at("10000"));
  EXPECT_EQ(row["app_token"], "second");
  EXPECT_EQ(row["create_time"], 10);
  EXPECT_EQ(row["update_time"], 20);
}

TEST(Access, ResourceGrantsAreCheckedPerInitiatorWithTheWildcard) {
  AccessState state;
  const std::string dataset = dataset_key("t1", "ns");
  EXPECT_EQ(dataset, R"({"name"-"t1";"namespace"-"ns"})");
  run(state, GrantResources{"10000", {"psi"}, {dataset}, false, 1});
  EXPECT_EQ(resources_refused(state, "10000", {"psi"}, {dataset}), "");
  EXPECT_NE(resources_refused(state, "10000", {"psi", "statistics"}, {}), "");
  EXPECT_NE(resources_refused(state, "10001", {"psi"}, {}), "") << "grants are per initiator party";
  run(state, GrantResources{"10000", {"*"}, {}, false, 2});
  EXPECT_EQ(resources_refused(state, "10000", {"statistics"}, {}), "");
  run(state, GrantResources{"10000", {"*"}, {"*"}, true, 3});
  EXPECT_NE(resources_refused(state, "10000", {"psi"}, {}), "");
  EXPECT_EQ(resource_grants(state, "10000"),
            (Json{{"dataset", Json::array()}, {"component", Json::array()}}));
}

}  // namespace
}  // namespace flowstone::domain
