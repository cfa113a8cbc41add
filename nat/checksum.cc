#include "nat/checksum.h"

#include <bit>
#include <cstring>

#include "nat/bytes.h"

namespace vnet::nat {

// RFC 1071 2(B): the one's complement sum does not depend on byte order, so
// the bytes are added as 32-bit words in the host's order (a 64-bit
// accumulator cannot overflow below 2^32 words), folded to 16 bits and, on a
// little-endian host, byte-swapped into network order once at the end. A
// trailing odd byte is the high byte of its (network-order) 16-bit word.
uint32_t csum_partial(std::span<const std::byte> bytes, uint32_t sum) noexcept {
  const std::byte* p = bytes.data();
  size_t n = bytes.size();
  uint64_t acc = 0;
  for (; n >= 4; p += 4, n -= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    acc += w;
  }
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    acc += w;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    const uint8_t b = std::to_integer<uint8_t>(*p);
    acc += std::endian::native == std::endian::little ? uint32_t{b} : uint32_t{b} << 8;
  }
  while (acc >> 16) acc = (acc & 0xffffu) + (acc >> 16);
  auto folded = static_cast<uint16_t>(acc);
  if constexpr (std::endian::native == std::endian::little)
    folded = static_cast<uint16_t>((folded << 8) | (folded >> 8));
  const uint64_t total = uint64_t{sum} + folded;
  return static_cast<uint32_t>((total & 0xffffffffu) + (total >> 32));
}

uint16_t csum_fold(uint32_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xffffu) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffffu);
}

uint16_t ipv4_header_checksum(std::span<const std::byte> header) noexcept {
  if (header.size() < ip4::kChecksum + 2) return csum_fold(csum_partial(header));
  uint32_t sum = csum_partial(header.first(ip4::kChecksum));
  sum = csum_partial(header.subspan(ip4::kChecksum + 2), sum);
  return csum_fold(sum);
}

uint16_t l4_checksum(uint32_t src, uint32_t dst, uint8_t proto,
                     std::span<const std::byte> segment, size_t csum_off) noexcept {
  uint32_t sum = (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu);
  sum += proto;
  sum += static_cast<uint32_t>(segment.size());
  if (segment.size() >= csum_off + 2) {
    sum = csum_partial(segment.first(csum_off), sum);
    sum = csum_partial(segment.subspan(csum_off + 2), sum);
  } else {
    sum = csum_partial(segment, sum);
  }
  return csum_fold(sum);
}

}  // namespace vnet::nat
