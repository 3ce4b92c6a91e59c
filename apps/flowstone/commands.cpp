#include "apps/flowstone/commands.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "actors/config.hpp"
#include "apps/flowstone/client.hpp"
#include "apps/flowstone/job_history.hpp"
#include "apps/flowstone/party_process.hpp"
#include "net/http_client.hpp"
#include "net/json_io.hpp"
#include "net/signature.hpp"
#include "net/stop_signals.hpp"
#include "net/tls.hpp"
#include "net/yaml_json.hpp"

namespace flowstone::cli {
namespace {

namespace fs = std::filesystem;

// The demo job: the shape of FATE's reader -> psi -> coordinated LR example (spec 2.6) across three
// parties, with the noop components standing in for the algorithms. lr_0 fails once at the host and
// is retried (auto_retries), so the run shows a federated retry too.
const char* kDemoJob = R"(
schema_version: 2.1.0
dag:
  parties:
    - {role: guest,   party_id: ["9999"]}
    - {role: host,    party_id: ["10000"]}
    - {role: arbiter, party_id: ["10001"]}
  conf:
    scheduler_party_id: "9999"
    sync_type: callback
    auto_retries: 1
    cores: 8
    task: {engine_run: {cores: 4}}
  stage: train
  tasks:
    reader_0:
      component_ref: reader
      parties: [{role: guest, party_id: ["9999"]}, {role: host, party_id: ["10000"]}]
    psi_0:
      component_ref: psi
      parties: [{role: guest, party_id: ["9999"]}, {role: host, party_id: ["10000"]}]
      inputs:
        data:
          input_data:
            task_output_artifact: {producer_task: reader_0, output_artifact_key: output_data}
    statistics_0:
      component_ref: statistics
      parties: [{role: guest, party_id: ["9999"]}, {role: host, party_id: ["10000"]}]
      inputs:
        data:
          input_data:
            task_output_artifact: {producer_task: psi_0, output_artifact_key: output_data}
    lr_0:
      component_ref: noop_consumer
      dependent_tasks: [statistics_0]
      parameters: {sleep: 0.5, loss_steps: 10}
  party_tasks:
    guest_9999:
      parties: [{role: guest, party_id: ["9999"]}]
      tasks: {reader_0: {parameters: {namespace: experiment, name: demo_guest}}}
    host_10000:
      parties: [{role: host, party_id: ["10000"]}]
      tasks:
        reader_0: {parameters: {namespace: experiment, name: demo_host}}
        lr_0: {parameters: {fail_below_version: 1}}
)";

// `flowstone site status`: this site's partners as its Party actors see them. Exit code 0 when no partner
// is down, 3 when one is (for scripts and probes), 1 when the server cannot be asked.
int site_status(const std::optional<Json>& reply, const std::string& error, bool as_json) {
  if (!reply || reply->value("code", -1) != 0 || !(*reply)["data"].is_object()) return print(reply, error);
  const Json& data = (*reply)["data"];
  if (as_json) {
    std::cout << data.dump(4) << std::endl;
  } else {
    std::cout << "party " << data.value("party_id", "") << "\n";
    std::printf("%-10s %-22s %-10s %-19s %-8s %s\n", "PARTNER", "ADDRESS", "STATE", "SINCE", "WAITING",
                "LAST ERROR");
    for (const Json& p : data.value("partners", Json::array())) {
      std::string address = p.value("address", "");
      if (p.value("via_proxy", false)) address += " (proxy)";
      std::string last_error = p.value("last_error", "");
      if (!last_error.empty())
        last_error = local_time(p.value("last_error_time", int64_t{0})) + " " + last_error;
      std::printf("%-10s %-22s %-10s %-19s %-8d %s\n", p.value("party_id", "").c_str(), address.c_str(),
                  p.value("state", "").c_str(), local_time(p.value("since", int64_t{0})).c_str(),
                  p.value("calls_waiting", 0), last_error.c_str());
    }
  }
  for (const Json& p : data.value("partners", Json::array()))
    if (p.value("state", "") == "down" || p.value("state", "") == "no_address") return 3;
  return 0;
}

bool is_end_status(const std::string& status) {
  return status == "success" || status == "failed" || status == "canceled" || status == "timeout";
}

}  // namespace

std::string self_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

