#include "events/dag/dag.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace flowstone::domain {
namespace {

Json J(const char* text) {
  return Json::parse(text);
}

// Spec 2.6 (examples/lr/train_lr.yaml) as JSON.
const char* kLrExample = R"({
  "schema_version": "2.1.0",
  "dag": {
    "parties": [
      {"role": "guest", "party_id": ["9999"]},
      {"role": "host", "party_id": ["10000"]},
      {"role": "arbiter", "party_id": ["10000"]}
    ],
    "conf": {
      "scheduler_party_id": "9999", "priority": 1, "sync_type": "callback", "auto_retries": 1, "cores": 8,
      "computing_partitions": 8,
      "task": {"provider": "fate:2.1.0@local", "timeout": 3600, "engine_run": {"cores": 4}}
    },
    "stage": "train",
    "tasks": {
      "reader_0": {
        "component_ref": "reader", "stage": "default",
        "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}]
      },
      "psi_0": {
        "component_ref": "psi", "stage": "default",
        "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}],
        "inputs": {"data": {"input_data": {"task_output_artifact":
            {"producer_task": "reader_0", "output_artifact_key": "output_data"}}}}
      },
      "lr_0": {
        "component_ref": "coordinated_lr",
        "dependent_tasks": ["psi_0"],
        "parameters": {"epochs": 10, "batch_size": null, "early_stop": "diff", "tol": 0.0001},
        "inputs": {"data": {"train_data": {"task_output_artifact": {
            "producer_task": "psi_0", "output_artifact_key": "output_data",
            "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}]}}}}
      }
    },
    "party_tasks": {
      "guest_9999": {
        "parties": [{"role": "guest", "party_id": ["9999"]}],
        "tasks": {"reader_0": {"parameters": {"namespace": "experiment", "name": "breast_hetero_guest"}}}
      },
      "host_10000": {
        "parties": [{"role": "host", "party_id": ["10000"]}],
        "tasks": {"reader_0": {"parameters": {"namespace": "experiment", "name": "breast_hetero_host"}}}
      }
    }
  }
})";

// The dag FATE-Flow's own scheduler sends in /v2/partner/job/create (interop-bodies-callback.jsonl).
const char* kFateCreateBody =
    R"({"dag": {"conf": {"auto_retries": 0, "computing_partitions": 8, "cores": null,
  "extra": null, "inheritance": null, "initiator_party_id": "9999", "model_id": "202611212306158222940",
  "model_version": "0", "model_warehouse": null, "priority": null, "scheduler_party_id": "9999",
  "sync_type": "callback", "task": null}, "parties": [{"party_id": ["9999"], "role": "guest"},
  {"party_id": ["10000"], "role": "host"}], "party_tasks": null, "stage": "train", "tasks": {"a_0":
  {"component_ref": "noop", "conf": null, "dependent_tasks": null, "inputs": null, "outputs": null,
  "parameters": {"sleep": 0}, "parties": null, "stage": null}, "b_0": {"component_ref": "noop_consumer",
  "conf": null, "dependent_tasks": ["a_0"], "inputs": {"data": null, "model": {"input_model":
  {"task_output_artifact": {"output_artifact_key": "output_model", "output_artifact_type_alias": null,
  "parties": null, "producer_task": "a_0"}}}}, "outputs": null, "parameters": {"sleep": 0}, "parties": null,
  "stage": null}}}, "kind": "fate", "schema_version": "2.0.0"})";

// A small valid DAG the bad-input cases mutate: a_0 -> b_0 on guest 9999 and host 10000.
const char* kBase = R"({
  "schema_version": "2.0.0",
  "dag": {
    "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}],
    "conf": {"sync_type": "poll"},
    "tasks": {
      "a_0": {"component_ref": "noop", "parameters": {"sleep": 0}},
      "b_0": {"component_ref": "noop_consumer", "inputs": {"model": {"input_model": {"task_output_artifact":
          {"producer_task": "a_0", "output_artifact_key": "output_model"}}}}}
    },
    "party_tasks": {"guest_9999": {"parties": [{"role": "guest", "party_id": ["9999"]}],
                                   "tasks": {"a_0": {"parameters": {"sleep": 1}}}}}
  }
})";

const PartyRef kGuest{"guest", "9999"};
const PartyRef kHost{"host", "10000"};
const PartyRef kArbiter{"arbiter", "10000"};

Dag parse_ok(const Json& doc) {
  auto result = parse_dag(doc);
  // Throwing fails the calling test without letting it index into an empty Dag.
  if (auto* error = std::get_if<DagError>(&result))
    throw std::runtime_error("unexpected DagError " + error->message);
  return std::get<Dag>(std::move(result));
}

std::vector<std::string> task_names_on(const Dag& dag, const PartyRef& party) {
  std::vector<std::string> out;
  for (const TaskSpec& t : dag.tasks) {
    const auto parties = task_parties(dag, t.name);
    if (std::find(parties.begin(), parties.end(), party) != parties.end()) out.push_back(t.name);
  }
  return out;
}

