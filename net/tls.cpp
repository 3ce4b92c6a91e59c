// TLS contexts from PEM files, and the per-connection checks OpenSSL leaves to the caller (host names).
#include "net/tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>
#include <filesystem>
#include <functional>

namespace flowstone::net {
namespace {

namespace ssl = boost::asio::ssl;

// Modern protocol versions only: TLS 1.2 and 1.3.
void harden(ssl::context& context) {
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
}

bool load(const char* what, const std::string& file, std::string* error,
          const std::function<void(boost::system::error_code&)>& step) {
  std::error_code exists_error;
  if (!std::filesystem::is_regular_file(file, exists_error)) {
    *error = std::string("TLS ") + what + " file '" + file + "' does not exist";
    return false;
  }
  boost::system::error_code ec;
  step(ec);
  if (ec) *error = std::string("TLS ") + what + " file '" + file + "' does not load: " + ec.message();
  return !ec;
}

bool load_identity(ssl::context& context, const TlsFiles& files, std::string* error) {
  if (files.cert.empty() != files.key.empty()) {
    *error = "TLS certificate and key go together: " +
             std::string(files.cert.empty() ? "a key without a certificate" : "a certificate without a key");
    return false;
  }
  if (files.cert.empty()) return true;
  if (!load("certificate", files.cert, error,
            [&](auto& ec) { context.use_certificate_chain_file(files.cert, ec); }))
    return false;
  const bool key_loaded = load("key", files.key, error, [&](auto& ec) {
    context.use_private_key_file(files.key, ssl::context::pem, ec);
  });
  // OpenSSL checks the pair as it loads the key ("key values mismatch"): say it in the user's words.
  if (!key_loaded && error->find("mismatch") == std::string::npos) return false;
  if (!key_loaded || SSL_CTX_check_private_key(context.native_handle()) != 1) {
    *error = "TLS key '" + files.key + "' does not match the certificate '" + files.cert + "'";
    return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<TlsContext> TlsContext::Server(const TlsFiles& files, bool verify_clients,
                                               std::string* error) {
  std::shared_ptr<TlsContext> out(new TlsContext(ssl::context::tls_server));
  ssl::context& context = out->context_;
  harden(context);
  if (files.cert.empty()) {
    *error = "a TLS server needs a certificate and a key";
    return nullptr;
  }
  if (!load_identity(context, files, error)) return nullptr;
  if (verify_clients) {
    if (files.ca.empty()) {
      *error = "verifying client certificates needs the CA that signs them (tls.ca)";
      return nullptr;
    }
    if (!load("CA", files.ca, error, [&](auto& ec) { context.load_verify_file(files.ca, ec); }))
      return nullptr;
    // Asked for, not demanded: routes that need a client certificate are the edge's rule.
    context.set_verify_mode(ssl::verify_peer);
    // Lets TLS 1.3 clients send their certificate in the handshake rather than after it.
    SSL_CTX_set_session_id_context(context.native_handle(), reinterpret_cast<const unsigned char*>("fs"), 2);
  }
  return out;
}

std::shared_ptr<TlsContext> TlsContext::Client(const TlsFiles& files, std::string* error) {
  std::shared_ptr<TlsContext> out(new TlsContext(ssl::context::tls_client));
  ssl::context& context = out->context_;
  harden(context);
  if (files.ca.empty()) {
    boost::system::error_code ec;
    context.set_default_verify_paths(ec);
    if (ec) {
      *error = "cannot load the system's CA certificates: " + ec.message();
      return nullptr;
    }
  } else if (!load("CA", files.ca, error, [&](auto& ec) { context.load_verify_file(files.ca, ec); })) {
    return nullptr;
  }
  context.set_verify_mode(ssl::verify_peer);
  if (!load_identity(context, files, error)) return nullptr;
  return out;
}

bool expect_peer_host(SSL* ssl, const std::string& host, std::string* error) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  bool ok;
  if (!ec) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1 &&
         SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
  }
  if (!ok) *error = "cannot set the expected TLS peer name '" + host + "'";
  return ok;
}

std::string verified_peer_subject(SSL* ssl) {
  X509* peer = SSL_get1_peer_certificate(ssl);
  if (!peer) return "";
  std::string subject;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio) {
      X509_NAME_print_ex(bio, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253);
      char* data = nullptr;
      long size = BIO_get_mem_data(bio, &data);
      if (size > 0 && data) subject.assign(data, static_cast<size_t>(size));
      BIO_free(bio);
    }
  }
  X509_free(peer);
  return subject;
}

std::string handshake_failure(SSL* ssl, const std::string& error_message) {
  long result = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (result != X509_V_OK)
    return "TLS handshake: certificate rejected: " + std::string(X509_verify_cert_error_string(result));
  return "TLS handshake: " + error_message;
}

}  // namespace flowstone::net
