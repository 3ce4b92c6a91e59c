#include "events/access/access.hpp"

#include <algorithm>

namespace flowstone::domain {
namespace {

AccessDecision refuse(RetCode code, std::string message) {
  AccessDecision d;
  d.code = code;
  d.message = std::move(message);
  return d;
}

AccessDecision no_permission() {
  return refuse(RetCode::no_permission, "No permission");
}

// FATE's role of the caller of an app or permission route: admin, super_client or client; none (refused)
// when the app holds no role.
std::optional<std::string> caller_role(const AccessState& state, const Caller& caller) {
  if (caller.app_id == kAdminAppId) return std::string(kAdminAppId);
  auto it = state.roles.find(caller.app_id);
  if (it == state.roles.end() || it->second.empty()) return std::nullopt;
  return std::string(it->second.count(kRoleSuperClient) ? kRoleSuperClient : kRoleClient);
}

// The role FATE compares the caller's against: the target app's.
std::string target_role(const AccessState& state, const std::string& app_id) {
  if (app_id == kAdminAppId) return kAdminAppId;
  return state.has_role(app_id, kRoleSuperClient) ? kRoleSuperClient : kRoleClient;
}

AccessEvent at(int64_t now_ms, AccessEventBody body) {
  return AccessEvent{now_ms, std::move(body)};
}

AccessDecision bootstrap(const AccessState& state, const Bootstrap& c) {
  AccessDecision d;
  if (!state.app(kAdminAppId))
    d.events.push_back(
        at(c.now_ms, AppCreated{App{kAdminAppId, kAdminAppId, kAdminToken, "admin", c.now_ms}}));
  if (!state.app(c.party_id)) {
    d.events.push_back(at(c.now_ms, AppCreated{App{c.party_id, c.party_id, c.site_token, "site", c.now_ms}}));
    d.events.push_back(at(c.now_ms, RoleGranted{c.party_id, kRoleSite}));
    if (!state.partner_apps.count(c.party_id))
      d.events.push_back(at(c.now_ms, PartnerAppSaved{PartnerApp{c.party_id, c.party_id, c.site_token}}));
  }
  return d;
}

AccessDecision create_app(const AccessState& state, const CreateApp& c) {
  if (!c.caller.trusted) {
    auto role = caller_role(state, c.caller);
    if (!role || *role == kRoleClient) return no_permission();
  }
  if (state.app(c.app_id)) return refuse(RetCode::permission_operate_error, "app_id " + c.app_id + " exists");
  if (c.app_type == "site" && state.app_named(c.app_name, "site"))
    return refuse(RetCode::permission_operate_error, "party " + c.app_name + " has a site app");
  AccessDecision d;
  App app{c.app_id, c.app_name, c.app_token, c.app_type, c.now_ms};
  d.events.push_back(at(c.now_ms, AppCreated{app}));
  if (c.app_type == "site") d.events.push_back(at(c.now_ms, RoleGranted{c.app_id, kRoleSite}));
  d.data = Json{{"app_name", app.app_name},
                {"app_id", app.app_id},
                {"app_token", app.app_token},
                {"app_type", app.app_type}};
  return d;
}

AccessDecision delete_app(const AccessState& state, const DeleteApp& c) {
  const App* target = !c.app_id.empty() ? state.app(c.app_id) : state.app_named(c.app_name, c.app_type);
  if (!c.caller.trusted) {
    auto role = caller_role(state, c.caller);
    if (!role) return no_permission();
    if (c.app_id == c.caller.app_id ||
        (*role == kRoleSuperClient && target_role(state, c.app_id) == kAdminAppId) || *role == kRoleClient)
      return no_permission();
  }
  // `flow client delete-client` deletes client apps only (FATE deletes by app_id and app_type).
  if (target && !c.app_type.empty() && target->app_type != c.app_type) target = nullptr;
  AccessDecision d;
  d.data = Json{{"status", target != nullptr && target->app_id != kAdminAppId}};
  if (!target || target->app_id == kAdminAppId) return d;
  d.events.push_back(at(c.now_ms, AppDeleted{target->app_id}));
  if (auto it = state.roles.find(target->app_id); it != state.roles.end())
    for (const std::string& role : it->second)
      d.events.push_back(at(c.now_ms, RoleRevoked{target->app_id, role}));
  return d;
}

bool known_role(const std::string& role) {
  return role == kRoleClient || role == kRoleSuperClient || role == kRoleSite;
}

AccessDecision grant_role(const AccessState& state, const GrantRole& c) {
  if (!c.caller.trusted) {
    auto role = caller_role(state, c.caller);
    if (!role) return no_permission();
    const std::string target = target_role(state, c.app_id);
    auto held = state.roles.find(c.app_id);
    const bool target_has_roles = held != state.roles.end() && !held->second.empty();
    if ((*role == kAdminAppId && target == kAdminAppId) || (*role == kRoleSuperClient && target_has_roles) ||
        *role == kRoleClient)
      return no_permission();
  }
  if (!known_role(c.role)) return refuse(RetCode::invalid_parameter, "role " + c.role + " is not a role");
  const App* app = state.app(c.app_id);
  if (!app) return refuse(RetCode::no_found_appid, "No found appid: " + c.app_id);
  const std::string type_of_role = c.role == kRoleSuperClient ? kRoleClient : c.role;
  if (type_of_role != app->app_type) return refuse(RetCode::role_type_error, "Role type error: " + c.role);
  AccessDecision d;
  if (auto held = state.roles.find(c.app_id); held != state.roles.end())
    for (const std::string& role : held->second)
      if (role != c.role) d.events.push_back(at(c.now_ms, RoleRevoked{c.app_id, role}));
  if (!state.has_role(c.app_id, c.role)) d.events.push_back(at(c.now_ms, RoleGranted{c.app_id, c.role}));
  d.data = Json{{"status", true}};
  return d;
}

AccessDecision revoke_role(const AccessState& state, const RevokeRole& c) {
  if (!c.caller.trusted) {
    auto role = caller_role(state, c.caller);
    if (!role) return no_permission();
    const std::string target = target_role(state, c.app_id);
    if (*role == target || (*role == kRoleSuperClient && target != kRoleClient) || *role == kRoleClient)
      return no_permission();
  }
  if (!known_role(c.role)) return refuse(RetCode::invalid_parameter, "role " + c.role + " is not a role");
  if (!state.app(c.app_id)) return refuse(RetCode::no_found_appid, "No found appid: " + c.app_id);
  AccessDecision d;
  const bool held = state.has_role(c.app_id, c.role);
  if (held) d.events.push_back(at(c.now_ms, RoleRevoked{c.app_id, c.role}));
  d.data = Json{{"status", held}};
  return d;
}

AccessDecision grant_resources(const AccessState& state, const GrantResources& c) {
  AccessDecision d;
  auto held = [&](const char* kind) {
    auto party = state.grants.find(c.party_id);
    if (party == state.grants.end()) return std::set<std::string>{};
    auto values = party->second.find(kind);
    return values == party->second.end() ? std::set<std::string>{} : values->second;
  };
  for (const char* kind : {"component", "dataset"}) {
    const auto& values = std::string(kind) == "component" ? c.components : c.datasets;
    const std::set<std::string> have = held(kind);
    for (const std::string& value : values) {
      if (c.revoke && value == "*") {
        for (const std::string& v : have)
          d.events.push_back(at(c.now_ms, ResourceRevoked{c.party_id, kind, v}));
        continue;
      }
      if (c.revoke && have.count(value))
        d.events.push_back(at(c.now_ms, ResourceRevoked{c.party_id, kind, value}));
      if (!c.revoke && !have.count(value))
        d.events.push_back(at(c.now_ms, ResourceGranted{c.party_id, kind, value}));
    }
  }
  return d;
}

}  // namespace

const App* AccessState::app(const std::string& app_id) const {
  auto it = apps.find(app_id);
  return it == apps.end() ? nullptr : &it->second;
}

const App* AccessState::app_named(const std::string& app_name, const std::string& app_type) const {
  for (const auto& [id, app] : apps)
    if (app.app_name == app_name && app.app_type == app_type) return &app;
  return nullptr;
}

bool AccessState::has_role(const std::string& app_id, const std::string& role) const {
  auto it = roles.find(app_id);
  return it != roles.end() && it->second.count(role) > 0;
}

AccessDecision decide(const AccessState& state, const AccessCommand& command) {
  return std::visit(
      [&](const auto& c) -> AccessDecision {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, Bootstrap>) {
          return bootstrap(state, c);
        } else if constexpr (std::is_same_v<T, CreateApp>) {
          return create_app(state, c);
        } else if constexpr (std::is_same_v<T, DeleteApp>) {
          return delete_app(state, c);
        } else if constexpr (std::is_same_v<T, SavePartnerApp>) {
          AccessDecision d;
          PartnerApp app{c.party_id, c.app_id, c.app_token};
          d.events.push_back(at(c.now_ms, PartnerAppSaved{app}));
          d.data = partner_app_row(app);
          return d;
        } else if constexpr (std::is_same_v<T, DeletePartnerApp>) {
          AccessDecision d;
          const bool held = state.partner_apps.count(c.party_id) > 0;
          if (held) d.events.push_back(at(c.now_ms, PartnerAppDeleted{c.party_id}));
          d.data = Json{{"status", held}};
          return d;
        } else if constexpr (std::is_same_v<T, GrantRole>) {
          return grant_role(state, c);
        } else if constexpr (std::is_same_v<T, RevokeRole>) {
          return revoke_role(state, c);
        } else {
          return grant_resources(state, c);
        }
      },
      command);
}

