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
  misses.to_gateway = 0;
  misses.looked_up = false;
  misses.l2_complete = false;
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
  uint32_t hits = 0, decided = 0, l2_hits = 0;
  uint64_t gateway = UINT64_MAX;  // no frame's 48-bit destination
  if (net->has_gateway) {
    gateway = 0;
    __builtin_memcpy(&gateway, net->gateway_mac.b.data(), 6);
  }
  // Pass 1: key and set of every frame the cache may decide (prefetched).
  // Every frame is still pending here: the cache runs first.
  std::array<FlowCacheSet*, kBurst> sets;
  uint32_t todo = 0, to_gateway = 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    rte_mbuf* m = b.pkts[i];
    if (m->data_len < net::kEtherHdrSize || m->pkt_len > max_len) continue;
    const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
    // Never cached, so not looked up: group destinations (floods).
    uint64_t dst;
    __builtin_memcpy(&dst, d, 8);
    dst &= 0xffffffffffffull;
    if ((dst & 1) != 0) continue;
    if (dst == gateway) to_gateway |= 1u << i;
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
    const FlowCacheDecision e = FlowCache::decision(s, w);
    if (e.touched != tick) {
      ctx.fdb->touch(ctx.worker, e.src_pos);
      FlowCache::set_touched(s, w, tick);
    }
    if ((to_gateway >> i) & 1u) {
      // Ingress and learning done: the frame goes on to the L3 and forward
      // stages with the metadata ingress_stage would have given it.
      b.meta[i] = {in->network, vlan, 0};
      b.l2_done |= 1u << i;
      ++l2_hits;
      continue;
    }
    // meta stays zero: only floods and egress edits read it, and a hit is
    // neither (its tag is pushed right here).
    ++decided;
    if (e.push_tag && !vlan_push(b.pkts[i], vlan, 0)) {
      b.drop(i, DropReason::kNoHeadroom);
      continue;
    }
    b.verdicts[i] = {Action::kForward, DropReason::kNoPort, e.out_port};
    ++hits;
  }
  hits += l2_hits;
  ctx.counters->ports[b.in_port].flow_cache_hits.add(hits);  // reset with the port's counters
  ctx.counters->fc_hits.add(hits);                            // since vnetd started (pmd-stats)
  misses.hits = hits;
  misses.to_gateway = to_gateway;
  if (decided + l2_hits == b.count) misses.l2_complete = true;
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
  uint32_t inserted = 0, declined = 0;
  uint32_t todo = misses.mask;  // never a group destination (see the lookup)
  while (todo != 0) {
    const auto i = static_cast<uint16_t>(__builtin_ctz(todo));
    todo &= todo - 1;
    if ((misses.to_gateway >> i) & 1u) {
      // Through ingress and learning whatever the L3 stages then did with it
      // (a frame ingress drops never has its source learned).
      if ((b.src_known & (1u << i)) == 0 || b.meta[i].vlan != vlan) continue;
      if (fc->insert(*misses.set[i], misses.key[i], {b.src_pos[i], net->gateway_port, false, tick}) < 0)
        ++declined;
      else
        ++inserted;
      continue;
    }
    const Verdict& v = b.verdicts[i];
    if (v.action != Action::kForward) continue;
    const PortState* out = ctx.snap->port(v.out_port);
    if (out == nullptr || out->uplink || out->gateway || out->network != in->network) continue;
    if ((b.src_known & (1u << i)) == 0) continue;  // source not learned here (yet)
    if (b.meta[i].vlan != vlan) continue;  // not what a hit would tag
    if (fc->insert(*misses.set[i], misses.key[i], {b.src_pos[i], v.out_port, out->vlan.egress_tagged(vlan), tick}) < 0)
      ++declined;
    else
      ++inserted;
  }
  ctx.counters->fc_inserts.add(inserted);
  ctx.counters->fc_declined.add(declined);
  if (fc->account(misses.hits, misses.hits + inserted + declined)) ctx.counters->fc_bypasses.add();
}

}  // namespace vnet::dp
