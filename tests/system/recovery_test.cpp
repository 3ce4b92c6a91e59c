// What a restart brings back and what a server keeps, on real servers: a job's actor is stopped once its
// job is at rest and comes back when a command names the job; a restart recovers an ended job only while
// the scheduler still owes a party the call that tells it of the end; `flowstone store compact` removes
// old jobs' streams and keeps what users read about them.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

class Recovery : public SitesTest {};

// The value of a series without labels in the guest's /metrics, -1 if absent or unreachable.
double metric(PartyServer& server, const std::string& series) {
  net::HttpResult scrape = server.raw("GET", "/metrics", "");
  if (!scrape.ok) return -1;
  const std::string text = "\n" + scrape.body, prefix = "\n" + series + " ";
  auto at = text.find(prefix);
  return at == std::string::npos ? -1 : std::atof(text.c_str() + at + prefix.size());
}

// How many times the server's own log says it recovered the job.
int recoveries(PartyServer& server, const std::string& job_id) {
  std::ifstream in(server.data_dir() + "/logs/flowstone.log");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string line = "[job-" + job_id + "] recovering the job";
  int n = 0;
  for (auto at = text.find(line); at != std::string::npos; at = text.find(line, at + 1)) ++n;
  return n;
}

TEST_F(Recovery, AJobsActorStopsWhenIdleAndComesBackForACommand) {
  PartyServer& guest = add(kGuest);
  add(kHost);
  connect();
  for (auto& s : servers) s->options().flowstone_yaml += ", job_actor_idle_ms: 300";
  ASSERT_NO_FATAL_FAILURE(start_all());
  const std::string job_id = submit_ok(
      guest, make_dag(Json{{"a_0", noop_task()}}, Json{{"scheduler_party_id", kGuest}}, guest_and_host()));
  ASSERT_EQ(wait_end(guest, job_id).value("status", ""), "success") << diagnostics(job_id);

  EXPECT_TRUE(poll_until([&] { return metric(guest, "flowstone_job_actors") == 0; }, 10s))
      << "the ended job's actor is still alive: " << metric(guest, "flowstone_job_actors");

  // A command for the job: a new actor replays its stream and answers as the old one would.
  Json added = guest.post(
      "job/notes/add", Json{{"job_id", job_id}, {"role", "guest"}, {"party_id", kGuest}, {"notes", "seen"}});
  ASSERT_EQ(added.value("code", -1), 0) << added.dump();
  EXPECT_EQ(guest.job_row(job_id).value("description", ""), "seen");
  EXPECT_EQ(guest.job_row(job_id).value("status", ""), "success");
  // And it stops again.
  EXPECT_TRUE(poll_until([&] { return metric(guest, "flowstone_job_actors") == 0; }, 10s));
  EXPECT_EQ(recoveries(guest, job_id), 0);
}

