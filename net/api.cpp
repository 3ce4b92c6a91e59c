#include "net/api.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <unordered_map>
#include <vector>

#include "events/common/ids.hpp"
#include "net/json_io.hpp"

namespace flowstone::net {
namespace {

const char* kind_problem(FieldKind kind) {
  switch (kind) {
    case FieldKind::str:
      return "Not a valid string.";
    case FieldKind::integer:
      return "Not a valid integer.";
    case FieldKind::object:
      return "Not a valid mapping type.";
    case FieldKind::list:
      return "Not a valid list.";
    case FieldKind::any:
      break;
  }
  return "Invalid value.";
}

// Query strings carry text; integers are converted the way webargs does, strings stay strings.
bool coerce(Json& value, FieldKind kind, bool from_query) {
  switch (kind) {
    case FieldKind::str:
      if (value.is_number_integer() && !from_query) return false;
      return value.is_string();
    case FieldKind::integer:
      if (value.is_number_integer()) return true;
      if (value.is_string()) {
        const std::string& s = value.get_ref<const std::string&>();
        char* end = nullptr;
        long long v = std::strtoll(s.c_str(), &end, 10);
        if (s.empty() || *end != '\0') return false;
        value = v;
        return true;
      }
      return false;
    case FieldKind::object:
      return value.is_object();
    case FieldKind::list:
      return value.is_array();
    case FieldKind::any:
      return true;
  }
  return false;
}

// A refused value as the error message shows it: control characters (a NUL) as \xNN, at most 80 bytes.
std::string printable(const std::string& value) {
  std::string out;
  for (char c : value.substr(0, 80)) {
    if (static_cast<unsigned char>(c) < 0x20) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
      out += hex;
    } else {
      out += c;
    }
  }
  return value.size() > 80 ? out + "..." : out;
}

HttpResponse to_http(const ApiReply& reply) {
  HttpResponse response;
  if (reply.raw) {
    response = *reply.raw;
  } else {
    response.body = envelope_text(to_int(reply.code), reply.message, reply.data, reply.extra);
  }
  response.code = to_int(reply.code);
  return response;
}

HttpResponse error_response(RetCode code, const std::string& message) {
  HttpResponse response;
  response.body = envelope_text(to_int(code), message);
  response.code = to_int(code);
  return response;
}

}  // namespace

bool ApiRequest::from_loopback() const {
  return remote_address.rfind("127.", 0) == 0 || remote_address == "::1" ||
         remote_address.rfind("::ffff:127.", 0) == 0;
}

ApiReply reply(RetCode code, std::string message, Json data) {
  ApiReply r;
  r.code = code;
  r.message = std::move(message);
  r.data = std::move(data);
  return r;
}

