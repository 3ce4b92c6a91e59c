// Pieces the load drivers share: percentiles of timings and the one-task job they submit. Header-only.
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include "events/common/json.hpp"

namespace flowstone::bench {

// The p-quantile (0..1) of `v` by nearest rank; 0 for no samples.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// A dag_schema of one task of `component` at guest 9999 (`native_noop` runs inside the server: no worker).
inline Json one_task_job(const std::string& component = "native_noop") {
  return Json{{"schema_version", "2.1.0"},
              {"dag",
               {{"parties", Json::array({{{"role", "guest"}, {"party_id", {"9999"}}}})},
                {"tasks", {{"a_0", {{"component_ref", component}}}}}}}};
}

}  // namespace flowstone::bench
