// The Open Flow API edge: FATE-Flow 2.x routes (/v2/<page>/<rule>) over HttpServer. It checks each
// route's method and required fields (webargs' rules: code 5001 "Invalid request." with the field
// messages), merges query string and JSON body into one parameter object, and hands an ApiRequest to
// the route's answer. Replies become the {code, message, data} envelope with HTTP 200, or a raw
// response for the routes that answer without one. Unknown routes and malformed JSON get an envelope
// with a non-zero code, never an HTML page.
//
// Thread rules: runs on I/O threads; a route's answer must not block and may answer from any thread.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events/common/json.hpp"
#include "events/common/ret_code.hpp"
#include "net/http_server.hpp"
#include "net/multipart.hpp"

namespace flowstone::net {

struct ApiRequest {
  std::string route;             // e.g. "job/submit", "worker/task/status"
  Json params = Json::object();  // query parameters and JSON body (or form text) members, body wins
  std::map<std::string, std::string> headers;
  std::map<std::string, FormPart> files;  // the file parts of a multipart/form-data body
  std::string remote_address;             // the caller's IP address ("" if unknown)
  bool tls = false;                       // arrived over TLS
  std::string peer_certificate;           // subject of the caller's verified TLS client certificate, or ""

  // True when the caller is on this machine (127.0.0.0/8 or ::1).
  bool from_loopback() const;
};

struct ApiReply {
  RetCode code = RetCode::success;
  std::string message = "success";
  Json data = nullptr;
  Json extra = Json::object();      // top-level members next to code/message/data (e.g. job_id)
  std::optional<HttpResponse> raw;  // answered as is, without the envelope
};

using ApiCallback = std::function<void(ApiReply)>;

// A field the edge checks before any handler sees the request (webargs' rules as FATE-Flow declares them).
enum class FieldKind { str, integer, object, list, any };
struct Field {
  const char* name;
  FieldKind kind;
  bool required;
};

// One route: its method, path under /v2/, the fields FATE-Flow validates (others pass through untouched),
// and who answers it. Declared once, in the backend's route table (actors/api_routes.cpp).
struct Route {
  const char* method;
  const char* path;
  std::vector<Field> fields;
  std::function<void(ApiRequest, ApiCallback)> answer;
  // Who may call at all (authentication, transport, rate), asked before the body is parsed or any field
  // checked, as FATE-Flow's before_request hook is: a refusal is the reply. Empty: everyone.
  std::function<std::optional<ApiReply>(const ApiRequest&)> admit;
};

// Told of every answer: the route's path under /v2/ ("unknown" when there is none), the envelope's code and
// the seconds from the request's arrival to its answer. On the answering thread; must be quick.
using ApiObserver = std::function<void(const char* route, int code, double seconds)>;

Handler make_api_handler(std::vector<Route> routes, ApiObserver observe = nullptr);

// A reply with code, message and data.
ApiReply reply(RetCode code, std::string message, Json data = nullptr);

// A parameter as text ("" when absent or null; non-strings as their JSON text).
std::string param(const Json& params, const char* name);

// The FATE-Flow error reply of a request whose fields failed validation.
ApiReply invalid_request(const std::string& location, const std::string& field, const std::string& problem);

}  // namespace flowstone::net
