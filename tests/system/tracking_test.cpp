// Tracking and catalog end-to-end tests (fixture: tracking_fixture.hpp): uploads become tables that download,
// bind and delete; a two-party reader -> psi -> statistics job's outputs, logs, history and rebuilt views.
// Models and worker saves are in tracking_models_test.cpp, providers in tracking_providers_test.cpp.
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

// 1 -----------------------------------------------------------------------------------------------------
// Uploads (JSON and multipart) become tables; a table downloads, binds and deletes; bad input is refused
// before any job is created.
TEST_F(Tracking, UploadsBecomeTablesThatDownloadBindAndDelete) {
  PartyServer& s = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start(s));

  ASSERT_NO_FATAL_FAILURE(upload(s, "guest_table", guest_csv()));
  Json t = s.get("table/query", {{"namespace", "experiment"}, {"name", "guest_table"}});
  ASSERT_EQ(code_of(t), 0) << t.dump();
  EXPECT_EQ(t["data"].value("count", -1), 8) << t.dump(2);
  EXPECT_EQ(t["data"].value("engine", ""), "standalone") << t.dump(2);
  EXPECT_FALSE(t["data"].value("path", "").empty()) << t.dump(2);
  EXPECT_EQ(t["data"]["meta"]["header"], Json::array({"id", "x0", "x1"})) << t.dump(2);
  EXPECT_EQ(t["data"]["meta"].value("match_id_name", ""), "id") << t.dump(2);

  // The download is a tar.gz of data/0.csv (the rows) and data/0.meta (the header).
  net::HttpResult d = get_raw(s, "data/download", {{"namespace", "experiment"}, {"name", "guest_table"}});
  ASSERT_TRUE(d.ok && d.status == 200) << d.status << " " << d.error << " " << d.body;
  Files files;
  ASSERT_TRUE(unpack(d.body, &files));
  EXPECT_EQ(names_of(files), (std::set<std::string>{"data/0.csv", "data/0.meta"}));
  EXPECT_EQ(lines_of(files["data/0.csv"]), lines_of(guest_csv())) << files["data/0.csv"];
  EXPECT_EQ(parse_json_text(files["data/0.meta"]).value("header", Json()), Json::array({"id", "x0", "x1"}))
      << files["data/0.meta"];

  // The download component (flow data download-component) writes the table back to a file under the roots.
  const std::string written = s.files_dir() + "/out/guest_table.csv";
  Json dc = s.post("data/component/download",
                   {{"namespace", "experiment"}, {"name", "guest_table"}, {"path", written}});
  ASSERT_EQ(code_of(dc), 0) << dc.dump() << s.diagnostics();
  EXPECT_EQ(dc["data"].value("path", ""), fs::weakly_canonical(written).string()) << dc.dump();
  ASSERT_NO_FATAL_FAILURE(expect_local_success(s, dc.value("job_id", "")));
  EXPECT_EQ(lines_of(read_text(written)), lines_of(guest_csv()));
  EXPECT_EQ(code_of(s.post("data/component/download",
                           {{"namespace", "experiment"}, {"name", "guest_table"}, {"path", "/tmp/x.csv"}})),
            5005);
  EXPECT_EQ(code_of(s.post("data/component/download", {{"namespace", "experiment"}, {"name", "nothing"}})),
            7001);

  // The multipart form: the file travels in the request, meta is JSON text, here with another delimiter.
  net::HttpResult f = post_form(
      s, "data/component/upload/file",
      {field("head", "true"), field("partitions", "2"),
       field("meta", R"({"delimiter": ";", "match_id_name": "uid"})"), field("namespace", "experiment"),
       field("name", "form_table"), file_part("file", "rows.csv", "uid;v\na;1\nb;2\nc;3\n")});
  Json fr = json_of(f);
  ASSERT_EQ(code_of(fr), 0) << fr.dump() << s.diagnostics();
  EXPECT_EQ(fr["data"], (Json{{"namespace", "experiment"}, {"name", "form_table"}})) << fr.dump();
  ASSERT_NO_FATAL_FAILURE(expect_local_success(s, fr.value("job_id", "")));
  Json ft = s.get("table/query", {{"namespace", "experiment"}, {"name", "form_table"}});
  ASSERT_EQ(code_of(ft), 0) << ft.dump();
  EXPECT_EQ(ft["data"].value("count", -1), 3) << ft.dump(2);
  EXPECT_EQ(ft["data"]["meta"]["header"], Json::array({"uid", "v"})) << ft.dump(2);

  // The dataframe transformer (flow data transformer) copies a table under a new name as a local job.
  Json tr = s.post("data/component/dataframe/transformer",
                   {{"data_warehouse", {{"namespace", "experiment"}, {"name", "guest_table"}}},
                    {"namespace", "experiment"},
                    {"name", "guest_frame"}});
  ASSERT_EQ(code_of(tr), 0) << tr.dump() << s.diagnostics();
  ASSERT_NO_FATAL_FAILURE(expect_local_success(s, tr.value("job_id", "")));
  Json frame = s.get("table/query", {{"namespace", "experiment"}, {"name", "guest_frame"}});
  EXPECT_EQ(frame["data"].value("count", -1), 8) << frame.dump(2);
  EXPECT_EQ(frame["data"].value("data_type", ""), "dataframe") << frame.dump(2);
  EXPECT_EQ(code_of(s.post("data/component/dataframe/transformer",
                           {{"data_warehouse", {{"namespace", "experiment"}, {"name", "guest_table"}}},
                            {"namespace", "experiment"},
                            {"name", "guest_frame"},
                            {"drop", false}})),
            7002);

  // Binding registers a path table without moving data.
  const std::string bound_dir = s.files_dir() + "/bound";
  fs::create_directories(bound_dir);
  Json b = s.post("table/bind/path", {{"namespace", "experiment"}, {"name", "bound"}, {"path", bound_dir}});
  ASSERT_EQ(code_of(b), 0) << b.dump();
  Json bt = s.get("table/query", {{"namespace", "experiment"}, {"name", "bound"}});
  ASSERT_EQ(code_of(bt), 0) << bt.dump();
  EXPECT_EQ(bt["data"].value("engine", ""), "path") << bt.dump(2);
  EXPECT_EQ(bt["data"].value("path", ""), bound_dir) << bt.dump(2);
  EXPECT_EQ(bt["data"].value("data_type", ""), "data_directory") << bt.dump(2);

  // Deleting: the table is gone; deleting it again and querying it answer 7001.
  for (const char* name : {"bound", "form_table"}) {
    Json del = s.post("table/delete", {{"namespace", "experiment"}, {"name", name}});
    EXPECT_EQ(code_of(del), 0) << name << ": " << del.dump();
    EXPECT_EQ(code_of(s.get("table/query", {{"namespace", "experiment"}, {"name", name}})), 7001) << name;
    EXPECT_EQ(code_of(s.post("table/delete", {{"namespace", "experiment"}, {"name", name}})), 7001) << name;
  }
  EXPECT_EQ(code_of(s.get("table/query", {{"namespace", "experiment"}, {"name", "guest_table"}})), 0)
      << "deleting other tables removed guest_table";

  // Bad input: no job is created and no table appears.
  const int64_t jobs_before = job_count(s);
  ASSERT_GT(jobs_before, 0);
  Json missing = s.post("data/component/upload", {{"file", s.files_dir() + "/no_such_file.csv"},
                                                  {"head", true},
                                                  {"partitions", 4},
                                                  {"meta", {{"delimiter", ","}}},
                                                  {"namespace", "experiment"},
                                                  {"name", "missing"}});
  EXPECT_EQ(code_of(missing), 8001) << missing.dump();
  EXPECT_EQ(code_of(s.get("table/query", {{"namespace", "experiment"}, {"name", "missing"}})), 7001);
  const std::string file = s.files_dir() + "/guest_table.csv";
  for (const char* bad_field : {"namespace", "name"}) {
    Json body = {{"file", file},
                 {"head", true},
                 {"partitions", 4},
                 {"meta", {{"delimiter", ","}}},
                 {"namespace", "experiment"},
                 {"name", "ok_name"}};
    body[bad_field] = "a/b";
    Json r = s.post("data/component/upload", body);
    EXPECT_EQ(code_of(r), 5001) << bad_field << ": " << r.dump();
    EXPECT_NE(r.value("data", Json()).dump().find(std::string("\"") + bad_field + "\""), std::string::npos)
        << "the answer does not name " << bad_field << ": " << r.dump();
    EXPECT_FALSE(r.contains("job_id")) << r.dump();
  }
  EXPECT_EQ(job_count(s), jobs_before) << "a refused upload created a job";
}

