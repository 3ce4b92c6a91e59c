// Lifecycle end-to-end tests: task and job timeouts, auto-retry backoff, rerun from a task, and jobs larger
// than a party. Real `flowstone serve` processes on 127.0.0.1 (tests/system/party_server.hpp), real
// launchers and workers (flowstone-noop, flowstone-noop_consumer), driven through the HTTP API and checked
// through what a user sees: job and task rows, every task version, the job's history, the processes and
// the files the launcher leaves. Times compared are the server's own fields; every wait polls with a
// deadline, nothing is timed.
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

int64_t ms(const Json& row, const char* field) {
  return row.contains(field) && row[field].is_number_integer() ? row[field].get<int64_t>() : -1;
}

// A noop task that sleeps `seconds` and has a task timeout of `timeout_s` (task conf).
Json sleeping_task(int seconds, int timeout_s) {
  Json task = noop_task({{"sleep", seconds}});
  task["conf"] = {{"timeout", timeout_s}};
  return task;
}

// a_0 -> b_0 -> c_0, linked by model inputs.
Json chain_tasks() {
  return Json{{"a_0", noop_task()}, {"b_0", consumer_task("a_0")}, {"c_0", consumer_task("b_0")}};
}

class Lifecycle : public SitesTest {
 protected:
  // Waits until the job's copy (role) at `server` has ended; expects it timed out.
  Json wait_timeout(PartyServer& server, const std::string& job_id, const std::string& role = "guest",
                    std::chrono::milliseconds deadline = 40s) {
    Json row = wait_end(server, job_id, role, deadline);
    EXPECT_EQ(row.value("status", ""), "timeout") << row.dump(2) << diagnostics(job_id);
    return row;
  }

  // The worker `pid` is gone and its launcher recorded that a signal ended it (the launcher writes
  // exit_status once the worker is gone).
  ::testing::AssertionResult worker_was_killed(pid_t pid, const std::string& task_dir) {
    std::string exit_status;
    bool gone = poll_until(
        [&] {
          exit_status = read_text(task_dir + "/exit_status");
          return !pid_running(pid) && !exit_status.empty();
        },
        30s);
    if (!gone)
      return ::testing::AssertionFailure()
             << "worker " << pid << (pid_running(pid) ? " still runs" : " is gone but no exit_status in ")
             << task_dir;
    if (!contains(exit_status, "killed by signal"))
      return ::testing::AssertionFailure() << "the worker was not killed; exit_status: " << exit_status;
    return ::testing::AssertionSuccess();
  }

  // The scheduler's job statuses (ScheduleStatusChanged) in the order the job's history recorded them ("job
  // status S at scheduler (reason)").
  static std::vector<std::string> scheduler_statuses(PartyServer& server, const std::string& job_id) {
    std::vector<std::string> out;
    Json history = server.history(job_id);
    if (!history.is_array()) return out;
    const std::string prefix = "job status ";
    for (const auto& e : history) {
      std::string what = e.value("what", "");
      if (e.value("kind", "") != "ScheduleStatusChanged" || what.rfind(prefix, 0) != 0 ||
          !contains(what, " at scheduler"))
        continue;
      out.push_back(what.substr(prefix.size(), what.find(' ', prefix.size()) - prefix.size()));
    }
    return out;
  }
};

