#include "actors/catalog/catalog_actor.hpp"

#include <openssl/evp.h>

#include <filesystem>
#include <map>

#include "actors/outputs.hpp"
#include "actors/persistence/aggregate_parts.hpp"
#include "actors/persistence/detached_owner.hpp"
#include "actors/persistence/event_sourced.hpp"
#include "events/common/ids.hpp"
#include "net/archive.hpp"
#include "net/yaml_json.hpp"
#include "store/codec/catalog_codec.hpp"
#include "store/files.hpp"

namespace flowstone::actors {
namespace {

namespace fs = std::filesystem;

struct CatalogAggregate : StampedAggregate<domain::CatalogState, domain::CatalogEvent, domain::CatalogCommand,
                                           domain::CatalogDecision> {
  static std::string encode(const Event& event) { return store::encode_catalog_event(event); }
  static std::optional<Event> decode(std::string_view bytes, std::string* error) {
    return store::decode_catalog_event(bytes, error);
  }
  static std::vector<store::ViewWrite> view_changes(const State& before, const State& after,
                                                    const std::vector<Event>& events) {
    return view_writes(domain::catalog_view_changes(before, after, events));
  }
  static Decision storage_error(const std::string& why) {
    Decision d;
    d.code = RetCode::server_exception;
    d.message = "cannot store the catalog change: " + why;
    return d;
  }
};

struct CatalogActorState;
using Self = catalog_actor::stateful_pointer<CatalogActorState>;

class CatalogOwner : public DetachedOwner<CatalogAggregate, catalog_actor> {
 public:
  explicit CatalogOwner(Self self);
  void recovered() override {}
  void persisted(const CatalogAggregate::Decision& decision) override;
  void damaged(const std::string& why) override;

 private:
  Self self_;
};

struct CatalogActorState {
  std::shared_ptr<Environment> env;
  std::unique_ptr<CatalogOwner> owner;
  std::unique_ptr<EventSourced<CatalogAggregate>> host;
  static inline const char* name = "flowstone.catalog";
};

CatalogOwner::CatalogOwner(Self self) : DetachedOwner(self, self->state.env), self_(self) {}

void CatalogOwner::persisted(const CatalogAggregate::Decision& decision) {
  for (const auto& event : decision.events)
    self_->state.env->server_log->info("catalog: {}", domain::describe_catalog_event(event));
}

void CatalogOwner::damaged(const std::string& why) {
  self_->state.env->server_log->error("catalog: {}; tables, providers and imported models are not served",
                                      why);
  self_->state.env->damaged->Mark(store::kCatalogStream, why);
}

// A catalog command, answered once its events are durable.
caf::result<JobReply> run_command(Self self, domain::CatalogCommand command,
                                  std::function<void(JobReply&)> finish = nullptr) {
  auto promise = self->make_response_promise<JobReply>();
  self->state.host->submit(std::move(command), "",
                           [promise, finish](const CatalogAggregate::Decision& d) mutable {
                             JobReply reply{d.code, d.message, d.data};
                             if (finish && ok(reply.code)) finish(reply);
                             promise.deliver(std::move(reply));
                           });
  return promise;
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
caf::result<JobReply> import_models(Self self, const ImportModelsMsg& msg) {
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
  const size_t count = import.models.size();
  return run_command(self, std::move(import), [msg, count](JobReply& reply) {
    reply.data = Json{{"model_id", msg.model_id}, {"model_version", msg.model_version}, {"count", count}};
  });
}

catalog_actor::behavior_type catalog_impl(Self self, std::shared_ptr<Environment> env) {
  auto& st = self->state;
  st.env = std::move(env);
  st.owner = std::make_unique<CatalogOwner>(self);
  st.host = std::make_unique<EventSourced<CatalogAggregate>>(store::kCatalogStream, st.owner.get());
  st.owner->bind(st.host.get());
  st.host->start();
  return {
      [=](CatalogCommandMsg& msg) -> caf::result<JobReply> {
        return run_command(self, std::move(msg.command));
      },
      [=](AppendDoneMsg& done) { self->state.host->appended(done.ticket, done.result); },
      [=](StoreModelMsg& msg) -> StoreModelReply { return store_model(self, msg); },
      [=](ImportModelsMsg& msg) -> caf::result<JobReply> { return import_models(self, msg); },
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
