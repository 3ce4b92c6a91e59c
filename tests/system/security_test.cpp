// What an unauthenticated network neighbour tried against a default `flowstone serve`, request by request
// (one test per attack): each is refused with a code that names the field, nothing outside the server's
// folders is read or written, and the server keeps serving. Real servers on 127.0.0.1, driven over HTTP.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "net/archive.hpp"
#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

namespace fs = std::filesystem;

const char* kClimb = "../../../../../../../../";

// A path outside every folder of the test's server that this test alone uses.
std::string outside_path(const std::string& what) {
  return "/tmp/flowstone-escape-" + std::to_string(::getpid()) + "-" + what;
}

class Security : public SitesTest {
 protected:
  void SetUp() override {
    server = &add(kGuest);
    ASSERT_NO_FATAL_FAILURE(start(*server));
  }
  void TearDown() override {
    std::error_code ec;
    for (const char* what : {"export", "import", "bound"}) fs::remove_all(outside_path(what), ec);
    SitesTest::TearDown();
  }

  // The server still answers, and the refusal named `field` in its data.
  void expect_refused(const Json& answer, int code, const std::string& field) {
    EXPECT_EQ(code_of(answer), code) << answer.dump();
    EXPECT_NE(answer.dump().find(field), std::string::npos)
        << "the answer does not name " << field << ": " << answer.dump();
    EXPECT_FALSE(answer.contains("job_id")) << "a job was created: " << answer.dump();
    EXPECT_EQ(code_of(server->get("site/info/query")), 0) << "the server stopped serving" << diagnostics();
  }

  Json upload_body(const std::string& file, const std::string& name) {
    return Json{{"file", file},        {"meta", {{"delimiter", ":"}}},
                {"namespace", "loot"}, {"name", name},
                {"head", false},       {"partitions", 1}};
  }

  PartyServer* server = nullptr;
};

TEST_F(Security, LogDownloadRefusesAJobIdThatClimbsOut) {
  Json r = server->post("job/log/download", {{"job_id", std::string(kClimb) + "etc/default"}});
  expect_refused(r, 5001, "job_id");
}

TEST_F(Security, LogQueryAndCountRefuseATraversalCutByANul) {
  for (const char* route : {"log/query", "log/count"}) {
    net::HttpResult r =
        server->raw("GET",
                    std::string("/v2/") + route +
                        "?log_type=schedule_info&role=guest&party_id=9999&job_id=" + kClimb + "etc/passwd%00",
                    "");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << route << " returned /etc/passwd: " << r.body;
    expect_refused(json_of(r), 5001, "job_id");
    // Without the NUL too: every field that names a folder of the log path is one name, not a path.
    expect_refused(server->get(route, {{"log_type", "schedule_info"},
                                       {"job_id", std::string(kClimb) + "tmp"},
                                       {"role", "guest"},
                                       {"party_id", kGuest}}),
                   5001, "job_id");
    expect_refused(server->get(route, {{"log_type", "task_info"},
                                       {"job_id", "1"},
                                       {"role", "guest"},
                                       {"party_id", kGuest},
                                       {"task_name", "../../x"}}),
                   5001, "task_name");
  }
  // The flow CLI sends its own output folder (-o) as `path` on downloads; the server never opens it.
  Json cli = server->get(
      "output/data/download",
      {{"job_id", "1"}, {"role", "guest"}, {"party_id", kGuest}, {"task_name", "a_0"}, {"path", "../out"}});
  EXPECT_NE(code_of(cli), 5001) << cli.dump();
  // A NUL anywhere in a parameter is refused, whatever the field.
  net::HttpResult nul = server->raw("GET", "/v2/job/query?description=a%00b", "");
  expect_refused(json_of(nul), 5001, "description");
}

TEST_F(Security, UploadReadsOnlyFilesUnderTheFileRoots) {
  expect_refused(server->post("data/component/upload", upload_body("/etc/passwd", "f0")), 5005, "file");
  // A symlink inside a root that points out is resolved first, and refused.
  const std::string link = server->files_dir() + "/innocent.csv";
  fs::create_symlink("/etc/passwd", link);
  expect_refused(server->post("data/component/upload", upload_body(link, "f1")), 5005, "file");
  // A relative path is taken from the upload folder, and may not climb out of it.
  expect_refused(server->post("data/component/upload", upload_body(std::string(kClimb) + "etc/passwd", "f2")),
                 5001, "file");
  for (const char* name : {"f0", "f1", "f2"})
    EXPECT_EQ(code_of(server->get("table/query", {{"namespace", "loot"}, {"name", name}})), 7001) << name;
  EXPECT_EQ(code_of(server->get("data/download", {{"namespace", "loot"}, {"name", "f0"}})), 7001);
}

