// flow_cache_lookup / flow_cache_insert: the per-worker microflow cache in
// front of the L2 stages (dataplane/flow_cache.h).
#include "dataplane/flow_cache.h"

#include <rte_mbuf.h>

#include <array>

#include "dataplane/mbuf_ops.h"
#include "dataplane/stages/stages.h"

namespace vnet::dp {

static_assert(2ull * Fdb::kMaxCapacity <= 1ull << FlowCache::kPosBits, "an entry holds any FDB position");

namespace {

// The rx port's frames may use the cache: a guest port of a present network
// (its network in *net).
inline const PortState* cacheable_rx(const StageContext& ctx, uint16_t in_port, const NetworkState** net) noexcept {
  const PortState* in = ctx.snap->port(in_port);
  if (in == nullptr || in->uplink || in->gateway) return nullptr;
  *net = ctx.snap->network(in->network);
  return *net != nullptr ? in : nullptr;
}

}  // namespace

bool flow_cache_lookup(Burst& b, const StageContext& ctx, FlowCacheMisses& misses) noexcept {
  misses.mask = 0;
  misses.looked_up = false;
  FlowCache* fc = ctx.flow_cache;
  if (fc == nullptr || b.count == 0) return false;
  const NetworkState* net = nullptr;
  const PortState* in = cacheable_rx(ctx, b.in_port, &net);
  if (in == nullptr) return false;
  if (!fc->active()) {
    ctx.counters->fc_bypassed.add(b.count);
    return false;
  }
  misses.looked_up = true;
  const uint32_t max_len = static_cast<uint32_t>(net::kEtherHdrSize) + net->mtu;
  const auto tick = static_cast<uint8_t>((ctx.now_ns >> 30) & FlowCache::kTickMask);
  const uint16_t vlan = in->vlan.untagged_vlan();
  uint32_t hits = 0, decided = 0;
  uint64_t gateway = UINT64_MAX;  // no frame's 48-bit destination
  if (net->has_gateway) {
    gateway = 0;
    __builtin_memcpy(&gateway, net->gateway_mac.b.data(), 6);
  }
  // Pass 1: key and set of every frame the cache may decide (prefetched).
  // Every frame is still pending here: the cache runs first.
  std::array<FlowCacheSet*, kBurst> sets;
  uint32_t todo = 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    rte_mbuf* m = b.pkts[i];
    if (m->data_len < net::kEtherHdrSize || m->pkt_len > max_len) continue;
    const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
    // Never cached, so not looked up: group destinations (floods) and the
    // gateway's MAC (gateway and routed frames).
    uint64_t dst;
    __builtin_memcpy(&dst, d, 8);
    dst &= 0xffffffffffffull;
    if ((dst & 1) != 0 || dst == gateway) continue;
    uint16_t type;
    __builtin_memcpy(&type, d + 12, 2);
    if (type == 0x0081) continue;  // 802.1Q tagged: the stages decide
    const FlowCacheKey k = fc->key(d, b.in_port);
    misses.key[i] = k;
    sets[i] = &fc->set(k);
    todo |= 1u << i;
  }
  ctx.counters->fc_lookups.add(static_cast<uint64_t>(__builtin_popcount(todo)));
  // Pass 2: compare; a hit gets its verdict, a miss is noted for the insert.
  while (todo != 0) {
    const auto i = static_cast<uint16_t>(__builtin_ctz(todo));
    todo &= todo - 1;
    FlowCacheSet& s = *sets[i];
    const int w = FlowCache::find(s, misses.key[i]);
    if (w < 0) {
      misses.mask |= 1u << i;
      misses.set[i] = &s;
      continue;
    }
    // meta stays zero: only floods and egress edits read it, and a hit is
    // neither (its tag is pushed right here).
    const FlowCacheDecision e = FlowCache::decision(s, w);
    if (e.touched != tick) {
      ctx.fdb->touch(ctx.worker, e.src_pos);
      FlowCache::set_touched(s, w, tick);
    }
    ++decided;
    if (e.push_tag && !vlan_push(b.pkts[i], vlan, 0)) {
      b.drop(i, DropReason::kNoHeadroom);
      continue;
    }
    b.verdicts[i] = {Action::kForward, DropReason::kNoPort, e.out_port};
    ++hits;
  }
  ctx.counters->ports[b.in_port].flow_cache_hits.add(hits);  // reset with the port's counters
  ctx.counters->fc_hits.add(hits);                            // since vnetd started (pmd-stats)
  misses.hits = hits;
  if (decided != b.count) return false;
  if (fc->account(hits, hits)) ctx.counters->fc_bypasses.add();  // no insert follows
  return true;
}

void flow_cache_insert(const Burst& b, const StageContext& ctx, const FlowCacheMisses& misses) noexcept {
  FlowCache* fc = ctx.flow_cache;
  if (fc == nullptr || !misses.looked_up) return;
  const NetworkState* net = nullptr;
  const PortState* in = cacheable_rx(ctx, b.in_port, &net);
  if (in == nullptr) return;
  const uint16_t vlan = in->vlan.untagged_vlan();
  const auto tick = static_cast<uint8_t>((ctx.now_ns >> 30) & FlowCache::kTickMask);
  uint32_t inserted = 0;
  uint32_t todo = misses.mask;  // never a group destination or the gateway's MAC (see the lookup)
  while (todo != 0) {
    const auto i = static_cast<uint16_t>(__builtin_ctz(todo));
    todo &= todo - 1;
    const Verdict& v = b.verdicts[i];
    if (v.action != Action::kForward) continue;
    const PortState* out = ctx.snap->port(v.out_port);
    if (out == nullptr || out->uplink || out->gateway || out->network != in->network) continue;
    if ((b.src_known & (1u << i)) == 0) continue;  // source not learned here (yet)
    if (b.meta[i].vlan != vlan) continue;  // not what a hit would tag
    fc->insert(*misses.set[i], misses.key[i], {b.src_pos[i], v.out_port, out->vlan.egress_tagged(vlan), tick});
    ++inserted;
  }
  ctx.counters->fc_inserts.add(inserted);
  if (fc->account(misses.hits, misses.hits + inserted)) ctx.counters->fc_bypasses.add();
}

}  // namespace vnet::dp
