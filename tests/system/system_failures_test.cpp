// End-to-end tests of one real `flowstone serve` process (fixture: system_fixture.hpp): failing tasks,
// auto-retry, rerun, killed workers, stops, a crash and restart, SIGTERM, and stops repeated with a key.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "net/json_io.hpp"
#include "tests/system/party_server.hpp"
#include "tests/system/system_fixture.hpp"

namespace flowstone::systest {
namespace {

using namespace system_fixture;

// 4 -----------------------------------------------------------------------------------------------------
TEST_F(SystemTest, FailingTaskFailsTheJobWithItsError) {
  ASSERT_NO_FATAL_FAILURE(start());
  std::string job_id = submit_ok(make_dag(
      Json{{"a_0", noop_task({{"fail", true}, {"error_message", "boom"}})}, {"b_0", consumer_task("a_0")}}));
  ASSERT_FALSE(job_id.empty());
  auto waited = server->wait_job_status(job_id, "failed", 60s);
  ASSERT_TRUE(waited.met) << waited.row.dump(2) << server->diagnostics(job_id);
  auto tasks = server->task_rows(job_id);
  ASSERT_TRUE(tasks.count("a_0"));
  EXPECT_EQ(tasks["a_0"]["party_status"], "failed") << tasks["a_0"].dump(2);
  EXPECT_EQ(tasks["a_0"]["status"], "failed") << tasks["a_0"].dump(2);
  EXPECT_TRUE(contains(tasks["a_0"].value("error_report", ""), "boom")) << tasks["a_0"].dump(2);
  // The downstream task never ran.
  ASSERT_TRUE(tasks.count("b_0"));
  EXPECT_EQ(tasks["b_0"]["party_status"], "waiting") << tasks["b_0"].dump(2);
  EXPECT_TRUE(tasks["b_0"]["start_time"].is_null()) << tasks["b_0"].dump(2);
}

// 5 -----------------------------------------------------------------------------------------------------
TEST_F(SystemTest, AutoRetryTurnsAFirstFailureIntoSuccess) {
  ASSERT_NO_FATAL_FAILURE(start());
  std::string job_id =
      submit_ok(make_dag(Json{{"a_0", noop_task({{"fail_below_version", 1}})}}, Json{{"auto_retries", 1}}));
  ASSERT_FALSE(job_id.empty());
  auto waited = server->wait_job(
      job_id, [](const Json& row) { return kEndStatuses.count(row.value("status", "")) > 0; }, 60s);
  ASSERT_TRUE(waited.met) << waited.row.dump(2) << server->diagnostics(job_id);
  EXPECT_EQ(waited.row["status"], "success") << waited.row.dump(2) << server->diagnostics(job_id);

  Json list = server->get("job/task/list/query", {{"job_id", job_id}});
  ASSERT_EQ(list.value("code", -1), 0) << list.dump();
  std::map<int, Json> attempts;
  for (const auto& row : list["data"]["data"])
    if (row["task_name"] == "a_0") attempts[row["task_version"].get<int>()] = row;
  ASSERT_EQ(attempts.size(), 2u) << list.dump(2);
  ASSERT_TRUE(attempts.count(0) && attempts.count(1)) << list.dump(2);
  EXPECT_EQ(attempts[0]["party_status"], "failed") << attempts[0].dump(2);
  EXPECT_TRUE(contains(attempts[0].value("error_report", ""), "below version 1")) << attempts[0].dump(2);
  EXPECT_EQ(attempts[1]["party_status"], "success") << attempts[1].dump(2);
  EXPECT_EQ(attempts[1]["status"], "success") << attempts[1].dump(2);
  EXPECT_EQ(list["data"]["count"], 2) << list.dump(2);
  // The latest attempt is what task query shows.
  auto tasks = server->task_rows(job_id);
  EXPECT_EQ(tasks["a_0"]["task_version"], 1) << tasks["a_0"].dump(2);
}

// 6 -----------------------------------------------------------------------------------------------------
TEST_F(SystemTest, RerunRunsTheFailedTaskAgainAndKeepsSuccessfulOnes) {
  ASSERT_NO_FATAL_FAILURE(start());
  std::string job_id = submit_ok(make_dag(Json{{"a_0", noop_task()},
                                               {"b_0", consumer_task("a_0", {{"fail_below_version", 1}})},
                                               {"c_0", consumer_task("b_0")}}));
  ASSERT_FALSE(job_id.empty());
  auto failed = server->wait_job_status(job_id, "failed", 60s);
  ASSERT_TRUE(failed.met) << failed.row.dump(2) << server->diagnostics(job_id);
  auto before = server->task_rows(job_id);
  EXPECT_EQ(before["b_0"]["party_status"], "failed") << before["b_0"].dump(2);
  EXPECT_EQ(before["c_0"]["party_status"], "waiting") << before["c_0"].dump(2);

  Json rerun = server->post("job/rerun", {{"job_id", job_id}});
  ASSERT_EQ(rerun.value("code", -1), 0) << rerun.dump();
  auto done = server->wait_job_status(job_id, "success", 60s);
  ASSERT_TRUE(done.met) << done.row.dump(2) << server->diagnostics(job_id);

  auto tasks = server->task_rows(job_id);
  EXPECT_EQ(tasks["a_0"]["task_version"], 0) << tasks["a_0"].dump(2);
  EXPECT_EQ(tasks["a_0"]["party_status"], "success");
  EXPECT_EQ(ms(tasks["a_0"], "start_time"), ms(before["a_0"], "start_time")) << "a_0 ran again";
  EXPECT_EQ(tasks["b_0"]["task_version"], 1) << tasks["b_0"].dump(2);
  EXPECT_EQ(tasks["b_0"]["party_status"], "success") << tasks["b_0"].dump(2);
  EXPECT_EQ(tasks["c_0"]["party_status"], "success") << tasks["c_0"].dump(2);
  EXPECT_EQ(done.row["progress"], 100) << done.row.dump(2);
}

// 7 -----------------------------------------------------------------------------------------------------
TEST_F(SystemTest, KilledWorkerFailsItsTaskAndTheJob) {
  ASSERT_NO_FATAL_FAILURE(start());
  std::string job_id = submit_ok(make_dag(Json{{"a_0", noop_task({{"sleep", 60}})}}));
  ASSERT_FALSE(job_id.empty());
  pid_t worker = server->wait_pid_file(server->task_dir(job_id, "a_0"), "worker.pid");
  ASSERT_GT(worker, 0) << server->diagnostics(job_id);
  ASSERT_TRUE(server->wait_job_status(job_id, "running").met) << server->diagnostics(job_id);
  {
    auto launched = server->wait_task_running(job_id, "a_0");
    ASSERT_TRUE(launched.met) << launched.row.dump(2) << server->diagnostics(job_id);
  }

  ASSERT_EQ(::kill(-worker, SIGKILL), 0);
  auto killed_at = Clock::now();
  auto waited = server->wait_job_status(job_id, "failed", 30s);
  ASSERT_TRUE(waited.met) << waited.row.dump(2) << server->diagnostics(job_id);
  auto seconds =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at).count() / 1000.0;
  EXPECT_LT(seconds, 10.0) << "the failure took " << seconds << " s to show";
  auto tasks = server->task_rows(job_id);
  EXPECT_EQ(tasks["a_0"]["party_status"], "failed") << tasks["a_0"].dump(2);
  EXPECT_TRUE(contains(tasks["a_0"].value("error_report", ""), "signal 9")) << tasks["a_0"].dump(2);
  EXPECT_EQ(read_text(server->task_dir(job_id, "a_0") + "/exit_status").substr(0, 16), "killed by signal");
}

// 8 -----------------------------------------------------------------------------------------------------
TEST_F(SystemTest, StopCancelsTheJobAndEndsItsProcesses) {
  ASSERT_NO_FATAL_FAILURE(start());
  std::string job_id =
      submit_ok(make_dag(Json{{"a_0", noop_task({{"sleep", 60}})}, {"b_0", consumer_task("a_0")}}));
  ASSERT_FALSE(job_id.empty());
  const std::string dir = server->task_dir(job_id, "a_0");
  pid_t worker = server->wait_pid_file(dir, "worker.pid");
  pid_t launcher = server->wait_pid_file(dir, "launcher.pid");
  ASSERT_GT(worker, 0) << server->diagnostics(job_id);
  ASSERT_TRUE(server->wait_job_status(job_id, "running").met) << server->diagnostics(job_id);
  {
    auto launched = server->wait_task_running(job_id, "a_0");
    ASSERT_TRUE(launched.met) << launched.row.dump(2) << server->diagnostics(job_id);
  }
  EXPECT_FALSE(processes_mentioning(job_id).empty()) << "the running task's processes should mention the job";

  Json stop = server->post("job/stop", {{"job_id", job_id}});
  ASSERT_EQ(stop.value("code", -1), 0) << stop.dump();
  auto waited = server->wait_job_status(job_id, "canceled", 30s);
  ASSERT_TRUE(waited.met) << waited.row.dump(2) << server->diagnostics(job_id);
  auto tasks = server->task_rows(job_id);
  EXPECT_EQ(tasks["a_0"]["party_status"], "canceled") << tasks["a_0"].dump(2);
  EXPECT_EQ(tasks["b_0"]["party_status"], "waiting") << tasks["b_0"].dump(2);

  EXPECT_TRUE(poll_until([&] { return !pid_running(worker); }, 30s)) << "worker " << worker << " still runs";
  EXPECT_TRUE(poll_until([&] { return !pid_running(launcher); }, 30s))
      << "launcher " << launcher << " still runs";
  EXPECT_TRUE(no_process_left(job_id));
  // Nothing changes afterwards (no late report turns it into something else).
  EXPECT_EQ(server->job_row(job_id).value("status", ""), "canceled");
}

// 9 -----------------------------------------------------------------------------------------------------
TEST_F(SystemTest, CrashAndRestartAdoptsLiveWorkersAndFailsLostOnes) {
  ASSERT_NO_FATAL_FAILURE(start());
  std::vector<std::string> jobs;
  for (int i = 0; i < 3; ++i) {
    // Job 3's first task sleeps longer: it must still be running when it is killed.
    std::string job_id = submit_ok(
        make_dag(Json{{"a_0", noop_task({{"sleep", i < 2 ? 3 : 30}})}, {"b_0", consumer_task("a_0")}}));
    ASSERT_FALSE(job_id.empty());
    jobs.push_back(job_id);
  }
  std::vector<pid_t> workers, launchers;
  for (const auto& job_id : jobs) {
    ASSERT_TRUE(server->wait_job_status(job_id, "running").met) << server->diagnostics(job_id);
    {
      auto launched = server->wait_task_running(job_id, "a_0");
      ASSERT_TRUE(launched.met) << launched.row.dump(2) << server->diagnostics(job_id);
    }
    std::string dir = server->task_dir(job_id, "a_0");
    workers.push_back(server->wait_pid_file(dir, "worker.pid"));
    launchers.push_back(server->wait_pid_file(dir, "launcher.pid"));
    ASSERT_GT(workers.back(), 0) << server->diagnostics(job_id);
    ASSERT_GT(launchers.back(), 0) << server->diagnostics(job_id);
  }
  // Jobs 1 and 2 are adopted only if their workers outlive the crash.
  EXPECT_TRUE(pid_running(workers[0]) && pid_running(workers[1])) << "a worker ended before the crash";
  // The crash: the server first (so nothing notices), then job 3's launcher and worker.
  server->kill9();
  ::kill(launchers[2], SIGKILL);
  ::kill(-workers[2], SIGKILL);
  ASSERT_TRUE(poll_until([&] { return !pid_running(launchers[2]) && !pid_running(workers[2]); }, 10s));

  ASSERT_EQ(server->restart(), "");
  for (const auto& job_id : jobs) EXPECT_FALSE(server->job_row(job_id).is_null()) << job_id << " is lost";

  for (int i = 0; i < 3; ++i) {
    auto waited = server->wait_job(
        jobs[i], [](const Json& row) { return kEndStatuses.count(row.value("status", "")) > 0; }, 60s);
    ASSERT_TRUE(waited.met) << "job " << i + 1 << " never ended: " << waited.row.dump(2)
                            << server->diagnostics(jobs[i]);
    auto tasks = server->task_rows(jobs[i]);
    if (i < 2) {
      EXPECT_EQ(waited.row["status"], "success") << "job " << i + 1 << server->diagnostics(jobs[i]);
      // Adopted: the same run, not a second one.
      EXPECT_EQ(tasks["a_0"]["task_version"], 0) << tasks["a_0"].dump(2);
      EXPECT_EQ(tasks["a_0"]["party_status"], "success") << tasks["a_0"].dump(2);
      EXPECT_EQ(server->wait_pid_file(server->task_dir(jobs[i], "a_0"), "worker.pid", 1s), workers[i]);
    } else {
      EXPECT_EQ(waited.row["status"], "failed") << "job 3" << server->diagnostics(jobs[i]);
      EXPECT_EQ(tasks["a_0"]["party_status"], "failed") << tasks["a_0"].dump(2);
      std::string error = tasks["a_0"].value("error_report", "");
      EXPECT_TRUE(contains(error, "worker") && contains(error, "lost")) << tasks["a_0"].dump(2);
    }
  }
  Json running = server->get("job/list/query", {{"status", "running"}});
  EXPECT_EQ(running["data"]["count"], 0) << running.dump(2);
  Json waiting = server->get("job/list/query", {{"status", "waiting"}});
  EXPECT_EQ(waiting["data"]["count"], 0) << waiting.dump(2);

  int status = server->stop();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "wait status " << status << server->diagnostics();

  std::string cmd =
      std::string(FLOWSTONE_BIN_DIR) + "/flowstone store verify --config " + server->conf_path() + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  int verify = ::pclose(pipe);
  EXPECT_TRUE(WIFEXITED(verify) && WEXITSTATUS(verify) == 0) << "verify: " << verify << "\n" << output;
  EXPECT_TRUE(contains(output, "views match the log")) << output;
}

// 10 ----------------------------------------------------------------------------------------------------
TEST_F(SystemTest, SigtermStopsTheServerButNotTheWorkers) {
  ASSERT_NO_FATAL_FAILURE(start());
  std::string job_id =
      submit_ok(make_dag(Json{{"a_0", noop_task({{"sleep", 6}})}, {"b_0", consumer_task("a_0")}}));
  ASSERT_FALSE(job_id.empty());
  std::string dir = server->task_dir(job_id, "a_0");
  pid_t worker = server->wait_pid_file(dir, "worker.pid");
  pid_t launcher = server->wait_pid_file(dir, "launcher.pid");
  ASSERT_GT(worker, 0);
  ASSERT_TRUE(server->wait_job_status(job_id, "running").met) << server->diagnostics(job_id);
  {
    auto launched = server->wait_task_running(job_id, "a_0");
    ASSERT_TRUE(launched.met) << launched.row.dump(2) << server->diagnostics(job_id);
  }

  auto t0 = Clock::now();
  int status = server->stop(30s);
  double seconds = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count() / 1000.0;
  ASSERT_TRUE(WIFEXITED(status)) << "wait status " << status << server->diagnostics(job_id);
  EXPECT_EQ(WEXITSTATUS(status), 0) << server->diagnostics(job_id);
  EXPECT_LT(seconds, 5.0) << "SIGTERM took " << seconds << " s";
  EXPECT_TRUE(pid_running(worker)) << "the worker died with the server";
  EXPECT_TRUE(pid_running(launcher)) << "the launcher died with the server";
  // They hold nothing of the server's: not its output (a supervisor reading it through a pipe would never
  // see it end) and not its log (the listening socket is checked by the restart below, on the same port).
  for (pid_t pid : {launcher, worker})
    for (const std::string& file : open_files(pid)) {
      EXPECT_NE(file, server->dir() + "/server.out") << "process " << pid << " holds the server's output";
      EXPECT_NE(file, server->data_dir() + "/logs/flowstone.log")
          << "process " << pid << " holds the server log";
    }

  ASSERT_EQ(server->restart(), "");
  auto waited = server->wait_job_status(job_id, "success", 60s);
  ASSERT_TRUE(waited.met) << waited.row.dump(2) << server->diagnostics(job_id);
  auto tasks = server->task_rows(job_id);
  EXPECT_EQ(tasks["a_0"]["task_version"], 0) << tasks["a_0"].dump(2);
  EXPECT_EQ(tasks["b_0"]["party_status"], "success") << tasks["b_0"].dump(2);
}

// A worker that ends while the server is down keeps its report until the server is back.
TEST_F(SystemTest, WorkerThatEndsWhileTheServerIsDownIsRecordedAfterRestart) {
  ASSERT_NO_FATAL_FAILURE(start());
  // No model or metric to save: the worker's last call is its report, made while the server is down.
  std::string job_id = submit_ok(
      make_dag(Json{{"a_0", noop_task({{"sleep", 1}, {"emit_model", false}, {"emit_metric", false}})},
                    {"b_0", consumer_task("a_0")}}));
  ASSERT_FALSE(job_id.empty());
  auto launched = server->wait_task_running(job_id, "a_0");
  ASSERT_TRUE(launched.met) << launched.row.dump(2) << server->diagnostics(job_id);
  int status = server->stop();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;

  // The worker finished and is retrying its report.
  const std::string logs = server->data_dir() + "/logs/" + job_id + "/guest/9999/a_0";
  EXPECT_TRUE(poll_until(
      [&] {
        return contains(read_text(logs + "/task_entrypoint.stdout"), "succeeded") &&
               contains(read_text(logs + "/task_entrypoint.stderr"), "not accepted yet");
      },
      30s))
      << read_text(logs + "/task_entrypoint.stdout") << read_text(logs + "/task_entrypoint.stderr");

  ASSERT_EQ(server->restart(), "");
  auto waited = server->wait_job_status(job_id, "success", 60s);
  ASSERT_TRUE(waited.met) << waited.row.dump(2) << server->diagnostics(job_id);
  auto tasks = server->task_rows(job_id);
  EXPECT_EQ(tasks["a_0"]["task_version"], 0) << tasks["a_0"].dump(2);
  EXPECT_EQ(tasks["a_0"]["party_status"], "success") << tasks["a_0"].dump(2);
  EXPECT_EQ(tasks["b_0"]["party_status"], "success") << tasks["b_0"].dump(2);
  EXPECT_TRUE(no_process_left(job_id));
}

// 11 ----------------------------------------------------------------------------------------------------
TEST_F(SystemTest, StopWithTheSameIdempotencyKeyAnswersTheSame) {
  ASSERT_NO_FATAL_FAILURE(start());
  std::string job_id = submit_ok(make_dag(Json{{"a_0", noop_task({{"sleep", 60}})}}));
  ASSERT_FALSE(job_id.empty());
  ASSERT_GT(server->wait_pid_file(server->task_dir(job_id, "a_0"), "worker.pid"), 0)
      << server->diagnostics(job_id);
  ASSERT_TRUE(server->wait_job_status(job_id, "running").met) << server->diagnostics(job_id);
  {
    auto launched = server->wait_task_running(job_id, "a_0");
    ASSERT_TRUE(launched.met) << launched.row.dump(2) << server->diagnostics(job_id);
  }

  Headers key = {{"x-flowstone-idempotency-key", "k1"}};
  Json first = server->post("job/stop", {{"job_id", job_id}}, key);
  Json second = server->post("job/stop", {{"job_id", job_id}}, key);
  EXPECT_EQ(first.value("code", -1), 0) << first.dump();
  EXPECT_EQ(first, second) << first.dump() << " vs " << second.dump();
  EXPECT_EQ(first.dump(), second.dump());
  auto waited = server->wait_job_status(job_id, "canceled", 30s);
  EXPECT_TRUE(waited.met) << waited.row.dump(2) << server->diagnostics(job_id);
  // The repeated stop stored nothing more: exactly one cancel in the schedule log.
  std::string log = read_text(server->data_dir() + "/logs/" + job_id + "/fate_flow_schedule.log");
  size_t cancels = 0;
  for (size_t at = log.find("stop requested"); at != std::string::npos;
       at = log.find("stop requested", at + 1))
    ++cancels;
  EXPECT_EQ(cancels, 1u) << log;
}

}  // namespace
}  // namespace flowstone::systest
