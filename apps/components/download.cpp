// flowstone-download: the `download` component (what /v2/data/component/download runs, as FATE-Flow's
// download_0 task does). It writes a stored table back to a CSV file on the server's machine.
//
// Parameters:
//   name, namespace (required) the table, resolved with the worker API's tracking query
//   path            (required) the CSV file to write; it must lie under the file roots the server hands
//                   over (conf.computing.metadata.options.file_roots), checked here as the server does
// Inputs: none. Outputs: none (the file).
#include <iostream>

#include "apps/components/table_io.hpp"
#include "apps/components/worker_client.hpp"
#include "net/file_roots.hpp"

namespace {

namespace w = flowstone::worker;

w::Outcome download(const w::TaskContext& task) {
  const std::string name = w::text_parameter(task.parameters, "name");
  const std::string namespace_ = w::text_parameter(task.parameters, "namespace");
  const std::string path = w::text_parameter(task.parameters, "path");
  if (name.empty() || namespace_.empty() || path.empty())
    return {false, "download: parameters name, namespace and path are required"};
  std::string target;
  if (std::string problem = flowstone::net::FileRoots(task.file_roots).Confine(path, &target);
      !problem.empty())
    return {false, "download: parameter path " + problem};
  w::Table table;
  std::string id_column;
  if (std::string error = w::read_named_table(task, namespace_, name, &table, &id_column); !error.empty())
    return {false, "download: " + error};
  if (std::string error = w::write_csv_file(target, table); !error.empty())
    return {false, "download: " + error};
  std::cout << "wrote " << table.rows.size() << " rows of " << namespace_ << "/" << name << " to " << target
            << std::endl;
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  return w::run_component(argc, argv, download);
}
