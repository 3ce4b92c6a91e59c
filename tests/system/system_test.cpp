// End-to-end tests of one real `flowstone serve` process (fixture: system_fixture.hpp), real launchers and
// workers: a chain and parallel tasks run and answer queries; bad submits and bodies are refused. Failures,
// retries, reruns, stops, crashes and restarts are in system_failures_test.cpp.
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

}  // namespace
}  // namespace flowstone::systest
