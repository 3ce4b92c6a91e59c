// Tracking, catalog and worker API end-to-end tests: real `flowstone serve` processes on 127.0.0.1 running
// the reference components (upload, reader, psi, statistics, noop) and FATE algorithm packages, driven only
// through the HTTP API and what a user sees: tables, metrics, models, data outputs, logs, exported and
// imported models, providers, the job's history and `flowstone store verify|rebuild`.
// Every wait polls for an outcome with a deadline; nothing is timed.
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

namespace flowstone::systest {
namespace {

namespace fs = std::filesystem;

using Files = std::map<std::string, std::string>;

void write_file(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// The regular files of a tar, tar.gz or zip by name; a failure names the problem.
::testing::AssertionResult unpack(const std::string& bytes, Files* out) {
  std::vector<net::ArchiveEntry> entries;
  if (std::string error = net::read_archive(bytes, &entries); !error.empty())
    return ::testing::AssertionFailure() << "not an archive (" << error << "): " << tail(bytes, 300);
  out->clear();
  for (auto& e : entries) (*out)[e.name] = std::move(e.data);
  return ::testing::AssertionSuccess();
}

std::set<std::string> names_of(const Files& files) {
  std::set<std::string> names;
  for (const auto& [name, data] : files) names.insert(name);
  return names;
}

Json parse_json_text(const std::string& text) {
  return Json::parse(text, nullptr, false);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

net::HttpResult get_raw(PartyServer& server, const std::string& route, const Query& query) {
  return server.raw("GET", "/v2/" + route + "?" + net::encode_query(query), "");
}

// The query naming one task's outputs (job_id, role, party_id, task_name).
Query task_query(const std::string& job_id, const std::string& role, const std::string& party_id,
                 const std::string& task_name) {
  return {{"job_id", job_id}, {"role", role}, {"party_id", party_id}, {"task_name", task_name}};
}
Json task_body(const std::string& job_id, const std::string& role, const std::string& party_id,
               const std::string& task_name) {
  return Json{{"job_id", job_id}, {"role", role}, {"party_id", party_id}, {"task_name", task_name}};
}

// A tar as a worker saves a JSON model: <key>.json and its FATE meta naming it.
std::string json_model_tar(const std::string& output_key, const Json& model) {
  const std::string member = output_key + ".json";
  Json meta = {{"model_key", member}, {"type_name", "json_model"}, {"index", nullptr}};
  std::string tar;
  std::string error = net::write_archive(
      net::ArchiveFormat::tar, {{member, model.dump()}, {member + ".meta.yaml", meta.dump()}}, &tar);
  EXPECT_EQ(error, "");
  return tar;
}

// POST /v2/worker/model/save as a worker sends it, for the model output_model of the run `execution_id`.
Json save_model_form(PartyServer& server, const std::string& model_id, const std::string& model_version,
                     const std::string& execution_id, const std::string& tar) {
  return json_of(post_form(server, "worker/model/save",
                           {field("model_id", model_id), field("model_version", model_version),
                            field("execution_id", execution_id), field("output_key", "output_model"),
                            field("type_name", "json_model"), file_part("file", "model.tar", tar)}));
}

// Guest rows ids 1..8 (x0 = id, x1 = 2 id), host rows ids 5..12 (h0 = id + 0.5): the intersection is 5..8.
std::string guest_csv() {
  std::string csv = "id,x0,x1\n";
  for (int id = 1; id <= 8; ++id)
    csv += std::to_string(id) + "," + std::to_string(id) + "," + std::to_string(2 * id) + "\n";
  return csv;
}
std::string host_csv() {
  std::string csv = "id,h0\n";
  for (int id = 5; id <= 12; ++id) csv += std::to_string(id) + "," + std::to_string(id) + ".5\n";
  return csv;
}

Json data_input(const std::string& producer, const std::string& key = "output_data") {
  return {{"data",
           {{"input_data",
             {{"task_output_artifact", {{"producer_task", producer}, {"output_artifact_key", key}}}}}}}};
}

// reader_0 -> psi_0 -> statistics_0 at guest and host, each reader reading its party's table.
Json psi_statistics_dag(const std::string& guest_table, const std::string& host_table) {
  Json reader = {{"component_ref", "reader"}, {"parameters", Json::object()}};
  Json psi = {{"component_ref", "psi"}, {"parameters", Json::object()}, {"inputs", data_input("reader_0")}};
  Json statistics = {
      {"component_ref", "statistics"}, {"parameters", Json::object()}, {"inputs", data_input("psi_0")}};
  Json dag = make_dag(Json{{"reader_0", reader}, {"psi_0", psi}, {"statistics_0", statistics}},
                      Json{{"scheduler_party_id", kGuest}}, guest_and_host());
  auto reads = [](const std::string& name) {
    return Json{{"reader_0", {{"parameters", {{"namespace", "experiment"}, {"name", name}}}}}};
  };
  dag["dag"]["party_tasks"] = {
      {"guest_9999", {{"parties", Json::array({party("guest", kGuest)})}, {"tasks", reads(guest_table)}}},
      {"host_10000", {{"parties", Json::array({party("host", kHost)})}, {"tasks", reads(host_table)}}}};
  return dag;
}

// The kinds of the events in a job's history.
std::set<std::string> history_kinds(const Json& history) {
  std::set<std::string> kinds;
  if (history.is_array())
    for (const auto& e : history) kinds.insert(e.value("kind", ""));
  return kinds;
}

// The path of the FATE package stand-in that ships with the sources.
std::string fate_fixture_dir() {
  return std::string(FLOWSTONE_SOURCE_DIR) + "/tests/system/data/fate-noop-provider";
}

class Tracking : public SitesTest {
 protected:
  // Waits until the local job (role local, party "0") at `server` has ended; asserts it succeeded.
  void expect_local_success(PartyServer& server, const std::string& job_id) {
    Json row;
    bool done = poll_until(
        [&] {
          row = server.job_row(job_id, "local", "0");
          return !row.is_null() && ended(row);
        },
        30s);
    ASSERT_TRUE(done) << "local job " << job_id << " never ended: " << row.dump(2) << diagnostics(job_id);
    ASSERT_EQ(row.value("status", ""), "success") << row.dump(2) << diagnostics(job_id);
  }

  // Uploads `csv` (a file in the server's folder) as experiment/<name> and waits for the upload job.
  void upload(PartyServer& server, const std::string& name, const std::string& csv) {
    const std::string file = server.files_dir() + "/" + name + ".csv";
    write_file(file, csv);
    Json r = server.post("data/component/upload", {{"file", file},
                                                   {"head", true},
                                                   {"partitions", 4},
                                                   {"meta", {{"delimiter", ","}, {"match_id_name", "id"}}},
                                                   {"namespace", "experiment"},
                                                   {"name", name}});
    ASSERT_EQ(code_of(r), 0) << r.dump() << diagnostics();
    ASSERT_TRUE(r.contains("job_id") && r["job_id"].is_string()) << r.dump();
    EXPECT_EQ(r["data"], (Json{{"namespace", "experiment"}, {"name", name}})) << r.dump();
    ASSERT_NO_FATAL_FAILURE(expect_local_success(server, r["job_id"].get<std::string>()));
  }

  // Waits for the job's copy at `server` to end, and asserts it succeeded.
  void expect_job_success(PartyServer& server, const std::string& job_id, const std::string& role = "guest") {
    Json row = wait_end(server, job_id, role, 60s);
    ASSERT_EQ(row.value("status", ""), "success")
        << role << ":" << server.party_id() << " " << row.dump(2) << diagnostics(job_id);
  }

  int64_t job_count(PartyServer& server) {
    Json r = server.get("job/list/query", {{"limit", "1000"}});
    if (code_of(r) != 0 || !r["data"].is_object()) return -1;
    return r["data"].value("count", int64_t{-1});
  }

  // The answer of an output route (GET) at `server` for one task.
  Json output(PartyServer& server, const std::string& route, const std::string& job_id,
              const std::string& role, const std::string& task, Query extra = {}) {
    Query q = task_query(job_id, role, server.party_id(), task);
    q.insert(q.end(), extra.begin(), extra.end());
    return server.get(route, q);
  }

  // `flowstone store <action> --config` on a stopped server: its output, and whether it exited 0.
  ::testing::AssertionResult store_tool(PartyServer& server, const std::string& action) {
    std::string out;
    int status = run_command(
        std::string(FLOWSTONE_BIN_DIR) + "/flowstone store " + action + " --config " + server.conf_path(),
        &out);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "store " << action << ": wait status " << status << "\n" << out;
  }
};

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

// 3 -----------------------------------------------------------------------------------------------------
// A model exports as a zip, imports under another id and version, downloads under it, and deletes.
TEST_F(Tracking, ModelsExportImportAndDelete) {
  PartyServer& s = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start(s));
  Json reply;
  // noop_1 saves neither a model nor a metric.
  std::string job_id =
      s.submit(make_dag(Json{{"noop_0", noop_task({{"k", "v"}})},
                             {"noop_1", noop_task({{"emit_model", false}, {"emit_metric", false}})}}),
               &reply);
  ASSERT_FALSE(job_id.empty()) << reply.dump();
  const std::string model_id = reply["data"].value("model_id", "");
  const std::string model_version = reply["data"].value("model_version", "");
  ASSERT_FALSE(model_id.empty()) << reply.dump();
  ASSERT_NO_FATAL_FAILURE(expect_job_success(s, job_id));

  Json query = output(s, "output/model/query", job_id, "guest", "noop_0");
  ASSERT_EQ(code_of(query), 0) << query.dump() << diagnostics(job_id);
  EXPECT_EQ(query["data"]["output_model"].value("parameters", Json()), (Json{{"k", "v"}})) << query.dump(2);
  Json none = output(s, "output/model/query", job_id, "guest", "noop_1");
  EXPECT_EQ(code_of(none), 2005) << none.dump();
  Json no_keys = output(s, "output/metric/key/query", job_id, "guest", "noop_1");
  EXPECT_EQ(code_of(no_keys), 0) << no_keys.dump();
  EXPECT_EQ(no_keys["data"], Json::array()) << no_keys.dump();
  Json keys = output(s, "output/metric/key/query", job_id, "guest", "noop_0");
  const Json noop_key = {{"name", "noop_metric"},
                         {"type", "noop"},
                         {"groups", Json::array({Json{{"name", "default"}, {"index", nullptr}}})},
                         {"step_axis", nullptr}};
  EXPECT_EQ(keys["data"], Json::array({noop_key})) << keys.dump();
  net::HttpResult original =
      get_raw(s, "output/model/download", task_query(job_id, "guest", kGuest, "noop_0"));
  ASSERT_TRUE(original.ok && original.status == 200) << original.body;

  const std::string export_dir = s.files_dir() + "/exported";
  Json exported = s.post("model/export", {{"model_id", model_id},
                                          {"model_version", model_version},
                                          {"role", "guest"},
                                          {"party_id", kGuest},
                                          {"path", export_dir}});
  ASSERT_EQ(code_of(exported), 0) << exported.dump();
  const std::string zip_path =
      export_dir + "/" + model_id + "_" + model_version + "_guest_" + kGuest + ".zip";
  ASSERT_TRUE(fs::exists(zip_path)) << zip_path << " not written: " << exported.dump();
  const std::string zip = read_text(zip_path);
  Files zipped;
  ASSERT_TRUE(unpack(zip, &zipped));
  const std::string storage_key =
      model_id + "/" + model_version + "/guest/" + kGuest + "/noop_0/output_model";
  EXPECT_EQ(names_of(zipped), std::set<std::string>{storage_key});
  EXPECT_EQ(zipped[storage_key], original.body);
  EXPECT_EQ(code_of(s.post("model/export", {{"model_id", "nothing"},
                                            {"model_version", "0"},
                                            {"role", "guest"},
                                            {"party_id", kGuest},
                                            {"path", export_dir}})),
            2005);

  // Imported under another id and version.
  Json imported = json_of(post_form(s, "model/import",
                                    {field("model_id", "imported_model"), field("model_version", "7"),
                                     file_part("file", "model.zip", zip)}));
  ASSERT_EQ(code_of(imported), 0) << imported.dump();
  const Query new_key = {
      {"model_id", "imported_model"}, {"model_version", "7"},  {"role", "guest"},
      {"party_id", kGuest},           {"task_name", "noop_0"}, {"output_key", "output_model"}};
  net::HttpResult again = get_raw(s, "worker/model/download", new_key);
  ASSERT_TRUE(again.ok && again.status == 200) << again.body;
  EXPECT_EQ(again.body, original.body) << "the imported model differs from the exported one";
  // The imported copy exports under its new name.
  Json reexported = s.post("model/export", {{"model_id", "imported_model"},
                                            {"model_version", "7"},
                                            {"role", "guest"},
                                            {"party_id", kGuest},
                                            {"path", export_dir}});
  EXPECT_EQ(code_of(reexported), 0) << reexported.dump();
  EXPECT_TRUE(fs::exists(export_dir + "/imported_model_7_guest_" + kGuest + ".zip"));

  // Something that is not a zip of models is refused and stores nothing.
  Json not_zip = json_of(post_form(s, "model/import",
                                   {field("model_id", "bad_model"), field("model_version", "1"),
                                    file_part("file", "model.zip", "this is not a zip")}));
  EXPECT_EQ(code_of(not_zip), 5001) << not_zip.dump();
  Json bad_download = json_of(get_raw(s, "worker/model/download",
                                      {{"model_id", "bad_model"},
                                       {"model_version", "1"},
                                       {"role", "guest"},
                                       {"party_id", kGuest},
                                       {"task_name", "noop_0"},
                                       {"output_key", "output_model"}}));
  EXPECT_NE(code_of(bad_download), 0) << bad_download.dump();

  // Deleting: the imported model, then the job's own; a second delete finds nothing.
  Json del = s.post("model/delete", {{"model_id", "imported_model"}, {"model_version", "7"}});
  ASSERT_EQ(code_of(del), 0) << del.dump();
  EXPECT_EQ(del["data"], (Json{{"count", true}})) << del.dump();
  EXPECT_EQ(code_of(s.post("model/delete", {{"model_id", "imported_model"}, {"model_version", "7"}})), 2005);
  Json gone = json_of(get_raw(s, "worker/model/download", new_key));
  EXPECT_NE(code_of(gone), 0) << "the deleted model still downloads";
  EXPECT_EQ(code_of(output(s, "output/model/query", job_id, "guest", "noop_0")), 0)
      << "deleting the imported model deleted the job's";
  Json own = s.post("model/delete", {{"model_id", model_id}, {"model_version", model_version}});
  EXPECT_EQ(code_of(own), 0) << own.dump();
  EXPECT_EQ(own["data"], (Json{{"count", true}})) << own.dump();
  EXPECT_EQ(code_of(output(s, "output/model/query", job_id, "guest", "noop_0")), 2005);
  EXPECT_EQ(code_of(s.post("model/delete", {{"model_id", model_id}, {"model_version", model_version}})),
            2005);
  s.stop();
  EXPECT_TRUE(store_tool(s, "verify"));
}

// 4 -----------------------------------------------------------------------------------------------------
// The worker routes refuse malformed saves of a running task and store nothing; unknown runs are 2000.
TEST_F(Tracking, WorkerRoutesRefuseBadSaves) {
  PartyServer& s = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start(s));
  Json reply;
  std::string job_id = s.submit(make_dag(Json{{"noop_0", noop_task({{"sleep", 5}})}}), &reply);
  ASSERT_FALSE(job_id.empty()) << reply.dump();
  const std::string model_id = reply["data"].value("model_id", "");
  const std::string model_version = reply["data"].value("model_version", "");
  auto running = s.wait_task_running(job_id, "noop_0");
  ASSERT_TRUE(running.met) << running.row.dump(2) << diagnostics(job_id);
  const std::string execution_id = running.row.value("execution_id", "");
  ASSERT_FALSE(execution_id.empty()) << running.row.dump(2);

  // While the run is running: a file that is not a tar is refused and nothing is stored.
  Json not_tar = save_model_form(s, model_id, model_version, execution_id, "this is not a tar");
  EXPECT_EQ(code_of(not_tar), 5001) << not_tar.dump();
  EXPECT_EQ(code_of(output(s, "output/model/query", job_id, "guest", "noop_0")), 2005)
      << "a refused save stored a model";
  // Metrics without a name are refused, naming the field.
  Json bm = json_of(s.raw("POST", "/v2/worker/metric/save/" + execution_id, R"({"data": [{"name": 1}]})"));
  EXPECT_EQ(code_of(bm), 5001) << bm.dump();
  EXPECT_NE(bm.value("data", Json()).dump().find("data[0].name"), std::string::npos) << bm.dump();
  Json metrics = output(s, "output/metric/query", job_id, "guest", "noop_0");
  EXPECT_EQ(metrics["data"], Json::array()) << "a refused metric was stored: " << metrics.dump(2);
  // An unknown run is 2000.
  const std::string valid_metric = R"({"data": [{"name": "m", "data": []}]})";
  Json unknown_metric =
      json_of(s.raw("POST", "/v2/worker/metric/save/no_such_run_0_guest_9999", valid_metric));
  EXPECT_EQ(code_of(unknown_metric), 2000) << unknown_metric.dump();
  Json unknown_model = save_model_form(s, model_id, model_version, "no_such_run_0_guest_9999",
                                       json_model_tar("output_model", {{"x", 1}}));
  EXPECT_EQ(code_of(unknown_model), 2000) << unknown_model.dump();

  // The run's own saves are kept.
  ASSERT_NO_FATAL_FAILURE(expect_job_success(s, job_id));
  Json model = output(s, "output/model/query", job_id, "guest", "noop_0");
  ASSERT_EQ(code_of(model), 0) << model.dump() << diagnostics(job_id);
  EXPECT_EQ(model["data"]["output_model"].value("parameters", Json()), (Json{{"sleep", 5}})) << model.dump(2);
  Json metric = output(s, "output/metric/query", job_id, "guest", "noop_0");
  ASSERT_EQ(code_of(metric), 0) << metric.dump();
  ASSERT_EQ(metric["data"].size(), 1u) << metric.dump(2);
  EXPECT_EQ(metric["data"][0].value("name", ""), "noop_metric") << metric.dump(2);
  s.stop();
  EXPECT_TRUE(store_tool(s, "verify"));
}

// 5 -----------------------------------------------------------------------------------------------------
// Saves from a run that has ended are answered "ignored" and change nothing: not the views, not the file.
TEST_F(Tracking, SavesFromAnEndedRunChangeNothing) {
  PartyServer& s = add(kGuest);
  ASSERT_NO_FATAL_FAILURE(start(s));
  Json reply;
  std::string job_id = s.submit(make_dag(Json{{"noop_0", noop_task()}}), &reply);
  ASSERT_FALSE(job_id.empty()) << reply.dump();
  const std::string model_id = reply["data"].value("model_id", "");
  const std::string model_version = reply["data"].value("model_version", "");
  ASSERT_NO_FATAL_FAILURE(expect_job_success(s, job_id));
  const std::string execution_id = s.task_rows(job_id)["noop_0"].value("execution_id", "");
  ASSERT_FALSE(execution_id.empty());
  Json model = output(s, "output/model/query", job_id, "guest", "noop_0");
  ASSERT_EQ(code_of(model), 0) << model.dump() << diagnostics(job_id);
  Json metric = output(s, "output/metric/query", job_id, "guest", "noop_0");
  ASSERT_EQ(code_of(metric), 0) << metric.dump();
  net::HttpResult tar = get_raw(s, "output/model/download", task_query(job_id, "guest", kGuest, "noop_0"));
  ASSERT_TRUE(tar.ok && tar.status == 200) << tar.body;

  Json late_model = save_model_form(s, model_id, model_version, execution_id,
                                    json_model_tar("output_model", {{"forged", true}}));
  EXPECT_EQ(code_of(late_model), 0) << late_model.dump();
  EXPECT_NE(late_model.value("message", "").find("ignored"), std::string::npos) << late_model.dump();
  Json late_metric = json_of(
      s.raw("POST", "/v2/worker/metric/save/" + execution_id, R"({"data": [{"name": "late", "data": []}]})"));
  EXPECT_EQ(code_of(late_metric), 0) << late_metric.dump();
  EXPECT_NE(late_metric.value("message", "").find("ignored"), std::string::npos) << late_metric.dump();
  EXPECT_EQ(output(s, "output/metric/query", job_id, "guest", "noop_0"), metric);
  EXPECT_EQ(output(s, "output/model/query", job_id, "guest", "noop_0"), model)
      << "a save from an ended run changed the model; it was answered " << late_model.dump();
  net::HttpResult tar_after =
      get_raw(s, "output/model/download", task_query(job_id, "guest", kGuest, "noop_0"));
  EXPECT_TRUE(tar_after.body == tar.body)
      << "a save from an ended run replaced the stored model file; it was answered " << late_model.dump();
  s.stop();
  EXPECT_TRUE(store_tool(s, "verify"));
}

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