void apply(AccessState& state, const AccessEvent& event) {
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, AppCreated>) {
          state.apps[e.app.app_id] = e.app;
        } else if constexpr (std::is_same_v<T, AppDeleted>) {
          state.apps.erase(e.app_id);
        } else if constexpr (std::is_same_v<T, PartnerAppSaved>) {
          PartnerApp& saved = state.partner_apps[e.app.party_id];
          const int64_t created = saved.create_time != 0 ? saved.create_time : event.at_ms;
          saved = e.app;
          saved.create_time = created;
          saved.update_time = event.at_ms;
        } else if constexpr (std::is_same_v<T, PartnerAppDeleted>) {
          state.partner_apps.erase(e.party_id);
        } else if constexpr (std::is_same_v<T, RoleGranted>) {
          state.roles[e.app_id].insert(e.role);
        } else if constexpr (std::is_same_v<T, RoleRevoked>) {
          state.roles[e.app_id].erase(e.role);
        } else if constexpr (std::is_same_v<T, ResourceGranted>) {
          state.grants[e.party_id][e.kind].insert(e.value);
        } else {
          state.grants[e.party_id][e.kind].erase(e.value);
        }
      },
      event.body);
}

Json app_row(const App& app) {
  return Json{{"app_name", app.app_name},
              {"app_id", app.app_id},
              {"app_token", app.app_token},
              {"app_type", app.app_type},
              {"create_time", app.create_time},
              {"update_time", app.create_time}};  // an app never changes
}

