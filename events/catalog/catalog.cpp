#include "events/catalog/catalog.hpp"

#include <cctype>
#include <optional>

#include "events/job/tracking.hpp"
#include "events/job/views.hpp"

namespace flowstone::domain {
namespace {

CatalogDecision reject(RetCode code, std::string message) {
  CatalogDecision d;
  d.code = code;
  d.message = std::move(message);
  return d;
}

bool matches(const std::string& filter, const std::string& value) {
  return filter.empty() || filter == value;
}

CatalogDecision on_register_table(const CatalogState& s, const RegisterTable& cmd) {
  for (const auto& [field, value] : {std::pair{"namespace", cmd.table.ns}, std::pair{"name", cmd.table.name}})
    if (std::string problem = table_name_problem(value); !problem.empty())
      return reject(RetCode::invalid_parameter,
                    std::string("Invalid request: ") + field + " '" + value + "' " + problem);
  auto it = s.tables.find({cmd.table.ns, cmd.table.name});
  if (it != s.tables.end() && it->second == cmd.table) return CatalogDecision{};  // registered already
  CatalogDecision d;
  TableMeta table = cmd.table;
  table.create_time = cmd.now_ms;
  d.events.push_back({cmd.now_ms, TableRegistered{table}});
  return d;
}

CatalogDecision on_delete_table(const CatalogState& s, const DeleteTable& cmd) {
  if (!s.tables.count({cmd.ns, cmd.name}))
    return reject(RetCode::table_not_found,
                  "No found table: namespace[" + cmd.ns + "] name[" + cmd.name + "]");
  CatalogDecision d;
  d.events.push_back({cmd.now_ms, TableDeleted{cmd.ns, cmd.name}});
  d.data = Json{{"namespace", cmd.ns}, {"name", cmd.name}};
  return d;
}

CatalogDecision on_register_provider(const CatalogState& s, const RegisterProvider& cmd) {
  const ProviderInfo& p = cmd.provider;
  if (p.name.empty() || p.version.empty())
    return reject(RetCode::invalid_parameter, "Invalid request: name and version are required");
  if (p.device != "local" && p.device != "docker" && p.device != "k8s" && p.device != "slurm")
    return reject(RetCode::device_not_supported,
                  "device '" + p.device + "' is not supported: use local, docker, slurm or k8s");
  const Json& m = p.metadata;
  // (Json::empty() is false for every string, "" included: the string itself is asked.)
  auto has_text = [&](const char* key) {
    return m.contains(key) && m[key].is_string() && !m[key].get_ref<const std::string&>().empty();
  };
  if (p.device == "local" && !has_text("path") && !has_text("entrypoint"))
    return reject(RetCode::invalid_parameter,
                  "Invalid request: metadata.path (a FATE algorithm package, with venv) or "
                  "metadata.entrypoint (an executable speaking the worker API) is required for device local");
  // slurm runs what local runs (entrypoint, or path with venv), or Flowstone's own components when neither
  // is given, as Slurm jobs; `partition` picks the Slurm partition. What is given must be text.
  if (p.device == "slurm")
    for (const char* key : {"path", "venv", "entrypoint", "partition"})
      if (m.contains(key) && !has_text(key))
        return reject(RetCode::invalid_parameter,
                      std::string("Invalid request: metadata.") + key + " must be a non-empty string");
  if ((p.device == "docker" || p.device == "k8s") && !has_text("image"))
    return reject(RetCode::invalid_parameter,
                  "Invalid request: metadata.image is required for device " + p.device);
  auto it = s.providers.find({p.name, p.version, p.device});
  CatalogDecision d;
  ProviderInfo stored = p;
  stored.create_time = it == s.providers.end() ? cmd.now_ms : it->second.create_time;
  stored.update_time = cmd.now_ms;
  d.message = it == s.providers.end() ? "create success" : "update success";
  bool same = it != s.providers.end() && it->second.metadata == p.metadata &&
              it->second.protocol == p.protocol && it->second.components == p.components;
  if (!same) d.events.push_back({cmd.now_ms, ProviderRegistered{stored}});
  return d;
}

CatalogDecision on_delete_providers(const CatalogState& s, const DeleteProviders& cmd) {
  CatalogDecision d;
  for (const auto& [key, p] : s.providers)
    if (matches(cmd.name, p.name) && matches(cmd.version, p.version) && matches(cmd.device, p.device))
      d.events.push_back({cmd.now_ms, ProviderDeleted{p.name, p.version, p.device}});
  d.data = !d.events.empty();
  return d;
}

CatalogDecision on_import(const CatalogState&, const ImportModels& cmd) {
  CatalogDecision d;
  for (ImportedModel m : cmd.models) {
    m.create_time = cmd.now_ms;
    d.events.push_back({cmd.now_ms, ModelImported{m}});
  }
  return d;
}

CatalogDecision on_delete_imported(const CatalogState& s, const DeleteImportedModels& cmd) {
  CatalogDecision d;
  for (const auto& [key, m] : s.imported_models)
    if (matches(cmd.model_id, m.model_id) && matches(cmd.model_version, m.model_version) &&
        matches(cmd.role, m.role) && matches(cmd.party_id, m.party_id) &&
        matches(cmd.task_name, m.task_name) && matches(cmd.output_key, m.output_key))
      d.events.push_back({cmd.now_ms, ImportedModelDeleted{key}});
  d.data = !d.events.empty();
  return d;
}

CatalogDecision on_register_server(const CatalogState& s, const RegisterServer& cmd) {
  if (cmd.server_name.empty())
    return reject(RetCode::invalid_parameter, "Invalid request: server_name must not be empty");
  if (cmd.host.empty()) return reject(RetCode::invalid_parameter, "Invalid request: host must not be empty");
  if (cmd.port < 1 || cmd.port > 65535)
    return reject(RetCode::invalid_parameter,
                  "Invalid request: port " + std::to_string(cmd.port) + " is not a TCP port (1-65535)");
  if (cmd.protocol != "http" && cmd.protocol != "https")
    return reject(RetCode::invalid_parameter,
                  "Invalid request: protocol '" + cmd.protocol + "' is not http or https");
  ServerInfo server{server_key(cmd.server_name), cmd.host,   cmd.protocol,
                    static_cast<int>(cmd.port),  cmd.now_ms, cmd.now_ms};
  CatalogDecision d;
  d.data = Json{{"host", server.host},
                {"port", server.port},
                {"protocol", server.protocol},
                {"server_name", server.server_name}};
  auto it = s.servers.find(server.server_name);
  if (it != s.servers.end()) {
    if (it->second.host == server.host && it->second.port == server.port &&
        it->second.protocol == server.protocol)
      return d;  // registered already
    server.create_time = it->second.create_time;
  }
  d.events.push_back({cmd.now_ms, ServerRegistered{server}});
  return d;
}

CatalogDecision on_delete_server(const CatalogState& s, const DeleteServer& cmd) {
  CatalogDecision d;
  const std::string name = server_key(cmd.server_name);
  if (s.servers.count(name)) {
    d.events.push_back({cmd.now_ms, ServerDeleted{name}});
  } else {
    d.message = "failed";  // FATE answers code 0, message "failed", when nothing was deleted
  }
  return d;
}

CatalogDecision on_register_service(const CatalogState& s, const RegisterService& cmd) {
  const std::string name = server_key(cmd.server_name);
  auto server = s.servers.find(name);
  if (server == s.servers.end())
    return reject(RetCode::server_not_found,
                  "no found server " + name + ": register it first (/v2/server/registry)");
  if (cmd.service_name.empty())
    return reject(RetCode::invalid_parameter, "Invalid request: service_name must not be empty");
  if (!cmd.uri.empty() && cmd.uri[0] != '/')
    return reject(RetCode::invalid_parameter, "Invalid request: uri '" + cmd.uri + "' must begin with '/'");
  for (const auto& [field, value] :
       {std::pair{"params", &cmd.params}, std::pair{"data", &cmd.data}, std::pair{"headers", &cmd.headers}})
    if (!value->is_object())
      return reject(RetCode::invalid_parameter,
                    std::string("Invalid request: ") + field + " must be a mapping");
  ServiceInfo service;
  service.server_name = name;
  service.service_name = cmd.service_name;
  const ServerInfo& at = server->second;
  service.url = at.protocol + "://" + at.host + ":" + std::to_string(at.port) + cmd.uri;
  service.method = cmd.method.empty() ? "POST" : cmd.method;
  service.protocol = cmd.protocol.empty() ? "http" : cmd.protocol;
  service.params = cmd.params;
  service.data = cmd.data;
  service.headers = cmd.headers;
  service.create_time = service.update_time = cmd.now_ms;
  auto it = s.services.find({name, cmd.service_name});
  if (it != s.services.end()) {
    const ServiceInfo& old = it->second;
    if (old.url == service.url && old.method == service.method && old.protocol == service.protocol &&
        old.params == service.params && old.data == service.data && old.headers == service.headers)
      return CatalogDecision{};  // registered already
    service.create_time = old.create_time;
  }
  CatalogDecision d;
  d.events.push_back({cmd.now_ms, ServiceRegistered{service}});
  return d;
}

CatalogDecision on_delete_service(const CatalogState& s, const DeleteService& cmd) {
  CatalogDecision d;
  const std::string name = server_key(cmd.server_name);
  if (s.services.count({name, cmd.service_name})) {
    d.events.push_back({cmd.now_ms, ServiceDeleted{name, cmd.service_name}});
  } else {
    d.message = "failed";
  }
  return d;
}

}  // namespace

std::string server_key(const std::string& server_name) {
  std::string out = server_name;
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool TableMeta::operator==(const TableMeta& o) const {
  return std::tie(ns, name, engine, path, data_type, job_id, count, partitions, meta, part_of_data, source) ==
         std::tie(o.ns, o.name, o.engine, o.path, o.data_type, o.job_id, o.count, o.partitions, o.meta,
                  o.part_of_data, o.source);
}

CatalogDecision decide(const CatalogState& state, const CatalogCommand& command) {
  return std::visit(
      [&](const auto& cmd) -> CatalogDecision {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, RegisterTable>) return on_register_table(state, cmd);
        if constexpr (std::is_same_v<T, DeleteTable>) return on_delete_table(state, cmd);
        if constexpr (std::is_same_v<T, RegisterProvider>) return on_register_provider(state, cmd);
        if constexpr (std::is_same_v<T, DeleteProviders>) return on_delete_providers(state, cmd);
        if constexpr (std::is_same_v<T, ImportModels>) return on_import(state, cmd);
        if constexpr (std::is_same_v<T, DeleteImportedModels>) return on_delete_imported(state, cmd);
        if constexpr (std::is_same_v<T, RegisterServer>) return on_register_server(state, cmd);
        if constexpr (std::is_same_v<T, DeleteServer>) return on_delete_server(state, cmd);
        if constexpr (std::is_same_v<T, RegisterService>) return on_register_service(state, cmd);
        if constexpr (std::is_same_v<T, DeleteService>) return on_delete_service(state, cmd);
      },
      command);
}

void apply(CatalogState& s, const CatalogEvent& event) {
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, TableRegistered>) {
          s.tables[{e.table.ns, e.table.name}] = e.table;
        } else if constexpr (std::is_same_v<T, TableDeleted>) {
          s.tables.erase({e.ns, e.name});
        } else if constexpr (std::is_same_v<T, ProviderRegistered>) {
          s.providers[{e.provider.name, e.provider.version, e.provider.device}] = e.provider;
        } else if constexpr (std::is_same_v<T, ProviderDeleted>) {
          s.providers.erase({e.name, e.version, e.device});
        } else if constexpr (std::is_same_v<T, ModelImported>) {
          s.imported_models[e.model.storage_key] = e.model;
        } else if constexpr (std::is_same_v<T, ImportedModelDeleted>) {
          s.imported_models.erase(e.storage_key);
        } else if constexpr (std::is_same_v<T, ServerRegistered>) {
          s.servers[e.server.server_name] = e.server;
        } else if constexpr (std::is_same_v<T, ServerDeleted>) {
          s.servers.erase(e.server_name);
        } else if constexpr (std::is_same_v<T, ServiceRegistered>) {
          s.services[{e.service.server_name, e.service.service_name}] = e.service;
        } else {
          s.services.erase({e.server_name, e.service_name});
        }
      },
      event.body);
}

