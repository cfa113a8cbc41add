// vnet::dhcp — the gateway's IPv6 host side. See ipv6_host.h.
#include "dhcp/ipv6_host.h"

#include <algorithm>

namespace vnet::dhcp {
namespace {

constexpr uint8_t kIcmpv6RouterSolicitation = 133;
constexpr uint8_t kIcmpv6RouterAdvertisement = 134;
constexpr uint8_t kIcmpv6EchoRequest = 128;
constexpr uint8_t kIcmpv6EchoReply = 129;
constexpr uint8_t kIcmpv6NeighborSolicitation = 135;
constexpr uint8_t kIcmpv6NeighborAdvertisement = 136;
constexpr uint8_t kNdHopLimit = 255;
constexpr uint8_t kOptSourceLinkLayer = 1;
constexpr uint8_t kOptTargetLinkLayer = 2;
constexpr uint8_t kOptPrefixInfo = 3;
constexpr uint8_t kOptMtu = 5;
constexpr uint8_t kOptRdnss = 25;
constexpr uint8_t kTrafficClassNetworkControl = 0xc0;  // as dnsmasq sends its RAs
constexpr int64_t kSecond = 1'000'000'000;
constexpr size_t kNsSize = 24;  // type, code, checksum, reserved, target
constexpr uint8_t kNaRouter = 0x80, kNaSolicited = 0x40, kNaOverride = 0x20;
constexpr Ipv6Addr kAllNodes{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr Ipv6Addr kAllRouters{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

uint16_t rd16(std::span<const uint8_t> b, size_t off) { return static_cast<uint16_t>((b[off] << 8) | b[off + 1]); }
bool is_multicast(const Ipv6Addr& a) { return a[0] == 0xff; }
bool is_unspecified(const Ipv6Addr& a) { return std::all_of(a.begin(), a.end(), [](uint8_t b) { return b == 0; }); }
Ipv6Addr addr_at(std::span<const uint8_t> b, size_t off) {
  Ipv6Addr a;
  std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(off), 16, a.begin());
  return a;
}

// The options of an ND message from `from` on (RFC 4861 §4.6: each a whole
// number of 8-octet units, none of length 0): false when malformed; a
// source link-layer address option sets *slla and *has_slla.
bool nd_options(std::span<const uint8_t> m, size_t from, Mac* slla, bool* has_slla) {
  for (size_t off = from; off < m.size();) {
    if (m.size() - off < 2 || m[off + 1] == 0 || m.size() - off < size_t{m[off + 1]} * 8) return false;
    if (m[off] == kOptSourceLinkLayer && m[off + 1] == 1) {
      std::copy_n(m.begin() + static_cast<std::ptrdiff_t>(off + 2), 6, slla->bytes.begin());
      *has_slla = true;
    }
    off += size_t{m[off + 1]} * 8;
  }
  return true;
}

}  // namespace

const char* to_string(Ipv6Counter c) {
  switch (c) {
#define VNET_X(e, name) \
  case Ipv6Counter::e:  \
    return name;
    VNET_IPV6_COUNTERS(VNET_X)
#undef VNET_X
    case Ipv6Counter::kCount:
      break;
  }
  return "?";
}

Ipv6Addr link_local_of(const Mac& mac) {
  const auto& m = mac.bytes;
  return Ipv6Addr{0xfe, 0x80, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(m[0] ^ 0x02), m[1], m[2], 0xff, 0xfe, m[3], m[4],
                  m[5]};
}

Ipv6Addr solicited_node_of(const Ipv6Addr& a) {
  return Ipv6Addr{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, a[13], a[14], a[15]};
}

Mac multicast_mac_of(const Ipv6Addr& group) { return Mac{{0x33, 0x33, group[12], group[13], group[14], group[15]}}; }

bool parse_ipv6(std::span<const uint8_t> l3, Ipv6Packet& out) {
  if (l3.size() < kIpv6HeaderSize || (l3[0] >> 4) != 6) return false;
  const size_t len = rd16(l3, 4);
  if (kIpv6HeaderSize + len > l3.size()) return false;
  out.next_header = l3[6];
  out.hop_limit = l3[7];
  out.src = addr_at(l3, 8);
  out.dst = addr_at(l3, 24);
  out.payload = l3.subspan(kIpv6HeaderSize, len);
  return true;
}

namespace {
uint16_t upper_checksum(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t proto, std::span<const uint8_t> message) {
  uint32_t sum = 0;
  for (size_t i = 0; i < 16; i += 2) sum += (src[i] << 8 | src[i + 1]) + (dst[i] << 8 | dst[i + 1]);
  const auto len = static_cast<uint32_t>(message.size());
  sum += (len >> 16) + (len & 0xffff) + proto;
  return inet_checksum(message, sum);
}

std::vector<uint8_t> ipv6_frame(const Mac& src_mac, const Mac& dst_mac, const Ipv6Addr& src, const Ipv6Addr& dst,
                                uint8_t proto, uint8_t hop_limit, uint8_t traffic_class,
                                std::span<const uint8_t> payload, size_t csum_at) {
  std::vector<uint8_t> f;
  f.reserve(kEthHeaderSize + kIpv6HeaderSize + payload.size());
  f.insert(f.end(), dst_mac.bytes.begin(), dst_mac.bytes.end());
  f.insert(f.end(), src_mac.bytes.begin(), src_mac.bytes.end());
  f.push_back(kEtherTypeIpv6 >> 8);
  f.push_back(kEtherTypeIpv6 & 0xff);
  f.insert(f.end(), {static_cast<uint8_t>(0x60 | (traffic_class >> 4)), static_cast<uint8_t>(traffic_class << 4), 0, 0});
  f.push_back(static_cast<uint8_t>(payload.size() >> 8));
  f.push_back(static_cast<uint8_t>(payload.size()));
  f.push_back(proto);
  f.push_back(hop_limit);
  f.insert(f.end(), src.begin(), src.end());
  f.insert(f.end(), dst.begin(), dst.end());
  const size_t at = f.size();
  f.insert(f.end(), payload.begin(), payload.end());
  f[at + csum_at] = 0;
  f[at + csum_at + 1] = 0;
  uint16_t c = upper_checksum(src, dst, proto, std::span<const uint8_t>(f).subspan(at));
  if (c == 0 && proto == kIpProtoUdp) c = 0xffff;  // RFC 8200 §8.1
  f[at + csum_at] = static_cast<uint8_t>(c >> 8);
  f[at + csum_at + 1] = static_cast<uint8_t>(c);
  if (f.size() < kEthMinFrameSize) f.resize(kEthMinFrameSize, 0);
  return f;
}
}  // namespace

uint16_t icmpv6_checksum(const Ipv6Addr& src, const Ipv6Addr& dst, std::span<const uint8_t> message) {
  return upper_checksum(src, dst, kIpProtoIcmpv6, message);
}

std::vector<uint8_t> build_udp6_frame(const Mac& src_mac, const Mac& dst_mac, const Ipv6Addr& src, const Ipv6Addr& dst,
                                      uint16_t src_port, uint16_t dst_port, std::span<const uint8_t> payload) {
  std::vector<uint8_t> udp{static_cast<uint8_t>(src_port >> 8), static_cast<uint8_t>(src_port),
                           static_cast<uint8_t>(dst_port >> 8), static_cast<uint8_t>(dst_port),
                           static_cast<uint8_t>((payload.size() + 8) >> 8), static_cast<uint8_t>(payload.size() + 8),
                           0, 0};
  udp.insert(udp.end(), payload.begin(), payload.end());
  return ipv6_frame(src_mac, dst_mac, src, dst, kIpProtoUdp, 64, 0, udp, 6);
}

std::vector<uint8_t> build_icmpv6_frame(const Mac& src_mac, const Mac& dst_mac, const Ipv6Addr& src,
                                        const Ipv6Addr& dst, uint8_t hop_limit, std::span<const uint8_t> icmp,
                                        uint8_t traffic_class) {
  return ipv6_frame(src_mac, dst_mac, src, dst, kIpProtoIcmpv6, hop_limit, traffic_class, icmp, 2);
}

std::optional<Ipv6Host::Udp> Ipv6Host::udp_of(const Ipv6Packet& p) {
  const std::span<const uint8_t> u = p.payload;
  if (u.size() < 8 || rd16(u, 4) < 8 || rd16(u, 4) > u.size()) {
    count(Ipv6Counter::kUdpMalformed);
    return std::nullopt;
  }
  const std::span<const uint8_t> d = u.first(rd16(u, 4));
  if (rd16(d, 6) == 0 || upper_checksum(p.src, p.dst, kIpProtoUdp, d) != 0) {
    count(Ipv6Counter::kUdpBadChecksum);
    return std::nullopt;
  }
  return Udp{rd16(d, 0), rd16(d, 2), d.subspan(8)};
}

void Ipv6Host::send_port_unreachable(std::span<const uint8_t> frame, const Ipv6Packet& p, uint16_t vlan,
                                     FrameSink& out) {
  // RFC 4443 §3.1: as much of the invoking packet as fits in the minimum MTU (1280).
  const std::span<const uint8_t> invoking = frame.subspan(kEthHeaderSize, kIpv6HeaderSize + p.payload.size());
  std::vector<uint8_t> m{1, 4, 0, 0, 0, 0, 0, 0};
  m.insert(m.end(), invoking.begin(),
           invoking.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(invoking.size(), 1280 - 40 - 8)));
  Mac src_mac;
  std::copy_n(frame.begin() + 6, 6, src_mac.bytes.begin());
  out.send(build_icmpv6_frame(mac_, src_mac, p.dst, p.src, 64, m), vlan);
  count(Ipv6Counter::kPortUnreachable);
}

void Ipv6Host::configure(const Mac& mac, const std::vector<Ipv6Addr>& addresses, bool router, RaConfig ra) {
  const std::vector<uint8_t> before = router_advertisement();
  mac_ = mac;
  router_ = router;
  ra_ = std::move(ra);
  addresses_ = {link_local_of(mac)};
  for (const Ipv6Addr& a : addresses)
    if (!is_ours(a)) addresses_.push_back(a);
  if (router_advertisement() != before) {
    next_ra_ns_ = -1;
    initial_left_ = 3;
  }
}

std::vector<uint8_t> Ipv6Host::router_advertisement() const {
  std::vector<uint8_t> m;
  if (ra_.prefixes.empty()) return m;
  const uint8_t flags = ra_.managed ? 0xc0 : 0;  // M, O
  m = {kIcmpv6RouterAdvertisement, 0, 0, 0, 64, flags, static_cast<uint8_t>(ra_.router_lifetime_s >> 8),
       static_cast<uint8_t>(ra_.router_lifetime_s), 0, 0, 0, 0, 0, 0, 0, 0};
  for (const RaConfig::Prefix& p : ra_.prefixes) {
    m.insert(m.end(), {kOptPrefixInfo, 4, static_cast<uint8_t>(p.length), static_cast<uint8_t>(p.autonomous ? 0xc0 : 0x80)});
    for (uint32_t v : {p.valid_s, p.preferred_s})
      m.insert(m.end(), {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
                         static_cast<uint8_t>(v)});
    m.insert(m.end(), {0, 0, 0, 0});
    for (unsigned i = 0; i < 16; ++i) {
      const unsigned bits = p.length > i * 8 ? std::min(8u, p.length - i * 8) : 0;
      m.push_back(static_cast<uint8_t>(p.address[i] & static_cast<uint8_t>(0xff00 >> bits)));
    }
  }
  m.insert(m.end(), {kOptMtu, 1, 0, 0, static_cast<uint8_t>(ra_.mtu >> 24), static_cast<uint8_t>(ra_.mtu >> 16),
                     static_cast<uint8_t>(ra_.mtu >> 8), static_cast<uint8_t>(ra_.mtu)});
  m.insert(m.end(), {kOptSourceLinkLayer, 1});
  m.insert(m.end(), mac_.bytes.begin(), mac_.bytes.end());
  if (ra_.rdnss) {
    m.insert(m.end(), {kOptRdnss, 3, 0, 0, 0xff, 0xff, 0xff, 0xff});
    const Ipv6Addr ll = link_local_of(mac_);
    m.insert(m.end(), ll.begin(), ll.end());
  }
  return m;
}

void Ipv6Host::send_ra(const Mac& dst_mac, const Ipv6Addr& dst, uint16_t vlan, FrameSink& out) {
  const std::vector<uint8_t> ra = router_advertisement();
  out.send(build_icmpv6_frame(mac_, dst_mac, link_local_of(mac_), dst, kNdHopLimit, ra, kTrafficClassNetworkControl),
           vlan);
  count(Ipv6Counter::kRaSent);
}

void Ipv6Host::on_tick(int64_t now_ns, Rng& rng, FrameSink& out) {
  if (ra_.prefixes.empty()) return;
  if (next_ra_ns_ >= 0 && now_ns < next_ra_ns_) return;
  send_ra(multicast_mac_of(kAllNodes), kAllNodes, 0, out);
  // RFC 4861 §6.2.4: the first few at most 16 s apart; then between
  // MinRtrAdvInterval and MaxRtrAdvInterval (200 and 600 s).
  int64_t wait_s;
  if (initial_left_ > 1) {
    --initial_left_;
    wait_s = 4 + static_cast<int64_t>(rng.next_u32() % 13);
  } else {
    initial_left_ = 0;
    wait_s = 200 + static_cast<int64_t>(rng.next_u32() % 401);
  }
  next_ra_ns_ = now_ns + wait_s * kSecond;
}

const Ipv6Addr& Ipv6Host::dhcp6_group() {
  static const Ipv6Addr group{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2};
  return group;
}

bool Ipv6Host::accepts_multicast(const Mac& dst) const {
  if (!ra_.prefixes.empty() && dst == multicast_mac_of(kAllRouters)) return true;  // router solicitations
  if (dhcp6_ && dst == multicast_mac_of(dhcp6_group())) return true;
  return std::any_of(addresses_.begin(), addresses_.end(),
                     [&](const Ipv6Addr& a) { return multicast_mac_of(solicited_node_of(a)) == dst; });
}

bool Ipv6Host::is_ours(const Ipv6Addr& a) const {
  return std::find(addresses_.begin(), addresses_.end(), a) != addresses_.end();
}

void Ipv6Host::on_frame(std::span<const uint8_t> frame, uint16_t vlan, FrameSink& out) {
  Ipv6Packet p;
  if (frame.size() < kEthHeaderSize || !parse_ipv6(frame.subspan(kEthHeaderSize), p)) {
    count(Ipv6Counter::kReceived);
    count(Ipv6Counter::kMalformed);
    return;
  }
  on_packet(frame, p, vlan, out);
}

void Ipv6Host::on_packet(std::span<const uint8_t> frame, const Ipv6Packet& p, uint16_t vlan, FrameSink& out) {
  count(Ipv6Counter::kReceived);
  if (p.next_header == kIpProtoTcp && is_ours(p.dst)) {
    reset_tcp(frame, p, vlan, out);
    return;
  }
  if (p.next_header != kIpProtoIcmpv6) {
    count(Ipv6Counter::kNotIcmpv6);
    return;
  }
  if (p.payload.size() < 4) {
    count(Ipv6Counter::kMalformed);
    return;
  }
  if (icmpv6_checksum(p.src, p.dst, p.payload) != 0) {
    count(Ipv6Counter::kBadChecksum);
    return;
  }
  Mac src_mac;
  std::copy_n(frame.begin() + 6, 6, src_mac.bytes.begin());
  switch (p.payload[0]) {
    case kIcmpv6NeighborSolicitation: on_solicitation(src_mac, p, vlan, out); break;
    case kIcmpv6EchoRequest: on_echo(src_mac, p, vlan, out); break;
    case kIcmpv6RouterSolicitation: on_router_solicitation(src_mac, p, vlan, out); break;
    default: count(Ipv6Counter::kOtherIcmpv6); break;
  }
}

void Ipv6Host::on_solicitation(const Mac& src_mac, const Ipv6Packet& p, uint16_t vlan, FrameSink& out) {
  const std::span<const uint8_t> m = p.payload;
  if (p.hop_limit != kNdHopLimit || m[1] != 0 || m.size() < kNsSize) {
    count(Ipv6Counter::kNsInvalid);
    return;
  }
  const Ipv6Addr target = addr_at(m, 8);
  if (is_multicast(target)) {
    count(Ipv6Counter::kNsInvalid);
    return;
  }
  Mac reply_mac = src_mac;
  bool has_slla = false;
  if (!nd_options(m, kNsSize, &reply_mac, &has_slla)) {
    count(Ipv6Counter::kNsInvalid);
    return;
  }
  const bool dad = is_unspecified(p.src);
  // §7.1.1: from ::, the destination is a solicited-node group and there is no source link-layer option.
  if (dad && (has_slla || p.dst != solicited_node_of(target))) {
    count(Ipv6Counter::kNsInvalid);
    return;
  }
  if (!is_ours(target)) {
    count(Ipv6Counter::kNsNotForUs);
    return;
  }
  std::vector<uint8_t> na(kNsSize + 8, 0);
  na[0] = kIcmpv6NeighborAdvertisement;
  na[4] = static_cast<uint8_t>((router_ ? kNaRouter : 0) | (dad ? 0 : kNaSolicited) | kNaOverride);
  std::copy(target.begin(), target.end(), na.begin() + 8);
  na[kNsSize] = kOptTargetLinkLayer;
  na[kNsSize + 1] = 1;
  std::copy(mac_.bytes.begin(), mac_.bytes.end(), na.begin() + kNsSize + 2);
  if (dad) {
    out.send(build_icmpv6_frame(mac_, multicast_mac_of(kAllNodes), target, kAllNodes, kNdHopLimit, na), vlan);
    count(Ipv6Counter::kDadDefended);
  } else {
    out.send(build_icmpv6_frame(mac_, reply_mac, target, p.src, kNdHopLimit, na), vlan);
    count(Ipv6Counter::kNeighborAdvertised);
  }
}

void Ipv6Host::reset_tcp(std::span<const uint8_t> frame, const Ipv6Packet& p, uint16_t vlan, FrameSink& out) {
  const std::span<const uint8_t> t = p.payload;
  const size_t offset = t.size() >= 20 ? static_cast<size_t>(t[12] >> 4) * 4 : 0;
  if (offset < 20 || offset > t.size() || upper_checksum(p.src, p.dst, kIpProtoTcp, t) != 0 ||
      (t[13] & kTcpRst) != 0) {
    count(Ipv6Counter::kTcpIgnored);
    return;
  }
  const uint8_t flags = t[13];
  const uint32_t seq = (uint32_t{t[4]} << 24) | (t[5] << 16) | (t[6] << 8) | t[7];
  const uint32_t ack = (uint32_t{t[8]} << 24) | (t[9] << 16) | (t[10] << 8) | t[11];
  // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST> when the segment has ACK, else
  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (SYN and FIN count in SEG.LEN).
  uint32_t r_seq = 0, r_ack = 0;
  uint8_t r_flags = kTcpRst;
  if ((flags & kTcpAck) != 0) {
    r_seq = ack;
  } else {
    r_ack = seq + static_cast<uint32_t>(t.size() - offset) + ((flags & kTcpSyn) ? 1 : 0) + ((flags & kTcpFin) ? 1 : 0);
    r_flags |= kTcpAck;
  }
  const std::vector<uint8_t> rst{t[2], t[3], t[0], t[1],
                                 static_cast<uint8_t>(r_seq >> 24), static_cast<uint8_t>(r_seq >> 16),
                                 static_cast<uint8_t>(r_seq >> 8), static_cast<uint8_t>(r_seq),
                                 static_cast<uint8_t>(r_ack >> 24), static_cast<uint8_t>(r_ack >> 16),
                                 static_cast<uint8_t>(r_ack >> 8), static_cast<uint8_t>(r_ack),
                                 0x50, r_flags, 0, 0, 0, 0, 0, 0};
  Mac src_mac;
  std::copy_n(frame.begin() + 6, 6, src_mac.bytes.begin());
  out.send(ipv6_frame(mac_, src_mac, p.dst, p.src, kIpProtoTcp, 64, 0, rst, 16), vlan);
  count(Ipv6Counter::kTcpReset);
}

void Ipv6Host::on_router_solicitation(const Mac& src_mac, const Ipv6Packet& p, uint16_t vlan, FrameSink& out) {
  const std::span<const uint8_t> m = p.payload;
  if (p.hop_limit != kNdHopLimit || m[1] != 0 || m.size() < 8) {
    count(Ipv6Counter::kRsInvalid);
    return;
  }
  Mac reply_mac = src_mac;
  bool has_slla = false;
  if (!nd_options(m, 8, &reply_mac, &has_slla)) {
    count(Ipv6Counter::kRsInvalid);
    return;
  }
  const bool unspecified = is_unspecified(p.src);
  if (unspecified && has_slla) {  // RFC 4861 §6.1.1
    count(Ipv6Counter::kRsInvalid);
    return;
  }
  if (ra_.prefixes.empty()) {
    count(Ipv6Counter::kRsIgnored);
    return;
  }
  if (unspecified) {
    send_ra(multicast_mac_of(kAllNodes), kAllNodes, vlan, out);
  } else {
    send_ra(reply_mac, p.src, vlan, out);
  }
  count(Ipv6Counter::kRsAnswered);
}

void Ipv6Host::on_echo(const Mac& src_mac, const Ipv6Packet& p, uint16_t vlan, FrameSink& out) {
  if (!is_ours(p.dst) || is_multicast(p.src) || is_unspecified(p.src) || p.payload[1] != 0) {
    count(Ipv6Counter::kEchoNotForUs);
    return;
  }
  std::vector<uint8_t> reply(p.payload.begin(), p.payload.end());
  reply[0] = kIcmpv6EchoReply;
  out.send(build_icmpv6_frame(mac_, src_mac, p.dst, p.src, 64, reply), vlan);
  count(Ipv6Counter::kEchoReplied);
}

}  // namespace vnet::dhcp
