// Port/address allocation plan: slices, owners, address choice, validation.
#include "nat/port_plan.h"

#include <gtest/gtest.h>

#include <set>

#include "nat/bytes.h"
#include "tests/unit/nat/packet.h"

namespace vnet::nat {
namespace {

using test::ip;

NatConfig config(uint16_t first, uint16_t last, uint16_t workers, uint32_t a0 = ip(198, 51, 100, 2),
                 uint32_t a1 = ip(198, 51, 100, 2)) {
  NatConfig c;
  c.inside.add(ip(192, 168, 122, 1), 24);
  c.addr_first = a0;
  c.addr_last = a1;
  c.port_first = first;
  c.port_last = last;
  c.workers = workers;
  return c;
}

TEST(PortPlan, DefaultsAreLibvirts) {
  NatConfig c;
  EXPECT_EQ(c.port_first, 1024);
  EXPECT_EQ(c.port_last, 65535);
}

TEST(PortPlan, SlicesPartitionTheRangeAndOwnersAgree) {
  for (uint16_t workers = 1; workers <= 9; ++workers) {
    for (uint16_t last : {uint16_t{509}, uint16_t{510}, uint16_t{1000}, uint16_t{65535}}) {
      const NatConfig c = config(500, last, workers);
      ASSERT_EQ(validate(c), "");
      const PortPlan plan(c);
      uint32_t next = 500;
      for (unsigned w = 0; w < workers; ++w) {
        const PortSlice s = plan.slice(w, kProtoUdp);
        ASSERT_EQ(s.first, next) << workers << " " << w;
        ASSERT_GE(s.last, s.first);
        next = uint32_t{s.last} + 1;
        for (uint32_t p = s.first; p <= s.last; ++p)
          ASSERT_EQ(plan.owner(kProtoUdp, ip(198, 51, 100, 2), static_cast<uint16_t>(p)),
                    static_cast<int>(w));
      }
      EXPECT_EQ(next, uint32_t{last} + 1);
      EXPECT_EQ(plan.owner(kProtoTcp, ip(198, 51, 100, 2), 499), kNoWorker);
      if (last < 65535) {
        EXPECT_EQ(plan.owner(kProtoTcp, ip(198, 51, 100, 2), static_cast<uint16_t>(last + 1)),
                  kNoWorker);
      }
    }
  }
}

TEST(PortPlan, IcmpIdentifiersUseTheWholeSpace) {
  const PortPlan plan(config(500, 1000, 4));
  EXPECT_EQ(plan.slice(0, kProtoIcmp).first, 0);
  EXPECT_EQ(plan.slice(3, kProtoIcmp).last, 65535);
  EXPECT_EQ(plan.owner(kProtoIcmp, ip(198, 51, 100, 2), 0), 0);
  EXPECT_EQ(plan.owner(kProtoIcmp, ip(198, 51, 100, 2), 65535), 3);
  EXPECT_EQ(plan.owner(kProtoIcmp, ip(198, 51, 100, 2), 16384), 1);
}

TEST(PortPlan, NotOurAddressHasNoOwner) {
  const PortPlan plan(config(1024, 65535, 2));
  EXPECT_EQ(plan.owner(kProtoTcp, ip(198, 51, 100, 3), 5000), kNoWorker);
  EXPECT_EQ(plan.owner(47, ip(198, 51, 100, 2), 0), 0);  // portless: worker 0
  EXPECT_EQ(plan.in2out_worker(47), 0);
  EXPECT_EQ(plan.in2out_worker(kProtoTcp), kAnyWorker);
}

TEST(PortPlan, AddressRangeChoiceIsStableAndInRange) {
  const PortPlan plan(config(1024, 65535, 1, ip(203, 0, 113, 10), ip(203, 0, 113, 13)));
  std::set<uint32_t> used;
  for (uint32_t h = 2; h < 250; ++h) {
    const uint32_t a = plan.address_for(ip(192, 168, 122, static_cast<uint8_t>(h)));
    EXPECT_GE(a, ip(203, 0, 113, 10));
    EXPECT_LE(a, ip(203, 0, 113, 13));
    EXPECT_EQ(a, plan.address_for(ip(192, 168, 122, static_cast<uint8_t>(h))));
    used.insert(a);
  }
  EXPECT_EQ(used.size(), 4u);
  EXPECT_TRUE(plan.is_nat_address(ip(203, 0, 113, 13)));
  EXPECT_FALSE(plan.is_nat_address(ip(203, 0, 113, 14)));
}

TEST(PortPlan, ValidateRejectsLikeLibvirt) {
  EXPECT_EQ(validate(config(500, 1000, 1)), "");
  EXPECT_EQ(validate(config(1000, 1000, 1)), "Invalid port range '1000-1000'");
  EXPECT_EQ(validate(config(1001, 1000, 1)), "Invalid port range '1001-1000'");
  EXPECT_NE(validate(config(500, 502, 4)), "");  // fewer ports than workers
  EXPECT_NE(validate(config(500, 1000, 0)), "");
  EXPECT_NE(validate(config(500, 1000, 1, ip(1, 0, 0, 2), ip(1, 0, 0, 1))), "");
  EXPECT_NE(validate(config(500, 1000, 1, ip(1, 0, 0, 0), ip(1, 1, 0, 0))), "");  // > 65536
  NatConfig no_subnet = config(500, 1000, 1);
  no_subnet.inside.count = 0;
  EXPECT_NE(validate(no_subnet), "");
}

TEST(PortPlan, Out2InWorkerFollowsPortsIdsAndQuotes) {
  const PortPlan plan(config(1024, 65535, 4));
  const uint32_t ext = ip(198, 51, 100, 2), peer = ip(203, 0, 113, 5);
  for (uint16_t port : {uint16_t{1024}, uint16_t{20000}, uint16_t{40000}, uint16_t{65535}}) {
    const int w = plan.owner(kProtoUdp, ext, port);
    auto u = test::udp(peer, 53, ext, port);
    EXPECT_EQ(plan.out2in_worker(u), w);
    auto t = test::tcp(peer, 80, ext, port, 0x12);
    EXPECT_EQ(plan.out2in_worker(t), w);
    // An ICMP error quoting our outbound packet: owner of its source port.
    auto sent = test::udp(ext, port, peer, 53);
    auto err = test::icmp_error(ip(192, 0, 2, 1), ext, 3, 3, sent, 28);
    EXPECT_EQ(plan.out2in_worker(err), w);
  }
  auto echo = test::icmp_echo(peer, ext, 0, 65535);
  EXPECT_EQ(plan.out2in_worker(echo), 3);
  auto bad = test::udp(peer, 53, ext, 80);  // below the range
  EXPECT_EQ(plan.out2in_worker(bad), kAnyWorker);
  test::Bytes runt(10);
  EXPECT_EQ(plan.out2in_worker(runt), kAnyWorker);
}

TEST(NatConfig, FormatAndParseIpv4) {
  EXPECT_EQ(format_ipv4(ip(192, 168, 122, 1)), "192.168.122.1");
  uint32_t a = 0;
  EXPECT_TRUE(parse_ipv4("10.0.255.7", &a));
  EXPECT_EQ(a, ip(10, 0, 255, 7));
  EXPECT_FALSE(parse_ipv4("10.0.256.7", &a));
  EXPECT_FALSE(parse_ipv4("10.0.1", &a));
  EXPECT_FALSE(parse_ipv4("10.0.1.1.", &a));
  EXPECT_FALSE(parse_ipv4("", &a));
}

TEST(NatConfig, SubnetSetMasksHostBits) {
  SubnetSet s;
  EXPECT_TRUE(s.add(ip(192, 168, 122, 1), 24));
  EXPECT_TRUE(s.add(ip(10, 1, 2, 3), 8));
  EXPECT_TRUE(s.contains(ip(192, 168, 122, 254)));
  EXPECT_TRUE(s.contains(ip(10, 200, 0, 1)));
  EXPECT_FALSE(s.contains(ip(192, 168, 123, 1)));
  EXPECT_FALSE(s.add(ip(1, 1, 1, 1), 33));
}

}  // namespace
}  // namespace vnet::nat