TEST(DagTest, SpecExampleParses) {
  const Dag dag = parse_ok(J(kLrExample));
  EXPECT_EQ(dag.schema_version, "2.1.0");
  EXPECT_EQ(dag.kind, "fate");
  EXPECT_EQ(dag.stage, "train");
  EXPECT_EQ(dag.parties, (std::vector<PartyRef>{kGuest, kHost, kArbiter}));
  ASSERT_EQ(dag.tasks.size(), 3u);
  EXPECT_EQ(dag.tasks[0].name, "reader_0");
  EXPECT_EQ(dag.tasks[0].stage, "default");
  EXPECT_EQ(dag.tasks[2].component_ref, "coordinated_lr");
  EXPECT_EQ(dag.tasks[2].stage, "");
  EXPECT_EQ(dag.conf["priority"], 1);
  EXPECT_EQ(dag.raw, J(kLrExample));
  ASSERT_NE(dag.find_task("psi_0"), nullptr);
  EXPECT_EQ(dag.find_task("psi_0")->component_ref, "psi");
  EXPECT_EQ(dag.find_task("nope"), nullptr);
}

TEST(DagTest, SpecExampleArbiterRunsOnlyLr) {
  const Dag dag = parse_ok(J(kLrExample));
  EXPECT_EQ(task_names_on(dag, kArbiter), (std::vector<std::string>{"lr_0"}));
  EXPECT_EQ(task_names_on(dag, kGuest), (std::vector<std::string>{"reader_0", "psi_0", "lr_0"}));
  EXPECT_EQ(task_names_on(dag, kHost), (std::vector<std::string>{"reader_0", "psi_0", "lr_0"}));
  EXPECT_EQ(task_parties(dag, "lr_0"), dag.parties);
  EXPECT_TRUE(task_parties(dag, "nope").empty());
}

TEST(DagTest, SpecExampleDependenciesAndOrder) {
  const Dag dag = parse_ok(J(kLrExample));
  EXPECT_TRUE(task_dependencies(dag, "reader_0").empty());
  EXPECT_EQ(task_dependencies(dag, "psi_0"), (std::vector<std::string>{"reader_0"}));
  // From inputs, not dependent_tasks, and regardless of the channel's parties.
  EXPECT_EQ(task_dependencies(dag, "lr_0"), (std::vector<std::string>{"psi_0"}));
  EXPECT_EQ(topological_order(dag), (std::vector<std::string>{"reader_0", "psi_0", "lr_0"}));
}

TEST(DagTest, SpecExamplePartyTasksParameterMerge) {
  const Dag dag = parse_ok(J(kLrExample));
  EXPECT_EQ(task_parameters(dag, "reader_0", kGuest),
            J(R"({"namespace": "experiment", "name": "breast_hetero_guest"})"));
  EXPECT_EQ(task_parameters(dag, "reader_0", kHost),
            J(R"({"namespace": "experiment", "name": "breast_hetero_host"})"));
  // Nulls inside parameters are values (batch_size: null means full batch), not absences.
  const Json lr = task_parameters(dag, "lr_0", kArbiter);
  EXPECT_EQ(lr, J(R"({"epochs": 10, "batch_size": null, "early_stop": "diff", "tol": 0.0001})"));
  EXPECT_TRUE(lr.contains("batch_size"));
  EXPECT_EQ(task_parameters(dag, "nope", kGuest), Json::object());
}

TEST(DagTest, SpecExampleTaskConf) {
  const Dag dag = parse_ok(J(kLrExample));
  EXPECT_EQ(task_conf(dag, "lr_0", kHost),
            J(R"({"provider": "fate:2.1.0@local", "timeout": 3600, "engine_run": {"cores": 4}})"));
}

TEST(DagTest, SpecExamplePerPartyInputs) {
  const Dag dag = parse_ok(J(kLrExample));
  EXPECT_EQ(task_input_artifacts(dag, "reader_0", kGuest), Json::object());
  EXPECT_EQ(task_input_artifacts(dag, "psi_0", kGuest), J(R"({"data": {"input_data": {"task_output_artifact":
      {"producer_task": "reader_0", "output_artifact_key": "output_data",
       "parties": [{"role": "guest", "party_id": ["9999"]}]}}}})"));
  EXPECT_EQ(task_input_artifacts(dag, "lr_0", kHost), J(R"({"data": {"train_data": {"task_output_artifact":
      {"producer_task": "psi_0", "output_artifact_key": "output_data",
       "parties": [{"role": "host", "party_id": ["10000"]}]}}}})"));
  // The channel lists guest and host only: the arbiter's lr_0 has no inputs.
  EXPECT_EQ(task_input_artifacts(dag, "lr_0", kArbiter), Json::object());
  // A party that does not run the task gets nothing.
  EXPECT_EQ(task_input_artifacts(dag, "psi_0", kArbiter), Json::object());
}

TEST(DagTest, InputsWithoutChannelPartiesFollowTheProducersParties) {
  const Dag dag = parse_ok(J(R"({"schema_version": "2.0.0", "dag": {
    "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}],
    "tasks": {
      "a_0": {"component_ref": "noop", "parties": [{"role": "guest", "party_id": ["9999"]}]},
      "b_0": {"component_ref": "noop_consumer", "inputs": {"model": {"input_model": {"task_output_artifact":
          {"producer_task": "a_0", "output_artifact_key": "output_model"}}}}}}}})"));
  EXPECT_EQ(
      task_input_artifacts(dag, "b_0", kGuest)["model"]["input_model"]["task_output_artifact"]["parties"],
      J(R"([{"role": "guest", "party_id": ["9999"]}])"));
  EXPECT_EQ(task_input_artifacts(dag, "b_0", kHost), Json::object());
  // The scheduling dependency holds for every party (spec 11.12).
  EXPECT_EQ(task_dependencies(dag, "b_0"), (std::vector<std::string>{"a_0"}));
}

