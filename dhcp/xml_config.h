// vnet::dhcp — GatewayConfig from a libvirt network definition.
//
// Theory of operation
//   gateway_config_from_xml() reads an xml::NetworkDef the way libvirt's
//   networkDnsmasqConfContents() does (libvirt-format.md §2) and produces the
//   GatewayConfig whose behaviour matches the dnsmasq that libvirt would run:
//
//     <mac address>                    -> mac (else options.fallback_mac)
//     every <ip>                       -> ipv4[] / ipv6[] with effective prefixes
//     the IPv4 <ip> with ranges/hosts  -> dhcp: "dhcp-range=start,end,mask[,lease]",
//                                         "dhcp-range=<ip>,static" (hosts only),
//                                         dhcp-hostsfile "mac,ip,name[,lease]"
//     no <forward> (isolated)          -> dhcp.send_router = false ("dhcp-option=3"),
//                                         dns.no_resolv ("no-resolv")
//     <dns enable='no'>                -> dns.enabled = false, dhcp.send_dns = false ("port=0")
//     <domain name localOnly register> -> "domain=", "local=/D/", domain_register
//     <dns forwardPlainNames='no'>     -> "domain-needed", "local=//"
//     <forwarder addr domain>          -> "server=addr", "server=/D/addr", "server=/D/#"
//     <host>, <txt>, <srv>             -> addn-hosts (merged by IP), "txt-record", "srv-host"
//     <ip localPtr='yes'>              -> "local=/<reverse zone>/"
//     <mtu size>                       -> "dhcp-option=option:mtu,N"
//     <bootp file server>              -> "dhcp-boot=file[,,server]"
//     sum of all range sizes (v4+v6)   -> "dhcp-lease-max" (0 = dnsmasq's default)
//     <tftp root>                      -> tftp_root (served by TftpServer)
//   IPv6 DHCP ranges count towards dhcp-lease-max but are not served yet, and
//   <dnsmasq:options> lines are not interpreted.
//
// Thread-safety
//   Pure function.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dhcp/gateway.h"
#include "xml/network_model.h"

namespace vnet::dhcp {

struct XmlConfigOptions {
  std::string lease_file;                   // GatewayConfig::lease_file
  std::optional<Mac> fallback_mac;          // when the definition has no <mac>
  std::vector<Upstream> system_resolvers;   // the host's /etc/resolv.conf (parse_resolv_conf)
  std::vector<DnsHostRecord> system_hosts;  // the host's /etc/hosts (parse_hosts_file)
};

// True when libvirt would give the network a host side (an L3 forward mode,
// or none, with at least one <ip>): then it has a gateway.
bool network_has_gateway(const xml::NetworkDef& def);

// The gateway configuration, or nullopt with a one-line `error`.
std::optional<GatewayConfig> gateway_config_from_xml(const xml::NetworkDef& def, const XmlConfigOptions& options,
                                                     std::string& error);

IpAddress to_ip_address(const xml::IpAddr& a);

}  // namespace vnet::dhcp
