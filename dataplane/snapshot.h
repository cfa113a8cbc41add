// vnet::dp — the immutable configuration the workers read (STYLE 4).
//
// Theory of operation
//   A ConfigSnapshot is built by the control thread (build_snapshot()) from
//   the facade's model of networks and ports, published through
//   SnapshotPublisher, and never changed afterwards. Workers and the slow
//   path load it once per loop iteration. It holds, per port (indexed by the
//   DPDK port id): network, isolation, VLAN policy and the worker owning its
//   rx queue; per network (indexed by a facade-assigned id): MTU, MAC limit,
//   ageing time and member ports; per worker: the rx queues to poll.
//   State the dataplane mutates (FDB, counters) is not here.
//
//   VLANs (libvirt <vlan>, IEEE 802.1Q): frames carry an internal VLAN in
//   PacketMeta once the rx port's policy admitted them, with the tag removed.
//     kNone   — no <vlan>: internal VLAN 0; tags, if any, stay in the frame
//               as payload (a Linux bridge without vlan_filtering).
//     kAccess — one tag T: untagged or priority-tagged (VID 0) frames enter
//               VLAN T; other tagged frames are dropped; egress untagged.
//     kTrunk  — tags A (+ native N): tagged frames with a VID in A enter that
//               VLAN; untagged frames enter N, or are dropped without N;
//               egress is tagged, except N with nativeMode='untagged'.
//     kGateway — the network's internal gateway port (punt.h): every VLAN,
//               the untagged domain included, crosses it; frames always
//               carry one 802.1Q tag there (VID 0 = the untagged domain), so
//               the slow path strips exactly one tag and learns the VLAN
//               without guessing.
//   Gateway: a network with a punt handler has a gateway port and MAC.
//   Frames to that MAC go straight to the gateway port (no FDB lookup);
//   frames from any other port with that source MAC are dropped
//   (gateway_mac_spoofed), so a guest can neither steal nor move it.
//   L3 (l3.h): a network with set_l3() has an L3State and an uplink port
//   (PortState::uplink): the uplink is polled (rx list) but is not a member
//   of NetworkState::ports, so it is never flooded to; its frames are all
//   decided by l3_uplink_stage. l3_networks lists the networks with an
//   uplink (L3State::neighbors set), routing (l3.enabled) or not.
//
// Thread-safety
//   Immutable once published; read by any thread that holds it between two
//   of its quiescent states.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dataplane/config.h"
#include "dataplane/constants.h"
#include "dataplane/l3.h"
#include "dataplane/net/ether.h"
#include "dataplane/status.h"

namespace vnet::dp {

enum class VlanMode : uint8_t { kNone, kAccess, kTrunk, kGateway };

struct VlanPolicy {
  VlanMode mode = VlanMode::kNone;
  uint16_t access_vlan = 0;          // kAccess
  uint16_t native_vlan = 0;          // kTrunk: 0 = no native VLAN
  bool native_tagged = false;        // kTrunk: egress native VLAN tagged
  std::bitset<kVlanCount> allowed;   // kTrunk: admitted VIDs (incl. native)

  // True when frames of internal VLAN `vlan` may enter or leave this port.
  bool admits(uint16_t vlan) const noexcept {
    switch (mode) {
      case VlanMode::kNone: return vlan == kNoVlan;
      case VlanMode::kAccess: return vlan == access_vlan;
      case VlanMode::kTrunk: return vlan != kNoVlan && allowed.test(vlan);
      case VlanMode::kGateway: return true;
    }
    return false;
  }
  // The internal VLAN of an untagged frame received on this port (ingress_stage;
  // kTrunk without a native VLAN drops such frames).
  uint16_t untagged_vlan() const noexcept {
    switch (mode) {
      case VlanMode::kAccess: return access_vlan;
      case VlanMode::kTrunk: return native_vlan;
      case VlanMode::kNone:
      case VlanMode::kGateway: return kNoVlan;
    }
    return kNoVlan;
  }
  // True when frames of `vlan` leave this port with an 802.1Q tag.
  bool egress_tagged(uint16_t vlan) const noexcept {
    return mode == VlanMode::kGateway ||
           (mode == VlanMode::kTrunk && (vlan != native_vlan || native_tagged));
  }
};

// Validates a libvirt-style VlanConfig.
Result<VlanPolicy> make_vlan_policy(const VlanConfig& config);

struct PortState {
  bool present = false;   // false: no such port in this snapshot
  uint16_t port_id = 0;   // DPDK ethdev port id
  uint16_t network = 0;   // network id
  uint16_t worker = 0;    // worker polling its rx queue
  bool isolated = false;  // libvirt <port isolated='yes'/>
  bool gateway = false;   // the network's internal gateway port
  bool uplink = false;    // the network's L3 uplink (not a member of its ports)
  VlanPolicy vlan;
  std::string name;
};

struct NetworkState {
  bool present = false;
  uint16_t id = 0;
  std::string name;
  uint32_t mtu = 1500;            // bytes of L3 payload
  uint32_t mac_limit = 8192;
  uint64_t ageing_ns = 300ull * 1'000'000'000ull;  // 0 = never
  std::vector<uint16_t> ports;    // member port ids, ascending
  bool has_gateway = false;       // a punt handler is attached
  uint16_t gateway_port = 0;      // has_gateway: its port id
  net::MacAddr gateway_mac;       // has_gateway: static on gateway_port
  L3State l3;                     // l3.enabled: routing to the uplink (l3.h)
};

struct RxQueueRef {
  uint16_t port = 0;
  uint16_t queue = 0;
};

struct ConfigSnapshot {
  uint64_t generation = 0;
  uint16_t worker_count = 1;
  std::array<PortState, kMaxPorts> ports;
  std::vector<NetworkState> networks;  // [kMaxNetworks], indexed by id
  std::array<std::vector<RxQueueRef>, kMaxWorkers> rx;  // per worker
  std::array<uint64_t, kMaxNetworks> ageing_ns{};      // for Fdb::age (0 = absent/never)
  std::vector<uint16_t> l3_networks;                   // ids of networks with an uplink

  const PortState* port(uint16_t id) const noexcept {
    return id < kMaxPorts && ports[id].present ? &ports[id] : nullptr;
  }
  const NetworkState* network(uint16_t id) const noexcept {
    return id < networks.size() && networks[id].present ? &networks[id] : nullptr;
  }
};

// Inputs of build_snapshot(): what the facade knows.
struct SnapshotNetworkInput {
  uint16_t id = 0;
  NetworkConfig config;
  L3State l3{};  // enabled: needs a gateway port and exactly one uplink port in the network
};
struct SnapshotPortInput {
  uint16_t port_id = 0;
  std::string name;
  uint16_t network = 0;
  uint16_t worker = 0;
  uint16_t rx_queues = 1;
  bool isolated = false;
  VlanConfig vlan;
  bool gateway = false;      // the network's gateway port (vlan ignored, never isolated)
  net::MacAddr gateway_mac;  // gateway only
  bool uplink = false;       // the network's L3 uplink (vlan ignored, never isolated)
};

// Validates and builds a snapshot. Fails (and builds nothing) on a bad VLAN,
// MTU, duplicate id, port in an unknown network, or worker >= worker_count.
Result<std::unique_ptr<const ConfigSnapshot>> build_snapshot(
    uint64_t generation, uint16_t worker_count, std::span<const SnapshotNetworkInput> networks,
    std::span<const SnapshotPortInput> ports);

}  // namespace vnet::dp