TEST_F(Security, AJobThatNamesTheUploadComponentCannotReadServerFiles) {
  Json task = {{"component_ref", "upload"}, {"parameters", upload_body("/etc/passwd", "f3")}};
  Json dag = {{"schema_version", "2.1.0"},
              {"dag",
               {{"parties", Json::array({party("guest", kGuest)})},
                {"conf", {{"scheduler_party_id", kGuest}}},
                {"tasks", {{"upload_0", task}}}}}};
  std::string job_id = submit_ok(*server, dag);
  ASSERT_FALSE(job_id.empty());
  Json row = wait_end(*server, job_id, "guest");
  EXPECT_EQ(row.value("status", ""), "failed") << row.dump(2);
  auto tasks = server->task_rows(job_id);
  EXPECT_NE(tasks["upload_0"].dump().find("outside the allowed folders"), std::string::npos)
      << tasks["upload_0"].dump(2);
  EXPECT_EQ(code_of(server->get("table/query", {{"namespace", "loot"}, {"name", "f3"}})), 7001);
}

TEST_F(Security, BindPathAcceptsOnlyFoldersUnderTheFileRoots) {
  fs::create_directories(outside_path("bound"));
  std::ofstream(outside_path("bound") + "/data.csv") << "id,secret\n1,2\n";
  Json r =
      server->post("table/bind/path", {{"namespace", "b"}, {"name", "b"}, {"path", outside_path("bound")}});
  expect_refused(r, 5005, "path");
  EXPECT_EQ(code_of(server->get("table/query", {{"namespace", "b"}, {"name", "b"}})), 7001);
  Json inside = server->post("table/bind/path",
                             {{"namespace", "b"}, {"name", "ok"}, {"path", server->files_dir() + "/bound"}});
  EXPECT_EQ(code_of(inside), 0) << inside.dump();
}

TEST_F(Security, ModelExportWritesOnlyUnderTheFileRoots) {
  Json r = server->post("model/export", {{"model_id", "1"},
                                         {"model_version", "0"},
                                         {"role", "guest"},
                                         {"party_id", kGuest},
                                         {"path", outside_path("export") + "/deep"}});
  expect_refused(r, 5005, "path");
  EXPECT_FALSE(fs::exists(outside_path("export"))) << "the export created folders outside the roots";
}

TEST_F(Security, ModelImportRefusesIdsAndMembersThatClimbOut) {
  std::string zip;
  ASSERT_EQ(net::write_archive(net::ArchiveFormat::zip, {{"m/0/guest/9999/t/k", "x"}}, &zip), "");
  Json r = json_of(post_form(*server, "model/import",
                             {field("model_id", std::string(kClimb) + outside_path("import").substr(1)),
                              field("model_version", "1"), file_part("file", "model.zip", zip)}));
  expect_refused(r, 5001, "model_id");
  // Member names become parts of the stored file's path too.
  ASSERT_EQ(net::write_archive(net::ArchiveFormat::zip, {{"m/0/guest/9999/t/..x", "x"}}, &zip), "");
  Json member = json_of(
      post_form(*server, "model/import",
                {field("model_id", "m"), field("model_version", "1"), file_part("file", "model.zip", zip)}));
  expect_refused(member, 5001, "..x");
  EXPECT_FALSE(fs::exists(outside_path("import")));
}

