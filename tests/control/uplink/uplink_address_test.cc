// Unit tests of effective_uplink() with an injected kernel query: <vnet:uplink>
// wins, else the kernel's answer (logged), else an error saying what is missing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/uplink/uplink_address.h"

namespace vnet::uplink {
namespace {

xml::IpAddr v4(const char* s) { return *xml::parse_ipv4(s); }

xml::NetworkDef parse(const std::string& forward, const std::string& extra = "") {
  auto r = xml::parse_network_xml("<network xmlns:vnet='urn:vnet:network:1'><name>n</name>" + forward +
                                  "<ip address='192.168.122.1' prefix='24'/>" + extra + "</network>");
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : xml::NetworkDef{};
}

const std::string kUplink = "<vnet:uplink address='198.51.100.2' prefix='24' gateway='198.51.100.1'/>";

struct FakeKernel {
  std::vector<std::string> asked;
  xml::Result<KernelIpv4> answer = KernelIpv4{};
  KernelQuery query() {
    return [this](const std::string& ifname) {
      asked.push_back(ifname);
      return answer;
    };
  }
};

KernelIpv4 kernel(const char* addr, unsigned prefix, const char* gw) {
  KernelIpv4 k;
  k.ifname = "eth1";
  k.ifindex = 3;
  if (addr) k.address = v4(addr);
  k.prefix = prefix;
  if (gw) k.gateway = v4(gw);
  return k;
}

TEST(EffectiveUplink, VhostUserIsASocketNotADevice) {
  FakeKernel k;
  auto up = effective_uplink(
      parse("<forward mode='nat'/>",
            "<vnet:uplink address='198.51.100.2' prefix='24' gateway='198.51.100.1' type='vhostuser' "
            "path='/run/r/u.sock' mode='client'/>"),
      "eth9", k.query());
  ASSERT_TRUE(up.ok()) << up.error();
  EXPECT_TRUE(k.asked.empty());
  EXPECT_EQ(up->dev, "");  // vnetd's default uplink does not apply
  EXPECT_EQ(up->type, xml::UplinkType::kVhostUser);
  EXPECT_EQ(up->socket_path, "/run/r/u.sock");
  EXPECT_TRUE(up->vhost_client);
  EXPECT_EQ(up->address, v4("198.51.100.2"));
  EXPECT_EQ(up->gateway, v4("198.51.100.1"));
  auto def = effective_uplink(
      parse("<forward mode='route'/>",
            "<vnet:uplink address='198.51.100.2' prefix='24' gateway='198.51.100.1' type='vhostuser'/>"),
      "", k.query());
  ASSERT_TRUE(def.ok()) << def.error();
  EXPECT_EQ(def->socket_path, "");  // the default, resolved by compile_l3()
  EXPECT_FALSE(def->vhost_client);
  // type='kernel' keeps today's device rules.
  auto kern = effective_uplink(
      parse("<forward mode='nat'/>",
            "<vnet:uplink address='198.51.100.2' prefix='24' gateway='198.51.100.1' type='kernel'/>"),
      "eth9", k.query());
  ASSERT_TRUE(kern.ok()) << kern.error();
  EXPECT_EQ(kern->type, xml::UplinkType::kKernel);
  EXPECT_EQ(kern->dev, "eth9");
}

TEST(EffectiveUplink, TheElementWinsAndTheKernelIsNotAsked) {
  FakeKernel k;
  k.answer = kernel("10.0.0.2", 8, "10.0.0.1");
  std::vector<std::string> log;
  auto up = effective_uplink(parse("<forward mode='nat' dev='eth1'/>", kUplink), "", k.query(),
                             [&](const std::string& l) { log.push_back(l); });
  ASSERT_TRUE(up.ok()) << up.error();
  EXPECT_EQ(up->source, EffectiveUplink::Source::kXml);
  EXPECT_EQ(up->dev, "eth1");
  EXPECT_EQ(up->address, v4("198.51.100.2"));
  EXPECT_EQ(up->prefix, 24u);
  EXPECT_EQ(up->gateway, v4("198.51.100.1"));
  EXPECT_TRUE(k.asked.empty());
  EXPECT_TRUE(log.empty());
}

TEST(EffectiveUplink, FromTheKernelWithALogLine) {
  FakeKernel k;
  k.answer = kernel("203.0.113.7", 26, "203.0.113.1");
  std::vector<std::string> log;
  auto up = effective_uplink(parse("<forward mode='route'><interface dev='eth1'/></forward>"), "eth9",
                             k.query(), [&](const std::string& l) { log.push_back(l); });
  ASSERT_TRUE(up.ok()) << up.error();
  EXPECT_EQ(k.asked, std::vector<std::string>{"eth1"});
  EXPECT_EQ(up->source, EffectiveUplink::Source::kKernel);
  EXPECT_EQ(up->address, v4("203.0.113.7"));
  EXPECT_EQ(up->prefix, 26u);
  EXPECT_EQ(up->gateway, v4("203.0.113.1"));
  EXPECT_EQ(log, std::vector<std::string>{
                     "network 'n': uplink address 203.0.113.7/26 and gateway 203.0.113.1 taken from "
                     "the kernel (interface eth1)"});
}

TEST(EffectiveUplink, DefaultUplinkWhenTheNetworkNamesNone) {
  FakeKernel k;
  k.answer = kernel("203.0.113.7", 26, "203.0.113.1");
  auto up = effective_uplink(parse("<forward mode='nat'/>"), "uplink0", k.query());
  ASSERT_TRUE(up.ok()) << up.error();
  EXPECT_EQ(up->dev, "uplink0");
  EXPECT_EQ(k.asked, std::vector<std::string>{"uplink0"});
}

const std::string kHint =
    "; give it with <vnet:uplink address='A' prefix='P' gateway='G'/> (xmlns:vnet='urn:vnet:network:1')";

TEST(EffectiveUplink, Errors) {
  FakeKernel k;
  auto r = effective_uplink(parse("<forward mode='nat'/>"), "", k.query());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "network 'n' has no <vnet:uplink> and no uplink device (neither <forward dev> "
                       "nor vnetd's default uplink) to read the outside address from" + kHint);
  EXPECT_TRUE(k.asked.empty());

  k.answer = xml::Result<KernelIpv4>::error("no kernel interface 'eth1'");
  r = effective_uplink(parse("<forward mode='nat' dev='eth1'/>"), "", k.query());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "network 'n' has no <vnet:uplink> and its uplink 'eth1' cannot be read from "
                       "the kernel: no kernel interface 'eth1'" + kHint);

  k.answer = kernel(nullptr, 0, nullptr);
  r = effective_uplink(parse("<forward mode='nat' dev='eth1'/>"), "", k.query());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "network 'n' has no <vnet:uplink> and its uplink 'eth1' has no IPv4 address in the kernel" + kHint);

  k.answer = kernel("203.0.113.7", 26, nullptr);
  r = effective_uplink(parse("<forward mode='nat' dev='eth1'/>"), "", k.query());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "network 'n' has no <vnet:uplink> and the kernel has no default route through "
                       "its uplink 'eth1' (address 203.0.113.7/26)" + kHint);
}

TEST(EffectiveUplink, UplinkDevice) {
  EXPECT_EQ(uplink_device(parse("<forward mode='nat' dev='a'/>"), "d"), "a");
  EXPECT_EQ(uplink_device(parse("<forward mode='route'><interface dev='b'/></forward>"), "d"), "b");
  EXPECT_EQ(uplink_device(parse("<forward mode='open'/>"), "d"), "d");
}

}  // namespace
}  // namespace vnet::uplink
