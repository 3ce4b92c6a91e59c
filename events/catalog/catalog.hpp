// The Catalog aggregate: what a party server knows beyond any one job. Storage tables (by namespace and
// name: uploaded, bound to a path, or written by a task), component providers, models imported from an
// export, and the server registry (other servers and their services, /v2/server/*). One instance per
// server, stream "catalog".
//
//   decide(state, command) -> Decision{events} or an error code and message
//   evolve(state, event)   -> state
//
// Pure: no I/O and no clock (commands carry the time); the host checks the file system (a provider's
// path, an upload's file) before it sends a command. Not thread-safe: one owner.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "events/common/json.hpp"
#include "events/common/ret_code.hpp"

namespace flowstone::domain {

struct TableMeta {  // FATE's storage table meta (spec 1.6 /table/query, 7.4)
  std::string ns, name, engine, path, data_type, job_id;
  int64_t count = 0;
  int partitions = 16;
  Json meta = Json::object();         // data_meta: header, delimiter, id names...
  Json part_of_data = Json::array();  // samples
  Json source = Json::object();
  int64_t create_time = 0;
  bool operator==(const TableMeta& o) const;
};

struct ProviderInfo {  // /v2/provider/register
  std::string name, version, device, protocol = "fate";
  Json metadata = Json::object();
  std::vector<std::string> components;
  int64_t create_time = 0, update_time = 0;
  std::string provider_name() const { return name + ":" + version + "@" + device; }
};

struct ImportedModel {  // one tar of a /v2/model/import zip, re-keyed to the import's model id and version
  std::string model_id, model_version, role, party_id, task_name, output_key, storage_key, file, digest;
  int64_t size = 0;
  Json meta_data = Json::array();
  int64_t create_time = 0;
};

struct ServerInfo {  // /v2/server/registry: a server this one knows by name (FATE's t_server_registry_info)
  std::string server_name;  // upper case, as FATE stores it
  std::string host, protocol = "http";
  int port = 0;
  int64_t create_time = 0, update_time = 0;
};

struct ServiceInfo {  // /v2/server/service/registry: one service of a registered server
  std::string server_name, service_name;
  std::string url;  // protocol://host:port<uri> of its server when registered
  std::string method = "POST", protocol = "http";
  Json params = Json::object(), data = Json::object(), headers = Json::object();
  int64_t create_time = 0, update_time = 0;
};

// ---- events ---------------------------------------------------------------------------------------

struct TableRegistered {
  TableMeta table;
};
struct TableDeleted {
  std::string ns, name;
};
struct ProviderRegistered {
  ProviderInfo provider;
};
struct ProviderDeleted {
  std::string name, version, device;
};
struct ModelImported {
  ImportedModel model;
};
struct ImportedModelDeleted {
  std::string storage_key;
};
struct ServerRegistered {
  ServerInfo server;
};
struct ServerDeleted {
  std::string server_name;
};
struct ServiceRegistered {
  ServiceInfo service;
};
struct ServiceDeleted {
  std::string server_name, service_name;
};
using CatalogEventBody =
    std::variant<TableRegistered, TableDeleted, ProviderRegistered, ProviderDeleted, ModelImported,
                 ImportedModelDeleted, ServerRegistered, ServerDeleted, ServiceRegistered, ServiceDeleted>;
struct CatalogEvent {
  int64_t at_ms = 0;
  CatalogEventBody body;
};

// ---- state ----------------------------------------------------------------------------------------

struct CatalogState {
  std::map<std::pair<std::string, std::string>, TableMeta> tables;  // (namespace, name)
  std::map<std::tuple<std::string, std::string, std::string>, ProviderInfo>
      providers;                                                        // name, version, device
  std::map<std::string, ImportedModel> imported_models;                 // by storage key
  std::map<std::string, ServerInfo> servers;                            // by server name
  std::map<std::pair<std::string, std::string>, ServiceInfo> services;  // (server name, service name)
};

// ---- commands -------------------------------------------------------------------------------------

struct RegisterTable {  // an upload, a task's tracked output, or /v2/table/bind/path
  TableMeta table;
  int64_t now_ms = 0;
};
struct DeleteTable {
  std::string ns, name;
  int64_t now_ms = 0;
};
struct RegisterProvider {
  ProviderInfo provider;
  int64_t now_ms = 0;
};
struct DeleteProviders {  // every provider matching the non-empty filters
  std::string name, version, device;
  int64_t now_ms = 0;
};
struct ImportModels {  // already re-keyed; the files are stored
  std::vector<ImportedModel> models;
  int64_t now_ms = 0;
};
struct DeleteImportedModels {  // every imported model matching the non-empty filters
  std::string model_id, model_version, role, party_id, task_name, output_key;
  int64_t now_ms = 0;
};
struct RegisterServer {  // registered again: replaced
  std::string server_name, host, protocol = "http";
  int64_t port = 0;
  int64_t now_ms = 0;
};
struct DeleteServer {  // its services stay registered, as in FATE
  std::string server_name;
  int64_t now_ms = 0;
};
struct RegisterService {  // the server must be registered: its address makes the service's url
  std::string server_name, service_name, uri, method = "POST", protocol = "http";
  Json params = Json::object(), data = Json::object(), headers = Json::object();
  int64_t now_ms = 0;
};
struct DeleteService {
  std::string server_name, service_name;
  int64_t now_ms = 0;
};
using CatalogCommand =
    std::variant<RegisterTable, DeleteTable, RegisterProvider, DeleteProviders, ImportModels,
                 DeleteImportedModels, RegisterServer, DeleteServer, RegisterService, DeleteService>;

struct CatalogDecision {
  RetCode code = RetCode::success;
  std::string message = "success";
  std::vector<CatalogEvent> events;
  Json data;
};

CatalogDecision decide(const CatalogState& state, const CatalogCommand& command);
void apply(CatalogState& state, const CatalogEvent& event);

// The provider `dag.conf.task.provider` names ("name:version@device", "name@device", "name:version" or
// "name"), or null. Several matches: the latest registered.
const ProviderInfo* find_provider(const CatalogState& state, const std::string& spec);

// Rows of the catalog's views: tables, providers, imported models.
inline constexpr const char* kTablesView = "tables";                   // namespace \0 name
inline constexpr const char* kProvidersView = "providers";             // name \0 version \0 device
inline constexpr const char* kImportedModelsView = "imported_models";  // model view key (job_views.hpp)
inline constexpr const char* kServersView = "servers";                 // server name
inline constexpr const char* kServicesView = "services";               // server name \0 service name
struct CatalogRow {
  std::string family, key, value;
};
std::vector<CatalogRow> catalog_views(const CatalogState& state);
// The rows `events` (turning `before` into `after`) change: one per entry an event names; nullopt deletes.
struct CatalogChange {
  std::string family, key;
  std::optional<std::string> value;
};
std::vector<CatalogChange> catalog_view_changes(const CatalogState& before, const CatalogState& after,
                                                const std::vector<CatalogEvent>& events);
Json table_row(const TableMeta& table);
Json provider_row(const ProviderInfo& provider);
Json server_row(const ServerInfo& server);
Json service_row(const ServiceInfo& service);
// FATE keeps server names in upper case: every lookup and registration uses this form.
std::string server_key(const std::string& server_name);
std::string describe_catalog_event(const CatalogEvent& event);

}  // namespace flowstone::domain
