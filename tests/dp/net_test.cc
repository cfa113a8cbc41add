// T0 tests of dataplane/net: byte order types, bounds-checked views, wire
// structs, checksums, drop reason table. No EAL.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

#include "dataplane/drop_reasons.h"
#include "dataplane/net/arp.h"
#include "dataplane/net/checksum.h"
#include "dataplane/net/ether.h"
#include "dataplane/net/ipv4.h"
#include "dataplane/net/packet_view.h"
#include "dataplane/net/udp.h"

namespace vnet::dp::net {
namespace {

std::vector<std::byte> bytes_of(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int x : v) out.push_back(static_cast<std::byte>(x));
  return out;
}

TEST(BeTypes, RoundTripAndWireOrder) {
  constexpr Be16 a{0x1234};
  static_assert(a.to_host() == 0x1234);
  EXPECT_EQ(a.raw_bytes()[0], 0x12);
  EXPECT_EQ(a.raw_bytes()[1], 0x34);
  constexpr Be32 b{0xc0a80101};
  static_assert(b.to_host() == 0xc0a80101);
  EXPECT_EQ(b.raw_bytes()[0], 0xc0);
  EXPECT_EQ(b.raw_bytes()[3], 0x01);
  EXPECT_EQ(Be16{7}, Be16{7});
  EXPECT_NE(Be16{7}, Be16{8});
  static_assert(!std::is_convertible_v<uint16_t, Be16>, "no implicit conversion from host");
  static_assert(!std::is_convertible_v<Be16, uint16_t>, "no implicit conversion to host");
}

TEST(PacketView, HeaderIsBoundsChecked) {
  std::vector<std::byte> buf(20);
  PacketView v{buf.data(), buf.size()};
  EXPECT_NE(v.header<EtherHdr>(0), nullptr);
  EXPECT_NE(v.header<EtherHdr>(6), nullptr);    // 6 + 14 == 20
  EXPECT_EQ(v.header<EtherHdr>(7), nullptr);    // one byte short
  EXPECT_EQ(v.header<Ipv4Hdr>(1), nullptr);
  EXPECT_EQ(v.header<Be16>(19), nullptr);
  EXPECT_NE(v.header<Be16>(18), nullptr);
  EXPECT_EQ(v.header<Be16>(SIZE_MAX), nullptr);  // no overflow
  EXPECT_EQ(v.tail(21).size(), 0u);
  EXPECT_EQ(v.tail(4).size(), 16u);
  PacketView empty;
  EXPECT_EQ(empty.header<uint8_t>(0), nullptr);
}

TEST(Ether, ParseTaggedFrame) {
  auto f = bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 1, 2, 3,  // macs
                     0x81, 0x00, 0xa0, 0x2a,                                      // pcp 5 vid 42
                     0x08, 0x06});
  PacketView v{f.data(), f.size()};
  const auto* eth = v.header<EtherHdr>(0);
  ASSERT_NE(eth, nullptr);
  EXPECT_TRUE(eth->dst.is_broadcast());
  EXPECT_TRUE(eth->dst.is_multicast());
  EXPECT_FALSE(eth->src.is_multicast());
  EXPECT_EQ(eth->ether_type.to_host(), kEtherTypeVlan);
  const auto* tag = v.header<VlanTag>(kEtherHdrSize);
  ASSERT_NE(tag, nullptr);
  EXPECT_EQ(tag->vid(), 42);
  EXPECT_EQ(tag->pcp(), 5);
  EXPECT_EQ(tag->ether_type.to_host(), kEtherTypeArp);
  EXPECT_EQ(eth->src.to_string(), "52:54:00:01:02:03");
}

TEST(Ether, MacParse) {
  auto m = MacAddr::parse("52:54:00:AB:cd:0f");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->to_string(), "52:54:00:ab:cd:0f");
  EXPECT_FALSE(MacAddr::parse("52:54:00:ab:cd").has_value());
  EXPECT_FALSE(MacAddr::parse("52-54-00-ab-cd-0f").has_value());
  EXPECT_FALSE(MacAddr::parse("52:54:00:ab:cd:0g").has_value());
  EXPECT_TRUE(MacAddr{}.is_zero());
}

