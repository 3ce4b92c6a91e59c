#include "net/yaml_json.hpp"

#include <yaml-cpp/yaml.h>

#include <regex>
#include <stdexcept>

#include "net/json_io.hpp"

namespace flowstone::net {
namespace {

// Text that is not UTF-8 could not be written back as JSON: the document is refused.
const std::string& utf8(const std::string& text) {
  if (!valid_utf8(text)) throw std::runtime_error("a scalar or key is not UTF-8");
  return text;
}

Json scalar(const YAML::Node& node) {
  const std::string& text = utf8(node.Scalar());
  if (node.Tag() == "!") return text;  // quoted: always a string
  static const std::regex null_re("^(~|null|Null|NULL|)$");
  static const std::regex true_re("^(true|True|TRUE)$");
  static const std::regex false_re("^(false|False|FALSE)$");
  static const std::regex int_re("^[-+]?[0-9]+$");
  static const std::regex float_re("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$");
  if (std::regex_match(text, null_re)) return nullptr;
  if (std::regex_match(text, true_re)) return true;
  if (std::regex_match(text, false_re)) return false;
  try {
    if (std::regex_match(text, int_re)) return std::stoll(text);
    if (std::regex_match(text, float_re)) return std::stod(text);
  } catch (const std::out_of_range&) {
  }
  return text;
}

Json convert(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar(node);
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(convert(item));
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& entry : node) out[utf8(entry.first.as<std::string>())] = convert(entry.second);
      return out;
    }
  }
  return nullptr;
}

}  // namespace

std::string load_yaml_or_json(const std::string& path, Json* out) {
  try {
    *out = convert(YAML::LoadFile(path));
    return "";
  } catch (const std::exception& e) {
    return "cannot read " + path + ": " + e.what();
  }
}

std::string parse_yaml_or_json(const std::string& text, Json* out) {
  try {
    *out = convert(YAML::Load(text));
    return "";
  } catch (const std::exception& e) {
    return std::string("not YAML or JSON: ") + e.what();
  }
}

}  // namespace flowstone::net