const ProviderInfo* find_provider(const CatalogState& state, const std::string& spec) {
  std::string name = spec, version, device;
  if (auto at = name.find('@'); at != std::string::npos) {
    device = name.substr(at + 1);
    name.resize(at);
  }
  if (auto colon = name.find(':'); colon != std::string::npos) {
    version = name.substr(colon + 1);
    name.resize(colon);
  }
  const ProviderInfo* best = nullptr;
  for (const auto& [key, p] : state.providers)
    if (p.name == name && matches(version, p.version) && matches(device, p.device) &&
        (!best || p.update_time >= best->update_time))
      best = &p;
  return best;
}

Json table_row(const TableMeta& t) {
  return Json{{"namespace", t.ns},          {"name", t.name},
              {"count", t.count},           {"meta", t.meta},
              {"engine", t.engine},         {"path", t.path},
              {"source", t.source},         {"data_type", t.data_type},
              {"partitions", t.partitions}, {"part_of_data", t.part_of_data},
              {"job_id", t.job_id},         {"create_time", t.create_time}};
}

Json provider_row(const ProviderInfo& p) {
  return Json{{"provider_name", p.provider_name()},
              {"name", p.name},
              {"version", p.version},
              {"device", p.device},
              {"metadata", p.metadata},
              {"protocol", p.protocol},
              {"components", p.components},
              {"create_time", p.create_time},
              {"update_time", p.update_time}};
}

