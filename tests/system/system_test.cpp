// End-to-end tests: a real `flowstone serve` process (tests/system/party_server.hpp), real launchers
// and workers (flowstone-noop, flowstone-noop_consumer), driven only through the HTTP API, signals and
// the files a user can see. Every wait polls for an outcome with a generous deadline.
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

namespace flowstone::systest {
namespace {

const std::set<std::string> kEndStatuses = {"success", "failed", "canceled", "timeout", "pass"};

int64_t ms(const Json& row, const char* field) {
  return row.contains(field) && row[field].is_number_integer() ? row[field].get<int64_t>() : -1;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Waits until no process (launcher, worker) mentions the job; names what is left if some remain.
::testing::AssertionResult no_process_left(const std::string& job_id) {
  std::vector<pid_t> left;
  if (poll_until(
          [&] {
            left = processes_mentioning(job_id);
            return left.empty();
          },
          30s))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << left.size() << " processes of job " << job_id << " still run, first " << left[0];
}

class SystemTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}) {
    server = std::make_unique<PartyServer>(std::move(options));
    std::string error = server->start();
    ASSERT_EQ(error, "") << "server did not start";
  }
  void TearDown() override { server.reset(); }

  // Submits and asserts it was accepted.
  std::string submit_ok(const Json& dag) {
    Json reply;
    std::string job_id = server->submit(dag, &reply);
    EXPECT_FALSE(job_id.empty()) << "submit refused: " << reply.dump() << server->diagnostics();
    return job_id;
  }

  int64_t job_count() {
    Json r = server->get("job/list/query");
    EXPECT_EQ(r.value("code", -1), 0) << r.dump();
    return r["data"].value("count", int64_t{-1});
  }

  std::unique_ptr<PartyServer> server;
};

