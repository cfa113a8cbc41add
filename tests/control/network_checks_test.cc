#include "control/network_checks.h"

#include <gtest/gtest.h>

namespace vnet::ctl {
namespace {

xml::IpDef ip(const char* addr, unsigned prefix) {
  xml::IpDef d;
  d.address = *xml::parse_ip(addr);
  d.prefix = prefix;
  if (d.address.is_v6()) d.family = "ipv6";
  return d;
}

xml::NetworkDef net(const char* name, const char* bridge, std::vector<xml::IpDef> ips) {
  xml::NetworkDef d;
  d.name = name;
  d.bridge.name = bridge;
  d.ips = std::move(ips);
  return d;
}

TEST(NetworkChecks, SubnetsOf) {
  auto d = net("a", "virbr0", {ip("192.168.122.1", 24), ip("2001:db8:ca2:2::1", 64)});
  auto s = subnets_of(d);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].format(), "192.168.122.0/24");
  EXPECT_EQ(s[1].format(), "2001:db8:ca2:2::/64");
}

TEST(NetworkChecks, NetmaskAndClassfulPrefixes) {
  xml::IpDef with_mask;
  with_mask.address = *xml::parse_ip("10.1.2.3");
  with_mask.netmask = *xml::parse_ip("255.255.0.0");
  xml::IpDef classful;
  classful.address = *xml::parse_ip("192.168.7.1");
  auto s = subnets_of(net("a", "", {with_mask, classful}));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].format(), "10.1.0.0/16");
  EXPECT_EQ(s[1].format(), "192.168.7.0/24");
}

TEST(NetworkChecks, Overlap) {
  auto s = [](const char* a, unsigned p) { return subnets_of(net("x", "", {ip(a, p)}))[0]; };
  EXPECT_TRUE(subnets_overlap(s("192.168.122.1", 24), s("192.168.122.200", 24)));
  EXPECT_TRUE(subnets_overlap(s("192.168.0.1", 16), s("192.168.122.1", 24)));
  EXPECT_TRUE(subnets_overlap(s("192.168.122.1", 24), s("192.168.0.1", 16)));
  EXPECT_FALSE(subnets_overlap(s("192.168.122.1", 24), s("192.168.123.1", 24)));
  EXPECT_FALSE(subnets_overlap(s("192.168.122.1", 25), s("192.168.122.129", 25)));
  EXPECT_TRUE(subnets_overlap(s("2001:db8::1", 48), s("2001:db8:0:5::1", 64)));
  EXPECT_FALSE(subnets_overlap(s("2001:db8:1::1", 64), s("2001:db8:2::1", 64)));
  EXPECT_FALSE(subnets_overlap(s("10.0.0.1", 8), s("2001:db8::1", 8)));
}

TEST(NetworkChecks, ConflictMessages) {
  auto def = net("default", "virbr0", {ip("192.168.122.1", 24)});
  auto other_bridge = net("other", "virbr0", {ip("10.0.0.1", 24)});
  auto other_subnet = net("lab", "virbr9", {ip("192.168.0.1", 16)});
  auto fine = net("fine", "virbr5", {ip("192.168.200.1", 24)});

  EXPECT_TRUE(check_active_conflicts(def, {}).ok());
  EXPECT_TRUE(check_active_conflicts(def, {&fine}).ok());
  auto st = check_active_conflicts(def, {&fine, &other_bridge});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "bridge name 'virbr0' is already in use by active network 'other'");
  st = check_active_conflicts(def, {&other_subnet});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(),
            "IP subnet 192.168.122.0/24 of network 'default' overlaps with 192.168.0.0/16 of active network 'lab'");
}

TEST(NetworkChecks, NetworksWithoutBridgeNameDoNotConflict) {
  auto a = net("a", "", {});
  auto b = net("b", "", {});
  EXPECT_TRUE(check_active_conflicts(a, {&b}).ok());
}

}  // namespace
}  // namespace vnet::ctl
