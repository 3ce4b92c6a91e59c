// `flowstone proxy`: the command line around net/proxy_handler.
#include "apps/flowstone/proxy.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include "net/http_server.hpp"
#include "net/proxy_handler.hpp"
#include "net/stop_signals.hpp"

namespace flowstone::cli {
namespace {

// A decimal number in [min, max].
std::optional<int> parse_int(const std::string& text, int min, int max) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  int number = std::stoi(text);
  if (number < min || number > max) return std::nullopt;
  return number;
}

// A share in [0, 1] ("0.1").
std::optional<double> parse_share(const std::string& text) {
  char* end = nullptr;
  const double share = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(share >= 0.0 && share <= 1.0)) return std::nullopt;
  return share;
}

// "PARTY=HOST:PORT"; an IPv6 host is written in brackets ("10000=[::1]:9380").
bool parse_route(const std::string& text, std::string* party, net::PartyAddress* address) {
  const size_t equals = text.find('=');
  const size_t colon = text.rfind(':');
  if (equals == std::string::npos || equals == 0 || colon == std::string::npos || colon < equals)
    return false;
  std::string host = text.substr(equals + 1, colon - equals - 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::optional<int> port = parse_int(text.substr(colon + 1), 1, 65535);
  if (host.empty() || !port) return false;
  *party = text.substr(0, equals);
  *address = net::PartyAddress{host, static_cast<uint16_t>(*port)};
  return true;
}

}  // namespace

bool parse_proxy_args(int argc, char** argv, int first, ProxyOptions* options) {
  bool port_given = false;
  for (int i = first; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "missing value for " << flag << "\n";
      return false;
    }
    const std::string value = argv[++i];
    if (flag == "--port") {
      std::optional<int> port = parse_int(value, 0, 65535);
      if (!port) {
        std::cerr << "bad --port: " << value << "\n";
        return false;
      }
      options->port = static_cast<uint16_t>(*port);
      port_given = true;
    } else if (flag == "--host") {
      options->host = value;
    } else if (flag == "--route") {
      std::string party;
      net::PartyAddress address;
      if (!parse_route(value, &party, &address)) {
        std::cerr << "bad --route (expected PARTY_ID=HOST:PORT): " << value << "\n";
        return false;
      }
      options->routes[party] = address;
    } else if (flag == "--drop-requests" || flag == "--drop-answers" || flag == "--duplicates" ||
               flag == "--delays") {
      std::optional<double> share = parse_share(value);
      if (!share) {
        std::cerr << "bad " << flag << " (expected a share from 0 to 1, e.g. 0.1): " << value << "\n";
        return false;
      }
      double& field = flag == "--drop-requests"  ? options->faults.drop_request
                      : flag == "--drop-answers" ? options->faults.drop_answer
                      : flag == "--duplicates"   ? options->faults.duplicate
                                                 : options->faults.delay;
      field = *share;
    } else if (flag == "--max-delay-ms" || flag == "--seed") {
      std::optional<int> number = parse_int(value, 0, 600000);
      if (!number) {
        std::cerr << "bad " << flag << ": " << value << "\n";
        return false;
      }
      if (flag == "--seed") {
        options->faults.seed = static_cast<uint64_t>(*number);
      } else {
        options->faults.max_delay = std::chrono::milliseconds(*number);
      }
    } else if (flag == "--threads") {
      std::optional<int> threads = parse_int(value, 1, 256);
      if (!threads) {
        std::cerr << "bad --threads: " << value << "\n";
        return false;
      }
      options->threads = *threads;
    } else {
      std::cerr << "unknown option: " << flag << "\n";
      return false;
    }
  }
  if (!port_given) std::cerr << "flowstone proxy needs --port\n";
  return port_given;
}

int run_proxy(const ProxyOptions& options) {
  net::StopSignals stop_signals;  // before any thread exists

  net::HttpServerOptions server_options;
  server_options.host = options.host;
  server_options.port = options.port;
  net::ProxyHandlerOptions handler_options;
  handler_options.threads = options.threads;
  handler_options.faults = options.faults;
  net::HttpServer server(server_options, net::make_proxy_handler(options.routes, handler_options));
  if (std::string error = server.Start(); !error.empty()) {
    spdlog::critical("proxy: {}", error);
    return 1;
  }
  spdlog::info("proxy serving on {}:{}", options.host, server.port());
  if (options.faults.any())
    spdlog::info(
        "proxy: injecting faults: drop requests {}, drop answers {}, duplicates {}, delays {} (up to {} ms), "
        "seed {}",
        options.faults.drop_request, options.faults.drop_answer, options.faults.duplicate,
        options.faults.delay, options.faults.max_delay.count(), options.faults.seed);
  for (const auto& [party, address] : options.routes) {
    spdlog::info("proxy: party {} -> {}:{}", party, address.host, address.port);
  }

  int signal_number = stop_signals.Wait();
  spdlog::info("proxy: signal {}: stopping", signal_number);
  server.Stop();
  return 0;
}

}  // namespace flowstone::cli
