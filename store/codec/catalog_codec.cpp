#include "store/codec/catalog_codec.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstring>

#include "events.capnp.h"
#include "store/codec/capnp_bytes.hpp"

namespace flowstone::store {
namespace {

std::string text(capnp::Text::Reader t) {
  return std::string(t.cStr(), t.size());
}

Json json_text(capnp::Text::Reader t, bool* ok) {
  Json value = Json::parse(std::string_view(t.cStr(), t.size()), nullptr, false);
  if (value.is_discarded()) *ok = false;
  return value;
}

void put_table(schema::TableMeta::Builder b, const domain::TableMeta& t) {
  b.setNamespace(t.ns);
  b.setName(t.name);
  b.setEngine(t.engine);
  b.setPath(t.path);
  b.setDataType(t.data_type);
  b.setJobId(t.job_id);
  b.setCount(t.count);
  b.setPartitions(t.partitions);
  b.setMetaJson(t.meta.dump());
  b.setPartOfDataJson(t.part_of_data.dump());
  b.setSourceJson(t.source.dump());
  b.setCreateTime(t.create_time);
}

domain::TableMeta get_table(schema::TableMeta::Reader r, bool* ok) {
  domain::TableMeta t;
  t.ns = text(r.getNamespace());
  t.name = text(r.getName());
  t.engine = text(r.getEngine());
  t.path = text(r.getPath());
  t.data_type = text(r.getDataType());
  t.job_id = text(r.getJobId());
  t.count = r.getCount();
  t.partitions = r.getPartitions();
  t.meta = json_text(r.getMetaJson(), ok);
  t.part_of_data = json_text(r.getPartOfDataJson(), ok);
  t.source = json_text(r.getSourceJson(), ok);
  t.create_time = r.getCreateTime();
  return t;
}

void put_provider(schema::ProviderInfo::Builder b, const domain::ProviderInfo& p) {
  b.setName(p.name);
  b.setVersion(p.version);
  b.setDevice(p.device);
  b.setProtocol(p.protocol);
  b.setMetadataJson(p.metadata.dump());
  auto list = b.initComponents(p.components.size());
  for (size_t i = 0; i < p.components.size(); ++i) list.set(i, p.components[i]);
  b.setCreateTime(p.create_time);
  b.setUpdateTime(p.update_time);
}

domain::ProviderInfo get_provider(schema::ProviderInfo::Reader r, bool* ok) {
  domain::ProviderInfo p;
  p.name = text(r.getName());
  p.version = text(r.getVersion());
  p.device = text(r.getDevice());
  p.protocol = text(r.getProtocol());
  p.metadata = json_text(r.getMetadataJson(), ok);
  for (auto c : r.getComponents()) p.components.push_back(text(c));
  p.create_time = r.getCreateTime();
  p.update_time = r.getUpdateTime();
  return p;
}

void put_model(schema::ImportedModel::Builder b, const domain::ImportedModel& m) {
  b.setModelId(m.model_id);
  b.setModelVersion(m.model_version);
  b.setRole(m.role);
  b.setPartyId(m.party_id);
  b.setTaskName(m.task_name);
  b.setOutputKey(m.output_key);
  b.setStorageKey(m.storage_key);
  b.setFile(m.file);
  b.setSha256(m.digest);
  b.setSize(m.size);
  b.setMetaDataJson(m.meta_data.dump());
  b.setCreateTime(m.create_time);
}

domain::ImportedModel get_model(schema::ImportedModel::Reader r, bool* ok) {
  domain::ImportedModel m;
  m.model_id = text(r.getModelId());
  m.model_version = text(r.getModelVersion());
  m.role = text(r.getRole());
  m.party_id = text(r.getPartyId());
  m.task_name = text(r.getTaskName());
  m.output_key = text(r.getOutputKey());
  m.storage_key = text(r.getStorageKey());
  m.file = text(r.getFile());
  m.digest = text(r.getSha256());
  m.size = r.getSize();
  m.meta_data = json_text(r.getMetaDataJson(), ok);
  m.create_time = r.getCreateTime();
  return m;
}

void put_server(schema::ServerInfo::Builder b, const domain::ServerInfo& s) {
  b.setServerName(s.server_name);
  b.setHost(s.host);
  b.setPort(s.port);
  b.setProtocol(s.protocol);
  b.setCreateTime(s.create_time);
  b.setUpdateTime(s.update_time);
}

domain::ServerInfo get_server(schema::ServerInfo::Reader r) {
  domain::ServerInfo s;
  s.server_name = text(r.getServerName());
  s.host = text(r.getHost());
  s.port = r.getPort();
  s.protocol = text(r.getProtocol());
  s.create_time = r.getCreateTime();
  s.update_time = r.getUpdateTime();
  return s;
}

void put_service(schema::ServiceInfo::Builder b, const domain::ServiceInfo& s) {
  b.setServerName(s.server_name);
  b.setServiceName(s.service_name);
  b.setUrl(s.url);
  b.setMethod(s.method);
  b.setProtocol(s.protocol);
  b.setParamsJson(s.params.dump());
  b.setDataJson(s.data.dump());
  b.setHeadersJson(s.headers.dump());
  b.setCreateTime(s.create_time);
  b.setUpdateTime(s.update_time);
}

domain::ServiceInfo get_service(schema::ServiceInfo::Reader r, bool* ok) {
  domain::ServiceInfo s;
  s.server_name = text(r.getServerName());
  s.service_name = text(r.getServiceName());
  s.url = text(r.getUrl());
  s.method = text(r.getMethod());
  s.protocol = text(r.getProtocol());
  s.params = json_text(r.getParamsJson(), ok);
  s.data = json_text(r.getDataJson(), ok);
  s.headers = json_text(r.getHeadersJson(), ok);
  s.create_time = r.getCreateTime();
  s.update_time = r.getUpdateTime();
  return s;
}

}  // namespace

std::string encode_catalog_event(const domain::CatalogEvent& event) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::CatalogEvent>();
  root.setAtMs(event.at_ms);
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, domain::TableRegistered>) {
          put_table(root.initTableRegistered(), e.table);
        } else if constexpr (std::is_same_v<T, domain::TableDeleted>) {
          auto b = root.initTableDeleted();
          b.setNamespace(e.ns);
          b.setName(e.name);
        } else if constexpr (std::is_same_v<T, domain::ProviderRegistered>) {
          put_provider(root.initProviderRegistered(), e.provider);
        } else if constexpr (std::is_same_v<T, domain::ProviderDeleted>) {
          auto b = root.initProviderDeleted();
          b.setName(e.name);
          b.setVersion(e.version);
          b.setDevice(e.device);
        } else if constexpr (std::is_same_v<T, domain::ModelImported>) {
          put_model(root.initModelImported(), e.model);
        } else if constexpr (std::is_same_v<T, domain::ImportedModelDeleted>) {
          root.setImportedModelDeleted(e.storage_key);
        } else if constexpr (std::is_same_v<T, domain::ServerRegistered>) {
          put_server(root.initServerRegistered(), e.server);
        } else if constexpr (std::is_same_v<T, domain::ServerDeleted>) {
          root.setServerDeleted(e.server_name);
        } else if constexpr (std::is_same_v<T, domain::ServiceRegistered>) {
          put_service(root.initServiceRegistered(), e.service);
        } else {
          auto b = root.initServiceDeleted();
          b.setServerName(e.server_name);
          b.setServiceName(e.service_name);
        }
      },
      event.body);
  return message_bytes(message);
}

