// vnet::dhcp — Ethernet/ARP/IPv4/ICMP/UDP parsing and building. See frame.h.
#include "dhcp/frame.h"

#include <cstring>

namespace vnet::dhcp {

namespace {

uint16_t rd16(std::span<const uint8_t> s, size_t at) {
  return static_cast<uint16_t>((s[at] << 8) | s[at + 1]);
}
uint32_t rd32(std::span<const uint8_t> s, size_t at) {
  return (uint32_t{s[at]} << 24) | (uint32_t{s[at + 1]} << 16) | (uint32_t{s[at + 2]} << 8) | uint32_t{s[at + 3]};
}
Mac rd_mac(std::span<const uint8_t> s, size_t at) {
  Mac m;
  std::memcpy(m.bytes.data(), s.data() + at, 6);
  return m;
}

void put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x >> 8));
  v.push_back(static_cast<uint8_t>(x));
}
void put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int shift = 24; shift >= 0; shift -= 8) v.push_back(static_cast<uint8_t>(x >> shift));
}
void put_mac(std::vector<uint8_t>& v, const Mac& m) { v.insert(v.end(), m.bytes.begin(), m.bytes.end()); }
void patch16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = static_cast<uint8_t>(x >> 8);
  v[at + 1] = static_cast<uint8_t>(x);
}

uint32_t sum_words(std::span<const uint8_t> data, uint32_t sum) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += static_cast<uint32_t>((data[i] << 8) | data[i + 1]);
  if (i < data.size()) sum += static_cast<uint32_t>(data[i] << 8);
  return sum;
}

void put_eth(std::vector<uint8_t>& v, const Mac& dst, const Mac& src, uint16_t ethertype) {
  put_mac(v, dst);
  put_mac(v, src);
  put16(v, ethertype);
}

// Appends an IPv4 header for a payload of `payload_size` bytes; returns its offset.
size_t put_ipv4(std::vector<uint8_t>& v, Ipv4 src, Ipv4 dst, uint8_t proto, size_t payload_size, uint16_t id,
                bool dont_fragment = false) {
  const size_t at = v.size();
  v.push_back(0x45);
  v.push_back(0);  // DSCP/ECN
  put16(v, static_cast<uint16_t>(kIpv4HeaderSize + payload_size));
  put16(v, id);
  put16(v, dont_fragment ? 0x4000 : 0);  // flags + fragment offset
  v.push_back(kDefaultTtl);
  v.push_back(proto);
  put16(v, 0);  // checksum, patched below
  put32(v, src.value);
  put32(v, dst.value);
  patch16(v, at + 10, inet_checksum(std::span<const uint8_t>(v).subspan(at, kIpv4HeaderSize)));
  return at;
}

void pad_frame(std::vector<uint8_t>& v) {
  if (v.size() < kEthMinFrameSize) v.resize(kEthMinFrameSize, 0);
}

}  // namespace

const char* to_string(FrameError e) {
  switch (e) {
    case FrameError::kOk: return "ok";
#define VNET_X(e, name) \
  case FrameError::e: return name;
    VNET_FRAME_ERRORS(VNET_X)
#undef VNET_X
    case FrameError::kCount: break;
  }
  return "?";
}

