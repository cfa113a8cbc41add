// learn_stage: touch known source MACs, post LearnEvents for new or moved ones.
#include "dataplane/mbuf_ops.h"
#include "dataplane/stages/stages.h"

namespace vnet::dp {

void learn_stage(Burst& b, const StageContext& ctx) noexcept {
  if (ctx.learn_ring == nullptr) return;
  static_assert(kBurst <= 32, "one bit per packet");
  // Pass 1: build every source key and probe it (prefetches its first line).
  std::array<FdbProbe, kBurst> probes;
  uint32_t todo = 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!b.pending(i)) continue;
    const auto* eth = view_of(b.pkts[i]).header<net::EtherHdr>(0);
    if (eth == nullptr) continue;  // ingress_stage already dropped it
    probes[i] = ctx.fdb->probe(FdbKey{b.meta[i].network, b.meta[i].vlan, eth->src, 0});
    todo |= 1u << i;
  }
  // Pass 2: resolve (Fdb::find_burst: the prefetched line first). Known on
  // this port (the common case): prefetch this worker's seen bit of the
  // entry, touch it in pass 3 and note its position. Unknown or moved: post
  // a learn event.
  PortCounters& pc = ctx.counters->ports[b.in_port];
  std::array<FdbSighting, kBurst> sightings;
  uint32_t touch = 0;
  FdbKey last{};
  bool have_last = false;
  ctx.fdb->find_burst(probes.data(), todo, [&](uint16_t i, int32_t pos, uint16_t port) {
    if (pos >= 0 && port == b.in_port) {
      sightings[i] = ctx.fdb->sighting(ctx.worker, pos);
      touch |= 1u << i;
      b.src_pos[i] = pos;
      return;
    }
    const FdbKey key{b.meta[i].network, b.meta[i].vlan, view_of(b.pkts[i]).header<net::EtherHdr>(0)->src, 0};
    // Consecutive frames from one new MAC: one event per burst is enough.
    if (have_last && last == key) return;
    last = key;
    have_last = true;
    if (ctx.learn_filter != nullptr &&
        ctx.learn_filter->pending(key, b.in_port, ctx.learn_ring->count()))
      return;
    if (!ctx.learn_ring->push(LearnEvent{key, b.in_port, 0})) {
      pc.drops.add(DropReason::kLearnRingFull);
      return;
    }
    if (ctx.learn_filter != nullptr) ctx.learn_filter->record(key, b.in_port);
  });
  // Pass 3: mark the sightings (ageing).
  b.src_known = touch;
  while (touch != 0) {
    const auto i = static_cast<uint16_t>(__builtin_ctz(touch));
    touch &= touch - 1;
    Fdb::touch(sightings[i]);
  }
}

}  // namespace vnet::dp
