#include "store/codec/access_codec.hpp"

#include <capnp/message.h>

#include "events.capnp.h"
#include "store/codec/capnp_bytes.hpp"

namespace flowstone::store {
namespace {

std::string text(capnp::Text::Reader t) {
  return std::string(t.cStr(), t.size());
}

template <class Builder>
void put_grant(Builder b, const std::string& party_id, const std::string& kind, const std::string& value) {
  b.setPartyId(party_id);
  b.setKind(kind);
  b.setValue(value);
}

template <class Builder>
void put_role(Builder b, const std::string& app_id, const std::string& role) {
  b.setAppId(app_id);
  b.setRole(role);
}

}  // namespace

std::string encode_access_event(const domain::AccessEvent& event) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::AccessEvent>();
  root.setAtMs(event.at_ms);
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, domain::AppCreated>) {
          auto b = root.initAppCreated();
          b.setAppId(e.app.app_id);
          b.setAppName(e.app.app_name);
          b.setAppToken(e.app.app_token);
          b.setAppType(e.app.app_type);
          b.setCreateTime(e.app.create_time);
        } else if constexpr (std::is_same_v<T, domain::AppDeleted>) {
          root.setAppDeleted(e.app_id);
        } else if constexpr (std::is_same_v<T, domain::PartnerAppSaved>) {
          auto b = root.initPartnerAppSaved();
          b.setPartyId(e.app.party_id);
          b.setAppId(e.app.app_id);
          b.setAppToken(e.app.app_token);
        } else if constexpr (std::is_same_v<T, domain::PartnerAppDeleted>) {
          root.setPartnerAppDeleted(e.party_id);
        } else if constexpr (std::is_same_v<T, domain::RoleGranted>) {
          put_role(root.initRoleGranted(), e.app_id, e.role);
        } else if constexpr (std::is_same_v<T, domain::RoleRevoked>) {
          put_role(root.initRoleRevoked(), e.app_id, e.role);
        } else if constexpr (std::is_same_v<T, domain::ResourceGranted>) {
          put_grant(root.initResourceGranted(), e.party_id, e.kind, e.value);
        } else {
          put_grant(root.initResourceRevoked(), e.party_id, e.kind, e.value);
        }
      },
      event.body);
  return message_bytes(message);
}

std::optional<domain::AccessEvent> decode_access_event(std::string_view bytes, std::string* error) {
  return read_message<schema::AccessEvent>(
      bytes, "access event", error,
      [&](schema::AccessEvent::Reader root) -> std::optional<domain::AccessEvent> {
        domain::AccessEvent event;
        event.at_ms = root.getAtMs();
        switch (root.which()) {
          case schema::AccessEvent::APP_CREATED: {
            auto r = root.getAppCreated();
            event.body = domain::AppCreated{domain::App{text(r.getAppId()), text(r.getAppName()),
                                                        text(r.getAppToken()), text(r.getAppType()),
                                                        r.getCreateTime()}};
            break;
          }
          case schema::AccessEvent::APP_DELETED:
            event.body = domain::AppDeleted{text(root.getAppDeleted())};
            break;
          case schema::AccessEvent::PARTNER_APP_SAVED: {
            auto r = root.getPartnerAppSaved();
            event.body = domain::PartnerAppSaved{
                domain::PartnerApp{text(r.getPartyId()), text(r.getAppId()), text(r.getAppToken())}};
            break;
          }
          case schema::AccessEvent::PARTNER_APP_DELETED:
            event.body = domain::PartnerAppDeleted{text(root.getPartnerAppDeleted())};
            break;
          case schema::AccessEvent::ROLE_GRANTED:
            event.body = domain::RoleGranted{text(root.getRoleGranted().getAppId()),
                                             text(root.getRoleGranted().getRole())};
            break;
          case schema::AccessEvent::ROLE_REVOKED:
            event.body = domain::RoleRevoked{text(root.getRoleRevoked().getAppId()),
                                             text(root.getRoleRevoked().getRole())};
            break;
          case schema::AccessEvent::RESOURCE_GRANTED: {
            auto r = root.getResourceGranted();
            event.body = domain::ResourceGranted{text(r.getPartyId()), text(r.getKind()), text(r.getValue())};
            break;
          }
          case schema::AccessEvent::RESOURCE_REVOKED: {
            auto r = root.getResourceRevoked();
            event.body = domain::ResourceRevoked{text(r.getPartyId()), text(r.getKind()), text(r.getValue())};
            break;
          }
          default:
            if (error) *error = "unknown access event kind " + std::to_string(static_cast<int>(root.which()));
            return std::nullopt;
        }
        return event;
      });
}

}  // namespace flowstone::store
