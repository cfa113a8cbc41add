// ingress_stage: parse, VLAN ingress policy, source MAC checks (gateway MAC
// spoofing included), MTU.
#include "dataplane/mbuf_ops.h"
#include "dataplane/stages/stages.h"

namespace vnet::dp {

void ingress_stage(Burst& b, const StageContext& ctx) noexcept {
  const PortState* in = ctx.snap->port(b.in_port);
  const NetworkState* net = in != nullptr ? ctx.snap->network(in->network) : nullptr;
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!b.pending_l2(i)) continue;
    if (net == nullptr) {
      b.drop(i, DropReason::kNoPort);
      continue;
    }
    rte_mbuf* m = b.pkts[i];
    const net::PacketView v = view_of(m);
    const auto* eth = v.header<net::EtherHdr>(0);
    if (eth == nullptr) {
      b.drop(i, DropReason::kRunt);
      continue;
    }
    if (eth->src.is_multicast()) {
      b.drop(i, DropReason::kSrcMacMulticast);
      continue;
    }
    if (eth->src.is_zero()) {
      b.drop(i, DropReason::kSrcMacZero);
      continue;
    }
    if (net->has_gateway && eth->src == net->gateway_mac && !in->gateway) {
      b.drop(i, DropReason::kGatewayMacSpoofed);
      continue;
    }
    const net::VlanTag* tag = nullptr;
    if (eth->ether_type == net::Be16{net::kEtherTypeVlan}) {
      tag = v.header<net::VlanTag>(net::kEtherHdrSize);
      if (tag == nullptr) {
        b.drop(i, DropReason::kRunt);
        continue;
      }
    }
    PacketMeta& meta = b.meta[i];
    meta.network = in->network;
    meta.pcp = 0;
    size_t l2_size = net::kEtherHdrSize;
    bool pop = false;
    const VlanPolicy& pol = in->vlan;
    switch (pol.mode) {
      case VlanMode::kNone:
        // No VLAN handling: a tag is opaque payload, the frame stays as it is.
        meta.vlan = kNoVlan;
        if (tag != nullptr) l2_size += net::kVlanTagSize;
        break;
      case VlanMode::kAccess:
        if (tag != nullptr && tag->vid() != 0) {
          b.drop(i, DropReason::kVlanNotAllowed);
          continue;
        }
        meta.vlan = pol.access_vlan;
        pop = tag != nullptr;  // priority tag
        break;
      case VlanMode::kTrunk:
        if (tag != nullptr && tag->vid() != 0) {
          if (!pol.allowed.test(tag->vid())) {
            b.drop(i, DropReason::kVlanNotAllowed);
            continue;
          }
          meta.vlan = tag->vid();
        } else {
          if (pol.native_vlan == 0) {
            b.drop(i, DropReason::kVlanNotAllowed);
            continue;
          }
          meta.vlan = pol.native_vlan;
        }
        pop = tag != nullptr;
        break;
      case VlanMode::kGateway:
        // Always one tag here (VID 0 = untagged domain); untagged is tolerated.
        if (tag != nullptr && tag->vid() > net::kVlanIdMax) {
          b.drop(i, DropReason::kVlanNotAllowed);
          continue;
        }
        meta.vlan = tag != nullptr ? tag->vid() : kNoVlan;
        pop = tag != nullptr;
        break;
    }
    if (pop) {
      meta.pcp = tag->pcp();
      if (!vlan_pop(m)) {
        b.drop(i, DropReason::kRunt);
        continue;
      }
    }
    // MTU applies to the L3 payload (IEEE 802.3 MAC client data), RFC 894.
    if (m->pkt_len > l2_size && m->pkt_len - l2_size > net->mtu) {
      b.drop(i, DropReason::kMtuExceeded);
      continue;
    }
  }
}

}  // namespace vnet::dp
