// vnet::dp — plain configuration structs the control plane hands to the dataplane.
//
// Theory of operation
//   These mirror the parts of a libvirt <network> and <interface>/<port> that
//   the L2 switch needs, without depending on xml/: control/ translates a
//   NetworkDef into a NetworkConfig and a port request into a PortSpec.
//   VlanConfig follows libvirt's <vlan> element: no tags = no VLAN handling;
//   one tag without trunk='yes' = access port; several tags or trunk='yes' =
//   trunk, where at most one tag has nativeMode='tagged'|'untagged'.
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
  kRing,         // a pair of rte_rings (tests, the future gateway port)
  kEthdev,       // an ethdev the caller already created (e.g. rte_eth_from_ring)
};

const char* port_kind_name(PortKind k) noexcept;

struct PortSpec {
  std::string name;            // unique across networks, e.g. "vm1-eth0"
  PortKind kind = PortKind::kVhostServer;
  std::string path;            // vhost-user socket; empty = <run_dir>/<network>/<name>.sock
  std::string ifname;          // tap / af_packet interface name
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

}  // namespace vnet::dp