Json partner_app_row(const PartnerApp& app) {
  return Json{{"party_id", app.party_id},
              {"app_id", app.app_id},
              {"app_token", app.app_token},
              {"create_time", app.create_time},
              {"update_time", app.update_time}};
}

AccessDecision query_apps(const AccessState& state, const Caller& caller, const std::string& app_id,
                          const std::string& app_name, const std::string& app_type) {
  if (!caller.trusted) {
    auto role = caller_role(state, caller);
    if (!role) return no_permission();
    const std::string target = target_role(state, app_id);
    if (*role == kRoleSuperClient &&
        ((target == kRoleSuperClient && caller.app_id != app_id) || target != kRoleClient))
      return no_permission();
    if (*role == kRoleClient && caller.app_id != app_id) return no_permission();
  }
  AccessDecision d;
  d.data = Json::array();
  if (app_id.empty() && app_name.empty()) return d;  // FATE's query without a filter answers nothing
  for (const auto& [id, app] : state.apps)
    if ((app_id.empty() || id == app_id) && (app_name.empty() || app.app_name == app_name) &&
        (app_type.empty() || app.app_type == app_type))
      d.data.push_back(app_row(app));
  return d;
}

AccessDecision query_permissions(
    const AccessState& state, const Caller& caller, const std::string& app_id,
    const std::map<std::string, std::vector<std::pair<std::string, std::string>>>& policies) {
  if (!caller.trusted) {
    auto role = caller_role(state, caller);
    if (!role) return no_permission();
    if (*role == kRoleClient && caller.app_id != app_id) return no_permission();
  }
  if (!state.app(app_id)) return refuse(RetCode::no_found_appid, "No found appid: " + app_id);
  AccessDecision d;
  d.data = Json::object();
  if (auto held = state.roles.find(app_id); held != state.roles.end())
    for (const std::string& role : held->second) {
      Json rules = Json::array();
      if (auto it = policies.find(role); it != policies.end())
        for (const auto& [path, method] : it->second) rules.push_back(Json::array({role, path, method}));
      d.data[role] = rules;
    }
  return d;
}

