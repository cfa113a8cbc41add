// vnet::xml — element parsers shared by parse_network_xml() and
// apply_network_update() (internal to the xml library).
//
// Theory of operation
//   One function per libvirt element parser (virNetworkDHCPHostDefParseXML, …).
//   Each fills its output and returns Status; on error the message is libvirt's,
//   naming the element or attribute and the reason. `partial_ok` is libvirt's
//   partialOkay: the relaxed form net-update uses to match existing entries.
//   check_range() is virSocketAddrGetRange(); route_is_reachable() and the other
//   check_* helpers are the semantic checks the parser runs after reading.
//
// Thread-safety
//   Stateless functions.
#pragma once

#include <libxml/tree.h>

#include <optional>
#include <string>

#include "xml/network_xml.h"

namespace vnet::xml::detail {

// virNetworkIPDefPrefix: like effective_prefix() but -1 when there is none.
int ip_prefix(const IpDef& ip);

// virSocketAddrGetRange(start, end, network, prefix): the number of addresses
// or an error. `network` may be null (NAT address range: only family/order/size).
Result<uint64_t> check_range(const IpAddr& start, const IpAddr& end, const IpAddr* network,
                             int prefix);

Status parse_lease(xmlNode* node, std::optional<Lease>* out);
Status parse_dhcp_range(const std::string& net, const IpDef& ip, xmlNode* node, DhcpRange* out);
Status parse_dhcp_host(const std::string& net, const IpDef& ip, xmlNode* node, DhcpHost* out,
                       bool partial_ok);

struct PartialDnsHost {
  DnsHost host;
  bool has_ip = false;
};
Status parse_dns_host(const std::string& net, xmlNode* node, PartialDnsHost* out, bool partial_ok);
Status parse_dns_srv(const std::string& net, xmlNode* node, DnsSrv* out, bool partial_ok);
struct PartialDnsTxt {
  DnsTxt txt;
  bool has_value = false;
};
Status parse_dns_txt(const std::string& net, xmlNode* node, PartialDnsTxt* out, bool partial_ok);

Status parse_vlan(xmlNode* node, VlanDef* out);
Status parse_bandwidth(xmlNode* node, std::optional<BandwidthDef>* out);
Status parse_virtualport(xmlNode* node, bool require_type, VirtualPortDef* out);
Status parse_portgroup(xmlNode* node, PortgroupDef* out);
Status parse_route(const std::string& net, xmlNode* node, RouteDef* out);
Status parse_ip_element(const std::string& net, xmlNode* node, IpDef* out);
Status parse_dns(const std::string& net, xmlNode* node, DnsDef* out);
Status parse_forward(const std::string& net, xmlNode* node, ForwardDef* out);
// <vnet:uplink/> among the children of <network> (vnet_uplink.cc); at most one.
Status parse_vnet_uplink(const std::string& net, xmlNode* root, std::optional<UplinkDef>* out);

// Semantic checks that libvirt runs in the parser; validate_for_define() runs
// them again on definitions that did not come from the parser.
Status check_route(const std::string& net, const RouteDef& route);
Status check_route_gateways(const NetworkDef& def);
Status check_forward_mode_rules(const NetworkDef& def);
Status check_ip(const std::string& net, const IpDef& ip);
Status check_dns_line_breaks(const DnsDef& dns);
// The per-element rules of <vnet:uplink> (see UplinkDef).
Status check_uplink(const std::string& net, const UplinkDef& up);

// CR or LF anywhere in the string (CVE-2026-61477 checks).
bool has_line_break(const std::string& s);

// "Invalid value for attribute 'A' in element 'E': 'V'." and friends.
std::string invalid_attr(xmlNode* node, const char* attr, const std::string& value);
Status parse_tristate(xmlNode* node, const char* attr, TriState* out);

}  // namespace vnet::xml::detail
