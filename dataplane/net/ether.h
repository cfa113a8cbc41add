// vnet::dp — Ethernet II and IEEE 802.1Q wire formats.
//
// Theory of operation
//   MacAddr is 6 wire bytes. EtherHdr is the 14-byte Ethernet II header
//   (IEEE 802.3 clause 3). An 802.1Q tag (IEEE 802.1Q-2018 §9.6) sits between
//   the source MAC and the EtherType: TPID 0x8100 in EtherHdr::ether_type,
//   then VlanTag {TCI (PCP:3 DEI:1 VID:12), inner EtherType}.
//
// Thread-safety
//   Plain wire structs.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <string>
#include <string_view>

#include "dataplane/net/be.h"

namespace vnet::dp::net {

struct MacAddr {
  std::array<uint8_t, 6> b{};

  constexpr bool is_multicast() const noexcept { return (b[0] & 0x01) != 0; }  // incl. broadcast
  constexpr bool is_broadcast() const noexcept { return *this == MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  constexpr bool is_zero() const noexcept { return *this == MacAddr{}; }
  // Two loads per side instead of the out-of-line memcmp std::array's == becomes.
  friend constexpr bool operator==(const MacAddr& x, const MacAddr& y) noexcept {
    if (std::is_constant_evaluated()) return x.b == y.b;
    uint32_t x4, y4;
    uint16_t x2, y2;
    std::memcpy(&x4, x.b.data(), 4);
    std::memcpy(&y4, y.b.data(), 4);
    std::memcpy(&x2, x.b.data() + 4, 2);
    std::memcpy(&y2, y.b.data() + 4, 2);
    return ((x4 ^ y4) | static_cast<uint32_t>(x2 ^ y2)) == 0;
  }

  std::string to_string() const;                            // "52:54:00:12:34:56"
  static std::optional<MacAddr> parse(std::string_view s);  // same format, any case
};

inline constexpr MacAddr kBroadcastMac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  // C-tag TPID
inline constexpr uint16_t kEtherTypeIpv6 = 0x86dd;

struct EtherHdr {
  MacAddr dst;
  MacAddr src;
  Be16 ether_type;  // or TPID 0x8100 when tagged
};

struct VlanTag {
  Be16 tci;         // PCP:3 DEI:1 VID:12
  Be16 ether_type;  // the encapsulated EtherType

  constexpr uint16_t vid() const noexcept { return tci.to_host() & 0x0fff; }
  constexpr uint8_t pcp() const noexcept { return static_cast<uint8_t>(tci.to_host() >> 13); }
};

inline constexpr size_t kEtherHdrSize = 14;
inline constexpr size_t kVlanTagSize = 4;
inline constexpr uint16_t kVlanIdMax = 4094;  // 0 = priority tag, 4095 reserved

static_assert(sizeof(MacAddr) == 6 && alignof(MacAddr) == 1);
static_assert(sizeof(EtherHdr) == kEtherHdrSize && alignof(EtherHdr) == 1);
static_assert(sizeof(VlanTag) == kVlanTagSize && alignof(VlanTag) == 1);

}  // namespace vnet::dp::net
