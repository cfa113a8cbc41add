// ICMP errors of translated flows (conntrack "RELATED"): the quoted packet
// is translated back along with the outer header (RFC 5508 section 4 / RFC
// 3022 section 4.3).
#include "nat/nat.h"
#include "nat/rewrite.h"

namespace vnet::nat {

namespace {

struct QuotedFlow {
  uint16_t port = 0;         // the quoted port/identifier on our side
  uint16_t remote_port = 0;  // the quoted peer port
  size_t port_off = kNoPort; // where `port` is in the quoted L4 header
};

// Reads the ports of a quoted flow. ours_is_src: the quoted packet was sent
// by our side (out2in errors quote our outbound packet).
bool quoted_flow(std::span<const std::byte> ql4, uint8_t proto, bool ours_is_src,
                 QuotedFlow* f) noexcept {
  switch (proto) {
    case kProtoTcp:
    case kProtoUdp:
      f->port_off = ours_is_src ? l4::kSrcPort : l4::kDstPort;
      f->port = load16(ql4, f->port_off);
      f->remote_port = load16(ql4, ours_is_src ? l4::kDstPort : l4::kSrcPort);
      return true;
    case kProtoIcmp: {
      const uint8_t type = load8(ql4, l4::kIcmpType);
      if (type != (ours_is_src ? icmp::kEchoRequest : icmp::kEchoReply)) return false;
      f->port_off = l4::kIcmpId;
      f->port = load16(ql4, l4::kIcmpId);
      return true;
    }
    default:
      return true;
  }
}

// Rewrites the quoted address at addr_off and the quoted port, updating the
// quoted IPv4 and L4 checksums and the enclosing ICMP checksum.
void rewrite_quote(std::span<std::byte> icmp_msg, const QuotedInfo& q, size_t addr_off,
                   const QuotedFlow& f, uint32_t new_addr, uint16_t new_port) noexcept {
  const auto quote = icmp_msg.subspan(l4::kIcmpHeaderSize);
  const auto ql4 = quote.subspan(q.header_size);
  uint16_t outer = load16(icmp_msg, l4::kIcmpChecksum);

  const uint32_t old_addr = load32(quote, addr_off);
  const uint16_t old_qip_csum = load16(quote, ip4::kChecksum);
  set_ipv4_addr(quote, addr_off, new_addr);
  outer = csum_update32(outer, old_addr, new_addr);
  outer = csum_update16(outer, old_qip_csum, load16(quote, ip4::kChecksum));

  const uint16_t old_port = f.port_off != kNoPort ? load16(ql4, f.port_off) : 0;
  uint16_t c0, c1;
  rewrite_l4(ql4, q.proto, old_addr, new_addr, f.port_off, new_port, &c0, &c1);
  if (f.port_off != kNoPort) outer = csum_update16(outer, old_port, new_port);
  outer = csum_update16(outer, c0, c1);
  store16(icmp_msg, l4::kIcmpChecksum, outer);
}

}  // namespace

Result NatWorker::related_out2in(std::span<std::byte> packet, const Ipv4Info& ip,
                                 uint64_t now_ns) noexcept {
  const auto icmp_msg = ip.l4(packet);
  const auto quote = icmp_msg.subspan(l4::kIcmpHeaderSize);
  QuotedInfo q;
  if (const NatReason r = parse_quoted(quote, &q); r != NatReason::kNone) return fail(r);
  if (q.src != ip.dst) return fail(NatReason::kIcmpErrorNoSession);
  QuotedFlow f;
  if (!quoted_flow(quote.subspan(q.header_size), q.proto, true, &f))
    return fail(NatReason::kIcmpErrorNoSession);
  const int owner = plan_.owner(q.proto, q.src, f.port);
  if (owner == kNoWorker) return fail(NatReason::kIcmpErrorNoSession);
  if (owner != static_cast<int>(worker_)) return fail(NatReason::kWrongWorker);
  Session* s = lookup_out(FlowKey{q.src, q.dst, f.port, f.remote_port, q.proto}, now_ns);
  if (s == nullptr) return fail(NatReason::kIcmpErrorNoSession);

  rewrite_quote(icmp_msg, q, ip4::kSrc, f, s->in_addr, s->in_port);
  set_ipv4_addr(packet, ip4::kDst, s->in_addr);
  counters_.count(NatEvent::kRelatedOut2In);
  return Result{};
}

Result NatWorker::related_in2out(std::span<std::byte> packet, const Ipv4Info& ip,
                                 uint64_t now_ns) noexcept {
  const auto icmp_msg = ip.l4(packet);
  const auto quote = icmp_msg.subspan(l4::kIcmpHeaderSize);
  QuotedInfo q;
  if (const NatReason r = parse_quoted(quote, &q); r != NatReason::kNone) return fail(r);
  QuotedFlow f;
  if (!quoted_flow(quote.subspan(q.header_size), q.proto, false, &f))
    return fail(NatReason::kIcmpErrorNoSession);
  Session* s = lookup_in(FlowKey{q.dst, q.src, f.port, f.remote_port, q.proto}, now_ns);
  if (s == nullptr) return fail(NatReason::kIcmpErrorNoSession);

  rewrite_quote(icmp_msg, q, ip4::kDst, f, s->ext_addr, s->ext_port);
  set_ipv4_addr(packet, ip4::kSrc, s->ext_addr);
  counters_.count(NatEvent::kRelatedIn2Out);
  return Result{};
}

}  // namespace vnet::nat
