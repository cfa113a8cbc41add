// discover_kernel_ipv4() and effective_uplink() against a real kernel: the test
// moves itself into a new, private network namespace (unshare(CLONE_NEWNET)), so
// the veth pairs, addresses and routes it makes with `ip` exist only there and
// vanish with the process, even if it crashes. Without the permission to create a
// namespace (or without `ip`) it exits 77, which meson reports as skipped.
#include <gtest/gtest.h>
#include <sched.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "control/uplink/kernel_addr.h"
#include "control/uplink/uplink_address.h"

namespace vnet::uplink {
namespace {

int sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

xml::IpAddr v4(const char* s) { return *xml::parse_ipv4(s); }

// up0 (198.51.100.2/24, default route via .1) <-> up1 (no address), both up.
class KernelAddrTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sh("ip link add up0 type veth peer name up1"), 0);
    ASSERT_EQ(sh("ip link set up0 up && ip link set up1 up"), 0);
    ASSERT_EQ(sh("ip addr add 198.51.100.2/24 dev up0"), 0);
    ASSERT_EQ(sh("ip route add default via 198.51.100.1 dev up0"), 0);
  }
  void TearDown() override { sh("ip link del up0"); }
};

TEST_F(KernelAddrTest, AddressPrefixAndDefaultGateway) {
  auto k = discover_kernel_ipv4("up0");
  ASSERT_TRUE(k.ok()) << k.error();
  EXPECT_EQ(k->ifname, "up0");
  EXPECT_GT(k->ifindex, 0u);
  ASSERT_TRUE(k->address);
  EXPECT_EQ(*k->address, v4("198.51.100.2"));
  EXPECT_EQ(k->prefix, 24u);
  ASSERT_TRUE(k->gateway);
  EXPECT_EQ(*k->gateway, v4("198.51.100.1"));
}

TEST_F(KernelAddrTest, InterfaceWithoutAddressOrRoute) {
  auto k = discover_kernel_ipv4("up1");
  ASSERT_TRUE(k.ok()) << k.error();
  EXPECT_FALSE(k->address);
  EXPECT_FALSE(k->gateway);
}

TEST_F(KernelAddrTest, FirstAddressWinsOverLaterOnesAndOtherInterfaces) {
  ASSERT_EQ(sh("ip addr add 198.51.100.3/24 dev up0"), 0);  // a secondary
  ASSERT_EQ(sh("ip addr add 10.9.8.7/16 dev up0"), 0);      // a second primary
  ASSERT_EQ(sh("ip addr add 203.0.113.5/24 dev up1"), 0);
  auto k = discover_kernel_ipv4("up0");
  ASSERT_TRUE(k.ok()) << k.error();
  EXPECT_EQ(*k->address, v4("198.51.100.2"));
  EXPECT_EQ(k->prefix, 24u);
  auto k1 = discover_kernel_ipv4("up1");
  ASSERT_TRUE(k1.ok()) << k1.error();
  EXPECT_EQ(*k1->address, v4("203.0.113.5"));
  EXPECT_FALSE(k1->gateway);  // the default route goes through up0
}

TEST_F(KernelAddrTest, LowestMetricDefaultRouteOfTheMainTable) {
  ASSERT_EQ(sh("ip route del default"), 0);
  ASSERT_EQ(sh("ip route add default via 198.51.100.1 dev up0 metric 100"), 0);
  ASSERT_EQ(sh("ip route add default via 198.51.100.254 dev up0 metric 50"), 0);
  ASSERT_EQ(sh("ip route add default via 198.51.100.253 dev up0 metric 70"), 0);
  ASSERT_EQ(sh("ip route add default via 198.51.100.100 dev up0 table 100"), 0);
  ASSERT_EQ(sh("ip route add 192.0.2.0/24 via 198.51.100.99 dev up0"), 0);
  auto k = discover_kernel_ipv4("up0");
  ASSERT_TRUE(k.ok()) << k.error();
  ASSERT_TRUE(k->gateway);
  EXPECT_EQ(*k->gateway, v4("198.51.100.254"));
}

TEST_F(KernelAddrTest, MultipathDefaultRoute) {
  ASSERT_EQ(sh("ip addr add 203.0.113.5/24 dev up1"), 0);
  ASSERT_EQ(sh("ip route del default"), 0);
  ASSERT_EQ(sh("ip route add default nexthop via 198.51.100.1 dev up0 nexthop via 203.0.113.254 dev up1"), 0);
  auto k0 = discover_kernel_ipv4("up0");
  ASSERT_TRUE(k0.ok()) << k0.error();
  ASSERT_TRUE(k0->gateway);
  EXPECT_EQ(*k0->gateway, v4("198.51.100.1"));
  auto k1 = discover_kernel_ipv4("up1");
  ASSERT_TRUE(k1.ok()) << k1.error();
  ASSERT_TRUE(k1->gateway);
  EXPECT_EQ(*k1->gateway, v4("203.0.113.254"));
}

TEST_F(KernelAddrTest, UnknownInterface) {
  auto k = discover_kernel_ipv4("nope0");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error(), "no kernel interface 'nope0'");
  EXPECT_FALSE(discover_kernel_ipv4("a-name-longer-than-ifnamsiz").ok());
}

TEST_F(KernelAddrTest, EffectiveUplinkTakenFromTheKernel) {
  auto def = xml::parse_network_xml(
      "<network><name>n</name><forward mode='nat' dev='up0'/>"
      "<ip address='192.168.122.1' prefix='24'/></network>");
  ASSERT_TRUE(def.ok()) << def.error();
  std::vector<std::string> log;
  auto up = effective_uplink(*def, "", discover_kernel_ipv4,
                             [&](const std::string& l) { log.push_back(l); });
  ASSERT_TRUE(up.ok()) << up.error();
  EXPECT_EQ(up->source, EffectiveUplink::Source::kKernel);
  EXPECT_EQ(up->dev, "up0");
  EXPECT_EQ(up->address, v4("198.51.100.2"));
  EXPECT_EQ(up->prefix, 24u);
  EXPECT_EQ(up->gateway, v4("198.51.100.1"));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], "network 'n': uplink address 198.51.100.2/24 and gateway 198.51.100.1 taken "
                    "from the kernel (interface up0)");

  // Through vnetd's default uplink, and an interface without an address.
  def->forward.dev.clear();
  def->forward.interfaces.clear();
  auto none = effective_uplink(*def, "up1", discover_kernel_ipv4, {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().rfind("network 'n' has no <vnet:uplink> and its uplink 'up1' has no IPv4 "
                               "address in the kernel; ",
                               0),
            0u)
      << none.error();
}

}  // namespace
}  // namespace vnet::uplink

int main(int argc, char** argv) {
  if (::unshare(CLONE_NEWNET) != 0) {
    std::printf("SKIP: cannot create a network namespace (unshare(CLONE_NEWNET): %s)\n",
                std::strerror(errno));
    return 77;
  }
  if (std::system("ip link set lo up >/dev/null 2>&1") != 0) {
    std::printf("SKIP: the 'ip' command (iproute2) does not work here\n");
    return 77;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
