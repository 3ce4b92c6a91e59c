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

using flowstone::Json;
namespace w = flowstone::worker;

std::string text(const Json& p, const char* key) {
  return p.contains(key) && p[key].is_string() ? p[key].get<std::string>() : "";
}

w::Outcome download(const w::TaskContext& task) {
  const Json& p = task.parameters;
  const std::string name = text(p, "name"), namespace_ = text(p, "namespace"), path = text(p, "path");
  if (name.empty() || namespace_.empty() || path.empty())
    return {false, "download: parameters name, namespace and path are required"};
  std::string target;
  if (std::string problem = flowstone::net::FileRoots(task.file_roots).Confine(path, &target);
      !problem.empty())
    return {false, "download: parameter path " + problem};
  w::ApiAnswer answer = w::query_tracking(task, {{"namespace", namespace_}, {"name", name}});
  if (answer.code != 0)
    return {false, w::api_error("query_tracking(" + namespace_ + "/" + name + ")", answer)};
  Json tracked = answer.data.is_array() && !answer.data.empty() ? answer.data[0] : answer.data;
  if (!tracked.is_object()) return {false, "download: no table " + namespace_ + "/" + name};
  w::Table table;
  std::string id_column;
  if (std::string error = w::read_tracked_table(tracked, &table, &id_column); !error.empty())
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
