// vnet::uplink — reading an interface's IPv4 address and default gateway from the
// kernel with rtnetlink (NETLINK_ROUTE), for uplinks without <vnet:uplink>.
//
// Theory of operation
//   discover_kernel_ipv4(ifname) resolves the interface index, then runs two dumps
//   on one NETLINK_ROUTE socket of the calling thread's network namespace:
//   * RTM_GETADDR (AF_INET): the first primary address of that index (IFA_LOCAL,
//     else IFA_ADDRESS) and its prefix length;
//   * RTM_GETROUTE (AF_INET): default routes (dst_len 0) of the main table whose
//     output interface is that index (RTA_OIF, or a nexthop of RTA_MULTIPATH) and
//     that have a gateway; the one with the lowest metric (RTA_PRIORITY) wins.
//   Replies are checked for sequence number, port id, NLMSG_ERROR and truncation.
//
// Thread-safety
//   Stateless; each call opens and closes its own socket.
#pragma once

#include <optional>
#include <string>

#include "xml/network_xml.h"

namespace vnet::uplink {

struct KernelIpv4 {
  std::string ifname;
  unsigned ifindex = 0;
  std::optional<xml::IpAddr> address;  // nullopt: the interface has no IPv4 address
  unsigned prefix = 0;
  std::optional<xml::IpAddr> gateway;  // nullopt: no default route through the interface
};

// Errors: no such interface, or netlink itself failing. An interface without an
// address or default route is not an error here (the fields stay nullopt).
xml::Result<KernelIpv4> discover_kernel_ipv4(const std::string& ifname);

}  // namespace vnet::uplink