TEST(DagTest, ListSourcesCollapseAndWarehousesFilter) {
  const Dag dag = parse_ok(J(R"({"schema_version": "2.0.0", "dag": {
    "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}],
    "conf": {"model_warehouse": {"model_id": "m1", "model_version": 3}},
    "tasks": {
      "a_0": {"component_ref": "noop"},
      "c_0": {"component_ref": "noop"},
      "b_0": {"component_ref": "consumer", "inputs": {
        "model": {
          "input_model": {"model_warehouse": {"producer_task": "lr_0", "output_artifact_key": "output_model"}},
          "pinned": {"model_warehouse": {"model_id": "m2", "producer_task": "lr_0", "output_artifact_key": "m"}}},
        "data": {
          "input_data": {"task_output_artifact": [
            {"producer_task": "a_0", "output_artifact_key": "o", "parties": [{"role": "guest", "party_id": ["9999"]}]},
            {"producer_task": "c_0", "output_artifact_key": "o"}]},
          "table": {"data_warehouse": {"namespace": "ns", "name": "t", "parties": [{"role": "host", "party_id": [10000]}]}},
          "any": {"data_warehouse": {"dataset_id": "d1"}}}}}}}})"));
  // Data before model whatever the written order; list order and dependency order follow the input order.
  EXPECT_EQ(task_dependencies(dag, "b_0"), (std::vector<std::string>{"a_0", "c_0"}));
  const auto& inputs = dag.find_task("b_0")->inputs;
  ASSERT_EQ(inputs.size(), 6u);
  EXPECT_EQ(inputs[0].kind, "data");
  EXPECT_EQ(inputs[0].producer_task, "a_0");
  EXPECT_EQ(inputs[1].producer_task, "c_0");
  EXPECT_EQ(inputs[2].source, "data_warehouse");
  EXPECT_EQ(inputs[4].kind, "model");
  EXPECT_EQ(inputs[4].input_key, "input_model");
  EXPECT_EQ(inputs[4].producer_task, "lr_0");

  const Json guest = task_input_artifacts(dag, "b_0", kGuest);
  EXPECT_EQ(
      guest["data"]["input_data"]["task_output_artifact"],
      J(R"([{"producer_task": "a_0", "output_artifact_key": "o", "parties": [{"role": "guest", "party_id": ["9999"]}]},
                  {"producer_task": "c_0", "output_artifact_key": "o", "parties": [{"role": "guest", "party_id": ["9999"]}]}])"));
  EXPECT_FALSE(guest["data"].contains("table"));
  EXPECT_EQ(guest["data"]["any"]["data_warehouse"],
            J(R"({"dataset_id": "d1", "parties": [{"role": "guest", "party_id": ["9999"]}]})"));
  EXPECT_EQ(guest["model"]["input_model"]["model_warehouse"],
            J(R"({"producer_task": "lr_0", "output_artifact_key": "output_model",
                  "parties": [{"role": "guest", "party_id": ["9999"]}], "model_id": "m1", "model_version": 3})"));
  EXPECT_EQ(guest["model"]["pinned"]["model_warehouse"]["model_id"], "m2");
  EXPECT_FALSE(guest["model"]["pinned"]["model_warehouse"].contains("model_version"));

  const Json host = task_input_artifacts(dag, "b_0", kHost);
  // One survivor of a list collapses to a single channel.
  EXPECT_EQ(
      host["data"]["input_data"]["task_output_artifact"],
      J(R"({"producer_task": "c_0", "output_artifact_key": "o", "parties": [{"role": "host", "party_id": ["10000"]}]})"));
  EXPECT_EQ(host["data"]["table"]["data_warehouse"],
            J(R"({"namespace": "ns", "name": "t", "parties": [{"role": "host", "party_id": ["10000"]}]})"));
  EXPECT_EQ(host.begin().key(), "data");
}

TEST(DagTest, EmptyInputKindsAreOmitted) {
  const Dag dag = parse_ok(J(R"({"schema_version": "2.0.0", "dag": {
    "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}],
    "tasks": {"a_0": {"component_ref": "noop"}, "b_0": {"component_ref": "c", "inputs": {
      "data": {"d": {"task_output_artifact": {"producer_task": "a_0", "output_artifact_key": "o",
                                              "parties": [{"role": "guest", "party_id": ["9999"]}]}}},
      "model": {"m": {"task_output_artifact": {"producer_task": "a_0", "output_artifact_key": "o",
                                               "parties": [{"role": "host", "party_id": ["10000"]}]}}}}}}}})"));
  EXPECT_EQ(task_input_artifacts(dag, "b_0", kGuest).size(), 1u);
  EXPECT_TRUE(task_input_artifacts(dag, "b_0", kGuest).contains("data"));
  EXPECT_EQ(task_input_artifacts(dag, "b_0", kHost).size(), 1u);
  EXPECT_TRUE(task_input_artifacts(dag, "b_0", kHost).contains("model"));
}

