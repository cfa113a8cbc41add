// vnet::dp — Internet checksum helpers (RFC 1071, RFC 1624, RFC 768).
//
// Theory of operation
//   The checksum is the ones' complement of the ones' complement sum of
//   16-bit big-endian words. csum_add() accumulates bytes into a 32-bit
//   partial sum (an odd trailing byte is padded with zero), csum_fold()
//   folds and complements it. Incremental updates follow RFC 1624 eqn. 3:
//   HC' = ~(~HC + ~m + m'). Everything here is DPDK-free and allocation-free.
//
// Thread-safety
//   Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/net/be.h"
#include "dataplane/net/ipv4.h"
#include "dataplane/net/udp.h"

namespace vnet::dp::net {

// Adds the bytes (as big-endian 16-bit words) to a partial sum. Spans that are
// not the last one must have even length for the result to be meaningful.
uint32_t csum_add(std::span<const std::byte> bytes, uint32_t sum = 0) noexcept;
// Folds a partial sum to 16 bits and complements it: the value to put on the wire.
uint16_t csum_fold(uint32_t sum) noexcept;

// The IPv4 header checksum of hdr (and its options, when the span covers them).
// The checksum field itself is treated as zero.
Be16 ipv4_header_checksum(std::span<const std::byte> header) noexcept;
// True when the header (options included) sums to 0xffff, i.e. is valid.
bool ipv4_header_checksum_ok(std::span<const std::byte> header) noexcept;

// The UDP checksum over the IPv4 pseudo header and the UDP datagram (header +
// payload, checksum field treated as zero). A computed 0 is sent as 0xffff.
Be16 udp4_checksum(Be32 src, Be32 dst, std::span<const std::byte> udp_datagram) noexcept;

// RFC 1624: the new checksum after a 16-bit field changed from old_field to new_field.
Be16 csum_update16(Be16 checksum, Be16 old_field, Be16 new_field) noexcept;
// RFC 1624 for a 32-bit field (e.g. an IPv4 address in NAT).
Be16 csum_update32(Be16 checksum, Be32 old_field, Be32 new_field) noexcept;

}  // namespace vnet::dp::net