// 1 -----------------------------------------------------------------------------------------------------
// Also a regression test: the killed worker's launcher reports `failed` after the detector ended the run
// as `timeout`; that report used to turn the run into `failed` (fixed while these tests were written).
TEST_F(Lifecycle, TaskPastItsTimeoutEndsAsTimeoutAndItsWorkerIsKilled) {
  PartyServer& server = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start_all());
  // a_0 would sleep 60 s; its task timeout is 1 s.
  std::string job_id =
      submit_ok(server, make_dag(Json{{"a_0", sleeping_task(60, 1)}, {"b_0", consumer_task("a_0")}}));
  ASSERT_FALSE(job_id.empty());
  const std::string dir = server.task_dir(job_id, "a_0");
  pid_t worker = server.wait_pid_file(dir, "worker.pid");
  ASSERT_GT(worker, 0) << diagnostics(job_id);

  Json row = wait_timeout(server, job_id);
  EXPECT_TRUE(worker_was_killed(worker, dir)) << diagnostics(job_id);
  EXPECT_TRUE(no_task_process_left(server));

  // Checked once every process is gone: the killed worker's launcher reported a failure, which changed
  // nothing. The run timed out, it did not fail.
  auto tasks = server.task_rows(job_id);
  ASSERT_TRUE(tasks.count("a_0") && tasks.count("b_0"));
  EXPECT_EQ(tasks["a_0"].value("party_status", ""), "timeout") << tasks["a_0"].dump(2);
  EXPECT_EQ(tasks["a_0"].value("status", ""), "timeout") << tasks["a_0"].dump(2);
  EXPECT_EQ(tasks["a_0"].value("timeout", -1), 1) << tasks["a_0"].dump(2);
  EXPECT_EQ(tasks["a_0"].value("task_version", -1), 0) << tasks["a_0"].dump(2);
  EXPECT_TRUE(contains(tasks["a_0"].value("error_report", ""), "timed out")) << tasks["a_0"].dump(2);
  EXPECT_EQ(tasks["b_0"].value("party_status", ""), "waiting") << tasks["b_0"].dump(2);
  EXPECT_TRUE(tasks["b_0"]["start_time"].is_null()) << tasks["b_0"].dump(2);
  row = server.job_row(job_id);
  EXPECT_EQ(row.value("status", ""), "timeout") << row.dump(2);
  EXPECT_TRUE(contains(row.value("status_reason", ""), "timed out")) << row.dump(2);
  EXPECT_GT(ms(row, "end_time"), 0) << row.dump(2);
}

// 2 -----------------------------------------------------------------------------------------------------
TEST_F(Lifecycle, TimedOutTaskIsRetriedWithAutoRetries) {
  PartyServer& server = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::string job_id =
      submit_ok(server, make_dag(Json{{"a_0", sleeping_task(60, 1)}}, {{"auto_retries", 1}}));
  ASSERT_FALSE(job_id.empty());

  wait_timeout(server, job_id, "guest", 50s);
  EXPECT_TRUE(no_task_process_left(server));

  auto versions = server.task_versions(job_id, "a_0");
  ASSERT_EQ(versions.size(), 2u) << "versions of a_0: " << Json(versions).dump(2);
  ASSERT_TRUE(versions.count(0) && versions.count(1)) << Json(versions).dump(2);
  for (int v : {0, 1}) {
    const Json& t = versions[v];
    EXPECT_EQ(t.value("party_status", ""), "timeout") << t.dump(2);
    EXPECT_EQ(t.value("status", ""), "timeout") << t.dump(2);
    EXPECT_TRUE(contains(t.value("error_report", ""), "timed out")) << t.dump(2);
    EXPECT_TRUE(contains(read_text(server.task_dir(job_id, "a_0", v) + "/exit_status"), "killed by signal"))
        << "version " << v << ": " << read_text(server.task_dir(job_id, "a_0", v) + "/exit_status");
  }
  // The retry waited out its backoff (1 s by default) after version 0 ended.
  EXPECT_GE(ms(versions[1], "start_time"), ms(versions[0], "end_time") + 1000)
      << "v0 " << versions[0].dump(2) << "\nv1 " << versions[1].dump(2);
  EXPECT_EQ(server.task_rows(job_id)["a_0"].value("task_version", -1), 1);
}

