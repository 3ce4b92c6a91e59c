// The FATE 2.x DAG language (spec section 2): a parsed job definition, its strict validation (validate.cpp),
// the trusting reader replay uses (read.cpp), and the pure functions that answer scheduling questions about
// it (queries.cpp): which parties run a task, its dependencies, its merged parameters and conf for one party,
// and its per-party input channels. No I/O; thread-safe.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "events/common/json.hpp"
#include "events/common/party.hpp"
#include "events/common/ret_code.hpp"

namespace flowstone::domain {

// One input channel of a task (spec 2.3): `kind` is "data" or "model"; `source` is
// "task_output_artifact", "data_warehouse" or "model_warehouse"; `spec` is the channel object as written.
struct InputChannel {
  std::string kind;
  std::string input_key;
  std::string source;
  std::string producer_task;        // task_output_artifact / model_warehouse
  std::string output_artifact_key;  // task_output_artifact / model_warehouse
  std::optional<std::vector<PartyRef>> parties;
  Json spec;
};

struct TaskSpec {
  std::string name;
  std::string component_ref;
  std::string stage;  // empty -> dag stage
  std::optional<std::vector<PartyRef>> parties;
  std::vector<InputChannel> inputs;  // in the order written, data before model; a list source gives several
  Json parameters = Json::object();
  Json conf = Json::object();
};

struct Dag {
  std::string schema_version;
  std::string kind = "fate";
  std::vector<PartyRef> parties;  // flattened in the order written
  Json conf = Json::object();     // dag.conf as written (null members removed)
  std::string stage;              // dag.stage, empty if absent
  std::vector<TaskSpec> tasks;    // in the order written
  Json party_tasks = Json::object();
  Json raw;  // the whole dag_schema object as received

  const TaskSpec* find_task(const std::string& name) const;
};

// A rejected DAG: FATE code (1000 PARAMS_ERROR or 5001 INVALID_PARAMETER), the offending field as a
// dotted path (e.g. "dag.tasks.psi_0.inputs.data.input_data.task_output_artifact.producer_task") and a
// message that names it.
struct DagError {
  RetCode code = RetCode::job_params_error;
  std::string field;
  std::string message;
};

// Parses and validates a dag_schema object ({schema_version, kind?, dag:{...}}). Rejects: missing or
// wrongly typed fields, unknown roles, a (role, party_id) pair listed twice, task parties not in
// dag.parties, missing component_ref, unknown producer_task, dependency cycles. `null` means absent.
std::variant<Dag, DagError> parse_dag(const Json& dag_schema);

// Reads a dag_schema that was validated when it was accepted (a JobCreated of any build), checking nothing:
// replay never validates, so a rule added to parse_dag later cannot change how an old job replays.
Dag read_dag(const Json& dag_schema);

// Producers of every task_output_artifact input of the task, whatever its channel parties (spec 2.4),
// de-duplicated, in input order.
std::vector<std::string> task_dependencies(const Dag& dag, const std::string& task_name);

// Task names in a topological order (producers first; ties keep the written order).
std::vector<std::string> topological_order(const Dag& dag);

// Parties that run the task: its own `parties`, else all dag parties.
std::vector<PartyRef> task_parties(const Dag& dag, const std::string& task_name);

// Merged parameters / conf for one party (spec 2.5: dag.conf.task, task.conf, party_tasks conf,
// party_tasks task conf; parameters then party_tasks parameters; later wins, shallow update).
Json task_parameters(const Dag& dag, const std::string& task_name, const PartyRef& party);
Json task_conf(const Dag& dag, const std::string& task_name, const PartyRef& party);

// Per-party input artifacts (spec 2.4): {"data": {key: channel|[channel]}, "model": {...}} with the
// channels that survive for this party, each with `parties` rewritten to this party only.
Json task_input_artifacts(const Dag& dag, const std::string& task_name, const PartyRef& party);

}  // namespace flowstone::domain
