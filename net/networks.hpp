// Networks: the addresses a kind of caller may come from, as CIDR blocks ("10.0.0.0/8", "fd00::/8") plus
// loopback, which is always allowed. Worker routes accept calls only from these (flowstone.worker_networks):
// a worker runs on this machine or on the site's own compute network, never on the internet. IPv4 clients
// seen through an IPv6 socket ("::ffff:10.1.2.3") match the IPv4 blocks. Immutable; thread-safe.
#pragma once
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <string>
#include <vector>

namespace flowstone::net {

class Networks {
 public:
  Networks() = default;
  // Each entry a CIDR block or a single address. Returns the first that does not parse, "" if all do.
  std::string Add(const std::vector<std::string>& blocks);
  bool Allows(const std::string& address) const;
  std::string Describe() const;  // "loopback, 10.0.0.0/8" for error messages

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

}  // namespace flowstone::net
