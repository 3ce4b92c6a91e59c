// Encodes the Access aggregate's events (events/access/access.hpp) as Cap'n Proto messages
// (schemas/events.capnp, AccessEvent) and back. Pure and thread-safe.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "events/access/access.hpp"

namespace flowstone::store {

inline constexpr const char* kAccessStream = "access";

std::string encode_access_event(const domain::AccessEvent& event);
// nullopt if the bytes are not an AccessEvent this build understands; *error says why.
std::optional<domain::AccessEvent> decode_access_event(std::string_view bytes, std::string* error);

}  // namespace flowstone::store
