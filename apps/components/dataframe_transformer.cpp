// flowstone-dataframe_transformer: the `dataframe_transformer` component that /v2/data/component/
// dataframe/transformer runs (FATE's turns an uploaded table into a dataframe). Here a table and a
// dataframe share one layout, so it copies the rows under the new name.
//
// Parameters:
//   namespace, name (required) the dataframe to write (replaced if it exists)
// Inputs: data `table` (required), usually a data_warehouse channel {name, namespace}.
// Outputs: data `dataframe_output`: the rows, written to <data_dir>/<namespace>/<name>/ and tracked as a
//   dataframe under that namespace and name, so a reader finds it.
#include <filesystem>
#include <iostream>

#include "apps/components/table_io.hpp"
#include "apps/components/worker_client.hpp"

namespace {

using flowstone::Json;
namespace w = flowstone::worker;

w::Outcome transform(const w::TaskContext& task) {
  const Json& p = task.parameters;
  std::string ns =
      p.contains("namespace") && p["namespace"].is_string() ? p["namespace"].get<std::string>() : "";
  std::string name = p.contains("name") && p["name"].is_string() ? p["name"].get<std::string>() : "";
  if (!w::safe_path_component(ns) || !w::safe_path_component(name))
    return {false, "dataframe_transformer: parameters namespace and name must be plain names"};
  w::Table table;
  std::string id_column;
  if (std::string error = w::read_input_table(task, "table", &table, &id_column); !error.empty())
    return {false, "dataframe_transformer: " + error};
  std::string dir = std::filesystem::absolute(task.data_dir + "/" + ns + "/" + name).string();
  if (std::string error = w::write_csv_file(dir + "/data.csv", table); !error.empty())
    return {false, "dataframe_transformer: " + error};
  Json record = w::table_record(task, dir, table, w::table_meta(table, id_column), "dataframe_output", ns,
                                name, "dataframe");
  w::ApiAnswer answer = w::track_data(task, record);
  if (answer.code != 0) return {false, w::api_error("track_data", answer)};
  std::cout << "dataframe " << ns << "/" << name << ": " << table.rows.size() << " rows" << std::endl;
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  return w::run_component(argc, argv, transform);
}
