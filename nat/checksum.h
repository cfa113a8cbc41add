// vnet::nat — Internet checksum: full computation (RFC 1071) and incremental
// update (RFC 1624).
//
// Theory of operation
//   The checksum is the ones' complement of the ones' complement sum of the
//   16-bit big-endian words of the data (an odd trailing byte is padded with
//   a zero byte). NAT rewrites a few 16/32-bit fields, so the fast path never
//   re-sums a packet: it applies RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'),
//   once per changed 16-bit word. That is exact for every field that starts
//   at an even offset of the checksummed data, which all NAT-rewritten
//   fields do (addresses, ports, ICMP identifier, embedded checksums).
//   UDP is special (RFC 768): a transmitted 0 means "no checksum" and stays
//   0; a computed 0 is sent as 0xffff (see update_udp_checksum()).
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

// Adds bytes (big-endian 16-bit words) to a 32-bit partial sum. Every span but
// the last one must have an even size.
//
// RFC 1071 2(B): the ones' complement sum does not depend on byte order, so
// the bytes are added as 64-bit words in the host's order with an
// end-around carry (ones' complement arithmetic modulo 2^64 - 1, a multiple
// of 2^16 - 1), folded to 16 bits and, on a little-endian host, byte-swapped
// into network order once at the end. A trailing odd byte is the high byte
// of its (network-order) 16-bit word. Inline: the fast path sums one 20-byte
// IPv4 header per packet (nat::parse_ipv4).
inline uint32_t csum_partial(std::span<const std::byte> bytes, uint32_t sum = 0) noexcept {
  const std::byte* p = bytes.data();
  size_t n = bytes.size();
  uint64_t acc = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    acc += w;
    acc += acc < w;  // end-around carry
  }
  uint64_t tail = 0;  // the last 0..7 bytes, in host order at their positions
  if (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    tail = w;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    tail += w;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    const uint8_t b = std::to_integer<uint8_t>(*p);
    tail += std::endian::native == std::endian::little ? uint32_t{b} : uint32_t{b} << 8;
  }
  acc += tail;
  acc += acc < tail;
  uint64_t f = (acc & 0xffffffffu) + (acc >> 32);  // < 2^33
  f = (f & 0xffffffffu) + (f >> 32);                // < 2^32
  f = (f & 0xffffu) + (f >> 16);                    // < 2^17
  f = (f & 0xffffu) + (f >> 16);                    // <= 0xffff
  auto folded = static_cast<uint16_t>(f);
  if constexpr (std::endian::native == std::endian::little)
    folded = static_cast<uint16_t>((folded << 8) | (folded >> 8));
  const uint64_t total = uint64_t{sum} + folded;
  return static_cast<uint32_t>((total & 0xffffffffu) + (total >> 32));
}
// Folds a partial sum to 16 bits and complements it: the on-wire value.
inline uint16_t csum_fold(uint32_t sum) noexcept {
  sum = (sum & 0xffffu) + (sum >> 16);  // <= 0x1fffe
  sum = (sum & 0xffffu) + (sum >> 16);  // <= 0xffff
  return static_cast<uint16_t>(~sum & 0xffffu);
}

// Whether a 20-byte IPv4 header (no options) checks: its ones' complement
// sum is 0xffff. Since 2^16 = 1 modulo 2^16 - 1, the plain sum of the
// header's five 32-bit words (any byte order: a byte swap multiplies by 2^8,
// which is prime to 2^16 - 1) is congruent to that sum modulo 0xffff, and
// the ones' complement sum of words that are not all zero is never 0; so
// for a header whose version is set the check is one remainder.
inline bool ipv4_header20_ok(const std::byte* header) noexcept {
  uint32_t w[5];  // written out: GCC does not unroll a loop at -O2
  std::memcpy(w, header, sizeof w);
  const uint64_t sum = uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4];
  return sum % 0xffffu == 0;
}

// The full checksum of an IPv4 header (options included) with its checksum
// field taken as zero.
uint16_t ipv4_header_checksum(std::span<const std::byte> header) noexcept;
// The full TCP/UDP checksum (pseudo header + segment, checksum field taken as
// zero) for a segment whose checksum field is at csum_off. src/dst in host order.
uint16_t l4_checksum(uint32_t src, uint32_t dst, uint8_t proto,
                     std::span<const std::byte> segment, size_t csum_off) noexcept;

// A change folded once (RFC 1624 eqn. 3's ~m + m' over every changed word,
// added to `delta`): a session's translation always changes the same words
// in the same way, so it keeps the sum and each packet applies it with
// csum_apply(). The opposite change is its ones' complement negation, ~delta.
inline uint16_t csum_delta32(uint16_t delta, uint32_t old_word, uint32_t new_word) noexcept {
  uint32_t sum = delta;
  sum += static_cast<uint16_t>(~(old_word >> 16));
  sum += static_cast<uint16_t>(~old_word);
  sum += new_word >> 16;
  sum += new_word & 0xffffu;
  sum = (sum & 0xffffu) + (sum >> 16);
  return static_cast<uint16_t>((sum & 0xffffu) + (sum >> 16));
}
inline uint16_t csum_delta16(uint16_t delta, uint16_t old_word, uint16_t new_word) noexcept {
  uint32_t sum = delta;
  sum += static_cast<uint16_t>(~old_word);
  sum += new_word;
  sum = (sum & 0xffffu) + (sum >> 16);
  return static_cast<uint16_t>((sum & 0xffffu) + (sum >> 16));
}
// The checksum csum after the change delta (csum_delta32/16).
inline uint16_t csum_apply(uint16_t csum, uint16_t delta) noexcept {
  uint32_t sum = static_cast<uint16_t>(~csum);
  sum += delta;
  sum = (sum & 0xffffu) + (sum >> 16);
  return static_cast<uint16_t>(~((sum & 0xffffu) + (sum >> 16)));
}

// RFC 1624: the checksum after a 16-bit word changed from old_word to new_word.
inline uint16_t csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word) noexcept {
  return static_cast<uint16_t>(~csum_delta16(static_cast<uint16_t>(~csum), old_word, new_word));
}
// RFC 1624 for a 32-bit field (an IPv4 address).
inline uint16_t csum_update32(uint16_t csum, uint32_t old_word, uint32_t new_word) noexcept {
  return static_cast<uint16_t>(~csum_delta32(static_cast<uint16_t>(~csum), old_word, new_word));
}

}  // namespace vnet::nat