int run_client_command(const std::string& group, const std::string& action, const Flags& flags) {
  Address a = server_address(flags);
  std::string error;
  if (group == "job" && action == "submit") {
    if (!flags.count("conf_path")) {
      std::cerr << "job submit needs -c <job.yaml|job.json>\n";
      return 1;
    }
    Json dag_schema;
    if (std::string e = net::load_yaml_or_json(flags.at("conf_path"), &dag_schema); !e.empty()) {
      std::cerr << e << "\n";
      return 1;
    }
    return print(call(a, "POST", "job/submit", {}, Json{{"dag_schema", dag_schema}}, &error), error);
  }
  if (group == "job" && action == "query")
    return print(
        call(a, "GET", "job/query", query_of(flags, {"job_id", "role", "party_id", "status"}), {}, &error),
        error);
  if (group == "job" && action == "list")
    return print(
        call(a, "GET", "job/list/query",
             query_of(flags, {"job_id", "role", "party_id", "status", "limit", "page", "description"}), {},
             &error),
        error);
  if (group == "job" && (action == "stop" || action == "rerun"))
    return print(call(a, "POST", "job/" + action, {}, body_of(flags, {"job_id"}), &error), error);
  if (group == "job" && action == "dependency")
    return print(
        call(a, "GET", "job/dag/dependency", query_of(flags, {"job_id", "role", "party_id"}), {}, &error),
        error);
  if (group == "job" && action == "history") return job_history(flags);
  if (group == "job" && action == "resubmit") return job_resubmit(flags);
  if (group == "job" && action == "replay") return job_replay(flags);
  if (group == "job" && action == "add-notes")
    return print(
        call(a, "POST", "job/notes/add", {}, body_of(flags, {"job_id", "role", "party_id", "notes"}), &error),
        error);
  if (group == "site" && action == "status")
    return site_status(call(a, "GET", "site/info/query", {}, {}, &error), error, flags.count("json") > 0);
  if (group == "task" && action == "query")
    return print(call(a, "GET", "job/task/query",
                      query_of(flags, {"job_id", "role", "party_id", "task_name", "status", "task_id",
                                       "task_version"}),
                      {}, &error),
                 error);
  if (group == "task" && action == "list")
    return print(
        call(a, "GET", "job/task/list/query",
             query_of(flags, {"job_id", "role", "party_id", "task_name", "limit", "page"}), {}, &error),
        error);
  return -1;
}

// What `flow client query-site` and `flow client create-partner` do by hand at every pair of parties: each
// party's own site app becomes a partner app at every other party. Error message, empty on success.
std::string exchange_site_apps(const std::vector<std::unique_ptr<PartyProcess>>& parties) {
  for (const auto& from : parties) {
    auto own = from->Get("app/site/query", {{"party_id", from->party_id()}});
    if (!own || own->value("code", -1) != 0 || (*own)["data"].empty())
      return "party " + from->party_id() + " has no site app: " + (own ? own->dump() : "no answer");
    const Json& app = (*own)["data"][0];
    for (const auto& to : parties) {
      if (to == from) continue;
      auto saved = to->Post(
          "app/partner/create",
          Json{{"party_id", from->party_id()}, {"app_id", app["app_id"]}, {"app_token", app["app_token"]}});
      if (!saved || saved->value("code", -1) != 0)
        return "party " + to->party_id() + " did not take the partner app of " + from->party_id() + ": " +
               (saved ? saved->dump() : "no answer");
    }
  }
  return "";
}

