// Unit tests of <vnet:uplink address prefix gateway/> (UplinkDef): parse into the
// model, byte-for-byte format (namespace on <network>, element last), round trip,
// coexistence with <dnsmasq:options>, parse errors naming the attribute and the
// reason, and the define-time rules of validate_for_define().
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "xml/network_xml.h"

namespace vnet::xml {
namespace {

RandomBytes zero_rng() {
  return [](uint8_t* out, size_t n) { std::fill(out, out + n, uint8_t{0}); };
}

const std::string kNs = "xmlns:vnet='urn:vnet:network:1'";

std::string net(const std::string& uplink, const std::string& mode = "nat",
                const std::string& ns = kNs) {
  return "<network " + ns + "><name>n</name><uuid>81ff0d90-c91e-6742-64da-4a736edb9a9b</uuid>"
         "<forward mode='" + mode + "'/><ip address='192.168.122.1' prefix='24'/>" + uplink +
         "</network>";
}

std::string uplink(const std::string& attrs) { return "<vnet:uplink " + attrs + "/>"; }

const std::string kGood = uplink("address='198.51.100.2' prefix='24' gateway='198.51.100.1'");

TEST(UplinkXml, ParsesIntoTheModel) {
  auto r = parse_network_xml(net(kGood), zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r->uplink.has_value());
  EXPECT_EQ(r->uplink->address, *parse_ipv4("198.51.100.2"));
  EXPECT_EQ(r->uplink->prefix, 24u);
  EXPECT_EQ(r->uplink->gateway, *parse_ipv4("198.51.100.1"));
  EXPECT_TRUE(validate_for_define(*r).ok());
}

TEST(UplinkXml, AbsentMeansNoUplinkAndNoNamespace) {
  auto r = parse_network_xml(net(""), zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(r->uplink.has_value());
  EXPECT_EQ(format_network_xml(*r).find("xmlns:vnet"), std::string::npos);
}

TEST(UplinkXml, FormatsLikeLibvirtNamespaceData) {
  auto r = parse_network_xml(net(kGood), zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  const std::string expected =
      "<network xmlns:vnet='urn:vnet:network:1'>\n"
      "  <name>n</name>\n"
      "  <uuid>81ff0d90-c91e-6742-64da-4a736edb9a9b</uuid>\n"
      "  <forward mode='nat'/>\n"
      "  <bridge stp='on' delay='0'/>\n"
      "  <ip address='192.168.122.1' prefix='24'>\n"
      "  </ip>\n"
      "  <vnet:uplink address='198.51.100.2' prefix='24' gateway='198.51.100.1'/>\n"
      "</network>\n";
  EXPECT_EQ(format_network_xml(*r), expected);
  auto again = parse_network_xml(format_network_xml(*r), zero_rng());
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again->uplink, r->uplink);
  EXPECT_EQ(format_network_xml(*again), expected);
}

TEST(UplinkXml, AnyPrefixBoundToTheNamespaceIsRead) {
  auto r = parse_network_xml(
      net("<up:uplink address='198.51.100.2' prefix='24' gateway='198.51.100.1'/>", "route",
          "xmlns:up='urn:vnet:network:1'"),
      zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r->uplink.has_value());
  const std::string out = format_network_xml(*r);
  EXPECT_NE(out.find("<network xmlns:vnet='urn:vnet:network:1'>\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  <vnet:uplink address='198.51.100.2' prefix='24' gateway='198.51.100.1'/>\n"
                     "</network>\n"),
            std::string::npos)
      << out;
}

TEST(UplinkXml, OtherNamespacesAndPlainUplinkAreIgnored) {
  for (const std::string& xml :
       {net("<x:uplink address='1' prefix='99' gateway='no'/>", "nat", "xmlns:x='urn:vnet:network:2'"),
        net("<uplink address='1' prefix='99' gateway='no'/>", "nat", "")}) {
    auto r = parse_network_xml(xml, zero_rng());
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_FALSE(r->uplink.has_value());
  }
}

TEST(UplinkXml, CoexistsWithDnsmasqOptions) {
  const std::string in =
      "<network xmlns:vnet='urn:vnet:network:1' "
      "xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>"
      "<name>default</name><uuid>81ff0d90-c91e-6742-64da-4a736edb9a9b</uuid>"
      "<vnet:uplink address='203.0.113.10' prefix='29' gateway='203.0.113.9'/>"
      "<dnsmasq:options><dnsmasq:option value='foo=bar'/></dnsmasq:options>"
      "<forward dev='eth1' mode='nat'/><bridge name='virbr0'/>"
      "<ip address='192.168.122.1' netmask='255.255.255.0'/></network>";
  auto r = parse_network_xml(in, zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  const std::string expected =
      "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0' "
      "xmlns:vnet='urn:vnet:network:1'>\n"
      "  <name>default</name>\n"
      "  <uuid>81ff0d90-c91e-6742-64da-4a736edb9a9b</uuid>\n"
      "  <forward dev='eth1' mode='nat'>\n"
      "    <interface dev='eth1'/>\n"
      "  </forward>\n"
      "  <bridge name='virbr0' stp='on' delay='0'/>\n"
      "  <ip address='192.168.122.1' netmask='255.255.255.0'>\n"
      "  </ip>\n"
      "  <dnsmasq:options>\n"
      "    <dnsmasq:option value='foo=bar'/>\n"
      "  </dnsmasq:options>\n"
      "  <vnet:uplink address='203.0.113.10' prefix='29' gateway='203.0.113.9'/>\n"
      "</network>\n";
  EXPECT_EQ(format_network_xml(*r), expected);
  ASSERT_EQ(r->dnsmasq_options.size(), 1u);
  auto again = parse_network_xml(expected, zero_rng());
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(format_network_xml(*again), expected);
}

TEST(UplinkXml, EdgePrefixes) {
  // /31 (RFC 3021): both addresses are hosts. /32: the gateway is on-link anywhere.
  for (const char* attrs : {"address='198.51.100.0' prefix='31' gateway='198.51.100.1'",
                            "address='198.51.100.7' prefix='32' gateway='172.31.1.1'",
                            "address='10.1.2.3' prefix='1' gateway='100.0.0.1'"}) {
    auto r = parse_network_xml(net(uplink(attrs)), zero_rng());
    EXPECT_TRUE(r.ok()) << attrs << ": " << r.error();
  }
}

struct BadCase {
  const char* name;
  std::string attrs;
  std::string message;
};

class UplinkParseError : public testing::TestWithParam<BadCase> {};

TEST_P(UplinkParseError, RejectsWithMessage) {
  const BadCase& c = GetParam();
  auto r = parse_network_xml(net(uplink(c.attrs)), zero_rng());
  ASSERT_FALSE(r.ok()) << c.attrs;
  EXPECT_EQ(r.error(), c.message);
}

const std::string kIn = " in <vnet:uplink> of network 'n'";
const BadCase kBad[] = {
    {"no_address", "prefix='24' gateway='198.51.100.1'",
     "Missing required attribute 'address'" + kIn},
    {"no_prefix", "address='198.51.100.2' gateway='198.51.100.1'",
     "Missing required attribute 'prefix'" + kIn},
    {"no_gateway", "address='198.51.100.2' prefix='24'",
     "Missing required attribute 'gateway'" + kIn},
    {"address_v6", "address='2001:db8::2' prefix='24' gateway='198.51.100.1'",
     "Invalid attribute 'address'" + kIn + ": '2001:db8::2' is not an IPv4 address"},
    {"address_garbage", "address='198.51.100.256' prefix='24' gateway='198.51.100.1'",
     "Invalid attribute 'address'" + kIn + ": '198.51.100.256' is not an IPv4 address"},
    {"address_empty", "address='' prefix='24' gateway='198.51.100.1'",
     "Invalid attribute 'address'" + kIn + ": '' is not an IPv4 address"},
    {"prefix_zero", "address='198.51.100.2' prefix='0' gateway='198.51.100.1'",
     "Invalid attribute 'prefix'" + kIn + ": '0' is not a number between 1 and 32"},
    {"prefix_33", "address='198.51.100.2' prefix='33' gateway='198.51.100.1'",
     "Invalid attribute 'prefix'" + kIn + ": '33' is not a number between 1 and 32"},
    {"prefix_netmask", "address='198.51.100.2' prefix='255.255.255.0' gateway='198.51.100.1'",
     "Invalid attribute 'prefix'" + kIn + ": '255.255.255.0' is not a number between 1 and 32"},
    {"prefix_signed", "address='198.51.100.2' prefix='+24' gateway='198.51.100.1'",
     "Invalid attribute 'prefix'" + kIn + ": '+24' is not a number between 1 and 32"},
    {"gateway_v6", "address='198.51.100.2' prefix='24' gateway='fe80::1'",
     "Invalid attribute 'gateway'" + kIn + ": 'fe80::1' is not an IPv4 address"},
    {"gateway_outside", "address='198.51.100.2' prefix='24' gateway='198.51.101.1'",
     "Invalid attribute 'gateway'" + kIn + ": '198.51.101.1' is not inside 198.51.100.0/24"},
    {"gateway_is_address", "address='198.51.100.2' prefix='24' gateway='198.51.100.2'",
     "Invalid attribute 'gateway'" + kIn + ": '198.51.100.2' is the uplink address itself"},
    {"gateway_broadcast", "address='198.51.100.2' prefix='24' gateway='198.51.100.255'",
     "Invalid attribute 'gateway'" + kIn +
         ": '198.51.100.255' is the network or broadcast address of 198.51.100.0/24"},
    {"address_network", "address='198.51.100.0' prefix='24' gateway='198.51.100.1'",
     "Invalid attribute 'address'" + kIn +
         ": '198.51.100.0' is the network or broadcast address of 198.51.100.0/24"},
    {"address_multicast", "address='224.0.0.5' prefix='24' gateway='224.0.0.1'",
     "Invalid attribute 'address'" + kIn + ": '224.0.0.5' is a multicast address"},
    {"address_loopback", "address='127.0.0.2' prefix='8' gateway='127.0.0.1'",
     "Invalid attribute 'address'" + kIn + ": '127.0.0.2' is a loopback address"},
    {"address_zero", "address='0.0.0.0' prefix='8' gateway='0.0.0.1'",
     "Invalid attribute 'address'" + kIn + ": '0.0.0.0' is in 0.0.0.0/8"},
    {"gateway_reserved", "address='198.51.100.2' prefix='32' gateway='250.0.0.1'",
     "Invalid attribute 'gateway'" + kIn + ": '250.0.0.1' is in the reserved range 240.0.0.0/4"},
};

INSTANTIATE_TEST_SUITE_P(All, UplinkParseError, testing::ValuesIn(kBad),
                         [](const testing::TestParamInfo<BadCase>& i) { return i.param.name; });

TEST(UplinkXml, OnlyOneUplink) {
  auto r = parse_network_xml(net(kGood + kGood), zero_rng());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "Only one <vnet:uplink> element is allowed in network 'n'");
}

TEST(UplinkXml, DefineNeedsARoutedMode) {
  for (const char* mode : {"nat", "route", "open"}) {
    auto r = parse_network_xml(net(kGood, mode), zero_rng());
    ASSERT_TRUE(r.ok()) << mode << ": " << r.error();
    EXPECT_TRUE(validate_for_define(*r).ok()) << mode << ": " << validate_for_define(*r).error();
  }
  auto isolated = parse_network_xml(
      "<network xmlns:vnet='urn:vnet:network:1'><name>n</name>"
      "<ip address='192.168.122.1' prefix='24'/>" + kGood + "</network>",
      zero_rng());
  ASSERT_TRUE(isolated.ok()) << isolated.error();
  auto st = validate_for_define(*isolated);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(),
            "Unsupported <vnet:uplink> element in network 'n' with forward mode='none': "
            "only nat, route and open networks have an uplink");
}

TEST(UplinkXml, DefineRejectsOverlapWithTheNetworkSubnet) {
  auto r = parse_network_xml(net(uplink("address='192.168.0.2' prefix='16' gateway='192.168.0.1'")),
                             zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  auto st = validate_for_define(*r);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(),
            "<vnet:uplink> subnet 192.168.0.0/16 of network 'n' overlaps its <ip> subnet "
            "192.168.122.0/24");
}

TEST(UplinkXml, DefineRechecksAModelBuiltInCode) {
  auto r = parse_network_xml(net(kGood), zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  NetworkDef def = *r;
  def.uplink->prefix = 40;
  auto st = validate_for_define(def);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "Invalid attribute 'prefix'" + kIn + ": '40' is not between 1 and 32");
  def.uplink->prefix = 24;
  def.uplink->gateway = *parse_ipv4("10.0.0.1");
  st = validate_for_define(def);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "Invalid attribute 'gateway'" + kIn + ": '10.0.0.1' is not inside 198.51.100.0/24");
}

const std::string kAddr = "address='198.51.100.2' prefix='24' gateway='198.51.100.1'";

TEST(UplinkXml, VhostUserParsesAndRoundTrips) {
  auto r = parse_network_xml(
      net(uplink(kAddr + " type='vhostuser' path='/run/router/uplink.sock' mode='client'")), zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r->uplink.has_value());
  EXPECT_EQ(r->uplink->effective_type(), UplinkType::kVhostUser);
  EXPECT_EQ(r->uplink->path, "/run/router/uplink.sock");
  EXPECT_EQ(r->uplink->effective_mode(), UplinkVhostMode::kClient);
  EXPECT_TRUE(validate_for_define(*r).ok()) << validate_for_define(*r).error();
  const std::string out = format_network_xml(*r);
  const std::string line =
      "  <vnet:uplink address='198.51.100.2' prefix='24' gateway='198.51.100.1' type='vhostuser' "
      "path='/run/router/uplink.sock' mode='client'/>\n</network>\n";
  EXPECT_NE(out.find(line), std::string::npos) << out;
  auto again = parse_network_xml(out, zero_rng());
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again->uplink, r->uplink);
  EXPECT_EQ(format_network_xml(*again), out);
}

