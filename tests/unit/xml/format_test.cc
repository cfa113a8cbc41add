// Unit tests of format_network_xml(): the normalisations libvirt applies on output
// (libvirt-format.md section 0), checked on small inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "xml/network_xml.h"

namespace vnet::xml {
namespace {

RandomBytes zero_rng() {
  return [](uint8_t* out, size_t n) { std::fill(out, out + n, uint8_t{0}); };
}

std::string roundtrip(const std::string& body, const std::string& root_attrs = "") {
  auto r = parse_network_xml("<network" + root_attrs + "><name>n</name><uuid>00000000-0000-0000-0000-000000000001</uuid>" +
                                 body + "</network>",
                             zero_rng());
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? format_network_xml(*r) : std::string();
}

const std::string kHead =
    "  <name>n</name>\n"
    "  <uuid>00000000-0000-0000-0000-000000000001</uuid>\n";

TEST(Format, BareForwardIsNatAndL3BridgeGetsStpAndDelay) {
  EXPECT_EQ(roundtrip("<forward/><ip address='10.0.0.1' prefix='24'/>"),
            "<network>\n" + kHead +
                "  <forward mode='nat'/>\n"
                "  <bridge stp='on' delay='0'/>\n"
                "  <ip address='10.0.0.1' prefix='24'>\n"
                "  </ip>\n"
                "</network>\n");
}

TEST(Format, ForwardDevBecomesAnInterfaceAndMacIsLowerCase) {
  EXPECT_EQ(roundtrip("<mac address='52:54:00:AB:CD:EF'/><forward dev='eth0' mode='route'/>"
                      "<ip address='10.0.0.1' prefix='24'/>"),
            "<network>\n" + kHead +
                "  <forward dev='eth0' mode='route'>\n"
                "    <interface dev='eth0'/>\n"
                "  </forward>\n"
                "  <bridge stp='on' delay='0'/>\n"
                "  <mac address='52:54:00:ab:cd:ef'/>\n"
                "  <ip address='10.0.0.1' prefix='24'>\n"
                "  </ip>\n"
                "</network>\n");
}

TEST(Format, Ipv6NoIsDroppedAndElementsComeInCanonicalOrder) {
  EXPECT_EQ(roundtrip("<ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'/>"
                      "</dhcp><tftp root='/srv'/></ip><mtu size='9000'/>",
                      " ipv6='no'"),
            "<network>\n" + kHead +
                "  <bridge stp='on' delay='0'/>\n"
                "  <mtu size='9000'/>\n"
                "  <ip address='10.0.0.1' prefix='24'>\n"
                "    <tftp root='/srv'/>\n"
                "    <dhcp>\n"
                "      <range start='10.0.0.2' end='10.0.0.9'/>\n"
                "    </dhcp>\n"
                "  </ip>\n"
                "</network>\n");
}

TEST(Format, BootpOnlyDhcpIsDroppedAndAddressesAreCanonical) {
  EXPECT_EQ(roundtrip("<ip family='ipv6' address='2001:DB8:0:0::1' prefix='64'/>"
                      "<ip address='10.0.0.1' prefix='24'><dhcp><bootp file='pxe'/></dhcp></ip>"),
            "<network>\n" + kHead +
                "  <bridge stp='on' delay='0'/>\n"
                "  <ip family='ipv6' address='2001:db8::1' prefix='64'>\n"
                "  </ip>\n"
                "  <ip address='10.0.0.1' prefix='24'>\n"
                "  </ip>\n"
                "</network>\n");
}

TEST(Format, ConnectionsOnlyInLiveXml) {
  auto r = parse_network_xml("<network><name>n</name><uuid>00000000-0000-0000-0000-000000000001</uuid></network>",
                             zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  r->connections = 3;
  EXPECT_EQ(format_network_xml(*r).rfind("<network connections='3'>\n", 0), 0u);
  EXPECT_EQ(format_network_xml(*r, kFormatInactive).rfind("<network>\n", 0), 0u);
}

}  // namespace
}  // namespace vnet::xml
