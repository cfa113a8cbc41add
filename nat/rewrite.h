// vnet::nat — in-place field rewrites with incremental checksum updates
// (RFC 1624), shared by the in2out, out2in and related paths.
//
// Thread-safety
//   Pure functions over the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "nat/bytes.h"
#include "nat/checksum.h"

namespace vnet::nat {

inline constexpr size_t kNoPort = static_cast<size_t>(-1);

// Sets the IPv4 address at addr_off (ip4::kSrc or ip4::kDst) of the header
// at ip and updates the header checksum.
inline void set_ipv4_addr(std::span<std::byte> ip, size_t addr_off, uint32_t addr) noexcept {
  const uint32_t old = load32(ip, addr_off);
  store32(ip, addr_off, addr);
  store16(ip, ip4::kChecksum, csum_update32(load16(ip, ip4::kChecksum), old, addr));
}

// Decrements the TTL of the IPv4 header at ip and updates its checksum
// (RFC 1624; the word changed is TTL | protocol). For a caller that checked
// ip.size() >= 20 and TTL > 1 (otherwise ttl_decrement() in route.h).
inline void decrement_ttl(std::span<std::byte> ip) noexcept {
  const uint16_t old_word = load16(ip, ip4::kTtl);
  const auto new_word = static_cast<uint16_t>(old_word - 0x100);
  store8(ip, ip4::kTtl, static_cast<uint8_t>(new_word >> 8));
  store16(ip, ip4::kChecksum, csum_update16(load16(ip, ip4::kChecksum), old_word, new_word));
}

// The common TCP/UDP translation with a session's folded checksum changes
// (Session::ip_delta / l4_delta, negated for out2in): the address at
// addr_off of the IPv4 header (ip4::kSrc or ip4::kDst) becomes addr, the
// port at port_off of its TCP/UDP header becomes port. For a caller that
// checked the header is complete (l4_min_size); a UDP datagram without a
// checksum keeps none (RFC 768).
inline void rewrite_tcp_udp(std::span<std::byte> ip, size_t header_size, uint8_t proto, size_t addr_off,
                            uint32_t addr, size_t port_off, uint16_t port, uint16_t ip_delta,
                            uint16_t l4_delta) noexcept {
  store32(ip, addr_off, addr);
  store16(ip, ip4::kChecksum, csum_apply(load16(ip, ip4::kChecksum), ip_delta));
  const std::span<std::byte> l4 = ip.subspan(header_size);
  store16(l4, port_off, port);
  const size_t coff = proto == kProtoTcp ? l4::kTcpChecksum : l4::kUdpChecksum;
  const uint16_t c0 = load16(l4, coff);
  if (proto == kProtoUdp && c0 == 0) return;
  const uint16_t c = csum_apply(c0, l4_delta);
  store16(l4, coff, proto == kProtoUdp && c == 0 ? uint16_t{0xffff} : c);
}

// Offset of the checksum in an L4 header of proto, or kNoPort for protocols
// whose checksum NAT does not touch.
inline size_t l4_checksum_offset(uint8_t proto) noexcept {
  switch (proto) {
    case kProtoTcp:
      return l4::kTcpChecksum;
    case kProtoUdp:
      return l4::kUdpChecksum;
    case kProtoIcmp:
      return l4::kIcmpChecksum;
    default:
      return kNoPort;
  }
}

// Updates the L4 checksum of segment l4 (proto) for an address change in the
// pseudo header and a 16-bit change at port_off (kNoPort: none). Only the
// bytes present are touched: a field or checksum beyond l4.size() (a cut
// quote) is left alone. Returns the old and new checksum through *old_csum /
// *new_csum (equal when nothing changed), for callers that must propagate the
// change into an enclosing checksum.
inline void rewrite_l4(std::span<std::byte> l4, uint8_t proto, uint32_t old_addr, uint32_t new_addr,
                       size_t port_off, uint16_t new_port, uint16_t* old_csum,
                       uint16_t* new_csum) noexcept {
  uint16_t old_port = 0;
  const bool has_port = port_off != kNoPort && port_off + 2 <= l4.size();
  if (has_port) {
    old_port = load16(l4, port_off);
    store16(l4, port_off, new_port);
  }
  *old_csum = *new_csum = 0;
  const size_t coff = l4_checksum_offset(proto);
  if (coff == kNoPort || coff + 2 > l4.size()) return;
  const uint16_t c0 = load16(l4, coff);
  if (proto == kProtoUdp && c0 == 0) return;  // RFC 768: no checksum
  // RFC 1624 eqn. 3 for both changes in one sum (the same value as applying
  // csum_update32() then csum_update16(): ones' complement addition is
  // associative and the fold keeps 0 only for an all-zero sum).
  uint32_t sum = static_cast<uint16_t>(~c0);
  if (proto != kProtoIcmp) {
    sum += static_cast<uint16_t>(~(old_addr >> 16));
    sum += static_cast<uint16_t>(~old_addr);
    sum += new_addr >> 16;
    sum += new_addr & 0xffffu;
  }
  if (has_port) {
    sum += static_cast<uint16_t>(~old_port);
    sum += new_port;
  }
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  uint16_t c = static_cast<uint16_t>(~sum);
  if (proto == kProtoUdp && c == 0) c = 0xffff;
  store16(l4, coff, c);
  *old_csum = c0;
  *new_csum = c;
}

}  // namespace vnet::nat