// 2b ----------------------------------------------------------------------------------------------------
// The killed worker's late `failed` report must not fail the task while another task keeps the job running.
TEST_F(Lifecycle, TaskTimeoutNextToARunningTaskTimesTheJobOut) {
  PartyServer& server = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start_all());
  // 8 job cores, 4 a task: a_0 (60 s, timeout 1 s) and z_0 (3 s) run side by side.
  std::string job_id =
      submit_ok(server, make_dag(Json{{"a_0", sleeping_task(60, 1)}, {"z_0", noop_task({{"sleep", 3}})}},
                                 {{"cores", 8}, {"task", {{"engine_run", {{"cores", 4}}}}}}));
  ASSERT_FALSE(job_id.empty());
  wait_timeout(server, job_id);
  EXPECT_TRUE(no_task_process_left(server));
  auto tasks = server.task_rows(job_id);
  EXPECT_EQ(tasks["a_0"].value("status", ""), "timeout") << tasks["a_0"].dump(2);
  EXPECT_EQ(tasks["a_0"].value("party_status", ""), "timeout") << tasks["a_0"].dump(2);
  EXPECT_EQ(tasks["z_0"].value("party_status", ""), "success") << tasks["z_0"].dump(2);
}

// 3 -----------------------------------------------------------------------------------------------------
TEST_F(Lifecycle, JobPastItsTimeoutIsStoppedAsTimeout) {
  PartyServer& server = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start_all());
  // The job may run 1 s; a_0 alone would sleep 60 s (and its own task timeout is the default, days).
  std::string job_id = submit_ok(
      server,
      make_dag(Json{{"a_0", noop_task({{"sleep", 60}})}, {"b_0", consumer_task("a_0")}}, {{"timeout", 1}}));
  ASSERT_FALSE(job_id.empty());
  const std::string dir = server.task_dir(job_id, "a_0");
  pid_t worker = server.wait_pid_file(dir, "worker.pid");
  ASSERT_GT(worker, 0) << diagnostics(job_id);

  Json row = wait_timeout(server, job_id);
  EXPECT_TRUE(contains(row.value("status_reason", ""), "timed out")) << row.dump(2);
  EXPECT_TRUE(worker_was_killed(worker, dir)) << diagnostics(job_id);
  EXPECT_TRUE(no_task_process_left(server));

  auto tasks = server.task_rows(job_id);
  EXPECT_EQ(tasks["a_0"].value("party_status", ""), "timeout") << tasks["a_0"].dump(2);
  EXPECT_GT(tasks["a_0"].value("timeout", 0), 1) << "the task's own timeout is not what stopped it";
  EXPECT_EQ(tasks["b_0"].value("party_status", ""), "waiting") << tasks["b_0"].dump(2);
  EXPECT_EQ(server.job_row(job_id).value("status", ""), "timeout");
  EXPECT_EQ(server.task_versions(job_id, "a_0").size(), 1u) << "a job timeout is not retried";
}

// 3b ----------------------------------------------------------------------------------------------------
// The host's run passes its task timeout (set for the host only): the host reports `timeout`, the
// scheduler stops the guest's run of the same task, and the job times out at both parties, with a reason
// naming the host.
TEST_F(Lifecycle, TaskTimeoutAtAPartnerTimesTheJobOutEverywhere) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  Json dag = make_dag(Json{{"a_0", noop_task({{"sleep", 60}})}, {"b_0", consumer_task("a_0")}},
                      {{"scheduler_party_id", kGuest}}, guest_and_host());
  dag["dag"]["party_tasks"] = host_party_tasks({{"a_0", {{"conf", {{"timeout", 1}}}}}});
  std::string job_id = submit_ok(guest, dag);
  ASSERT_FALSE(job_id.empty());

  Json guest_row = wait_timeout(guest, job_id);
  wait_timeout(host, job_id, "host");
  EXPECT_TRUE(contains(guest_row.value("status_reason", ""), "host:10000")) << guest_row.dump(2);
  EXPECT_TRUE(contains(guest_row.value("status_reason", ""), "timed out")) << guest_row.dump(2);
  EXPECT_TRUE(no_task_process_left(guest));
  EXPECT_TRUE(no_task_process_left(host));

  auto host_tasks = host.task_rows(job_id, "host");
  EXPECT_EQ(host_tasks["a_0"].value("party_status", ""), "timeout") << host_tasks["a_0"].dump(2);
  EXPECT_EQ(host_tasks["a_0"].value("timeout", -1), 1) << host_tasks["a_0"].dump(2);
  EXPECT_TRUE(contains(host_tasks["a_0"].value("error_report", ""), "timed out"))
      << host_tasks["a_0"].dump(2);
  auto guest_tasks = guest.task_rows(job_id, "guest");
  EXPECT_EQ(guest_tasks["a_0"].value("status", ""), "timeout") << guest_tasks["a_0"].dump(2);
  EXPECT_EQ(guest_tasks["a_0"].value("party_status", ""), "timeout") << guest_tasks["a_0"].dump(2);
  EXPECT_GT(guest_tasks["a_0"].value("timeout", 0), 1) << "the guest's own timeout is the default";
  for (auto* tasks : {&guest_tasks, &host_tasks})
    EXPECT_EQ((*tasks)["b_0"].value("party_status", ""), "waiting") << (*tasks)["b_0"].dump(2);
}

