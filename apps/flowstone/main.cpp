// flowstone: the party server and its command line.
//
//   flowstone serve --config service_conf.yaml
//   flowstone job submit -c job.yaml | query | list | stop | rerun | dependency | add-notes | history
//   flowstone task query | list
//   flowstone store rebuild | verify | export | import | views | compact --keep-days N --config
//   service_conf.yaml   (server stopped) flowstone demo
//
// Client commands take the flow CLI's flags (-j -r -p -tn -s -l -c ...) and reach the server named by
// --server HOST:PORT, else FLOWSTONE_SERVER, else --config's fateflow.host/http_port, else
// 127.0.0.1:9380. They print the server's JSON envelope.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "actors/config.hpp"
#include "actors/server.hpp"
#include "apps/flowstone/commands.hpp"
#include "apps/flowstone/proxy.hpp"
#include "store/export.hpp"
#include "store/projections.hpp"
#include "store/retention.hpp"

namespace flowstone::cli {
namespace {

const std::map<std::string, std::string> kFlagAliases = {{"-j", "job_id"},
                                                         {"--job-id", "job_id"},
                                                         {"-r", "role"},
                                                         {"--role", "role"},
                                                         {"-p", "party_id"},
                                                         {"--party-id", "party_id"},
                                                         {"-tn", "task_name"},
                                                         {"--task-name", "task_name"},
                                                         {"-s", "status"},
                                                         {"--status", "status"},
                                                         {"-l", "limit"},
                                                         {"--limit", "limit"},
                                                         {"--keep-days", "keep-days"},
                                                         {"-c", "conf_path"},
                                                         {"--conf-path", "conf_path"},
                                                         {"--notes", "notes"},
                                                         {"-tid", "task_id"},
                                                         {"--task-id", "task_id"},
                                                         {"-tv", "task_version"},
                                                         {"--task-version", "task_version"},
                                                         {"--page", "page"},
                                                         {"--server", "server"},
                                                         {"--app-id", "app_id"},
                                                         {"--app-token", "app_token"},
                                                         {"--config", "config"},
                                                         {"--description", "description"},
                                                         {"--dir", "dir"},
                                                         {"--port", "port"},
                                                         {"--timeout", "timeout"},
                                                         {"--out", "out"},
                                                         {"--in", "in"},
                                                         {"--until", "until"}};

int usage() {
  std::cerr
      << "usage:\n"
         "  flowstone serve --config service_conf.yaml\n"
         "  flowstone job submit -c job.yaml\n"
         "  flowstone job query -j JOB_ID [-r ROLE] [-p PARTY_ID] [-s STATUS]\n"
         "  flowstone job list [-j JOB_ID] [-r ROLE] [-p PARTY_ID] [-s STATUS] [-l LIMIT] [--page N]\n"
         "  flowstone job stop|rerun -j JOB_ID\n"
         "  flowstone job dependency -j JOB_ID -r ROLE -p PARTY_ID\n"
         "  flowstone job add-notes -j JOB_ID -r ROLE -p PARTY_ID --notes TEXT\n"
         "  flowstone job history -j JOB_ID [--json]   (every event of the job at this party, as a "
         "timeline)\n"
         "  flowstone job resubmit -j JOB_ID           (the job's recorded DAG and conf, submitted as a new "
         "job)\n"
         "  flowstone job replay -j JOB_ID --until N [--json]   (the job and its tasks here as they were "
         "right "
         "after its event N)\n"
         "  flowstone task query -j JOB_ID [-r ROLE] [-p PARTY_ID] [-tn TASK] [-s STATUS] [-tid ID] [-tv N]\n"
         "  flowstone task list -j JOB_ID [-r ROLE] [-p PARTY_ID] [-tn TASK] [-l LIMIT]\n"
         "  flowstone site status [--json]   (partners: reachable or not, since when, last error, calls "
         "waiting)\n"
         "  flowstone store rebuild|verify --config service_conf.yaml   (server stopped)\n"
         "  flowstone store compact --keep-days N --config service_conf.yaml   (server stopped: removes the\n"
         "    event streams of jobs ended more than N days ago, keeping their views)\n"
         "  flowstone store export [--out FILE] | import --in FILE | views [--out FILE] --config "
         "service_conf.yaml\n"
         "      (every event as JSON lines; into an empty data dir, then the views rebuilt; every view row)\n"
         "  flowstone demo [--dir DIR] [--port PORT] [--secure] [--keep]   (three parties on PORT, PORT+1, "
         "PORT+2; default 9999;\n      --secure: HTTPS with client certificates and site authentication "
         "between "
         "them;\n      --keep: the servers keep running after the job, for the dashboard, until Ctrl-C)\n"
         "  flowstone proxy --port PORT --route PARTY_ID=HOST:PORT... [--host HOST] [--threads N]\n"
         "      [--drop-requests P] [--drop-answers P] [--duplicates P] [--delays P] [--max-delay-ms N] "
         "[--seed N]\n"
         "      (injected faults, each a share P of 0..1 of the forwarded calls; POST "
         "/_proxy/cut?party=ID&ms=N cuts\n"
         "      a party off for a while, GET /_proxy/stats counts what was injected)\n"
         "client commands also take --server HOST:PORT (or FLOWSTONE_SERVER), and with client authentication "
         "on\n"
         "  --app-id ID --app-token TOKEN (or FLOWSTONE_APP_ID, FLOWSTONE_APP_TOKEN): requests signed as "
         "flow signs them\n";
  return 2;
}

// Options that take no value.
const std::map<std::string, std::string> kSwitches = {
    {"--secure", "secure"}, {"--json", "json"}, {"--keep", "keep"}};

bool parse_flags(int argc, char** argv, int first, Flags* flags) {
  for (int i = first; i < argc; ++i) {
    if (auto on = kSwitches.find(argv[i]); on != kSwitches.end()) {
      (*flags)[on->second] = "true";
      // "--json true" as earlier versions took it.
      if (i + 1 < argc && std::string(argv[i + 1]) == "true") ++i;
      continue;
    }
    auto alias = kFlagAliases.find(argv[i]);
    if (alias == kFlagAliases.end() || i + 1 >= argc) {
      std::cerr << "unknown or incomplete option: " << argv[i] << "\n";
      return false;
    }
    (*flags)[alias->second] = argv[++i];
  }
  return true;
}

int serve(const Flags& flags) {
  actors::ServerConfig config;
  std::vector<std::string> warnings;
  if (flags.count("config")) {
    if (std::string error = actors::load_config(flags.at("config"), &config, &warnings); !error.empty()) {
      std::cerr << error << "\n";
      return 1;
    }
  }
  if (config.log_dir.empty()) config.log_dir = config.data_dir + "/logs";
  if (config.bin_dir.empty()) config.bin_dir = self_dir();
  if (config.web_dir.empty()) config.web_dir = config.bin_dir + "/web";
  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  return actors::run_server(config);
}

int store_tool(const std::string& action, const Flags& flags) {
  actors::ServerConfig config;
  std::vector<std::string> warnings;
  if (!flags.count("config")) return usage();
  if (std::string error = actors::load_config(flags.at("config"), &config, &warnings); !error.empty()) {
    std::cerr << error << "\n";
    return 1;
  }
  std::unique_ptr<store::EventLog> log;
  store::Options options;
  options.view_families = store::log_families();
  if (auto s = store::EventLog::Open(config.db_dir(), options, &log); !s.ok()) {
    std::cerr << "cannot open " << config.db_dir() << ": " << s.ToString()
              << " (is the server still running?)\n";
    return 1;
  }
  if (action == "export" || action == "views") {
    std::ofstream file;
    if (flags.count("out")) file.open(flags.at("out"), std::ios::binary | std::ios::trunc);
    std::ostream& out = flags.count("out") ? static_cast<std::ostream&>(file) : std::cout;
    size_t n = 0;
    auto s = action == "export" ? store::ExportLog(*log, out, &n) : store::DumpViews(*log, out, &n);
    if (!s.ok()) {
      std::cerr << action << " failed: " << s.ToString() << "\n";
      return 1;
    }
    std::cerr << action << ": " << n << (action == "export" ? " events" : " view rows") << "\n";
    return 0;
  }
  if (action == "compact") {
    const std::string days = flags.count("keep-days") ? flags.at("keep-days") : "";
    if (days.empty() || days.find_first_not_of("0123456789") != std::string::npos || days.size() > 6) {
      std::cerr << "store compact: --keep-days must be a whole number of days (0 or more), got '" << days
                << "'\n";
      return 2;
    }
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    store::CompactReport compacted;
    if (auto s = store::CompactJobs(*log, std::stoi(days), now_ms, &compacted); !s.ok()) {
      std::cerr << "compact failed: " << s.ToString() << "\n";
      return 1;
    }
    for (const auto& e : compacted.errors) std::cout << "kept: " << e << "\n";
    std::cout << "compact: " << compacted.jobs << " jobs ended more than " << days << " days ago, "
              << compacted.events << " events removed, " << compacted.kept_rows << " view rows kept\n";
  }
  if (action == "import") {
    if (!flags.count("in")) return usage();
    std::ifstream in(flags.at("in"), std::ios::binary);
    if (!in) {
      std::cerr << "cannot read " << flags.at("in") << "\n";
      return 1;
    }
    size_t n = 0;
    if (auto s = store::ImportLog(*log, in, &n); !s.ok()) {
      std::cerr << "import failed: " << s.ToString() << "\n";
      return 1;
    }
    std::cerr << "import: " << n << " events\n";
  }
  store::ProjectionReport report;
  // After an import the views are rebuilt; after a compaction they are checked against what is left.
  auto s = action == "rebuild" || action == "import" ? store::RebuildViews(*log, &report)
                                                     : store::VerifyViews(*log, &report);
  if (!s.ok()) {
    std::cerr << action << " failed: " << s.ToString() << "\n";
    return 1;
  }
  for (const auto& e : report.errors) std::cout << "error: " << e << "\n";
  for (const auto& d : report.differences) std::cout << "difference: " << d << "\n";
  std::cout << action << ": " << report.streams << " streams, " << report.events << " events, " << report.rows
            << " view rows; " << (report.ok() ? "views match the log" : "VIEWS DIFFER FROM THE LOG") << "\n";
  return report.ok() ? 0 : 1;
}

}  // namespace
}  // namespace flowstone::cli

int main(int argc, char** argv) {
  using namespace flowstone::cli;
  if (argc < 2) return usage();
  std::string group = argv[1];
  std::string action = argc > 2 ? argv[2] : "";
  Flags flags;
  if (group == "serve") return parse_flags(argc, argv, 2, &flags) ? serve(flags) : usage();
  if (group == "demo") return parse_flags(argc, argv, 2, &flags) ? run_demo(flags) : usage();
  if (ProxyOptions proxy; group == "proxy") {
    return parse_proxy_args(argc, argv, 2, &proxy) ? run_proxy(proxy) : usage();
  }
  if (!parse_flags(argc, argv, 3, &flags)) return usage();
  if (group == "store" && (action == "rebuild" || action == "verify" || action == "export" ||
                           action == "import" || action == "views" || action == "compact"))
    return store_tool(action, flags);
  if (group == "job" || group == "task" || group == "site") {
    int code = run_client_command(group, action, flags);
    return code < 0 ? usage() : code;
  }
  return usage();
}
