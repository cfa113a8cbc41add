// forward_stage: known unicast -> port (isolation, VLAN, egress tag); else flood.
#include "dataplane/mbuf_ops.h"
#include "dataplane/stages/stages.h"

namespace vnet::dp {

bool egress_edit(rte_mbuf* m, const PortState& out, const PacketMeta& meta) noexcept {
  if (!out.vlan.egress_tagged(meta.vlan)) return true;
  return vlan_push(m, meta.vlan, meta.pcp);
}

void forward_stage(Burst& b, const StageContext& ctx) noexcept {
  const PortState* in = ctx.snap->port(b.in_port);
  const NetworkState* net = in != nullptr ? ctx.snap->network(in->network) : nullptr;
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!b.pending(i)) continue;
    if (in == nullptr) {
      b.drop(i, DropReason::kNoPort);
      continue;
    }
    rte_mbuf* m = b.pkts[i];
    const auto* eth = view_of(m).header<net::EtherHdr>(0);
    if (eth == nullptr) {
      b.drop(i, DropReason::kRunt);
      continue;
    }
    if (eth->dst.is_multicast()) {
      b.verdicts[i].action = Action::kFlood;
      continue;
    }
    const PacketMeta& meta = b.meta[i];
    uint16_t out_port = 0;
    if (net != nullptr && net->has_gateway && eth->dst == net->gateway_mac) {
      out_port = net->gateway_port;  // static: no lookup, never flooded
    } else if (ctx.fdb->lookup(FdbKey{meta.network, meta.vlan, eth->dst, 0}, &out_port) < 0) {
      b.verdicts[i].action = Action::kFlood;
      continue;
    }
    if (out_port == b.in_port) {
      b.drop(i, DropReason::kLoop);
      continue;
    }
    const PortState* out = ctx.snap->port(out_port);
    if (out == nullptr || out->network != meta.network) {
      // Stale entry (port removed, flush pending): behave as unknown unicast.
      b.verdicts[i].action = Action::kFlood;
      continue;
    }
    if (in->isolated && out->isolated) {
      b.drop(i, DropReason::kIsolated);
      continue;
    }
    if (!out->vlan.admits(meta.vlan)) {
      b.drop(i, DropReason::kVlanNotAllowed);
      continue;
    }
    if (!egress_edit(m, *out, meta)) {
      b.drop(i, DropReason::kNoHeadroom);
      continue;
    }
    b.verdicts[i] = {Action::kForward, DropReason::kNoPort, out_port};
  }
}

void run_pipeline(Burst& b, const StageContext& ctx) noexcept {
  ingress_stage(b, ctx);
  learn_stage(b, ctx);
  forward_stage(b, ctx);
}

}  // namespace vnet::dp
