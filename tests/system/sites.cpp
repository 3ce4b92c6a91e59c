#include "tests/system/sites.hpp"

#include <sys/types.h>
#include <sys/wait.h>

#include <set>
#include <utility>

namespace flowstone::systest {

int code_of(const Json& answer) {
  return answer.is_object() ? answer.value("code", -1) : -1;
}

Json json_of(const net::HttpResult& r) {
  if (!r.ok) return Json{{"code", -1}, {"message", "transport error: " + r.error}};
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded()) return Json{{"code", -1}, {"message", "not JSON: " + tail(r.body, 300)}};
  return j;
}

net::FormPart field(const std::string& name, const std::string& value) {
  return net::FormPart{name, "", "", value};
}

net::FormPart file_part(const std::string& name, const std::string& filename, const std::string& data) {
  return net::FormPart{name, filename, "application/octet-stream", data};
}

net::HttpResult post_form(PartyServer& server, const std::string& route,
                          const std::vector<net::FormPart>& parts) {
  net::HttpCall call;
  call.method = "POST";
  call.port = server.port();
  call.target = "/v2/" + route;
  call.body = net::build_multipart(parts, &call.content_type);
  call.timeout = 15000ms;
  return net::http_call(call);
}

bool ended(const Json& row) {
  static const std::set<std::string> kEndStatuses = {"success", "failed", "canceled", "timeout", "pass"};
  return kEndStatuses.count(row.value("status", "")) > 0;
}

Json party(const std::string& role, const std::string& party_id) {
  return Json{{"role", role}, {"party_id", {party_id}}};
}

Json guest_and_host() {
  return Json::array({party("guest", kGuest), party("host", kHost)});
}

Json host_party_tasks(const Json& tasks) {
  return {{"h", {{"parties", Json::array({party("host", kHost)})}, {"tasks", tasks}}}};
}

std::string cores_yaml(int cores) {
  return "computing: {standalone: {cores: " + std::to_string(cores) + "}}";
}

std::string federation_yaml(int64_t create_timeout_ms, int64_t call_timeout_ms) {
  return "federation: {reconcile_after_ms: 1000, poll_interval_ms: 200, call_timeout_ms: " +
         std::to_string(call_timeout_ms) + ", create_timeout_ms: " + std::to_string(create_timeout_ms) + "}";
}

PartyServer& SitesTest::add(const std::string& party_id, int cores) {
  ServerOptions options;
  options.party_id = party_id;
  if (cores > 0) options.extra_yaml = cores_yaml(cores);
  servers.push_back(std::make_unique<PartyServer>(std::move(options)));
  return *servers.back();
}

void SitesTest::connect(const std::string& federation, const std::string& scheme) {
  std::string table;
  for (const auto& s : servers)
    table += (table.empty() ? "\"" : ", \"") + s->party_id() + "\": \"" + scheme +
             "127.0.0.1:" + std::to_string(s->port()) + "\"";
  for (auto& s : servers) s->options().flowstone_yaml = "route_table: {" + table + "}, " + federation;
}

void SitesTest::start(PartyServer& server) {
  std::string error = server.start();
  ASSERT_EQ(error, "") << "party " << server.party_id() << " did not start";
}

void SitesTest::start_all() {
  for (auto& s : servers) {
    ASSERT_NO_FATAL_FAILURE(start(*s));
  }
}

std::string SitesTest::diagnostics(const std::string& job_id) const {
  std::string out;
  for (const auto& s : servers) out += "\n===== party " + s->party_id() + " =====" + s->diagnostics(job_id);
  return out;
}

std::string SitesTest::submit_ok(PartyServer& at, const Json& dag) {
  Json reply;
  std::string job_id = at.submit(dag, &reply);
  EXPECT_FALSE(job_id.empty()) << "submit refused: " << reply.dump() << diagnostics();
  return job_id;
}

Json SitesTest::wait_end(PartyServer& server, const std::string& job_id, const std::string& role,
                         std::chrono::milliseconds deadline) {
  auto waited = server.wait_job(job_id, ended, deadline, role);
  EXPECT_TRUE(waited.met) << role << ":" << server.party_id() << " never ended: " << waited.row.dump(2)
                          << diagnostics(job_id);
  return waited.row;
}

::testing::AssertionResult SitesTest::no_task_process_left(PartyServer& server) {
  std::vector<pid_t> left;
  if (poll_until(
          [&] {
            left = server.task_processes();
            return left.empty();
          },
          30s))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << left.size() << " processes of party " << server.party_id() << " still run, first " << left[0]
         << ": " << read_text("/proc/" + std::to_string(left[0]) + "/cmdline");
}

::testing::AssertionResult SitesTest::store_verifies(PartyServer& server) {
  std::string output;
  int status = run_command(
      std::string(FLOWSTONE_BIN_DIR) + "/flowstone store verify --config " + server.conf_path(), &output);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "store verify at party " << server.party_id() << ": wait status " << status << "\n"
         << output;
}

}  // namespace flowstone::systest