// A real IPv4 header (from RFC 1071 examples / common captures).
TEST(Checksum, Ipv4Header) {
  auto h = bytes_of({0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
                     0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7});
  const Be16 c = ipv4_header_checksum(h);
  EXPECT_EQ(c.to_host(), 0xb861);
  PacketView v{h.data(), h.size()};
  auto* ip = v.header<Ipv4Hdr>(0);
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->version(), 4);
  EXPECT_EQ(ip->header_size(), 20u);
  EXPECT_EQ(ip->protocol, kIpProtoUdp);
  EXPECT_FALSE(ipv4_header_checksum_ok(h));
  ip->checksum = c;
  EXPECT_TRUE(ipv4_header_checksum_ok(h));
}

TEST(Checksum, OddLengthAndFold) {
  EXPECT_EQ(csum_fold(csum_add(bytes_of({0x01}))), static_cast<uint16_t>(~0x0100));
  EXPECT_EQ(csum_fold(0x1ffff), static_cast<uint16_t>(~0x0001 & 0xffff));
  EXPECT_EQ(csum_fold(0), 0xffff);
}

TEST(Checksum, IncrementalMatchesFull) {
  auto h = bytes_of({0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00,
                     0x0a, 0x00, 0x00, 0x02, 0x08, 0x08, 0x08, 0x08});
  PacketView v{h.data(), h.size()};
  auto* ip = v.header<Ipv4Hdr>(0);
  ip->checksum = ipv4_header_checksum(h);
  // TTL decrement: the 16-bit word ttl|protocol changes.
  const Be16 old_word{static_cast<uint16_t>((ip->ttl << 8) | ip->protocol)};
  ip->ttl = static_cast<uint8_t>(ip->ttl - 1);
  const Be16 new_word{static_cast<uint16_t>((ip->ttl << 8) | ip->protocol)};
  ip->checksum = csum_update16(ip->checksum, old_word, new_word);
  EXPECT_TRUE(ipv4_header_checksum_ok(h));
  EXPECT_EQ(ip->checksum, ipv4_header_checksum(h));
  // Source address rewrite (NAT-like).
  const Be32 old_src = ip->src;
  ip->src = Be32{0xc0a87a01};
  ip->checksum = csum_update32(ip->checksum, old_src, ip->src);
  EXPECT_TRUE(ipv4_header_checksum_ok(h));
}

TEST(Checksum, Udp4) {
  // UDP 10.0.0.1:1234 -> 10.0.0.2:53, payload "abc".
  auto d = bytes_of({0x04, 0xd2, 0x00, 0x35, 0x00, 0x0b, 0x00, 0x00, 'a', 'b', 'c'});
  const Be32 src{0x0a000001};
  const Be32 dst{0x0a000002};
  const Be16 c = udp4_checksum(src, dst, d);
  // Verify: with the checksum filled in, the sum over pseudo header + datagram is 0xffff.
  PacketView v{d.data(), d.size()};
  v.header<UdpHdr>(0)->checksum = c;
  uint32_t sum = (0x0a00) + 0x0001 + 0x0a00 + 0x0002 + kIpProtoUdp + 11;
  sum = csum_add(d, sum);
  EXPECT_EQ(csum_fold(sum), 0);
  EXPECT_NE(c.to_host(), 0);
}

TEST(DropReasons, TableIsConsistent) {
  EXPECT_EQ(kDropReasonNames.size(), kDropReasonCount);
  EXPECT_EQ(reason_name(DropReason::kRunt), "runt");
  EXPECT_EQ(reason_name(DropReason::kFdbFull), "fdb_full");
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    EXPECT_FALSE(kDropReasonNames[i].empty());
    EXPECT_FALSE(kDropReasonMeanings[i].empty());
    for (size_t j = i + 1; j < kDropReasonCount; ++j) EXPECT_NE(kDropReasonNames[i], kDropReasonNames[j]);
  }
  DropCounters c;
  c.add(DropReason::kLoop, 3);
  c.add(DropReason::kLoop);
  EXPECT_EQ(c.read(DropReason::kLoop), 4u);
  EXPECT_EQ(c.read(DropReason::kRunt), 0u);
}

}  // namespace
}  // namespace vnet::dp::net
