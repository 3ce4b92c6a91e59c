#include "actors/config.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>

namespace flowstone::actors {
namespace fs = std::filesystem;
namespace {

// FATE-Flow's service_conf.yaml sections: read where Flowstone has a meaning for them, accepted silently
// otherwise, so an existing FATE config loads unchanged.
const std::set<std::string> kFateKeys = {
    "party_id",        "use_registry",      "encrypt",          "fateflow",   "database",
    "default_engines", "default_provider",  "federation",       "computing",  "storage",
    "hook_module",     "authentication",    "model_store",      "zookeeper",  "log_level",
    "encrypt_module",  "private_key",       "private_key_file", "public_key", "public_key_file",
    "api_version",     "job_default_config"};

// "host:port" (plain HTTP), "http://host:port" or "https://host:port" as a route table entry.
net::PartyAddress parse_address(const std::string& key, const std::string& entry) {
  std::string text = entry;
  bool tls = false;
  for (const auto& [scheme, secure] : {std::pair{"http://", false}, std::pair{"https://", true}})
    if (text.rfind(scheme, 0) == 0) {
      text = text.substr(std::string(scheme).size());
      tls = secure;
    }
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw std::runtime_error(key + ": '" + entry +
                             "' is not host:port, http://host:port or https://host:port");
  int port = 0;
  try {
    port = std::stoi(text.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (port <= 0 || port > 65535) throw std::runtime_error(key + ": port out of range in '" + entry + "'");
  return net::PartyAddress{text.substr(0, colon), static_cast<uint16_t>(port), tls};
}

std::string resolve(const fs::path& base, const std::string& p) {
  fs::path path(p);
  return (path.is_absolute() ? path : base / path).lexically_normal().string();
}

}  // namespace

std::string load_config(const std::string& path, ServerConfig* config, std::vector<std::string>* warnings) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return "cannot read config " + path + ": " + e.what();
  }
  if (!root.IsMap()) return "config " + path + ": the top level must be a mapping";
  fs::path base = fs::absolute(path).parent_path();
  ServerConfig& c = *config;
  c.data_dir = resolve(base, c.data_dir);
  try {
    for (const auto& entry : root) {
      std::string key = entry.first.as<std::string>();
      if (key != "flowstone" && !kFateKeys.count(key))
        warnings->push_back("unknown config key '" + key + "' ignored");
    }
    if (root["party_id"]) c.party_id = root["party_id"].as<std::string>();
    std::string proxy_name;
    if (auto f = root["fateflow"]) {
      if (f["host"]) c.host = f["host"].as<std::string>();
      if (f["http_port"]) c.http_port = f["http_port"].as<uint16_t>();
      if (f["grpc_port"]) c.grpc_port = f["grpc_port"].as<uint16_t>();
      if (f["proxy_name"]) proxy_name = f["proxy_name"].as<std::string>();
    }
    // FATE-Flow reads the proxy address from federation.nginx, not fateflow.nginx (interop.md).
    if (auto nginx = root["federation"]["nginx"]; nginx && nginx["host"] && nginx["http_port"]) {
      if (proxy_name.empty() || proxy_name == "nginx")
        c.federation.proxy =
            net::PartyAddress{nginx["host"].as<std::string>(), nginx["http_port"].as<uint16_t>()};
      else
        warnings->push_back("fateflow.proxy_name '" + proxy_name +
                            "' is not supported (only nginx); federation.nginx ignored");
    }
    if (auto a = root["authentication"]) {
      if (a["client"]) c.auth.client = a["client"].as<bool>();
      if (a["site"]) c.auth.site = a["site"].as<bool>();
      if (a["permission"]) c.auth.permission = a["permission"].as<bool>();
      if (a["signature_method"]) c.auth.signature_method = a["signature_method"].as<std::string>();
      if (c.auth.signature_method != "md5" && c.auth.signature_method != "hmac-sha256")
        throw std::runtime_error("authentication.signature_method must be md5 or hmac-sha256, not '" +
                                 c.auth.signature_method + "'");
    }
    if (auto std_conf = root["computing"]["standalone"]; std_conf && std_conf["cores"])
      c.computing_cores = std_conf["cores"].as<int>();
    if (auto d = root["job_default_config"]) {
      if (d["job_cores"]) c.defaults.job_cores = d["job_cores"].as<int>();
      if (d["task_cores"]) c.defaults.task_cores = d["task_cores"].as<int>();
      if (auto run = d["task_run"]["standalone"]; run && run["cores"])
        c.defaults.task_cores = run["cores"].as<int>();
      if (d["task_timeout"]) c.defaults.task_timeout_s = d["task_timeout"].as<int64_t>();
      if (d["auto_retries"]) c.defaults.auto_retries = d["auto_retries"].as<int>();
      if (d["sync_type"]) c.defaults.sync_type = d["sync_type"].as<std::string>();
      if (d["computing_partitions"]) c.defaults.computing_partitions = d["computing_partitions"].as<int>();
      if (d["retry_backoff_ms"]) c.defaults.retry_backoff_ms = d["retry_backoff_ms"].as<int64_t>();
      if (d["admission_timeout"]) c.defaults.admission_timeout_s = d["admission_timeout"].as<int64_t>();
    }
    if (auto f = root["flowstone"]) {
      static const std::set<std::string> known = {"data_dir",
                                                  "log_dir",
                                                  "bin_dir",
                                                  "body_limit_mb",
                                                  "http_threads",
                                                  "route_table",
                                                  "federation",
                                                  "queue_starvation_ms",
                                                  "file_roots",
                                                  "provider_roots",
                                                  "archive_max_mb",
                                                  "archive_max_entries",
                                                  "worker_networks",
                                                  "header_timeout_s",
                                                  "read_timeout_s",
                                                  "rate_limit",
                                                  "tls",
                                                  "max_waiting_jobs",
                                                  "job_actor_idle_ms",
                                                  "web_dir"};
      for (const auto& entry : f)
        if (!known.count(entry.first.as<std::string>()))
          warnings->push_back("unknown config key 'flowstone." + entry.first.as<std::string>() + "' ignored");
      if (f["data_dir"]) c.data_dir = resolve(base, f["data_dir"].as<std::string>());
      if (f["log_dir"]) c.log_dir = resolve(base, f["log_dir"].as<std::string>());
      if (f["bin_dir"]) c.bin_dir = resolve(base, f["bin_dir"].as<std::string>());
      if (f["web_dir"]) c.web_dir = resolve(base, f["web_dir"].as<std::string>());
      if (f["body_limit_mb"]) c.body_limit = f["body_limit_mb"].as<size_t>() << 20;
      if (auto limit = f["rate_limit"]) {
        if (limit["client_per_s"]) c.client_rate_per_s = std::max(0.0, limit["client_per_s"].as<double>());
        if (limit["site_per_s"]) c.site_rate_per_s = std::max(0.0, limit["site_per_s"].as<double>());
        if (limit["burst"]) c.rate_burst = std::max(1.0, limit["burst"].as<double>());
      }
      if (f["max_waiting_jobs"])
        c.max_waiting_jobs = std::max<int64_t>(0, f["max_waiting_jobs"].as<int64_t>());
      if (auto tls = f["tls"]) {
        const std::pair<const char*, std::string*> files[] = {
            {"cert", &c.tls.files.cert}, {"key", &c.tls.files.key}, {"ca", &c.tls.files.ca}};
        for (const auto& [key, file] : files)
          if (tls[key]) *file = resolve(base, tls[key].as<std::string>());
        if (tls["verify_clients"]) c.tls.verify_clients = tls["verify_clients"].as<bool>();
        for (const auto& entry : tls)
          if (!std::set<std::string>{"cert", "key", "ca", "verify_clients"}.count(
                  entry.first.as<std::string>()))
            warnings->push_back("unknown config key 'flowstone.tls." + entry.first.as<std::string>() +
                                "' ignored");
        if (c.tls.files.cert.empty() || c.tls.files.key.empty())
          throw std::runtime_error("flowstone.tls needs both cert and key");
        if (c.tls.verify_clients && c.tls.files.ca.empty())
          throw std::runtime_error(
              "flowstone.tls.verify_clients needs tls.ca, the CA that signs partners' certificates");
      }
      if (f["header_timeout_s"])
        c.header_timeout_s = std::max<int64_t>(1, f["header_timeout_s"].as<int64_t>());
      if (f["read_timeout_s"]) c.read_timeout_s = std::max<int64_t>(1, f["read_timeout_s"].as<int64_t>());
      if (f["http_threads"]) c.http_threads = std::max(1, f["http_threads"].as<int>());
      if (f["queue_starvation_ms"]) c.queue_starvation_ms = f["queue_starvation_ms"].as<int64_t>();
      if (f["job_actor_idle_ms"])
        c.job_actor_idle_ms = std::max<int64_t>(100, f["job_actor_idle_ms"].as<int64_t>());
      const std::pair<const char*, std::vector<std::string>*> folder_lists[] = {
          {"file_roots", &c.extra_file_roots}, {"provider_roots", &c.provider_roots}};
      for (const auto& [key, list] : folder_lists)
        if (auto roots = f[key]) {
          if (!roots.IsSequence())
            throw std::runtime_error(std::string("flowstone.") + key + " must be a list of folders");
          for (const auto& root : roots) list->push_back(resolve(base, root.as<std::string>()));
        }
      if (auto networks = f["worker_networks"]) {
        if (!networks.IsSequence())
          throw std::runtime_error("flowstone.worker_networks must be a list of CIDR blocks");
        std::vector<std::string> blocks;
        for (const auto& block : networks) blocks.push_back(block.as<std::string>());
        if (std::string bad = c.worker_networks.Add(blocks); !bad.empty())
          throw std::runtime_error("flowstone.worker_networks entry '" + bad +
                                   "' is not a CIDR block or an address");
      }
      if (f["archive_max_mb"]) c.archive_limits.max_bytes = f["archive_max_mb"].as<size_t>() << 20;
      if (f["archive_max_entries"]) c.archive_limits.max_entries = f["archive_max_entries"].as<size_t>();
      if (auto table = f["route_table"]) {
        for (const auto& entry : table) {
          std::string party = entry.first.as<std::string>();
          c.federation.routes[party] =
              parse_address("flowstone.route_table." + party, entry.second.as<std::string>());
        }
      }
      if (auto fed = f["federation"]) {
        FederationConfig& x = c.federation;
        if (fed["threads"]) x.threads = std::max(1, fed["threads"].as<int>());
        if (fed["create_timeout_ms"]) x.create_timeout_ms = fed["create_timeout_ms"].as<int64_t>();
        if (fed["call_timeout_ms"]) x.call_timeout_ms = fed["call_timeout_ms"].as<int64_t>();
        if (fed["poll_interval_ms"])
          x.poll_interval_ms = std::max<int64_t>(10, fed["poll_interval_ms"].as<int64_t>());
        if (fed["reconcile_after_ms"])
          x.reconcile_after_ms = std::max<int64_t>(10, fed["reconcile_after_ms"].as<int64_t>());
      }
    }
  } catch (const std::exception& e) {
    return "config " + path + ": " + e.what();
  }
  if (c.defaults.sync_type != "callback" && c.defaults.sync_type != "poll")
    return "config " + path + ": job_default_config.sync_type must be callback or poll, not '" +
           c.defaults.sync_type + "'";
  if (c.log_dir.empty()) c.log_dir = c.data_dir + "/logs";
  // A provider folder that clients can write into (uploads, exports) would let them run code.
  const net::FileRoots providers = c.provider_folders(), writable_roots = c.file_roots();
  for (const std::string& root : providers.roots())
    for (const std::string& writable : writable_roots.roots())
      if (net::FileRoots({writable}).Contains(root) || net::FileRoots({root}).Contains(writable))
        return "config " + path + ": flowstone.provider_roots entry " + root +
               " overlaps a folder clients may write into (" + writable + ")";
  return "";
}

net::FileRoots ServerConfig::file_roots() const {
  std::vector<std::string> roots = {data_dir, upload_dir()};
  roots.insert(roots.end(), extra_file_roots.begin(), extra_file_roots.end());
  return net::FileRoots(roots);
}

net::FileRoots ServerConfig::provider_folders() const {
  return net::FileRoots(provider_roots);
}

}  // namespace flowstone::actors
