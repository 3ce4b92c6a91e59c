// YAML (and JSON, which YAML contains) documents to the domain's Json, for job files given to the CLI.
#pragma once
#include <string>

#include "events/json.hpp"

namespace flowstone::cli {

// Reads a YAML or JSON file. Plain scalars become null, booleans, integers or floats where YAML 1.2's
// core schema says so; quoted scalars stay strings. Returns an error message, empty on success.
std::string load_yaml_or_json(const std::string& path, Json* out);

}  // namespace flowstone::cli