Json server_row(const ServerInfo& server) {
  return Json{{"server_name", server.server_name},
              {"host", server.host},
              {"port", server.port},
              {"protocol", server.protocol},
              {"create_time", server.create_time},
              {"update_time", server.update_time}};
}

Json service_row(const ServiceInfo& service) {
  return Json{{"server_name", service.server_name},
              {"service_name", service.service_name},
              {"url", service.url},
              {"method", service.method},
              {"params", service.params},
              {"data", service.data},
              {"headers", service.headers},
              {"protocol", service.protocol},
              {"create_time", service.create_time},
              {"update_time", service.update_time}};
}

namespace {

CatalogRow imported_model_row(const ImportedModel& m) {
  TrackedBy by{m.task_name, 0, {m.role, m.party_id}, "", m.create_time};
  ModelSaved model{"",     m.output_key, "",     m.model_id, m.model_version, m.storage_key,
                   m.file, m.digest,     m.size, m.meta_data};
  return {kImportedModelsView,
          model_view_key(m.model_id, m.model_version, by.party, m.task_name, m.output_key),
          model_row("", by, model).dump()};
}

// The row of one entry of the catalog in `s` (its key even when the entry is not there: value "" then).
struct Entry {
  std::string family, key;
  std::optional<std::string> value;
};

Entry table_entry(const CatalogState& s, const std::string& ns, const std::string& name) {
  auto it = s.tables.find({ns, name});
  return {kTablesView, join0({ns, name}),
          it == s.tables.end() ? std::nullopt : std::optional<std::string>(table_row(it->second).dump())};
}
Entry provider_entry(const CatalogState& s, const std::string& name, const std::string& version,
                     const std::string& device) {
  auto it = s.providers.find({name, version, device});
  return {
      kProvidersView, join0({name, version, device}),
      it == s.providers.end() ? std::nullopt : std::optional<std::string>(provider_row(it->second).dump())};
}
Entry server_entry(const CatalogState& s, const std::string& name) {
  auto it = s.servers.find(name);
  return {kServersView, name,
          it == s.servers.end() ? std::nullopt : std::optional<std::string>(server_row(it->second).dump())};
}
Entry service_entry(const CatalogState& s, const std::string& server, const std::string& service) {
  auto it = s.services.find({server, service});
  return {kServicesView, join0({server, service}),
          it == s.services.end() ? std::nullopt : std::optional<std::string>(service_row(it->second).dump())};
}

}  // namespace

