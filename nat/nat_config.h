// vnet::nat — the NAT parameters of one network, from libvirt's
// <forward mode='nat'><nat><address start end/><port start end/></nat>.
//
// Theory of operation
//   The control plane fills a NatConfig from the NetworkDef and the uplink:
//   `inside` are the network's IPv4 <ip> subnets (libvirt's S, one NAT rule
//   set per <ip>), the outside addresses are <nat><address start end> or,
//   for masquerade, the uplink's one address (first == last), and the port
//   range is <nat><port start end> with libvirt's default 1024-65535 (both 0
//   or absent). validate() applies libvirt's start-time checks ("Invalid port
//   range" when start >= end) and vnet's own (enough ports for the workers).
//   All addresses and ports are in host byte order.
//
// Thread-safety
//   Plain values: built by the control thread, copied into each worker.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace vnet::nat {

struct Ipv4Subnet {
  uint32_t network = 0;  // host order, host bits zero
  uint8_t prefix = 0;    // 0..32

  constexpr uint32_t mask() const noexcept {
    return prefix == 0 ? 0u : ~uint32_t{0} << (32 - prefix);
  }
  constexpr bool contains(uint32_t addr) const noexcept {
    return (addr & mask()) == (network & mask());
  }
};

inline constexpr size_t kMaxSubnets = 16;
inline constexpr uint16_t kDefaultPortFirst = 1024;  // libvirt default <port start>
inline constexpr uint16_t kDefaultPortLast = 65535;  // libvirt default <port end>
inline constexpr uint16_t kMaxWorkers = 128;

// A fixed set of subnets, searched linearly (a network has a handful of <ip>).
struct SubnetSet {
  std::array<Ipv4Subnet, kMaxSubnets> items{};
  std::array<uint32_t, kMaxSubnets> masks{};  // items[i].mask(), computed by add()
  uint8_t count = 0;

  // Adds a subnet (host bits are cleared); false when full.
  bool add(uint32_t addr, uint8_t prefix) noexcept;
  // Per packet (twice on the NAT path): one AND and compare per subnet; the
  // usual one subnet without the loop.
  bool contains(uint32_t addr) const noexcept {
    if (count == 1) return (addr & masks[0]) == items[0].network;
    for (uint8_t i = 0; i < count; ++i)
      if ((addr & masks[i]) == items[i].network) return true;
    return false;
  }
};

struct NatConfig {
  SubnetSet inside;                       // the network's IPv4 subnets (libvirt S)
  uint32_t addr_first = 0;                // outside addresses, host order, inclusive
  uint32_t addr_last = 0;                 //   (masquerade: both = the uplink address)
  uint16_t port_first = kDefaultPortFirst;  // TCP/UDP outside ports, inclusive
  uint16_t port_last = kDefaultPortLast;
  uint16_t workers = 1;                   // PMD workers sharing the ranges (slices)
};

// Empty when the configuration can be used; otherwise why not.
std::string validate(const NatConfig& config);

// Dotted-quad formatting and parsing of host-order addresses (control side).
std::string format_ipv4(uint32_t addr);
bool parse_ipv4(const std::string& text, uint32_t* addr);

}  // namespace vnet::nat
