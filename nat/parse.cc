#include "nat/parse.h"

#include "nat/bytes.h"
#include "nat/checksum.h"

namespace vnet::nat {

NatReason parse_ipv4(std::span<const std::byte> packet, Ipv4Info* info) noexcept {
  if (packet.size() < ip4::kMinHeaderSize) return NatReason::kTruncated;
  const uint8_t vi = load8(packet, ip4::kVersionIhl);
  if ((vi >> 4) != 4) return NatReason::kBadIpHeader;
  const uint16_t header_size = static_cast<uint16_t>((vi & 0x0f) * 4);
  if (header_size < ip4::kMinHeaderSize) return NatReason::kBadIpHeader;
  const uint16_t total = load16(packet, ip4::kTotalLength);
  if (total < header_size) return NatReason::kBadIpHeader;
  if (header_size > packet.size() || total > packet.size()) return NatReason::kTruncated;
  if (csum_fold(csum_partial(packet.first(header_size))) != 0) return NatReason::kBadIpChecksum;
  const uint16_t ff = load16(packet, ip4::kFlagsFrag);
  info->src = load32(packet, ip4::kSrc);
  info->dst = load32(packet, ip4::kDst);
  info->total_length = total;
  info->header_size = header_size;
  info->proto = load8(packet, ip4::kProto);
  info->ttl = load8(packet, ip4::kTtl);
  info->fragment = (ff & (ip4::kMoreFragments | ip4::kOffsetMask)) != 0;
  info->first_fragment = (ff & ip4::kOffsetMask) == 0;
  info->more_fragments = (ff & ip4::kMoreFragments) != 0;
  info->id = load16(packet, ip4::kId);
  info->frag_offset = static_cast<uint32_t>(ff & ip4::kOffsetMask) * 8u;
  return NatReason::kNone;
}

NatReason parse_quoted(std::span<const std::byte> quote, QuotedInfo* info) noexcept {
  if (quote.size() < ip4::kMinHeaderSize) return NatReason::kIcmpErrorMalformed;
  const uint8_t vi = load8(quote, ip4::kVersionIhl);
  const size_t header_size = (vi & 0x0f) * 4u;
  if ((vi >> 4) != 4 || header_size < ip4::kMinHeaderSize) return NatReason::kIcmpErrorMalformed;
  if (quote.size() < header_size + 8) return NatReason::kIcmpErrorMalformed;
  if ((load16(quote, ip4::kFlagsFrag) & ip4::kOffsetMask) != 0)
    return NatReason::kIcmpErrorMalformed;  // a non-first fragment quotes no ports
  info->src = load32(quote, ip4::kSrc);
  info->dst = load32(quote, ip4::kDst);
  info->header_size = static_cast<uint16_t>(header_size);
  info->proto = load8(quote, ip4::kProto);
  info->l4_size = quote.size() - header_size;
  return NatReason::kNone;
}

}  // namespace vnet::nat