// The job's timeout stops it at every party, killing the partner's worker too.
TEST_F(Lifecycle, JobTimeoutStopsEveryParty) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::string job_id =
      submit_ok(guest, make_dag(Json{{"a_0", noop_task({{"sleep", 60}})}},
                                {{"scheduler_party_id", kGuest}, {"timeout", 1}}, guest_and_host()));
  ASSERT_FALSE(job_id.empty());
  const std::string host_dir = host.task_dir(job_id, "a_0", 0, "host");
  pid_t host_worker = host.wait_pid_file(host_dir, "worker.pid");
  ASSERT_GT(host_worker, 0) << diagnostics(job_id);

  wait_timeout(guest, job_id);
  wait_timeout(host, job_id, "host");
  EXPECT_TRUE(worker_was_killed(host_worker, host_dir)) << diagnostics(job_id);
  EXPECT_TRUE(no_task_process_left(guest));
  EXPECT_TRUE(no_task_process_left(host));
  EXPECT_EQ(host.task_rows(job_id, "host")["a_0"].value("party_status", ""), "timeout");
  EXPECT_EQ(guest.task_rows(job_id, "guest")["a_0"].value("party_status", ""), "timeout");
}

// 4 -----------------------------------------------------------------------------------------------------
TEST_F(Lifecycle, AutoRetryWaitsForItsBackoff) {
  PartyServer& server = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start_all());
  // 4 job cores, 4 a task (the defaults): one task at a time. a_0 fails once; z_0 is independent.
  std::string job_id =
      submit_ok(server, make_dag(Json{{"a_0", noop_task({{"fail_below_version", 1}})}, {"z_0", noop_task()}},
                                 {{"auto_retries", 1}}));
  ASSERT_FALSE(job_id.empty());
  Json row = wait_end(server, job_id);
  EXPECT_EQ(row.value("status", ""), "success") << row.dump(2) << diagnostics(job_id);

  auto versions = server.task_versions(job_id, "a_0");
  ASSERT_EQ(versions.size(), 2u) << Json(versions).dump(2);
  EXPECT_EQ(versions[0].value("party_status", ""), "failed") << versions[0].dump(2);
  EXPECT_TRUE(contains(versions[0].value("error_report", ""), "below version 1")) << versions[0].dump(2);
  EXPECT_EQ(versions[1].value("party_status", ""), "success") << versions[1].dump(2);
  const int64_t failed_at = ms(versions[0], "end_time");
  const int64_t retried_at = ms(versions[1], "start_time");
  ASSERT_GT(failed_at, 0) << versions[0].dump(2);
  EXPECT_GE(retried_at, failed_at + 1000)
      << "the retry did not wait for its backoff: v0 ended " << failed_at << ", v1 started " << retried_at;

  // Meanwhile the ready z_0 took the free cores: it started after a_0 failed and before the retry.
  auto tasks = server.task_rows(job_id);
  EXPECT_EQ(tasks["z_0"].value("party_status", ""), "success") << tasks["z_0"].dump(2);
  EXPECT_GE(ms(tasks["z_0"], "start_time"), failed_at) << tasks["z_0"].dump(2);
  EXPECT_LT(ms(tasks["z_0"], "start_time"), retried_at) << tasks["z_0"].dump(2);

  // The job stayed running throughout: it never failed on the way.
  auto statuses = scheduler_statuses(server, job_id);
  EXPECT_EQ(statuses, (std::vector<std::string>{"waiting", "running", "success"}))
      << server.history(job_id).dump(2);
}