// 2 -----------------------------------------------------------------------------------------------------
// The issue's flow: upload at each party, reader -> psi -> statistics at guest and host, then every output
// route, the logs, the audit history, and the views rebuilt from the log answering the same.
TEST_F(Tracking, TwoPartyPsiAndStatisticsOutputsLogsAndRebuild) {
  PartyServer& guest = add(kGuest);
  PartyServer& host = add(kHost);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  ASSERT_NO_FATAL_FAILURE(upload(guest, "guest_table", guest_csv()));
  ASSERT_NO_FATAL_FAILURE(upload(host, "host_table", host_csv()));

  std::string job_id = submit_ok(guest, psi_statistics_dag("guest_table", "host_table"));
  ASSERT_FALSE(job_id.empty());
  ASSERT_NO_FATAL_FAILURE(expect_job_success(guest, job_id, "guest"));
  ASSERT_NO_FATAL_FAILURE(expect_job_success(host, job_id, "host"));

  // The intersection, as both parties see it.
  const Json intersection = {{"intersect_count", 4}, {"input_count", 8}, {"intersect_rate", 0.5}};
  std::map<std::string, Json> psi_metrics;
  for (auto* s : {&guest, &host}) {
    const std::string role = s == &guest ? "guest" : "host";
    Json m = output(*s, "output/metric/query", job_id, role, "psi_0");
    ASSERT_EQ(code_of(m), 0) << role << ": " << m.dump() << diagnostics(job_id);
    ASSERT_EQ(m["data"].size(), 1u) << role << ": " << m.dump(2);
    EXPECT_EQ(m["data"][0].value("name", ""), "intersection") << m.dump(2);
    EXPECT_EQ(m["data"][0].value("type", ""), "psi") << m.dump(2);
    EXPECT_EQ(m["data"][0]["data"], intersection) << role << ": " << m.dump(2);
    psi_metrics[role] = m;

    Json keys = output(*s, "output/metric/key/query", job_id, role, "psi_0");
    ASSERT_EQ(code_of(keys), 0) << keys.dump();
    ASSERT_EQ(keys["data"].size(), 1u) << keys.dump(2);
    EXPECT_EQ(keys["data"][0].value("name", ""), "intersection") << keys.dump(2);
    EXPECT_FALSE(keys["data"][0].contains("data")) << keys.dump(2);

    // Filters select by name.
    Json hit = output(*s, "output/metric/query", job_id, role, "psi_0",
                      {{"filters", R"({"name": "intersection"})"}});
    EXPECT_EQ(code_of(hit), 0) << hit.dump();
    EXPECT_EQ(hit["data"].size(), 1u) << hit.dump(2);
    Json miss =
        output(*s, "output/metric/query", job_id, role, "psi_0", {{"filters", R"({"name": "other"})"}});
    EXPECT_EQ(code_of(miss), 0) << miss.dump();
    EXPECT_EQ(miss["data"], Json::array()) << miss.dump(2);
  }

  // Statistics of the intersected rows (ids 5..8), as a metric and as the model.
  auto expect_column = [](const Json& stats, const std::string& column, double mean, double low,
                          double high) {
    ASSERT_TRUE(stats.contains(column)) << column << " missing: " << stats.dump(2);
    const Json& c = stats[column];
    EXPECT_EQ(c.value("count", -1), 4) << column << ": " << c.dump();
    EXPECT_DOUBLE_EQ(c.value("mean", -1.0), mean) << column << ": " << c.dump();
    EXPECT_DOUBLE_EQ(c.value("min", -1.0), low) << column << ": " << c.dump();
    EXPECT_DOUBLE_EQ(c.value("max", -1.0), high) << column << ": " << c.dump();
  };
  Json gs = output(guest, "output/metric/query", job_id, "guest", "statistics_0");
  ASSERT_EQ(code_of(gs), 0) << gs.dump();
  ASSERT_EQ(gs["data"].size(), 1u) << gs.dump(2);
  EXPECT_EQ(gs["data"][0].value("name", ""), "statistics") << gs.dump(2);
  const Json guest_stats = gs["data"][0]["data"];
  expect_column(guest_stats, "x0", 6.5, 5, 8);
  expect_column(guest_stats, "x1", 13, 10, 16);
  EXPECT_FALSE(guest_stats.contains("id")) << "the id column has statistics: " << guest_stats.dump(2);
  Json hs = output(host, "output/metric/query", job_id, "host", "statistics_0");
  ASSERT_EQ(code_of(hs), 0) << hs.dump();
  ASSERT_EQ(hs["data"].size(), 1u) << hs.dump(2);
  expect_column(hs["data"][0]["data"], "h0", 7, 5.5, 8.5);

  Json model = output(guest, "output/model/query", job_id, "guest", "statistics_0");
  ASSERT_EQ(code_of(model), 0) << model.dump();
  EXPECT_EQ(model["data"].value("output_model", Json()), guest_stats) << model.dump(2);
  net::HttpResult tar =
      get_raw(guest, "output/model/download", task_query(job_id, "guest", kGuest, "statistics_0"));
  ASSERT_TRUE(tar.ok && tar.status == 200) << tar.status << " " << tar.body;
  Files model_files;
  ASSERT_TRUE(unpack(tar.body, &model_files));
  ASSERT_TRUE(model_files.count("output_model.json")) << ::testing::PrintToString(names_of(model_files));
  EXPECT_EQ(parse_json_text(model_files["output_model.json"]), guest_stats);
  // A task without a model answers 2005.
  EXPECT_EQ(code_of(output(guest, "output/model/query", job_id, "guest", "psi_0")), 2005);

  // The intersected rows as data output: download, table and display (the last two without envelope).
  net::HttpResult data = get_raw(guest, "output/data/download", task_query(job_id, "guest", kGuest, "psi_0"));
  ASSERT_TRUE(data.ok && data.status == 200) << data.status << " " << data.body;
  Files data_files;
  ASSERT_TRUE(unpack(data.body, &data_files));
  EXPECT_EQ(names_of(data_files), (std::set<std::string>{"output_data/0.csv", "output_data/0.meta"}));
  EXPECT_EQ(lines_of(data_files["output_data/0.csv"]),
            (std::vector<std::string>{"id,x0,x1", "5,5,10", "6,6,12", "7,7,14", "8,8,16"}))
      << data_files["output_data/0.csv"];
  EXPECT_EQ(parse_json_text(data_files["output_data/0.meta"]).value("header", Json()),
            Json::array({"id", "x0", "x1"}));
  Json table = guest.get("output/data/table", task_query(job_id, "guest", kGuest, "psi_0"));
  EXPECT_FALSE(table.contains("code")) << "output/data/table has an envelope: " << table.dump();
  ASSERT_TRUE(table.contains("output_data") && table["output_data"].size() == 1) << table.dump(2);
  const Json psi_table = table["output_data"][0];
  EXPECT_FALSE(psi_table.value("namespace", "").empty()) << table.dump(2);
  EXPECT_FALSE(psi_table.value("name", "").empty()) << table.dump(2);
  Json display = guest.get("output/data/display", task_query(job_id, "guest", kGuest, "psi_0"));
  EXPECT_FALSE(display.contains("code")) << "output/data/display has an envelope: " << display.dump();
  ASSERT_TRUE(display.contains("output_data") && display["output_data"].size() == 1) << display.dump(2);
  EXPECT_EQ(display["output_data"][0].value("total", -1), 4) << display.dump(2);
  EXPECT_EQ(display["output_data"][0]["metadata"].value("header", Json()), Json::array({"id", "x0", "x1"}))
      << display.dump(2);
  // The output is a table too: the tracking's namespace and name answer table/query.
  Json out_table = guest.get("table/query", {{"namespace", psi_table.value("namespace", "")},
                                             {"name", psi_table.value("name", "")}});
  EXPECT_EQ(code_of(out_table), 0) << out_table.dump();
  EXPECT_EQ(out_table["data"].value("count", -1), 4) << out_table.dump(2);
  // statistics_0 has no data output.
  EXPECT_EQ(code_of(guest.get("output/data/download", task_query(job_id, "guest", kGuest, "statistics_0"))),
            7001);

  // Logs: the schedule log and the task's own output, by line; the job's log folder as a tar.gz.
  Json count = guest.get("log/count", {{"log_type", "schedule_info"}, {"job_id", job_id}});
  ASSERT_EQ(code_of(count), 0) << count.dump();
  ASSERT_TRUE(count["data"].is_number_integer()) << count.dump();
  EXPECT_GT(count["data"].get<int64_t>(), 0) << count.dump();
  Json lines =
      guest.get("log/query",
                {{"log_type", "schedule_info"}, {"job_id", job_id}, {"role", "guest"}, {"party_id", kGuest}});
  ASSERT_EQ(code_of(lines), 0) << lines.dump();
  ASSERT_EQ(static_cast<int64_t>(lines["data"].size()), count["data"].get<int64_t>()) << lines.dump(2);
  EXPECT_EQ(lines["data"][0].value("line_num", -1), 1) << lines.dump(2);
  EXPECT_NE(lines["data"].dump().find("psi_0"), std::string::npos) << lines.dump(2);
  Json window = guest.get("log/query", {{"log_type", "schedule_info"},
                                        {"job_id", job_id},
                                        {"role", "guest"},
                                        {"party_id", kGuest},
                                        {"begin", "2"},
                                        {"end", "3"}});
  ASSERT_EQ(code_of(window), 0) << window.dump();
  ASSERT_EQ(window["data"].size(), 2u) << window.dump(2);
  EXPECT_EQ(window["data"][0].value("line_num", -1), 2);
  EXPECT_EQ(window["data"][1], lines["data"][2]);
  Json task_log = guest.get("log/query", {{"log_type", "task_info"},
                                          {"job_id", job_id},
                                          {"role", "guest"},
                                          {"party_id", kGuest},
                                          {"task_name", "psi_0"}});
  ASSERT_EQ(code_of(task_log), 0) << task_log.dump();
  EXPECT_NE(task_log["data"].dump().find("4 of 8 rows"), std::string::npos)
      << "psi_0's output is not in its task_info log: " << task_log.dump(2);
  Json errors = guest.get("log/count", {{"log_type", "schedule_error"}, {"job_id", job_id}});
  EXPECT_EQ(code_of(errors), 0) << errors.dump();
  EXPECT_EQ(errors.value("data", Json()), 0) << "a successful job logged schedule errors: " << errors.dump();
  Json no_task = guest.get("log/count", {{"log_type", "task_info"}, {"job_id", job_id}});
  EXPECT_EQ(code_of(no_task), 5001) << "task_info without role, party_id and task_name: " << no_task.dump();

  net::HttpResult logs = guest.raw("POST", "/v2/job/log/download", Json{{"job_id", job_id}}.dump());
  ASSERT_TRUE(logs.ok && logs.status == 200) << logs.status << " " << logs.body;
  Files log_files;
  ASSERT_TRUE(unpack(logs.body, &log_files));
  EXPECT_TRUE(log_files.count(job_id + "/fate_flow_schedule.log"))
      << ::testing::PrintToString(names_of(log_files));
  bool has_task_output = false;
  for (const auto& [name, text] : log_files)
    has_task_output = has_task_output || (name.rfind(job_id + "/guest/" + kGuest + "/psi_0/", 0) == 0 &&
                                          text.find("4 of 8 rows") != std::string::npos);
  EXPECT_TRUE(has_task_output) << "no psi_0 output in " << ::testing::PrintToString(names_of(log_files));
  Json unknown = json_of(guest.raw("POST", "/v2/job/log/download", Json{{"job_id", "1"}}.dump()));
  EXPECT_EQ(code_of(unknown), 8001) << unknown.dump();

  // The audit history names each kind of save.
  for (auto* s : {&guest, &host}) {
    auto kinds = history_kinds(s->history(job_id));
    for (const char* kind : {"MetricsSaved", "DataOutputTracked", "ModelSaved"})
      EXPECT_TRUE(kinds.count(kind)) << kind << " missing at " << s->party_id() << ": "
                                     << ::testing::PrintToString(kinds);
  }

  // Stopped, the guest's store verifies; rebuilt from the log and restarted, it answers the same.
  const Json stats_metric = gs;
  const Json guest_table = guest.get("table/query", {{"namespace", "experiment"}, {"name", "guest_table"}});
  ASSERT_EQ(code_of(guest_table), 0) << guest_table.dump();
  ASSERT_TRUE(no_task_process_left(guest));
  ASSERT_NE(guest.stop(), -1) << "the guest did not stop on SIGTERM";
  EXPECT_TRUE(store_tool(guest, "verify"));
  EXPECT_TRUE(store_tool(guest, "rebuild"));
  EXPECT_TRUE(store_tool(guest, "verify"));
  ASSERT_EQ(guest.restart(), "") << "the guest did not restart";
  EXPECT_EQ(output(guest, "output/metric/query", job_id, "guest", "psi_0"), psi_metrics["guest"]);
  EXPECT_EQ(output(guest, "output/metric/query", job_id, "guest", "statistics_0"), stats_metric);
  EXPECT_EQ(output(guest, "output/model/query", job_id, "guest", "statistics_0"), model);
  EXPECT_EQ(guest.get("table/query", {{"namespace", "experiment"}, {"name", "guest_table"}}), guest_table);

  // Deleting outputs: metrics of one task, then its models.
  Json del = guest.post("output/metric/delete", task_body(job_id, "guest", kGuest, "psi_0"));
  ASSERT_EQ(code_of(del), 0) << del.dump();
  EXPECT_EQ(del["data"], true) << del.dump();
  Json after = output(guest, "output/metric/query", job_id, "guest", "psi_0");
  EXPECT_EQ(code_of(after), 0) << after.dump();
  EXPECT_EQ(after["data"], Json::array()) << after.dump(2);
  EXPECT_EQ(output(guest, "output/metric/query", job_id, "guest", "statistics_0"), stats_metric)
      << "deleting psi_0's metrics touched statistics_0's";
  EXPECT_EQ(output(host, "output/metric/query", job_id, "host", "psi_0"), psi_metrics["host"])
      << "deleting at the guest touched the host";
  Json mdel = guest.post("output/model/delete", task_body(job_id, "guest", kGuest, "statistics_0"));
  EXPECT_EQ(code_of(mdel), 0) << mdel.dump();
  EXPECT_EQ(code_of(output(guest, "output/model/query", job_id, "guest", "statistics_0")), 2005);
  auto kinds = history_kinds(guest.history(job_id));
  EXPECT_TRUE(kinds.count("TrackingDeleted")) << ::testing::PrintToString(kinds);
  guest.stop();
  EXPECT_TRUE(store_tool(guest, "verify"));
}

}  // namespace
}  // namespace flowstone::systest