TEST(UplinkXml, OptionalAttributesStayAbsent) {
  // type='vhostuser' alone: default path and mode, written back as given.
  auto r = parse_network_xml(net(uplink(kAddr + " type='vhostuser'")), zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->uplink->effective_type(), UplinkType::kVhostUser);
  EXPECT_TRUE(r->uplink->path.empty());
  EXPECT_FALSE(r->uplink->mode.has_value());
  EXPECT_EQ(r->uplink->effective_mode(), UplinkVhostMode::kServer);
  EXPECT_NE(format_network_xml(*r).find("gateway='198.51.100.1' type='vhostuser'/>\n"), std::string::npos);
  // An explicit type='kernel' is kept; no type means kernel and is not written.
  auto k = parse_network_xml(net(uplink(kAddr + " type='kernel'")), zero_rng());
  ASSERT_TRUE(k.ok()) << k.error();
  EXPECT_EQ(k->uplink->effective_type(), UplinkType::kKernel);
  EXPECT_NE(format_network_xml(*k).find("gateway='198.51.100.1' type='kernel'/>\n"), std::string::npos);
  // type='afxdp': the kernel interface through AF_XDP; round-trips.
  auto x = parse_network_xml(net(uplink(kAddr + " type='afxdp'")), zero_rng());
  ASSERT_TRUE(x.ok()) << x.error();
  EXPECT_EQ(x->uplink->effective_type(), UplinkType::kAfXdp);
  EXPECT_NE(format_network_xml(*x).find("gateway='198.51.100.1' type='afxdp'/>\n"), std::string::npos);
  auto d = parse_network_xml(net(kGood), zero_rng());
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->uplink->effective_type(), UplinkType::kKernel);
  EXPECT_EQ(format_network_xml(*d).find("type="), std::string::npos);
}

