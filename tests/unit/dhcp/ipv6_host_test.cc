// Ipv6Host: Neighbor Discovery and ICMPv6 echo for the gateway's IPv6
// addresses, checked field by field and with a checksum computed here.
#include "dhcp/ipv6_host.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/dhcp/test_support.h"

namespace vnet::dhcp {
namespace {

using test::mac;
using Bytes = std::vector<uint8_t>;

const Mac kGw = mac("52:54:00:ab:cd:ef");
const Mac kClient = mac("52:54:00:00:00:07");
const Ipv6Addr kOurs{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const Ipv6Addr kGuest{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50};
const Ipv6Addr kUnspecified{};
const Ipv6Addr kAllNodes{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

// RFC 1071 over the pseudo-header and the message, written out again here.
uint16_t ref_checksum(const Ipv6Addr& s, const Ipv6Addr& d, const Bytes& m, uint8_t proto = 58) {
  Bytes all(s.begin(), s.end());
  all.insert(all.end(), d.begin(), d.end());
  const uint32_t n = static_cast<uint32_t>(m.size());
  all.insert(all.end(), {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n), 0, 0, 0, proto});
  all.insert(all.end(), m.begin(), m.end());
  if (all.size() % 2) all.push_back(0);
  uint32_t sum = 0;
  for (size_t i = 0; i < all.size(); i += 2) sum += (all[i] << 8) | all[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// A frame as a guest sends it, its checksum filled in by ref_checksum.
Bytes frame(const Mac& dst_mac, const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t hop, Bytes icmp,
            uint8_t next_header = 58, bool good_checksum = true) {
  icmp[2] = icmp[3] = 0;
  const uint16_t c = ref_checksum(src, dst, icmp);
  icmp[2] = uint8_t(c >> 8);
  icmp[3] = uint8_t(good_checksum ? c : c ^ 1);
  Bytes f(dst_mac.bytes.begin(), dst_mac.bytes.end());
  f.insert(f.end(), kClient.bytes.begin(), kClient.bytes.end());
  f.insert(f.end(), {0x86, 0xdd, 0x60, 0, 0, 0, uint8_t(icmp.size() >> 8), uint8_t(icmp.size()), next_header, hop});
  f.insert(f.end(), src.begin(), src.end());
  f.insert(f.end(), dst.begin(), dst.end());
  f.insert(f.end(), icmp.begin(), icmp.end());
  return f;
}

Bytes ns(const Ipv6Addr& target, std::optional<Mac> slla) {
  Bytes m{135, 0, 0, 0, 0, 0, 0, 0};
  m.insert(m.end(), target.begin(), target.end());
  if (slla) {
    m.insert(m.end(), {1, 1});
    m.insert(m.end(), slla->bytes.begin(), slla->bytes.end());
  }
  return m;
}

class Capture final : public FrameSink {
 public:
  bool send(std::span<const uint8_t> f, uint16_t vlan) override {
    frames.emplace_back(f.begin(), f.end());
    vlans.push_back(vlan);
    return true;
  }
  std::vector<Bytes> frames;
  std::vector<uint16_t> vlans;
};

struct Reply {
  Mac dst_mac, src_mac;
  Ipv6Addr src{}, dst{};
  uint8_t hop = 0;
  Bytes icmp;
};
Reply decode(const Bytes& f) {
  Reply r;
  std::copy_n(f.begin(), 6, r.dst_mac.bytes.begin());
  std::copy_n(f.begin() + 6, 6, r.src_mac.bytes.begin());
  EXPECT_EQ(f[12], 0x86);
  EXPECT_EQ(f[13], 0xdd);
  EXPECT_EQ(f[14] >> 4, 6);
  EXPECT_EQ(f[20], 58);
  r.hop = f[21];
  std::copy_n(f.begin() + 22, 16, r.src.begin());
  std::copy_n(f.begin() + 38, 16, r.dst.begin());
  const size_t len = (f[18] << 8) | f[19];
  r.icmp.assign(f.begin() + 54, f.begin() + 54 + static_cast<std::ptrdiff_t>(len));
  EXPECT_EQ(ref_checksum(r.src, r.dst, r.icmp), 0) << "ICMPv6 checksum";
  return r;
}

class Ipv6HostTest : public ::testing::Test {
 protected:
  void SetUp() override { host.configure(kGw, {kOurs}, true); }
  uint64_t of(Ipv6Counter c) const { return host.counters().of(c); }
  Ipv6Host host;
  Capture out;
};

TEST_F(Ipv6HostTest, AddressesAndGroups) {
  const Ipv6Addr ll = link_local_of(kGw);
  EXPECT_EQ(ll, (Ipv6Addr{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0x00, 0xff, 0xfe, 0xab, 0xcd, 0xef}));
  EXPECT_EQ(solicited_node_of(kOurs), (Ipv6Addr{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1}));
  EXPECT_EQ(multicast_mac_of(solicited_node_of(kOurs)), mac("33:33:ff:00:00:01"));
  EXPECT_TRUE(host.is_ours(kOurs));
  EXPECT_TRUE(host.is_ours(ll));
  EXPECT_FALSE(host.is_ours(kGuest));
  EXPECT_TRUE(host.accepts_multicast(mac("33:33:ff:00:00:01")));
  EXPECT_TRUE(host.accepts_multicast(mac("33:33:ff:ab:cd:ef")));
  EXPECT_FALSE(host.accepts_multicast(mac("33:33:00:00:00:01")));
  EXPECT_FALSE(host.accepts_multicast(mac("33:33:ff:00:00:50")));
}

TEST_F(Ipv6HostTest, SolicitationsForOurAddressesAreAdvertised) {
  // With a source link-layer option: to that MAC, Router + Solicited + Override.
  host.on_frame(frame(mac("33:33:ff:00:00:01"), kGuest, solicited_node_of(kOurs), 255,
                      ns(kOurs, mac("52:54:00:00:00:99"))), 7, out);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(out.vlans[0], 7);
  Reply r = decode(out.frames[0]);
  EXPECT_EQ(r.dst_mac, mac("52:54:00:00:00:99"));
  EXPECT_EQ(r.src_mac, kGw);
  EXPECT_EQ(r.src, kOurs);
  EXPECT_EQ(r.dst, kGuest);
  EXPECT_EQ(r.hop, 255);
  ASSERT_EQ(r.icmp.size(), 32u);
  EXPECT_EQ(r.icmp[0], 136);
  EXPECT_EQ(r.icmp[1], 0);
  EXPECT_EQ(r.icmp[4], 0xe0);
  EXPECT_TRUE(std::equal(kOurs.begin(), kOurs.end(), r.icmp.begin() + 8));
  EXPECT_EQ(r.icmp[24], 2);  // target link-layer address
  EXPECT_EQ(r.icmp[25], 1);
  EXPECT_TRUE(std::equal(kGw.bytes.begin(), kGw.bytes.end(), r.icmp.begin() + 26));
  // Without the option: to the frame's source MAC; the link-local address too.
  out.frames.clear();
  host.on_frame(frame(kGw, kGuest, link_local_of(kGw), 255, ns(link_local_of(kGw), std::nullopt)), 0, out);
  ASSERT_EQ(out.frames.size(), 1u);
  r = decode(out.frames[0]);
  EXPECT_EQ(r.dst_mac, kClient);
  EXPECT_EQ(r.src, link_local_of(kGw));
  EXPECT_EQ(of(Ipv6Counter::kNeighborAdvertised), 2u);
  // An isolated network: no Router flag.
  host.configure(kGw, {kOurs}, false);
  out.frames.clear();
  host.on_frame(frame(kGw, kGuest, kOurs, 255, ns(kOurs, std::nullopt)), 0, out);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(decode(out.frames[0]).icmp[4], 0x60);
}

TEST_F(Ipv6HostTest, DuplicateAddressDetectionIsAnsweredToAllNodes) {
  host.on_frame(frame(mac("33:33:ff:00:00:01"), kUnspecified, solicited_node_of(kOurs), 255, ns(kOurs, std::nullopt)),
                0, out);
  ASSERT_EQ(out.frames.size(), 1u);
  const Reply r = decode(out.frames[0]);
  EXPECT_EQ(r.dst_mac, mac("33:33:00:00:00:01"));
  EXPECT_EQ(r.dst, kAllNodes);
  EXPECT_EQ(r.icmp[4], 0xa0);  // Router + Override, not Solicited
  EXPECT_EQ(of(Ipv6Counter::kDadDefended), 1u);
  // From :: with a source link-layer option, or not to the solicited-node group: invalid.
  host.on_frame(frame(mac("33:33:ff:00:00:01"), kUnspecified, solicited_node_of(kOurs), 255, ns(kOurs, kClient)), 0,
                out);
  host.on_frame(frame(kGw, kUnspecified, kOurs, 255, ns(kOurs, std::nullopt)), 0, out);
  EXPECT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(of(Ipv6Counter::kNsInvalid), 2u);
}

TEST_F(Ipv6HostTest, InvalidOrForeignSolicitationsAreCountedNotAnswered) {
  const Ipv6Addr group = solicited_node_of(kOurs);
  const Mac gmac = mac("33:33:ff:00:00:01");
  host.on_frame(frame(gmac, kGuest, group, 64, ns(kOurs, std::nullopt)), 0, out);  // hop limit not 255
  Bytes code1 = ns(kOurs, std::nullopt);
  code1[1] = 1;
  host.on_frame(frame(gmac, kGuest, group, 255, code1), 0, out);
  host.on_frame(frame(gmac, kGuest, group, 255, ns(kAllNodes, std::nullopt)), 0, out);  // multicast target
  Bytes zero_len_option = ns(kOurs, kClient);
  zero_len_option[25] = 0;
  host.on_frame(frame(gmac, kGuest, group, 255, zero_len_option), 0, out);
  Bytes short_ns = ns(kOurs, std::nullopt);
  short_ns.resize(20);
  host.on_frame(frame(gmac, kGuest, group, 255, short_ns), 0, out);
  EXPECT_EQ(of(Ipv6Counter::kNsInvalid), 5u);
  host.on_frame(frame(gmac, kGuest, group, 255, ns(kGuest, std::nullopt)), 0, out);
  EXPECT_EQ(of(Ipv6Counter::kNsNotForUs), 1u);
  host.on_frame(frame(gmac, kGuest, group, 255, ns(kOurs, std::nullopt), 58, false), 0, out);
  EXPECT_EQ(of(Ipv6Counter::kBadChecksum), 1u);
  host.on_frame(frame(kGw, kGuest, kOurs, 64, Bytes(8, 0), 17), 0, out);  // UDP
  EXPECT_EQ(of(Ipv6Counter::kNotIcmpv6), 1u);
  Bytes truncated = frame(kGw, kGuest, kOurs, 64, {128, 0, 0, 0, 0, 1, 0, 1});
  truncated.resize(truncated.size() - 4);  // payload length beyond the frame
  host.on_frame(truncated, 0, out);
  EXPECT_EQ(of(Ipv6Counter::kMalformed), 1u);
  EXPECT_TRUE(out.frames.empty());
}

TEST_F(Ipv6HostTest, EchoRequestsToOurAddressesAreAnswered) {
  const Bytes echo{128, 0, 0, 0, 0x12, 0x34, 0, 7, 'p', 'i', 'n', 'g', '!'};
  host.on_frame(frame(kGw, kGuest, kOurs, 64, echo), 3, out);
  ASSERT_EQ(out.frames.size(), 1u);
  const Reply r = decode(out.frames[0]);
  EXPECT_EQ(r.dst_mac, kClient);
  EXPECT_EQ(r.src, kOurs);
  EXPECT_EQ(r.dst, kGuest);
  EXPECT_EQ(r.hop, 64);
  EXPECT_EQ(r.icmp[0], 129);
  EXPECT_EQ(Bytes(r.icmp.begin() + 4, r.icmp.end()), Bytes(echo.begin() + 4, echo.end()));
  host.on_frame(frame(kGw, kGuest, link_local_of(kGw), 64, echo), 0, out);
  EXPECT_EQ(out.frames.size(), 2u);
  host.on_frame(frame(mac("33:33:00:00:00:01"), kGuest, kAllNodes, 64, echo), 0, out);
  host.on_frame(frame(kGw, kGuest, kGuest, 64, echo), 0, out);
  EXPECT_EQ(out.frames.size(), 2u);
  EXPECT_EQ(of(Ipv6Counter::kEchoReplied), 2u);
  EXPECT_EQ(of(Ipv6Counter::kEchoNotForUs), 2u);
  // Other ICMPv6 (a neighbour advertisement) is counted; a router
  // solicitation where no RA goes out too.
  host.on_frame(frame(mac("33:33:00:00:00:01"), kGuest, kAllNodes, 255, ns(kGuest, std::nullopt)), 0, out);
  EXPECT_EQ(of(Ipv6Counter::kNsNotForUs), 1u);
  Bytes na = ns(kGuest, std::nullopt);
  na[0] = 136;
  host.on_frame(frame(mac("33:33:00:00:00:01"), kGuest, kAllNodes, 255, na), 0, out);
  EXPECT_EQ(of(Ipv6Counter::kOtherIcmpv6), 1u);
  host.on_frame(frame(mac("33:33:00:00:00:02"), kGuest, kAllNodes, 255, {133, 0, 0, 0, 0, 0, 0, 0}), 0, out);
  EXPECT_EQ(of(Ipv6Counter::kRsIgnored), 1u);
  EXPECT_EQ(out.frames.size(), 2u);
}

// The RA dnsmasq 2.90 sent for dhcp-range=fd00:80::1,ra-only on an interface
// with MAC 52:54:00:0a:0b:08 and MTU 1500 (captured with tcpdump).
const Bytes kDnsmasqRa{
    0x86, 0x00, 0x00, 0x00, 0x40, 0x00, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0,
    0x03, 0x04, 0x40, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
    0xfd, 0x00, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x05, 0x01, 0, 0, 0x00, 0x00, 0x05, 0xdc,
    0x01, 0x01, 0x52, 0x54, 0x00, 0x0a, 0x0b, 0x08,
    0x19, 0x03, 0, 0, 0xff, 0xff, 0xff, 0xff,
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0x00, 0xff, 0xfe, 0x0a, 0x0b, 0x08};

TEST_F(Ipv6HostTest, RouterAdvertisementsAsDnsmasqSendsThem) {
  const Mac gw = mac("52:54:00:0a:0b:08");
  const Ipv6Addr addr{0xfd, 0x00, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  RaConfig ra;
  ra.prefixes = {{addr, 64}};
  host.configure(gw, {addr}, true, ra);
  Bytes expected = kDnsmasqRa;
  Bytes got = host.router_advertisement();
  EXPECT_EQ(got, expected);
  EXPECT_TRUE(host.accepts_multicast(mac("33:33:00:00:00:02")));
  test::FakeClock clock;
  SeededRng rng(1);
  host.on_tick(clock.now_ns(), rng, out);  // at once
  ASSERT_EQ(out.frames.size(), 1u);
  Reply r = decode(out.frames[0]);
  EXPECT_EQ(r.dst_mac, mac("33:33:00:00:00:01"));
  EXPECT_EQ(r.src_mac, gw);
  EXPECT_EQ(r.src, link_local_of(gw));
  EXPECT_EQ(r.dst, kAllNodes);
  EXPECT_EQ(r.hop, 255);
  EXPECT_EQ(out.frames[0][14], 0x6c);  // traffic class 0xc0
  EXPECT_EQ(out.frames[0][15] & 0xf0, 0x00);
  r.icmp[2] = r.icmp[3] = 0;
  EXPECT_EQ(r.icmp, expected);
  // Two more within 4-16 s of each other, then 200-600 s apart.
  std::vector<int64_t> at;
  for (int64_t ms = 10; ms <= 1'300'000; ms += 10) {
    clock.advance_ns(10'000'000);
    host.on_tick(clock.now_ns(), rng, out);
    if (out.frames.size() > 1 + at.size()) at.push_back(ms);
  }
  ASSERT_GE(at.size(), 4u);
  EXPECT_GE(at[0], 4000);
  EXPECT_LE(at[0], 16000);
  EXPECT_GE(at[1] - at[0], 4000);
  EXPECT_LE(at[1] - at[0], 16000);
  for (size_t i = 2; i < at.size(); ++i) {
    EXPECT_GE(at[i] - at[i - 1], 200'000);
    EXPECT_LE(at[i] - at[i - 1], 600'000);
  }
  // A solicitation from a guest's link-local address: answered to it at once.
  out.frames.clear();
  out.vlans.clear();
  const Ipv6Addr guest_ll = link_local_of(kClient);
  Bytes rs{133, 0, 0, 0, 0, 0, 0, 0, 1, 1};
  rs.insert(rs.end(), kClient.bytes.begin(), kClient.bytes.end());
  host.on_frame(frame(mac("33:33:00:00:00:02"), guest_ll, Ipv6Addr{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
                      255, rs), 4, out);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(out.vlans[0], 4);
  r = decode(out.frames[0]);
  EXPECT_EQ(r.dst_mac, kClient);
  EXPECT_EQ(r.dst, guest_ll);
  // From :: (no link-layer option allowed): to all-nodes.
  host.on_frame(frame(mac("33:33:00:00:00:02"), kUnspecified, Ipv6Addr{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
                      255, {133, 0, 0, 0, 0, 0, 0, 0}), 0, out);
  ASSERT_EQ(out.frames.size(), 2u);
  EXPECT_EQ(decode(out.frames[1]).dst, kAllNodes);
  host.on_frame(frame(mac("33:33:00:00:00:02"), kUnspecified, Ipv6Addr{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
                      255, rs), 0, out);
  host.on_frame(frame(mac("33:33:00:00:00:02"), guest_ll, Ipv6Addr{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
                      64, rs), 0, out);
  EXPECT_EQ(out.frames.size(), 2u);
  EXPECT_EQ(of(Ipv6Counter::kRsAnswered), 2u);
  EXPECT_EQ(of(Ipv6Counter::kRsInvalid), 2u);
  // An isolated network: router lifetime 0; DNS disabled: no RDNSS.
  ra.router_lifetime_s = 0;
  ra.rdnss = false;
  host.configure(gw, {addr}, false, ra);
  got = host.router_advertisement();
  expected.resize(64);
  expected[6] = expected[7] = 0;
  EXPECT_EQ(got, expected);
  // No prefixes (DHCPv6 networks): no RA at all.
  host.configure(gw, {addr}, true, RaConfig{});
  EXPECT_TRUE(host.router_advertisement().empty());
  EXPECT_FALSE(host.accepts_multicast(mac("33:33:00:00:00:02")));
  out.frames.clear();
  host.on_tick(clock.now_ns() + 1'000'000'000'000, rng, out);
  EXPECT_TRUE(out.frames.empty());
}

// UDP to our addresses: checked (length, mandatory checksum), handed over;
// a closed port is answered with ICMPv6 destination unreachable (port).
TEST_F(Ipv6HostTest, UdpIsCheckedAndClosedPortsAreUnreachable) {
  Bytes udp{0x30, 0x39, 0x00, 0x35, 0x00, 0x0d, 0, 0, 'q', 'u', 'e', 'r', 'y'};
  const auto udp_frame = [&](Bytes u, bool fix_checksum) {
    if (fix_checksum) {
      u[6] = u[7] = 0;
      // the UDP checksum over the same pseudo-header layout, proto 17
      Bytes all(kGuest.begin(), kGuest.end());
      all.insert(all.end(), kOurs.begin(), kOurs.end());
      all.insert(all.end(), {0, 0, uint8_t(u.size() >> 8), uint8_t(u.size()), 0, 0, 0, 17});
      all.insert(all.end(), u.begin(), u.end());
      if (all.size() % 2) all.push_back(0);
      uint32_t sum = 0;
      for (size_t i = 0; i < all.size(); i += 2) sum += (all[i] << 8) | all[i + 1];
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      const uint16_t c = static_cast<uint16_t>(~sum);
      u[6] = uint8_t(c >> 8);
      u[7] = uint8_t(c);
    }
    Bytes f(kGw.bytes.begin(), kGw.bytes.end());
    f.insert(f.end(), kClient.bytes.begin(), kClient.bytes.end());
    f.insert(f.end(), {0x86, 0xdd, 0x60, 0, 0, 0, uint8_t(u.size() >> 8), uint8_t(u.size()), 17, 64});
    f.insert(f.end(), kGuest.begin(), kGuest.end());
    f.insert(f.end(), kOurs.begin(), kOurs.end());
    f.insert(f.end(), u.begin(), u.end());
    return f;
  };
  Ipv6Packet p;
  Bytes f = udp_frame(udp, true);
  ASSERT_TRUE(parse_ipv6(std::span<const uint8_t>(f).subspan(14), p));
  const auto u = host.udp_of(p);
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->src_port, 12345);
  EXPECT_EQ(u->dst_port, 53);
  EXPECT_EQ(Bytes(u->payload.begin(), u->payload.end()), Bytes({'q', 'u', 'e', 'r', 'y'}));
  Bytes bad = udp_frame(udp, true);
  bad.back() ^= 1;
  ASSERT_TRUE(parse_ipv6(std::span<const uint8_t>(bad).subspan(14), p));
  EXPECT_FALSE(host.udp_of(p).has_value());
  Bytes zero = udp_frame(udp, false);  // checksum 0: never valid over IPv6
  ASSERT_TRUE(parse_ipv6(std::span<const uint8_t>(zero).subspan(14), p));
  EXPECT_FALSE(host.udp_of(p).has_value());
  EXPECT_EQ(of(Ipv6Counter::kUdpBadChecksum), 2u);
  Bytes long_len = udp;
  long_len[5] = 0x20;  // UDP length beyond the packet
  Bytes lf = udp_frame(long_len, true);
  ASSERT_TRUE(parse_ipv6(std::span<const uint8_t>(lf).subspan(14), p));
  EXPECT_FALSE(host.udp_of(p).has_value());
  EXPECT_EQ(of(Ipv6Counter::kUdpMalformed), 1u);
  // Port unreachable, quoting the datagram.
  ASSERT_TRUE(parse_ipv6(std::span<const uint8_t>(f).subspan(14), p));
  host.send_port_unreachable(f, p, 2, out);
  ASSERT_EQ(out.frames.size(), 1u);
  const Reply r = decode(out.frames[0]);
  EXPECT_EQ(r.dst_mac, kClient);
  EXPECT_EQ(r.src, kOurs);
  EXPECT_EQ(r.dst, kGuest);
  EXPECT_EQ(r.icmp[0], 1);
  EXPECT_EQ(r.icmp[1], 4);
  EXPECT_EQ(Bytes(r.icmp.begin() + 8, r.icmp.end()), Bytes(f.begin() + 14, f.end()));
  EXPECT_EQ(of(Ipv6Counter::kPortUnreachable), 1u);
  // The UDP frames the gateway sends check.
  const Bytes reply = build_udp6_frame(kGw, kClient, kOurs, kGuest, 53, 12345, Bytes{'a', 'n', 's'});
  ASSERT_TRUE(parse_ipv6(std::span<const uint8_t>(reply).subspan(14), p));
  Ipv6Host other;
  other.configure(kClient, {kGuest}, false);
  const auto back = other.udp_of(p);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->src_port, 53);
  EXPECT_EQ(Bytes(back->payload.begin(), back->payload.end()), Bytes({'a', 'n', 's'}));
}

// TCP to our IPv6 addresses: nobody listens, RST as a host's kernel sends.
TEST_F(Ipv6HostTest, TcpToUsIsReset) {
  // A SYN (seq 1000, no ACK) to port 53: RST+ACK, ack 1001, ports swapped.
  Bytes syn{0x9c, 0x40, 0x00, 0x35, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0};
  const auto tcp_frame = [&](Bytes t) {
    Bytes all(kGuest.begin(), kGuest.end());
    all.insert(all.end(), kOurs.begin(), kOurs.end());
    all.insert(all.end(), {0, 0, uint8_t(t.size() >> 8), uint8_t(t.size()), 0, 0, 0, 6});
    t[16] = t[17] = 0;
    all.insert(all.end(), t.begin(), t.end());
    if (all.size() % 2) all.push_back(0);
    uint32_t sum = 0;
    for (size_t i = 0; i < all.size(); i += 2) sum += (all[i] << 8) | all[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    t[16] = uint8_t(~sum >> 8);
    t[17] = uint8_t(~sum);
    Bytes f(kGw.bytes.begin(), kGw.bytes.end());
    f.insert(f.end(), kClient.bytes.begin(), kClient.bytes.end());
    f.insert(f.end(), {0x86, 0xdd, 0x60, 0, 0, 0, uint8_t(t.size() >> 8), uint8_t(t.size()), 6, 64});
    f.insert(f.end(), kGuest.begin(), kGuest.end());
    f.insert(f.end(), kOurs.begin(), kOurs.end());
    f.insert(f.end(), t.begin(), t.end());
    return f;
  };
  host.on_frame(tcp_frame(syn), 0, out);
  ASSERT_EQ(out.frames.size(), 1u);
  const Bytes& r = out.frames[0];
  EXPECT_EQ(r[20], 6);
  const Bytes t(r.begin() + 54, r.begin() + 74);
  EXPECT_EQ(t[0], 0x00);
  EXPECT_EQ(t[1], 0x35);
  EXPECT_EQ(t[2], 0x9c);
  EXPECT_EQ(t[3], 0x40);
  EXPECT_EQ(Bytes(t.begin() + 4, t.begin() + 8), Bytes({0, 0, 0, 0}));
  EXPECT_EQ(Bytes(t.begin() + 8, t.begin() + 12), Bytes({0, 0, 0x03, 0xe9}));
  EXPECT_EQ(t[13], 0x14);  // RST + ACK
  Ipv6Packet p;
  ASSERT_TRUE(parse_ipv6(std::span<const uint8_t>(r).subspan(14), p));
  EXPECT_EQ(ref_checksum(p.src, p.dst, Bytes(p.payload.begin(), p.payload.end()), 6), 0) << "TCP checksum";
  // With ACK: RST with seq = the segment's ack. A RST gets nothing.
  Bytes ackseg = syn;
  ackseg[8] = 0x12, ackseg[9] = 0x34, ackseg[10] = 0x56, ackseg[11] = 0x78, ackseg[13] = 0x10;
  host.on_frame(tcp_frame(ackseg), 0, out);
  ASSERT_EQ(out.frames.size(), 2u);
  EXPECT_EQ(Bytes(out.frames[1].begin() + 58, out.frames[1].begin() + 62), Bytes({0x12, 0x34, 0x56, 0x78}));
  EXPECT_EQ(out.frames[1][67], 0x04);
  Bytes rst = syn;
  rst[13] = 0x04;
  host.on_frame(tcp_frame(rst), 0, out);
  EXPECT_EQ(out.frames.size(), 2u);
  EXPECT_EQ(of(Ipv6Counter::kTcpReset), 2u);
  EXPECT_EQ(of(Ipv6Counter::kTcpIgnored), 1u);
}

}  // namespace
}  // namespace vnet::dhcp
