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

namespace w = flowstone::worker;

w::Outcome read_table(const w::TaskContext& task) {
  const std::string name = w::text_parameter(task.parameters, "name");
  const std::string namespace_ = w::text_parameter(task.parameters, "namespace");
  if (name.empty() || namespace_.empty())
    return {false, "reader: parameters name and namespace are required"};
  w::Table table;
  std::string id_column;
  std::string error = w::read_named_table(task, namespace_, name, &table, &id_column);
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