TEST(DagTest, TopologicalOrderTiesKeepWrittenOrder) {
  const Dag dag = parse_ok(J(R"({"schema_version": "2.0.0", "dag": {
    "parties": [{"role": "local", "party_id": ["0"]}],
    "tasks": {
      "z_0": {"component_ref": "noop"},
      "y_0": {"component_ref": "c", "inputs": {"data": {"d": {"task_output_artifact": {"producer_task": "x_0", "output_artifact_key": "o"}}}}},
      "x_0": {"component_ref": "noop"},
      "w_0": {"component_ref": "noop"},
      "v_0": {"component_ref": "c", "inputs": {"data": {"d": {"task_output_artifact": [
         {"producer_task": "y_0", "output_artifact_key": "o"}, {"producer_task": "z_0", "output_artifact_key": "o"}]}},
         "model": {"m": {"task_output_artifact": {"producer_task": "y_0", "output_artifact_key": "o"}}}}}}}})"));
  EXPECT_EQ(topological_order(dag), (std::vector<std::string>{"z_0", "x_0", "y_0", "w_0", "v_0"}));
  EXPECT_EQ(task_dependencies(dag, "v_0"), (std::vector<std::string>{"y_0", "z_0"}));
}

TEST(DagTest, DependentTasksAreInformationalOnly) {
  Json doc = J(kBase);
  doc["dag"]["tasks"]["c_0"] = J(R"({"component_ref": "noop", "dependent_tasks": ["b_0", "ghost"]})");
  const Dag dag = parse_ok(doc);
  EXPECT_TRUE(task_dependencies(dag, "c_0").empty());
  EXPECT_EQ(topological_order(dag), (std::vector<std::string>{"a_0", "b_0", "c_0"}));
}

TEST(DagTest, NullMeansAbsentInFateSchedulerBodies) {
  const Dag dag = parse_ok(J(kFateCreateBody));
  EXPECT_EQ(dag.conf, J(R"({"auto_retries": 0, "computing_partitions": 8, "initiator_party_id": "9999",
      "model_id": "202611212306158222940", "model_version": "0", "scheduler_party_id": "9999", "sync_type": "callback"})"));
  EXPECT_FALSE(dag.conf.contains("cores"));
  EXPECT_EQ(dag.party_tasks, Json::object());
  EXPECT_FALSE(dag.tasks[0].parties.has_value());
  EXPECT_EQ(dag.tasks[0].conf, Json::object());
  EXPECT_EQ(dag.tasks[1].stage, "");
  ASSERT_EQ(dag.tasks[1].inputs.size(), 1u);
  EXPECT_EQ(dag.tasks[1].inputs[0].kind, "model");
  EXPECT_FALSE(dag.tasks[1].inputs[0].parties.has_value());
  EXPECT_EQ(task_dependencies(dag, "b_0"), (std::vector<std::string>{"a_0"}));
  EXPECT_EQ(task_input_artifacts(dag, "b_0", kHost), J(R"({"model": {"input_model": {"task_output_artifact":
      {"output_artifact_key": "output_model", "producer_task": "a_0",
       "parties": [{"role": "host", "party_id": ["10000"]}]}}}})"));
  EXPECT_EQ(task_conf(dag, "a_0", kGuest), Json::object());

  Json doc = J(kBase);
  doc["dag"]["conf"] = nullptr;
  doc["dag"]["stage"] = nullptr;
  doc["kind"] = nullptr;
  doc["dag"]["tasks"]["b_0"]["inputs"]["data"] = nullptr;
  doc["dag"]["tasks"]["a_0"]["inputs"] = J(R"({"data": null, "model": {"m": null}})");
  const Dag nulls = parse_ok(doc);
  EXPECT_EQ(nulls.conf, Json::object());
  EXPECT_EQ(nulls.kind, "fate");
  EXPECT_EQ(nulls.stage, "");
  EXPECT_TRUE(nulls.tasks[0].inputs.empty());
}

TEST(DagTest, OnePartyIdInTwoRolesAndIntegerIds) {
  const Dag dag = parse_ok(J(R"({"schema_version": "2.0.0", "dag": {
    "parties": [{"role": "guest", "party_id": [9999]}, {"role": "host", "party_id": ["10000", 10001]},
                {"role": "arbiter", "party_id": [10000]}],
    "conf": {"scheduler_party_id": 9999, "initiator_party_id": "9999", "model_version": 0},
    "tasks": {"a_0": {"component_ref": "noop", "parties": [{"role": "host", "party_id": [10001]}]}}}})"));
  EXPECT_EQ(dag.parties, (std::vector<PartyRef>{kGuest, kHost, {"host", "10001"}, kArbiter}));
  EXPECT_EQ(dag.conf["scheduler_party_id"], "9999");
  EXPECT_EQ(dag.conf["model_version"], 0);
  EXPECT_EQ(task_parties(dag, "a_0"), (std::vector<PartyRef>{{"host", "10001"}}));
}

