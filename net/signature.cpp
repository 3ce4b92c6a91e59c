#include "net/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>

namespace flowstone::net {
namespace {

std::string hex(const unsigned char* bytes, unsigned int size) {
  std::string out;
  char pair[3];
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(pair, sizeof pair, "%02x", bytes[i]);
    out += pair;
  }
  return out;
}

}  // namespace

std::string md5_hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_md5(), nullptr);
  return hex(digest, size);
}

std::string fate_signature(const std::string& app_id, const std::string& middle, const std::string& nonce,
                           const std::string& timestamp, const std::string& app_token) {
  return md5_hex(md5_hex(app_id + middle + nonce + timestamp) + app_token);
}

std::string hmac_sha256_signature(const std::string& app_id, const std::string& middle,
                                  const std::string& nonce, const std::string& timestamp,
                                  const std::string& app_token) {
  const std::string message = app_id + "\n" + middle + "\n" + nonce + "\n" + timestamp;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), app_token.data(), static_cast<int>(app_token.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &size);
  return hex(digest, size);
}

bool same_signature(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace flowstone::net
