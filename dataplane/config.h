// vnet::dp — plain configuration structs the control plane hands to the dataplane.
//
// Theory of operation
//   These mirror the parts of a libvirt <network> and <interface>/<port> that
//   the L2 switch needs, without depending on xml/: control/ translates a
//   NetworkDef into a NetworkConfig and a port request into a PortSpec.
//   VlanConfig follows libvirt's <vlan> element: no tags = no VLAN handling;
//   one tag without trunk='yes' = access port; several tags or trunk='yes' =
//   trunk, where at most one tag has nativeMode='tagged'|'untagged'.
//   L3Config is a network's routing to the outside (libvirt <forward
//   mode='nat'|'route'|'open'>): the inside subnets, the uplink port and its
//   address, and the NAT ranges (dataplane.h set_l3()).
//
// Thread-safety
//   Plain values, used by the control thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vnet::dp {

struct NetworkConfig {
  std::string name;           // unique; libvirt network name
  uint32_t mtu = 1500;        // bytes of L3 payload; 68..9216
  uint32_t mac_limit = 8192;  // FDB entries of this network
  uint32_t ageing_s = 300;    // FDB ageing time, seconds; 0 = never age
};

enum class NativeMode : uint8_t { kNone, kTagged, kUntagged };

struct VlanConfig {
  std::vector<uint16_t> tags;  // VLAN ids 1..4094
  bool trunk = false;          // libvirt trunk='yes'
  uint16_t native_tag = 0;     // with native_mode != kNone: one of tags
  NativeMode native_mode = NativeMode::kNone;
};

enum class PortKind : uint8_t {
  kVhostServer,  // vnetd creates the vhost-user socket (QEMU is the client)
  kVhostClient,  // QEMU is the server; net_vhost reconnects
  kTap,          // net_tap, iface = ifname
  kAfPacket,     // net_af_packet, iface = ifname (an existing kernel interface)
  kAfXdp,        // net_af_xdp, iface = ifname, its queues from 0 (an existing kernel interface)
  kRing,         // a pair of rte_rings (tests, the future gateway port)
  kEthdev,       // an ethdev the caller already created (e.g. rte_eth_from_ring)
  kPci,          // a PCI NIC/VF already bound to vfio-pci, hot-plugged by address (pci_address)
};

const char* port_kind_name(PortKind k) noexcept;

struct PortSpec {
  std::string name;            // unique across networks, e.g. "vm1-eth0"
  PortKind kind = PortKind::kVhostServer;
  std::string path;            // vhost-user socket; empty = <run_dir>/<network>/<name>.sock
  std::string ifname;          // tap / af_packet / af_xdp interface name
  std::string pci_address;     // kPci: full PCI address, e.g. "0000:03:00.0"
  uint16_t queues = 1;         // vhost-user queue pairs offered
  uint16_t ethdev_port = 0;    // kEthdev: existing port id (not detached on removal)
  bool isolated = false;       // libvirt <port isolated='yes'/>
  VlanConfig vlan;
  // vhost-user server socket ownership, applied right after the socket is
  // created (so QEMU running as another user can connect); unset = unchanged.
  std::optional<uint32_t> socket_uid;   // chown owner
  std::optional<uint32_t> socket_gid;   // chown group
  std::optional<uint32_t> socket_mode;  // chmod permission bits, e.g. 0660
};

// libvirt <forward mode=...> for the L3 path (dataplane/l3.h).
enum class L3Mode : uint8_t { kNat, kRoute, kOpen };

const char* l3_mode_name(L3Mode m) noexcept;

struct Ipv4Prefix {
  uint32_t addr = 0;   // host order; our (the gateway's) address in the subnet
  uint8_t prefix = 0;  // 0..32
};

struct L3Config {
  L3Mode mode = L3Mode::kNat;
  std::vector<Ipv4Prefix> inside;  // the network's IPv4 <ip>s: gateway address + prefix
  PortSpec uplink;                 // kAfPacket / kTap / kEthdev, its own name (e.g. "<net>-uplink");
                                   // not listed by list_ports(network)
  uint32_t outside_ip = 0;         // our address on the uplink, host order
  uint8_t outside_prefix = 24;
  uint32_t next_hop = 0;           // default gateway on the uplink; 0 = destinations are on-link
  // mode nat (libvirt <nat><address start end/><port start end/>); addr_first 0 = masquerade
  // (outside_ip)
  uint32_t nat_addr_first = 0, nat_addr_last = 0;
  uint16_t nat_port_first = 1024, nat_port_last = 65535;
  uint32_t nat_sessions = 262144;  // session table capacity per worker
};

}  // namespace vnet::dp