std::vector<CatalogRow> catalog_views(const CatalogState& s) {
  std::vector<CatalogRow> rows;
  for (const auto& [key, t] : s.tables)
    rows.push_back({kTablesView, join0({t.ns, t.name}), table_row(t).dump()});
  for (const auto& [key, p] : s.providers)
    rows.push_back({kProvidersView, join0({p.name, p.version, p.device}), provider_row(p).dump()});
  for (const auto& [key, m] : s.imported_models) rows.push_back(imported_model_row(m));
  for (const auto& [name, server] : s.servers)
    rows.push_back({kServersView, name, server_row(server).dump()});
  for (const auto& [key, service] : s.services)
    rows.push_back({kServicesView, join0({key.first, key.second}), service_row(service).dump()});
  return rows;
}

std::vector<CatalogChange> catalog_view_changes(const CatalogState& before, const CatalogState& after,
                                                const std::vector<CatalogEvent>& events) {
  std::vector<CatalogChange> out;
  auto put = [&](Entry e) { out.push_back({std::move(e.family), std::move(e.key), std::move(e.value)}); };
  for (const CatalogEvent& event : events) {
    std::visit(
        [&](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, TableRegistered>) {
            put(table_entry(after, e.table.ns, e.table.name));
          } else if constexpr (std::is_same_v<T, TableDeleted>) {
            put(table_entry(after, e.ns, e.name));
          } else if constexpr (std::is_same_v<T, ProviderRegistered>) {
            put(provider_entry(after, e.provider.name, e.provider.version, e.provider.device));
          } else if constexpr (std::is_same_v<T, ProviderDeleted>) {
            put(provider_entry(after, e.name, e.version, e.device));
          } else if constexpr (std::is_same_v<T, ModelImported>) {
            CatalogRow row = imported_model_row(e.model);
            auto it = after.imported_models.find(e.model.storage_key);
            out.push_back({row.family, row.key,
                           it == after.imported_models.end()
                               ? std::nullopt
                               : std::optional<std::string>(imported_model_row(it->second).value)});
          } else if constexpr (std::is_same_v<T, ImportedModelDeleted>) {
            auto it = before.imported_models.find(e.storage_key);
            if (it == before.imported_models.end()) return;
            CatalogRow row = imported_model_row(it->second);
            out.push_back({row.family, row.key, std::nullopt});
          } else if constexpr (std::is_same_v<T, ServerRegistered>) {
            put(server_entry(after, e.server.server_name));
          } else if constexpr (std::is_same_v<T, ServerDeleted>) {
            put(server_entry(after, e.server_name));
          } else if constexpr (std::is_same_v<T, ServiceRegistered>) {
            put(service_entry(after, e.service.server_name, e.service.service_name));
          } else if constexpr (std::is_same_v<T, ServiceDeleted>) {
            put(service_entry(after, e.server_name, e.service_name));
          }
        },
        event.body);
  }
  return out;
}

