// Unit tests: every documented parse error of parse_network_xml(), with its
// exact message (libvirt's wording, naming the element/attribute and reason).
#include <gtest/gtest.h>

#include <string>

#include "xml/network_xml.h"

namespace vnet::xml {
namespace {

RandomBytes zero_rng() {
  return [](uint8_t* out, size_t n) { std::fill(out, out + n, uint8_t{0}); };
}

// A NAT network "n" around `body`, with one IPv4 <ip> unless body has its own.
std::string nat(const std::string& body) {
  return "<network><name>n</name><forward mode='nat'/>" + body + "</network>";
}
std::string nat_ip(const std::string& ip_children, const std::string& extra = "") {
  return nat("<ip address='192.168.122.1' netmask='255.255.255.0'>" + ip_children + "</ip>" + extra);
}
std::string v6_ip(const std::string& ip_children) {
  return nat("<ip family='ipv6' address='2001:db8::1' prefix='64'>" + ip_children + "</ip>");
}
std::string dns(const std::string& children, const std::string& attrs = "") {
  return nat("<dns" + attrs + ">" + children + "</dns><ip address='10.0.0.1' prefix='24'/>");
}

struct Case {
  const char* name;
  std::string xml;
  std::string message;
};

class ParseErrorTest : public testing::TestWithParam<Case> {};

TEST_P(ParseErrorTest, RejectsWithMessage) {
  const Case& c = GetParam();
  auto r = parse_network_xml(c.xml, zero_rng());
  ASSERT_FALSE(r.ok()) << c.xml;
  EXPECT_EQ(r.error(), c.message);
}

const Case kCases[] = {
    // Document structure.
    {"not_well_formed", "<network>\n<name>n</name>\n</netwrk>",
     "XML error in (network_definition) at line 3: Opening and ending tag mismatch: network line 1 and netwrk"},
    {"empty_document", "", "XML error in (network_definition) at line 1: Document is empty"},
    {"wrong_root", "<domain><name>n</name></domain>", "expecting root element of 'network', not 'domain'"},
    {"no_name", "<network><uuid>81ff0d90-c91e-6742-64da-4a736edb9a9b</uuid></network>",
     "missing name information: <network> has no <name> element"},
    {"empty_name", "<network><name></name></network>",
     "missing name information: <network> has no <name> element"},
    {"slash_in_name", "<network><name>a/b</name></network>", "invalid char in name: /"},
    {"bad_uuid", "<network><name>n</name><uuid>81ff0d90-c91e</uuid></network>", "malformed uuid element"},
    {"title_newline", "<network><name>n</name><title>a\nb</title></network>",
     "Network title can't contain newlines"},
    {"bad_ipv6_attr", "<network ipv6='maybe'><name>n</name></network>",
     "Invalid ipv6 setting 'maybe' in network 'n'"},
    {"bad_trust", "<network trustGuestRxFilters='1'><name>n</name></network>",
     "Invalid value for attribute 'trustGuestRxFilters' in element 'network': '1'."},
    // <domain>
    {"domain_register", nat_ip("", "<domain name='example.com' register='yes'/>"),
     "attribute 'register=yes' in <domain> element requires 'localOnly=yes' in network n"},
    {"domain_localonly", nat_ip("", "<domain name='x' localOnly='on'/>"),
     "Invalid value for attribute 'localOnly' in element 'domain': 'on'."},
    // <bridge>, <mac>, <mtu>
    {"bad_delay", "<network><name>n</name><bridge name='br' delay='x'/></network>",
     "Invalid delay value in network 'n'"},
    {"bad_mac_table", "<network><name>n</name><bridge macTableManager='default'/></network>",
     "Invalid macTableManager setting 'default' in network 'n'"},
    {"bad_mac", "<network><name>n</name><mac address='52:54:00:zz:00:01'/></network>",
     "Invalid bridge mac address '52:54:00:zz:00:01' in network 'n'"},
    {"multicast_mac", "<network><name>n</name><mac address='01:00:5e:00:00:01'/></network>",
     "Invalid multicast bridge mac address '01:00:5e:00:00:01' in network 'n'"},
    {"bad_mtu", "<network><name>n</name><mtu size='big'/></network>", "Invalid mtu size 'big' in network 'n'"},
    {"mtu_in_bridge_mode",
     "<network><name>n</name><forward mode='bridge'/><bridge name='br0'/><mtu size='9000'/></network>",
     "mtu size only allowed in open, route, nat, and isolated mode, not in bridge (network 'n')"},
    // <forward>
    {"unknown_mode", "<network><name>n</name><forward mode='tunnel'/></network>", "unknown forwarding type 'tunnel'"},
    {"nat_without_ip", "<network><name>n</name><forward/></network>",
     "nat forwarding requested, but no IP address provided for network 'n'"},
    {"route_without_ip", "<network><name>n</name><forward mode='route'/></network>",
     "route forwarding requested, but no IP address provided for network 'n'"},
    {"open_with_dev", nat_ip("").replace(nat_ip("").find("mode='nat'"), 10, "mode='open' dev='eth0'"),
     "forward dev not allowed for network 'n' with forward mode='open'"},
    {"two_nat_interfaces",
     "<network><name>n</name><forward mode='nat'><interface dev='a'/><interface dev='b'/></forward>"
     "<ip address='10.0.0.1' prefix='24'/></network>",
     "multiple forwarding interfaces specified for network 'n', only one is supported"},
    {"interface_without_dev",
     "<network><name>n</name><forward mode='bridge'><interface/></forward></network>",
     "Missing required dev attribute in <forward> <interface> element of network n"},
    {"dev_mismatch",
     "<network><name>n</name><forward mode='bridge' dev='a'><interface dev='b'/></forward></network>",
     "<forward dev='a'> must match first <interface dev='b'/> in network n"},
    {"duplicate_interface",
     "<network><name>n</name><forward mode='passthrough'><interface dev='eth10'/><interface dev='eth11'/>"
     "<interface dev='eth10'/></forward></network>",
     "interface 'eth10' can only be listed once in network n"},
    {"dev_with_pf",
     "<network><name>n</name><forward mode='passthrough' dev='eth0'><pf dev='eth1'/></forward></network>",
     "the <forward> 'dev' attribute cannot be used when <address> or <pf> sub-elements are present in "
     "network n"},
    {"two_pfs",
     "<network><name>n</name><forward mode='passthrough'><pf dev='a'/><pf dev='b'/></forward></network>",
     "Only one <pf> element is allowed in <forward> of network n"},
    {"pf_without_dev", "<network><name>n</name><forward mode='hostdev'><pf/></forward></network>",
     "Missing required dev attribute in <pf> element of network 'n'"},
    {"address_without_type",
     "<network><name>n</name><forward mode='hostdev'><address domain='0' bus='3' slot='0' function='1'/>"
     "</forward></network>",
     "missing address type in network n"},
    {"address_bad_type",
     "<network><name>n</name><forward mode='hostdev'><address type='usb'/></forward></network>",
     "unknown address type 'usb' in network n"},
    {"duplicate_pci",
     "<network><name>n</name><forward mode='hostdev'>"
     "<address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x3'/>"
     "<address type='pci' domain='0' bus='3' slot='0' function='3'/></forward></network>",
     "PCI device '0000:03:00.3' can only be listed once in network n"},
    {"pci_function_range",
     "<network><name>n</name><forward mode='hostdev'>"
     "<address type='pci' domain='0' bus='3' slot='0' function='8'/></forward></network>",
     "Invalid PCI address function=0x8, must be <= 7"},
    {"bad_driver",
     "<network><name>n</name><forward mode='hostdev'><driver name='uio'/><pf dev='p'/></forward></network>",
     "Invalid value for attribute 'name' in element 'driver': 'uio'."},
    {"nat_in_route_mode",
     "<network><name>n</name><forward mode='route'><nat/></forward><ip address='10.0.0.1'/></network>",
     "The <nat> element can only be used when <forward> 'mode' is 'nat' in network n"},
    {"two_nats",
     "<network><name>n</name><forward><nat/><nat/></forward><ip address='10.0.0.1'/></network>",
     "Only one <nat> element is allowed in <forward> of network n"},
    {"nat_address_no_end",
     "<network><name>n</name><forward><nat><address start='1.2.3.4'/></nat></forward>"
     "<ip address='10.0.0.1'/></network>",
     "missing 'end' attribute in <address> element in <nat> in <forward> in network n"},
    {"nat_address_v6",
     "<network><name>n</name><forward><nat><address start='::1' end='::2'/></nat></forward>"
     "<ip address='10.0.0.1'/></network>",
     "Bad ipv4 start address '::1' in <nat> in <forward> in network 'n'"},
    {"nat_address_reversed",
     "<network><name>n</name><forward><nat><address start='1.2.3.9' end='1.2.3.4'/></nat></forward>"
     "<ip address='10.0.0.1'/></network>",
     "range 1.2.3.9 - 1.2.3.4 is reversed"},
    {"nat_port_end_below_start",
     "<network><name>n</name><forward><nat><port start='2000' end='1000'/></nat></forward>"
     "<ip address='10.0.0.1'/></network>",
     "Missing or invalid 'end' attribute in <port> in <nat> in <forward> in network n"},
    {"nat_port_start_range",
     "<network><name>n</name><forward><nat><port start='70000' end='80000'/></nat></forward>"
     "<ip address='10.0.0.1'/></network>",
     "Missing or invalid 'start' attribute in <port> in <nat> in <forward> in network n"},
    {"nat_bad_ipv6",
     "<network><name>n</name><forward><nat ipv6='on'/></forward><ip address='10.0.0.1'/></network>",
     "Invalid value for attribute 'ipv6' in element 'nat': 'on'."},
    {"bridge_name_in_private",
     "<network><name>n</name><forward mode='private'/><bridge name='br0'/></network>",
     "bridge name not allowed in private mode (network 'n')"},
    {"stp_in_bridge_mode",
     "<network><name>n</name><forward mode='bridge'/><bridge name='br0' stp='on'/></network>",
     "bridge delay/stp/zone options only allowed in open, route, nat, and isolated mode, not in bridge "
     "(network 'n')"},
    {"bridge_and_interface",
     "<network><name>n</name><forward mode='bridge' dev='eth0'/><bridge name='br0'/></network>",
     "A network with forward mode='bridge' can specify a bridge name or a forward dev, but not both "
     "(network 'n')"},
    // <ip>
    {"ip_no_address", nat("<ip netmask='255.255.255.0'/>"),
     "Missing required address attribute in network 'n'"},
    {"ip_bad_address", nat("<ip address='192.168.122.333'/>"),
     "Invalid address '192.168.122.333' in network 'n'"},
    {"ip_bad_family", nat("<ip family='ipx' address='10.0.0.1'/>"), "Unrecognized family 'ipx' in network 'n'"},
    {"ip_v6_without_family", nat("<ip address='2001:db8::1'/>"),
     "no family specified for non-IPv4 address '2001:db8::1' in network 'n'"},
    {"ip_family_mismatch", nat("<ip family='ipv6' address='10.0.0.1'/>"),
     "Family 'ipv6' specified for non-IPv6 address '10.0.0.1' in network 'n'"},
    {"ip_v6_netmask", nat("<ip family='ipv6' address='2001:db8::1' netmask='255.255.255.0'/>"),
     "netmask not allowed for IPv6 address '2001:db8::1' in network 'n'"},
    {"ip_prefix_and_netmask", nat("<ip address='10.0.0.1' netmask='255.0.0.0' prefix='8'/>"),
     "Network 'n' IP address cannot have both a prefix and a netmask"},
    {"ip_prefix_too_big", nat("<ip address='10.0.0.1' prefix='33'/>"), "Invalid IPv4 prefix '33' in network 'n'"},
    {"ip_v6_prefix_too_big", nat("<ip family='ipv6' address='::1' prefix='129'/>"),
     "Invalid IPv6 prefix '129' in network 'n'"},
    {"ip_bad_prefix", nat("<ip address='10.0.0.1' prefix='-1'/>"),
     "Invalid value for attribute 'prefix' in element 'ip': '-1'. Expected non-negative integer value"},
    {"ip_bad_local_ptr", nat("<ip address='10.0.0.1' localPtr='1'/>"),
     "Invalid value for attribute 'localPtr' in element 'ip': '1'."},
    {"tftp_in_v6", v6_ip("<tftp root='/srv'/>"), "Unsupported <tftp> element in an IPv6 element in network 'n'"},
    // <dhcp>
    {"range_no_start", nat_ip("<dhcp><range end='192.168.122.9'/></dhcp>"),
     "Missing 'start' attribute in dhcp range for network 'n'"},
    {"range_no_end", nat_ip("<dhcp><range start='192.168.122.9'/></dhcp>"),
     "Missing 'end' attribute in dhcp range for network 'n'"},
    {"range_outside", nat_ip("<dhcp><range start='10.0.0.10' end='10.0.0.100'/></dhcp>"),
     "range 10.0.0.10 - 10.0.0.100 is not entirely within network 192.168.122.1/24"},
    {"range_reversed", nat_ip("<dhcp><range start='192.168.122.100' end='192.168.122.10'/></dhcp>"),
     "range 192.168.122.100 - 192.168.122.10 is reversed"},
    {"range_network_address", nat_ip("<dhcp><range start='192.168.122.0' end='192.168.122.10'/></dhcp>"),
     "start of range 192.168.122.0 - 192.168.122.10 in network 192.168.122.1/24 is the network address"},
    {"range_broadcast", nat_ip("<dhcp><range start='192.168.122.2' end='192.168.122.255'/></dhcp>"),
     "end of range 192.168.122.2 - 192.168.122.255 in network 192.168.122.1/24 is the broadcast address"},
    {"range_family", nat_ip("<dhcp><range start='192.168.122.2' end='::1'/></dhcp>"),
     "mismatch of address family in range 192.168.122.2 - ::1"},
    {"range_v6_too_large", v6_ip("<dhcp><range start='2001:db8::1:0' end='2001:db8::2:0'/></dhcp>"),
     "range 2001:db8::1:0 - 2001:db8::2:0 is too large (> 65535)"},
    {"range_bad_start", nat_ip("<dhcp><range start='x' end='192.168.122.9'/></dhcp>"),
     "Invalid 'start' address 'x' in dhcp range for network 'n'"},
    {"lease_too_short",
     nat_ip("<dhcp><range start='192.168.122.2' end='192.168.122.9'><lease expiry='100' unit='seconds'/>"
            "</range></dhcp>"),
     "The minimum lease time should be greater than 2 minutes"},
    {"lease_bad_unit",
     nat_ip("<dhcp><range start='192.168.122.2' end='192.168.122.9'><lease expiry='1' unit='days'/>"
            "</range></dhcp>"),
     "Invalid value for attribute 'unit' in element 'lease': 'days'."},
    {"lease_bad_expiry",
     nat_ip("<dhcp><range start='192.168.122.2' end='192.168.122.9'><lease expiry='-5'/></range></dhcp>"),
     "Invalid value for attribute 'expiry' in element 'lease': '-5'. Expected non-negative integer value"},
    {"host_no_ip", nat_ip("<dhcp><host mac='00:16:3e:77:e2:ed'/></dhcp>"),
     "Missing IP address in static host definition for network 'n'"},
    {"host_no_mac_or_name", nat_ip("<dhcp><host ip='192.168.122.10'/></dhcp>"),
     "Static host definition in IPv4 network 'n' must have mac or name attribute"},
    {"host_v6_no_id_or_name", v6_ip("<dhcp><host ip='2001:db8::10'/></dhcp>"),
     "Static host definition in IPv6 network 'n' must have id or name attribute"},
    {"host_v6_mac", v6_ip("<dhcp><host mac='00:16:3e:77:e2:ed' name='a' ip='2001:db8::10'/></dhcp>"),
     "Invalid to specify MAC address '00:16:3e:77:e2:ed' in network 'n' IPv6 static host definition"},
    {"host_bad_mac", nat_ip("<dhcp><host mac='00:16:3e:77:e2' ip='192.168.122.10'/></dhcp>"),
     "Cannot parse MAC address '00:16:3e:77:e2' in network 'n'"},
    {"host_multicast_mac", nat_ip("<dhcp><host mac='01:16:3e:77:e2:ed' ip='192.168.122.10'/></dhcp>"),
     "expected unicast mac address, found multicast '01:16:3e:77:e2:ed' in network 'n'"},
    {"host_bad_id", v6_ip("<dhcp><host id='0:1:zz' ip='2001:db8::10'/></dhcp>"),
     "Invalid character 'z' in id '0:1:zz' of network 'n'"},
    {"host_bad_name", nat_ip("<dhcp><host name='-a' ip='192.168.122.10'/></dhcp>"),
     "Cannot use host name '-a' in network 'n'"},
    {"host_bad_ip", nat_ip("<dhcp><host name='a' ip='192.168.122.300'/></dhcp>"),
     "Invalid IP address in static host definition for network 'n'"},
    {"bootp_no_file", nat_ip("<dhcp><bootp server='1.2.3.4'/></dhcp>"),
     "Missing required attribute 'file' in element 'bootp'"},
    // <dns>
    {"dns_disabled_extra", dns("<txt name='a' value='b'/>", " enable='no'"), "Extra data in disabled network 'n'"},
    {"dns_bad_enable", dns("", " enable='off'"), "Invalid value for attribute 'enable' in element 'dns': 'off'."},
    {"forwarder_empty", dns("<forwarder/>"),
     "Invalid forwarder element, must contain at least one of addr or domain"},
    {"forwarder_bad_addr", dns("<forwarder addr='8.8.8'/>"), "Invalid forwarder IP address '8.8.8' in network 'n'"},
    {"txt_no_name", dns("<txt value='v'/>"), "missing required name attribute in DNS TXT record of network n"},
    {"txt_bad_name", dns("<txt name='a b' value='v'/>"),
     "prohibited character in DNS TXT record name 'a b' of network n"},
    {"txt_no_value", dns("<txt name='a'/>"),
     "missing required value attribute in DNS TXT record named 'a' of network n"},
    {"txt_value_newline", dns("<txt name='a' value='x&#10;dhcp-script=/tmp/p'/>"),
     "invalid line break in DNS TXT record value attribute"},
    {"txt_value_cr", dns("<txt name='a' value='x&#13;y'/>"), "invalid line break in DNS TXT record value attribute"},
    {"srv_no_service", dns("<srv protocol='tcp'/>"),
     "missing required service attribute in DNS SRV record of network 'n'"},
    {"srv_no_protocol", dns("<srv service='ldap'/>"),
     "missing required protocol attribute in DNS SRV record 'ldap' of network 'n'"},
    {"srv_bad_service", dns("<srv service='a.b' protocol='tcp'/>"),
     "invalid character in service attribute 'a.b' in DNS SRV record of network 'n'"},
    {"srv_bad_protocol", dns("<srv service='ldap' protocol='t_cp'/>"),
     "invalid character in protocol attribute 't_cp' in DNS SRV record of network 'n'"},
    {"srv_long_service", dns("<srv service='" + std::string(483, 'a') + "' protocol='tcp'/>"),
     "service attribute '" + std::string(483, 'a') + "' in network 'n' is too long, limit is 482 bytes"},
    {"srv_port_without_target", dns("<srv service='ldap' protocol='tcp' port='389'/>"),
     "DNS SRV port attribute not permitted without target for service 'ldap' in network 'n'"},
    {"srv_bad_port", dns("<srv service='ldap' protocol='tcp' target='t' port='0'/>"),
     "invalid DNS SRV port attribute for service 'ldap' in network 'n'"},
    {"srv_bad_priority", dns("<srv service='ldap' protocol='tcp' target='t' priority='65536'/>"),
     "Invalid DNS SRV priority attribute for service 'ldap' in network 'n'"},
    {"srv_weight_without_target", dns("<srv service='ldap' protocol='tcp' weight='1'/>"),
     "DNS SRV weight attribute not permitted without target for service 'ldap' in network 'n'"},
    {"srv_domain_newline", dns("<srv service='ldap' protocol='tcp' domain='a&#13;b'/>"),
     "invalid line break in DNS SRV record domain attribute"},
    {"srv_target_newline", dns("<srv service='ldap' protocol='tcp' target='a&#10;b'/>"),
     "invalid line break in DNS SRV record target attribute"},
    {"dns_host_no_ip", dns("<host><hostname>a</hostname></host>"),
     "Missing IP address in network 'n' DNS HOST record"},
    {"dns_host_bad_ip", dns("<host ip='1.2.3'><hostname>a</hostname></host>"),
     "Invalid IP address in network 'n' DNS HOST record"},
    {"dns_host_no_hostname", dns("<host ip='1.2.3.4'/>"), "Missing hostname in network 'n' DNS HOST record"},
    {"dns_host_empty_hostname", dns("<host ip='1.2.3.4'><hostname></hostname></host>"),
     "Missing hostname in network 'n' DNS HOST record"},
    // <route>
    {"route_no_gateway", nat_ip("", "<route address='10.1.0.0' prefix='16'/>"),
     "n: Missing required gateway attribute in route definition"},
    {"route_not_network", nat_ip("", "<route address='10.1.0.1' prefix='16' gateway='192.168.122.2'/>"),
     "n: Address '10.1.0.1' in route definition is not a network address"},
    {"route_unreachable", nat_ip("", "<route address='10.1.0.0' prefix='16' gateway='192.168.1.2'/>"),
     "unreachable static route gateway '192.168.1.2' specified for network 'n'"},
    {"route_family", nat_ip("", "<route address='2001:db8::' prefix='64' gateway='192.168.122.2'/>"),
     "n: No family specified for non-IPv4 address '2001:db8::' in route definition"},
    {"route_bad_metric",
     nat_ip("", "<route address='10.1.0.0' prefix='16' gateway='192.168.122.2' metric='0'/>"),
     "n: Invalid metric value, must be > 0 in route definition"},
    {"route_prefix_and_netmask",
     nat_ip("", "<route address='10.1.0.0' prefix='16' netmask='255.255.0.0' gateway='192.168.122.2'/>"),
     "n: Route definition cannot have both a prefix and a netmask"},
    // <vlan>, <bandwidth>, <virtualport>, <portgroup>, <port>
    {"vlan_no_tag", "<network><name>n</name><vlan/></network>",
     "missing tag id - each <vlan> must have at least one <tag id='n'/> subelement"},
    {"vlan_big_tag", "<network><name>n</name><vlan><tag id='4096'/></vlan></network>",
     "vlan tag id 4096 too large (maximum 4095)"},
    {"vlan_bad_tag", "<network><name>n</name><vlan><tag id='x'/></vlan></network>",
     "missing or invalid vlan tag id attribute"},
    {"vlan_trunk_no", "<network><name>n</name><vlan trunk='no'><tag id='1'/><tag id='2'/></vlan></network>",
     "invalid \"trunk='no'\" in <vlan> - trunk='yes' is required for more than one vlan tag"},
    {"vlan_two_native",
     "<network><name>n</name><vlan><tag id='1' nativeMode='tagged'/><tag id='2' nativeMode='untagged'/>"
     "</vlan></network>",
     "duplicate native vlan setting"},
    {"vlan_bad_native", "<network><name>n</name><vlan><tag id='1' nativeMode='x'/></vlan></network>",
     "Invalid \"nativeMode='x'\" in vlan <tag> element"},
    {"bandwidth_floor", nat_ip("", "<bandwidth><inbound average='1' floor='2'/></bandwidth>"),
     "floor attribute is not supported for this config"},
    {"bandwidth_no_average", nat_ip("", "<bandwidth><inbound peak='10'/></bandwidth>"),
     "Missing mandatory average or floor attributes in <inbound>"},
    {"bandwidth_bad_average", nat_ip("", "<bandwidth><outbound average='fast'/></bandwidth>"),
     "could not convert bandwidth average value 'fast' in <outbound>"},
    {"bandwidth_two_inbound",
     nat_ip("", "<bandwidth><inbound average='1'/><inbound average='2'/></bandwidth>"),
     "Only one child <inbound> element allowed"},
    {"bandwidth_class_id", nat_ip("", "<bandwidth classID='3'><inbound average='1'/></bandwidth>"),
     "classID attribute not supported on <bandwidth> in this usage context"},
    {"virtualport_no_type", "<network><name>n</name><forward mode='bridge'/><bridge name='b'/><virtualport/></network>",
     "missing required virtualport type"},
    {"virtualport_bad_type",
     "<network><name>n</name><forward mode='bridge'/><bridge name='b'/><virtualport type='vmware'/></network>",
     "unknown virtualport type vmware"},
    {"virtualport_extra",
     "<network><name>n</name><forward mode='bridge'/><bridge name='b'/><virtualport type='openvswitch'>"
     "<parameters managerid='1'/></virtualport></network>",
     "extra managerid unsupported in <virtualport type='openvswitch'>"},
    {"virtualport_profile_too_long",
     "<network><name>n</name><forward mode='private' dev='e'/><virtualport type='802.1Qbh'><parameters profileid='" +
         std::string(40, 'p') + "'/></virtualport></network>",
     "profileid parameter too long"},
    {"portgroup_no_name", "<network><name>n</name><portgroup/></network>",
     "Missing required name attribute in portgroup"},
    {"port_isolated_bad", "<network><name>n</name><port isolated='1'/></network>",
     "Invalid value for attribute 'isolated' in element 'port': '1'."},
    // dnsmasq:options
    {"dnsmasq_option_no_value",
     "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><name>n</name>"
     "<dnsmasq:options><dnsmasq:option/></dnsmasq:options></network>",
     "No dnsmasq options value specified"},
};

INSTANTIATE_TEST_SUITE_P(All, ParseErrorTest, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

TEST(ParseTest, UnknownElementsAndAttributesAreIgnored) {
  auto r = parse_network_xml(
      "<network foo='bar'><name>n</name><frobnicate/><bridge name='br1' color='red'/></network>", zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->bridge.name, "br1");
}

TEST(ParseTest, FirstCopyWins) {
  auto r = parse_network_xml(
      "<network><name>first</name><name>second</name><bridge name='a'/><bridge name='b'/>"
      "<mac address='52:54:00:00:00:01'/><mac address='52:54:00:00:00:02'/><mtu size='1400'/>"
      "<mtu size='1500'/></network>",
      zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->name, "first");
  EXPECT_EQ(r->bridge.name, "a");
  EXPECT_EQ(r->mac->format(), "52:54:00:00:00:01");
  EXPECT_EQ(r->mtu, 1400u);
}

TEST(ParseTest, RandomUuidComesFromTheRng) {
  uint8_t next = 0;
  RandomBytes counting = [&next](uint8_t* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = next++;
  };
  auto r = parse_network_xml("<network><name>n</name></network>", counting);
  ASSERT_TRUE(r.ok()) << r.error();
  // Version 4 / RFC 4122 variant bits are forced, as virUUIDGenerate does.
  EXPECT_EQ(format_uuid(r->uuid), "00010203-0405-4607-8809-0a0b0c0d0e0f");
}

TEST(ParseTest, ModelOfTheDefaultNetwork) {
  auto r = parse_network_xml(
      "<network><name>default</name><bridge name='virbr0'/><forward/>"
      "<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp>"
      "<range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>",
      zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->forward.mode, ForwardMode::kNat);
  EXPECT_EQ(r->forward.dev, "");
  EXPECT_FALSE(r->forward.nat);
  ASSERT_EQ(r->ips.size(), 1u);
  EXPECT_EQ(effective_prefix(r->ips[0]), 24u);
  ASSERT_TRUE(r->ips[0].dhcp);
  ASSERT_EQ(r->ips[0].dhcp->ranges.size(), 1u);
  EXPECT_EQ(r->ips[0].dhcp->ranges[0].end.format(), "192.168.122.254");
  EXPECT_EQ(r->bridge.stp, TriState::kAbsent);
  EXPECT_EQ(r->dns.enable, TriState::kAbsent);
}

TEST(ParseTest, ForwardDevBecomesTheFirstInterface) {
  auto r = parse_network_xml(
      "<network><name>n</name><forward mode='route' dev='eth1'/><ip address='10.0.0.1' prefix='24'/></network>",
      zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->forward.dev, "eth1");
  ASSERT_EQ(r->forward.interfaces.size(), 1u);
  EXPECT_EQ(r->forward.interfaces[0].dev, "eth1");
}

TEST(ParseTest, NatDetails) {
  auto r = parse_network_xml(
      "<network><name>n</name><forward mode='nat'><nat ipv6='yes'><address start='1.2.3.4' end='1.2.3.10'/>"
      "<port start='1024' end='2047'/></nat></forward><ip address='10.0.0.1' prefix='24'/></network>",
      zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r->forward.nat);
  EXPECT_EQ(r->forward.nat->addr_start->format(), "1.2.3.4");
  EXPECT_EQ(r->forward.nat->addr_end->format(), "1.2.3.10");
  EXPECT_EQ(r->forward.nat->port_start, 1024u);
  EXPECT_EQ(r->forward.nat->port_end, 2047u);
  EXPECT_EQ(r->forward.nat->ipv6, TriState::kYes);
}

TEST(ParseTest, DnsAndLeases) {
  auto r = parse_network_xml(
      "<network><name>n</name><forward/><domain name='example.com' localOnly='yes' register='yes'/>"
      "<dns forwardPlainNames='no'><forwarder addr='8.8.8.8'/><forwarder domain='d'/>"
      "<txt name='t' value='a,b'/><srv service='s' protocol='tcp' target='h' port='1' priority='0'/>"
      "<host ip='10.0.0.5'><hostname>x</hostname><hostname>y</hostname></host></dns>"
      "<ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.10' end='10.0.0.20'>"
      "<lease expiry='2' unit='hours'/></range><host mac='00:16:3E:77:E2:ED' name='h' ip='10.0.0.9'>"
      "<lease expiry='0'/></host></dhcp></ip></network>",
      zero_rng());
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r->domain);
  EXPECT_EQ(r->domain->local_only, TriState::kYes);
  EXPECT_EQ(r->domain->register_, TriState::kYes);
  EXPECT_EQ(r->dns.forward_plain_names, TriState::kNo);
  ASSERT_EQ(r->dns.forwarders.size(), 2u);
  EXPECT_FALSE(r->dns.forwarders[1].addr);
  EXPECT_EQ(r->dns.txts[0].value, "a,b");
  EXPECT_EQ(r->dns.srvs[0].port, 1u);
  EXPECT_EQ(r->dns.srvs[0].priority, 0u);
  EXPECT_FALSE(r->dns.srvs[0].weight);
  EXPECT_EQ(r->dns.hosts[0].hostnames, (std::vector<std::string>{"x", "y"}));
  const DhcpDef& dhcp = *r->ips[0].dhcp;
  EXPECT_EQ(dhcp.ranges[0].lease->seconds(), 7200u);
  EXPECT_EQ(dhcp.hosts[0].mac, "00:16:3E:77:E2:ED");  // verbatim
  EXPECT_EQ(dhcp.hosts[0].lease->expiry, 0u);
}

}  // namespace
}  // namespace vnet::xml
