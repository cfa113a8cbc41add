#include "nat/checksum.h"

#include <bit>
#include <cstring>

#include "nat/bytes.h"

namespace vnet::nat {

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
