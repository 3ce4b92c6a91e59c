// The Catalog aggregate: what a party server knows beyond any one job. Storage tables (by namespace and
// name: uploaded, bound to a path, or written by a task), component providers, and models imported from
// an export. One instance per server, stream "catalog".
//
//   decide(state, command) -> Decision{events} or an error code and message
//   evolve(state, event)   -> state
//
// Pure: no I/O and no clock (commands carry the time); the host checks the file system (a provider's
// path, an upload's file) before it sends a command. Not thread-safe: one owner.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "events/json.hpp"

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
using CatalogEventBody = std::variant<TableRegistered, TableDeleted, ProviderRegistered, ProviderDeleted,
                                      ModelImported, ImportedModelDeleted>;
struct CatalogEvent {
  int64_t at_ms = 0;
  CatalogEventBody body;
};

// ---- state ----------------------------------------------------------------------------------------

struct CatalogState {
  std::map<std::pair<std::string, std::string>, TableMeta> tables;  // (namespace, name)
  std::map<std::tuple<std::string, std::string, std::string>, ProviderInfo>
      providers;                                         // name, version, device
  std::map<std::string, ImportedModel> imported_models;  // by storage key
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
using CatalogCommand = std::variant<RegisterTable, DeleteTable, RegisterProvider, DeleteProviders,
                                    ImportModels, DeleteImportedModels>;

struct CatalogDecision {
  int code = 0;
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
struct CatalogRow {
  std::string family, key, value;
};
std::vector<CatalogRow> catalog_views(const CatalogState& state);
Json table_row(const TableMeta& table);
Json provider_row(const ProviderInfo& provider);
std::string describe_catalog_event(const CatalogEvent& event);

}  // namespace flowstone::domain
