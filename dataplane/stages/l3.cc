// The L3 stages (see dataplane/l3.h): uplink -> guests and guests -> uplink,
// NAT (mode nat) or plain routing (route/open), ICMP errors, neighbours.
#include <rte_mbuf.h>

#include <array>
#include <cstring>

#include "dataplane/mbuf_ops.h"
#include "dataplane/stages/stages.h"
#include "nat/bytes.h"
#include "nat/checksum.h"
#include "nat/icmp_build.h"
#include "nat/parse.h"
#include "nat/rewrite.h"

namespace vnet::dp {

namespace {

constexpr size_t kEth = net::kEtherHdrSize;

// The IPv4 packet after the Ethernet header, in the first segment.
std::span<std::byte> ip_bytes(rte_mbuf* m) noexcept {
  if (m->data_len < kEth) return {};
  return {rte_pktmbuf_mtod_offset(m, std::byte*, kEth), size_t{m->data_len} - kEth};
}

net::EtherHdr* eth_of(rte_mbuf* m) noexcept { return view_of(m).header<net::EtherHdr>(0); }

L3Counters& counters_of(const L3State& l3, uint16_t worker) noexcept { return *l3.counters[worker]; }

// The MAC an IPv4 multicast / broadcast destination maps to (RFC 1112 6.4).
net::MacAddr group_mac(uint32_t dst) noexcept {
  if (dst == 0xffffffffu) return net::kBroadcastMac;
  return net::MacAddr{{0x01, 0x00, 0x5e, static_cast<uint8_t>((dst >> 16) & 0x7f),
                       static_cast<uint8_t>(dst >> 8), static_cast<uint8_t>(dst)}};
}

void post_resolve(const StageContext& ctx, const L3State& l3, uint16_t network, uint32_t ip) noexcept {
  L3Counters& c = counters_of(l3, ctx.worker);
  if (ctx.resolve_ring == nullptr) return;
  if (ctx.resolve_filter != nullptr && !ctx.resolve_filter->should_post(network, ip, ctx.now_ns)) return;
  if (ctx.resolve_ring->push(ResolveRequest{network, 0, ip})) {
    c.count(L3Event::kResolvePosted);
  } else {
    c.count(L3Event::kResolveRingFull);
  }
}

// finish_checksum's work once the mbuf flags said the checksum is partial.
[[gnu::noinline]] void finish_partial_checksum(rte_mbuf* m, std::span<std::byte> ip, L3Counters& c) noexcept {
  m->ol_flags &= ~(RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK | RTE_MBUF_F_TX_IP_CKSUM |
                   RTE_MBUF_F_TX_IPV4);
  nat::Ipv4Info info;
  if (nat::parse_ipv4(ip, &info) != nat::NatReason::kNone || info.fragment) return;
  const auto seg = info.l4(ip);
  size_t off = 0;
  if (info.proto == nat::kProtoTcp && seg.size() >= nat::l4::kTcpMinHeaderSize) {
    off = nat::l4::kTcpChecksum;
  } else if (info.proto == nat::kProtoUdp && seg.size() >= nat::l4::kUdpHeaderSize) {
    off = nat::l4::kUdpChecksum;
  } else {
    return;
  }
  uint16_t sum = nat::l4_checksum(info.src, info.dst, info.proto, seg, off);
  if (info.proto == nat::kProtoUdp && sum == 0) sum = 0xffff;
  nat::store16(seg, off, sum);
  c.count(L3Event::kChecksumCompleted);
}

// Finishes a partial TCP/UDP checksum (virtio NEEDS_CSUM, or a TX checksum
// request on the mbuf) so that NAT can update it incrementally. The flag
// test is inline (every routed frame), the rare work is not.
inline void finish_checksum(rte_mbuf* m, std::span<std::byte> ip, L3Counters& c) noexcept {
  const uint64_t f = m->ol_flags;
  const bool partial = (f & RTE_MBUF_F_TX_L4_MASK) != 0 ||
                       (f & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE;
  if (partial) finish_partial_checksum(m, ip, c);
}

// Replaces the frame in `m` by an ICMP error about the IPv4 packet it holds,
// from `src_addr`, with Ethernet dst = the frame's source and src = `our_mac`.
// False when no error may be sent (RFC 1812 4.3.2.7) or it does not fit.
bool rewrite_as_icmp_error(rte_mbuf* m, uint8_t type, uint8_t code, uint32_t src_addr,
                           const net::MacAddr& our_mac) noexcept {
  net::EtherHdr* eth = eth_of(m);
  const std::span<std::byte> ip = ip_bytes(m);
  if (eth == nullptr || ip.empty()) return false;
  std::array<std::byte, nat::kIcmpErrorMaxSize> buf;
  const size_t n = nat::build_icmp_error(buf, ip, type, code, src_addr);
  if (n == 0) return false;
  const net::MacAddr to = eth->src;
  if (m->next != nullptr) {
    rte_pktmbuf_free(m->next);
    m->next = nullptr;
    m->nb_segs = 1;
  }
  if (size_t{m->buf_len} - m->data_off < kEth + n) return false;
  eth->dst = to;
  eth->src = our_mac;
  eth->ether_type = net::Be16{net::kEtherTypeIpv4};
  std::memcpy(rte_pktmbuf_mtod_offset(m, std::byte*, kEth), buf.data(), n);
  m->data_len = static_cast<uint16_t>(kEth + n);
  m->pkt_len = m->data_len;
  m->ol_flags = 0;
  return true;
}

// Verdict for an ICMP error back through the rx port (or a counted drop).
void reply_error(Burst& b, uint16_t i, const StageContext& ctx, const L3State& l3, uint8_t type,
                 uint8_t code, uint32_t src_addr, const net::MacAddr& our_mac, DropReason reason,
                 const PortState* back_port) noexcept {
  L3Counters& c = counters_of(l3, ctx.worker);
  rte_mbuf* m = b.pkts[i];
  if (!c.icmp_allowed(ctx.now_ns)) {
    c.count(L3Event::kIcmpRateLimited);
    b.drop(i, reason);
    return;
  }
  if (back_port == nullptr || !rewrite_as_icmp_error(m, type, code, src_addr, our_mac)) {
    c.count(L3Event::kIcmpErrorsSuppressed);
    b.drop(i, reason);
    return;
  }
  // The original packet is gone: count it as dropped on the rx port.
  ctx.counters->ports[b.in_port].drops.add(reason);
  if (!back_port->uplink && !egress_edit(m, *back_port, PacketMeta{back_port->network, kNoVlan, 0})) {
    b.drop(i, DropReason::kNoHeadroom);
    return;
  }
  c.count(L3Event::kIcmpErrorsSent);
  b.verdicts[i] = {Action::kForward, DropReason::kNoPort, back_port->port_id};
}

void count_nat_reason(const L3State& l3, uint16_t worker, nat::NatReason r) noexcept {
  counters_of(l3, worker).route.count(r);
}

// An ICMP echo request to one of our outside addresses: answered in place
// (RFC 792), back out of the uplink. False when it is not one.
bool answer_echo(Burst& b, uint16_t i, const StageContext& ctx, const L3State& l3,
                 std::span<std::byte> ip, const nat::Ipv4Info& info) noexcept {
  if (info.proto != nat::kProtoIcmp || info.fragment || !l3.is_outside_address(info.dst)) return false;
  const auto icmp = info.l4(ip);
  if (icmp.size() < nat::l4::kIcmpHeaderSize || nat::load8(icmp, nat::l4::kIcmpType) != nat::icmp::kEchoRequest)
    return false;
  if (info.src == 0 || (info.src >> 28) >= 0xe) return false;
  // ICMP: type 8 -> 0 (checksum update of the type/code word).
  const uint16_t old_word = nat::load16(icmp, nat::l4::kIcmpType);
  nat::store8(icmp, nat::l4::kIcmpType, nat::icmp::kEchoReply);
  nat::store16(icmp, nat::l4::kIcmpChecksum,
               nat::csum_update16(nat::load16(icmp, nat::l4::kIcmpChecksum), old_word,
                                  nat::load16(icmp, nat::l4::kIcmpType)));
  // IPv4: swap the addresses, fresh TTL, new header checksum.
  nat::store32(ip, nat::ip4::kSrc, info.dst);
  nat::store32(ip, nat::ip4::kDst, info.src);
  nat::store8(ip, nat::ip4::kTtl, 64);
  nat::store16(ip, nat::ip4::kChecksum, 0);
  nat::store16(ip, nat::ip4::kChecksum, nat::ipv4_header_checksum(ip.first(info.header_size)));
  net::EtherHdr* eth = eth_of(b.pkts[i]);
  const net::MacAddr to = eth->src;
  eth->dst = to;
  eth->src = l3.uplink_mac;
  counters_of(l3, ctx.worker).count(L3Event::kEchoReplies);
  b.verdicts[i] = {Action::kForward, DropReason::kNoPort, b.in_port};
  return true;
}

// Acts on a NAT / routing verdict: true when the frame goes on; a refusal
// becomes an ICMP port unreachable from `err_src`/`err_mac` back through
// `back_port` (libvirt's REJECT), a drop is counted as l3_dropped.
inline bool verdict_passes(Burst& b, uint16_t i, const StageContext& ctx, const L3State& l3, nat::Verdict v,
                           uint32_t err_src, const net::MacAddr& err_mac, const PortState* back_port) noexcept {
  switch (v) {
    case nat::Verdict::kForward:
    case nat::Verdict::kForwardUntranslated:
      return true;
    case nat::Verdict::kRefuse:
      reply_error(b, i, ctx, l3, nat::icmp::kDestUnreachable, nat::icmp::kCodePortUnreachable, err_src, err_mac,
                  DropReason::kL3Refused, back_port);
      return false;
    case nat::Verdict::kDrop:
      break;
  }
  b.drop(i, DropReason::kL3Dropped);
  return false;
}

// The last neighbour a stage resolved while going through one burst: a
// burst's frames to the uplink nearly all go to the same next hop, so one
// table lookup per burst instead of one per frame. Only found entries are
// kept (a miss is looked up, counted and posted again); it lives for one
// stage call, so a neighbour's change is seen from the next burst on.
// The same holds for the guest port frames from the uplink go to: one FDB
// lookup per burst and guest MAC (only a port they may be sent to is kept).
struct NeighborMemo {
  uint32_t ip = 0;  // 0: empty (0.0.0.0 is never a neighbour)
  net::MacAddr mac;
  const PortState* guest_port = nullptr;  // nullptr: empty
  uint16_t guest_port_id = 0;
  net::MacAddr guest_mac;

  bool lookup(const NeighborTable& table, uint32_t a, net::MacAddr* out) noexcept {
    if (a != ip || a == 0) {
      if (!table.lookup(a, &mac)) {
        ip = 0;
        return false;
      }
      ip = a;
    }
    *out = mac;
    return true;
  }
};

// Addresses the frame to the uplink's next hop for `dst` (the destination
// itself when on-link, the group MAC for multicast and broadcast) and gives
// it the uplink port; a next hop not yet resolved drops it (neighbor_miss) and
// asks the slow path to resolve it. True when the frame goes on the uplink:
// the caller counts it as routed_out (per burst in the route stage).
[[gnu::always_inline]] inline bool send_to_uplink(Burst& b, uint16_t i, const StageContext& ctx,
                                                 const NetworkState& ns, uint32_t dst, L3Counters& c,
                                                 NeighborMemo& memo) noexcept {
  const L3State& l3 = ns.l3;
  net::MacAddr dst_mac;
  if (dst == 0xffffffffu || (dst >> 28) == 0xe) {
    dst_mac = group_mac(dst);
  } else {
    const uint32_t hop = l3.next_hop == 0 || l3.on_link(dst) ? dst : l3.next_hop;
    if (!memo.lookup(*l3.neighbors, hop, &dst_mac)) {
      c.count(L3Event::kNeighborMiss);
      post_resolve(ctx, l3, ns.id, hop);
      b.drop(i, DropReason::kNeighborMiss);
      return false;
    }
  }
  net::EtherHdr* eth = eth_of(b.pkts[i]);
  eth->dst = dst_mac;
  eth->src = l3.uplink_mac;
  b.verdicts[i] = {Action::kForward, DropReason::kNoPort, l3.uplink_port};
  return true;
}

// The session key of a TCP/UDP packet as NatWorker looks it up (what
// NatWorker::prefetch() reads: addresses, protocol, ports; no other check),
// for the common header without options (others go unprefetched: the
// translation hashes their key itself). False for anything else.
template <nat::Dir kDir>
inline bool session_key(std::span<const std::byte> ip, nat::FlowKey* key) noexcept {
  constexpr size_t hs = nat::ip4::kMinHeaderSize;
  if (ip.size() < hs + 4 || nat::load8(ip, nat::ip4::kVersionIhl) != 0x45) return false;
  const uint8_t proto = nat::load8(ip, nat::ip4::kProto);
  if (proto != nat::kProtoTcp && proto != nat::kProtoUdp) return false;
  const uint32_t src = nat::load32(ip, nat::ip4::kSrc);
  const uint32_t dst = nat::load32(ip, nat::ip4::kDst);
  const uint16_t sport = nat::load16(ip, hs + nat::l4::kSrcPort);
  const uint16_t dport = nat::load16(ip, hs + nat::l4::kDstPort);
  if constexpr (kDir == nat::Dir::kOut2In) {
    *key = nat::FlowKey{dst, src, dport, sport, proto};
  } else {
    *key = nat::FlowKey{src, dst, sport, dport, proto};
  }
  return true;
}

// The session key hashes a burst's prefetch computed, by packet index: the
// stage hands them to NatWorker::in2out()/out2in(), which then do not hash
// the keys again. Part of one stage call's state (the hashes are those of
// this worker's table, for the packets as they were prefetched).
struct BurstKeyHashes {
  static_assert(kBurst <= 32, "one valid bit per packet");
  std::array<uint32_t, kBurst> hash;
  uint32_t valid = 0;  // bit i: hash[i] is packet i's

  uint64_t of(uint16_t i) const noexcept { return (valid >> i) & 1u ? hash[i] : nat::kNoKeyHash; }
};

// Two passes over the burst's TCP/UDP frames before they are translated:
// the session index slots, then (the index lines having had time to arrive)
// the sessions they point to; each key is hashed once, for both and for the
// translation (`hashes`). Nothing while the table holds fewer than
// nat::kPrefetchMinSessions sessions (it stays in the caches: the passes
// would only cost). kToGateway: only frames addressed to the gateway MAC
// (guest -> uplink).
template <nat::Dir kDir, bool kToGateway>
void prefetch_sessions(const Burst& b, const NetworkState& ns, uint16_t worker, BurstKeyHashes& hashes) noexcept {
  const nat::NatWorker* nw = ns.l3.nat[worker];
  if (nw == nullptr || nw->table().size() < nat::kPrefetchMinSessions) return;
  const nat::SessionTable& table = nw->table();
  constexpr bool out = kDir == nat::Dir::kOut2In;
  uint32_t valid = 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!b.pending(i)) continue;
    rte_mbuf* m = b.pkts[i];
    const net::EtherHdr* eth = eth_of(m);
    if (eth == nullptr || eth->ether_type != net::Be16{net::kEtherTypeIpv4}) continue;
    if (kToGateway && !(eth->dst == ns.gateway_mac)) continue;
    nat::FlowKey key;
    if (!session_key<kDir>(ip_bytes(m), &key)) continue;
    hashes.hash[i] = table.key_hash(key);
    valid |= 1u << i;
    table.prefetch_index(hashes.hash[i], out);
  }
  hashes.valid = valid;
  for (uint32_t todo = valid; todo != 0; todo &= todo - 1)
    table.prefetch_session(hashes.hash[__builtin_ctz(todo)], out);
}

// The header fields of a routed packet, when it is the common one: version
// 4 without options, total length within the frame, not a fragment,
// TTL > 1 (the checks of nat::parse_ipv4() but the checksum, and more).
// The header checksum is not verified here: NatWorker::in2out() / out2in()
// (told so) and route_outbound() verify it right after (TTL decrement's
// incremental update keeps a wrong checksum wrong, RFC 1624), so a damaged
// header is still dropped and counted as bad_ip_checksum, by one check
// instead of two. False for anything else: the caller parses it fully.
inline bool common_ipv4(std::span<const std::byte> ip, nat::Ipv4Info* info) noexcept {
  if (ip.size() < nat::ip4::kMinHeaderSize || nat::load8(ip, nat::ip4::kVersionIhl) != 0x45) return false;
  const uint16_t total = nat::load16(ip, nat::ip4::kTotalLength);
  const uint8_t ttl = nat::load8(ip, nat::ip4::kTtl);
  if (total < nat::ip4::kMinHeaderSize || total > ip.size() || ttl <= 1) return false;
  if ((nat::load16(ip, nat::ip4::kFlagsFrag) & (nat::ip4::kMoreFragments | nat::ip4::kOffsetMask)) != 0) return false;
  info->src = nat::load32(ip, nat::ip4::kSrc);
  info->dst = nat::load32(ip, nat::ip4::kDst);
  info->total_length = total;
  info->header_size = nat::ip4::kMinHeaderSize;
  info->proto = nat::load8(ip, nat::ip4::kProto);
  info->ttl = ttl;
  return true;
}

// Guest -> uplink, for a frame already known to take the L3 path. `in` is the
// guest's port; `c` and `nw` this worker's counters and NAT (mode nat),
// loaded once per burst; key_hash: the packet's from the burst prefetch, or
// nat::kNoKeyHash. True when the frame goes on the uplink (routed_out, which
// the caller counts per burst).
bool route_out(Burst& b, uint16_t i, const StageContext& ctx, const NetworkState& ns, const PortState* in,
               L3Counters& c, nat::NatWorker* nw, NeighborMemo& memo, uint64_t key_hash) noexcept {
  const L3State& l3 = ns.l3;
  rte_mbuf* m = b.pkts[i];
  const std::span<std::byte> ip = ip_bytes(m);
  nat::Ipv4Info info;
  const bool verified = !common_ipv4(ip, &info);
  if (verified) {
    if (const nat::NatReason r = nat::parse_ipv4(ip, &info); r != nat::NatReason::kNone) {
      count_nat_reason(l3, ctx.worker, r);
      b.drop(i, DropReason::kL3Dropped);
      return false;
    }
  }
  if (info.ttl <= 1) {
    count_nat_reason(l3, ctx.worker, nat::NatReason::kTtlExpired);
    reply_error(b, i, ctx, l3, nat::icmp::kTimeExceeded, nat::icmp::kCodeTtlExceeded, l3.gateway_ip_for(info.src),
                ns.gateway_mac, DropReason::kTtlExpired, in);
    return false;
  }
  nat::Result res;
  if (l3.mode == L3Mode::kNat) {
    const int owner = ctx.snap->worker_count > 1 ? nw->plan().in2out_worker(info.proto) : nat::kAnyWorker;
    if (owner >= 0 && owner != ctx.worker && ctx.handoff_rings != nullptr) {
      // Another worker translates it: only a sound header leaves this one.
      if (nat::NatReason r = verified ? nat::NatReason::kNone : nat::parse_ipv4(ip, &info);
          r != nat::NatReason::kNone) {
        count_nat_reason(l3, ctx.worker, r);
        b.drop(i, DropReason::kL3Dropped);
        return false;
      }
      m->port = b.in_port;
      c.count(L3Event::kHandoffOut);
      b.verdicts[i] = {Action::kHandoff, DropReason::kHandoffFull, static_cast<uint16_t>(owner)};
      return false;
    }
    finish_checksum(m, ip, c);
    nat::decrement_ttl(ip);  // header and TTL > 1 checked above
    res = nw->in2out(ip, info, verified, ctx.now_ns, key_hash);
  } else {
    finish_checksum(m, ip, c);
    nat::decrement_ttl(ip);
    res = nat::route_outbound(l3.policy, ip, true, &c.route);
  }
  if (res.verdict != nat::Verdict::kForward && res.verdict != nat::Verdict::kForwardUntranslated) {
    (void)verdict_passes(b, i, ctx, l3, res.verdict, l3.gateway_ip_for(info.src), ns.gateway_mac, in);
    return false;
  }
  return send_to_uplink(b, i, ctx, ns, info.dst, c, memo);
}

// Uplink -> guest for one IPv4 frame; `handed_over`: this worker owns the
// session (no owner check); `c` and `nw` this worker's counters and NAT
// (mode nat), loaded once per burst; key_hash: the packet's from the burst
// prefetch, or nat::kNoKeyHash. True when the frame goes to a guest
// (routed_in, which the caller counts).
bool route_in(Burst& b, uint16_t i, const StageContext& ctx, const NetworkState& ns, const PortState* up,
              bool handed_over, L3Counters& c, nat::NatWorker* nw, NeighborMemo& memo,
              uint64_t key_hash) noexcept {
  const L3State& l3 = ns.l3;
  rte_mbuf* m = b.pkts[i];
  const std::span<std::byte> ip = ip_bytes(m);
  nat::Ipv4Info info;
  // NAT return traffic (TCP/UDP to one of our outside addresses, not inside
  // the network, common header): no echo request and past the checks below,
  // its header checksum verified by out2in(). Everything else is parsed here.
  const bool nat_return = l3.mode == L3Mode::kNat && common_ipv4(ip, &info) &&
                          (info.proto == nat::kProtoTcp || info.proto == nat::kProtoUdp) &&
                          l3.is_outside_address(info.dst) && !l3.policy.subnets.contains(info.dst);
  const bool verified = !nat_return;
  if (!nat_return) {
    if (const nat::NatReason r = nat::parse_ipv4(ip, &info); r != nat::NatReason::kNone) {
      count_nat_reason(l3, ctx.worker, r);
      b.drop(i, DropReason::kL3Dropped);
      return false;
    }
    if (answer_echo(b, i, ctx, l3, ip, info)) return false;
    if (l3.mode == L3Mode::kNat) {
      if (l3.policy.subnets.contains(info.dst)) {
        // Routed to a guest directly: never an established flow under NAT
        // (libvirt FWI: -o B -j REJECT).
        count_nat_reason(l3, ctx.worker, nat::NatReason::kNoSession);
        reply_error(b, i, ctx, l3, nat::icmp::kDestUnreachable, nat::icmp::kCodePortUnreachable,
                    l3.outside_ip, l3.uplink_mac, DropReason::kL3Refused, up);
        return false;
      }
      if (!l3.is_outside_address(info.dst)) {
        count_nat_reason(l3, ctx.worker, nat::NatReason::kNotOurAddress);
        b.drop(i, DropReason::kL3Dropped);
        return false;
      }
    } else if (info.dst == l3.outside_ip) {
      c.count(L3Event::kToOutsideAddress);
      b.drop(i, DropReason::kL3Dropped);
      return false;
    }
  }
  const uint32_t err_src = nat_return || l3.is_outside_address(info.dst) ? info.dst : l3.outside_ip;
  nat::Result res;
  if (l3.mode == L3Mode::kNat) {
    // With one worker every session is this worker's (and no fragment can
    // need steering): the owner lookup, which parses the packet, is skipped.
    if (!handed_over && ctx.handoff_rings != nullptr && ctx.snap->worker_count > 1) {
      const int owner = nw->out2in_worker(ip, ctx.now_ns);
      if (owner >= 0 && owner != ctx.worker) {
        // Another worker translates it: only a sound header leaves this one.
        if (nat::NatReason r = verified ? nat::NatReason::kNone : nat::parse_ipv4(ip, &info);
            r != nat::NatReason::kNone) {
          count_nat_reason(l3, ctx.worker, r);
          b.drop(i, DropReason::kL3Dropped);
          return false;
        }
        m->port = b.in_port;
        c.count(L3Event::kHandoffOut);
        b.verdicts[i] = {Action::kHandoff, DropReason::kHandoffFull, static_cast<uint16_t>(owner)};
        return false;
      }
    }
    if (info.ttl <= 1) {
      count_nat_reason(l3, ctx.worker, nat::NatReason::kTtlExpired);
      reply_error(b, i, ctx, l3, nat::icmp::kTimeExceeded, nat::icmp::kCodeTtlExceeded, err_src,
                  l3.uplink_mac, DropReason::kTtlExpired, up);
      return false;
    }
    res = nw->out2in(ip, info, verified, ctx.now_ns, key_hash);
  } else {
    res = nat::route_inbound(l3.policy, ip, true, &c.route);
    if (res.verdict == nat::Verdict::kForward && info.ttl <= 1) {
      count_nat_reason(l3, ctx.worker, nat::NatReason::kTtlExpired);
      reply_error(b, i, ctx, l3, nat::icmp::kTimeExceeded, nat::icmp::kCodeTtlExceeded, err_src,
                  l3.uplink_mac, DropReason::kTtlExpired, up);
      return false;
    }
  }
  if (!verdict_passes(b, i, ctx, l3, res.verdict, err_src, l3.uplink_mac, up)) return false;
  if (l3.mode == L3Mode::kNat) {
    nat::decrement_ttl(ip);  // a translated packet: header and TTL > 1 checked above
  } else {
    (void)nat::ttl_decrement(ip);
  }
  const uint32_t guest = nat::load32(ip, nat::ip4::kDst);
  net::MacAddr mac;
  if (!memo.lookup(*l3.neighbors, guest, &mac)) {
    c.count(L3Event::kNeighborMiss);
    post_resolve(ctx, l3, ns.id, guest);
    b.drop(i, DropReason::kNeighborMiss);
    return false;
  }
  uint16_t out_port = memo.guest_port_id;
  const PortState* out = memo.guest_port;
  if (out == nullptr || !(memo.guest_mac == mac)) {
    out = nullptr;
    if (ctx.fdb->lookup(FdbKey{ns.id, kNoVlan, mac, 0}, &out_port) >= 0) out = ctx.snap->port(out_port);
    if (out == nullptr || out->network != ns.id || out->gateway || out->uplink || !out->vlan.admits(kNoVlan)) {
      c.count(L3Event::kNoGuestPort);
      b.drop(i, DropReason::kNoGuestPort);
      return false;
    }
    memo.guest_port = out;
    memo.guest_port_id = out_port;
    memo.guest_mac = mac;
  }
  net::EtherHdr* eth = eth_of(m);
  eth->dst = mac;
  eth->src = ns.gateway_mac;
  if (!egress_edit(m, *out, PacketMeta{ns.id, kNoVlan, 0})) {
    b.drop(i, DropReason::kNoHeadroom);
    return false;
  }
  b.verdicts[i] = {Action::kForward, DropReason::kNoPort, out_port};
  return true;
}

// One frame from an uplink port; `c`, `nw` and the result as for route_in().
bool uplink_frame(Burst& b, uint16_t i, const StageContext& ctx, const NetworkState& ns, const PortState* up,
                  bool handed_over, L3Counters& c, nat::NatWorker* nw, NeighborMemo& memo,
                  uint64_t key_hash) noexcept {
  const L3State& l3 = ns.l3;
  rte_mbuf* m = b.pkts[i];
  const net::EtherHdr* eth = eth_of(m);
  if (eth == nullptr) {
    b.drop(i, DropReason::kRunt);
    return false;
  }
  if (eth->ether_type == net::Be16{net::kEtherTypeArp}) {
    m->port = b.in_port;
    c.count(L3Event::kUplinkArp);
    b.verdicts[i].action = Action::kPunt;
    return false;
  }
  if (eth->ether_type != net::Be16{net::kEtherTypeIpv4}) {
    c.count(L3Event::kUplinkUnsupported);
    b.drop(i, DropReason::kUplinkUnsupported);
    return false;
  }
  if (!(eth->dst == l3.uplink_mac)) {
    c.count(L3Event::kUplinkNotForUs);
    b.drop(i, DropReason::kUplinkNotForUs);
    return false;
  }
  return route_in(b, i, ctx, ns, up, handed_over, c, nw, memo, key_hash);
}

}  // namespace

