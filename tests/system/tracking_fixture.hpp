// Tracking: the fixture of tracking_test.cpp, tracking_models_test.cpp and tracking_providers_test.cpp, on
// SitesTest (sites.hpp). Tracking, catalog and worker API end-to-end tests: real `flowstone serve` processes
// on 127.0.0.1 running the reference components (upload, reader, psi, statistics, noop) and FATE algorithm
// packages, driven only through the HTTP API and what a user sees: tables, metrics, models, data outputs,
// logs, exported and imported models, providers, the job's history and `flowstone store verify|rebuild`.
// Every wait polls for an outcome with a deadline; nothing is timed. Here: uploads, waits, output routes,
// the store tool, and helpers for archives, worker saves, the test tables and the psi -> statistics DAG.
// Header-only (namespace tracking_fixture).
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdint>
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
#include "net/multipart.hpp"
#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace tracking_fixture {

namespace fs = std::filesystem;

using Files = std::map<std::string, std::string>;

inline void write_file(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// The regular files of a tar, tar.gz or zip by name; a failure names the problem.
inline ::testing::AssertionResult unpack(const std::string& bytes, Files* out) {
  std::vector<net::ArchiveEntry> entries;
  if (std::string error = net::read_archive(bytes, &entries); !error.empty())
    return ::testing::AssertionFailure() << "not an archive (" << error << "): " << tail(bytes, 300);
  out->clear();
  for (auto& e : entries) (*out)[e.name] = std::move(e.data);
  return ::testing::AssertionSuccess();
}

inline std::set<std::string> names_of(const Files& files) {
  std::set<std::string> names;
  for (const auto& [name, data] : files) names.insert(name);
  return names;
}

inline Json parse_json_text(const std::string& text) {
  return Json::parse(text, nullptr, false);
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

inline net::HttpResult get_raw(PartyServer& server, const std::string& route, const Query& query) {
  return server.raw("GET", "/v2/" + route + "?" + net::encode_query(query), "");
}

// The query naming one task's outputs (job_id, role, party_id, task_name).
inline Query task_query(const std::string& job_id, const std::string& role, const std::string& party_id,
                        const std::string& task_name) {
  return {{"job_id", job_id}, {"role", role}, {"party_id", party_id}, {"task_name", task_name}};
}
inline Json task_body(const std::string& job_id, const std::string& role, const std::string& party_id,
                      const std::string& task_name) {
  return Json{{"job_id", job_id}, {"role", role}, {"party_id", party_id}, {"task_name", task_name}};
}

// A tar as a worker saves a JSON model: <key>.json and its FATE meta naming it.
inline std::string json_model_tar(const std::string& output_key, const Json& model) {
  const std::string member = output_key + ".json";
  Json meta = {{"model_key", member}, {"type_name", "json_model"}, {"index", nullptr}};
  std::string tar;
  std::string error = net::write_archive(
      net::ArchiveFormat::tar, {{member, model.dump()}, {member + ".meta.yaml", meta.dump()}}, &tar);
  EXPECT_EQ(error, "");
  return tar;
}

// POST /v2/worker/model/save as a worker sends it, for the model output_model of the run `execution_id`.
inline Json save_model_form(PartyServer& server, const std::string& model_id,
                            const std::string& model_version, const std::string& execution_id,
                            const std::string& tar) {
  return json_of(post_form(server, "worker/model/save",
                           {field("model_id", model_id), field("model_version", model_version),
                            field("execution_id", execution_id), field("output_key", "output_model"),
                            field("type_name", "json_model"), file_part("file", "model.tar", tar)}));
}

// Guest rows ids 1..8 (x0 = id, x1 = 2 id), host rows ids 5..12 (h0 = id + 0.5): the intersection is 5..8.
inline std::string guest_csv() {
  std::string csv = "id,x0,x1\n";
  for (int id = 1; id <= 8; ++id)
    csv += std::to_string(id) + "," + std::to_string(id) + "," + std::to_string(2 * id) + "\n";
  return csv;
}
inline std::string host_csv() {
  std::string csv = "id,h0\n";
  for (int id = 5; id <= 12; ++id) csv += std::to_string(id) + "," + std::to_string(id) + ".5\n";
  return csv;
}

inline Json data_input(const std::string& producer, const std::string& key = "output_data") {
  return {{"data",
           {{"input_data",
             {{"task_output_artifact", {{"producer_task", producer}, {"output_artifact_key", key}}}}}}}};
}

// reader_0 -> psi_0 -> statistics_0 at guest and host, each reader reading its party's table.
inline Json psi_statistics_dag(const std::string& guest_table, const std::string& host_table) {
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
inline std::set<std::string> history_kinds(const Json& history) {
  std::set<std::string> kinds;
  if (history.is_array())
    for (const auto& e : history) kinds.insert(e.value("kind", ""));
  return kinds;
}

// The path of the FATE package stand-in that ships with the sources.
inline std::string fate_fixture_dir() {
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

}  // namespace tracking_fixture
}  // namespace flowstone::systest
