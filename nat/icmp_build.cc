#include "nat/icmp_build.h"

#include <algorithm>
#include <cstring>

#include "nat/bytes.h"
#include "nat/checksum.h"
#include "nat/parse.h"

namespace vnet::nat {

namespace {

bool is_host_source(uint32_t a) noexcept {
  const uint32_t first = a >> 24;
  return first != 0 && first != 127 && first < 224;
}

bool is_broadcast_or_multicast(uint32_t a) noexcept {
  return a == 0xffffffffu || (a >> 28) == 0xe;
}

}  // namespace

size_t build_icmp_error(std::span<std::byte> out, std::span<const std::byte> off, uint8_t type,
                        uint8_t code, uint32_t src_addr) noexcept {
  if (off.size() < ip4::kMinHeaderSize) return 0;
  const uint8_t vi = load8(off, ip4::kVersionIhl);
  const size_t ihl = (vi & 0x0f) * 4u;
  if ((vi >> 4) != 4 || ihl < ip4::kMinHeaderSize || ihl > off.size()) return 0;
  const size_t total = std::min<size_t>(load16(off, ip4::kTotalLength), off.size());
  if (total < ihl) return 0;
  if ((load16(off, ip4::kFlagsFrag) & ip4::kOffsetMask) != 0) return 0;
  const uint32_t src = load32(off, ip4::kSrc);
  const uint32_t dst = load32(off, ip4::kDst);
  if (!is_host_source(src) || is_broadcast_or_multicast(dst)) return 0;
  if (load8(off, ip4::kProto) == kProtoIcmp) {
    if (total < ihl + 1) return 0;
    const uint8_t t = load8(off, ihl);
    if (t != icmp::kEchoRequest && t != icmp::kEchoReply && t != 13 && t != 14 && t != 15 &&
        t != 16)
      return 0;  // only ICMP queries may be answered with an error (RFC 1812 4.3.2.7)
  }
  constexpr size_t kHeaders = ip4::kMinHeaderSize + l4::kIcmpHeaderSize;
  const size_t quote = std::min(total, kIcmpErrorMaxSize - kHeaders);
  if (quote < std::min(total, ihl + 8)) return 0;
  const size_t size = kHeaders + quote;
  if (out.size() < size) return 0;

  std::memset(out.data(), 0, kHeaders);
  store8(out, ip4::kVersionIhl, 0x45);
  store16(out, ip4::kTotalLength, static_cast<uint16_t>(size));
  store8(out, ip4::kTtl, 64);
  store8(out, ip4::kProto, kProtoIcmp);
  store32(out, ip4::kSrc, src_addr);
  store32(out, ip4::kDst, src);
  store16(out, ip4::kChecksum, ipv4_header_checksum(out.first(ip4::kMinHeaderSize)));
  const auto icmp_msg = out.subspan(ip4::kMinHeaderSize, l4::kIcmpHeaderSize + quote);
  store8(icmp_msg, l4::kIcmpType, type);
  store8(icmp_msg, l4::kIcmpCode, code);
  std::memmove(icmp_msg.data() + l4::kIcmpHeaderSize, off.data(), quote);
  store16(icmp_msg, l4::kIcmpChecksum, csum_fold(csum_partial(icmp_msg)));
  return size;
}

size_t build_port_unreachable(std::span<std::byte> out, std::span<const std::byte> offending,
                              uint32_t src_addr) noexcept {
  return build_icmp_error(out, offending, icmp::kDestUnreachable, icmp::kCodePortUnreachable,
                          src_addr);
}

size_t build_time_exceeded(std::span<std::byte> out, std::span<const std::byte> offending,
                           uint32_t src_addr) noexcept {
  return build_icmp_error(out, offending, icmp::kTimeExceeded, icmp::kCodeTtlExceeded, src_addr);
}

}  // namespace vnet::nat
