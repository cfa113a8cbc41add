// vnet::ctl — a network port as the control plane keeps it, and what
// vnetctl shows about it.
//
// Theory of operation
//   PortConfig is what `vnetctl port-add` asked for, with every default
//   filled in (name, socket path, MAC) so that re-adding it after a restart
//   gives the guest the very same socket and MAC. It is persisted in
//   STATE/ports/NET.json (port_store.h) and handed to the NetworkRuntime.
//     type vhostuser  mode server: vnetd creates `path` (default
//                     RUN/NET/NAME.sock, mode 0660, owner/group when given);
//                     QEMU connects as a client.
//                     mode client: QEMU owns `path` (started with server=on)
//                     and vnetd connects, reconnecting when either restarts.
//     type tap        a kernel TAP interface `ifname` on the network.
//     type afpacket   an existing kernel interface `ifname` (e.g. a veth end).
//     type afxdp      the same through an AF_XDP socket (faster; the kernel
//                     does not reassemble IPv4 fragments on the way, as DPDK's
//                     af_packet driver makes it do).
//   Port names are unique within a network (the default socket path is per
//   network too); socket paths and interface names are unique on the host.
//   complete_port() applies the defaults and checks one request on its own;
//   the checks against other ports are PortService's (port_service.h).
//   qemu_args()/libvirt_interface_xml() print how a guest attaches to a
//   vhost-user port; "mode" there is QEMU's side, the opposite of ours.
//
// Thread-safety
//   Plain values and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xml/network_xml.h"

namespace vnet::ctl {

enum class PortType : uint8_t { kVhostUser, kTap, kAfPacket, kAfXdp };
enum class VhostMode : uint8_t { kServer, kClient };

inline constexpr unsigned kMaxPortQueues = 16;
inline constexpr size_t kMaxPortNameLength = 64;

const char* port_type_name(PortType t);
const char* vhost_mode_name(VhostMode m);

struct PortConfig {
  std::string name;                        // unique in its network: [A-Za-z0-9_.-], 1..64
  PortType type = PortType::kVhostUser;
  VhostMode mode = VhostMode::kServer;     // vhostuser only, vnetd's side
  std::string path;                        // vhostuser: absolute socket path
  unsigned queues = 1;                     // vhostuser: queue pairs offered, 1..16
  std::string owner;                       // vhostuser server: socket owner (user name), "" = keep
  std::string group;                       // vhostuser server: socket group, "" = keep
  std::string ifname;                      // tap / afpacket / afxdp: kernel interface name
  std::string mac;                         // guest MAC for the printed QEMU/libvirt snippets
  // libvirt <interface><source portgroup=''/>, <vlan> and <port isolated=''/>:
  std::string portgroup;                   // "" = the network's default portgroup, if any
  xml::VlanDef vlan;                       // empty = the portgroup's, else the network's <vlan>
  xml::TriState isolated = xml::TriState::kAbsent;  // absent = the network's <port isolated>
  friend bool operator==(const PortConfig&, const PortConfig&) = default;
};

// What a port-add request may leave out, and whether each option was given
// (an option that does not apply to the type is an error, not ignored).
struct PortRequest {
  std::string name;
  std::string type;    // "" = vhostuser
  std::string mode;    // "" = server
  std::string path;
  int queues = -1;     // -1 = not given
  std::string owner;
  std::string group;
  std::string ifname;
  std::string portgroup;  // must name a <portgroup> of the network
  std::string vlan;       // "" = not given; see parse_vlan_spec()
  bool trunk = false;     // --trunk: the tags form a trunk even when there is one
  std::string isolated;   // "", "yes" or "no"
};

// --vlan: comma-separated VLAN ids 1..4094, at most one of them suffixed
// ":untagged" or ":tagged" (the trunk's native VLAN, libvirt nativeMode). One
// plain tag without `trunk` is an access port; several tags, a native tag or
// `trunk` make a trunk. E.g. "42", "10,20", "10:untagged,20,30".
xml::Result<xml::VlanDef> parse_vlan_spec(const std::string& spec, bool trunk);
// The inverse of parse_vlan_spec() ("" for no VLAN); the trunk flag apart.
std::string format_vlan_spec(const xml::VlanDef& vlan);

// The VLAN policy and isolation a port of `def` gets, by libvirt's precedence:
// the port's own <vlan>, else its portgroup's (named, or the default one),
// else the network's; the port's isolation, else the network's.
const xml::VlanDef& effective_vlan(const PortConfig& port, const xml::NetworkDef& def);
bool effective_isolated(const PortConfig& port, const xml::NetworkDef& def);

// Fills defaults and checks one request. `taken_names` are the names already
// used in the network (for the vhostN default); `run_dir` roots default paths.
xml::Result<PortConfig> complete_port(const PortRequest& req, const std::string& network,
                                      const std::string& run_dir, const std::vector<std::string>& taken_names);

bool is_valid_port_name(const std::string& name);
// A locally administered-looking 52:54:00:xx:xx:xx (QEMU's OUI, as libvirt
// uses) derived from network + port name; `salt` > 0 gives another one.
std::string derive_guest_mac(const std::string& network, const std::string& port, unsigned salt = 0);

nlohmann::json to_json(const PortConfig& p);
xml::Result<PortConfig> port_from_json(const nlohmann::json& j);

// QEMU command-line arguments, one option with its value per element, e.g.
// {"-chardev", "socket,id=chr-vhost0,path=/run/vnet/default/vhost0.sock", ...}.
std::vector<std::string> qemu_args(const PortConfig& p);
// <interface type='vhostuser'>...</interface>, two-space indented, ending in '\n'.
std::string libvirt_interface_xml(const PortConfig& p);

// Runtime view of a port (port-list).
struct PortStatus {
  PortConfig config;
  bool running = false;   // present in the running dataplane
  bool link_up = false;   // vhost-user: a guest is connected; tap/afpacket: carrier
  uint64_t macs = 0;      // FDB entries learned on it
  std::string device;     // DPDK device, e.g. net_vhost3
};

// Counters of one port (port-stats).
struct PortCounters {
  std::string name;
  uint64_t rx_packets = 0;  // frames the switch received from the port
  uint64_t rx_bytes = 0;
  uint64_t tx_packets = 0;  // frames the switch sent to the port
  uint64_t tx_bytes = 0;
  uint64_t flow_cache_hits = 0;  // rx frames switched by a PMD's flow cache (no FDB lookups)
  std::map<std::string, uint64_t> drops;  // every named reason, zero or not
};

// A row of fdb-show.
struct FdbRecord {
  std::string port;    // control port name; internal ports (gateway) by their dataplane name
  std::string mac;     // lower-case "52:54:00:12:34:56"
  unsigned vlan = 0;   // 0 = untagged
  bool local = false;  // the network's own address (learned on an internal port)
  uint64_t age_s = 0;  // seconds since last seen
};

// A network's FDB counters, for fdb-stats.
struct FdbCounts {
  uint64_t entries = 0;     // MACs in the table now
  uint64_t learned = 0;     // entries added since the network started
  uint64_t moved = 0;       // entries moved to another port
  uint64_t aged = 0;        // entries removed by ageing
  uint64_t limit_hits = 0;  // stations not learned: MAC limit reached or table full
};

nlohmann::json to_json(const PortStatus& s);
nlohmann::json to_json(const PortCounters& c);
nlohmann::json to_json(const FdbRecord& r);

}  // namespace vnet::ctl
