// vnet::nat — the inline part of NatWorker (nat.h): the per-packet path of
// established sessions, so that the dataplane's route stages compile it
// into their own loops (no call per packet). Everything rarer (session
// creation, ICMP errors, fragments) stays out of line (nat_worker.cc,
// nat_related.cc).
//
// Thread-safety
//   As NatWorker.
#pragma once

#include "nat/checksum.h"
#include "nat/rewrite.h"

namespace vnet::nat {

[[gnu::always_inline]] inline void NatWorker::refresh(Session* s, Dir dir, uint8_t tcp_flags,
                                                     uint64_t now_ns) noexcept {
  if (dir == Dir::kIn2Out) {
    ++s->pkts_in2out;
  } else {
    ++s->pkts_out2in;
    s->flags |= kFlagSeenReply;
  }
  uint64_t t = timeouts_.generic_ns;
  switch (s->proto) {
    case kProtoTcp:
      s->tcp_state = tcp_next(s->tcp_state, dir, tcp_flags, &s->flags);
      t = timeouts_.tcp(s->tcp_state);
      break;
    case kProtoUdp:
      t = (s->flags & kFlagSeenReply) ? timeouts_.udp_replied_ns : timeouts_.udp_unreplied_ns;
      break;
    case kProtoIcmp:
      t = timeouts_.icmp_ns;
      break;
    default:
      break;
  }
  s->expires_ns = now_ns + t;
}

namespace detail {

// The check parse_ipv4() makes last, for a header whose structure the caller
// checked (version 4); the common 20-byte header by one remainder.
inline bool header_checksum_ok(std::span<const std::byte> packet, const Ipv4Info& ip) noexcept {
  if (ip.header_size == ip4::kMinHeaderSize) return ipv4_header20_ok(packet.data());
  return csum_fold(csum_partial(packet.first(ip.header_size))) == 0;
}

// The session key's hash: the caller's (TCP/UDP, computed for its burst prefetch) or the table's.
inline uint32_t session_hash(const SessionTable& table, const FlowKey& key, uint64_t key_hash) noexcept {
  if (key_hash != kNoKeyHash && (key.proto == kProtoTcp || key.proto == kProtoUdp))
    return static_cast<uint32_t>(key_hash);
  return table.key_hash(key);
}

}  // namespace detail

[[gnu::always_inline]] inline Result NatWorker::in2out(std::span<std::byte> packet, const Ipv4Info& ip,
                                                      bool checksum_verified, uint64_t now_ns,
                                                      uint64_t key_hash) noexcept {
  if (!checksum_verified && !detail::header_checksum_ok(packet, ip)) return fail(NatReason::kBadIpChecksum);
  if (!config_.inside.contains(ip.src)) return fail(NatReason::kSrcNotInNetwork);
  if (is_no_nat_destination(ip.dst)) return fail(NatReason::kNoNatLocalDst);
  if (config_.inside.contains(ip.dst)) return fail(NatReason::kNoNatInsideDst);
  if (!ip.fragment) return translate_in2out(packet, ip, now_ns, key_hash);  // translate() without its fragment cases
  return translate(packet, ip, Dir::kIn2Out, now_ns, key_hash);
}

[[gnu::always_inline]] inline Result NatWorker::translate_in2out(std::span<std::byte> packet, const Ipv4Info& ip,
                                                                uint64_t now_ns, uint64_t key_hash) noexcept {
  const auto l4s = ip.l4(packet);
  if (l4s.size() < l4_min_size(ip.proto)) return fail(NatReason::kTruncated);

  FlowKey key{ip.src, ip.dst, 0, 0, ip.proto};
  size_t port_off = kNoPort;
  uint8_t tcp_flags = 0;
  switch (ip.proto) {
    case kProtoTcp:
    case kProtoUdp:
      key.local_port = load16(l4s, l4::kSrcPort);
      key.remote_port = load16(l4s, l4::kDstPort);
      port_off = l4::kSrcPort;
      if (ip.proto == kProtoTcp) tcp_flags = load8(l4s, l4::kTcpFlags);
      break;
    case kProtoIcmp: {
      const uint8_t type = load8(l4s, l4::kIcmpType);
      if (is_icmp_error(type)) return related_in2out(packet, ip, now_ns);
      if (type != icmp::kEchoRequest) return fail(NatReason::kIcmpUnsupported);
      key.local_port = load16(l4s, l4::kIcmpId);
      port_off = l4::kIcmpId;
      break;
    }
    default:
      break;
  }

  Session* s = lookup_in(key, detail::session_hash(table_, key, key_hash), now_ns);
  if (s != nullptr) {
    refresh(s, Dir::kIn2Out, tcp_flags, now_ns);
  } else if (const Result r = create_in2out(key, tcp_flags, now_ns, &s); r.verdict != Verdict::kForward) {
    return r;
  }

  if (port_off == l4::kSrcPort) {  // TCP/UDP
    rewrite_tcp_udp(packet, ip.header_size, ip.proto, ip4::kSrc, s->ext_addr, port_off, s->ext_port, s->ip_delta,
                    s->l4_delta);
  } else {
    set_ipv4_addr(packet, ip4::kSrc, s->ext_addr);
    uint16_t c0, c1;
    rewrite_l4(packet.subspan(ip.header_size, ip.total_length - ip.header_size), ip.proto, ip.src,
               s->ext_addr, port_off, s->ext_port, &c0, &c1);
  }
  counters_.count(NatEvent::kIn2Out);
  return Result{};
}

[[gnu::always_inline]] inline Result NatWorker::out2in(std::span<std::byte> packet, const Ipv4Info& ip,
                                                      bool checksum_verified, uint64_t now_ns,
                                                      uint64_t key_hash) noexcept {
  if (!checksum_verified && !detail::header_checksum_ok(packet, ip)) return fail(NatReason::kBadIpChecksum);
  if (!plan_.is_nat_address(ip.dst)) return fail(NatReason::kNotOurAddress);
  if (!ip.fragment) return translate_out2in(packet, ip, now_ns, key_hash);  // translate() without its fragment cases
  return translate(packet, ip, Dir::kOut2In, now_ns, key_hash);
}

[[gnu::always_inline]] inline Result NatWorker::translate_out2in(std::span<std::byte> packet, const Ipv4Info& ip,
                                                                uint64_t now_ns, uint64_t key_hash) noexcept {
  const auto l4s = ip.l4(packet);
  if (l4s.size() < l4_min_size(ip.proto)) return fail(NatReason::kTruncated);

  FlowKey key{ip.dst, ip.src, 0, 0, ip.proto};
  size_t port_off = kNoPort;
  uint8_t tcp_flags = 0;
  switch (ip.proto) {
    case kProtoTcp:
    case kProtoUdp:
      key.local_port = load16(l4s, l4::kDstPort);
      key.remote_port = load16(l4s, l4::kSrcPort);
      port_off = l4::kDstPort;
      if (ip.proto == kProtoTcp) tcp_flags = load8(l4s, l4::kTcpFlags);
      break;
    case kProtoIcmp: {
      const uint8_t type = load8(l4s, l4::kIcmpType);
      if (is_icmp_error(type)) return related_out2in(packet, ip, now_ns);
      if (type != icmp::kEchoReply) return fail(NatReason::kNoSession);
      key.local_port = load16(l4s, l4::kIcmpId);
      port_off = l4::kIcmpId;
      break;
    }
    default:
      break;
  }
  const int owner = plan_.owner(ip.proto, ip.dst, key.local_port);
  if (owner == kNoWorker) return fail(NatReason::kNoSession);
  if (owner != static_cast<int>(worker_)) return fail(NatReason::kWrongWorker);

  Session* s = lookup_out(key, detail::session_hash(table_, key, key_hash), now_ns);
  if (s == nullptr) return fail(NatReason::kNoSession);
  refresh(s, Dir::kOut2In, tcp_flags, now_ns);

  if (port_off == l4::kDstPort) {  // TCP/UDP
    rewrite_tcp_udp(packet, ip.header_size, ip.proto, ip4::kDst, s->in_addr, port_off, s->in_port,
                    static_cast<uint16_t>(~s->ip_delta), static_cast<uint16_t>(~s->l4_delta));
  } else {
    set_ipv4_addr(packet, ip4::kDst, s->in_addr);
    uint16_t c0, c1;
    rewrite_l4(packet.subspan(ip.header_size, ip.total_length - ip.header_size), ip.proto, ip.dst,
               s->in_addr, port_off, s->in_port, &c0, &c1);
  }
  counters_.count(NatEvent::kOut2In);
  return Result{};
}

}  // namespace vnet::nat