TEST(UplinkXml, VhostUserPathIsEscapedOnOutput) {
  auto r = parse_network_xml(net(uplink(kAddr + " type='vhostuser' path='/tmp/a&amp;b.sock'")), zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->uplink->path, "/tmp/a&b.sock");
  const std::string out = format_network_xml(*r);
  EXPECT_NE(out.find("path='/tmp/a&amp;b.sock'"), std::string::npos) << out;
  auto again = parse_network_xml(out, zero_rng());
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again->uplink, r->uplink);
}

const BadCase kBadType[] = {
    {"type_unknown", kAddr + " type='tap'",
     "Invalid attribute 'type'" + kIn + ": 'tap' is not 'kernel', 'afxdp', 'pci' or 'vhostuser'"},
    {"type_case", kAddr + " type='VhostUser'",
     "Invalid attribute 'type'" + kIn + ": 'VhostUser' is not 'kernel', 'afxdp', 'pci' or 'vhostuser'"},
    {"mode_unknown", kAddr + " type='vhostuser' mode='listen'",
     "Invalid attribute 'mode'" + kIn + ": 'listen' is not 'server' or 'client'"},
    {"path_relative", kAddr + " type='vhostuser' path='run/uplink.sock'",
     "Invalid attribute 'path'" + kIn + ": 'run/uplink.sock' is not an absolute path"},
    {"path_empty", kAddr + " type='vhostuser' path=''",
     "Invalid attribute 'path'" + kIn + ": '' is not an absolute path"},
    {"path_comma", kAddr + " type='vhostuser' path='/tmp/a,queues=8'",
     "Invalid attribute 'path'" + kIn + ": '/tmp/a,queues=8' contains ','"},
    {"path_too_long", kAddr + " type='vhostuser' path='/" + std::string(107, 'x') + "'",
     "Invalid attribute 'path'" + kIn + ": '/" + std::string(107, 'x') +
         "' is longer than 107 bytes (a unix socket path)"},
    {"path_with_kernel", kAddr + " type='kernel' path='/tmp/u.sock'",
     "Invalid attribute 'path'" + kIn + ": '/tmp/u.sock' is only allowed with type='vhostuser'"},
    {"path_without_type", kAddr + " path='/tmp/u.sock'",
     "Invalid attribute 'path'" + kIn + ": '/tmp/u.sock' is only allowed with type='vhostuser'"},
    {"mode_with_kernel", kAddr + " type='kernel' mode='client'",
     "Invalid attribute 'mode'" + kIn + ": 'client' is only allowed with type='vhostuser'"},
    {"path_with_afxdp", kAddr + " type='afxdp' path='/tmp/u.sock'",
     "Invalid attribute 'path'" + kIn + ": '/tmp/u.sock' is only allowed with type='vhostuser'"},
    {"mode_without_type", kAddr + " mode='server'",
     "Invalid attribute 'mode'" + kIn + ": 'server' is only allowed with type='vhostuser'"},
    {"vhost_no_gateway", "address='198.51.100.2' prefix='24' type='vhostuser'",
     "Missing required attribute 'gateway'" + kIn},
};