TEST(DagTest, UnknownTaskKeysIgnoredUnknownConfKeysKept) {
  Json doc = J(kBase);
  doc["dag"]["tasks"]["a_0"]["whatever"] = 1;
  doc["dag"]["conf"]["my_knob"] = J(R"({"x": null})");
  doc["dag"]["conf"]["timeout"] = 60;
  doc["dag"]["tasks"]["a_0"]["conf"] = J(R"({"provider": "fate", "custom": true, "launcher_name": null})");
  const Dag dag = parse_ok(doc);
  EXPECT_EQ(dag.conf, J(R"({"sync_type": "poll", "my_knob": {"x": null}, "timeout": 60})"));
  EXPECT_EQ(dag.tasks[0].conf, J(R"({"provider": "fate", "custom": true})"));
}

TEST(DagTest, ConfMergeOrder) {
  Json doc = J(kBase);
  doc["dag"]["conf"]["task"] =
      J(R"({"provider": "fate:2.1.0@local", "timeout": 10, "launcher_name": "default",
                                     "engine_run": {"cores": 4}})");
  doc["dag"]["tasks"]["a_0"]["conf"] = J(R"({"timeout": 20, "engine_run": {"cores": 2}})");
  doc["dag"]["party_tasks"]["guest_9999"]["conf"] = J(R"({"timeout": 30, "launcher_name": "deepspeed"})");
  doc["dag"]["party_tasks"]["guest_9999"]["tasks"]["a_0"]["conf"] = J(R"({"timeout": 40})");
  doc["dag"]["party_tasks"]["all"] =
      J(R"({"parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}],
           "tasks": {"a_0": {"parameters": {"sleep": 2, "extra": true}}}, "conf": {"provider": "fate:2.2.0@local"}})");
  const Dag dag = parse_ok(doc);
  // The default launcher name is dropped (FATE dumps dag.conf with exclude_defaults); later sources win.
  EXPECT_EQ(task_conf(dag, "a_0", kHost),
            J(R"({"provider": "fate:2.2.0@local", "timeout": 20, "engine_run": {"cores": 2}})"));
  EXPECT_EQ(task_conf(dag, "a_0", kGuest),
            J(R"({"provider": "fate:2.2.0@local", "timeout": 40, "engine_run": {"cores": 2},
                                                   "launcher_name": "deepspeed"})"));
  EXPECT_EQ(task_conf(dag, "b_0", kGuest),
            J(R"({"provider": "fate:2.2.0@local", "timeout": 30, "engine_run": {"cores": 4},
                                                   "launcher_name": "deepspeed"})"));
  EXPECT_EQ(task_parameters(dag, "a_0", kGuest), J(R"({"sleep": 2, "extra": true})"));
  EXPECT_EQ(task_parameters(dag, "a_0", kHost), J(R"({"sleep": 2, "extra": true})"));
  EXPECT_EQ(task_parameters(dag, "b_0", kHost), Json::object());
}

// ---- bad input: every case yields code 1000 and names the offending field --------------------------------

using Mutation = std::function<void(Json&)>;

Mutation set_at(const char* pointer, const char* value) {
  return [=](Json& doc) { doc[Json::json_pointer(pointer)] = Json::parse(value); };
}
Mutation erase_at(const char* pointer) {
  return [=](Json& doc) {
    Json::json_pointer ptr(pointer);
    doc[ptr.parent_pointer()].erase(ptr.back());
  };
}

struct BadCase {
  const char* name;
  Mutation mutate;
  const char* field;
  const char* message_part = "";
};

const char* kModelChannel = "/dag/tasks/b_0/inputs/model/input_model/task_output_artifact";
std::string channel_path(const char* rest = "") {
  return std::string("dag.tasks.b_0.inputs.model.input_model.task_output_artifact") + rest;
}

