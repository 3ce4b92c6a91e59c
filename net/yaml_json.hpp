// YAML (and JSON, which YAML contains) documents to the domain's Json: job files given to the CLI, the
// `*.meta.yaml` members of a model tar, FATE's component definitions and result files. Thread-safe.
#pragma once
#include <string>

#include "events/common/json.hpp"

namespace flowstone::net {

// Reads a YAML or JSON file. Plain scalars become null, booleans, integers or floats where YAML 1.2's
// core schema says so; quoted scalars stay strings. Returns an error message, empty on success.
std::string load_yaml_or_json(const std::string& path, Json* out);
// The same for a document held in memory.
std::string parse_yaml_or_json(const std::string& text, Json* out);

}  // namespace flowstone::net
