#include "dataplane/snapshot.h"

#include <algorithm>

#include "dataplane/clock.h"
#include "dataplane/net/ether.h"

namespace vnet::dp {

const char* l3_mode_name(L3Mode m) noexcept {
  switch (m) {
    case L3Mode::kNat: return "nat";
    case L3Mode::kRoute: return "route";
    case L3Mode::kOpen: return "open";
  }
  return "unknown";
}

const char* port_kind_name(PortKind k) noexcept {
  switch (k) {
    case PortKind::kVhostServer: return "vhostuser-server";
    case PortKind::kVhostClient: return "vhostuser-client";
    case PortKind::kTap: return "tap";
    case PortKind::kAfPacket: return "afpacket";
    case PortKind::kAfXdp: return "afxdp";
    case PortKind::kRing: return "ring";
    case PortKind::kEthdev: return "ethdev";
    case PortKind::kPci: return "pci";
  }
  return "unknown";
}

Result<VlanPolicy> make_vlan_policy(const VlanConfig& c) {
  VlanPolicy p;
  if (c.tags.empty()) {
    if (c.trunk || c.native_mode != NativeMode::kNone)
      return Status{StatusCode::kInvalidArgument, "vlan: trunk/nativeMode without tags"};
    return p;
  }
  for (uint16_t t : c.tags)
    if (t == 0 || t > net::kVlanIdMax)
      return Status{StatusCode::kInvalidArgument, "vlan: tag " + std::to_string(t) + " not in 1..4094"};
  if (c.tags.size() == 1 && !c.trunk && c.native_mode == NativeMode::kNone) {
    p.mode = VlanMode::kAccess;
    p.access_vlan = c.tags[0];
    return p;
  }
  p.mode = VlanMode::kTrunk;
  for (uint16_t t : c.tags) p.allowed.set(t);
  if (c.native_mode != NativeMode::kNone) {
    if (std::find(c.tags.begin(), c.tags.end(), c.native_tag) == c.tags.end())
      return Status{StatusCode::kInvalidArgument, "vlan: native tag is not one of the tags"};
    p.native_vlan = c.native_tag;
    p.native_tagged = c.native_mode == NativeMode::kTagged;
  }
  return p;
}

Result<std::unique_ptr<const ConfigSnapshot>> build_snapshot(
    uint64_t generation, uint16_t worker_count, std::span<const SnapshotNetworkInput> networks,
    std::span<const SnapshotPortInput> ports) {
  if (worker_count == 0 || worker_count > kMaxWorkers)
    return Status{StatusCode::kInvalidArgument, "snapshot: bad worker count"};
  auto s = std::make_unique<ConfigSnapshot>();
  s->generation = generation;
  s->worker_count = worker_count;
  s->networks.resize(kMaxNetworks);
  for (const auto& n : networks) {
    if (n.id >= kMaxNetworks) return Status{StatusCode::kInvalidArgument, "snapshot: network id"};
    if (s->networks[n.id].present)
      return Status{StatusCode::kAlreadyExists, "snapshot: duplicate network id"};
    if (n.config.mtu < kMinMtu || n.config.mtu > kMaxMtu)
      return Status{StatusCode::kInvalidArgument,
                    "network " + n.config.name + ": mtu not in 68..9216"};
    NetworkState& ns = s->networks[n.id];
    ns.present = true;
    ns.id = n.id;
    ns.name = n.config.name;
    ns.mtu = n.config.mtu;
    ns.mac_limit = n.config.mac_limit;
    ns.ageing_ns = uint64_t{n.config.ageing_s} * kNsPerSec;
    s->ageing_ns[n.id] = ns.ageing_ns;
    ns.l3 = n.l3;
    // With an uplink, even while not routing (gateway being replaced): its frames go nowhere else.
    if (ns.l3.enabled || ns.l3.neighbors != nullptr) s->l3_networks.push_back(n.id);
  }
  for (const auto& p : ports) {
    if (p.port_id >= kMaxPorts) return Status{StatusCode::kInvalidArgument, "snapshot: port id"};
    if (s->ports[p.port_id].present)
      return Status{StatusCode::kAlreadyExists, "snapshot: duplicate port id"};
    if (p.network >= kMaxNetworks || !s->networks[p.network].present)
      return Status{StatusCode::kNotFound, "port " + p.name + ": unknown network"};
    if (p.worker >= worker_count)
      return Status{StatusCode::kInvalidArgument, "port " + p.name + ": bad worker"};
    auto vlan = make_vlan_policy(p.gateway || p.uplink ? VlanConfig{} : p.vlan);
    if (!vlan) return Status{vlan.status().code(), "port " + p.name + ": " + vlan.status().message()};
    PortState& ps = s->ports[p.port_id];
    ps.present = true;
    ps.port_id = p.port_id;
    ps.network = p.network;
    ps.worker = p.worker;
    ps.isolated = p.isolated && !p.gateway && !p.uplink;
    ps.gateway = p.gateway;
    ps.uplink = p.uplink && !p.gateway;
    ps.vlan = vlan.value();
    ps.name = p.name;
    if (p.gateway) {
      NetworkState& ns = s->networks[p.network];
      if (ns.has_gateway)
        return Status{StatusCode::kAlreadyExists, "network " + ns.name + ": second gateway port"};
      if (p.gateway_mac.is_multicast() || p.gateway_mac.is_zero())
        return Status{StatusCode::kInvalidArgument, "network " + ns.name + ": bad gateway MAC"};
      ps.vlan.mode = VlanMode::kGateway;
      ns.has_gateway = true;
      ns.gateway_port = p.port_id;
      ns.gateway_mac = p.gateway_mac;
    }
    if (ps.uplink) {
      NetworkState& ns = s->networks[p.network];
      if (ns.l3.uplink_port != p.port_id)
        return Status{StatusCode::kInvalidArgument, "network " + ns.name + ": uplink " + p.name +
                                                        " without a matching L3 configuration"};
    } else {
      s->networks[p.network].ports.push_back(p.port_id);
    }
    for (uint16_t q = 0; q < p.rx_queues; ++q) s->rx[p.worker].push_back({p.port_id, q});
  }
  for (auto& n : s->networks) std::sort(n.ports.begin(), n.ports.end());
  for (uint16_t id : s->l3_networks) {
    const NetworkState& ns = s->networks[id];
    const PortState* up = s->port(ns.l3.uplink_port);
    if (ns.l3.enabled && !ns.has_gateway)
      return Status{StatusCode::kInvalidArgument, "network " + ns.name + ": L3 needs a gateway"};
    if (up == nullptr || !up->uplink || up->network != id)
      return Status{StatusCode::kInvalidArgument, "network " + ns.name + ": L3 without its uplink port"};
  }
  return std::unique_ptr<const ConfigSnapshot>(std::move(s));
}

}  // namespace vnet::dp
