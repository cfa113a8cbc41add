// Frame-level helpers for the gateway tests: a client-side Ethernet/IPv4/UDP/
// ICMP/ARP builder and a decoder that checks every checksum, both written
// here independently of dhcp/frame.{h,cc} so the tests do not trust the code
// under test to check itself.
//
// Thread-safety
//   Test-local objects.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dhcp/gateway.h"
#include "test_support.h"

namespace vnet::dhcp::test {

using Bytes = std::vector<uint8_t>;

// RFC 1071, the textbook way: sum 16-bit words, fold, complement.
inline uint16_t ref_checksum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i < n; ++i) sum += (i % 2 == 0) ? uint32_t{p[i]} << 8 : uint32_t{p[i]};
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

inline void w16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
inline void w32(Bytes& b, uint32_t v) {
  w16(b, static_cast<uint16_t>(v >> 16));
  w16(b, static_cast<uint16_t>(v));
}
inline uint16_t r16(const Bytes& b, size_t at) { return static_cast<uint16_t>((b[at] << 8) | b[at + 1]); }
inline uint32_t r32(const Bytes& b, size_t at) { return (uint32_t{r16(b, at)} << 16) | r16(b, at + 2); }
inline Mac rmac(const Bytes& b, size_t at) {
  Mac m;
  std::memcpy(m.bytes.data(), &b[at], 6);
  return m;
}
inline void wmac(Bytes& b, const Mac& m) { b.insert(b.end(), m.bytes.begin(), m.bytes.end()); }

inline Bytes eth(const Mac& dst, const Mac& src, uint16_t type) {
  Bytes b;
  wmac(b, dst);
  wmac(b, src);
  w16(b, type);
  return b;
}

