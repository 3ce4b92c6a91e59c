// Encodes the events of a party's stream (the ledger, events/resources/ledger.hpp) as Cap'n Proto
// messages (schemas/events.capnp PartyEvent) and back. Pure and thread-safe.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "events/resources/ledger.hpp"

namespace flowstone::store {

// "party:<party_id>": the stream of this party's ledger.
std::string party_stream(const std::string& party_id);

std::string encode_party_event(const domain::LedgerEvent& event);
// nullopt if the bytes are not a PartyEvent this build understands; *error says why.
std::optional<domain::LedgerEvent> decode_party_event(std::string_view bytes, std::string* error);

// The ledger's state as a snapshot (schema LedgerSnapshot, format 1), and back; nullopt (with *error) for
// bytes that are not one, or of a format this build does not read.
std::string encode_ledger_snapshot(const domain::LedgerState& state);
std::optional<domain::LedgerState> decode_ledger_snapshot(std::string_view bytes, std::string* error);

}  // namespace flowstone::store