void l3_uplink_stage(Burst& b, const StageContext& ctx) noexcept {
  if (ctx.snap->l3_networks.empty()) return;  // the common L2-only case: one compare per burst
  const PortState* in = ctx.snap->port(b.in_port);
  if (in == nullptr || !in->uplink) return;
  const NetworkState* ns = ctx.snap->network(in->network);
  if (ns == nullptr || !ns->l3.enabled || ns->l3.counters[ctx.worker] == nullptr) {
    for (uint16_t i = 0; i < b.count; ++i)
      if (b.pending(i)) b.drop(i, DropReason::kNoPort);
    return;
  }
  L3Counters& c = *ns->l3.counters[ctx.worker];
  nat::NatWorker* nw = ns->l3.mode == L3Mode::kNat ? ns->l3.nat[ctx.worker] : nullptr;
  BurstKeyHashes hashes;
  if (nw != nullptr) prefetch_sessions<nat::Dir::kOut2In, false>(b, *ns, ctx.worker, hashes);
  NeighborMemo memo;
  uint32_t routed = 0;  // routed_in, counted once per burst
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!b.pending(i)) continue;
    routed += uplink_frame(b, i, ctx, *ns, in, false, c, nw, memo, hashes.of(i)) ? 1u : 0u;
  }
  if (routed != 0) c.count(L3Event::kRoutedIn, routed);
}