INSTANTIATE_TEST_SUITE_P(Type, UplinkParseError, testing::ValuesIn(kBadType),
                         [](const testing::TestParamInfo<BadCase>& i) { return i.param.name; });

TEST(UplinkXml, VhostUserRefusesAForwardDev) {
  const std::string vhost = uplink(kAddr + " type='vhostuser'");
  for (const std::string& fwd : {std::string("<forward mode='nat' dev='eth1'/>"),
                                 std::string("<forward mode='route'><interface dev='eth1'/></forward>")}) {
    auto r = parse_network_xml(
        "<network " + kNs + "><name>n</name>" + fwd + "<ip address='192.168.122.1' prefix='24'/>" + vhost +
            "</network>",
        zero_rng());
    ASSERT_TRUE(r.ok()) << r.error();
    auto st = validate_for_define(*r);
    ASSERT_FALSE(st.ok()) << fwd;
    EXPECT_EQ(st.error(),
              "<forward dev='eth1'> and <vnet:uplink type='vhostuser'> of network 'n' both name the uplink: "
              "a vhost-user uplink is its socket, remove the <forward dev>");
  }
  // A kernel uplink with a <forward dev> is the ordinary case.
  auto k = parse_network_xml("<network " + kNs + "><name>n</name><forward mode='nat' dev='eth1'/>"
                             "<ip address='192.168.122.1' prefix='24'/>" + kGood + "</network>",
                             zero_rng());
  ASSERT_TRUE(k.ok()) << k.error();
  EXPECT_TRUE(validate_for_define(*k).ok()) << validate_for_define(*k).error();
}

TEST(UplinkXml, DefineRechecksTypeRulesOfAModelBuiltInCode) {
  auto r = parse_network_xml(net(kGood), zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  NetworkDef def = *r;
  def.uplink->path = "/tmp/u.sock";
  auto st = validate_for_define(def);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "Invalid attribute 'path'" + kIn + ": '/tmp/u.sock' is only allowed with type='vhostuser'");
  def.uplink->type = UplinkType::kVhostUser;
  EXPECT_TRUE(validate_for_define(def).ok()) << validate_for_define(def).error();
  def.uplink->path = "relative.sock";
  st = validate_for_define(def);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "Invalid attribute 'path'" + kIn + ": 'relative.sock' is not an absolute path");
}

TEST(UplinkXml, NetUpdateKeepsTheUplink) {
  auto r = parse_network_xml(net(kGood), zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  NetworkDef def = *r;
  auto st = apply_network_update(def, UpdateCommand::kAddLast, UpdateSection::kDnsTxt, -1,
                                 "<txt name='a' value='b'/>");
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(def.uplink, r->uplink);
  EXPECT_NE(format_network_xml(def).find("<vnet:uplink"), std::string::npos);
}

}  // namespace
}  // namespace vnet::xml
