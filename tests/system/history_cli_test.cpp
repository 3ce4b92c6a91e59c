// Audit and repeat from history with the CLI: `flowstone job history` prints the job's events as a timeline
// (`--json` the route's rows), `flowstone job replay --until N` shows the job as it was after its event N,
// and `flowstone job resubmit` runs the recorded DAG again as a new job.
#include <gtest/gtest.h>

#include <string>

#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

class HistoryCli : public SitesTest {};

TEST_F(HistoryCli, TheTimelineIsReadableAndAResubmitRepeatsTheJob) {
  PartyServer& site = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start(site));
  const std::string job_id = submit_ok(site, make_dag(Json{{"a_0", noop_task(Json{{"note", "first"}})}}));
  ASSERT_FALSE(job_id.empty());
  ASSERT_EQ(wait_end(site, job_id).value("status", ""), "success") << diagnostics(job_id);

  const std::string cli = std::string(FLOWSTONE_BIN_DIR) + "/flowstone job ";
  const std::string server = " --server 127.0.0.1:" + std::to_string(site.port());
  std::string timeline;
  ASSERT_EQ(run_command(cli + "history -j " + job_id + server, &timeline), 0) << timeline;
  EXPECT_TRUE(contains(timeline, "EVENT")) << timeline;
  EXPECT_TRUE(contains(timeline, "JobCreated")) << timeline;
  EXPECT_LT(timeline.find("JobCreated"), timeline.rfind("success")) << "in order: " << timeline;
  EXPECT_FALSE(contains(timeline, "\"code\"")) << "not raw JSON: " << timeline;
  // Who caused what: the client that submitted (from this machine), the scheduler, the task's worker.
  EXPECT_TRUE(contains(timeline, "client at 127.0.0.1")) << timeline;
  EXPECT_TRUE(contains(timeline, "scheduler " + std::string(kGuest))) << timeline;
  EXPECT_TRUE(contains(timeline, "worker " + job_id + "_a_0")) << timeline;
  std::string rows;
  ASSERT_EQ(run_command(cli + "history --json -j " + job_id + server, &rows), 0) << rows;
  EXPECT_TRUE(contains(rows, "\"kind\": \"JobCreated\"")) << rows;

  // Replay: after event 1 the job was only created; after the last it had succeeded, its task too.
  std::string then;
  ASSERT_EQ(run_command(cli + "replay -j " + job_id + " --until 1" + server, &then), 0) << then;
  EXPECT_TRUE(contains(then, "as it was after event 1 of")) << then;
  EXPECT_TRUE(contains(then, "JobCreated")) << then;
  EXPECT_FALSE(contains(then, "success")) << then;
  Json events = Json::parse(rows);
  if (events.is_object()) events = events["data"];
  const std::string last = std::to_string(events.size());
  std::string now;
  ASSERT_EQ(run_command(cli + "replay -j " + job_id + " --until " + last + server, &now), 0) << now;
  EXPECT_TRUE(contains(now, "job success")) << now;
  EXPECT_TRUE(contains(now, "a_0")) << now;
  std::string refused;
  EXPECT_NE(run_command(cli + "replay -j " + job_id + " --until 0" + server, &refused), 0);
  EXPECT_TRUE(contains(refused, "until")) << refused;
  std::string beyond;
  EXPECT_NE(run_command(cli + "replay -j " + job_id + " --until 100000" + server, &beyond), 0);
  EXPECT_TRUE(contains(beyond, "has " + last + " events here")) << beyond;

  std::string resubmitted;
  ASSERT_EQ(run_command(cli + "resubmit -j " + job_id + server, &resubmitted), 0) << resubmitted;
  const std::string marker = "resubmitted job " + job_id + " as ";
  ASSERT_TRUE(contains(resubmitted, marker)) << resubmitted;
  const std::string second = resubmitted.substr(resubmitted.find(marker) + marker.size(), job_id.size());
  ASSERT_NE(second, job_id);
  Json row = wait_end(site, second);
  EXPECT_EQ(row.value("status", ""), "success") << row.dump(2) << diagnostics(second);
  // The same DAG: its task and parameters; the model ids are the new job's own.
  EXPECT_EQ(row["dag"]["dag"]["tasks"]["a_0"]["parameters"]["note"], "first") << row.dump(2);
  EXPECT_EQ(row.value("model_id", ""), second) << row.dump(2);
}

}  // namespace
}  // namespace flowstone::systest
