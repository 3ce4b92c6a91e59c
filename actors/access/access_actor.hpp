// The access actor: the one owner of the access aggregate (events/access/access.hpp, stream "access"):
// apps and their tokens, partner apps, roles and resource grants. Commands are decided, appended (synced)
// and applied one at a time; after each change the new state is published to the AccessBoard. When
// authentication is on, the first start creates the admin app and this site's own app (with a random
// token), as FATE-Flow does, and later starts keep them.
//
// Thread rules: detached (blocking appends and replay reads); state is touched only by its handlers.
#pragma once
#include <memory>
#include <string>

#include "actors/environment.hpp"

namespace flowstone::actors {

access_actor spawn_access(caf::actor_system& system, std::shared_ptr<Environment> env);

// FATE's generated ids and tokens: 8 digits for an app id, 16 letters and digits for a token.
std::string random_app_id();
std::string random_app_token();

}  // namespace flowstone::actors