TEST_F(Security, ProvidersCannotPointAtFilesClientsUploaded) {
  net::HttpResult up = post_form(*server, "data/component/upload/file",
                                 {field("head", "true"), field("partitions", "1"), field("meta", "{}"),
                                  file_part("file", "sitecustomize.py", "import os\nos.system('id')\n")});
  ASSERT_EQ(code_of(json_of(up)), 0) << up.body;
  std::string uploaded;  // <data_dir>/temps/<id>/sitecustomize.py
  for (const auto& entry : fs::recursive_directory_iterator(server->data_dir() + "/temps"))
    if (entry.path().filename() == "sitecustomize.py") uploaded = entry.path().parent_path().string();
  ASSERT_FALSE(uploaded.empty());
  Json evil = {{"name", "evil"},
               {"version", "1"},
               {"device", "local"},
               {"metadata", {{"path", uploaded}}},
               {"components_description", {{"x", Json::object()}}}};
  expect_refused(server->post("provider/register", evil), 5005, "metadata.path");
  // Nor anywhere outside flowstone.provider_roots.
  evil["metadata"]["path"] = "/usr/lib";
  expect_refused(server->post("provider/register", evil), 5005, "provider_roots");
  EXPECT_EQ(server->get("provider/query", {{"name", "evil"}})["data"], Json::array());
  Json dag = {{"schema_version", "2.1.0"},
              {"dag",
               {{"parties", Json::array({party("guest", kGuest)})},
                {"conf", {{"scheduler_party_id", kGuest}, {"task", {{"provider", "evil:1@local"}}}}},
                {"tasks", {{"x_0", {{"component_ref", "x"}}}}}}}};
  Json submitted = server->post("job/submit", {{"dag_schema", dag}});
  EXPECT_EQ(code_of(submitted), 1000) << submitted.dump();
}

TEST_F(Security, ADagWithATaskNameThatIsAPathIsRefused) {
  Json dag = {{"schema_version", "2.1.0"},
              {"dag",
               {{"parties", Json::array({party("guest", kGuest)})},
                {"conf", {{"scheduler_party_id", kGuest}}},
                {"tasks", {{"../../x", {{"component_ref", "noop"}}}}}}}};
  expect_refused(server->post("job/submit", {{"dag_schema", dag}}), 5001, "dag_schema.dag.tasks.../../x");
}

TEST_F(Security, ASecondUploadToATableFollowsTheDropRule) {
  const std::string file = server->files_dir() + "/t.csv";
  std::ofstream(file) << "id,x\n1,2\n";
  Json body = upload_body(file, "t");
  body["meta"] = {{"delimiter", ","}};
  body["head"] = true;
  Json first = server->post("data/component/upload", body);
  ASSERT_EQ(code_of(first), 0) << first.dump();
  Json row;
  ASSERT_TRUE(poll_until(
      [&] {
        row = server->job_row(first.value("job_id", ""), "local", "0");
        return ended(row);
      },
      30s))
      << row.dump() << diagnostics();
  ASSERT_EQ(row.value("status", ""), "success") << row.dump(2);
  Json again = server->post("data/component/upload", body);
  EXPECT_EQ(code_of(again), 7002) << again.dump();
  EXPECT_FALSE(again.contains("job_id")) << again.dump();
  body["drop"] = true;
  Json replaced = server->post("data/component/upload", body);
  EXPECT_EQ(code_of(replaced), 0) << replaced.dump();
}

class ArchiveLimits : public SitesTest {};

TEST_F(ArchiveLimits, AZipThatInflatesPastTheCapIsRefusedWhileInflating) {
  ServerOptions options;
  options.party_id = kGuest;
  options.flowstone_yaml = "archive_max_mb: 4, archive_max_entries: 50";
  servers.push_back(std::make_unique<PartyServer>(options));
  PartyServer& s = *servers.back();
  ASSERT_NO_FATAL_FAILURE(start(s));
  std::string bomb;
  ASSERT_EQ(net::write_archive(net::ArchiveFormat::zip, {{"m/0/guest/9999/t/k", std::string(64 << 20, '\0')}},
                               &bomb),
            "");
  ASSERT_LT(bomb.size(), 1u << 20) << "the test's zip should be small";
  Json r = json_of(
      post_form(s, "model/import",
                {field("model_id", "m"), field("model_version", "1"), file_part("file", "b.zip", bomb)}));
  EXPECT_EQ(code_of(r), 5001) << r.dump();
  EXPECT_NE(r.value("message", "").find("archive too large"), std::string::npos) << r.dump();
  std::vector<net::ArchiveEntry> many;
  for (int i = 0; i < 60; ++i) many.push_back({"m/0/guest/9999/t/k" + std::to_string(i), "x"});
  std::string crowded;
  ASSERT_EQ(net::write_archive(net::ArchiveFormat::zip, many, &crowded), "");
  Json c = json_of(
      post_form(s, "model/import",
                {field("model_id", "m"), field("model_version", "1"), file_part("file", "c.zip", crowded)}));
  EXPECT_EQ(code_of(c), 5001) << c.dump();
  EXPECT_NE(c.value("message", "").find("members"), std::string::npos) << c.dump();
  EXPECT_EQ(code_of(s.get("site/info/query")), 0);
}

}  // namespace
}  // namespace flowstone::systest
