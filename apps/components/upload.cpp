// flowstone-upload: the `upload` component. It turns a CSV file on the server's disk into a standalone
// table and tracks it, like FATE-Flow's upload job (spec 8).
//
// Parameters:
//   file        (required) path of the CSV file, as the server's machine sees it
//   head        (bool, default true) the first line is the header; if false the columns are named
//               id, x0, x1, ...
//   partitions  (int, default 16) recorded with the table
//   meta        (dict) delimiter (default ","), match_id_name or sample_id_name (the id column, default the
//               first column); other keys (label_name, ...) are kept in the table's meta
//   namespace, name (required) the table's identity; neither may contain '/' or ".."
// Inputs: none.
// Outputs: data `table`, written as <data_dir>/<namespace>/<name>/data.csv (replacing an existing table)
//   and tracked with that namespace and name, data_type "table".
// To write a component of your own, copy this file: run_component gives the task context; do the work
// with the worker API (worker_client.hpp) and the table helpers (table_io.hpp); return an Outcome.
#include <filesystem>
#include <iostream>
#include <system_error>

#include "apps/components/table_io.hpp"
#include "apps/components/worker_client.hpp"
#include "net/file_roots.hpp"

namespace {

using flowstone::Json;
namespace fs = std::filesystem;
namespace w = flowstone::worker;

w::Outcome upload(const w::TaskContext& task) {
  const Json& p = task.parameters;
  const std::string file = w::text_parameter(p, "file");
  const std::string namespace_ = w::text_parameter(p, "namespace");
  const std::string name = w::text_parameter(p, "name");
  if (file.empty()) return {false, "upload: parameter file (the CSV path) is required"};
  for (const auto& [key, value] :
       {std::pair<std::string, std::string>{"namespace", namespace_}, {"name", name}}) {
    if (!w::safe_path_component(value))
      return {false,
              "upload: parameter " + key + " \"" + value + "\" must be non-empty, without '/' or '..'"};
  }
  if (task.data_dir.empty())
    return {false, "upload: the task config has no conf.computing.metadata.options.data_dir"};
  bool head = !(p.contains("head") && p["head"].is_boolean() && !p["head"].get<bool>());
  if (p.contains("head") && p["head"].is_number_integer()) head = p["head"].get<int>() != 0;
  int partitions =
      p.contains("partitions") && p["partitions"].is_number_integer() ? p["partitions"].get<int>() : 16;
  const Json meta_parameter = p.contains("meta") && p["meta"].is_object() ? p["meta"] : Json::object();

  // The server checks the upload route's file; a DAG that names this component directly is checked here,
  // against the same roots the server handed over.
  std::string resolved;
  if (std::string problem = flowstone::net::FileRoots(task.file_roots).Confine(file, &resolved);
      !problem.empty())
    return {false, "upload: parameter file " + problem};
  std::error_code ec;
  if (!fs::is_regular_file(resolved, ec))
    return {false, "upload: file " + file + " does not exist or is not a file"};
  w::Table table;
  std::string error = w::read_csv_file(resolved, w::delimiter_of(meta_parameter), head, &table);
  if (!error.empty()) return {false, "upload: " + error};
  std::string requested = meta_parameter.value("match_id_name", "");
  if (requested.empty()) requested = meta_parameter.value("sample_id_name", "");
  std::string id_column = w::resolve_id_column(table, requested, &error);
  if (!error.empty()) return {false, "upload: " + file + ": " + error};

  fs::path dir = (fs::absolute(task.data_dir, ec) / namespace_ / name).lexically_normal();
  fs::remove_all(dir, ec);
  if (ec) return {false, "upload: cannot replace " + dir.string() + ": " + ec.message()};
  error = w::write_csv_file((dir / "data.csv").string(), table);
  if (!error.empty()) return {false, "upload: " + error};

  Json record = w::table_record(task, dir.string(), table, w::table_meta(table, id_column, meta_parameter),
                                "table", namespace_, name, "table");
  record["partitions"] = partitions;
  w::ApiAnswer answer = w::track_data(task, std::move(record));
  if (answer.code != 0) return {false, w::api_error("track_data(table)", answer)};
  std::cout << "uploaded " << table.rows.size() << " rows of " << file << " as " << namespace_ << "/" << name
            << " in " << dir.string() << std::endl;
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  return w::run_component(argc, argv, upload);
}
