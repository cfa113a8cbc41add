#include "dataplane/net/checksum.h"

namespace vnet::dp::net {

uint32_t csum_add(std::span<const std::byte> bytes, uint32_t sum) noexcept {
  uint64_t acc = sum;
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    acc += (uint32_t{std::to_integer<uint8_t>(bytes[i])} << 8) |
           std::to_integer<uint8_t>(bytes[i + 1]);
  }
  if (i < bytes.size()) acc += uint32_t{std::to_integer<uint8_t>(bytes[i])} << 8;
  while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<uint32_t>(acc);
}

uint16_t csum_fold(uint32_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xffffu) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffffu);
}

Be16 ipv4_header_checksum(std::span<const std::byte> header) noexcept {
  // Sum everything except the checksum field at bytes 10..11.
  if (header.size() < 12) return Be16{csum_fold(csum_add(header))};
  uint32_t sum = csum_add(header.first(10));
  sum = csum_add(header.subspan(12), sum);
  return Be16{csum_fold(sum)};
}

bool ipv4_header_checksum_ok(std::span<const std::byte> header) noexcept {
  return csum_fold(csum_add(header)) == 0;
}

Be16 udp4_checksum(Be32 src, Be32 dst, std::span<const std::byte> udp_datagram) noexcept {
  uint32_t sum = 0;
  sum += src.to_host() >> 16;
  sum += src.to_host() & 0xffffu;
  sum += dst.to_host() >> 16;
  sum += dst.to_host() & 0xffffu;
  sum += kIpProtoUdp;
  sum += static_cast<uint32_t>(udp_datagram.size());
  if (udp_datagram.size() >= 8) {
    sum = csum_add(udp_datagram.first(6), sum);
    sum = csum_add(udp_datagram.subspan(8), sum);
  } else {
    sum = csum_add(udp_datagram, sum);
  }
  const uint16_t c = csum_fold(sum);
  return Be16{c == 0 ? uint16_t{0xffff} : c};
}

Be16 csum_update16(Be16 checksum, Be16 old_field, Be16 new_field) noexcept {
  uint32_t sum = static_cast<uint16_t>(~checksum.to_host());
  sum += static_cast<uint16_t>(~old_field.to_host());
  sum += new_field.to_host();
  return Be16{csum_fold(sum)};
}

Be16 csum_update32(Be16 checksum, Be32 old_field, Be32 new_field) noexcept {
  const Be16 c = csum_update16(checksum, Be16{static_cast<uint16_t>(old_field.to_host() >> 16)},
                               Be16{static_cast<uint16_t>(new_field.to_host() >> 16)});
  return csum_update16(c, Be16{static_cast<uint16_t>(old_field.to_host() & 0xffffu)},
                       Be16{static_cast<uint16_t>(new_field.to_host() & 0xffffu)});
}

}  // namespace vnet::dp::net
