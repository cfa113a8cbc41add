#include "nat/port_plan.h"

#include "nat/bytes.h"
#include "nat/parse.h"

namespace vnet::nat {

namespace {

uint32_t mix32(uint32_t x) noexcept {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// Start offset of worker w's slice of count items shared by workers.
uint32_t slice_start(uint32_t count, uint16_t workers, uint32_t w) noexcept {
  return static_cast<uint32_t>(uint64_t{count} * w / workers);
}

}  // namespace

PortPlan::PortPlan(const NatConfig& c) noexcept
    : addr_first_(c.addr_first),
      addr_last_(c.addr_last),
      port_first_(c.port_first),
      port_last_(c.port_last),
      workers_(c.workers == 0 ? uint16_t{1} : c.workers) {}

uint32_t PortPlan::address_for(uint32_t in_addr) const noexcept {
  const uint32_t n = address_count();
  return n == 1 ? addr_first_ : addr_first_ + mix32(in_addr) % n;
}

PortSlice PortPlan::slice(unsigned w, uint8_t proto) const noexcept {
  const uint32_t first = proto == kProtoIcmp ? 0u : port_first_;
  const uint32_t count = proto == kProtoIcmp ? 65536u : uint32_t{port_last_} - port_first_ + 1;
  const uint32_t s = slice_start(count, workers_, w);
  const uint32_t e = slice_start(count, workers_, w + 1);
  return PortSlice{static_cast<uint16_t>(first + s), static_cast<uint16_t>(first + e - 1)};
}

int PortPlan::owner_in(uint32_t first, uint32_t count, uint16_t workers, uint16_t port) noexcept {
  if (port < first || port - first >= count) return kNoWorker;
  const uint32_t off = port - first;
  uint32_t w = static_cast<uint32_t>(uint64_t{off} * workers / count);
  while (w > 0 && off < slice_start(count, workers, w)) --w;
  while (w + 1 < workers && off >= slice_start(count, workers, w + 1)) ++w;
  return static_cast<int>(w);
}

int PortPlan::owner_of_slices(uint8_t proto, uint32_t addr, uint16_t port) const noexcept {
  if (!is_nat_address(addr)) return kNoWorker;
  switch (proto) {
    case kProtoTcp:
    case kProtoUdp:
      return owner_in(port_first_, uint32_t{port_last_} - port_first_ + 1, workers_, port);
    case kProtoIcmp:
      return owner_in(0, 65536, workers_, port);
    default:
      return 0;
  }
}

int PortPlan::in2out_worker(uint8_t proto) const noexcept {
  return proto == kProtoTcp || proto == kProtoUdp || proto == kProtoIcmp ? kAnyWorker : 0;
}

int PortPlan::out2in_worker(std::span<const std::byte> packet) const noexcept {
  Ipv4Info ip;
  if (parse_ipv4(packet, &ip) != NatReason::kNone || !ip.first_fragment) return kAnyWorker;
  const auto l4s = ip.l4(packet);
  if (l4s.size() < l4_min_size(ip.proto)) return kAnyWorker;
  int w = kNoWorker;
  switch (ip.proto) {
    case kProtoTcp:
    case kProtoUdp:
      w = owner(ip.proto, ip.dst, load16(l4s, l4::kDstPort));
      break;
    case kProtoIcmp: {
      const uint8_t type = load8(l4s, l4::kIcmpType);
      if (type == icmp::kEchoReply) {
        w = owner(kProtoIcmp, ip.dst, load16(l4s, l4::kIcmpId));
      } else if (is_icmp_error(type)) {
        QuotedInfo q;
        const auto quote = l4s.subspan(l4::kIcmpHeaderSize);
        if (parse_quoted(quote, &q) != NatReason::kNone) return kAnyWorker;
        const auto ql4 = quote.subspan(q.header_size);
        if (q.proto == kProtoTcp || q.proto == kProtoUdp)
          w = owner(q.proto, q.src, load16(ql4, l4::kSrcPort));
        else if (q.proto == kProtoIcmp)
          w = owner(kProtoIcmp, q.src, load16(ql4, l4::kIcmpId));
        else
          w = owner(q.proto, q.src, 0);
      }
      break;
    }
    default:
      w = owner(ip.proto, ip.dst, 0);
      break;
  }
  return w == kNoWorker ? kAnyWorker : w;
}

}  // namespace vnet::nat