std::string dataset_key(const std::string& name, const std::string& ns) {
  return "{\"name\"-" + Json(name).dump() + ";\"namespace\"-" + Json(ns).dump() + "}";
}

Json resource_grants(const AccessState& state, const std::string& party_id) {
  Json out{{"dataset", Json::array()}, {"component", Json::array()}};
  auto party = state.grants.find(party_id);
  if (party == state.grants.end()) return out;
  if (auto it = party->second.find("component"); it != party->second.end())
    for (const std::string& name : it->second) out["component"].push_back(name);
  if (auto it = party->second.find("dataset"); it != party->second.end())
    for (const std::string& key : it->second) {
      // {"name"-"x";"namespace"-"y"} back to {"name": "x", "namespace": "y"} (table names are safe words:
      // no quote or ';' inside, events/common/ids.hpp)
      std::string as_json = key;
      std::replace(as_json.begin(), as_json.end(), ';', ',');
      for (size_t at_quote = as_json.find("\"-"); at_quote != std::string::npos;
           at_quote = as_json.find("\"-"))
        as_json.replace(at_quote, 2, "\":");
      Json dataset = Json::parse(as_json, nullptr, false);
      out["dataset"].push_back(dataset.is_discarded() ? Json(key) : dataset);
    }
  return out;
}

std::string resources_refused(const AccessState& state, const std::string& initiator,
                              const std::vector<std::string>& components,
                              const std::vector<std::string>& datasets) {
  auto granted = [&](const char* kind, const std::string& value) {
    auto party = state.grants.find(initiator);
    if (party == state.grants.end()) return false;
    auto values = party->second.find(kind);
    return values != party->second.end() && (values->second.count("*") || values->second.count(value));
  };
  for (const std::string& component : components)
    if (!granted("component", component))
      return "component " + component + " is not granted to party " + initiator;
  for (const std::string& dataset : datasets)
    if (!granted("dataset", dataset)) return "dataset " + dataset + " is not granted to party " + initiator;
  return "";
}

std::string describe_access_event(const AccessEvent& event) {
  return std::visit(
      [](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, AppCreated>) {
          return "app created: " + e.app.app_id + " (" + e.app.app_type + " " + e.app.app_name + ")";
        } else if constexpr (std::is_same_v<T, AppDeleted>) {
          return "app deleted: " + e.app_id;
        } else if constexpr (std::is_same_v<T, PartnerAppSaved>) {
          return "partner app of party " + e.app.party_id + ": " + e.app.app_id;
        } else if constexpr (std::is_same_v<T, PartnerAppDeleted>) {
          return "partner app of party " + e.party_id + " deleted";
        } else if constexpr (std::is_same_v<T, RoleGranted>) {
          return "role " + e.role + " granted to " + e.app_id;
        } else if constexpr (std::is_same_v<T, RoleRevoked>) {
          return "role " + e.role + " revoked from " + e.app_id;
        } else if constexpr (std::is_same_v<T, ResourceGranted>) {
          return e.kind + " " + e.value + " granted to party " + e.party_id;
        } else {
          return e.kind + " " + e.value + " revoked from party " + e.party_id;
        }
      },
      event.body);
}

}  // namespace flowstone::domain