// 1 -----------------------------------------------------------------------------------------------------
TEST_F(SystemTest, ChainOfThreeTasksRunsInDependencyOrderAndAnswersQueries) {
  ASSERT_NO_FATAL_FAILURE(start());
  Json dag = make_dag(Json{
      {"a_0", noop_task()}, {"b_0", consumer_task("a_0", {{"sleep", 0.2}})}, {"c_0", consumer_task("b_0")}});
  Json reply;
  std::string job_id = server->submit(dag, &reply);
  ASSERT_FALSE(job_id.empty()) << reply.dump() << server->diagnostics();
  EXPECT_EQ(reply["code"], 0);
  EXPECT_EQ(reply["message"], "success");
  EXPECT_TRUE(reply["data"].contains("model_id")) << reply.dump();
  EXPECT_TRUE(reply["data"].contains("model_version")) << reply.dump();

  auto waited = server->wait_job_status(job_id, "success", 60s);
  ASSERT_TRUE(waited.met) << "last row: " << waited.row.dump(2) << server->diagnostics(job_id);

  // The job row, with FATE-Flow's t_job field names.
  Json q = server->get("job/query", {{"job_id", job_id}});
  ASSERT_EQ(q.value("code", -1), 0) << q.dump();
  ASSERT_EQ(q["data"].size(), 1u) << q.dump(2);
  const Json& job = q["data"][0];
  for (const char* field : {"job_id", "role", "party_id", "status", "progress", "create_time", "update_time",
                            "start_time", "end_time", "elapsed", "dag", "parties", "initiator_party_id",
                            "scheduler_party_id", "description", "user_name"})
    EXPECT_TRUE(job.contains(field)) << "job row lacks " << field << ": " << job.dump(2);
  EXPECT_EQ(job["job_id"], job_id);
  EXPECT_EQ(job["role"], "guest");
  EXPECT_EQ(job["party_id"], "9999");
  EXPECT_EQ(job["status"], "success");
  EXPECT_EQ(job["progress"], 100);
  EXPECT_EQ(job["initiator_party_id"], "9999");
  EXPECT_GE(ms(job, "start_time"), ms(job, "create_time"));
  EXPECT_GE(ms(job, "end_time"), ms(job, "start_time"));
  EXPECT_EQ(ms(job, "elapsed"), ms(job, "end_time") - ms(job, "start_time"));

  // Tasks.
  auto tasks = server->task_rows(job_id);
  ASSERT_EQ(tasks.size(), 3u);
  for (const char* name : {"a_0", "b_0", "c_0"}) {
    ASSERT_TRUE(tasks.count(name)) << name;
    const Json& t = tasks[name];
    EXPECT_EQ(t["status"], "success") << t.dump(2);
    EXPECT_EQ(t["party_status"], "success") << t.dump(2);
    EXPECT_EQ(t["task_version"], 0) << t.dump(2);
    EXPECT_EQ(t["task_id"], job_id + "_" + name);
    EXPECT_EQ(t["execution_id"], job_id + "_" + name + "_0_guest_9999");
    EXPECT_GT(ms(t, "start_time"), 0) << t.dump(2);
    EXPECT_GE(ms(t, "end_time"), ms(t, "start_time")) << t.dump(2);
  }
  EXPECT_EQ(tasks["a_0"]["component"], "noop");
  EXPECT_EQ(tasks["b_0"]["component"], "noop_consumer");
  EXPECT_GE(ms(tasks["b_0"], "start_time"), ms(tasks["a_0"], "end_time"));
  EXPECT_GE(ms(tasks["c_0"], "start_time"), ms(tasks["b_0"], "end_time"));

  // The consumer saw its upstream model channel.
  std::string b_out =
      read_text(server->data_dir() + "/logs/" + job_id + "/guest/9999/b_0/task_entrypoint.stdout");
  EXPECT_TRUE(contains(b_out, "input model input_model")) << b_out;
  EXPECT_TRUE(contains(b_out, "a_0")) << b_out;

  // DAG dependency.
  Json dep = server->get("job/dag/dependency", {{"job_id", job_id}, {"role", "guest"}, {"party_id", "9999"}});
  ASSERT_EQ(dep.value("code", -1), 0) << dep.dump(2);
  EXPECT_EQ(dep["data"]["component_list"], Json::array({"a_0", "b_0", "c_0"})) << dep.dump(2);
  EXPECT_EQ(dep["data"]["component_module"]["b_0"], "noop_consumer") << dep.dump(2);
  EXPECT_EQ(dep["data"]["component_stage"]["a_0"], "train") << dep.dump(2);
  EXPECT_EQ(dep["data"]["dependencies"]["a_0"], Json::array({Json{{"up_output_info", Json::array()}}}))
      << dep.dump(2);
  ASSERT_EQ(dep["data"]["dependencies"]["b_0"].size(), 1u) << dep.dump(2);
  EXPECT_EQ(dep["data"]["dependencies"]["b_0"][0]["component_name"], "a_0") << dep.dump(2);
  EXPECT_EQ(dep["data"]["dependencies"]["b_0"][0]["model_type"], "model") << dep.dump(2);
  EXPECT_EQ(dep["data"]["dependencies"]["b_0"][0]["type"], "input_model") << dep.dump(2);
  EXPECT_EQ(dep["data"]["dependencies"]["b_0"][0]["up_output_info"], Json::array({"output_model"}))
      << dep.dump(2);
  EXPECT_EQ(dep["data"]["dependencies"]["c_0"][0]["component_name"], "b_0") << dep.dump(2);

  // Notes.
  Json notes = server->post(
      "job/notes/add",
      {{"job_id", job_id}, {"role", "guest"}, {"party_id", "9999"}, {"notes", "my first chain"}});
  EXPECT_EQ(notes.value("code", -1), 0) << notes.dump();
  EXPECT_EQ(server->job_row(job_id).value("description", ""), "my first chain");

  // Site info.
  Json site = server->get("site/info/query");
  EXPECT_EQ(site.value("code", -1), 0) << site.dump();
  EXPECT_EQ(site["data"]["party_id"], "9999") << site.dump();

  // Job list.
  Json list = server->get("job/list/query", {{"job_id", job_id}});
  ASSERT_EQ(list.value("code", -1), 0) << list.dump();
  EXPECT_EQ(list["data"]["count"], 1) << list.dump(2);
  ASSERT_EQ(list["data"]["data"].size(), 1u) << list.dump(2);
  EXPECT_EQ(list["data"]["data"][0]["job_id"], job_id);
  EXPECT_EQ(list["data"]["data"][0]["description"], "my first chain");
  EXPECT_TRUE(list["data"]["data"][0].contains("partners")) << list.dump(2);

  // Every launcher and worker of the ended job is gone.
  EXPECT_TRUE(no_process_left(job_id));
}

// 2 -----------------------------------------------------------------------------------------------------
TEST_F(SystemTest, IndependentTasksRunInParallelWithinTheJobCores) {
  ASSERT_NO_FATAL_FAILURE(start());
  Json conf = {{"cores", 8}, {"task", {{"engine_run", {{"cores", 4}}}}}};
  Json dag = make_dag(Json{{"t1", noop_task({{"sleep", 1}})},
                           {"t2", noop_task({{"sleep", 1}})},
                           {"t3", noop_task({{"sleep", 1}})}},
                      conf);
  std::string job_id = submit_ok(dag);
  ASSERT_FALSE(job_id.empty());
  auto waited = server->wait_job_status(job_id, "success", 60s);
  ASSERT_TRUE(waited.met) << waited.row.dump(2) << server->diagnostics(job_id);

  auto tasks = server->task_rows(job_id);
  ASSERT_EQ(tasks.size(), 3u);
  std::vector<Json> runs;
  for (auto& [name, row] : tasks) {
    EXPECT_EQ(row["task_cores"], 4) << row.dump(2);
    runs.push_back(row);
  }
  std::sort(runs.begin(), runs.end(),
            [](const Json& a, const Json& b) { return ms(a, "start_time") < ms(b, "start_time"); });
  std::string timeline;
  for (const auto& r : runs)
    timeline += r.value("task_name", "") + " " + std::to_string(ms(r, "start_time")) + ".." +
                std::to_string(ms(r, "end_time")) + "\n";
  // The first two overlap ...
  EXPECT_LT(ms(runs[1], "start_time"), ms(runs[0], "end_time")) << timeline;
  // ... and the third waited for one of them: 8 cores hold two tasks of 4.
  EXPECT_GE(ms(runs[2], "start_time"), std::min(ms(runs[0], "end_time"), ms(runs[1], "end_time")))
      << timeline;
}

