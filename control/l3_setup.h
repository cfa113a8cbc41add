// vnet::ctl — a nat / route / open network's routing towards its uplink, as
// the dataplane's L3Config.
//
// Theory of operation
//   compile_l3() turns the definition and its effective uplink
//   (uplink/uplink_address.h: <vnet:uplink>, else the kernel's address and
//   default route of the uplink device) into a dp::L3Config:
//     mode        <forward mode='nat'|'route'|'open'>
//     inside      every IPv4 <ip address prefix|netmask> (the gateway's
//                 address and the subnet vnet routes for)
//     uplink      the device: a kernel interface is attached with AF_PACKET
//                 (net_af_packet on that interface); the port is named
//                 "NET:uplink" in the dataplane
//     outside     address/prefix/gateway of the effective uplink; the gateway
//                 is the next hop of everything leaving the network
//     nat         <nat><address start end/> (else masquerade to the outside
//                 address) and <nat><port start end/> (else 1024-65535)
//   libvirt checks start < end of the port range only when the network
//   starts (networkxml2firewalltest): so does compile_l3().
//   uplink_plan() decides whether a network gets an uplink at all: an L3
//   network with neither <forward dev> nor a default uplink (vnetd --uplink)
//   runs without one — guests reach each other and the gateway, and frames
//   routed off the network are dropped — which vnetd says in its log.
//
// Thread-safety
//   Pure functions.
#pragma once

#include <optional>
#include <string>

#include "control/uplink/uplink_address.h"
#include "dataplane/config.h"
#include "xml/network_xml.h"

namespace vnet::ctl {

// nat, route and open: the modes that route through an uplink.
bool routes_to_uplink(xml::ForwardMode mode);

// "NET:uplink".
std::string uplink_port_name(const std::string& network);

// The uplink device a network uses: nullopt when it is not an L3 network or
// names no device and there is no default.
std::optional<std::string> uplink_plan(const xml::NetworkDef& def, const std::string& default_uplink);

xml::Result<dp::L3Config> compile_l3(const xml::NetworkDef& def, const uplink::EffectiveUplink& up);

}  // namespace vnet::ctl
