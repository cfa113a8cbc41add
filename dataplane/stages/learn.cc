// learn_stage: touch known source MACs, post LearnEvents for new or moved ones.
#include "dataplane/mbuf_ops.h"
#include "dataplane/stages/stages.h"

namespace vnet::dp {

void learn_stage(Burst& b, const StageContext& ctx) noexcept {
  if (ctx.learn_ring == nullptr) return;
  PortCounters& pc = ctx.counters->ports[b.in_port];
  LearnEvent last{};
  bool have_last = false;
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!b.pending(i)) continue;
    const auto* eth = view_of(b.pkts[i]).header<net::EtherHdr>(0);
    if (eth == nullptr) continue;  // ingress_stage already dropped it
    const FdbKey key{b.meta[i].network, b.meta[i].vlan, eth->src, 0};
    uint16_t port = 0;
    const int32_t pos = ctx.fdb->lookup(key, &port);
    if (pos >= 0 && port == b.in_port) {
      ctx.fdb->touch(ctx.worker, pos, ctx.now_ns);
      continue;
    }
    // Consecutive frames from one new MAC: one event per burst is enough.
    if (have_last && last.key == key) continue;
    last = LearnEvent{key, b.in_port, 0};
    have_last = true;
    if (ctx.learn_filter != nullptr &&
        ctx.learn_filter->pending(key, b.in_port, ctx.learn_ring->count()))
      continue;
    if (!ctx.learn_ring->push(last)) {
      pc.drops.add(DropReason::kLearnRingFull);
      continue;
    }
    if (ctx.learn_filter != nullptr) ctx.learn_filter->record(key, b.in_port);
  }
}

}  // namespace vnet::dp
