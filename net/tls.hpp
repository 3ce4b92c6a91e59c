// TLS for the HTTP edge and for the calls this server makes (Boost.Asio over OpenSSL): a TlsContext holds
// the certificate, key and trusted CA of one side, loaded from PEM files once at start.
//
// * Server side: the edge presents `cert` (a chain) and `key`. With `verify_clients`, a client that presents
//   a certificate must present one signed by `ca` (else the handshake fails); whether a route needs one at
//   all is the edge's rule (partner and scheduler routes do), so clients without one can still connect.
// * Client side: the peer's certificate must chain to `ca` (the system's CAs when `ca` is empty) and name
//   the host called (DNS name, or IP address for a numeric host); `cert` and `key`, when given, are this
//   side's client certificate (mTLS).
//
// Thread rules: a TlsContext is immutable after it is made and shared by all connections and threads.
#pragma once
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

typedef struct ssl_st SSL;

namespace flowstone::net {

struct TlsFiles {
  std::string cert;  // PEM certificate chain
  std::string key;   // PEM private key
  std::string ca;    // PEM bundle of the CAs trusted to sign the other side's certificate
};

class TlsContext {
 public:
  // nullptr with why (naming the file) when a file is missing or does not load.
  static std::shared_ptr<TlsContext> Server(const TlsFiles& files, bool verify_clients, std::string* error);
  static std::shared_ptr<TlsContext> Client(const TlsFiles& files, std::string* error);

  boost::asio::ssl::context& native() const { return context_; }

 private:
  explicit TlsContext(boost::asio::ssl::context::method method) : context_(method) {}
  mutable boost::asio::ssl::context context_;  // asio's API is non-const; the context is never changed
};

// Client side, before the handshake: names the host for SNI and for the certificate check.
bool expect_peer_host(SSL* ssl, const std::string& host, std::string* error);

// Server side, after the handshake: the subject of the client's certificate ("CN=...,O=..."), "" when
// the client presented none. A presented certificate that failed verification never gets here.
std::string verified_peer_subject(SSL* ssl);

// Why a handshake failed, in words (OpenSSL's verification result when that was the reason).
std::string handshake_failure(SSL* ssl, const std::string& error_message);

}  // namespace flowstone::net