uint16_t inet_checksum(std::span<const uint8_t> data, uint32_t initial) {
  uint64_t sum = sum_words(data, 0);
  sum += initial;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint32_t pseudo_header_sum(Ipv4 src, Ipv4 dst, uint8_t proto, uint16_t length) {
  return (src.value >> 16) + (src.value & 0xffff) + (dst.value >> 16) + (dst.value & 0xffff) + proto + length;
}

FrameError parse_frame(std::span<const uint8_t> frame, ParsedFrame& out) {
  out = ParsedFrame{};
  if (frame.size() < kEthHeaderSize) return FrameError::kEthTruncated;
  out.dst_mac = rd_mac(frame, 0);
  out.src_mac = rd_mac(frame, 6);
  out.ethertype = rd16(frame, 12);
  const std::span<const uint8_t> l3 = frame.subspan(kEthHeaderSize);

  if (out.ethertype == kEtherTypeArp) {
    // RFC 826 for Ethernet (htype 1) and IPv4 (ptype 0x0800).
    if (l3.size() < kArpSize || rd16(l3, 0) != 1 || rd16(l3, 2) != kEtherTypeIpv4 || l3[4] != 6 || l3[5] != 4)
      return FrameError::kArpMalformed;
    out.kind = ParsedFrame::Kind::kArp;
    out.arp.op = rd16(l3, 6);
    out.arp.sender_mac = rd_mac(l3, 8);
    out.arp.sender_ip = Ipv4(rd32(l3, 14));
    out.arp.target_mac = rd_mac(l3, 18);
    out.arp.target_ip = Ipv4(rd32(l3, 24));
    return FrameError::kOk;
  }
  if (out.ethertype == kEtherTypeIpv6) {
    out.kind = ParsedFrame::Kind::kIpv6;
    return FrameError::kOk;
  }
  if (out.ethertype != kEtherTypeIpv4) {
    out.kind = ParsedFrame::Kind::kOther;
    return FrameError::kOk;
  }

  if (l3.size() < kIpv4HeaderSize) return FrameError::kIpv4Truncated;
  if ((l3[0] >> 4) != 4) return FrameError::kIpv4BadVersion;
  const size_t ihl = size_t{l3[0] & 0x0fu} * 4;
  const size_t total = rd16(l3, 2);
  if (ihl < kIpv4HeaderSize || total < ihl || total > l3.size()) return FrameError::kIpv4BadLength;
  if (inet_checksum(l3.first(ihl)) != 0) return FrameError::kIpv4BadChecksum;
  const uint16_t frag = rd16(l3, 6);
  if ((frag & 0x2000) != 0 || (frag & 0x1fff) != 0) return FrameError::kIpv4Fragment;  // MF or offset
  out.ip_packet = l3.first(total);
  out.ttl = l3[8];
  out.ip_proto = l3[9];
  out.src_ip = Ipv4(rd32(l3, 12));
  out.dst_ip = Ipv4(rd32(l3, 16));
  const std::span<const uint8_t> l4 = out.ip_packet.subspan(ihl);

  switch (out.ip_proto) {
    case kIpProtoIcmp:
      if (l4.size() < kIcmpHeaderSize) return FrameError::kIcmpTruncated;
      if (inet_checksum(l4) != 0) return FrameError::kIcmpBadChecksum;
      out.kind = ParsedFrame::Kind::kIcmp;
      out.icmp_type = l4[0];
      out.icmp_code = l4[1];
      out.icmp_message = l4;
      return FrameError::kOk;
    case kIpProtoUdp: {
      if (l4.size() < kUdpHeaderSize) return FrameError::kUdpTruncated;
      const size_t udp_len = rd16(l4, 4);
      if (udp_len < kUdpHeaderSize || udp_len > l4.size()) return FrameError::kUdpBadLength;
      const std::span<const uint8_t> datagram = l4.first(udp_len);
      if (rd16(l4, 6) != 0 &&
          inet_checksum(datagram, pseudo_header_sum(out.src_ip, out.dst_ip, kIpProtoUdp,
                                                    static_cast<uint16_t>(udp_len))) != 0)
        return FrameError::kUdpBadChecksum;
      out.kind = ParsedFrame::Kind::kUdp;
      out.src_port = rd16(l4, 0);
      out.dst_port = rd16(l4, 2);
      out.udp_payload = datagram.subspan(kUdpHeaderSize);
      return FrameError::kOk;
    }
    case kIpProtoTcp: {
      if (l4.size() < kTcpHeaderSize) return FrameError::kTcpTruncated;
      const size_t data_offset = size_t{l4[12]} / 16 * 4;
      if (data_offset < kTcpHeaderSize || data_offset > l4.size()) return FrameError::kTcpBadOffset;
      if (inet_checksum(l4, pseudo_header_sum(out.src_ip, out.dst_ip, kIpProtoTcp, static_cast<uint16_t>(l4.size()))) != 0)
        return FrameError::kTcpBadChecksum;
      // Options (RFC 9293 §3.2): end, no-op, or kind + length >= 2 inside the header.
      for (size_t at = kTcpHeaderSize; at < data_offset;) {
        const uint8_t kind = l4[at];
        if (kind == 0) break;
        if (kind == 1) {
          ++at;
          continue;
        }
        if (at + 1 >= data_offset) return FrameError::kTcpBadOption;
        const size_t len = l4[at + 1];
        if (len < 2 || at + len > data_offset) return FrameError::kTcpBadOption;
        if (kind == 2) {
          if (len != kTcpMssOptionSize) return FrameError::kTcpBadOption;
          out.tcp_mss = rd16(l4, at + 2);
        }
        at += len;
      }
      out.kind = ParsedFrame::Kind::kTcp;
      out.src_port = rd16(l4, 0);
      out.dst_port = rd16(l4, 2);
      out.tcp_seq = rd32(l4, 4);
      out.tcp_ack = rd32(l4, 8);
      out.tcp_flags = l4[13];
      out.tcp_window = rd16(l4, 14);
      out.tcp_payload = l4.subspan(data_offset);
      return FrameError::kOk;
    }
    default:
      out.kind = ParsedFrame::Kind::kOtherIpv4;
      return FrameError::kOk;
  }
}

std::vector<uint8_t> build_udp_frame(const UdpEndpoints& ep, std::span<const uint8_t> payload, uint16_t ip_id) {
  const size_t udp_len = kUdpHeaderSize + payload.size();
  std::vector<uint8_t> v;
  v.reserve(kEthHeaderSize + kIpv4HeaderSize + udp_len + kEthMinFrameSize);
  put_eth(v, ep.dst_mac, ep.src_mac, kEtherTypeIpv4);
  put_ipv4(v, ep.src_ip, ep.dst_ip, kIpProtoUdp, udp_len, ip_id);
  const size_t udp_at = v.size();
  put16(v, ep.src_port);
  put16(v, ep.dst_port);
  put16(v, static_cast<uint16_t>(udp_len));
  put16(v, 0);
  v.insert(v.end(), payload.begin(), payload.end());
  uint16_t csum = inet_checksum(std::span<const uint8_t>(v).subspan(udp_at),
                                pseudo_header_sum(ep.src_ip, ep.dst_ip, kIpProtoUdp, static_cast<uint16_t>(udp_len)));
  if (csum == 0) csum = 0xffff;  // RFC 768: a computed zero is sent as all ones
  patch16(v, udp_at + 6, csum);
  pad_frame(v);
  return v;
}

std::vector<uint8_t> build_tcp_frame(const UdpEndpoints& ep, const TcpSegment& seg, std::span<const uint8_t> payload,
                                     uint16_t ip_id) {
  const size_t header_size = kTcpHeaderSize + (seg.mss != 0 ? kTcpMssOptionSize : 0);
  const size_t tcp_size = header_size + payload.size();
  std::vector<uint8_t> v;
  v.reserve(kEthHeaderSize + kIpv4HeaderSize + tcp_size + kEthMinFrameSize);
  put_eth(v, ep.dst_mac, ep.src_mac, kEtherTypeIpv4);
  put_ipv4(v, ep.src_ip, ep.dst_ip, kIpProtoTcp, tcp_size, ip_id, true);
  const size_t tcp_at = v.size();
  put16(v, ep.src_port);
  put16(v, ep.dst_port);
  put32(v, seg.seq);
  put32(v, seg.ack);
  v.push_back(static_cast<uint8_t>((header_size / 4) << 4));
  v.push_back(seg.flags);
  put16(v, seg.window);
  put16(v, 0);  // checksum, patched below
  put16(v, 0);  // urgent pointer
  if (seg.mss != 0) {
    v.push_back(2);
    v.push_back(kTcpMssOptionSize);
    put16(v, seg.mss);
  }
  v.insert(v.end(), payload.begin(), payload.end());
  patch16(v, tcp_at + 16,
          inet_checksum(std::span<const uint8_t>(v).subspan(tcp_at),
                        pseudo_header_sum(ep.src_ip, ep.dst_ip, kIpProtoTcp, static_cast<uint16_t>(tcp_size))));
  pad_frame(v);
  return v;
}

std::vector<uint8_t> build_icmp_frame(const Mac& src_mac, const Mac& dst_mac, Ipv4 src_ip, Ipv4 dst_ip,
                                      std::span<const uint8_t> icmp, uint16_t ip_id) {
  std::vector<uint8_t> v;
  v.reserve(kEthHeaderSize + kIpv4HeaderSize + icmp.size() + kEthMinFrameSize);
  put_eth(v, dst_mac, src_mac, kEtherTypeIpv4);
  put_ipv4(v, src_ip, dst_ip, kIpProtoIcmp, icmp.size(), ip_id);
  const size_t icmp_at = v.size();
  v.insert(v.end(), icmp.begin(), icmp.end());
  if (icmp.size() >= kIcmpHeaderSize) {
    patch16(v, icmp_at + 2, 0);
    patch16(v, icmp_at + 2, inet_checksum(std::span<const uint8_t>(v).subspan(icmp_at)));
  }
  pad_frame(v);
  return v;
}

std::vector<uint8_t> build_arp_frame(const Mac& eth_dst, const ArpPacket& arp, const Mac& eth_src) {
  std::vector<uint8_t> v;
  v.reserve(kEthMinFrameSize);
  put_eth(v, eth_dst, eth_src, kEtherTypeArp);
  put16(v, 1);
  put16(v, kEtherTypeIpv4);
  v.push_back(6);
  v.push_back(4);
  put16(v, arp.op);
  put_mac(v, arp.sender_mac);
  put32(v, arp.sender_ip.value);
  put_mac(v, arp.target_mac);
  put32(v, arp.target_ip.value);
  pad_frame(v);
  return v;
}

}  // namespace vnet::dhcp
