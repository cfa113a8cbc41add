// Unit tests for xml/addr.h and the UUID helpers of xml/network_model.h.
#include <gtest/gtest.h>

#include "xml/addr.h"
#include "xml/network_model.h"

namespace vnet::xml {
namespace {

TEST(IpAddrTest, ParsesAndFormatsIpv4) {
  auto a = parse_ip("192.168.122.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4_host_order(), 0xc0a87a01u);
  EXPECT_EQ(a->format(), "192.168.122.1");
  EXPECT_EQ(IpAddr::v4(0x0a000001u).format(), "10.0.0.1");
  EXPECT_EQ(*a, IpAddr::v4(0xc0a87a01u));
}

TEST(IpAddrTest, FormatsIpv6Canonically) {
  auto a = parse_ip("2001:0db8:ac10:fe01:0000:0000:0000:0001");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v6());
  EXPECT_EQ(a->format(), "2001:db8:ac10:fe01::1");
  EXPECT_EQ(parse_ip("f0:0d::f0:0d")->format(), "f0:d::f0:d");
  EXPECT_EQ(parse_ip("FD8F:1391:3A82:150::C0A8:9603")->format(), "fd8f:1391:3a82:150::c0a8:9603");
}

TEST(IpAddrTest, RejectsMalformed) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "192.168.122.333", "1.2.3.4 ",
                          "::g", "12345::", "fe80::1%eth0", "abc"}) {
    EXPECT_FALSE(parse_ip(bad)) << bad;
  }
  EXPECT_FALSE(parse_ipv4("::1"));
  EXPECT_TRUE(parse_ipv4("8.8.8.8"));
}

TEST(IpAddrTest, Ordering) {
  EXPECT_LT(*parse_ip("10.0.0.1"), *parse_ip("10.0.0.2"));
  EXPECT_NE(*parse_ip("10.0.0.1"), *parse_ip("::ffff:10.0.0.1"));
}

TEST(PrefixTest, NetmaskToPrefix) {
  EXPECT_EQ(netmask_to_prefix(*parse_ip("255.255.255.0")), 24u);
  EXPECT_EQ(netmask_to_prefix(*parse_ip("255.255.255.255")), 32u);
  EXPECT_EQ(netmask_to_prefix(*parse_ip("0.0.0.0")), 0u);
  EXPECT_EQ(netmask_to_prefix(*parse_ip("255.255.128.0")), 17u);
  EXPECT_FALSE(netmask_to_prefix(*parse_ip("255.0.255.0")));
  EXPECT_FALSE(netmask_to_prefix(*parse_ip("255.255.255.1")));
}

TEST(PrefixTest, PrefixToNetmask) {
  EXPECT_EQ(prefix_to_netmask_v4(24).format(), "255.255.255.0");
  EXPECT_EQ(prefix_to_netmask_v4(0).format(), "0.0.0.0");
  EXPECT_EQ(prefix_to_netmask_v4(32).format(), "255.255.255.255");
  EXPECT_EQ(prefix_to_netmask_v4(1).format(), "128.0.0.0");
}

TEST(PrefixTest, Classful) {
  EXPECT_EQ(classful_prefix(*parse_ip("10.24.10.1")), 8u);
  EXPECT_EQ(classful_prefix(*parse_ip("172.16.0.1")), 16u);
  EXPECT_EQ(classful_prefix(*parse_ip("192.168.1.1")), 24u);
  EXPECT_FALSE(classful_prefix(*parse_ip("224.0.0.1")));
  EXPECT_FALSE(classful_prefix(*parse_ip("::1")));
}

TEST(PrefixTest, NetworkAndBroadcast) {
  const IpAddr a = *parse_ip("192.168.122.77");
  EXPECT_EQ(network_address(a, 24).format(), "192.168.122.0");
  EXPECT_EQ(broadcast_address(a, 24).format(), "192.168.122.255");
  EXPECT_EQ(network_address(a, 26).format(), "192.168.122.64");
  EXPECT_EQ(broadcast_address(a, 26).format(), "192.168.122.127");
  EXPECT_EQ(network_address(*parse_ip("2001:db8:ac10:fd01::1:24"), 64).format(), "2001:db8:ac10:fd01::");
  EXPECT_TRUE(same_subnet(a, *parse_ip("192.168.122.1"), 24));
  EXPECT_FALSE(same_subnet(a, *parse_ip("192.168.123.1"), 24));
  EXPECT_FALSE(same_subnet(a, *parse_ip("::1"), 0));
}

