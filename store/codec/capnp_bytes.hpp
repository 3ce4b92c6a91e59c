// Cap'n Proto messages as the event log's opaque bytes: the framing the codecs share. Stored bytes carry
// no alignment guarantee, so reading copies them into words first. Thread-safe.
#pragma once
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace flowstone::store {

inline std::string message_bytes(capnp::MessageBuilder& message) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// Reads `bytes` as a message whose root is `Root` and hands the root to `read`, which returns the decoded
// value or nullopt (setting *error). Bytes that are not such a message give nullopt and *error names
// `what` ("event", "catalog event").
template <typename Root, typename Read>
auto read_message(std::string_view bytes, const std::string& what, std::string* error, Read&& read)
    -> decltype(read(std::declval<typename Root::Reader>())) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    if (error) *error = what + " of " + std::to_string(bytes.size()) + " bytes is not a Cap'n Proto message";
    return std::nullopt;
  }
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  try {
    // Reading is bounded by what the bytes hold: a list of empty elements costs no bytes but one word of
    // traversal each, so a few damaged bytes cannot decode into millions of elements (the default limit,
    // 64 MiB of traversal, would let them). A sound event is read about once, so four times its words is room
    // enough.
    capnp::ReaderOptions options;
    options.traversalLimitInWords = words.size() * 4 + 64;
    capnp::FlatArrayMessageReader reader(words.asPtr(), options);
    return read(reader.getRoot<Root>());
  } catch (const std::exception& e) {
    if (error) *error = "undecodable " + what + ": " + e.what();
    return std::nullopt;
  }
}

}  // namespace flowstone::store
