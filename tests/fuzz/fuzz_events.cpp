// libFuzzer target: the Cap'n Proto event decoders that replay reads from RocksDB. Any bytes either decode
// or are refused with a message (a damaged stream is reported, never a crash); an event that decodes
// encodes to bytes that decode, and from there encoding is stable. (Not byte-for-byte the input: a legacy
// form, such as a party with an empty role, decodes to the form this build writes.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/codec/catalog_codec.hpp"
#include "store/codec/job_codec.hpp"
#include "store/codec/party_codec.hpp"

namespace {

template <class Decode, class Encode>
void round_trip(std::string_view bytes, Decode decode, Encode encode) {
  std::string error;
  auto event = decode(bytes, &error);
  if (!event) return;
  auto second = decode(encode(*event), &error);
  if (!second) std::abort();
  const std::string stable = encode(*second);
  auto third = decode(stable, &error);
  if (!third || encode(*third) != stable) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  round_trip(bytes, flowstone::store::decode_job_event, flowstone::store::encode_job_event);
  round_trip(bytes, flowstone::store::decode_catalog_event, flowstone::store::encode_catalog_event);
  round_trip(bytes, flowstone::store::decode_party_event, flowstone::store::encode_party_event);
  return 0;
}