// 3 -----------------------------------------------------------------------------------------------------
TEST_F(SystemTest, SubmitRejectsBadInputAndStoresNothing) {
  ASSERT_NO_FATAL_FAILURE(start());
  const int64_t before = job_count();

  struct Case {
    const char* what;
    Json body;
    const char* field;  // the message must name it
  };
  Json guest = Json::array({Json{{"role", "guest"}, {"party_id", {"9999"}}}});
  std::vector<Case> cases;
  cases.push_back(
      {"cycle",
       Json{{"dag_schema", make_dag(Json{{"a_0", consumer_task("b_0")}, {"b_0", consumer_task("a_0")}})}},
       "cycle"});
  cases.push_back({"unknown producer_task",
                   Json{{"dag_schema", make_dag(Json{{"a_0", noop_task()}, {"b_0", consumer_task("zz_9")}})}},
                   "producer_task"});
  {
    Json task = noop_task();
    task["parties"] = Json::array({Json{{"role", "host"}, {"party_id", {"10000"}}}});
    cases.push_back(
        {"task party not in dag.parties", Json{{"dag_schema", make_dag(Json{{"a_0", task}})}}, "parties"});
  }
  cases.push_back(
      {"same party twice",
       Json{{"dag_schema", make_dag(Json{{"a_0", noop_task()}}, Json::object(),
                                    Json::array({Json{{"role", "guest"}, {"party_id", {"9999"}}},
                                                 Json{{"role", "guest"}, {"party_id", {"9999"}}}}))}},
       "dag.parties"});
  cases.push_back({"missing component_ref",
                   Json{{"dag_schema", make_dag(Json{{"a_0", Json{{"parameters", Json::object()}}}})}},
                   "component_ref"});
  {
    Json task = noop_task();
    task["parameters"] = Json::array({1, 2});
    cases.push_back(
        {"parameters as a list", Json{{"dag_schema", make_dag(Json{{"a_0", task}})}}, "parameters"});
  }
  cases.push_back({"unknown component",
                   Json{{"dag_schema", make_dag(Json{{"a_0", Json{{"component_ref", "nope"}}}})}},
                   "component_ref"});

  for (const auto& c : cases) {
    Json r = server->post("job/submit", c.body);
    int code = r.value("code", -1);
    EXPECT_TRUE(code == 1000 || code == 5001) << c.what << ": " << r.dump();
    EXPECT_TRUE(contains(r.value("message", ""), c.field))
        << c.what << ": message does not name " << c.field << ": " << r.dump();
    EXPECT_FALSE(r.contains("job_id")) << c.what << ": " << r.dump();
  }

  // A body that is not JSON.
  auto not_json = server->raw("POST", "/v2/job/submit", "{\"dag_schema\": {oops");
  ASSERT_TRUE(not_json.ok) << not_json.error;
  EXPECT_EQ(not_json.status, 200);
  {
    std::string error;
    auto j = net::parse_json(not_json.body, &error);
    ASSERT_TRUE(j) << not_json.body;
    EXPECT_EQ(j->value("code", -1), 5001) << not_json.body;
    EXPECT_TRUE(contains(j->value("message", ""), "JSON")) << not_json.body;
  }

  // A missing dag_schema: webargs' answer.
  Json missing = server->post("job/submit", Json{{"schema", Json::object()}});
  EXPECT_EQ(missing.value("code", -1), 5001) << missing.dump();
  EXPECT_EQ(missing["message"], "Invalid request.") << missing.dump();
  EXPECT_EQ(missing["data"], (Json{{"json", {{"dag_schema", {"Missing data for required field."}}}}}))
      << missing.dump();

  EXPECT_EQ(job_count(), before) << "a refused submit left a job behind";
  // Nothing on disk either.
  std::error_code ec;
  size_t job_dirs = 0;
  for (auto it = std::filesystem::directory_iterator(server->data_dir() + "/jobs", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++job_dirs;
  EXPECT_EQ(job_dirs, 0u);
}

// A refused submit is invisible: no job folder under data/logs or data/jobs.
TEST_F(SystemTest, RefusedSubmitLeavesNoFolderBehind) {
  ASSERT_NO_FATAL_FAILURE(start());
  Json r = server->post("job/submit", Json{{"dag_schema", make_dag(Json{{"a_0", consumer_task("zz_9")}})}});
  ASSERT_EQ(r.value("code", -1), 1000) << r.dump();
  std::vector<std::string> left;
  for (const char* sub : {"/logs", "/jobs"}) {
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(server->data_dir() + sub, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      if (it->is_directory()) left.push_back(it->path().string());
  }
  EXPECT_TRUE(left.empty()) << "a refused submit left " << left.size()
                            << " folder(s), first: " << (left.empty() ? "" : left[0]);
}

TEST_F(SystemTest, OnePartyInTwoRolesAndNullCoresAreAcceptedAndRun) {
  ASSERT_NO_FATAL_FAILURE(start());
  Json parties = Json::array(
      {Json{{"role", "guest"}, {"party_id", {"9999"}}}, Json{{"role", "host"}, {"party_id", {"9999"}}}});
  std::string job_id = submit_ok(
      make_dag(Json{{"a_0", noop_task()}, {"b_0", consumer_task("a_0")}}, Json{{"cores", nullptr}}, parties));
  ASSERT_FALSE(job_id.empty());
  auto waited = server->wait_job_status(job_id, "success", 60s);
  ASSERT_TRUE(waited.met) << waited.row.dump(2) << server->diagnostics(job_id);
  Json host = server->job_row(job_id, "host");
  ASSERT_FALSE(host.is_null()) << "no host copy of the job";
  EXPECT_EQ(host["status"], "success") << host.dump(2);
  auto host_tasks = server->task_rows(job_id, "host");
  ASSERT_EQ(host_tasks.size(), 2u);
  for (auto& [name, row] : host_tasks) EXPECT_EQ(row["party_status"], "success") << row.dump(2);
  EXPECT_EQ(host_tasks["a_0"]["execution_id"], job_id + "_a_0_0_host_9999");
}

TEST_F(SystemTest, UnknownRouteAnswersAJsonEnvelopeWithHttp200) {
  ASSERT_NO_FATAL_FAILURE(start());
  for (const char* target : {"/v2/no/such/route", "/v2/job/nonsense", "/no-such-page.html"}) {
    auto r = server->raw("GET", target, "");
    ASSERT_TRUE(r.ok) << target << ": " << r.error;
    EXPECT_EQ(r.status, 200) << target;
    std::string error;
    auto j = net::parse_json(r.body, &error);
    ASSERT_TRUE(j) << target << ": not JSON: " << r.body;
    EXPECT_NE(j->value("code", 0), 0) << target << ": " << r.body;
    EXPECT_TRUE(j->contains("message")) << r.body;
  }
  // The dashboard (or, when it was not built, the page that says so) is HTML at /.
  auto page = server->raw("GET", "/", "");
  ASSERT_TRUE(page.ok) << page.error;
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<title>Flowstone</title>"), std::string::npos) << page.body;
  // A known route with the wrong method.
  auto r = server->raw("GET", "/v2/job/submit", "");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  std::string error;
  auto j = net::parse_json(r.body, &error);
  ASSERT_TRUE(j) << r.body;
  EXPECT_NE(j->value("code", 0), 0) << r.body;
}

TEST_F(SystemTest, BodyOverTheConfiguredLimitIsRefusedWithJson) {
  ServerOptions options;
  options.body_limit_mb = 1;
  ASSERT_NO_FATAL_FAILURE(start(options));
  Json big = {{"dag_schema", {{"padding", std::string(2u << 20, 'x')}}}};
  auto r = server->raw("POST", "/v2/job/submit", big.dump());
  ASSERT_TRUE(r.ok) << "no answer to a 2 MB body: " << r.error << server->diagnostics();
  std::string error;
  auto j = net::parse_json(r.body, &error);
  ASSERT_TRUE(j) << "HTTP " << r.status << ": " << r.body;
  EXPECT_NE(j->value("code", 0), 0) << r.body;
  EXPECT_TRUE(contains(j->value("message", ""), "limit")) << r.body;
  // The server is still serving, and a body under the limit goes through.
  Json site = server->get("site/info/query");
  EXPECT_EQ(site.value("code", -1), 0) << site.dump();
  Json small = {{"dag_schema", make_dag(Json{{"a_0", noop_task({{"padding", std::string(100000, 'y')}})}})}};
  Json ok = server->post("job/submit", small);
  EXPECT_EQ(ok.value("code", -1), 0) << ok.dump().substr(0, 500);
}

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
