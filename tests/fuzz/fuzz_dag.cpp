// libFuzzer target: a job's DAG as `job/submit` receives it. JSON text (simdjson) becomes a dag_schema,
// which the DAG reader and validator take; a DAG they accept must answer the queries the scheduler asks
// of it (order, dependencies, parties, per-party parameters) without failing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "events/dag/dag.hpp"
#include "net/json_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  auto schema = flowstone::net::parse_json(std::string(reinterpret_cast<const char*>(data), size), &error);
  if (!schema) return 0;
  auto parsed = flowstone::domain::parse_dag(*schema);
  auto* dag = std::get_if<flowstone::domain::Dag>(&parsed);
  if (!dag) return 0;
  for (const std::string& task : flowstone::domain::topological_order(*dag)) {
    flowstone::domain::task_dependencies(*dag, task);
    for (const auto& party : flowstone::domain::task_parties(*dag, task)) {
      flowstone::domain::task_parameters(*dag, task, party);
      flowstone::domain::task_conf(*dag, task, party);
      flowstone::domain::task_input_artifacts(*dag, task, party);
    }
  }
  return 0;
}
