// vnet::dp — ARP for IPv4 over Ethernet (RFC 826).
//
// Thread-safety
//   Plain wire struct.
#pragma once

#include <cstdint>

#include "dataplane/net/be.h"
#include "dataplane/net/ether.h"

namespace vnet::dp::net {

inline constexpr uint16_t kArpHtypeEthernet = 1;
inline constexpr uint16_t kArpOpRequest = 1;
inline constexpr uint16_t kArpOpReply = 2;

struct ArpHdr {
  Be16 htype;    // 1 = Ethernet
  Be16 ptype;    // 0x0800 = IPv4
  uint8_t hlen;  // 6
  uint8_t plen;  // 4
  Be16 oper;     // 1 request, 2 reply
  MacAddr sha;   // sender hardware address
  Be32 spa;      // sender protocol address
  MacAddr tha;   // target hardware address
  Be32 tpa;      // target protocol address
};
static_assert(sizeof(ArpHdr) == 28 && alignof(ArpHdr) == 1);

}  // namespace vnet::dp::net
