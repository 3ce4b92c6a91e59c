// JSON at the wire: parsing request bodies with simdjson into the domain's Json tree, and the
// FATE-Flow response envelope {code, message, data, ...} with null-valued keys omitted (spec 1.1).
// Thread-safe (one simdjson parser per thread).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "events/common/json.hpp"

namespace flowstone::net {

// Parses a JSON text. On failure returns nullopt and sets *error to a readable message (with the byte
// offset where simdjson reports one). Duplicate keys: the last wins. Integers that fit int64/uint64 stay
// integers; other numbers become doubles.
std::optional<Json> parse_json(std::string_view text, std::string* error);

// True when `text` is valid UTF-8. Text that becomes a Json string must be: writing a string that is not
// throws (JSON bodies are checked by simdjson; query strings, form fields, YAML and archive names are not).
bool valid_utf8(std::string_view text);

// {"code": code, "message": message, "data": data, <extra members>} with null values omitted.
Json envelope(int code, const std::string& message, Json data = nullptr, Json extra = Json::object());
std::string envelope_text(int code, const std::string& message, Json data = nullptr,
                          Json extra = Json::object());

}  // namespace flowstone::net
