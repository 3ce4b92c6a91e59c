// JSON at the wire: simdjson DOM -> Json (nlohmann::ordered_json), and the response envelope.
#include "net/json_io.hpp"

#include <simdjson.h>

#include <cstdint>
#include <utility>

namespace flowstone::net {
namespace {

// Documents larger than this are parsed with a parser of their own, so that the thread's parser does
// not keep a huge buffer allocated after one big request.
constexpr size_t kLargeDocument = size_t{8} << 20;

Json convert(simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::ARRAY: {
      Json out = Json::array();
      simdjson::dom::array array;
      if (!element.get_array().get(array)) {
        for (simdjson::dom::element child : array) out.push_back(convert(child));
      }
      return out;
    }
    case simdjson::dom::element_type::OBJECT: {
      Json out = Json::object();
      simdjson::dom::object object;
      if (!element.get_object().get(object)) {
        // operator[] on an existing key overwrites the value in place: the last duplicate wins and
        // the key keeps its first position.
        for (simdjson::dom::key_value_pair field : object) out[std::string(field.key)] = convert(field.value);
      }
      return out;
    }
    case simdjson::dom::element_type::INT64: {
      int64_t value = 0;
      if (element.get_int64().get(value)) break;
      return Json(value);
    }
    case simdjson::dom::element_type::UINT64: {
      uint64_t value = 0;
      if (element.get_uint64().get(value)) break;
      return Json(value);
    }
    case simdjson::dom::element_type::DOUBLE: {
      double value = 0;
      if (element.get_double().get(value)) break;
      return Json(value);
    }
    case simdjson::dom::element_type::STRING: {
      std::string_view value;
      if (element.get_string().get(value)) break;
      return Json(std::string(value));
    }
    case simdjson::dom::element_type::BOOL: {
      bool value = false;
      if (element.get_bool().get(value)) break;
      return Json(value);
    }
    case simdjson::dom::element_type::NULL_VALUE:
      break;
  }
  return Json(nullptr);
}

// A SAX consumer that only records where nlohmann's parser gives up: used on the error path to give
// the byte offset that simdjson's DOM parser does not report.
class ErrorLocator : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) override {
    failed = true;
    byte = position > 0 ? position - 1 : 0;  // nlohmann counts from 1; report a 0-based offset
    return false;
  }

  bool failed = false;
  size_t byte = 0;
};

bool blank(std::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

std::optional<Json> parse_with(simdjson::dom::parser& parser, std::string_view text, std::string* error) {
  simdjson::padded_string padded(text.data(), text.size());
  simdjson::dom::element root;
  simdjson::error_code code = parser.parse(padded).get(root);
  if (!code) return convert(root);

  if (code == simdjson::NUMBER_ERROR) {
    // simdjson 3.0 refuses integers beyond 64 bits (and overflowing floats); the spec wants such
    // integers as doubles, which nlohmann does. Slow path, taken only for these documents.
    Json out = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (!out.is_discarded()) return out;
  }
  if (error) {
    ErrorLocator locator;
    bool accepted = Json::sax_parse(text.begin(), text.end(), &locator);
    std::string message = simdjson::error_message(code);
    if (!accepted && locator.failed) {
      *error = "invalid JSON at byte " + std::to_string(locator.byte) + ": " + message;
    } else {
      *error = "invalid JSON: " + message;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<Json> parse_json(std::string_view text, std::string* error) {
  if (blank(text)) {
    if (error) *error = "empty body";
    return std::nullopt;
  }
  if (text.size() > kLargeDocument) {
    simdjson::dom::parser parser;
    return parse_with(parser, text, error);
  }
  thread_local simdjson::dom::parser parser;
  return parse_with(parser, text, error);
}

Json envelope(int code, const std::string& message, Json data, Json extra) {
  Json out = Json::object();
  out["code"] = code;
  out["message"] = message;
  if (!data.is_null()) out["data"] = std::move(data);
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) {
      if (it.value().is_null()) continue;
      out[it.key()] = std::move(it.value());
    }
  }
  return out;
}

std::string envelope_text(int code, const std::string& message, Json data, Json extra) {
  return envelope(code, message, std::move(data), std::move(extra))
      .dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

bool valid_utf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

}  // namespace flowstone::net
