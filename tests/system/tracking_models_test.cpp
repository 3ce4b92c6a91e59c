// Tracking end-to-end tests of models and worker saves (fixture: tracking_fixture.hpp): export, import,
// download and delete; malformed saves refused; saves from an ended run ignored.
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

}  // namespace
}  // namespace flowstone::systest
