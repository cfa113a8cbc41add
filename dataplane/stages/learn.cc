// learn_stage: touch known source MACs, post LearnEvents for new or moved ones.
#include "dataplane/mbuf_ops.h"
#include "dataplane/stages/stages.h"

namespace vnet::dp {

void learn_stage(Burst& b, const StageContext& ctx) noexcept {
  if (ctx.learn_ring == nullptr) return;
  static_assert(kBurst <= 32, "one bit per packet");
  // Pass 1: build every source key and probe it (prefetches its first line).
  // A frame from the same source as the previous probed one (a guest's
  // routed traffic, one conversation's burst) takes that frame's outcome
  // instead of a lookup of its own.
  std::array<FdbProbe, kBurst> probes;
  std::array<uint8_t, kBurst> same_as;
  uint32_t todo = 0;
  uint32_t repeats = 0;
  FdbKey prev_key{};
  uint16_t prev = kBurst;
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!b.pending_l2(i)) continue;
    const auto* eth = view_of(b.pkts[i]).header<net::EtherHdr>(0);
    if (eth == nullptr) continue;  // ingress_stage already dropped it
    const FdbKey key{b.meta[i].network, b.meta[i].vlan, eth->src, 0};
    if (prev != kBurst && key == prev_key) {
      same_as[i] = static_cast<uint8_t>(prev);
      repeats |= 1u << i;
      continue;
    }
    probes[i] = ctx.fdb->probe(key);
    todo |= 1u << i;
    prev = i;
    prev_key = key;
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
  // Pass 3: mark the sightings (ageing), once per source; repeated sources
  // share their first frame's position.
  b.src_known = touch;
  while (repeats != 0) {
    const auto i = static_cast<uint16_t>(__builtin_ctz(repeats));
    repeats &= repeats - 1;
    const uint16_t j = same_as[i];
    if ((touch & (1u << j)) == 0) continue;
    b.src_known |= 1u << i;
    b.src_pos[i] = b.src_pos[j];
  }
  while (touch != 0) {
    const auto i = static_cast<uint16_t>(__builtin_ctz(touch));
    touch &= touch - 1;
    Fdb::touch(sightings[i]);
  }
}

}  // namespace vnet::dp
