// Unit tests of compile_l3() / uplink_plan(): libvirt's <forward>/<nat>/<ip>
// and the effective uplink as the dataplane's L3Config.
#include <gtest/gtest.h>

#include <string>

#include "control/l3_setup.h"

namespace vnet::ctl {
namespace {

xml::NetworkDef parse(const std::string& forward, const std::string& extra = "") {
  auto r = xml::parse_network_xml("<network><name>n</name>" + forward +
                                  "<ip address='192.168.122.1' netmask='255.255.255.0'/>" + extra + "</network>");
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : xml::NetworkDef{};
}

uplink::EffectiveUplink up(const char* dev = "eth1") {
  uplink::EffectiveUplink u;
  u.dev = dev;
  u.address = *xml::parse_ipv4("198.51.100.2");
  u.prefix = 24;
  u.gateway = *xml::parse_ipv4("198.51.100.1");
  return u;
}

constexpr uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

TEST(UplinkPlan, OnlyL3NetworksWithADevice) {
  EXPECT_EQ(uplink_plan(parse("<forward mode='nat' dev='eth1'/>"), ""), "eth1");
  EXPECT_EQ(uplink_plan(parse("<forward mode='nat'/>"), "up0"), "up0");
  EXPECT_EQ(uplink_plan(parse("<forward mode='route' dev='eth1'/>"), "up0"), "eth1");
  EXPECT_FALSE(uplink_plan(parse("<forward mode='nat'/>"), "").has_value());
  EXPECT_FALSE(uplink_plan(parse(""), "up0").has_value());  // isolated
}

TEST(CompileL3, MasqueradeWithDefaults) {
  auto r = compile_l3(parse("<forward mode='nat' dev='eth1'/>"), up());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->mode, dp::L3Mode::kNat);
  ASSERT_EQ(r->inside.size(), 1u);
  EXPECT_EQ(r->inside[0].addr, ip(192, 168, 122, 1));
  EXPECT_EQ(r->inside[0].prefix, 24);
  EXPECT_EQ(r->uplink.name, "n:uplink");
  EXPECT_EQ(r->uplink.kind, dp::PortKind::kAfPacket);
  EXPECT_EQ(r->uplink.ifname, "eth1");
  EXPECT_EQ(r->outside_ip, ip(198, 51, 100, 2));
  EXPECT_EQ(r->outside_prefix, 24);
  EXPECT_EQ(r->next_hop, ip(198, 51, 100, 1));
  EXPECT_EQ(r->nat_addr_first, 0u);
  EXPECT_EQ(r->nat_port_first, 1024);
  EXPECT_EQ(r->nat_port_last, 65535);
}

TEST(CompileL3, AfXdpUplink) {
  uplink::EffectiveUplink u = up();
  u.type = xml::UplinkType::kAfXdp;
  auto r = compile_l3(parse("<forward mode='nat' dev='eth1'/>"), u);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->uplink.kind, dp::PortKind::kAfXdp);
  EXPECT_EQ(r->uplink.ifname, "eth1");
}

TEST(CompileL3, PciUplink) {
  uplink::EffectiveUplink u = up("03:00.1");
  u.type = xml::UplinkType::kPci;
  auto r = compile_l3(parse("<forward mode='nat' dev='03:00.1'/>"), u);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->uplink.kind, dp::PortKind::kPci);
  EXPECT_EQ(r->uplink.pci_address, "0000:03:00.1");
}

TEST(CompileL3, AddressAndPortRanges) {
  auto r = compile_l3(parse("<forward mode='nat' dev='eth1'><nat><address start='198.51.100.10' end='198.51.100.12'/>"
                            "<port start='40000' end='40100'/></nat></forward>"),
                      up());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->nat_addr_first, ip(198, 51, 100, 10));
  EXPECT_EQ(r->nat_addr_last, ip(198, 51, 100, 12));
  EXPECT_EQ(r->nat_port_first, 40000);
  EXPECT_EQ(r->nat_port_last, 40100);
}

TEST(CompileL3, PortRangeStartMustBeBelowEndAtStart) {
  // Valid XML (end >= start), refused when the network starts, as libvirt does.
  auto r = compile_l3(parse("<forward mode='nat' dev='eth1'><nat><port start='5000' end='5000'/></nat></forward>"), up());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("Invalid port range '5000-5000'"), std::string::npos) << r.error();
}

TEST(CompileL3, RouteAndOpen) {
  auto r = compile_l3(parse("<forward mode='route' dev='eth1'/>"), up());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->mode, dp::L3Mode::kRoute);
  auto o = compile_l3(parse("<forward mode='open'/>"), up("up0"));
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_EQ(o->mode, dp::L3Mode::kOpen);
  EXPECT_EQ(o->uplink.ifname, "up0");
}

xml::NetworkDef parse_vhost(const std::string& forward, const std::string& attrs) {
  auto r = xml::parse_network_xml("<network xmlns:vnet='urn:vnet:network:1'><name>n</name>" + forward +
                                  "<ip address='192.168.122.1' prefix='24'/><vnet:uplink address='198.51.100.2' "
                                  "prefix='24' gateway='198.51.100.1' " + attrs + "/></network>");
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : xml::NetworkDef{};
}