std::string describe_catalog_event(const CatalogEvent& event) {
  return std::visit(
      [](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, TableRegistered>)
          return "table " + e.table.ns + "." + e.table.name + " registered (" +
                 std::to_string(e.table.count) + " rows at " + e.table.path + ")";
        if constexpr (std::is_same_v<T, TableDeleted>) return "table " + e.ns + "." + e.name + " deleted";
        if constexpr (std::is_same_v<T, ProviderRegistered>)
          return "provider " + e.provider.provider_name() + " registered";
        if constexpr (std::is_same_v<T, ProviderDeleted>)
          return "provider " + e.name + ":" + e.version + "@" + e.device + " deleted";
        if constexpr (std::is_same_v<T, ModelImported>) return "model " + e.model.storage_key + " imported";
        if constexpr (std::is_same_v<T, ImportedModelDeleted>)
          return "imported model " + e.storage_key + " deleted";
        if constexpr (std::is_same_v<T, ServerRegistered>)
          return "server " + e.server.server_name + " registered at " + e.server.protocol + "://" +
                 e.server.host + ":" + std::to_string(e.server.port);
        if constexpr (std::is_same_v<T, ServerDeleted>) return "server " + e.server_name + " deleted";
        if constexpr (std::is_same_v<T, ServiceRegistered>)
          return "service " + e.service.server_name + "/" + e.service.service_name +
                 " registered: " + e.service.method + " " + e.service.url;
        if constexpr (std::is_same_v<T, ServiceDeleted>)
          return "service " + e.server_name + "/" + e.service_name + " deleted";
      },
      event.body);
}

}  // namespace flowstone::domain
