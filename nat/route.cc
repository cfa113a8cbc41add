#include "nat/route.h"

#include "nat/bytes.h"
#include "nat/checksum.h"
#include "nat/parse.h"

namespace vnet::nat {

namespace {

Result decide(NatReason r, NatCounters* counters) noexcept {
  if (counters != nullptr) counters->count(r);
  return result_of(r);
}

}  // namespace

Result route_outbound(const RoutePolicy& p, std::span<const std::byte> packet, bool via_dev,
                      NatCounters* counters) noexcept {
  Ipv4Info ip;
  if (const NatReason r = parse_ipv4(packet, &ip); r != NatReason::kNone) return decide(r, counters);
  if (p.mode == L3Mode::kOpen) return Result{};
  if (!p.subnets.contains(ip.src)) return decide(NatReason::kSrcNotInNetwork, counters);
  if (p.has_dev && !via_dev) return decide(NatReason::kWrongDev, counters);
  return Result{};
}

Result route_inbound(const RoutePolicy& p, std::span<const std::byte> packet, bool via_dev,
                     NatCounters* counters) noexcept {
  Ipv4Info ip;
  if (const NatReason r = parse_ipv4(packet, &ip); r != NatReason::kNone) return decide(r, counters);
  switch (p.mode) {
    case L3Mode::kOpen:
      return Result{};
    case L3Mode::kNat:
      return decide(NatReason::kNoSession, counters);
    case L3Mode::kRoute:
      break;
  }
  if (!p.subnets.contains(ip.dst)) return decide(NatReason::kDstNotInNetwork, counters);
  if (p.has_dev && !via_dev) return decide(NatReason::kWrongDev, counters);
  return Result{};
}

NatReason ttl_decrement(std::span<std::byte> packet) noexcept {
  if (packet.size() < ip4::kMinHeaderSize) return NatReason::kTruncated;
  const uint8_t ttl = load8(packet, ip4::kTtl);
  if (ttl <= 1) return NatReason::kTtlExpired;
  const uint16_t old_word = load16(packet, ip4::kTtl);  // TTL | protocol
  store8(packet, ip4::kTtl, static_cast<uint8_t>(ttl - 1));
  const uint16_t new_word = load16(packet, ip4::kTtl);
  store16(packet, ip4::kChecksum, csum_update16(load16(packet, ip4::kChecksum), old_word, new_word));
  return NatReason::kNone;
}

}  // namespace vnet::nat