void l3_route_stage(Burst& b, const StageContext& ctx) noexcept {
  if (ctx.snap->l3_networks.empty()) return;
  const PortState* in = ctx.snap->port(b.in_port);
  if (in == nullptr || in->uplink || in->gateway) return;
  const NetworkState* ns = ctx.snap->network(in->network);
  if (ns == nullptr || !ns->l3.enabled || !ns->has_gateway || ns->l3.counters[ctx.worker] == nullptr)
    return;
  const L3State& l3 = ns->l3;
  L3Counters& c = *l3.counters[ctx.worker];
  nat::NatWorker* nw = l3.mode == L3Mode::kNat ? l3.nat[ctx.worker] : nullptr;
  BurstKeyHashes hashes;
  if (l3.mode == L3Mode::kNat) prefetch_sessions<nat::Dir::kIn2Out, true>(b, *ns, ctx.worker, hashes);
  NeighborMemo memo;
  uint32_t routed = 0;  // routed_out, counted once per burst
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!b.pending(i) || b.meta[i].vlan != kNoVlan) continue;
    rte_mbuf* m = b.pkts[i];
    const net::EtherHdr* eth = eth_of(m);
    if (eth == nullptr || !(eth->dst == ns->gateway_mac) ||
        eth->ether_type != net::Be16{net::kEtherTypeIpv4})
      continue;
    const std::span<std::byte> ip = ip_bytes(m);
    if (ip.size() < nat::ip4::kMinHeaderSize) continue;
    const uint32_t dst = nat::load32(ip, nat::ip4::kDst);
    // The gateway's own addresses and the network itself: the gateway port, as before.
    // Limited broadcast is not routed either.
    if (l3.is_gateway_ip(dst) || l3.policy.subnets.contains(dst) || dst == 0xffffffffu) continue;
    routed += route_out(b, i, ctx, *ns, in, c, nw, memo, hashes.of(i)) ? 1u : 0u;
  }
  if (routed != 0) c.count(L3Event::kRoutedOut, routed);
}

