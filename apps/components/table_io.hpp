// Tables for the reference components: CSV reading and writing, and the standalone table layout shared
// with the server. A standalone table is a directory holding `data.csv`, whose first line is the header;
// it is tracked with uri `standalone://<absolute dir>`, engine "standalone", path = the directory, and
// meta {"header": [columns], "delimiter": ",", "match_id_name": <id column>}. Tables written here always
// use "," as the delimiter. Single-threaded use.
#pragma once
#include <string>
#include <vector>

#include "apps/components/worker_client.hpp"
#include "events/common/json.hpp"

namespace flowstone::worker {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each as wide as the header
};

// CSV text (RFC 4180: quoted fields may hold the delimiter, quotes as "" and newlines; CRLF accepted;
// blank lines skipped). With `head` the first record is the header, else the columns are named
// id, x0, x1, ... Every record must be as wide as the header. Returns an error message, empty on success.
std::string parse_csv(const std::string& text, char delimiter, bool head, Table* out);
// The table as CSV with its header line; fields holding the delimiter, a quote or a newline are quoted.
std::string format_csv(const Table& table, char delimiter = ',');

std::string read_csv_file(const std::string& path, char delimiter, bool head, Table* out);
// Writes through a temporary file renamed into place, creating the parent directories.
std::string write_csv_file(const std::string& path, const Table& table);

// The id column: `requested` when given (it must be a column), else the first column.
std::string resolve_id_column(const Table& table, const std::string& requested, std::string* error);
// Index of `column` in the header, or -1.
int column_index(const Table& table, const std::string& column);

// A delimiter parameter: its first character, ',' when empty or absent.
char delimiter_of(const Json& meta);
// True for a namespace or name usable as one path component: non-empty, no '/', '\\' or "..".
bool safe_path_component(const std::string& text);

// The tracking fields of a table: meta, overview {count, samples: first 10 rows as objects}, and the
// artifact source of this task's output `output_key`.
Json table_meta(const Table& table, const std::string& match_id_name, const Json& extra = Json::object());
Json table_overview(const Table& table);
Json artifact_source(const TaskContext& context, const std::string& output_key);

// Tracks a standalone table already written in `dir` (absolute): the data/tracking/save record.
Json table_record(const TaskContext& context, const std::string& dir, const Table& table, const Json& meta,
                  const std::string& output_key, const std::string& namespace_, const std::string& name,
                  const std::string& data_type);

// Reads a table described by a tracking query answer ({namespace, name, engine, path, meta, ...}); sets
// the id column from its meta (default the first column).
std::string read_tracked_table(const Json& tracked, Table* out, std::string* match_id_name);

// Reads the stored table namespace/name, found through the worker API's tracking query (what the reader
// and download components read); sets the id column from its meta. Returns an error message, empty on
// success.
std::string read_named_table(const TaskContext& context, const std::string& namespace_,
                             const std::string& name, Table* out, std::string* match_id_name);

// Reads the single table behind this task's data input `input_key` (input_tables, then the file).
std::string read_input_table(const TaskContext& context, const std::string& input_key, Table* out,
                             std::string* match_id_name);

// Writes `table` as this task's output `output_key` (index 0) under
// <data_dir>/output/<task_id>/<execution_id>/<output_key>_0/ and tracks it as a dataframe in namespace
// output_data_<job_id>, name <task_name>_<role>_<party_id>_<output_key>_0_v<task_version>.
std::string save_output_table(const TaskContext& context, const std::string& output_key, const Table& table,
                              const std::string& match_id_name);

}  // namespace flowstone::worker
