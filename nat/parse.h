// vnet::nat — bounds-checked parsing of the IPv4 and L4 headers NAT needs.
//
// Theory of operation
//   parse_ipv4() validates an IPv4 packet in a byte buffer (version, IHL,
//   total length within the buffer, header checksum) and returns the fields
//   NAT uses; everything past total_length (Ethernet padding) is ignored.
//   parse_quoted() does the same for the packet quoted inside an ICMP error,
//   which is usually cut short: it needs the quoted IPv4 header and the first
//   8 bytes of its L4 header (RFC 792), and never reads past the buffer.
//
// Thread-safety
//   Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "nat/bytes.h"
#include "nat/reasons.h"

namespace vnet::nat {

struct Ipv4Info {
  uint32_t src = 0;           // host order
  uint32_t dst = 0;           // host order
  uint16_t total_length = 0;  // bytes, from the header
  uint16_t header_size = 0;   // IHL * 4
  uint8_t proto = 0;
  uint8_t ttl = 0;
  bool fragment = false;  // MF set or offset != 0
  bool first_fragment = true;  // offset == 0
  bool more_fragments = false;  // MF
  uint16_t id = 0;              // identification
  uint32_t frag_offset = 0;     // bytes

  // The L4 header and payload, up to total_length.
  std::span<std::byte> l4(std::span<std::byte> packet) const noexcept {
    return packet.subspan(header_size, total_length - header_size);
  }
  std::span<const std::byte> l4(std::span<const std::byte> packet) const noexcept {
    return packet.subspan(header_size, total_length - header_size);
  }
};

// kNone on success; otherwise kTruncated, kBadIpHeader or kBadIpChecksum.
NatReason parse_ipv4(std::span<const std::byte> packet, Ipv4Info* info) noexcept;

// The size of the L4 header NAT needs to see for proto (TCP 20, UDP 8, ICMP 8, others 0).
constexpr size_t l4_min_size(uint8_t proto) noexcept {
  switch (proto) {
    case kProtoTcp:
      return l4::kTcpMinHeaderSize;
    case kProtoUdp:
      return l4::kUdpHeaderSize;
    case kProtoIcmp:
      return l4::kIcmpHeaderSize;
    default:
      return 0;
  }
}

// A quoted packet inside an ICMP error: header fields plus what of its L4
// header is present (quoted_l4 may be shorter than the real segment).
struct QuotedInfo {
  uint32_t src = 0;
  uint32_t dst = 0;
  uint16_t header_size = 0;  // quoted IHL * 4
  uint8_t proto = 0;
  size_t l4_size = 0;        // bytes of the quoted L4 header present
};

// kNone when quote holds an IPv4 header and >= 8 bytes of its L4 header
// (ports / ICMP id); otherwise kIcmpErrorMalformed.
NatReason parse_quoted(std::span<const std::byte> quote, QuotedInfo* info) noexcept;

// True for the ICMP types that quote an offending packet and that NAT
// translates back to the flow: destination unreachable, time exceeded,
// parameter problem.
constexpr bool is_icmp_error(uint8_t type) noexcept {
  return type == 3 || type == 11 || type == 12;
}

}  // namespace vnet::nat