void l3_handoff_stage(Burst& b, const StageContext& ctx) noexcept {
  const PortState* in = ctx.snap->port(b.in_port);
  const NetworkState* ns = in != nullptr ? ctx.snap->network(in->network) : nullptr;
  NeighborMemo memo;
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!b.pending(i)) continue;
    if (ns == nullptr || !ns->l3.enabled || ns->l3.counters[ctx.worker] == nullptr) {
      b.drop(i, DropReason::kNoPort);
      continue;
    }
    L3Counters& hc = counters_of(ns->l3, ctx.worker);
    hc.count(L3Event::kHandoffIn);
    if (in->uplink) {
      nat::NatWorker* nw = ns->l3.mode == L3Mode::kNat ? ns->l3.nat[ctx.worker] : nullptr;
      if (uplink_frame(b, i, ctx, *ns, in, true, hc, nw, memo, nat::kNoKeyHash)) hc.count(L3Event::kRoutedIn);
      continue;
    }
    // A guest frame for a portless protocol (sessions on worker 0).
    const std::span<std::byte> ip = ip_bytes(b.pkts[i]);
    nat::Ipv4Info info;
    if (nat::parse_ipv4(ip, &info) != nat::NatReason::kNone) {
      b.drop(i, DropReason::kL3Dropped);
      continue;
    }
    L3Counters& c = counters_of(ns->l3, ctx.worker);
    finish_checksum(b.pkts[i], ip, c);
    (void)nat::ttl_decrement(ip);
    const nat::Result res = ns->l3.nat[ctx.worker]->in2out(ip, info, true, ctx.now_ns);
    if (!verdict_passes(b, i, ctx, ns->l3, res.verdict, ns->l3.gateway_ip_for(info.src), ns->gateway_mac, in))
      continue;
    if (send_to_uplink(b, i, ctx, *ns, info.dst, c, memo)) c.count(L3Event::kRoutedOut);
  }
}

