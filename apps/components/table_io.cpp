#include "apps/components/table_io.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace flowstone::worker {
namespace {

namespace fs = std::filesystem;

constexpr size_t kSampleRows = 10;
constexpr int kOutputPartitions = 16;

std::string text_member(const Json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
  return object[key].get<std::string>();
}

}  // namespace

std::string parse_csv(const std::string& text, char delimiter, bool head, Table* out) {
  out->header.clear();
  out->rows.clear();
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool in_quotes = false;
  bool quoted = false;  // the current field was quoted (so an empty one still counts)
  size_t line = 1;
  size_t record_line = 1;
  auto end_record = [&]() {
    if (!(record.empty() && field.empty() && !quoted)) {  // skip blank lines
      record.push_back(std::move(field));
      records.push_back(std::move(record));
    }
    record.clear();
    field.clear();
    quoted = false;
  };
  std::vector<size_t> record_lines;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && field.empty()) {
      in_quotes = true;
      quoted = true;
    } else if (c == delimiter) {
      record.push_back(std::move(field));
      field.clear();
      quoted = false;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    } else if (c == '\n') {
      size_t before = records.size();
      end_record();
      if (records.size() > before) record_lines.push_back(record_line);
      record_line = ++line;
    } else {
      field.push_back(c);
    }
  }
  if (in_quotes) return "unterminated quoted field starting on line " + std::to_string(record_line);
  size_t before = records.size();
  end_record();
  if (records.size() > before) record_lines.push_back(record_line);
  if (records.empty()) return head ? "the file is empty (no header line)" : "the file has no rows";
  size_t first = 0;
  if (head) {
    out->header = std::move(records[0]);
    first = 1;
  } else {
    out->header.push_back("id");
    for (size_t k = 1; k < records[0].size(); ++k) out->header.push_back("x" + std::to_string(k - 1));
  }
  for (size_t r = first; r < records.size(); ++r) {
    if (records[r].size() != out->header.size())
      return "line " + std::to_string(record_lines[r]) + " has " + std::to_string(records[r].size()) +
             " fields, the header has " + std::to_string(out->header.size());
    out->rows.push_back(std::move(records[r]));
  }
  return "";
}

std::string format_csv(const Table& table, char delimiter) {
  std::string out;
  auto write_record = [&](const std::vector<std::string>& record) {
    for (size_t k = 0; k < record.size(); ++k) {
      if (k) out.push_back(delimiter);
      const std::string& value = record[k];
      if (value.find_first_of(std::string{delimiter, '"', '\n', '\r'}) == std::string::npos) {
        out += value;
        continue;
      }
      out.push_back('"');
      for (char c : value) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
      }
      out.push_back('"');
    }
    out.push_back('\n');
  };
  write_record(table.header);
  for (const auto& row : table.rows) write_record(row);
  return out;
}

std::string read_csv_file(const std::string& path, char delimiter, bool head, Table* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot open " + path;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return "cannot read " + path;
  std::string error = parse_csv(text.str(), delimiter, head, out);
  return error.empty() ? "" : path + ": " + error;
}

std::string write_csv_file(const std::string& path, const Table& table) {
  std::error_code ec;
  fs::path target(path);
  fs::create_directories(target.parent_path(), ec);
  if (ec) return "cannot create " + target.parent_path().string() + ": " + ec.message();
  fs::path temporary = target;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << format_csv(table);
    out.flush();
    if (!out) return "cannot write " + temporary.string();
  }
  fs::rename(temporary, target, ec);
  if (ec) return "cannot rename " + temporary.string() + " to " + path + ": " + ec.message();
  return "";
}

int column_index(const Table& table, const std::string& column) {
  for (size_t k = 0; k < table.header.size(); ++k)
    if (table.header[k] == column) return static_cast<int>(k);
  return -1;
}

std::string resolve_id_column(const Table& table, const std::string& requested, std::string* error) {
  error->clear();
  if (table.header.empty()) {
    *error = "the table has no columns";
    return "";
  }
  if (requested.empty()) return table.header[0];
  if (column_index(table, requested) < 0) {
    *error = "id column " + requested + " is not in the header";
    return "";
  }
  return requested;
}

char delimiter_of(const Json& meta) {
  std::string delimiter = text_member(meta, "delimiter");
  return delimiter.empty() ? ',' : delimiter[0];
}

bool safe_path_component(const std::string& text) {
  return !text.empty() && text.find('/') == std::string::npos && text.find('\\') == std::string::npos &&
         text.find("..") == std::string::npos && text != ".";
}

Json table_meta(const Table& table, const std::string& match_id_name, const Json& extra) {
  Json meta = extra.is_object() ? extra : Json::object();
  meta["header"] = table.header;
  meta["delimiter"] = ",";
  meta["match_id_name"] = match_id_name;
  return meta;
}

