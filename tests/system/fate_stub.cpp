#include "tests/system/fate_stub.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "net/http_client.hpp"

namespace flowstone::systest {

namespace fs = std::filesystem;

const char kRecordedJobId[] = "202611212306158222940";

std::string recording_path() {
  if (const char* env = std::getenv("FLOWSTONE_INTEROP_JSONL")) return env;
  const std::string in_tree =
      std::string(FLOWSTONE_SOURCE_DIR) + "/tests/system/data/interop-bodies-callback.jsonl";
  std::error_code ec;
  if (fs::exists(in_tree, ec)) return in_tree;
  return "/work/shared/reference/interop-bodies-callback.jsonl";
}

// Every recorded request, in `seq` order (the file is in completion order).
std::vector<Recorded> load_recording(std::string* error) {
  std::vector<Recorded> out;
  const std::string path = recording_path();
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read the recording " + path;
    return out;
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      *error = "not JSON in " + path + ": " + line.substr(0, 80);
      return {};
    }
    out.push_back(Recorded{j.value("seq", 0), j.value("dest_party_id", ""), j.value("path", ""), j["headers"],
                           j["request"], j["response"]});
  }
  std::sort(out.begin(), out.end(), [](const Recorded& a, const Recorded& b) { return a.seq < b.seq; });
  return out;
}

std::string route_of(const std::string& path) {
  return path.rfind("/v2/", 0) == 0 ? path.substr(4) : path;
}

// The recorded job id replaced by `job_id` everywhere (job_id, task ids, model_id).
Json with_job_id(const Json& value, const std::string& job_id) {
  std::string text = value.dump();
  const std::string from = kRecordedJobId;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + job_id.size()))
    text.replace(at, from.size(), job_id);
  return Json::parse(text);
}

// A job id of this test process: the recorded one with its last digits changed.
std::string fresh_job_id(int test) {
  std::string id = kRecordedJobId;
  std::string tail = std::to_string(100000 + ::getpid() % 100000) + std::to_string(test);
  return id.substr(0, id.size() - tail.size()) + tail;
}

// Headers of a recorded request as FATE-Flow sent them (dest-party-id, service, initiator-party-id).
Headers fate_headers(const Recorded& r) {
  Headers h;
  for (const char* name : {"dest-party-id", "service", "initiator-party-id"})
    if (r.headers.contains(name)) h[name] = r.headers[name].get<std::string>();
  return h;
}

bool is_host_report(const Recorded& r) {
  return r.path == "/v2/scheduler/task/report" && r.request.value("role", "") == "host";
}

// ---- the stub site ------------------------------------------------------------------------------------

Json success() {
  return Json{{"code", 0}, {"message", "success"}};
}

// FATE-Flow's scheduler (guest 9999) as the host sees it: every report is taken, except a repeated
// (task, version, status), which gets 2002 as recorded.
StubSite::Answer fate_scheduler() {
  auto seen = std::make_shared<std::set<std::string>>();
  return [seen](const Received& r, StubSite& stub) -> Json {
    if (r.path != "/v2/scheduler/task/report") return success();
    const Json& b = r.body;
    std::string key = b.value("task_id", "") + "/" + b.value("task_version", Json(0)).dump() + "/" +
                      b.value("role", "") + "/" + b.value("party_id", "") + "/" + b.value("status", "");
    // The handler runs on two I/O threads: the set is only touched under the stub's lock.
    if (!stub.locked([&] { return seen->insert(key).second; }))
      return Json{{"code", 2002},
                  {"message", "Update task status does not take effect: job_id[" + b.value("job_id", "") +
                                  "],role[" + b.value("role", "") + "],party_id[" + b.value("party_id", "") +
                                  "],task_id[" + b.value("task_id", "") + "],task_version[" +
                                  b.value("task_version", Json(0)).dump() + "],status[False]"}};
    return success();
  };
}

std::vector<Received> reports(const StubSite& stub) {
  std::vector<Received> out;
  for (auto& r : stub.received())
    if (r.path == "/v2/scheduler/task/report") out.push_back(r);
  return out;
}

// Statuses the stub got reported for a task, in arrival order.
std::vector<std::string> reported(const StubSite& stub, const std::string& task_id) {
  std::vector<std::string> out;
  for (const auto& r : reports(stub))
    if (r.body.value("task_id", "") == task_id) out.push_back(r.body.value("status", ""));
  return out;
}

bool has_report(const StubSite& stub, const std::string& task_id, const std::string& status) {
  auto statuses = reported(stub, task_id);
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

std::string header(const Received& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "<absent>" : it->second;
}

std::string describe(const std::vector<Received>& requests) {
  std::string out;
  for (const auto& r : requests) out += "\n  " + r.method + " " + r.path + " " + r.body.dump();
  return out;
}

// Live processes of the server's folder other than the server itself (launchers, workers).
std::vector<pid_t> task_processes(const PartyServer& server) {
  std::vector<pid_t> out = processes_mentioning(server.dir());
  out.erase(std::remove(out.begin(), out.end(), server.pid()), out.end());
  return out;
}

// ---- fixture ------------------------------------------------------------------------------------------

int post_fate_report(uint16_t port, const Json& call, const std::string& status) {
  Json body{{"job_id", call["job_id"]},
            {"role", call["role"]},
            {"party_id", call["party_id"]},
            {"task_id", call["task_id"]},
            {"task_version", call["task_version"]},
            {"status", status}};
  net::HttpCall c;
  c.method = "POST";
  c.port = port;
  c.target = "/v2/scheduler/task/report";
  c.body = body.dump();
  c.headers = {{"dest-party-id", "9999"}, {"service", "fateflow"}, {"initiator-party-id", ""}};
  c.timeout = std::chrono::milliseconds(10000);
  net::HttpResult result = net::http_call(c);
  std::string error;
  auto reply = result.ok ? net::parse_json(result.body, &error) : std::nullopt;
  return reply ? reply->value("code", -1) : -1;
}

void Interop::start(const std::string& party_id, const std::vector<std::string>& stub_parties,
                    StubSite::Answer answer, bool via_proxy) {
  stub = std::make_unique<StubSite>(std::move(answer));
  ASSERT_EQ(stub->start(), "");
  ServerOptions options;
  options.party_id = party_id;
  const std::string port = std::to_string(stub->port());
  if (via_proxy) {
    options.extra_yaml = "federation: {nginx: {host: 127.0.0.1, http_port: " + port + ", protocol: http}}";
  } else {
    std::string routes;
    for (const std::string& party : stub_parties)
      routes += (routes.empty() ? "" : ", ") + ("\"" + party + "\": \"127.0.0.1:" + port + "\"");
    options.flowstone_yaml = "route_table: {" + routes + "}";
  }
  server = std::make_unique<PartyServer>(options);
  std::string error = server->start();
  ASSERT_EQ(error, "") << "server did not start";
}

}  // namespace flowstone::systest