std::vector<BadCase> bad_cases() {
  static const std::string producer = channel_path(".producer_task");
  static const std::string extra = channel_path(".extra");
  static const std::string list_item = channel_path(".1.producer_task");
  static const std::string channel = channel_path();
  static const std::string channel_party = channel_path(".parties.0.party_id.0");
  static const std::string channel_key = channel_path(".output_artifact_key");
  static const std::string p_channel_key = std::string(kModelChannel) + "/output_artifact_key";
  static const std::string p_channel_extra = std::string(kModelChannel) + "/extra";
  static const std::string p_channel_parties = std::string(kModelChannel) + "/parties";
  static const std::string p_producer = std::string(kModelChannel) + "/producer_task";
  return {
      {"SchemaNotObject", [](Json& d) { d = Json::array(); }, "dag_schema"},
      {"SchemaVersionMissing", erase_at("/schema_version"), "schema_version", "required"},
      {"SchemaVersionNull", set_at("/schema_version", "null"), "schema_version"},
      {"SchemaVersionNotString", set_at("/schema_version", "2"), "schema_version", "string"},
      {"KindNotString", set_at("/kind", "1"), "kind"},
      {"DagMissing", erase_at("/dag"), "dag"},
      {"DagNotObject", set_at("/dag", "[]"), "dag"},
      {"PartiesMissing", erase_at("/dag/parties"), "dag.parties"},
      {"PartiesEmpty", set_at("/dag/parties", "[]"), "dag.parties"},
      {"PartiesNotList", set_at("/dag/parties", R"({"role": "guest", "party_id": ["9999"]})"), "dag.parties"},
      {"PartyNotObject", set_at("/dag/parties/0", R"("guest")"), "dag.parties.0"},
      {"RoleUnknown", set_at("/dag/parties/0/role", R"("server")"), "dag.parties.0.role", "'server'"},
      {"RoleMissing", erase_at("/dag/parties/0/role"), "dag.parties.0.role"},
      {"RoleNotString", set_at("/dag/parties/0/role", "1"), "dag.parties.0.role"},
      {"PartyIdMissing", erase_at("/dag/parties/1/party_id"), "dag.parties.1.party_id"},
      {"PartyIdNotList", set_at("/dag/parties/0/party_id", R"("9999")"), "dag.parties.0.party_id"},
      {"PartyIdEmpty", set_at("/dag/parties/0/party_id", "[]"), "dag.parties.0.party_id"},
      {"PartyIdBool", set_at("/dag/parties/0/party_id", "[true]"), "dag.parties.0.party_id.0"},
      {"PartyIdFloat", set_at("/dag/parties/0/party_id", "[9999.5]"), "dag.parties.0.party_id.0"},
      {"PartyIdEmptyString", set_at("/dag/parties/0/party_id", R"([""])"), "dag.parties.0.party_id.0"},
      {"PartyListedTwice", set_at("/dag/parties/2", R"({"role": "guest", "party_id": ["9999"]})"),
       "dag.parties.2.party_id.0", "twice"},
      {"PartyListedTwiceIntAndString", set_at("/dag/parties/0/party_id", R"(["9999", 9999])"),
       "dag.parties.0.party_id.1", "twice"},
      {"ConfNotObject", set_at("/dag/conf", "[]"), "dag.conf"},
      {"ConfInitiatorBool", set_at("/dag/conf/initiator_party_id", "true"), "dag.conf.initiator_party_id"},
      {"ConfSchedulerList", set_at("/dag/conf/scheduler_party_id", R"(["9999"])"),
       "dag.conf.scheduler_party_id"},
      {"ConfPriorityString", set_at("/dag/conf/priority", R"("1")"), "dag.conf.priority"},
      {"ConfPriorityFloat", set_at("/dag/conf/priority", "1.5"), "dag.conf.priority"},
      {"ConfInheritanceList", set_at("/dag/conf/inheritance", "[]"), "dag.conf.inheritance"},
      {"ConfInheritanceTaskList", set_at("/dag/conf/inheritance", R"({"job_id": "j", "task_list": "a_0"})"),
       "dag.conf.inheritance.task_list"},
      {"ConfCoresZero", set_at("/dag/conf/cores", "0"), "dag.conf.cores", "> 0"},
      {"ConfCoresNegative", set_at("/dag/conf/cores", "-4"), "dag.conf.cores"},
      {"ConfCoresString", set_at("/dag/conf/cores", R"("4")"), "dag.conf.cores"},
      {"ConfPartitionsString", set_at("/dag/conf/computing_partitions", R"("8")"),
       "dag.conf.computing_partitions"},
      {"ConfSyncTypeUnknown", set_at("/dag/conf/sync_type", R"("push")"), "dag.conf.sync_type"},
      {"ConfSyncTypeNotString", set_at("/dag/conf/sync_type", "1"), "dag.conf.sync_type"},
      {"ConfAutoRetriesNegative", set_at("/dag/conf/auto_retries", "-1"), "dag.conf.auto_retries"},
      {"ConfModelIdInt", set_at("/dag/conf/model_id", "1"), "dag.conf.model_id"},
      {"ConfModelVersionBool", set_at("/dag/conf/model_version", "false"), "dag.conf.model_version"},
      {"ConfModelWarehouseString", set_at("/dag/conf/model_warehouse", R"("m")"), "dag.conf.model_warehouse"},
      {"ConfModelWarehouseId", set_at("/dag/conf/model_warehouse", R"({"model_id": 1})"),
       "dag.conf.model_warehouse.model_id"},
      {"ConfTaskNotObject", set_at("/dag/conf/task", R"("x")"), "dag.conf.task"},
      {"ConfTaskEngineRunList", set_at("/dag/conf/task", R"({"engine_run": []})"),
       "dag.conf.task.engine_run"},
      {"ConfTaskProviderInt", set_at("/dag/conf/task", R"({"provider": 2})"), "dag.conf.task.provider"},
      {"ConfTaskTimeoutZero", set_at("/dag/conf/task", R"({"timeout": 0})"), "dag.conf.task.timeout"},
      {"ConfTaskLauncherInt", set_at("/dag/conf/task", R"({"launcher_name": 1})"),
       "dag.conf.task.launcher_name"},
      {"ConfExtraList", set_at("/dag/conf/extra", "[1]"), "dag.conf.extra"},
      {"ConfTimeoutZero", set_at("/dag/conf/timeout", "0"), "dag.conf.timeout"},
      {"StageNotString", set_at("/dag/stage", "1"), "dag.stage"},
      {"StageUnknown", set_at("/dag/stage", R"("fit")"), "dag.stage", "'fit'"},
      {"TasksMissing", erase_at("/dag/tasks"), "dag.tasks"},
      {"TasksEmpty", set_at("/dag/tasks", "{}"), "dag.tasks"},
      {"TasksNotObject", set_at("/dag/tasks", R"([{"component_ref": "noop"}])"), "dag.tasks"},
      {"TaskNotObject", set_at("/dag/tasks/a_0", R"("noop")"), "dag.tasks.a_0"},
      {"TaskNull", set_at("/dag/tasks/a_0", "null"), "dag.tasks.a_0"},
      {"ComponentRefMissing", erase_at("/dag/tasks/a_0/component_ref"), "dag.tasks.a_0.component_ref",
       "required"},
      {"ComponentRefNotString", set_at("/dag/tasks/a_0/component_ref", R"(["noop"])"),
       "dag.tasks.a_0.component_ref"},
      {"TaskStageNotString", set_at("/dag/tasks/a_0/stage", "{}"), "dag.tasks.a_0.stage"},
      {"TaskStageUnknown", set_at("/dag/tasks/a_0/stage", R"("x")"), "dag.tasks.a_0.stage"},
      {"TaskPartiesNotList", set_at("/dag/tasks/a_0/parties", "{}"), "dag.tasks.a_0.parties"},
      {"TaskPartyNotInDag", set_at("/dag/tasks/a_0/parties", R"([{"role": "host", "party_id": ["10001"]}])"),
       "dag.tasks.a_0.parties.0.party_id.0", "not in dag.parties"},
      {"TaskPartyRoleNotInDag",
       set_at("/dag/tasks/a_0/parties", R"([{"role": "arbiter", "party_id": ["10000"]}])"),
       "dag.tasks.a_0.parties.0.party_id.0", "not in dag.parties"},
      {"TaskPartyBadRole", set_at("/dag/tasks/a_0/parties", R"([{"role": "boss", "party_id": ["9999"]}])"),
       "dag.tasks.a_0.parties.0.role"},
      {"ParametersNotObject", set_at("/dag/tasks/a_0/parameters", "[]"), "dag.tasks.a_0.parameters"},
      {"TaskConfNotObject", set_at("/dag/tasks/a_0/conf", R"("x")"), "dag.tasks.a_0.conf"},
      {"TaskConfTimeoutNegative", set_at("/dag/tasks/a_0/conf", R"({"timeout": -5})"),
       "dag.tasks.a_0.conf.timeout"},
      {"DependentTasksNotList", set_at("/dag/tasks/a_0/dependent_tasks", R"("b_0")"),
       "dag.tasks.a_0.dependent_tasks"},
      {"OutputsNotObject", set_at("/dag/tasks/a_0/outputs", "[]"), "dag.tasks.a_0.outputs"},
      {"InputsNotObject", set_at("/dag/tasks/b_0/inputs", "[]"), "dag.tasks.b_0.inputs"},
      {"InputsDataNotObject", set_at("/dag/tasks/b_0/inputs/data", "[]"), "dag.tasks.b_0.inputs.data"},
      {"InputKeyNotObject", set_at("/dag/tasks/b_0/inputs/model/input_model", R"("a_0")"),
       "dag.tasks.b_0.inputs.model.input_model"},
      {"InputKeyNoChannel", set_at("/dag/tasks/b_0/inputs/model/input_model", "{}"),
       "dag.tasks.b_0.inputs.model.input_model"},
      {"InputKeyOnlyNullChannel",
       set_at("/dag/tasks/b_0/inputs/model/input_model", R"({"data_warehouse": null})"),
       "dag.tasks.b_0.inputs.model.input_model"},
      {"UnknownSource", set_at("/dag/tasks/b_0/inputs/model/input_model/upstream", "{}"),
       "dag.tasks.b_0.inputs.model.input_model.upstream", "'upstream'"},
      {"ChannelNotObject", set_at(kModelChannel, R"("a_0")"), channel.c_str()},
      {"ChannelEmptyList", set_at(kModelChannel, "[]"), channel.c_str()},
      {"ChannelExtraKey", set_at(p_channel_extra.c_str(), "1"), extra.c_str(), "'extra'"},
      {"ChannelExtraKeyNull", set_at(p_channel_extra.c_str(), "null"), extra.c_str()},
      {"ChannelMissingArtifactKey", erase_at(p_channel_key.c_str()), channel_key.c_str(), "required"},
      {"ChannelArtifactKeyInt", set_at(p_channel_key.c_str(), "1"), channel_key.c_str()},
      {"ChannelPartiesNotInDag",
       set_at(p_channel_parties.c_str(), R"([{"role": "guest", "party_id": ["1"]}])"), channel_party.c_str(),
       "not in dag.parties"},
      {"UnknownProducer", set_at(p_producer.c_str(), R"("x")"), producer.c_str(), "unknown task 'x'"},
      {"ProducerMissing", erase_at(p_producer.c_str()), producer.c_str(), "required"},
      {"ProducerNotString", set_at(p_producer.c_str(), R"(["a_0"])"), producer.c_str()},
      {"ListElementUnknownProducer",
       set_at(kModelChannel, R"([{"producer_task": "a_0", "output_artifact_key": "o"},
                              {"producer_task": "y", "output_artifact_key": "o"}])"),
       list_item.c_str(), "'y'"},
      {"SelfDependency", set_at(p_producer.c_str(), R"("b_0")"), producer.c_str(), "'b_0' depends on itself"},
      {"Cycle",
       set_at(
           "/dag/tasks/a_0/inputs",
           R"({"data": {"d": {"task_output_artifact": {"producer_task": "b_0", "output_artifact_key": "o"}}}})"),
       "dag.tasks", "a_0 -> b_0 -> a_0"},
      {"ThreeCycleBehindAcyclicTask",
       [](Json& d) {
         auto dep = [](const std::string& producer) {
           return Json::parse(R"({"data": {"d": {"task_output_artifact": {"producer_task": ")" + producer +
                              R"(", "output_artifact_key": "o"}}}})");
         };
         d["dag"]["tasks"]["c_0"] = {{"component_ref", "noop"}, {"inputs", dep("e_0")}};
         d["dag"]["tasks"]["d_0"] = {{"component_ref", "noop"}, {"inputs", dep("c_0")}};
         d["dag"]["tasks"]["e_0"] = {{"component_ref", "noop"}, {"inputs", dep("d_0")}};
         d["dag"]["tasks"]["f_0"] = {{"component_ref", "noop"}, {"inputs", dep("d_0")}};
       },
       "dag.tasks", "c_0 -> d_0 -> e_0 -> c_0"},
      {"DataWarehouseExtraKey",
       set_at("/dag/tasks/a_0/inputs", R"({"data": {"d": {"data_warehouse": {"table": "t"}}}})"),
       "dag.tasks.a_0.inputs.data.d.data_warehouse.table"},
      {"ModelWarehouseNeedsProducer",
       set_at("/dag/tasks/a_0/inputs",
              R"({"model": {"m": {"model_warehouse": {"model_id": "m", "output_artifact_key": "o"}}}})"),
       "dag.tasks.a_0.inputs.model.m.model_warehouse.producer_task", "required"},
      {"PartyTasksNotObject", set_at("/dag/party_tasks", "[]"), "dag.party_tasks"},
      {"PartyTasksEntryNotObject", set_at("/dag/party_tasks/guest_9999", "1"), "dag.party_tasks.guest_9999"},
      {"PartyTasksPartiesMissing", erase_at("/dag/party_tasks/guest_9999/parties"),
       "dag.party_tasks.guest_9999.parties"},
      {"PartyTasksPartiesEmpty", set_at("/dag/party_tasks/guest_9999/parties", "[]"),
       "dag.party_tasks.guest_9999.parties"},
      {"PartyTasksPartyNotInDag",
       set_at("/dag/party_tasks/guest_9999/parties", R"([{"role": "guest", "party_id": ["10000"]}])"),
       "dag.party_tasks.guest_9999.parties.0.party_id.0", "not in dag.parties"},
      {"PartyTasksUnknownTask", set_at("/dag/party_tasks/guest_9999/tasks/ghost_0", "{}"),
       "dag.party_tasks.guest_9999.tasks.ghost_0", "unknown task 'ghost_0'"},
      {"PartyTasksTasksNotObject", set_at("/dag/party_tasks/guest_9999/tasks", "[]"),
       "dag.party_tasks.guest_9999.tasks"},
      {"PartyTasksParametersNotObject", set_at("/dag/party_tasks/guest_9999/tasks/a_0/parameters", "1"),
       "dag.party_tasks.guest_9999.tasks.a_0.parameters"},
      {"PartyTasksTaskConfNotObject", set_at("/dag/party_tasks/guest_9999/tasks/a_0/conf", "1"),
       "dag.party_tasks.guest_9999.tasks.a_0.conf"},
      {"PartyTasksConfNotObject", set_at("/dag/party_tasks/guest_9999/conf", R"("x")"),
       "dag.party_tasks.guest_9999.conf"},
  };
}

class DagRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(DagRejects, WithCode1000AndFieldPath) {
  const BadCase& c = GetParam();
  Json doc = J(kBase);
  c.mutate(doc);
  auto result = parse_dag(doc);
  ASSERT_TRUE(std::holds_alternative<DagError>(result)) << doc.dump();
  const DagError& error = std::get<DagError>(result);
  EXPECT_EQ(error.code, RetCode::job_params_error);
  EXPECT_EQ(error.field, c.field) << error.message;
  // The message starts with the field it names.
  EXPECT_EQ(error.message.rfind(std::string(c.field) + ": ", 0), 0u) << error.message;
  EXPECT_NE(error.message.find(c.message_part), std::string::npos) << error.message;
}

INSTANTIATE_TEST_SUITE_P(BadInput, DagRejects, ::testing::ValuesIn(bad_cases()),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(DagTest, BaseDocumentIsValid) {
  // Guards the bad-input table: each case fails because of its own mutation.
  const Dag dag = parse_ok(J(kBase));
  EXPECT_EQ(dag.tasks.size(), 2u);
  EXPECT_EQ(task_parameters(dag, "a_0", kGuest), J(R"({"sleep": 1})"));
  EXPECT_EQ(task_parameters(dag, "a_0", kHost), J(R"({"sleep": 0})"));
}

}  // namespace
}  // namespace flowstone::domain
