// Encodes the Catalog aggregate's events (events/catalog.hpp) as Cap'n Proto messages
// (schemas/events.capnp, CatalogEvent) and back. Pure and thread-safe.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "events/catalog/catalog.hpp"

namespace flowstone::store {

inline constexpr const char* kCatalogStream = "catalog";

std::string encode_catalog_event(const domain::CatalogEvent& event);
// nullopt if the bytes are not a CatalogEvent this build understands; *error says why.
std::optional<domain::CatalogEvent> decode_catalog_event(std::string_view bytes, std::string* error);

}  // namespace flowstone::store
