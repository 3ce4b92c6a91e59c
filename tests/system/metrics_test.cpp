// GET /metrics on a real server after a job: the families a Prometheus scrape gets, with values that follow
// what happened, in a format `promtool check metrics` (Debian's prometheus package) accepts.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

// The value of the series `series` (name with its labels as rendered), -1 when absent.
double value_of(const std::string& text, const std::string& series) {
  const std::string prefix = "\n" + series + " ";
  auto at = text.find(prefix);
  if (at == std::string::npos) return -1;
  return std::atof(text.c_str() + at + prefix.size());
}

class Metrics : public SitesTest {};

TEST_F(Metrics, AScrapeAfterAJobCountsItAndPassesPromtool) {
  PartyServer& guest = add(kGuest);
  add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  const std::string job_id = submit_ok(
      guest, make_dag(Json{{"a_0", noop_task()}}, Json{{"scheduler_party_id", kGuest}}, guest_and_host()));
  ASSERT_FALSE(job_id.empty());
  ASSERT_EQ(wait_end(guest, job_id).value("status", ""), "success") << diagnostics(job_id);

  // The job's row is written with its last event; the gauges follow once its actor has seen the append.
  net::HttpResult scrape;
  poll_until(
      [&] {
        scrape = guest.raw("GET", "/metrics", "");
        return scrape.ok && contains(scrape.body, "\nflowstone_jobs{status=\"running\"} 0\n") &&
               contains(scrape.body, "\nflowstone_task_runs{status=\"running\"} 0\n");
      },
      10s);
  ASSERT_TRUE(scrape.ok) << scrape.error;
  EXPECT_EQ(scrape.status, 200);
  EXPECT_TRUE(contains(scrape.content_type, "text/plain")) << scrape.content_type;
  const std::string text = "\n" + scrape.body;
  EXPECT_GE(value_of(text, "flowstone_http_requests_total{route=\"job/submit\",code=\"0\"}"), 1) << text;
  EXPECT_GE(value_of(text, "flowstone_http_request_duration_seconds_count{route=\"job/submit\"}"), 1) << text;
  EXPECT_GT(value_of(text, "flowstone_events_appended_total"), 0) << text;
  EXPECT_GT(value_of(text, "flowstone_event_commit_duration_seconds_count"), 0) << text;
  EXPECT_GE(value_of(text, "flowstone_partner_calls_total{endpoint=\"partner/job/create\",code=\"0\"}"), 1)
      << text;
  EXPECT_EQ(value_of(text, "flowstone_party_reachable{party_id=\"" + kHost + "\"}"), 1) << text;
  EXPECT_EQ(value_of(text, "flowstone_jobs{status=\"running\"}"), 0) << "the job ended: " << text;
  EXPECT_GT(value_of(text, "flowstone_start_duration_seconds"), 0) << text;
  EXPECT_EQ(value_of(text, "flowstone_replay_duration_seconds"), 0) << "nothing to bring back: " << text;
  EXPECT_GT(value_of(text, "flowstone_event_append_duration_seconds_count"), 0) << text;
  EXPECT_EQ(value_of(text, "flowstone_jobs_ended_total{status=\"success\"}"), 1) << text;
  EXPECT_EQ(value_of(text, "flowstone_task_runs_ended_total{status=\"success\"}"), 1) << "a_0 here: " << text;
  EXPECT_GE(value_of(text, "flowstone_admission_wait_seconds_count"), 1) << text;
  EXPECT_EQ(value_of(text, "flowstone_cores_in_use"), 0) << "the job gave its cores back: " << text;
  EXPECT_EQ(value_of(text, "flowstone_task_runs{status=\"running\"}"), 0) << "the job ended: " << text;
  EXPECT_GE(value_of(text, "flowstone_actor_mailbox_depth{actor=\"registry\"}"), 0) << text;
  EXPECT_TRUE(contains(text, "flowstone_actor_mailbox_depth{actor=\"queries\"}")) << text;
  EXPECT_GE(value_of(text, "flowstone_actor_mailbox_depth{actor=\"job\"}"), 0) << text;

  const std::string file = guest.dir() + "/scrape.txt";
  std::ofstream(file) << scrape.body;
  const std::string check = "promtool check metrics < " + file + " > " + file + ".out 2>&1";
  const int status = std::system(check.c_str());
  std::ifstream out(file + ".out");
  const std::string said((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_EQ(status, 0) << "promtool check metrics (apt-get install prometheus): " << said;
}

}  // namespace
}  // namespace flowstone::systest
