// The domain's JSON document type. Pure value type: no parsing from the wire here (net/ does that
// with simdjson), only a tree that keeps the user's key order so outputs read like the input DAG.
#pragma once
#include <nlohmann/json.hpp>

namespace flowstone {
using Json = nlohmann::ordered_json;
}  // namespace flowstone