// An IPv4 packet (no options) around `l4`, with a correct header checksum.
inline Bytes ipv4(Ipv4 src, Ipv4 dst, uint8_t proto, const Bytes& l4, uint8_t ttl = 64) {
  Bytes b;
  b.push_back(0x45);
  b.push_back(0);
  w16(b, static_cast<uint16_t>(20 + l4.size()));
  w16(b, 0x1234);
  w16(b, 0x4000);  // DF
  b.push_back(ttl);
  b.push_back(proto);
  w16(b, 0);
  w32(b, src.value);
  w32(b, dst.value);
  const uint16_t c = ref_checksum(b.data(), 20);
  b[10] = static_cast<uint8_t>(c >> 8);
  b[11] = static_cast<uint8_t>(c);
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

inline uint32_t pseudo_sum(Ipv4 src, Ipv4 dst, uint8_t proto, size_t len) {
  return (src.value >> 16) + (src.value & 0xffff) + (dst.value >> 16) + (dst.value & 0xffff) + proto +
         static_cast<uint32_t>(len);
}

inline Bytes udp(Ipv4 src, Ipv4 dst, uint16_t sport, uint16_t dport, std::span<const uint8_t> payload,
                 bool with_checksum = true) {
  Bytes b;
  w16(b, sport);
  w16(b, dport);
  w16(b, static_cast<uint16_t>(8 + payload.size()));
  w16(b, 0);
  b.insert(b.end(), payload.begin(), payload.end());
  if (with_checksum) {
    uint16_t c = ref_checksum(b.data(), b.size(), pseudo_sum(src, dst, 17, b.size()));
    if (c == 0) c = 0xffff;
    b[6] = static_cast<uint8_t>(c >> 8);
    b[7] = static_cast<uint8_t>(c);
  }
  return b;
}

// A TCP segment (RFC 9293 §3.1) with a correct checksum; `mss` != 0 adds the MSS option.
struct TcpFields {
  uint16_t sport = 0, dport = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;  // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10
  uint16_t window = 65535;
  uint16_t mss = 0;
};
inline Bytes tcp(Ipv4 src, Ipv4 dst, const TcpFields& t, std::span<const uint8_t> payload) {
  Bytes b;
  w16(b, t.sport);
  w16(b, t.dport);
  w32(b, t.seq);
  w32(b, t.ack);
  const size_t header = t.mss != 0 ? 24 : 20;
  b.push_back(static_cast<uint8_t>((header / 4) << 4));
  b.push_back(t.flags);
  w16(b, t.window);
  w16(b, 0);
  w16(b, 0);
  if (t.mss != 0) {
    b.push_back(2);
    b.push_back(4);
    w16(b, t.mss);
  }
  b.insert(b.end(), payload.begin(), payload.end());
  const uint16_t c = ref_checksum(b.data(), b.size(), pseudo_sum(src, dst, 6, b.size()));
  b[16] = static_cast<uint8_t>(c >> 8);
  b[17] = static_cast<uint8_t>(c);
  return b;
}

inline Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline std::span<const uint8_t> u8(const std::vector<std::byte>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size()};
}
inline std::vector<std::byte> to_bytes(std::span<const uint8_t> s) {
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

inline Bytes udp_frame(const Mac& src_mac, const Mac& dst_mac, Ipv4 src, Ipv4 dst, uint16_t sport, uint16_t dport,
                       std::span<const uint8_t> payload) {
  return concat(eth(dst_mac, src_mac, 0x0800), ipv4(src, dst, 17, udp(src, dst, sport, dport, payload)));
}

inline Bytes arp_frame(const Mac& eth_dst, uint16_t op, const Mac& smac, Ipv4 sip, const Mac& tmac, Ipv4 tip) {
  Bytes b = eth(eth_dst, smac, 0x0806);
  w16(b, 1);
  w16(b, 0x0800);
  b.push_back(6);
  b.push_back(4);
  w16(b, op);
  wmac(b, smac);
  w32(b, sip.value);
  wmac(b, tmac);
  w32(b, tip.value);
  b.resize(60, 0);
  return b;
}

inline Bytes icmp_echo(uint16_t ident, uint16_t seq, const Bytes& data) {
  Bytes b = {8, 0, 0, 0};
  w16(b, ident);
  w16(b, seq);
  b.insert(b.end(), data.begin(), data.end());
  const uint16_t c = ref_checksum(b.data(), b.size());
  b[2] = static_cast<uint8_t>(c >> 8);
  b[3] = static_cast<uint8_t>(c);
  return b;
}

inline Bytes tcp_frame(const Mac& src_mac, const Mac& dst_mac, Ipv4 src, Ipv4 dst, const TcpFields& t,
                      std::span<const uint8_t> payload = {}) {
  return concat(eth(dst_mac, src_mac, 0x0800), ipv4(src, dst, 6, tcp(src, dst, t, payload)));
}

// A frame sent by the gateway, decoded with every checksum checked.
struct Decoded {
  Mac dst_mac, src_mac;
  uint16_t ethertype = 0;
  uint16_t vlan = 0;
  // IPv4
  Ipv4 src_ip, dst_ip;
  uint8_t proto = 0;
  uint8_t ttl = 0;
  bool ip_checksum_ok = false;
  // UDP
  uint16_t sport = 0, dport = 0;
  bool udp_checksum_ok = false;
  Bytes payload;  // UDP payload, or the whole ICMP message
  bool icmp_checksum_ok = false;
  // TCP (sport/dport above; payload = segment data)
  TcpFields tcp;
  bool tcp_checksum_ok = false;
  bool dont_fragment = false;
  // ARP
  uint16_t arp_op = 0;
  Mac arp_sha, arp_tha;
  Ipv4 arp_spa, arp_tpa;
};

inline Decoded decode(const Bytes& f, uint16_t vlan = 0) {
  Decoded d;
  d.vlan = vlan;
  EXPECT_GE(f.size(), 60u) << "runt frame";
  if (f.size() < 14) return d;
  d.dst_mac = rmac(f, 0);
  d.src_mac = rmac(f, 6);
  d.ethertype = r16(f, 12);
  if (d.ethertype == 0x0806 && f.size() >= 42) {
    d.arp_op = r16(f, 20);
    d.arp_sha = rmac(f, 22);
    d.arp_spa = Ipv4(r32(f, 28));
    d.arp_tha = rmac(f, 32);
    d.arp_tpa = Ipv4(r32(f, 38));
    return d;
  }
  if (d.ethertype != 0x0800 || f.size() < 34) return d;
  const size_t ihl = size_t{f[14] & 0x0fu} * 4;
  const size_t total = r16(f, 16);
  EXPECT_LE(14 + total, f.size());
  if (14 + total > f.size()) return d;
  d.ip_checksum_ok = ref_checksum(&f[14], ihl) == 0;
  d.ttl = f[22];
  d.dont_fragment = (f[20] & 0x40) != 0;
  d.proto = f[23];
  d.src_ip = Ipv4(r32(f, 26));
  d.dst_ip = Ipv4(r32(f, 30));
  const size_t l4 = 14 + ihl;
  const size_t l4_size = total - ihl;
  if (d.proto == 17) {
    d.sport = r16(f, l4);
    d.dport = r16(f, l4 + 2);
    const size_t ulen = r16(f, l4 + 4);
    EXPECT_EQ(ulen, l4_size);
    d.udp_checksum_ok = r16(f, l4 + 6) != 0 && ref_checksum(&f[l4], ulen, pseudo_sum(d.src_ip, d.dst_ip, 17, ulen)) == 0;
    d.payload.assign(f.begin() + static_cast<ptrdiff_t>(l4 + 8), f.begin() + static_cast<ptrdiff_t>(l4 + ulen));
  } else if (d.proto == 6 && l4_size >= 20) {
    d.sport = r16(f, l4);
    d.dport = r16(f, l4 + 2);
    d.tcp.sport = d.sport;
    d.tcp.dport = d.dport;
    d.tcp.seq = r32(f, l4 + 4);
    d.tcp.ack = r32(f, l4 + 8);
    const size_t header = size_t{f[l4 + 12]} / 16 * 4;
    d.tcp.flags = f[l4 + 13];
    d.tcp.window = r16(f, l4 + 14);
    if (header >= 24 && f[l4 + 20] == 2 && f[l4 + 21] == 4) d.tcp.mss = r16(f, l4 + 22);
    d.tcp_checksum_ok = ref_checksum(&f[l4], l4_size, pseudo_sum(d.src_ip, d.dst_ip, 6, l4_size)) == 0;
    EXPECT_LE(header, l4_size);
    if (header <= l4_size)
      d.payload.assign(f.begin() + static_cast<ptrdiff_t>(l4 + header), f.begin() + static_cast<ptrdiff_t>(l4 + l4_size));
  } else if (d.proto == 1) {
    d.icmp_checksum_ok = ref_checksum(&f[l4], l4_size) == 0;
    d.payload.assign(f.begin() + static_cast<ptrdiff_t>(l4), f.begin() + static_cast<ptrdiff_t>(l4 + l4_size));
  }
  return d;
}

// Collects what the gateway sends.
class CaptureSink final : public FrameSink {
 public:
  bool send(std::span<const uint8_t> frame, uint16_t vlan) override {
    frames.emplace_back(frame.begin(), frame.end());
    vlans.push_back(vlan);
    return accept;
  }
  Decoded take(size_t i = 0) const { return decode(frames.at(i), vlans.at(i)); }
  void clear() {
    frames.clear();
    vlans.clear();
  }
  std::vector<Bytes> frames;
  std::vector<uint16_t> vlans;
  bool accept = true;
};

inline const Mac kGwMac = *Mac::parse("52:54:00:ab:cd:ef");

}  // namespace vnet::dhcp::test
