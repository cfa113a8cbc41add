// vnet::dp — UDP header (RFC 768).
//
// Thread-safety
//   Plain wire struct.
#pragma once

#include "dataplane/net/be.h"

namespace vnet::dp::net {

struct UdpHdr {
  Be16 src_port;
  Be16 dst_port;
  Be16 length;    // bytes, header + payload
  Be16 checksum;  // over pseudo header + UDP; 0 = none (IPv4 only)
};
static_assert(sizeof(UdpHdr) == 8 && alignof(UdpHdr) == 1);

}  // namespace vnet::dp::net
