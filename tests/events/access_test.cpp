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
  EXPECT_EQ(query_apps(state, Caller{"admin"}, "", "", "").data.size(), 4u);
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
