#include "actors/catalog_actor.hpp"

#include <openssl/evp.h>

#include <filesystem>
#include <map>

#include "actors/outputs.hpp"
#include "events/common/ids.hpp"
#include "net/archive.hpp"
#include "net/yaml_json.hpp"
#include "store/codec/catalog_codec.hpp"
#include "store/files.hpp"

namespace flowstone::actors {
namespace {

namespace fs = std::filesystem;

struct CatalogActorState {
  std::shared_ptr<Environment> env;
  domain::CatalogState catalog;
  uint64_t version = 0;
  std::map<std::string, std::string> rows;  // family \0 key -> value, as stored
  static inline const char* name = "flowstone.catalog";
};

using Self = catalog_actor::stateful_pointer<CatalogActorState>;

std::map<std::string, std::string> view_rows(const domain::CatalogState& catalog) {
  std::map<std::string, std::string> out;
  for (auto& row : domain::catalog_views(catalog)) out[row.family + '\0' + row.key] = std::move(row.value);
  return out;
}

void load(Self self) {
  auto& st = self->state;
  std::vector<store::StoredEvent> events;
  st.env->log->ReadStream(store::kCatalogStream, 1, &events);
  for (const auto& stored : events) {
    std::string error;
    auto event = store::decode_catalog_event(stored.payload, &error);
    if (!event) {
      st.env->server_log->error("catalog event {} undecodable: {}", stored.version, error);
      continue;
    }
    domain::apply(st.catalog, *event);
    st.version = stored.version;
  }
  st.rows = view_rows(st.catalog);
}

JobReply run_command(Self self, const domain::CatalogCommand& command) {
  auto& st = self->state;
  domain::CatalogDecision decision = domain::decide(st.catalog, command);
  if (!ok(decision.code) || decision.events.empty())
    return JobReply{decision.code, decision.message, decision.data};
  domain::CatalogState next = st.catalog;
  store::AppendRequest append;
  append.stream = store::kCatalogStream;
  append.expected_version = st.version;
  for (const auto& event : decision.events) {
    domain::apply(next, event);
    append.events.push_back(store::encode_catalog_event(event));
  }
  auto rows = view_rows(next);
  for (const auto& [key, value] : rows) {
    auto it = st.rows.find(key);
    if (it == st.rows.end() || it->second != value) {
      auto sep = key.find('\0');
      append.views.push_back({key.substr(0, sep), key.substr(sep + 1), value});
    }
  }
  for (const auto& [key, value] : st.rows)
    if (!rows.count(key)) {
      auto sep = key.find('\0');
      append.views.push_back({key.substr(0, sep), key.substr(sep + 1), std::nullopt});
    }
  store::AppendResult result = st.env->log->Append(std::move(append));
  if (!result.status.ok())
    return JobReply{RetCode::server_exception, "cannot store the catalog change: " + result.status.ToString(),
                    nullptr};
  for (const auto& event : decision.events)
    st.env->server_log->info("catalog: {}", domain::describe_catalog_event(event));
  st.catalog = std::move(next);
  st.rows = std::move(rows);
  st.version = result.stream_version;
  return JobReply{decision.code, decision.message, decision.data};
}

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

// The parsed *.meta.yaml members of a model tar; an error if it is not an archive.
std::string model_meta(const std::string& tar, const net::ArchiveLimits& limits, Json* meta_data) {
  std::vector<net::ArchiveEntry> entries;
  if (std::string e = net::read_archive(tar, &entries, limits); !e.empty()) return e;
  *meta_data = Json::array();
  for (const auto& entry : entries) {
    if (entry.name.size() < 10 || entry.name.compare(entry.name.size() - 10, 10, ".meta.yaml") != 0) continue;
    Json meta;
    if (std::string e = net::parse_yaml_or_json(entry.data, &meta); !e.empty())
      return "member " + entry.name + " is " + e;
    meta_data->push_back(meta);
  }
  return "";
}

StoreModelReply store_model(Self self, const StoreModelMsg& msg) {
  StoreModelReply out;
  Json meta_data;
  if (std::string e = model_meta(msg.tar, self->state.env->config.archive_limits, &meta_data); !e.empty()) {
    out.code = RetCode::invalid_parameter;
    out.message = "Invalid request: file: " + e;
    return out;
  }
  std::string digest = sha256_hex(msg.tar);
  std::string file = model_file(self->state.env->config, msg.storage_key, digest);
  if (std::string e = store::WriteFileDurably(file, msg.tar); !e.empty()) {
    out.code = RetCode::component_output_exception;
    out.message = e;
    return out;
  }
  out.model.storage_key = msg.storage_key;
  out.model.file = file;
  out.model.size = static_cast<int64_t>(msg.tar.size());
  out.model.digest = digest;
  out.model.meta_data = std::move(meta_data);
  return out;
}

// An export zip holds tars named by storage key <id>/<version>/<role>/<party>/<task>/<key>.
JobReply import_models(Self self, const ImportModelsMsg& msg) {
  std::vector<net::ArchiveEntry> entries;
  if (std::string e = net::read_archive(msg.zip, &entries, self->state.env->config.archive_limits);
      !e.empty())
    return JobReply{RetCode::invalid_parameter, "Invalid request: file: " + e, nullptr};
  domain::ImportModels import;
  for (const auto& entry : entries) {
    std::vector<std::string> parts;
    for (const auto& part : fs::path(entry.name)) parts.push_back(part.string());
    if (parts.size() != 6)
      return JobReply{RetCode::invalid_parameter,
                      "Invalid request: file: member '" + entry.name +
                          "' is not <model_id>/<model_version>/<role>/<party_id>/<task_name>/<output_key>",
                      nullptr};
    for (size_t i = 2; i < parts.size(); ++i)  // each becomes a part of the stored file's path
      if (std::string problem =
              domain::id_problem(i == 2 ? domain::IdKind::role : domain::IdKind::name, parts[i]);
          !problem.empty())
        return JobReply{RetCode::invalid_parameter,
                        "Invalid request: file: member '" + entry.name + "': '" + parts[i] + "' " + problem,
                        nullptr};
    domain::ImportedModel m;
    m.model_id = msg.model_id;
    m.model_version = msg.model_version;
    m.role = parts[2];
    m.party_id = parts[3];
    m.task_name = parts[4];
    m.output_key = parts[5];
    m.storage_key = domain::model_storage_key(m.model_id, m.model_version, {m.role, m.party_id}, m.task_name,
                                              m.output_key);
    StoreModelReply stored = store_model(self, StoreModelMsg{m.storage_key, entry.data});
    if (!ok(stored.code))
      return JobReply{stored.code, "member " + entry.name + ": " + stored.message, nullptr};
    m.file = stored.model.file;
    m.size = stored.model.size;
    m.digest = stored.model.digest;
    m.meta_data = stored.model.meta_data;
    import.models.push_back(std::move(m));
  }
  if (import.models.empty())
    return JobReply{RetCode::invalid_parameter, "Invalid request: file: the zip holds no model", nullptr};
  import.now_ms = Environment::now_ms();
  size_t count = import.models.size();
  JobReply reply = run_command(self, std::move(import));
  if (ok(reply.code))
    reply.data = Json{{"model_id", msg.model_id}, {"model_version", msg.model_version}, {"count", count}};
  return reply;
}

catalog_actor::behavior_type catalog_impl(Self self, std::shared_ptr<Environment> env) {
  self->state.env = std::move(env);
  load(self);
  return {
      [=](CatalogCommandMsg& msg) -> JobReply {
        std::visit([](auto& c) { c.now_ms = Environment::now_ms(); }, msg.command);
        return run_command(self, msg.command);
      },
      [=](StoreModelMsg& msg) -> StoreModelReply { return store_model(self, msg); },
      [=](ImportModelsMsg& msg) -> JobReply { return import_models(self, msg); },
      [=](StoreUploadMsg& msg) -> JobReply {
        if (std::string e = store::WriteFileDurably(msg.path, msg.data); !e.empty())
          return JobReply{RetCode::component_output_exception, e, nullptr};
        return JobReply{RetCode::success, "success", msg.path};
      },
  };
}

}  // namespace

catalog_actor spawn_catalog(caf::actor_system& system, std::shared_ptr<Environment> env) {
  return system.spawn<caf::detached>(catalog_impl, std::move(env));
}

}  // namespace flowstone::actors
