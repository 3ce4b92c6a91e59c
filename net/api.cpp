#include "net/api.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "events/common/ids.hpp"
#include "net/json_io.hpp"

namespace flowstone::net {
namespace {

enum class Kind { str, integer, object, list, any };

struct Field {
  const char* name;
  Kind kind;
  bool required;
};

struct Route {
  const char* method;
  const char* path;  // under /v2/
  std::vector<Field> fields;
};

std::vector<Field> JobFields(std::vector<Field> more) {
  std::vector<Field> fields = {
      {"job_id", Kind::str, true}, {"role", Kind::str, true}, {"party_id", Kind::str, true}};
  fields.insert(fields.end(), more.begin(), more.end());
  return fields;
}

std::vector<Field> TaskFields(std::vector<Field> more) {
  std::vector<Field> fields =
      JobFields({{"task_id", Kind::str, true}, {"task_version", Kind::integer, true}});
  fields.insert(fields.end(), more.begin(), more.end());
  return fields;
}

std::vector<Field> OutputFields() {
  return JobFields({{"task_name", Kind::str, true}});
}

// Fields are listed where FATE-Flow validates them; others pass through untouched.
const std::vector<Route>& routes() {
  static const std::vector<Route> table = {
      {"POST", "job/submit", {{"dag_schema", Kind::object, true}}},
      {"GET",
       "job/query",
       {{"job_id", Kind::str, false},
        {"role", Kind::str, false},
        {"party_id", Kind::str, false},
        {"status", Kind::str, false}}},
      {"GET", "job/list/query", {{"limit", Kind::integer, false}, {"page", Kind::integer, false}}},
      {"POST", "job/stop", {{"job_id", Kind::str, true}}},
      {"POST", "job/rerun", {{"job_id", Kind::str, true}}},
      {"GET", "job/task/query", {{"task_version", Kind::integer, false}}},
      {"GET", "job/task/list/query", {{"limit", Kind::integer, false}, {"page", Kind::integer, false}}},
      {"GET",
       "job/dag/dependency",
       {{"job_id", Kind::str, true}, {"role", Kind::str, true}, {"party_id", Kind::str, true}}},
      {"POST",
       "job/notes/add",
       {{"job_id", Kind::str, true},
        {"role", Kind::str, true},
        {"party_id", Kind::str, true},
        {"notes", Kind::str, true}}},
      {"POST",
       "worker/task/status",
       {{"execution_id", Kind::str, true}, {"status", Kind::str, true}, {"error", Kind::any, false}}},
      {"GET", "site/info/query", {}},
      {"GET", "server/fateflow", {}},
      // The server registry (spec 1.6): other servers by name, and their services.
      {"GET", "server/query/all", {}},
      {"GET", "server/query", {{"server_name", Kind::str, true}}},
      {"POST",
       "server/registry",
       {{"server_name", Kind::str, true},
        {"host", Kind::str, true},
        {"port", Kind::integer, true},
        {"protocol", Kind::str, false}}},
      {"POST", "server/delete", {{"server_name", Kind::str, true}}},
      {"GET", "server/service/query", {{"server_name", Kind::str, true}, {"service_name", Kind::str, true}}},
      {"POST",
       "server/service/registry",
       {{"server_name", Kind::str, true},
        {"service_name", Kind::str, true},
        {"uri", Kind::str, true},
        {"method", Kind::str, false},
        {"params", Kind::object, false},
        {"data", Kind::object, false},
        {"headers", Kind::object, false},
        {"protocol", Kind::str, false}}},
      {"POST",
       "server/service/delete",
       {{"server_name", Kind::str, true}, {"service_name", Kind::str, true}}},
      // Worker routes (spec 1.9); worker/metric/save/<execution_id> arrives here with the id as a field.
      {"POST", "worker/metric/save", {{"execution_id", Kind::str, true}, {"data", Kind::any, false}}},
      {"POST",
       "worker/data/tracking/save",
       {{"execution_id", Kind::str, true},
        {"meta_data", Kind::object, true},
        {"uri", Kind::str, true},
        {"output_key", Kind::str, true},
        {"namespace", Kind::str, true},
        {"name", Kind::str, true},
        {"overview", Kind::object, true},
        {"partitions", Kind::integer, false},
        {"source", Kind::object, true},
        {"data_type", Kind::str, true},
        {"index", Kind::integer, true}}},
      {"GET", "worker/data/tracking/query", {}},
      {"POST",
       "worker/model/save",
       {{"model_id", Kind::str, true},
        {"model_version", Kind::str, true},
        {"execution_id", Kind::str, true},
        {"output_key", Kind::str, true},
        {"type_name", Kind::str, true}}},
      {"GET",
       "worker/model/download",
       {{"model_id", Kind::str, true},
        {"model_version", Kind::str, true},
        {"role", Kind::str, true},
        {"party_id", Kind::str, true},
        {"task_name", Kind::str, true},
        {"output_key", Kind::str, true}}},
      // Flowstone's relay between the parties of one federated task run (apps/components/psi.cpp uses it).
      {"POST",
       "worker/relay/send",
       {{"execution_id", Kind::str, true},
        {"dest_role", Kind::str, true},
        {"dest_party_id", Kind::str, true},
        {"key", Kind::str, true},
        {"payload", Kind::any, false}}},
      {"GET",
       "worker/relay/receive",
       {{"execution_id", Kind::str, true},
        {"src_role", Kind::str, true},
        {"src_party_id", Kind::str, true},
        {"key", Kind::str, true}}},
      {"POST",
       "partner/relay/receive",
       {{"job_id", Kind::str, true},
        {"federation_id", Kind::str, true},
        {"src_role", Kind::str, true},
        {"src_party_id", Kind::str, true},
        {"dest_role", Kind::str, true},
        {"dest_party_id", Kind::str, true},
        {"key", Kind::str, true},
        {"payload", Kind::any, false}}},
      // Outputs (spec 1.6): the task is the latest version of job_id/role/party_id/task_name.
      {"GET", "output/metric/key/query", OutputFields()},
      {"GET", "output/metric/query", OutputFields()},
      {"POST", "output/metric/delete", OutputFields()},
      {"GET", "output/model/query", OutputFields()},
      {"GET", "output/model/download", OutputFields()},
      {"POST", "output/model/delete", OutputFields()},
      {"GET", "output/data/download", OutputFields()},
      {"GET", "output/data/table", OutputFields()},
      {"GET", "output/data/display", OutputFields()},
      {"GET", "log/count", {{"log_type", Kind::str, true}, {"job_id", Kind::str, true}}},
      {"GET",
       "log/query",
       {{"log_type", Kind::str, true},
        {"job_id", Kind::str, true},
        {"role", Kind::str, true},
        {"party_id", Kind::str, true},
        {"begin", Kind::integer, false},
        {"end", Kind::integer, false}}},
      {"POST", "job/log/download", {{"job_id", Kind::str, true}}},
      {"GET", "job/data/view", JobFields({})},
      {"POST",
       "model/export",
       {{"model_id", Kind::str, true},
        {"model_version", Kind::str, true},
        {"party_id", Kind::str, true},
        {"role", Kind::str, true},
        {"path", Kind::str, true}}},
      {"POST", "model/import", {{"model_id", Kind::str, true}, {"model_version", Kind::str, true}}},
      {"POST", "model/delete", {{"model_id", Kind::str, true}, {"model_version", Kind::str, true}}},
      {"POST",
       "data/component/upload",
       {{"file", Kind::str, true},
        {"head", Kind::any, true},
        {"partitions", Kind::integer, true},
        {"meta", Kind::object, true},
        {"namespace", Kind::str, false},
        {"name", Kind::str, false}}},
      {"POST",
       "data/component/upload/file",
       {{"head", Kind::any, true},
        {"partitions", Kind::integer, true},
        {"meta", Kind::any, true},
        {"namespace", Kind::str, false},
        {"name", Kind::str, false}}},
      {"POST",
       "data/component/dataframe/transformer",
       {{"data_warehouse", Kind::object, true},
        {"namespace", Kind::str, true},
        {"name", Kind::str, true},
        {"drop", Kind::any, false}}},
      {"GET", "data/download", {{"name", Kind::str, true}, {"namespace", Kind::str, true}}},
      {"POST",
       "data/component/download",
       {{"name", Kind::str, true}, {"namespace", Kind::str, true}, {"path", Kind::str, false}}},
      {"GET", "table/query", {{"namespace", Kind::str, true}, {"name", Kind::str, true}}},
      {"POST", "table/delete", {{"namespace", Kind::str, true}, {"name", Kind::str, true}}},
      {"POST",
       "table/bind/path",
       {{"namespace", Kind::str, true}, {"name", Kind::str, true}, {"path", Kind::str, true}}},
      {"POST",
       "provider/register",
       {{"name", Kind::str, true},
        {"device", Kind::str, true},
        {"version", Kind::str, true},
        {"metadata", Kind::object, true},
        {"protocol", Kind::str, false},
        {"components_description", Kind::any, false}}},
      {"GET", "provider/query", {}},
      {"POST", "provider/delete", {}},
      {"GET", "job/history/query", {{"job_id", Kind::str, true}}},  // Flowstone: a job's audit history
      {"POST", "job/queue/clean", {}},
      {"POST", "job/clean", {{"job_id", Kind::str, true}}},
      // Scheduler routes (spec 1.7).
      {"POST", "scheduler/job/create", {{"dag", Kind::object, true}, {"schema_version", Kind::str, true}}},
      {"POST", "scheduler/task/report",
       TaskFields({{"status", Kind::str, false}, {"error", Kind::any, false}})},
      {"POST", "scheduler/job/stop", {{"job_id", Kind::str, true}, {"stop_status", Kind::str, false}}},
      {"POST", "scheduler/job/rerun", {{"job_id", Kind::str, true}}},
      // Partner routes (spec 1.8): every body names the job copy; task routes name the run too.
      {"POST", "partner/job/create",
       JobFields({{"dag", Kind::object, true}, {"schema_version", Kind::str, true}})},
      {"POST", "partner/job/start", JobFields({{"extra_info", Kind::any, false}})},
      {"POST", "partner/job/status/update", JobFields({{"status", Kind::str, true}})},
      {"POST", "partner/job/update", JobFields({{"progress", Kind::any, false}})},
      {"POST", "partner/job/resource/apply", JobFields({})},
      {"POST", "partner/job/resource/return", JobFields({})},
      {"POST", "partner/job/stop", JobFields({{"stop_status", Kind::str, false}})},
      {"POST", "partner/task/resource/apply", TaskFields({})},
      {"POST", "partner/task/resource/return", TaskFields({})},
      {"POST", "partner/task/start", TaskFields({})},
      {"POST", "partner/task/collect", TaskFields({})},
      {"POST", "partner/task/status/update", TaskFields({{"status", Kind::str, true}})},
      {"POST", "partner/task/stop", TaskFields({{"status", Kind::str, false}})},
      {"POST", "partner/task/rerun", TaskFields({{"new_version", Kind::integer, true}})},
  };
  return table;
}

const char* kind_problem(Kind kind) {
  switch (kind) {
    case Kind::str:
      return "Not a valid string.";
    case Kind::integer:
      return "Not a valid integer.";
    case Kind::object:
      return "Not a valid mapping type.";
    case Kind::list:
      return "Not a valid list.";
    case Kind::any:
      break;
  }
  return "Invalid value.";
}

// Query strings carry text; integers are converted the way webargs does, strings stay strings.
bool coerce(Json& value, Kind kind, bool from_query) {
  switch (kind) {
    case Kind::str:
      if (value.is_number_integer() && !from_query) return false;
      return value.is_string();
    case Kind::integer:
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
    case Kind::object:
      return value.is_object();
    case Kind::list:
      return value.is_array();
    case Kind::any:
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
  if (reply.raw) return *reply.raw;
  HttpResponse response;
  response.body = envelope_text(to_int(reply.code), reply.message, reply.data, reply.extra);
  return response;
}

HttpResponse error_response(RetCode code, const std::string& message) {
  HttpResponse response;
  response.body = envelope_text(to_int(code), message);
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

Handler make_api_handler(Dispatch dispatch) {
  return [dispatch = std::move(dispatch)](HttpRequest&& http, Responder respond) {
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
    bool path_known = false;
    for (const Route& r : routes()) {
      if (name != r.path) continue;
      path_known = true;
      if (http.method == r.method) route = &r;
    }
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
      if (part.filename.find('\0') != std::string::npos || part.filename.find("..") != std::string::npos) {
        respond(to_http(invalid_request("files", field, "the file name must not contain a NUL or '..'.")));
        return;
      }

    dispatch(std::move(request), [respond = std::move(respond)](ApiReply reply) { respond(to_http(reply)); });
  };
}

}  // namespace flowstone::net
