// Tracking end-to-end tests of providers (fixture: tracking_fixture.hpp): registered, updated, queried and
// deleted; a FATE algorithm package and a docker provider run jobs.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "net/archive.hpp"
#include "net/http_client.hpp"
#include "net/json_io.hpp"
#include "net/multipart.hpp"
#include "tests/system/sites.hpp"
#include "tests/system/tracking_fixture.hpp"

namespace flowstone::systest {
namespace {

using namespace tracking_fixture;

// 6 -----------------------------------------------------------------------------------------------------
// Providers register, update, query and delete; a FATE algorithm package runs a job through them.
TEST_F(Tracking, ProvidersRegisterAndAFatePackageRunsAJob) {
  ASSERT_TRUE(fs::exists(fate_fixture_dir() + "/fate/components/__main__.py")) << fate_fixture_dir();
  PartyServer& s = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start(s));
  // A copy in the server's folder: Python may write its caches next to the package.
  const std::string package = s.providers_dir() + "/fate-noop-provider";
  fs::copy(fate_fixture_dir(), package, fs::copy_options::recursive);
  for (const auto& entry : fs::recursive_directory_iterator(package))
    fs::permissions(entry.path(), fs::perms::owner_write, fs::perm_options::add);
  fs::permissions(package, fs::perms::owner_write, fs::perm_options::add);

  Json fate = {{"name", "fate"},
               {"version", "2.1.0"},
               {"device", "local"},
               {"metadata", {{"path", package}, {"venv", "/usr/bin/python3"}}},
               {"components_description", {{"noop", Json::object()}, {"noop_consumer", Json::object()}}}};
  Json created = s.post("provider/register", fate);
  ASSERT_EQ(code_of(created), 0) << created.dump();
  EXPECT_EQ(created.value("message", ""), "create success") << created.dump();
  Json updated = s.post("provider/register", fate);
  ASSERT_EQ(code_of(updated), 0) << updated.dump();
  EXPECT_EQ(updated.value("message", ""), "update success") << updated.dump();

  // The built-in providers are listed as FATE lists fate_flow, and the server describes itself.
  Json builtin = s.get("provider/query", {{"name", "fate_flow"}});
  ASSERT_EQ(code_of(builtin), 0) << builtin.dump();
  ASSERT_EQ(builtin["data"].size(), 1u) << builtin.dump(2);
  EXPECT_TRUE(contains(builtin["data"][0]["components"].dump(), "\"noop\"")) << builtin.dump(2);
  Json info = s.get("server/fateflow");
  ASSERT_EQ(code_of(info), 0) << info.dump();
  const std::string instance = "flow-127.0.0.1-" + std::to_string(s.port());
  ASSERT_TRUE(info["data"].contains(instance)) << info.dump();
  EXPECT_EQ(info["data"][instance].value("http_port", 0), s.port()) << info.dump();
  EXPECT_EQ(info["data"][instance].value("instance_id", ""), instance) << info.dump();
  EXPECT_TRUE(info["data"][instance]["timestamp"].is_number_integer()) << info.dump();

  Json gpu = fate;
  gpu["device"] = "gpu";
  gpu["version"] = "2.2.0";
  EXPECT_EQ(code_of(s.post("provider/register", gpu)), 4001);
  Json missing = fate;
  missing["version"] = "2.3.0";
  missing["metadata"]["path"] = s.providers_dir() + "/no_such_package";
  EXPECT_EQ(code_of(s.post("provider/register", missing)), 8001);
  Json q = s.get("provider/query", {{"name", "fate"}});
  ASSERT_EQ(code_of(q), 0) << q.dump();
  ASSERT_EQ(q["data"].size(), 1u) << "refused registrations were stored: " << q.dump(2);
  EXPECT_EQ(q["data"][0].value("version", ""), "2.1.0") << q.dump(2);
  EXPECT_EQ(q["data"][0].value("device", ""), "local") << q.dump(2);

  Json other = {
      {"name", "other"}, {"version", "1.0"}, {"device", "docker"}, {"metadata", {{"image", "x/y:1"}}}};
  ASSERT_EQ(code_of(s.post("provider/register", other)), 0);
  ASSERT_EQ(s.get("provider/query", {{"name", "other"}})["data"].size(), 1u);
  Json deleted = s.post("provider/delete", {{"name", "other"}});
  EXPECT_EQ(code_of(deleted), 0) << deleted.dump();
  EXPECT_EQ(deleted["data"], true) << deleted.dump();
  EXPECT_EQ(s.get("provider/query", {{"name", "other"}})["data"], Json::array());
  EXPECT_EQ(s.get("provider/query", {{"name", "fate"}})["data"].size(), 1u) << "deleting other deleted fate";

