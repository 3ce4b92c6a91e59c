// libFuzzer target: the HTTP request path. Raw bytes are parsed as one HTTP/1.1 request the way a server
// session parses them (net::parse_request: request line, target and query decoding, headers, body limit),
// then handed to the API edge (net::make_api_handler) with routes shaped like the real table: JSON bodies,
// multipart forms, query strings, typed fields and the id rules all run. The answer must be an envelope.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/api.hpp"
#include "net/http_server.hpp"
#include "net/json_io.hpp"

namespace {

using flowstone::net::Field;
using flowstone::net::FieldKind;

flowstone::net::Handler& edge() {
  static flowstone::net::Handler handler = [] {
    auto answer = [](flowstone::net::ApiRequest request, flowstone::net::ApiCallback reply) {
      reply(flowstone::net::reply(flowstone::RetCode::success, "success", request.params));
    };
    const std::vector<Field> job = {
        {"job_id", FieldKind::str, true}, {"role", FieldKind::str, true}, {"party_id", FieldKind::str, true}};
    std::vector<Field> task = job;
    task.push_back({"task_id", FieldKind::str, true});
    task.push_back({"task_version", FieldKind::integer, true});
    std::vector<flowstone::net::Route> routes = {
        {"POST", "job/submit", {{"dag_schema", FieldKind::object, true}}, answer, nullptr},
        {"GET",
         "job/query",
         {{"job_id", FieldKind::str, false}, {"status", FieldKind::str, false}},
         answer,
         nullptr},
        {"GET",
         "job/list/query",
         {{"limit", FieldKind::integer, false}, {"page", FieldKind::integer, false}},
         answer,
         nullptr},
        {"POST", "partner/job/create", job, answer, nullptr},
        {"POST", "partner/task/status/update", task, answer, nullptr},
        {"POST",
         "worker/metric/save",
         {{"execution_id", FieldKind::str, true}, {"data", FieldKind::any, false}},
         answer,
         nullptr},
        {"POST",
         "data/component/upload/file",
         {{"head", FieldKind::any, true},
          {"partitions", FieldKind::integer, true},
          {"meta", FieldKind::any, true}},
         answer,
         nullptr},
        {"POST",
         "model/export",
         {{"path", FieldKind::str, true}, {"model_id", FieldKind::str, true}},
         answer,
         nullptr},
    };
    return flowstone::net::make_api_handler(std::move(routes));
  }();
  return handler;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  flowstone::net::HttpRequest request;
  std::string error;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!flowstone::net::parse_request(bytes, 1 << 20, &request, &error)) return 0;
  bool answered = false;
  edge()(std::move(request), [&](flowstone::net::HttpResponse response) {
    answered = true;
    if (response.content_type == "application/json") {
      std::string parse_error;
      auto envelope = flowstone::net::parse_json(response.body, &parse_error);
      if (!envelope || !envelope->is_object() || !envelope->contains("code")) std::abort();
    }
  });
  if (!answered) std::abort();  // every request gets exactly one answer
  return 0;
}
