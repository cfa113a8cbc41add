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
//                 (net_af_packet on that interface); a <vnet:uplink
//                 type='vhostuser'> is a vhost-user port (server or client)
//                 on its path, default <run_dir>/NET/uplink.sock
//                 (L3Options.run_dir); the port is named "NET:uplink" in the
//                 dataplane
//     sessions    the NAT session table's capacity per worker
//                 (L3Options.nat_sessions, vnetd --nat-sessions)
//     outside     address/prefix/gateway of the effective uplink; the gateway
//                 is the next hop of everything leaving the network
//     nat         <nat><address start end/> (else masquerade to the outside
//                 address) and <nat><port start end/> (else 1024-65535)
//   libvirt checks start < end of the port range only when the network
//   starts (networkxml2firewalltest): so does compile_l3().
//   uplink_plan() decides whether a network gets an uplink at all: a
//   vhost-user uplink always exists (its socket); an L3 network with neither
//   <forward dev> nor a default uplink (vnetd --uplink) runs without one — guests reach each other and the gateway, and frames
//   routed off the network are dropped — which vnetd says in its log.
//
// Thread-safety
//   Pure functions.
#pragma once

#include <cstdint>
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

// What vnetd chooses for every L3 network (vnetd options).
struct L3Options {
  std::string run_dir = "/run/vnet";  // default vhost-user uplink sockets live under it
  uint32_t nat_sessions = 262144;     // session table capacity per worker
  bool pci = false;                   // DPDK runs with the PCI bus (vnetd --pci): PCI uplinks possible
  std::string sysfs_root = "/sys";    // where the vfio-pci binder works (vnetd --sysfs-root)
};

inline constexpr uint32_t kMinNatSessions = 1024;
inline constexpr uint32_t kMaxNatSessions = 16777216;

// "<run_dir>/NET/uplink.sock": a vhost-user uplink's socket when <vnet:uplink> has no path.
std::string default_uplink_socket(const std::string& run_dir, const std::string& network);

// The uplink a network uses, for messages: the device name, or "vhostuser:PATH"
// ("vhostuser" when the path is the default); nullopt when it is not an L3
// network or names no device and there is no default.
std::optional<std::string> uplink_plan(const xml::NetworkDef& def, const std::string& default_uplink);

xml::Result<dp::L3Config> compile_l3(const xml::NetworkDef& def, const uplink::EffectiveUplink& up,
                                     const L3Options& options = {});

}  // namespace vnet::ctl
