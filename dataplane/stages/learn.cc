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
  // Pass 2: resolve in the line each probe prefetched. Known on this port
  // (the common case): prefetch this worker's seen bit of the entry and
  // touch it in pass 4. Not there: prefetch the key's other lines (pass 3).
  PortCounters& pc = ctx.counters->ports[b.in_port];
  std::array<FdbSighting, kBurst> sightings;
  uint32_t touch = 0;
  uint32_t rest = 0;
  while (todo != 0) {
    const auto i = static_cast<uint16_t>(__builtin_ctz(todo));
    todo &= todo - 1;
    uint16_t port = 0;
    const int32_t pos = ctx.fdb->find_first(probes[i], &port);
    if (pos < 0) {
      ctx.fdb->probe_rest(probes[i]);
      rest |= 1u << i;
    } else if (port == b.in_port) {
      sightings[i] = ctx.fdb->sighting(ctx.worker, pos);
      touch |= 1u << i;
      b.src_pos[i] = pos;
    } else {
      rest |= 1u << i;  // moved: pass 3 posts the event
    }
  }
  // Pass 3: the rest — in another line, moved, or new.
  FdbKey last{};
  bool have_last = false;
  while (rest != 0) {
    const auto i = static_cast<uint16_t>(__builtin_ctz(rest));
    rest &= rest - 1;
    uint16_t port = 0;
    const int32_t pos = ctx.fdb->find(probes[i], &port);
    if (pos >= 0 && port == b.in_port) {
      sightings[i] = ctx.fdb->sighting(ctx.worker, pos);
      touch |= 1u << i;
      b.src_pos[i] = pos;
      continue;
    }
    const FdbKey key{b.meta[i].network, b.meta[i].vlan, view_of(b.pkts[i]).header<net::EtherHdr>(0)->src, 0};
    // Consecutive frames from one new MAC: one event per burst is enough.
    if (have_last && last == key) continue;
    last = key;
    have_last = true;
    if (ctx.learn_filter != nullptr &&
        ctx.learn_filter->pending(key, b.in_port, ctx.learn_ring->count()))
      continue;
    if (!ctx.learn_ring->push(LearnEvent{key, b.in_port, 0})) {
      pc.drops.add(DropReason::kLearnRingFull);
      continue;
    }
    if (ctx.learn_filter != nullptr) ctx.learn_filter->record(key, b.in_port);
  }
  // Pass 4: mark the sightings (ageing).
  b.src_known = touch;
  while (touch != 0) {
    const auto i = static_cast<uint16_t>(__builtin_ctz(touch));
    touch &= touch - 1;
    Fdb::touch(sightings[i]);
  }
}

}  // namespace vnet::dp
