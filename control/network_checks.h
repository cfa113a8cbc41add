// vnet::ctl — small views of a NetworkDef that the control plane needs, and the
// checks between networks that libvirt's driver leaves to the host kernel.
//
// Theory of operation
//   libvirt refuses to start a network whose bridge already exists or whose
//   subnet is already routed on the host. vnet owns no kernel bridge and no
//   host routes, so vnetd checks the equivalent itself when a network becomes
//   active (net-start, net-create, autostart, net-update --live): no two active
//   networks may use the same bridge name, and no IPv4/IPv6 subnet of one may
//   overlap a subnet of another (two subnets overlap iff they are equal under
//   the shorter of the two prefixes).
//   The accessors (bridge_name, subnets_of, uuid_string) are the control
//   plane's only window onto the NetworkDef layout, so a change in xml/ is
//   absorbed here.
//
// Thread-safety
//   Pure functions over values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "xml/network_xml.h"

namespace vnet::ctl {

struct Subnet {
  xml::IpAddr network;  // address with the host bits cleared
  unsigned prefix = 0;  // prefix length in bits
  std::string format() const;  // "192.168.122.0/24"
};

std::string uuid_string(const xml::NetworkDef& def);
std::string bridge_name(const xml::NetworkDef& def);  // "" when the network has none
// One entry per <ip> whose prefix is known (explicit, netmask or classful).
std::vector<Subnet> subnets_of(const xml::NetworkDef& def);
bool subnets_overlap(const Subnet& a, const Subnet& b);

// Whether `candidate` may become active next to the already active networks
// `active_others` (which must not include the candidate itself). The error
// names the other network.
xml::Status check_active_conflicts(const xml::NetworkDef& candidate,
                                   const std::vector<const xml::NetworkDef*>& active_others);

}  // namespace vnet::ctl
