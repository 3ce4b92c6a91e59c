#include "net/networks.hpp"

#include <boost/asio/ip/address.hpp>

namespace flowstone::net {

namespace ip = boost::asio::ip;

std::string Networks::Add(const std::vector<std::string>& blocks) {
  for (const std::string& block : blocks) {
    const std::string cidr = block.find('/') == std::string::npos
                                 ? block + (block.find(':') == std::string::npos ? "/32" : "/128")
                                 : block;
    boost::system::error_code ec;
    if (cidr.find(':') == std::string::npos) {
      auto network = ip::make_network_v4(cidr, ec);
      if (ec) return block;
      v4_.push_back(network.canonical());
    } else {
      auto network = ip::make_network_v6(cidr, ec);
      if (ec) return block;
      v6_.push_back(network.canonical());
    }
  }
  return "";
}

bool Networks::Allows(const std::string& text) const {
  boost::system::error_code ec;
  ip::address address = ip::make_address(text, ec);
  if (ec) return false;
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address = ip::make_address_v4(ip::v4_mapped, address.to_v6());
  if (address.is_loopback()) return true;
  if (address.is_v4()) {
    // is_subnet_of is strict: a single address matches a /32 block by equality.
    for (const auto& network : v4_)
      if (network.address() == address.to_v4() || ip::network_v4(address.to_v4(), 32).is_subnet_of(network))
        return true;
    return false;
  }
  for (const auto& network : v6_)
    if (network.address() == address.to_v6() || ip::network_v6(address.to_v6(), 128).is_subnet_of(network))
      return true;
  return false;
}

std::string Networks::Describe() const {
  std::string out = "loopback";
  for (const auto& network : v4_) out += ", " + network.to_string();
  for (const auto& network : v6_) out += ", " + network.to_string();
  return out;
}

}  // namespace flowstone::net
