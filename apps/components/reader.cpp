// flowstone-reader: the `reader` component. It reads a table by its name and namespace and passes its
// rows on as the task's output, the usual first task of a FATE DAG.
//
// Parameters:
//   name, namespace (required) the table, resolved with the worker API's tracking query
// Inputs: none.
// Outputs: data `output_data`, a copy of the table's rows (same header and id column), written under
//   the task's output directory and tracked as a dataframe.
#include <iostream>

#include "apps/components/table_io.hpp"
#include "apps/components/worker_client.hpp"

namespace {

using flowstone::Json;
namespace w = flowstone::worker;

w::Outcome read_table(const w::TaskContext& task) {
  const Json& p = task.parameters;
  std::string name = p.contains("name") && p["name"].is_string() ? p["name"].get<std::string>() : "";
  std::string namespace_ =
      p.contains("namespace") && p["namespace"].is_string() ? p["namespace"].get<std::string>() : "";
  if (name.empty() || namespace_.empty())
    return {false, "reader: parameters name and namespace are required"};
  w::ApiAnswer answer = w::query_tracking(task, {{"namespace", namespace_}, {"name", name}});
  if (answer.code != 0)
    return {false, w::api_error("query_tracking(" + namespace_ + "/" + name + ")", answer)};
  Json tracked = answer.data.is_array() && !answer.data.empty() ? answer.data[0] : answer.data;
  if (!tracked.is_object())
    return {false, "reader: no table " + namespace_ + "/" + name + ": " + answer.data.dump()};
  if (!tracked.contains("namespace")) tracked["namespace"] = namespace_;
  if (!tracked.contains("name")) tracked["name"] = name;

  w::Table table;
  std::string id_column;
  std::string error = w::read_tracked_table(tracked, &table, &id_column);
  if (!error.empty()) return {false, "reader: " + error};
  error = w::save_output_table(task, "output_data", table, id_column);
  if (!error.empty()) return {false, "reader: " + error};
  std::cout << "read " << table.rows.size() << " rows of " << namespace_ << "/" << name << std::endl;
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  return w::run_component(argc, argv, read_table);
}