TEST_F(Recovery, ARestartRecoversAnEndedJobOnlyUntilEveryPartyHasItsEnd) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect(federation_yaml(3000, 1500));
  ASSERT_NO_FATAL_FAILURE(start_all());

  // A job that ends with both parties up: nothing is owed, a restart does not bring it back.
  const std::string done = submit_ok(
      guest, make_dag(Json{{"a_0", noop_task()}}, Json{{"scheduler_party_id", kGuest}}, guest_and_host()));
  ASSERT_EQ(wait_end(guest, done).value("status", ""), "success") << diagnostics(done);
  ASSERT_TRUE(poll_until(
      [&] {
        Json row = guest.job_row(done);
        return row.is_object() && !row.contains("end_undelivered");
      },
      10s));

  // A job stopped while the host is down: its stop cannot be delivered, and the row says so.
  Json slow = noop_task();
  slow["parameters"] = Json{{"sleep", 30}};
  const std::string owed =
      submit_ok(guest, make_dag(Json{{"a_0", slow}}, Json{{"scheduler_party_id", kGuest}}, guest_and_host()));
  ASSERT_TRUE(guest.wait_task_running(owed, "a_0").met) << diagnostics(owed);
  host.kill9();
  host.kill_task_processes();
  Json stopped = guest.post("job/stop", Json{{"job_id", owed}});
  ASSERT_EQ(stopped.value("code", -1), 0) << stopped.dump();
  ASSERT_TRUE(guest.wait_job_status(owed, "canceled").met) << diagnostics(owed);
  EXPECT_TRUE(poll_until([&] { return guest.job_row(owed).value("end_undelivered", false); }, 10s))
      << guest.job_row(owed).dump();

  // The guest restarts: it recovers the job that owes its end, not the other one.
  guest.stop();
  ASSERT_EQ(guest.restart(), "");
  EXPECT_TRUE(poll_until([&] { return recoveries(guest, owed) == 1; }, 10s)) << diagnostics(owed);
  EXPECT_EQ(recoveries(guest, done), 0);

  // Once the host is back, the guest's repeats of the stop reach it (no restart needed): the end is
  // recorded as delivered, and the next restart recovers nothing.
  ASSERT_EQ(host.restart(), "");
  EXPECT_TRUE(poll_until(
      [&] {
        Json row = guest.job_row(owed);
        return row.is_object() && !row.contains("end_undelivered");
      },
      30s))
      << guest.job_row(owed).dump() << diagnostics(owed);
  EXPECT_EQ(host.job_row(owed, "host", kHost).value("status", ""), "canceled");
  guest.stop();
  ASSERT_EQ(guest.restart(), "");
  EXPECT_EQ(recoveries(guest, owed), 1);
  EXPECT_EQ(recoveries(guest, done), 0);
}

TEST_F(Recovery, CompactRemovesOldJobsStreamsAndKeepsTheirViews) {
  PartyServer& guest = add(kGuest);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  const Json parties = Json::array({party("guest", kGuest)});
  const std::string old_job = submit_ok(guest, make_dag(Json{{"a_0", noop_task()}}, Json::object(), parties));
  ASSERT_EQ(wait_end(guest, old_job).value("status", ""), "success") << diagnostics(old_job);
  const Json row_before = guest.job_row(old_job);
  const auto tasks_before = guest.task_rows(old_job);
  ASSERT_GT(guest.history(old_job).size(), 0u);
  guest.stop();

  const std::string flowstone = std::string(FLOWSTONE_BIN_DIR) + "/flowstone";
  std::string output;
  int status = run_command(flowstone + " store compact --keep-days x --config " + guest.conf_path(), &output);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << output;
  EXPECT_TRUE(contains(output, "--keep-days must be a whole number of days")) << output;
  // Ended today: a week's retention keeps it.
  status = run_command(flowstone + " store compact --keep-days 7 --config " + guest.conf_path(), &output);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  EXPECT_TRUE(contains(output, "compact: 0 jobs")) << output;
  // No retention: its stream goes, its views stay, and the views still match the log.
  status = run_command(flowstone + " store compact --keep-days 0 --config " + guest.conf_path(), &output);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  EXPECT_TRUE(contains(output, "compact: 1 jobs")) << output;
  EXPECT_TRUE(contains(output, "views match the log")) << output;
  // A rebuild from the log alone restores them too (from the retention event).
  status = run_command(flowstone + " store rebuild --config " + guest.conf_path(), &output);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;

  ASSERT_EQ(guest.restart(), "");
  EXPECT_EQ(guest.job_row(old_job), row_before);
  EXPECT_EQ(guest.task_rows(old_job), tasks_before);
  EXPECT_EQ(guest.history(old_job).size(), 0u) << "the stream is gone";
  // A new job still runs.
  const std::string next = submit_ok(guest, make_dag(Json{{"a_0", noop_task()}}, Json::object(), parties));
  EXPECT_EQ(wait_end(guest, next).value("status", ""), "success") << diagnostics(next);
}

}  // namespace
}  // namespace flowstone::systest