// 5 -----------------------------------------------------------------------------------------------------
TEST_F(Lifecycle, RerunFromTheMiddleOfAThreeTaskChain) {
  PartyServer& server = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::string job_id = submit_ok(server, make_dag(chain_tasks()));
  ASSERT_FALSE(job_id.empty());
  Json first = wait_end(server, job_id);
  ASSERT_EQ(first.value("status", ""), "success") << first.dump(2) << diagnostics(job_id);
  auto before = server.task_rows(job_id);

  Json rerun = server.post("job/rerun", {{"job_id", job_id}, {"task_name", "b_0"}});
  ASSERT_EQ(rerun.value("code", -1), 0) << rerun.dump() << diagnostics(job_id);
  auto done = server.wait_task(job_id, "c_0",
                               [](const Json& t) { return t.value("task_version", -1) == 1 && ended(t); });
  ASSERT_TRUE(done.met) << done.row.dump(2) << diagnostics(job_id);
  auto waited = server.wait_job_status(job_id, "success");
  ASSERT_TRUE(waited.met) << waited.row.dump(2) << diagnostics(job_id);

  auto tasks = server.task_rows(job_id);
  // The upstream success is kept: same version, same run.
  EXPECT_EQ(tasks["a_0"].value("task_version", -1), 0) << tasks["a_0"].dump(2);
  EXPECT_EQ(ms(tasks["a_0"], "start_time"), ms(before["a_0"], "start_time")) << "a_0 ran again";
  EXPECT_EQ(server.task_versions(job_id, "a_0").size(), 1u);
  // The task and everything downstream ran again, although they had succeeded.
  for (const char* name : {"b_0", "c_0"}) {
    EXPECT_EQ(tasks[name].value("task_version", -1), 1) << tasks[name].dump(2);
    EXPECT_EQ(tasks[name].value("party_status", ""), "success") << tasks[name].dump(2);
    EXPECT_GE(ms(tasks[name], "start_time"), ms(before["c_0"], "end_time")) << tasks[name].dump(2);
    auto versions = server.task_versions(job_id, name);
    ASSERT_EQ(versions.size(), 2u) << name << ": " << Json(versions).dump(2);
    EXPECT_EQ(versions[0].value("party_status", ""), "success") << versions[0].dump(2);
  }
  EXPECT_GE(ms(tasks["c_0"], "start_time"), ms(tasks["b_0"], "end_time"));
  EXPECT_EQ(waited.row.value("progress", -1), 100) << waited.row.dump(2);
  // The job went waiting -> running again after its first success.
  EXPECT_EQ(scheduler_statuses(server, job_id),
            (std::vector<std::string>{"waiting", "running", "success", "waiting", "running", "success"}))
      << server.history(job_id).dump(2);
  EXPECT_TRUE(no_task_process_left(server));
}

