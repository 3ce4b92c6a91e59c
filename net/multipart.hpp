// multipart/form-data (RFC 7578), the form FATE-Flow's file routes take: `worker/model/save` (a model
// tar), `model/import` (a zip), `data/component/upload/file` (a CSV). Parsing for the server, building
// for the workers and the CLI. Thread-safe: no shared state.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace flowstone::net {

struct FormPart {
  std::string name;      // the form field
  std::string filename;  // set for a file part
  std::string content_type;
  std::string data;
};

struct Form {
  std::map<std::string, std::string> fields;  // text parts
  std::map<std::string, FormPart> files;      // parts with a filename, by field name
};

// Parses a body whose Content-Type is `content_type`. Returns an error message, empty on success.
std::string parse_multipart(const std::string& content_type, const std::string& body, Form* out);

// Builds a body; sets `content_type` to the multipart type with its boundary.
std::string build_multipart(const std::vector<FormPart>& parts, std::string* content_type);

}  // namespace flowstone::net