TEST(RangeTest, Size) {
  EXPECT_EQ(range_size(*parse_ip("192.168.122.2"), *parse_ip("192.168.122.254")), 253u);
  EXPECT_EQ(range_size(*parse_ip("10.0.0.1"), *parse_ip("10.0.0.1")), 1u);
  EXPECT_EQ(range_size(*parse_ip("2001:db8::10"), *parse_ip("2001:db8::ff")), 240u);
  EXPECT_FALSE(range_size(*parse_ip("10.0.0.2"), *parse_ip("10.0.0.1")));
  EXPECT_FALSE(range_size(*parse_ip("10.0.0.2"), *parse_ip("::1")));
  EXPECT_FALSE(range_size(*parse_ip("2001:db8::1"), *parse_ip("2001:db9::1")));
}

TEST(MacTest, ParseAndFormat) {
  auto m = parse_mac("52:54:00:E6:A2:C9");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->format(), "52:54:00:e6:a2:c9");
  EXPECT_EQ(parse_mac("0:1:2:a:b:c")->format(), "00:01:02:0a:0b:0c");
  EXPECT_FALSE(m->is_multicast());
  EXPECT_TRUE(parse_mac("01:00:5e:00:00:01")->is_multicast());
  for (const char* bad : {"", "52:54:00:e6:a2", "52:54:00:e6:a2:c9:00", "525:54:00:e6:a2:c9",
                          "52-54-00-e6-a2-c9", "52:54:00:e6:a2:cg", " 52:54:00:e6:a2:c9",
                          "52:54:00:e6:a2:c9x", "52::00:e6:a2:c9"}) {
    EXPECT_FALSE(parse_mac(bad)) << bad;
  }
}

TEST(UuidTest, ParseAndFormat) {
  auto u = parse_uuid("81ff0d90-c91e-6742-64da-4a736edb9a9b");
  ASSERT_TRUE(u);
  EXPECT_EQ(format_uuid(*u), "81ff0d90-c91e-6742-64da-4a736edb9a9b");
  auto v = parse_uuid("004b96e12d78c30f5aa5f03c87d21e69");
  ASSERT_TRUE(v);
  EXPECT_EQ(format_uuid(*v), "004b96e1-2d78-c30f-5aa5-f03c87d21e69");
  EXPECT_EQ(format_uuid(*parse_uuid("  81FF0D90C91E674264DA4A736EDB9A9B \n")),
            "81ff0d90-c91e-6742-64da-4a736edb9a9b");
  for (const char* bad : {"", "81ff0d90-c91e-6742-64da-4a736edb9a9", "81ff0d90-c91e-6742-64da-4a736edb9a9b0",
                          "8-1ff0d90c91e674264da4a736edb9a9b", "zzff0d90-c91e-6742-64da-4a736edb9a9b"}) {
    EXPECT_FALSE(parse_uuid(bad)) << bad;
  }
}

TEST(ModelTest, ForwardModes) {
  EXPECT_STREQ(forward_mode_name(ForwardMode::kNone), "none");
  EXPECT_STREQ(forward_mode_name(ForwardMode::kHostdev), "hostdev");
  EXPECT_EQ(parse_forward_mode("passthrough"), ForwardMode::kPassthrough);
  EXPECT_FALSE(parse_forward_mode("NAT"));
  EXPECT_TRUE(is_l3_mode(ForwardMode::kOpen));
  EXPECT_TRUE(is_l3_mode(ForwardMode::kNone));
  EXPECT_FALSE(is_l3_mode(ForwardMode::kBridge));
}

TEST(ModelTest, EffectivePrefixAndLease) {
  IpDef ip;
  ip.address = *parse_ip("10.24.10.1");
  EXPECT_EQ(effective_prefix(ip), 8u);
  ip.netmask = parse_ip("255.255.255.0");
  EXPECT_EQ(effective_prefix(ip), 24u);
  ip.netmask.reset();
  ip.prefix = 20;
  EXPECT_EQ(effective_prefix(ip), 20u);
  IpDef v6;
  v6.address = *parse_ip("2001:db8::1");
  EXPECT_EQ(effective_prefix(v6), 64u);
  Lease lease{10, Lease::Unit::kMinutes};
  EXPECT_EQ(lease.seconds(), 600u);
  EXPECT_EQ((Lease{2, Lease::Unit::kHours}.seconds()), 7200u);
  EXPECT_EQ((Lease{0, Lease::Unit::kHours}.seconds()), 0u);
}

}  // namespace
}  // namespace vnet::xml
