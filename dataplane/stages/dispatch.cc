// dispatch: moves packets by verdict (STYLE 1).
#include "dataplane/stages/stages.h"

namespace vnet::dp {

void dispatch(Burst& b, const StageContext& ctx, TxBuffers& tx) noexcept {
  PortCounters& pc = ctx.counters->ports[b.in_port];
  FloodOut fo;
  for (uint16_t i = 0; i < b.count; ++i) {
    rte_mbuf* m = b.pkts[i];
    const Verdict& v = b.verdicts[i];
    switch (v.action) {
      case Action::kForward:
        if (ctx.snap->port(v.out_port) != nullptr) {
          tx.enqueue(v.out_port, m, *ctx.counters);
        } else {
          pc.drops.add(DropReason::kNoPort);
          rte_pktmbuf_free(m);
        }
        break;
      case Action::kFlood:
        flood_replicate(m, b.in_port, b.meta[i], ctx, fo);
        for (uint16_t k = 0; k < fo.count; ++k) tx.enqueue(fo.ports[k], fo.pkts[k], *ctx.counters);
        if (!fo.original_consumed) {
          if (fo.count == 0) pc.drops.add(DropReason::kNoFloodTarget);
          rte_pktmbuf_free(m);
        }
        break;
      case Action::kPunt:
        if (ctx.punt_ring == nullptr || rte_ring_enqueue(ctx.punt_ring, m) != 0) {
          pc.drops.add(DropReason::kPuntRingFull);
          rte_pktmbuf_free(m);
        }
        break;
      case Action::kHandoff:
        if (ctx.handoff_rings == nullptr || v.out_port >= ctx.snap->worker_count ||
            rte_ring_enqueue(ctx.handoff_rings[v.out_port], m) != 0) {
          pc.drops.add(DropReason::kHandoffFull);
          rte_pktmbuf_free(m);
        }
        break;
      case Action::kContinue:  // no stage decided: a bug, but never a silent loss
        pc.drops.add(DropReason::kNoPort);
        rte_pktmbuf_free(m);
        break;
      case Action::kDrop:
        pc.drops.add(v.reason);
        rte_pktmbuf_free(m);
        break;
    }
  }
}

}  // namespace vnet::dp