// 6 -----------------------------------------------------------------------------------------------------
TEST_F(Lifecycle, RerunFromAnUnknownTaskOrOfARunningJobIsRefusedWith1000) {
  PartyServer& server = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::string job_id = submit_ok(server, make_dag(chain_tasks()));
  ASSERT_FALSE(job_id.empty());
  ASSERT_EQ(wait_end(server, job_id).value("status", ""), "success") << diagnostics(job_id);
  const int64_t events = server.history_length(job_id);

  Json refused = server.post("job/rerun", {{"job_id", job_id}, {"task_name", "zz_9"}});
  EXPECT_EQ(refused.value("code", -1), 1000) << refused.dump();
  EXPECT_TRUE(contains(refused.value("message", ""), "zz_9")) << refused.dump();
  EXPECT_TRUE(contains(refused.value("message", ""), "task_name")) << refused.dump();
  EXPECT_EQ(server.history_length(job_id), events) << "a refused rerun stored something";
  EXPECT_EQ(server.job_row(job_id).value("status", ""), "success");

  // A job that has not ended cannot be rerun from a task.
  std::string running = submit_ok(server, make_dag(Json{{"a_0", noop_task({{"sleep", 60}})}}));
  ASSERT_FALSE(running.empty());
  auto started = server.wait_task_running(running, "a_0");
  ASSERT_TRUE(started.met) << started.row.dump(2) << diagnostics(running);
  const int64_t running_events = server.history_length(running);
  refused = server.post("job/rerun", {{"job_id", running}, {"task_name", "a_0"}});
  EXPECT_EQ(refused.value("code", -1), 1000) << refused.dump();
  EXPECT_EQ(server.history_length(running), running_events) << server.history(running).dump(2);
  EXPECT_EQ(server.job_row(running).value("status", ""), "running");
  EXPECT_EQ(server.task_versions(running, "a_0").size(), 1u);

  Json stop = server.post("job/stop", {{"job_id", running}});
  EXPECT_EQ(stop.value("code", -1), 0) << stop.dump();
  EXPECT_TRUE(no_task_process_left(server));
}

// 7 -----------------------------------------------------------------------------------------------------
TEST_F(Lifecycle, JobOverCapacityIsRefusedWith1006) {
  PartyServer& server = add(kGuest, /*cores=*/8);
  ASSERT_NO_FATAL_FAILURE(start_all());
  auto job_count = [&] {
    Json list = server.get("job/list/query");
    return list.value("code", -1) == 0 ? list["data"].value("count", int64_t{-1}) : int64_t{-1};
  };

  Json reply;
  std::string job_id = server.submit(make_dag(chain_tasks(), {{"cores", 16}}), &reply);
  EXPECT_TRUE(job_id.empty()) << reply.dump();
  EXPECT_EQ(reply.value("code", -1), 1006) << reply.dump();
  EXPECT_TRUE(names_number(reply.value("message", ""), 16)) << reply.dump();
  EXPECT_TRUE(names_number(reply.value("message", ""), 8)) << reply.dump();
  EXPECT_EQ(job_count(), 0) << "a refused job was stored";
  if (!job_id.empty()) {
    EXPECT_EQ(server.get("job/query", {{"job_id", job_id}}).value("code", -1), 1001);
  }

  // A task's engine_run.cores larger than the job's cores counts too.
  Json tasks = chain_tasks();
  tasks["b_0"]["conf"] = {{"engine_run", {{"cores", 12}}}};
  job_id = server.submit(make_dag(tasks, {{"cores", 4}}), &reply);
  EXPECT_TRUE(job_id.empty()) << reply.dump();
  EXPECT_EQ(reply.value("code", -1), 1006) << reply.dump();
  EXPECT_TRUE(names_number(reply.value("message", ""), 12)) << reply.dump();
  EXPECT_EQ(job_count(), 0) << "a refused job was stored";

  // A job of exactly the party's cores runs.
  job_id = submit_ok(server, make_dag(chain_tasks(), {{"cores", 8}}));
  ASSERT_FALSE(job_id.empty());
  EXPECT_EQ(wait_end(server, job_id).value("status", ""), "success") << diagnostics(job_id);
  EXPECT_EQ(job_count(), 1);
}

