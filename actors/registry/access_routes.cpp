// App and permission routes (spec 1.6 /v2/app/*, /v2/permission/*): changes go to the access actor, reads
// come from the published access state. The caller is the appId of the signed request; with client and
// site authentication both off these routes answer 6001 "function restricted", as FATE-Flow's do.
#include <sstream>

#include "actors/access/access_actor.hpp"
#include "actors/access/authenticator.hpp"
#include "actors/registry/registry_parts.hpp"

namespace flowstone::actors::registry_parts {
namespace {

domain::Caller caller_of(const ApiCallMsg& call) {
  auto it = call.request.headers.find("appid");
  return domain::Caller{it == call.request.headers.end() ? "" : it->second, false};
}

bool restricted(Self self, ApiCallMsg& call) {
  if (self->state.env->config.auth.any()) return false;
  call.reply(reply(RetCode::function_restricted, "func " + call.request.route + ", function restricted"));
  return true;
}

ApiReply answer(const domain::AccessDecision& d) {
  return reply(d.code, d.message, d.data.is_null() ? Json(nullptr) : d.data);
}

void access_command(Self self, ApiCallMsg& call, domain::AccessCommand command) {
  if (restricted(self, call)) return;
  auto done = call.reply;
  self->request(self->state.env->access, kCommandTimeout, AccessCommandMsg{std::move(command)})
      .then([done](const JobReply& r) { done(reply(r.code, r.message, r.data)); },
            [done](caf::error& err) {
              done(reply(RetCode::server_exception, "access actor did not answer: " + caf::to_string(err)));
            });
}

std::shared_ptr<const domain::AccessState> access_state(Self self) {
  return self->state.env->access_board->Snapshot();
}

// A new app id no app has.
std::string fresh_app_id(const domain::AccessState& state) {
  std::string id = random_app_id();
  while (state.app(id)) id = random_app_id();
  return id;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

domain::GrantResources resources_of(const Json& params, bool revoke) {
  domain::GrantResources grant;
  grant.party_id = param(params, "party_id");
  grant.components = split_list(param(params, "component"));
  if (auto it = params.find("dataset"); it != params.end() && it->is_array())
    for (const Json& dataset : *it)
      if (dataset.is_object())
        grant.datasets.push_back(
            domain::dataset_key(dataset.value("name", ""), dataset.value("namespace", "")));
  grant.revoke = revoke;
  return grant;
}

}  // namespace

void create_client_app(Self self, ApiCallMsg& call) {
  access_command(self, call,
                 domain::CreateApp{caller_of(call), param(call.request.params, "app_name"), "client",
                                   fresh_app_id(*access_state(self)), random_app_token(), 0});
}

void delete_client_app(Self self, ApiCallMsg& call) {
  access_command(self, call,
                 domain::DeleteApp{caller_of(call), param(call.request.params, "app_id"), "", "client", 0});
}

void query_client_apps(Self self, ApiCallMsg& call) {
  if (restricted(self, call)) return;
  const Json& params = call.request.params;
  call.reply(answer(domain::query_apps(*access_state(self), caller_of(call), param(params, "app_id"),
                                       param(params, "app_name"), "")));
}

// A site's app is named by its party id; FATE calls these with init=True: no caller rules.
void create_site_app(Self self, ApiCallMsg& call) {
  const std::string party = param(call.request.params, "party_id");
  access_command(self, call,
                 domain::CreateApp{domain::Caller{"", true}, party, "site", party, random_app_token(), 0});
}

void delete_site_app(Self self, ApiCallMsg& call) {
  access_command(
      self, call,
      domain::DeleteApp{domain::Caller{"", true}, "", param(call.request.params, "party_id"), "site", 0});
}

void query_site_apps(Self self, ApiCallMsg& call) {
  if (restricted(self, call)) return;
  call.reply(answer(domain::query_apps(*access_state(self), domain::Caller{"", true}, "",
                                       param(call.request.params, "party_id"), "site")));
}

void create_partner_app(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  access_command(self, call,
                 domain::SavePartnerApp{param(params, "party_id"), param(params, "app_id"),
                                        param(params, "app_token"), 0});
}

void delete_partner_app(Self self, ApiCallMsg& call) {
  access_command(self, call, domain::DeletePartnerApp{param(call.request.params, "party_id"), 0});
}

void query_partner_apps(Self self, ApiCallMsg& call) {
  if (restricted(self, call)) return;
  const std::string party = param(call.request.params, "party_id");
  Json rows = Json::array();  // FATE's query without a filter answers nothing
  for (const auto& [id, app] : access_state(self)->partner_apps)
    if (!party.empty() && id == party) rows.push_back(domain::partner_app_row(app));
  call.reply(reply(RetCode::success, "success", rows));
}

void grant_role(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  access_command(self, call,
                 domain::GrantRole{caller_of(call), param(params, "app_id"), param(params, "role"), 0});
}

void revoke_role(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  access_command(self, call,
                 domain::RevokeRole{caller_of(call), param(params, "app_id"), param(params, "role"), 0});
}

void query_permissions(Self self, ApiCallMsg& call) {
  if (restricted(self, call)) return;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> policies;
  for (const ApiRoute& route : api_routes())
    for (const std::string& role : roles_for(route.path))
      policies[role].emplace_back(std::string("/v2/") + route.path, route.method);
  call.reply(answer(domain::query_permissions(*access_state(self), caller_of(call),
                                              param(call.request.params, "app_id"), policies)));
}

void query_roles(Self self, ApiCallMsg& call) {
  if (restricted(self, call)) return;
  call.reply(reply(RetCode::success, "success",
                   Json::array({domain::kRoleClient, domain::kRoleSuperClient, domain::kRoleSite})));
}

void grant_resources(Self self, ApiCallMsg& call) {
  access_command(self, call, resources_of(call.request.params, false));
}

void revoke_resources(Self self, ApiCallMsg& call) {
  access_command(self, call, resources_of(call.request.params, true));
}

void query_resources(Self self, ApiCallMsg& call) {
  if (restricted(self, call)) return;
  call.reply(reply(RetCode::success, "success",
                   domain::resource_grants(*access_state(self), param(call.request.params, "party_id"))));
}

}  // namespace flowstone::actors::registry_parts