std::optional<domain::CatalogEvent> decode_catalog_event(std::string_view bytes, std::string* error) {
  return read_message<schema::CatalogEvent>(
      bytes, "catalog event", error,
      [&](schema::CatalogEvent::Reader root) -> std::optional<domain::CatalogEvent> {
        domain::CatalogEvent event;
        event.at_ms = root.getAtMs();
        bool ok = true;
        switch (root.which()) {
          case schema::CatalogEvent::TABLE_REGISTERED:
            event.body = domain::TableRegistered{get_table(root.getTableRegistered(), &ok)};
            break;
          case schema::CatalogEvent::TABLE_DELETED:
            event.body = domain::TableDeleted{text(root.getTableDeleted().getNamespace()),
                                              text(root.getTableDeleted().getName())};
            break;
          case schema::CatalogEvent::PROVIDER_REGISTERED:
            event.body = domain::ProviderRegistered{get_provider(root.getProviderRegistered(), &ok)};
            break;
          case schema::CatalogEvent::PROVIDER_DELETED: {
            auto r = root.getProviderDeleted();
            event.body =
                domain::ProviderDeleted{text(r.getName()), text(r.getVersion()), text(r.getDevice())};
            break;
          }
          case schema::CatalogEvent::MODEL_IMPORTED:
            event.body = domain::ModelImported{get_model(root.getModelImported(), &ok)};
            break;
          case schema::CatalogEvent::IMPORTED_MODEL_DELETED:
            event.body = domain::ImportedModelDeleted{text(root.getImportedModelDeleted())};
            break;
          case schema::CatalogEvent::SERVER_REGISTERED:
            event.body = domain::ServerRegistered{get_server(root.getServerRegistered())};
            break;
          case schema::CatalogEvent::SERVER_DELETED:
            event.body = domain::ServerDeleted{text(root.getServerDeleted())};
            break;
          case schema::CatalogEvent::SERVICE_REGISTERED:
            event.body = domain::ServiceRegistered{get_service(root.getServiceRegistered(), &ok)};
            break;
          case schema::CatalogEvent::SERVICE_DELETED:
            event.body = domain::ServiceDeleted{text(root.getServiceDeleted().getServerName()),
                                                text(root.getServiceDeleted().getServiceName())};
            break;
          default:
            if (error)
              *error = "unknown catalog event kind " + std::to_string(static_cast<int>(root.which()));
            return std::nullopt;
        }
        if (!ok) {
          if (error) *error = "catalog event carries undecodable JSON";
          return std::nullopt;
        }
        return event;
      });
}

}  // namespace flowstone::store
