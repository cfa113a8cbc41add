// vnet::dp — IPv4 header (RFC 791).
//
// Thread-safety
//   Plain wire struct.
#pragma once

#include <cstdint>

#include "dataplane/net/be.h"

namespace vnet::dp::net {

inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;

struct Ipv4Hdr {
  uint8_t version_ihl;  // version:4 (=4), IHL:4 in 32-bit words (>= 5)
  uint8_t tos;          // DSCP:6 ECN:2
  Be16 total_length;    // bytes, header + payload
  Be16 id;
  Be16 frag;            // flags:3 fragment offset:13 (8-byte units)
  uint8_t ttl;
  uint8_t protocol;
  Be16 checksum;        // RFC 1071 over the header only
  Be32 src;
  Be32 dst;

  constexpr uint8_t version() const noexcept { return version_ihl >> 4; }
  constexpr size_t header_size() const noexcept { return size_t{version_ihl & 0x0fu} * 4; }
};
static_assert(sizeof(Ipv4Hdr) == 20 && alignof(Ipv4Hdr) == 1);

}  // namespace vnet::dp::net