// Starts three party servers (guest 9999, host 10000, arbiter 10001, each with its own data folder and a
// route table to the others), submits the demo job at the guest and follows it at every party.
int run_demo(const Flags& flags) {
  // --keep: the servers keep running after the job (for the dashboard) until SIGINT or SIGTERM. The signals
  // are blocked here, before any thread exists, and waited for at the end.
  std::optional<net::StopSignals> keep;
  if (flags.count("keep")) keep.emplace();
  fs::path dir = fs::absolute(flags.count("dir") ? flags.at("dir") : "demo-run");
  uint16_t base = static_cast<uint16_t>(flags.count("port") ? std::atoi(flags.at("port").c_str()) : 9999);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  std::ofstream(dir / "demo_job.yaml") << kDemoJob;
  struct Site {
    std::string role, party_id;
    uint16_t port;
  };
  const std::vector<Site> sites = {{"guest", "9999", base},
                                   {"host", "10000", static_cast<uint16_t>(base + 1)},
                                   {"arbiter", "10001", static_cast<uint16_t>(base + 2)}};
  // --secure: a throwaway PKI (one CA, a certificate per party), HTTPS between the parties with client
  // certificates verified, and FATE's site authentication with partner apps exchanged once they run.
  const bool secure = flags.count("secure") > 0;
  const fs::path pki = dir / "pki";
  if (secure) {
    std::string command = self_dir() + "/flowstone-make-certs '" + pki.string() + "'";
    for (const Site& site : sites) command += " " + site.party_id;
    if (std::system(command.c_str()) != 0) {
      std::cerr << "demo: could not make the certificates (" << command << "; is openssl installed?)\n";
      return 1;
    }
  }
  std::string routes;
  for (const Site& site : sites)
    routes += (routes.empty() ? "" : ", ") + ("\"" + site.party_id + "\": \"" + (secure ? "https://" : "") +
                                              "127.0.0.1:" + std::to_string(site.port) + "\"");
  std::vector<std::unique_ptr<PartyProcess>> parties;
  for (const Site& site : sites) {
    std::string folder = (dir / (site.role + "-" + site.party_id)).string();
    std::cout << "demo: starting party " << site.role << " " << site.party_id << " on 127.0.0.1:" << site.port
              << ", data in " << folder << "\n";
    std::string flowstone_yaml = "route_table: {" + routes + "}", extra_yaml;
    if (secure) {
      const std::string identity = (pki / ("site-" + site.party_id)).string();
      flowstone_yaml += ", tls: {cert: '" + identity + ".pem', key: '" + identity + ".key', ca: '" +
                        (pki / "ca.pem").string() + "', verify_clients: true}";
      extra_yaml = "authentication: {client: false, site: true, permission: false}";
    }
    parties.push_back(std::make_unique<PartyProcess>(self_dir() + "/flowstone", folder, site.party_id,
                                                     site.port, extra_yaml, flowstone_yaml));
    if (std::string e = parties.back()->Start(); !e.empty()) {
      std::cerr << "demo: " << e << "\n";
      return 1;
    }
  }
  auto stop_servers = [&] {
    for (auto& party : parties) party->Stop();
  };
  if (secure) {
    if (std::string e = exchange_site_apps(parties); !e.empty()) {
      std::cerr << "demo: " << e << "\n";
      stop_servers();
      return 1;
    }
    std::cout << "demo: the parties talk HTTPS with client certificates (certificates in " << pki.string()
              << ") and sign their calls with the site apps they exchanged (flow client create-partner)\n";
  }
  Address guest = loopback(sites[0].port);
  std::string error;
  // Real data: the guest's ids 1..30 with two features, the host's ids 21..50 with two others; each is
  // uploaded at its own party (a local upload job there), so psi_0 finds 10 ids in common.
  for (size_t i = 0; i < 2; ++i) {
    std::string csv = i == 0 ? "id,x0,x1\n" : "id,x2,x3\n";
    for (int id = i == 0 ? 1 : 21; id <= (i == 0 ? 30 : 50); ++id)
      csv += std::to_string(id) + "," + std::to_string(id * 0.5) + "," + std::to_string((id * 7) % 11) + "\n";
    // In the party's upload folder (<data_dir>/upload, FATE's UPLOAD_DATA_HOME), named relative to it: a
    // server reads only files under its file roots.
    std::string file = "demo_" + sites[i].role + ".csv";
    const fs::path upload_dir = dir / (sites[i].role + "-" + sites[i].party_id) / "data" / "upload";
    fs::create_directories(upload_dir);
    std::ofstream(upload_dir / file) << csv;
    Address at = loopback(sites[i].port);
    auto up = call(at, "POST", "data/component/upload", {},
                   Json{{"file", file},
                        {"head", true},
                        {"partitions", 4},
                        {"meta", {{"delimiter", ","}}},
                        {"namespace", "experiment"},
                        {"name", "demo_" + sites[i].role}},
                   &error);
    std::string upload_job = up ? up->value("job_id", "") : "";
    std::string upload_status;
    for (int tries = 0; tries < 300 && !is_end_status(upload_status) && !upload_job.empty(); ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      auto q = call(at, "GET", "job/query", {{"job_id", upload_job}}, {}, &error);
      if (q && q->value("code", -1) == 0 && !(*q)["data"].empty())
        upload_status = (*q)["data"][0].value("status", "");
    }
    if (upload_status != "success") {
      std::cerr << "demo: upload at " << sites[i].role << " did not succeed: " << (up ? up->dump() : error)
                << "\n";
      stop_servers();
      return 1;
    }
    std::cout << "demo: uploaded " << file << " at " << sites[i].role << " as experiment.demo_"
              << sites[i].role << " (upload job " << upload_job << ")\n";
  }
  Json dag_schema;
  net::load_yaml_or_json((dir / "demo_job.yaml").string(), &dag_schema);
  auto submitted = call(guest, "POST", "job/submit", {}, Json{{"dag_schema", dag_schema}}, &error);
  if (!submitted || submitted->value("code", -1) != 0) {
    std::cerr << "demo: submit failed: " << (submitted ? submitted->dump() : error) << "\n";
    stop_servers();
    return 1;
  }
  std::string job_id = submitted->value("job_id", "");
  std::cout << "demo: submitted job " << job_id << " at the guest (scheduler 9999)\n";
  std::vector<std::string> status(sites.size()), shown(sites.size());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    bool all_ended = true;
    for (size_t i = 0; i < sites.size(); ++i) {
      auto q = call(loopback(sites[i].port), "GET", "job/query", {{"job_id", job_id}}, {}, &error);
      if (q && q->value("code", -1) == 0 && !(*q)["data"].empty())
        status[i] = (*q)["data"][0].value("status", "");
      if (status[i] != shown[i]) {
        std::cout << "demo: at " << sites[i].role << " " << sites[i].party_id << " the job is " << status[i]
                  << "\n";
        shown[i] = status[i];
      }
      all_ended = all_ended && is_end_status(status[i]);
    }
    if (all_ended) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (const Site& site : sites) {
    auto tasks = call(loopback(site.port), "GET", "job/task/list/query", {{"job_id", job_id}}, {}, &error);
    if (!tasks || tasks->value("code", -1) != 0) continue;
    std::cout << "demo: tasks at " << site.role << " " << site.party_id << "\n";
    for (const auto& t : (*tasks)["data"]["data"])
      std::cout << "  " << t.value("task_name", "") << " v" << t.value("task_version", 0) << "  status "
                << t.value("status", "") << ", party_status " << t.value("party_status", "") << "  "
                << t["elapsed"].dump() << " ms\n";
  }
  for (size_t i = 0; i < 2; ++i) {
    Address at = loopback(sites[i].port);
    for (const char* task : {"psi_0", "statistics_0"}) {
      auto m = call(
          at, "GET", "output/metric/query",
          {{"job_id", job_id}, {"role", sites[i].role}, {"party_id", sites[i].party_id}, {"task_name", task}},
          {}, &error);
      if (m && m->value("code", -1) == 0)
        for (const auto& item : (*m)["data"])
          std::cout << "demo: " << sites[i].role << " " << task << " metric " << item.value("name", "")
                    << ": " << item["data"].dump() << "\n";
    }
  }
  std::cout << "demo: the job's audit history at the guest: " << self_dir() << "/flowstone job history -j "
            << job_id << " --server 127.0.0.1:" << sites[0].port
            << " (while the servers run); logs are under " << dir.string() << "/*/data/logs\n";
  bool agreed =
      std::all_of(status.begin(), status.end(), [](const std::string& s) { return s == "success"; });
  std::cout << "demo: job ended " << status[0] << (agreed ? " at every party" : " (parties disagree)")
            << "\n";
  if (keep) {
    for (const Site& site : sites)
      std::cout << "demo: dashboard of " << site.role << " " << site.party_id << ": "
                << (secure ? "https" : "http") << "://127.0.0.1:" << site.port << "/"
                << (&site == &sites[0] ? "#/job/" + job_id : "") << "\n";
    std::cout << "demo: the servers keep running; Ctrl-C stops them" << std::endl;
    keep->Wait();
  }
  stop_servers();
  return agreed ? 0 : 1;
}

}  // namespace flowstone::cli
