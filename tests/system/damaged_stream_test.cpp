// A job whose stream holds an event this build cannot decode (a damaged disk, a log from a newer build) is
// never shown as if it were sound and never replayed past the damage: after a restart its owner stops,
// /v2/job/query marks its rows `damaged` with why, `flowstone store verify` names it, and the other jobs of
// the site are served as before.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <memory>
#include <string>

#include "store/event_log.hpp"
#include "store/projections.hpp"
#include "tests/system/party_server.hpp"

namespace flowstone::systest {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Appends bytes that are no event to the job's stream, the server being stopped.
// *version is the damaged event's version.
void damage_stream(const std::string& db_dir, const std::string& job_id, uint64_t* version) {
  std::unique_ptr<store::EventLog> log;
  store::Options options;
  options.view_families = store::job_view_families();
  ASSERT_TRUE(store::EventLog::Open(db_dir, options, &log).ok());
  store::AppendRequest append;
  append.stream = "job:" + job_id;
  append.expected_version = log->StreamVersion(append.stream);
  ASSERT_GT(append.expected_version, 0u);
  append.events.push_back("\x01\x02 not an event");
  *version = append.expected_version + 1;
  ASSERT_TRUE(log->Append(std::move(append)).status.ok());
  log->Close();
}

TEST(DamagedStream, IsMarkedByJobQueryAndStoreVerifyWhileOtherJobsAreServed) {
  PartyServer server;
  ASSERT_EQ(server.start(), "");
  Json reply;
  const std::string sound = server.submit(make_dag(Json{{"a_0", noop_task()}}), &reply);
  ASSERT_FALSE(sound.empty()) << reply.dump();
  ASSERT_TRUE(server.wait_job_status(sound, "success").met) << server.diagnostics(sound);
  const std::string damaged = server.submit(make_dag(Json{{"a_0", noop_task({{"sleep", 60}})}}), &reply);
  ASSERT_FALSE(damaged.empty()) << reply.dump();
  ASSERT_TRUE(server.wait_task_running(damaged, "a_0").met) << server.diagnostics(damaged);
  ASSERT_EQ(server.stop(), 0);
  server.kill_task_processes();
  uint64_t bad_version = 0;
  ASSERT_NO_FATAL_FAILURE(damage_stream(server.data_dir() + "/db", damaged, &bad_version));

  ASSERT_EQ(server.restart(), "");  // the unfinished job is brought back at start, and its replay stops
  Json rows;
  ASSERT_TRUE(poll_until(
      [&] {
        rows = server.get("job/query", {{"job_id", damaged}});
        return rows.value("code", -1) == 0 && rows["data"].is_array() && !rows["data"].empty() &&
               rows["data"][0].contains("damaged");
      },
      20s))
      << rows.dump(2) << server.diagnostics(damaged);
  EXPECT_TRUE(contains(rows["data"][0]["damaged"].get<std::string>(),
                       "event " + std::to_string(bad_version) + " does not decode"))
      << "the mark says where: " << rows.dump(2);
  EXPECT_TRUE(contains(rows.value("message", ""), "job stream damaged")) << rows.dump(2);

  Json other = server.get("job/query", {{"job_id", sound}});
  ASSERT_EQ(other.value("code", -1), 0) << other.dump(2);
  EXPECT_FALSE(other["data"][0].contains("damaged")) << other.dump(2);
  EXPECT_EQ(other["data"][0].value("status", ""), "success");
  EXPECT_EQ(server.submit(make_dag(Json{{"a_0", noop_task()}}), &reply).empty(), false) << reply.dump();

  ASSERT_EQ(server.stop(), 0);
  std::string output;
  int status = run_command(
      std::string(FLOWSTONE_BIN_DIR) + "/flowstone store verify --config " + server.conf_path() + " 2>&1",
      &output);
  EXPECT_NE(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0) << output;
  EXPECT_TRUE(contains(output, "job:" + damaged)) << output;
}

}  // namespace
}  // namespace flowstone::systest
