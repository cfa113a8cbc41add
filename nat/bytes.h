// vnet::nat — big-endian loads and stores on byte buffers, and the IPv4 /
// TCP / UDP / ICMP field offsets the NAT code touches.
//
// Theory of operation
//   nat/ works on packets as std::span<std::byte> starting at the IPv4
//   header (the dataplane passes mbuf data past the Ethernet header). Fields
//   are read and written through memcpy-based helpers, so alignment never
//   matters and there is no type punning. Addresses and ports are handled in
//   host byte order everywhere in nat/ and converted only here.
//
// Thread-safety
//   Pure functions.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace vnet::nat {

// Network (big-endian) order <-> host order.
constexpr uint16_t host_be16(uint16_t v) noexcept {
  return std::endian::native == std::endian::big ? v : __builtin_bswap16(v);
}
constexpr uint32_t host_be32(uint32_t v) noexcept {
  return std::endian::native == std::endian::big ? v : __builtin_bswap32(v);
}

// One load or store and a byte swap each (the compiler does not always merge
// byte-wise accesses, stores least of all).
inline uint8_t load8(std::span<const std::byte> b, size_t off) noexcept {
  return std::to_integer<uint8_t>(b[off]);
}
inline uint16_t load16(std::span<const std::byte> b, size_t off) noexcept {
  uint16_t v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return host_be16(v);
}
inline uint32_t load32(std::span<const std::byte> b, size_t off) noexcept {
  uint32_t v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return host_be32(v);
}
inline void store8(std::span<std::byte> b, size_t off, uint8_t v) noexcept {
  b[off] = std::byte{v};
}
inline void store16(std::span<std::byte> b, size_t off, uint16_t v) noexcept {
  const uint16_t w = host_be16(v);
  std::memcpy(b.data() + off, &w, sizeof w);
}
inline void store32(std::span<std::byte> b, size_t off, uint32_t v) noexcept {
  const uint32_t w = host_be32(v);
  std::memcpy(b.data() + off, &w, sizeof w);
}

// IP protocol numbers (IANA).
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;

// IPv4 header (RFC 791) field offsets.
// MurmurHash3's 64-bit finaliser: the seeded hashes of the session table,
// the fragment notes and the port search.
constexpr uint64_t fmix64(uint64_t k) noexcept {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

namespace ip4 {
inline constexpr size_t kMinHeaderSize = 20;
inline constexpr size_t kVersionIhl = 0;
inline constexpr size_t kTotalLength = 2;
inline constexpr size_t kId = 4;
inline constexpr size_t kFlagsFrag = 6;
inline constexpr size_t kTtl = 8;
inline constexpr size_t kProto = 9;
inline constexpr size_t kChecksum = 10;
inline constexpr size_t kSrc = 12;
inline constexpr size_t kDst = 16;
inline constexpr uint16_t kMoreFragments = 0x2000;
inline constexpr uint16_t kDontFragment = 0x4000;
inline constexpr uint16_t kOffsetMask = 0x1fff;
}  // namespace ip4

// TCP (RFC 9293), UDP (RFC 768) and ICMP (RFC 792) offsets within the L4 header.
namespace l4 {
inline constexpr size_t kSrcPort = 0;
inline constexpr size_t kDstPort = 2;
inline constexpr size_t kUdpChecksum = 6;
inline constexpr size_t kTcpFlags = 13;
inline constexpr size_t kTcpChecksum = 16;
inline constexpr size_t kUdpHeaderSize = 8;
inline constexpr size_t kTcpMinHeaderSize = 20;
inline constexpr size_t kIcmpType = 0;
inline constexpr size_t kIcmpCode = 1;
inline constexpr size_t kIcmpChecksum = 2;
inline constexpr size_t kIcmpId = 4;
inline constexpr size_t kIcmpHeaderSize = 8;
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpAck = 0x10;
}  // namespace l4

// ICMP types (RFC 792).
namespace icmp {
inline constexpr uint8_t kEchoReply = 0;
inline constexpr uint8_t kDestUnreachable = 3;
inline constexpr uint8_t kEchoRequest = 8;
inline constexpr uint8_t kTimeExceeded = 11;
inline constexpr uint8_t kParameterProblem = 12;
inline constexpr uint8_t kCodePortUnreachable = 3;
inline constexpr uint8_t kCodeTtlExceeded = 0;
}  // namespace icmp

}  // namespace vnet::nat