uplink::EffectiveUplink vhost_up(const char* path = "", bool client = false) {
  uplink::EffectiveUplink u = up("");
  u.type = xml::UplinkType::kVhostUser;
  u.socket_path = path;
  u.vhost_client = client;
  return u;
}

TEST(UplinkPlan, VhostUserAlwaysHasAnUplink) {
  EXPECT_EQ(uplink_plan(parse_vhost("<forward mode='nat'/>", "type='vhostuser'"), ""), "vhostuser");
  EXPECT_EQ(uplink_plan(parse_vhost("<forward mode='open'/>", "type='vhostuser' path='/x/u.sock'"), "up0"),
            "vhostuser:/x/u.sock");
  EXPECT_FALSE(uplink_plan(parse_vhost("<forward mode='nat'/>", "type='kernel'"), "").has_value());
}

TEST(CompileL3, VhostUserServerOnTheDefaultSocket) {
  const L3Options opts{"/tmp/rd", 1u << 20};
  auto r = compile_l3(parse_vhost("<forward mode='nat'/>", "type='vhostuser'"), vhost_up(), opts);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->uplink.name, "n:uplink");
  EXPECT_EQ(r->uplink.kind, dp::PortKind::kVhostServer);
  EXPECT_EQ(r->uplink.path, "/tmp/rd/n/uplink.sock");
  EXPECT_EQ(r->uplink.ifname, "");
  EXPECT_EQ(r->nat_sessions, 1u << 20);
  EXPECT_EQ(r->outside_ip, ip(198, 51, 100, 2));
  EXPECT_EQ(r->next_hop, ip(198, 51, 100, 1));
  EXPECT_EQ(default_uplink_socket("/run/vnet", "default"), "/run/vnet/default/uplink.sock");
}

TEST(CompileL3, VhostUserClientOnAGivenSocket) {
  auto r = compile_l3(parse_vhost("<forward mode='route'/>", "type='vhostuser' path='/srv/r.sock' mode='client'"),
                      vhost_up("/srv/r.sock", true));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->mode, dp::L3Mode::kRoute);
  EXPECT_EQ(r->uplink.kind, dp::PortKind::kVhostClient);
  EXPECT_EQ(r->uplink.path, "/srv/r.sock");
  EXPECT_EQ(r->nat_sessions, 262144u);  // the default
}

TEST(CompileL3, VhostUserRefusals) {
  uplink::EffectiveUplink both = vhost_up();
  both.dev = "eth1";
  auto r = compile_l3(parse_vhost("<forward mode='nat'/>", "type='vhostuser'"), both);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "network 'n': <forward dev='eth1'> and <vnet:uplink type='vhostuser'> both name the uplink");
  auto rel = compile_l3(parse_vhost("<forward mode='nat'/>", "type='vhostuser'"), vhost_up(), L3Options{"rel", 262144});
  ASSERT_FALSE(rel.ok());
  EXPECT_NE(rel.error().find("'rel/n/uplink.sock' is not an absolute path"), std::string::npos) << rel.error();
}

TEST(CompileL3, NatSessionCapacity) {
  auto small = compile_l3(parse("<forward mode='nat' dev='eth1'/>"), up(), L3Options{"/run/vnet", 100});
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error(), "network 'n': NAT session capacity 100 not in 1024..16777216");
  auto big = compile_l3(parse("<forward mode='nat' dev='eth1'/>"), up(), L3Options{"/run/vnet", 16777216});
  ASSERT_TRUE(big.ok()) << big.error();
  EXPECT_EQ(big->nat_sessions, 16777216u);
}

TEST(CompileL3, Refusals) {
  EXPECT_FALSE(compile_l3(parse(""), up()).ok());                               // isolated
  EXPECT_FALSE(compile_l3(parse("<forward mode='nat' dev='eth1'/>"), up("")).ok());  // no device
  // A PCI address is attached only as type pci (vnetd binds it first).
  auto pci = compile_l3(parse("<forward mode='nat' dev='eth1'/>"), up("0000:03:00.0"));
  ASSERT_FALSE(pci.ok());
  EXPECT_NE(pci.error().find("type='pci'"), std::string::npos) << pci.error();
  uplink::EffectiveUplink iface = up("eth1");
  iface.type = xml::UplinkType::kPci;  // not resolved to an address
  EXPECT_FALSE(compile_l3(parse("<forward mode='nat' dev='eth1'/>"), iface).ok());
  auto v6 = xml::parse_network_xml("<network><name>n</name><forward mode='nat' dev='eth1'/>"
                                   "<ip family='ipv6' address='2001:db8::1' prefix='64'/></network>");
  ASSERT_TRUE(v6.ok()) << v6.error();
  EXPECT_FALSE(compile_l3(*v6, up()).ok());  // no IPv4 <ip>
}

}  // namespace
}  // namespace vnet::ctl
