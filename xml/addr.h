// vnet::xml — IP and MAC address values as libvirt parses and prints them.
//
// Theory of operation
//   IpAddr holds an IPv4 or IPv6 address in network byte order. parse_ip()
//   accepts what inet_pton() accepts; format() prints the canonical form
//   (RFC 5952 for IPv6, as virSocketAddrFormat/inet_ntop do). Helpers compute
//   prefixes, masks, network/broadcast addresses and range sizes the way
//   virsocketaddr.c does, for validation and for the dataplane's compiled tables.
//
// Thread-safety
//   Plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vnet::xml {

enum class Family : uint8_t { kIpv4, kIpv6 };

struct IpAddr {
  Family family = Family::kIpv4;
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses bytes[0..3]

  static IpAddr v4(uint32_t host_order);
  uint32_t v4_host_order() const;  // only for kIpv4
  bool is_v4() const { return family == Family::kIpv4; }
  bool is_v6() const { return family == Family::kIpv6; }
  std::string format() const;
  friend bool operator==(const IpAddr&, const IpAddr&) = default;
  friend auto operator<=>(const IpAddr&, const IpAddr&) = default;
};

std::optional<IpAddr> parse_ip(std::string_view s);
std::optional<IpAddr> parse_ipv4(std::string_view s);

// Number of leading one bits of an IPv4 netmask; nullopt if not contiguous.
std::optional<unsigned> netmask_to_prefix(const IpAddr& mask);
IpAddr prefix_to_netmask_v4(unsigned prefix);
// Classful default prefix for IPv4 (A=8, B=16, C=24); nullopt for class D/E.
std::optional<unsigned> classful_prefix(const IpAddr& a);
// Address with host bits cleared / set.
IpAddr network_address(const IpAddr& a, unsigned prefix);
IpAddr broadcast_address(const IpAddr& a, unsigned prefix);  // IPv4 meaning; all-ones host part for v6
bool same_subnet(const IpAddr& a, const IpAddr& b, unsigned prefix);
// end - start + 1 for addresses of one family that differ only in the low 64 bits;
// nullopt if the families differ, start > end, or the range does not fit.
std::optional<uint64_t> range_size(const IpAddr& start, const IpAddr& end);

struct MacAddr {
  std::array<uint8_t, 6> bytes{};
  std::string format() const;  // lower case, xx:xx:xx:xx:xx:xx
  bool is_multicast() const { return (bytes[0] & 1) != 0; }
  friend bool operator==(const MacAddr&, const MacAddr&) = default;
  friend auto operator<=>(const MacAddr&, const MacAddr&) = default;
};

// virMacAddrParse: six groups of one or two hex digits separated by ':'.
std::optional<MacAddr> parse_mac(std::string_view s);

}  // namespace vnet::xml
