// What runs produce, in the Job aggregate: metrics, data outputs and models recorded as events, with
// FATE-Flow's shapes checked, repeats and stale saves changing nothing, the views a rebuild restores; and
// dag.conf.inheritance, which takes tasks over from an earlier job with what they produced.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "events/job/job.hpp"
#include "events/job/views.hpp"
#include "tests/events/job_test_util.hpp"

namespace flowstone::domain {
namespace {

constexpr const char* kSource = "202603030000000000001";
constexpr const char* kHeir = "202603030000000000002";

// One job's host, usable as a plain object (the scenarios below need two jobs).
class Host : public JobHostTest {
 public:
  explicit Host(std::string job_id) : JobHostTest(std::move(job_id)) {}
  void TestBody() override {}
  using JobHostTest::Create;
  using JobHostTest::exec;
  using JobHostTest::Finish;
  using JobHostTest::Launch;
  using JobHostTest::Run;
  using JobHostTest::RunOf;
  const JobState& state() const { return state_; }
  const std::vector<JobEvent>& log() const { return log_; }
};

Json metric(const char* name, double value) {
  return Json{{"name", name},
              {"type", "loss"},
              {"groups", Json::array({Json{{"name", "default"}}})},
              {"step_axis", "iterations"},
              {"data", Json::array({Json{{"metric", {value}}, {"step", 0}}})}};
}

Json record(const char* key, int index, const char* name) {
  return Json{{"output_key", key},
              {"index", index},
              {"namespace", "output_data_x"},
              {"name", name},
              {"uri", std::string("standalone:///data/") + name},
              {"meta_data", Json::object()},
              {"overview", Json{{"count", 3}, {"samples", Json::array()}}},
              {"source", Json::object()},
              {"data_type", "dataframe"}};
}

TEST(Tracking, MetricsOfARunAreEventsAndARepeatedBatchChangesNothing) {
  Host job(kSource);
  ASSERT_EQ(job.Create(guest_chain_dag()).code, RetCode::success);
  job.Launch(job.exec("a_0"));
  Decision saved = job.Run(SaveMetrics{job.exec("a_0"), Json::array({metric("loss", 0.5)}), 0});
  ASSERT_EQ(saved.code, RetCode::success);
  EXPECT_EQ(events_of<MetricsSaved>(saved.events).size(), 1u);
  Decision again = job.Run(SaveMetrics{job.exec("a_0"), Json::array({metric("loss", 0.5)}), 0});
  EXPECT_EQ(again.code, RetCode::success);
  EXPECT_TRUE(events_of<MetricsSaved>(again.events).empty());
  ASSERT_EQ(job.state().tracking.metrics.size(), 1u);
  EXPECT_EQ(job.state().tracking.metrics[0].by.task_name, "a_0");
}

TEST(Tracking, AMetricOfTheWrongShapeIsRefusedNamingTheField) {
  Host job(kSource);
  ASSERT_EQ(job.Create(guest_chain_dag()).code, RetCode::success);
  Json bad = Json::array({metric("loss", 0.5), Json{{"name", 3}, {"data", Json::array()}}});
  Decision d = job.Run(SaveMetrics{job.exec("a_0"), bad, 0});
  EXPECT_EQ(d.code, RetCode::invalid_parameter);
  EXPECT_NE(d.message.find("data[1].name"), std::string::npos) << d.message;
  EXPECT_TRUE(job.state().tracking.metrics.empty());
  EXPECT_EQ(job.Run(SaveMetrics{"no_such_run", Json::array({metric("x", 1)}), 0}).code,
            RetCode::task_not_found);
}

TEST(Tracking, ASaveFromAnEndedRunIsIgnored) {
  Host job(kSource);
  ASSERT_EQ(job.Create(guest_chain_dag()).code, RetCode::success);
  job.Finish(job.exec("a_0"), Status::success);
  Decision late = job.Run(TrackDataOutput{job.exec("a_0"), record("out", 0, "t1"), 0});
  EXPECT_EQ(late.code, RetCode::success);
  EXPECT_TRUE(late.events.empty());
  EXPECT_NE(late.message.find("ignored"), std::string::npos);
}

TEST(Tracking, ADataOutputSavedAgainReplacesTheEarlierRecordAndViewsFollow) {
  Host job(kSource);
  ASSERT_EQ(job.Create(guest_chain_dag()).code, RetCode::success);
  job.Launch(job.exec("a_0"));
  ASSERT_EQ(job.Run(TrackDataOutput{job.exec("a_0"), record("out", 0, "t1"), 0}).code, RetCode::success);
  ASSERT_EQ(job.Run(TrackDataOutput{job.exec("a_0"), record("out", 0, "t2"), 0}).code, RetCode::success);
  ASSERT_EQ(job.state().tracking.data_outputs.size(), 1u);
  EXPECT_EQ(job.state().tracking.data_outputs[0].record.value("name", ""), "t2");
  Decision bad = job.Run(TrackDataOutput{job.exec("a_0"), record("out", 1, "../escape"), 0});
  EXPECT_EQ(bad.code, RetCode::invalid_parameter);
  int rows = 0;
  for (const auto& row : job_views(replay(job.log())))
    if (row.family == kDataOutputsView) ++rows;
  EXPECT_EQ(rows, 1);
}

// The source job: a_0 and b_0 succeeded with a metric, a data output and a model each; c_0 failed.
std::shared_ptr<const JobState> source_job() {
  Host job(kSource);
  EXPECT_EQ(job.Create(guest_chain_dag()).code, RetCode::success);
  for (const char* task : {"a_0", "b_0"}) {
    job.Launch(job.exec(task));
    job.Run(SaveMetrics{job.exec(task), Json::array({metric("loss", 0.25)}), 0});
    job.Run(TrackDataOutput{job.exec(task), record("out", 0, task), 0});
    ModelSaved model;
    model.execution_id = job.exec(task);
    model.output_key = "output_model";
    model.type_name = "json_model";
    model.model_id = kSource;
    model.model_version = "0";
    model.storage_key = model_storage_key(kSource, "0", {"guest", "9999"}, task, "output_model");
    model.file = "/models/" + model.storage_key + ".tar";
    model.digest = "d";
    job.Run(SaveModel{model, 0});
    job.Run(ReportTaskStatus{job.exec(task), Status::success, "", 0});
  }
  job.Finish(job.exec("c_0"), Status::failed, "broken");
  EXPECT_EQ(job.RunOf("b_0").party_status, Status::success);
  return std::make_shared<JobState>(job.state());
}

TEST(Inheritance, ListedTasksStartAsSuccessWithWhatTheyProducedAndOnlyTheRestRuns) {
  auto source = source_job();
  Host heir(kHeir);
  CreateJob c;
  c.job_id = kHeir;
  c.dag_schema = guest_chain_dag(Json{{"inheritance", {{"job_id", kSource}, {"task_list", {"a_0", "b_0"}}}}});
  c.local_party_id = "9999";
  c.inherit_from = source;
  Decision d = heir.Run(c);
  ASSERT_EQ(d.code, RetCode::success) << d.message;
  EXPECT_EQ(heir.RunOf("a_0").party_status, Status::success);
  EXPECT_EQ(heir.RunOf("b_0").status, Status::success);
  EXPECT_EQ(launched(d), std::vector<std::string>{heir.exec("c_0")});
  const Tracking& t = heir.state().tracking;
  ASSERT_EQ(t.metrics.size(), 2u);
  EXPECT_EQ(t.metrics[0].by.execution_id, heir.exec("a_0"));
  ASSERT_EQ(t.data_outputs.size(), 2u);
  ASSERT_EQ(t.models.size(), 2u);
  EXPECT_EQ(t.models[0].model.model_id, kHeir);
  EXPECT_EQ(t.models[0].model.storage_key,
            model_storage_key(kHeir, "0", {"guest", "9999"}, "a_0", "output_model"));
  EXPECT_EQ(t.models[0].model.file, source->tracking.models[0].model.file);  // the stored tar is shared
  // Replay gives the same state.
  JobState replayed = replay(heir.log());
  EXPECT_EQ(job_views(replayed), job_views(heir.state()));
}

TEST(Inheritance, ATaskThatDidNotSucceedOrAMissingJobIsRefused) {
  auto source = source_job();
  Host heir(kHeir);
  CreateJob c;
  c.job_id = kHeir;
  c.local_party_id = "9999";
  c.dag_schema = guest_chain_dag(Json{{"inheritance", {{"job_id", kSource}, {"task_list", {"c_0"}}}}});
  c.inherit_from = source;
  Decision failed = heir.Run(c);
  EXPECT_EQ(failed.code, RetCode::job_params_error);
  EXPECT_NE(failed.message.find("did not succeed"), std::string::npos) << failed.message;
  c.inherit_from = nullptr;
  c.dag_schema = guest_chain_dag(Json{{"inheritance", {{"job_id", kSource}, {"task_list", {"a_0"}}}}});
  Decision missing = heir.Run(c);
  EXPECT_EQ(missing.code, RetCode::job_params_error);
  EXPECT_NE(missing.message.find("not at this site"), std::string::npos) << missing.message;
  EXPECT_FALSE(heir.state().exists);
}

}  // namespace
}  // namespace flowstone::domain
