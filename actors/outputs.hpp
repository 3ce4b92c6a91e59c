// What task runs produced and what the catalog holds (spec 1.6, 1.9): the read handlers of metrics, models,
// data outputs, tables, providers and logs (declared in actors/queries.hpp; model/export writes a zip into a
// server folder; output/data/table and output/data/display answer without an envelope, as FATE-Flow's do),
// and the lookups other parts share.
//
// Thread rules: blocking (RocksDB and file reads); call from a detached actor.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "actors/config.hpp"
#include "net/api.hpp"
#include "store/event_log.hpp"

namespace flowstone::actors {

// The rows of a view under a key prefix, parsed, in key order.
std::vector<Json> scan_view(store::EventLog& log, const char* family, const std::string& prefix);

// The registered provider `spec` names (dag.conf.task.provider: "name:version@device", ...), as its
// providers-view row; null when none is registered. Builtin names (flowstone, fate_flow) are not looked up.
Json lookup_provider(store::EventLog& log, const std::string& spec);
// The version the built-in providers (flowstone, fate_flow) are listed with, and this server reports.
inline constexpr const char* kBuiltinProviderVersion = "0.1.0";
bool is_builtin_provider(const std::string& spec);

// Where the server keeps a model's tar: <data_dir>/model/<storage key>.<sha256 prefix>.tar. Named by its
// content, so a save that is refused or ignored never replaces the tar an event already names.
std::string model_file(const ServerConfig& config, const std::string& storage_key, const std::string& digest);

// A table's engine and path from a tracking uri ("standalone:///dir" -> standalone, /dir); the path is
// empty when the uri names none.
std::pair<std::string, std::string> uri_address(const std::string& uri);

}  // namespace flowstone::actors
