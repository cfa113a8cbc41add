// vnet::nat — builders for the ICMP errors a router sends (RFC 792,
// RFC 1812 section 4.3.2): port unreachable (what libvirt's REJECT rules
// send by default, icmp-port-unreachable) and time exceeded in transit.
//
// Theory of operation
//   build_icmp_error() writes a complete IPv4 packet (header + ICMP error
//   quoting the offending packet) into `out` and returns its size, or 0 when
//   RFC 1812 4.3.2.7 forbids an error or the buffer is too small. The quote
//   is as much of the offending packet as fits in a 576-byte reply (RFC 1812
//   4.3.2.3), never less than its IPv4 header + 8 bytes. No error is sent
//   about: an ICMP error, a non-first fragment, a packet to a broadcast or
//   multicast destination (255.255.255.255, 224.0.0.0/4), or from a source
//   that does not name a single host (0.0.0.0/8, 127/8, 224.0.0.0/4 and up).
//   The new header: TTL 64, DF clear, identification 0, no options, source
//   `src_addr` (the caller's address on that side: the gateway address
//   towards guests, the NAT address towards the uplink), destination the
//   offending source.
//
// Thread-safety
//   Pure functions over the caller's buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vnet::nat {

inline constexpr size_t kIcmpErrorMaxSize = 576;  // RFC 1812 4.3.2.3

size_t build_icmp_error(std::span<std::byte> out, std::span<const std::byte> offending,
                        uint8_t type, uint8_t code, uint32_t src_addr) noexcept;
// Destination unreachable, code 3 (port unreachable).
size_t build_port_unreachable(std::span<std::byte> out, std::span<const std::byte> offending,
                              uint32_t src_addr) noexcept;
// Time exceeded, code 0 (TTL exceeded in transit).
size_t build_time_exceeded(std::span<std::byte> out, std::span<const std::byte> offending,
                           uint32_t src_addr) noexcept;

}  // namespace vnet::nat
