// FATE-Flow's request signatures (spec 1.4), byte for byte: a client signs with its app's token over
// appId + userName + nonce + timestamp, a site over appId + initiatorPartyId + nonce + timestamp:
//   Signature = md5hex( md5hex(appId + middle + nonce + timestamp) + app_token )   (lower-case hex)
// Beyond FATE: an `hmac-sha256` form (Signature-Method: hmac-sha256) that FATE peers never send.
// Thread-safe: no shared state.
#pragma once
#include <string>

namespace flowstone::net {

std::string md5_hex(const std::string& bytes);
std::string fate_signature(const std::string& app_id, const std::string& middle, const std::string& nonce,
                           const std::string& timestamp, const std::string& app_token);
std::string hmac_sha256_signature(const std::string& app_id, const std::string& middle,
                                  const std::string& nonce, const std::string& timestamp,
                                  const std::string& app_token);
// Equal, in time that does not depend on where they differ.
bool same_signature(const std::string& a, const std::string& b);

}  // namespace flowstone::net