// 8 -----------------------------------------------------------------------------------------------------
TEST_F(Lifecycle, TwoPartiesOneOverCapacityFailsTheJobNamingIt) {
  PartyServer& guest = add(kGuest, /*cores=*/32);
  PartyServer& host = add(kHost, /*cores=*/8);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  Json dag = make_dag(Json{{"a_0", noop_task()}, {"b_0", consumer_task("a_0")}},
                      {{"scheduler_party_id", kGuest}, {"cores", 12}}, guest_and_host());
  std::string job_id = submit_ok(guest, dag);  // 12 cores fit the guest's 32
  ASSERT_FALSE(job_id.empty());

  Json row = wait_end(guest, job_id, "guest", 30s);
  EXPECT_EQ(row.value("status", ""), "failed") << row.dump(2) << diagnostics(job_id);
  const std::string reason = row.value("status_reason", "");
  EXPECT_TRUE(contains(reason, "host:10000")) << row.dump(2);
  EXPECT_TRUE(names_number(reason, 12)) << row.dump(2);
  EXPECT_TRUE(names_number(reason, 8)) << row.dump(2);
  // Nothing ran at the guest, and the host stored nothing.
  for (const auto& [name, t] : guest.task_rows(job_id, "guest"))
    EXPECT_TRUE(t["start_time"].is_null()) << t.dump(2);
  Json at_host = host.get("job/query", {{"job_id", job_id}});
  EXPECT_EQ(at_host.value("code", -1), 1001) << at_host.dump(2);
  EXPECT_TRUE(no_task_process_left(guest));
  EXPECT_TRUE(no_task_process_left(host));
}

// 9 -----------------------------------------------------------------------------------------------------
TEST_F(Lifecycle, RerunFromATaskAtAPartner) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::string job_id =
      submit_ok(guest, make_dag(chain_tasks(), {{"scheduler_party_id", kGuest}}, guest_and_host()));
  ASSERT_FALSE(job_id.empty());
  ASSERT_EQ(wait_end(guest, job_id, "guest").value("status", ""), "success") << diagnostics(job_id);
  ASSERT_EQ(wait_end(host, job_id, "host").value("status", ""), "success") << diagnostics(job_id);
  std::map<std::string, int64_t> a_started;
  for (auto [server, role] : {std::pair{&guest, "guest"}, std::pair{&host, "host"}})
    a_started[role] = ms(server->task_rows(job_id, role)["a_0"], "start_time");

  // Forwarded to the scheduler, which names the unknown task.
  Json refused = host.post("job/rerun", {{"job_id", job_id}, {"task_name", "zz_9"}});
  EXPECT_EQ(refused.value("code", -1), 1000) << refused.dump();
  EXPECT_TRUE(contains(refused.value("message", ""), "zz_9")) << refused.dump();

  Json rerun = host.post("job/rerun", {{"job_id", job_id}, {"task_name", "b_0"}});
  ASSERT_EQ(rerun.value("code", -1), 0) << rerun.dump() << diagnostics(job_id);
  for (auto [server, role] : {std::pair{&guest, "guest"}, std::pair{&host, "host"}}) {
    auto c = server->wait_task_as(role, job_id, "c_0", [](const Json& t) {
      return t.value("task_version", -1) == 1 && t.value("party_status", "") == "success";
    });
    ASSERT_TRUE(c.met) << role << " c_0: " << c.row.dump(2) << diagnostics(job_id);
    auto back = server->wait_job(
        job_id, [](const Json& r) { return r.value("status", "") == "success"; }, 30s, role);
    ASSERT_TRUE(back.met) << role << ": " << back.row.dump(2) << diagnostics(job_id);
    auto tasks = server->task_rows(job_id, role);
    EXPECT_EQ(tasks["a_0"].value("task_version", -1), 0) << role << " " << tasks["a_0"].dump(2);
    EXPECT_EQ(ms(tasks["a_0"], "start_time"), a_started[role]) << role << ": a_0 ran again";
    for (const char* name : {"b_0", "c_0"}) {
      EXPECT_EQ(tasks[name].value("task_version", -1), 1) << role << " " << tasks[name].dump(2);
      EXPECT_EQ(tasks[name].value("party_status", ""), "success") << role << " " << tasks[name].dump(2);
      EXPECT_EQ(tasks[name].value("status", ""), "success") << role << " " << tasks[name].dump(2);
    }
  }
  EXPECT_TRUE(no_task_process_left(guest));
  EXPECT_TRUE(no_task_process_left(host));
}

}  // namespace
}  // namespace flowstone::systest