std::string param(const Json& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

ApiReply invalid_request(const std::string& location, const std::string& field, const std::string& problem) {
  ApiReply reply;
  reply.code = RetCode::invalid_parameter;
  reply.message = "Invalid request.";
  reply.data = Json{{location, {{field, Json::array({problem})}}}};
  return reply;
}

Handler make_api_handler(std::vector<Route> table, ApiObserver observe) {
  // Routes by path; a path may have a route per method.
  auto routes = std::make_shared<std::unordered_map<std::string, std::vector<Route>>>();
  for (Route& route : table) (*routes)[route.path].push_back(std::move(route));
  return [routes, observe](HttpRequest&& http, Responder respond) {
    // The route's name once it is known ("unknown" for paths that are none), for the observer.
    auto observed_route = std::make_shared<const char*>("unknown");
    if (observe)
      respond = [respond = std::move(respond), observe, observed_route,
                 start = std::chrono::steady_clock::now()](HttpResponse response) {
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        observe(*observed_route, response.code, took.count());
        respond(std::move(response));
      };
    std::string path = http.path;
    if (path.rfind("/v2/", 0) != 0) {
      respond(error_response(RetCode::server_not_found, "No found route: " + http.method + " " + path));
      return;
    }
    std::string name = path.substr(4);
    std::string path_execution_id;  // worker/metric/save/<execution_id>: the metric URI handed to components
    if (const std::string prefix = "worker/metric/save/";
        name.rfind(prefix, 0) == 0 && name.size() > prefix.size()) {
      path_execution_id = name.substr(prefix.size());
      name = "worker/metric/save";
    }
    const Route* route = nullptr;
    auto same_path = routes->find(name);
    const bool path_known = same_path != routes->end();
    if (path_known)
      for (const Route& r : same_path->second)
        if (http.method == r.method) route = &r;
    if (route) *observed_route = route->path;
    if (!route) {
      respond(error_response(
          path_known ? RetCode::server_exception : RetCode::server_not_found,
          (path_known ? "Method not allowed: " : "No found route: ") + http.method + " " + path));
      return;
    }

    ApiRequest request;
    request.route = name;
    request.headers = http.headers;
    request.remote_address = http.remote_address;
    request.tls = http.tls;
    request.peer_certificate = http.peer_certificate;
    if (route->admit)
      if (std::optional<ApiReply> refused = route->admit(request)) {
        respond(to_http(*refused));
        return;
      }
    for (const auto& [key, value] : http.query) request.params[key] = value;
    bool has_body = http.body.find_first_not_of(" \t\r\n") != std::string::npos;
    const std::string* content_type = http.header("content-type");
    bool form = content_type && content_type->find("multipart/form-data") != std::string::npos;
    if (http.method == "POST" && form) {
      Form parsed;
      if (std::string error = parse_multipart(*content_type, http.body, &parsed); !error.empty()) {
        respond(error_response(RetCode::invalid_parameter, "Invalid request: " + error));
        return;
      }
      for (auto& [key, value] : parsed.fields) request.params[key] = value;
      request.files = std::move(parsed.files);
    } else if (http.method == "POST" && has_body) {
      std::string error;
      auto body = parse_json(http.body, &error);
      if (!body) {
        respond(
            error_response(RetCode::invalid_parameter, "Invalid request: body is not JSON (" + error + ")"));
        return;
      }
      if (!body->is_object()) {
        respond(error_response(RetCode::invalid_parameter, "Invalid request: body must be a JSON object"));
        return;
      }
      for (auto& [key, value] : body->items()) request.params[key] = value;
    }

    if (!path_execution_id.empty()) request.params["execution_id"] = path_execution_id;
    // Query strings, form fields and headers are bytes; whatever becomes a Json string must be UTF-8.
    for (const auto& [name, value] : request.headers)
      if (!valid_utf8(name) || !valid_utf8(value)) {
        respond(to_http(invalid_request("headers", valid_utf8(name) ? name : "?", "Not valid UTF-8.")));
        return;
      }
    for (const auto& [name, value] : request.params.items())
      if (!valid_utf8(name) || (value.is_string() && !valid_utf8(value.get_ref<const std::string&>()))) {
        respond(to_http(invalid_request(http.method == "GET" ? "query" : "form",
                                        valid_utf8(name) ? name : "?", "Not valid UTF-8.")));
        return;
      }
    const std::string location = http.method == "GET" ? "query" : (form ? "form" : "json");
    for (const Field& field : route->fields) {
      auto it = request.params.find(field.name);
      if (it == request.params.end() || it->is_null()) {
        if (field.required) {
          respond(to_http(invalid_request(location, field.name, "Missing data for required field.")));
          return;
        }
        if (it != request.params.end()) request.params.erase(it);
        continue;
      }
      if (!coerce(*it, field.kind, http.method == "GET" || form)) {
        respond(to_http(invalid_request(location, field.name, kind_problem(field.kind))));
        return;
      }
    }

    // One rule for every parameter that may become part of a path (events/ids.hpp), before any handler.
    for (auto it = request.params.begin(); it != request.params.end();) {
      if (!it->is_string()) {
        ++it;
        continue;
      }
      const std::string& value = it->get_ref<const std::string&>();
      const bool required = std::any_of(route->fields.begin(), route->fields.end(),
                                        [&](const Field& f) { return f.required && it.key() == f.name; });
      if (value.empty() && !required && domain::path_id_kind(it.key())) {
        it = request.params.erase(it);  // an optional id sent empty is an id not sent
        continue;
      }
      // A GET's `path` is the flow CLI's own output folder (-o), which the server never opens.
      const bool clients_folder = http.method == "GET" && it.key() == "path";
      if (std::string problem = domain::param_problem(it.key(), value, clients_folder); !problem.empty()) {
        respond(to_http(invalid_request(location, it.key(), "'" + printable(value) + "' " + problem + ".")));
        return;
      }
      ++it;
    }
    for (const auto& [field, part] : request.files)
      if (part.filename.find('\0') != std::string::npos || part.filename.find("..") != std::string::npos ||
          !valid_utf8(part.filename)) {
        respond(
            to_http(invalid_request("files", field, "the file name must be UTF-8 without a NUL or '..'.")));
        return;
      }

    route->answer(std::move(request),
                  [respond = std::move(respond)](ApiReply reply) { respond(to_http(reply)); });
  };
}

}  // namespace flowstone::net
