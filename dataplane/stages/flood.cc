// flood_replicate: the allowed set, one deep copy per extra target.
#include "dataplane/mbuf_ops.h"
#include "dataplane/stages/stages.h"

namespace vnet::dp {

void flood_replicate(rte_mbuf* m, uint16_t in_port, const PacketMeta& meta,
                     const StageContext& ctx, FloodOut& out) noexcept {
  out.count = 0;
  out.original_consumed = false;
  const PortState* in = ctx.snap->port(in_port);
  const NetworkState* net = ctx.snap->network(meta.network);
  if (in == nullptr || net == nullptr) return;
  std::array<const PortState*, kMaxPorts> targets{};
  uint16_t n = 0;
  for (uint16_t q : net->ports) {
    if (q == in_port) continue;
    const PortState* o = ctx.snap->port(q);
    if (o == nullptr) continue;
    if (in->isolated && o->isolated) continue;
    if (!o->vlan.admits(meta.vlan)) continue;
    targets[n++] = o;
  }
  PortCounters& pc = ctx.counters->ports[in_port];
  // Copies first, from the unedited original; the original goes last.
  for (uint16_t k = 0; k + 1 < n; ++k) {
    rte_mbuf* c = rte_pktmbuf_copy(m, ctx.pool, 0, UINT32_MAX);
    if (c == nullptr) {
      pc.drops.add(DropReason::kCopyFailed);
      continue;
    }
    if (!egress_edit(c, *targets[k], meta)) {
      rte_pktmbuf_free(c);
      pc.drops.add(DropReason::kNoHeadroom);
      continue;
    }
    out.ports[out.count] = targets[k]->port_id;
    out.pkts[out.count++] = c;
  }
  if (n == 0) return;
  if (!egress_edit(m, *targets[n - 1], meta)) {
    pc.drops.add(DropReason::kNoHeadroom);
    return;
  }
  out.ports[out.count] = targets[n - 1]->port_id;
  out.pkts[out.count++] = m;
  out.original_consumed = true;
}

}  // namespace vnet::dp