uint32_t l3_drain_handoff(rte_ring* ring, Burst& b, const StageContext& ctx, TxBuffers& tx) noexcept {
  if (ring == nullptr) return 0;
  std::array<rte_mbuf*, kBurst> pkts;
  const unsigned n = rte_ring_dequeue_burst(ring, reinterpret_cast<void**>(pkts.data()), kBurst, nullptr);
  unsigned k = 0;
  while (k < n) {
    const uint16_t port = pkts[k]->port < kMaxPorts ? pkts[k]->port : 0;
    b.in_port = port;
    b.count = 0;
    while (k < n && (pkts[k]->port < kMaxPorts ? pkts[k]->port : 0) == port) b.pkts[b.count++] = pkts[k++];
    b.reset_verdicts();
    if (const PortState* ps = ctx.snap->port(port))
      for (uint16_t i = 0; i < b.count; ++i) b.meta[i].network = ps->network;
    l3_handoff_stage(b, ctx);
    dispatch(b, ctx, tx);
  }
  return n;
}

void l3_housekeeping(const StageContext& ctx) noexcept {
  for (uint16_t id : ctx.snap->l3_networks) {
    nat::NatWorker* nw = ctx.snap->networks[id].l3.nat[ctx.worker];
    if (nw != nullptr) (void)nw->housekeeping(ctx.now_ns);
  }
}

void run_nat_query(NatQuery* q, uint64_t now_ns) noexcept {
  if (q == nullptr) return;
  if (q->nat != nullptr) {
    q->size = q->nat->table().size();
    uint32_t cursor = 0;
    size_t filled = 0;
    while (filled < q->out.size() && cursor < q->nat->table().capacity()) {
      filled += q->nat->sessions(q->out.subspan(filled), &cursor, now_ns);
    }
    q->filled = filled;
    q->now_ns = now_ns;
  }
  q->done.store(true, std::memory_order_release);
}

}  // namespace vnet::dp
