// The route table (actors/api_routes.hpp): every route declared once, answered by exactly one handler, and
// every route the official `flow` client calls is there.
#include "actors/api_routes.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace flowstone::actors {
namespace {

TEST(ApiRoutes, EachRouteIsDeclaredOnceWithExactlyOneHandler) {
  std::set<std::string> seen;
  for (const ApiRoute& route : api_routes()) {
    const std::string name = std::string(route.method) + " " + route.path;
    EXPECT_TRUE(seen.insert(name).second) << name << " is declared twice";
    const int handlers =
        (route.answer.command != nullptr) + (route.answer.read != nullptr) + route.answer.feed;
    EXPECT_EQ(handlers, 1) << name << " needs exactly one handler";
    EXPECT_TRUE(std::string(route.method) == "GET" || std::string(route.method) == "POST") << name;
  }
}

TEST(ApiRoutes, ReadHandlersAnswerOnlyReads) {
  // A read runs on the query actor, which holds no job actor: a route that changes state must be a command.
  for (const ApiRoute& route : api_routes()) {
    const std::string path = route.path;
    const bool changes_state =
        path.find("delete") != std::string::npos || path.find("save") != std::string::npos ||
        path.find("register") != std::string::npos || path.find("submit") != std::string::npos;
    const bool command = route.answer.command != nullptr;
    if (changes_state) {
      EXPECT_TRUE(command) << path;
    }
  }
}

// What the official flow CLI and SDK call (shared/reference/client-api.md).
TEST(ApiRoutes, EveryRouteTheFlowClientCallsIsDeclared) {
  const std::set<std::string> client_paths = {"data/component/dataframe/transformer",
                                              "data/component/download",
                                              "data/component/upload",
                                              "data/component/upload/file",
                                              "data/download",
                                              "job/clean",
                                              "job/dag/dependency",
                                              "job/list/query",
                                              "job/log/download",
                                              "job/notes/add",
                                              "job/query",
                                              "job/queue/clean",
                                              "job/rerun",
                                              "job/stop",
                                              "job/submit",
                                              "job/task/list/query",
                                              "job/task/query",
                                              "log/count",
                                              "log/query",
                                              "model/delete",
                                              "model/export",
                                              "model/import",
                                              "output/data/display",
                                              "output/data/download",
                                              "output/data/table",
                                              "output/metric/delete",
                                              "output/metric/key/query",
                                              "output/metric/query",
                                              "output/model/delete",
                                              "output/model/download",
                                              "output/model/query",
                                              "provider/delete",
                                              "provider/query",
                                              "provider/register",
                                              "server/fateflow",
                                              "site/info/query",
                                              "table/bind/path",
                                              "table/delete",
                                              "table/query",
                                              "app/client/create",
                                              "app/client/delete",
                                              "app/client/query",
                                              "app/site/create",
                                              "app/site/delete",
                                              "app/site/query",
                                              "app/partner/create",
                                              "app/partner/delete",
                                              "app/partner/query",
                                              "permission/grant",
                                              "permission/delete",
                                              "permission/query",
                                              "permission/role/query",
                                              "permission/resource/grant",
                                              "permission/resource/delete",
                                              "permission/resource/query"};
  std::set<std::string> declared;
  for (const ApiRoute& route : api_routes()) declared.insert(route.path);
  for (const std::string& path : client_paths) EXPECT_TRUE(declared.count(path)) << "/v2/" << path;
}

}  // namespace
}  // namespace flowstone::actors