Json table_overview(const Table& table) {
  Json samples = Json::array();
  for (size_t r = 0; r < table.rows.size() && r < kSampleRows; ++r) {
    Json sample = Json::object();
    for (size_t k = 0; k < table.header.size(); ++k) sample[table.header[k]] = table.rows[r][k];
    samples.push_back(std::move(sample));
  }
  return Json{{"count", table.rows.size()}, {"samples", std::move(samples)}};
}

Json artifact_source(const TaskContext& context, const std::string& output_key) {
  return Json{{"task_id", context.task_id},        {"party_task_id", context.execution_id},
              {"task_name", context.task_name},    {"component", context.config.value("component", "")},
              {"output_artifact_key", output_key}, {"output_index", 0}};
}

Json table_record(const TaskContext& context, const std::string& dir, const Table& table, const Json& meta,
                  const std::string& output_key, const std::string& namespace_, const std::string& name,
                  const std::string& data_type) {
  return Json{{"meta_data", meta},
              {"uri", "standalone://" + dir},
              {"output_key", output_key},
              {"namespace", namespace_},
              {"name", name},
              {"overview", table_overview(table)},
              {"partitions", kOutputPartitions},
              {"source", artifact_source(context, output_key)},
              {"data_type", data_type},
              {"index", 0}};
}

std::string read_named_table(const TaskContext& context, const std::string& namespace_,
                             const std::string& name, Table* out, std::string* match_id_name) {
  ApiAnswer answer = query_tracking(context, {{"namespace", namespace_}, {"name", name}});
  if (answer.code != 0) return api_error("query_tracking(" + namespace_ + "/" + name + ")", answer);
  Json tracked = answer.data.is_array() && !answer.data.empty() ? answer.data[0] : answer.data;
  if (!tracked.is_object()) return "no table " + namespace_ + "/" + name + ": " + answer.data.dump();
  if (!tracked.contains("namespace")) tracked["namespace"] = namespace_;
  if (!tracked.contains("name")) tracked["name"] = name;
  return read_tracked_table(tracked, out, match_id_name);
}

std::string read_tracked_table(const Json& tracked, Table* out, std::string* match_id_name) {
  std::string where = text_member(tracked, "namespace") + "/" + text_member(tracked, "name");
  std::string engine = text_member(tracked, "engine");
  std::string dir = text_member(tracked, "path");
  if (!engine.empty() && engine != "standalone" && engine != "STANDALONE")
    return "table " + where + " is on engine " + engine + ", only standalone tables can be read";
  if (dir.empty()) return "table " + where + " has no path: " + tracked.dump();
  const Json meta =
      tracked.contains("meta") && tracked["meta"].is_object() ? tracked["meta"] : Json::object();
  std::string error = read_csv_file((fs::path(dir) / "data.csv").string(), delimiter_of(meta), true, out);
  if (!error.empty()) return "table " + where + ": " + error;
  *match_id_name = resolve_id_column(*out, text_member(meta, "match_id_name"), &error);
  return error.empty() ? "" : "table " + where + ": " + error;
}

std::string read_input_table(const TaskContext& context, const std::string& input_key, Table* out,
                             std::string* match_id_name) {
  std::string error;
  std::vector<Json> tables = input_tables(context, input_key, &error);
  if (!error.empty()) return error;
  if (tables.empty()) return "input data " + input_key + " is required but the task has none";
  if (tables.size() != 1)
    return "input data " + input_key + " must be one table, it resolves to " + std::to_string(tables.size());
  return read_tracked_table(tables[0], out, match_id_name);
}

std::string save_output_table(const TaskContext& context, const std::string& output_key, const Table& table,
                              const std::string& match_id_name) {
  if (context.data_dir.empty()) return "the task config has no conf.computing.metadata.options.data_dir";
  if (!safe_path_component(context.task_id) || !safe_path_component(context.execution_id))
    return "task id " + context.task_id + " / " + context.execution_id + " cannot name a directory";
  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(context.data_dir), ec) / "output" / context.task_id /
                 context.execution_id / (output_key + "_0");
  dir = dir.lexically_normal();
  std::string error = write_csv_file((dir / "data.csv").string(), table);
  if (!error.empty()) return "writing output " + output_key + ": " + error;
  std::string name = context.task_name + "_" + context.role + "_" + context.party_id + "_" + output_key +
                     "_0_v" + std::to_string(context.task_version);
  Json record = table_record(context, dir.string(), table, table_meta(table, match_id_name), output_key,
                             "output_data_" + context.job_id, name, "dataframe");
  ApiAnswer answer = track_data(context, std::move(record));
  if (answer.code != 0) return api_error("track_data(" + output_key + ")", answer);
  return "";
}

}  // namespace flowstone::worker