  // noop_0 -> noop_consumer_0 through the package.
  Json dag = make_dag(
      Json{{"noop_0", noop_task({{"emit_metric", true}})}, {"noop_consumer_0", consumer_task("noop_0")}},
      Json{{"task", {{"provider", "fate:2.1.0@local"}}}});
  std::string job_id = submit_ok(s, dag);
  ASSERT_FALSE(job_id.empty());
  ASSERT_NO_FATAL_FAILURE(expect_job_success(s, job_id));
  Json model = output(s, "output/model/query", job_id, "guest", "noop_0");
  ASSERT_EQ(code_of(model), 0) << model.dump() << diagnostics(job_id);
  EXPECT_EQ(model["data"]["output_model"].value("component", ""), "noop") << model.dump(2);
  EXPECT_EQ(model["data"]["output_model"].value("task_name", ""), "noop_0") << model.dump(2);
  Json metric = output(s, "output/metric/query", job_id, "guest", "noop_0");
  ASSERT_EQ(code_of(metric), 0) << metric.dump();
  ASSERT_EQ(metric["data"].size(), 1u) << metric.dump(2);
  EXPECT_EQ(metric["data"][0].value("name", ""), "noop_metric") << metric.dump(2);
  EXPECT_EQ(metric["data"][0]["data"], Json::parse(R"([{"metric": [1.0], "step": 0}])")) << metric.dump(2);
  Json consumer = output(s, "output/model/query", job_id, "guest", "noop_consumer_0");
  EXPECT_EQ(code_of(consumer), 0) << consumer.dump();
  EXPECT_EQ(consumer["data"]["output_model"].value("component", ""), "noop_consumer") << consumer.dump(2);
  auto kinds = history_kinds(s.history(job_id));
  EXPECT_TRUE(kinds.count("ModelSaved") && kinds.count("MetricsSaved")) << ::testing::PrintToString(kinds);

  // A job naming a provider that is not registered is refused.
  Json refused;
  s.submit(make_dag(Json{{"noop_0", noop_task()}}, Json{{"task", {{"provider", "fate:9.9.9@local"}}}}),
           &refused);
  EXPECT_NE(code_of(refused), 0) << refused.dump();
}

// 7 -----------------------------------------------------------------------------------------------------
// A docker provider runs `docker run` of its image with the task config in CONFIG.
TEST_F(Tracking, DockerProviderRunsTheImageWithTheConfig) {
  PartyServer& s = add(kGuest);
  // A stand-in `docker` first on the server's PATH: it records its arguments and CONFIG, and exits.
  const std::string bin = s.dir() + "/fake-bin";
  const std::string argv_file = s.dir() + "/docker.argv";
  const std::string config_file = s.dir() + "/docker.config";
  write_file(bin + "/docker", "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + argv_file +
                                  ".tmp'\nprintf '%s' \"$CONFIG\" > '" + config_file + "'\nmv '" + argv_file +
                                  ".tmp' '" + argv_file + "'\nexit 0\n");
  fs::permissions(bin + "/docker", fs::perms::owner_all);
  const char* old_path = std::getenv("PATH");
  const std::string saved = old_path ? old_path : "/usr/bin:/bin";
  ::setenv("PATH", (bin + ":" + saved).c_str(), 1);
  std::string error = s.start();
  ::setenv("PATH", saved.c_str(), 1);
  ASSERT_EQ(error, "");

  Json docker = {{"name", "fate"},
                 {"version", "2.1.0"},
                 {"device", "docker"},
                 {"metadata", {{"image", "example/fate:2.1"}}},
                 {"components_description", {{"noop", Json::object()}}}};
  Json registered = s.post("provider/register", docker);
  ASSERT_EQ(code_of(registered), 0) << registered.dump();
  std::string job_id = submit_ok(
      s, make_dag(Json{{"noop_0", noop_task()}}, Json{{"task", {{"provider", "fate:2.1.0@docker"}}}}));
  ASSERT_FALSE(job_id.empty());
  Json row = wait_end(s, job_id, "guest", 30s);
  EXPECT_EQ(row.value("status", ""), "failed") << "a worker that never reported: " << row.dump(2);

  ASSERT_TRUE(poll_until([&] { return fs::exists(argv_file); }, 10s))
      << "docker never ran" << diagnostics(job_id);
  auto task = s.task_rows(job_id)["noop_0"];
  const std::string task_id = task.value("task_id", "");
  ASSERT_FALSE(task_id.empty()) << task.dump(2);
  EXPECT_EQ(task.value("provider_name", ""), "fate:2.1.0@docker")
      << "the row names who ran it: " << task.dump(2);
  std::vector<std::string> args = lines_of(read_text(argv_file));
  const std::vector<std::string> head = {
      "run", "--rm", "--name", "guest-" + kGuest + "-" + task_id + "-0", "--network", "host", "-e", "CONFIG"};
  ASSERT_GE(args.size(), head.size() + 1) << ::testing::PrintToString(args);
  EXPECT_EQ(std::vector<std::string>(args.begin(), args.begin() + static_cast<long>(head.size())), head)
      << ::testing::PrintToString(args);
  EXPECT_EQ(args.back(), "example/fate:2.1") << ::testing::PrintToString(args);

  Json config = parse_json_text(read_text(config_file));
  ASSERT_TRUE(config.is_object()) << "CONFIG is not JSON: " << read_text(config_file);
  EXPECT_EQ(config.value("task_id", ""), task_id) << config.dump(2);
  EXPECT_EQ(config.value("component", ""), "noop") << config.dump(2);
  ASSERT_TRUE(config.contains("mlmd")) << config.dump(2);
  EXPECT_EQ(config["mlmd"].value(Json::json_pointer("/metadata/port"), Json()), Json(s.port()))
      << config.dump(2);
  EXPECT_TRUE(no_task_process_left(s));
}

}  // namespace
}  // namespace flowstone::systest
