// flowstone-statistics: the `statistics` component: count, mean, min and max of every numeric column.
//
// Parameters: none.
// Inputs: data `input_data`, one table. A column is numeric when every non-empty value in it is a
//   number; the id column (the table's match_id_name) is left out, and so are empty columns.
// Outputs: the metric {"name": "statistics", "type": "statistics", "data": {<column>: {count, mean, min,
//   max}}} and the JSON model `output_model` holding the same object.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <limits>

#include "apps/components/table_io.hpp"
#include "apps/components/worker_client.hpp"

namespace {

using flowstone::Json;
namespace w = flowstone::worker;

// The value of a whole field that is a finite number.
bool parse_number(const std::string& text, double* out) {
  if (text.empty()) return false;
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(begin, &end);
  while (end && (*end == ' ' || *end == '\t')) ++end;
  if (end == begin || *end != '\0' || errno == ERANGE || !std::isfinite(value)) return false;
  *out = value;
  return true;
}

w::Outcome describe(const w::TaskContext& task) {
  w::Table table;
  std::string id_column;
  std::string error = w::read_input_table(task, "input_data", &table, &id_column);
  if (!error.empty()) return {false, "statistics: " + error};

  Json statistics = Json::object();
  for (size_t k = 0; k < table.header.size(); ++k) {
    if (table.header[k] == id_column) continue;
    size_t count = 0;
    double sum = 0;
    double low = std::numeric_limits<double>::infinity();
    double high = -low;
    bool numeric = true;
    for (const auto& row : table.rows) {
      if (row[k].empty()) continue;
      double value = 0;
      if (!parse_number(row[k], &value)) {
        numeric = false;
        break;
      }
      ++count;
      sum += value;
      low = std::min(low, value);
      high = std::max(high, value);
    }
    if (!numeric || count == 0) continue;
    statistics[table.header[k]] = {
        {"count", count}, {"mean", sum / static_cast<double>(count)}, {"min", low}, {"max", high}};
  }

  Json metric = {{"name", "statistics"},
                 {"type", "statistics"},
                 {"groups", Json::array({Json{{"name", "default"}, {"index", nullptr}}})},
                 {"step_axis", nullptr},
                 {"data", statistics}};
  w::ApiAnswer answer = w::save_metrics(task, Json::array({metric}));
  if (answer.code != 0) return {false, w::api_error("save_metrics(statistics)", answer)};
  answer = w::save_json_model(task, "output_model", statistics);
  if (answer.code != 0) return {false, w::api_error("save_json_model(output_model)", answer)};
  std::cout << "statistics of " << statistics.size() << " numeric columns over " << table.rows.size()
            << " rows" << std::endl;
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  return w::run_component(argc, argv, describe);
}
