// flow_cache_lookup / flow_cache_insert: the per-worker microflow cache in
// front of the L2 stages (dataplane/flow_cache.h).
#include "dataplane/flow_cache.h"

#include <rte_mbuf.h>

#include <array>

#include "dataplane/mbuf_ops.h"
#include "dataplane/stages/stages.h"

namespace vnet::dp {

namespace {

// The rx port's frames may use the cache: a guest port of a present network.
inline const NetworkState* cacheable_rx(const StageContext& ctx, uint16_t in_port) noexcept {
  const PortState* in = ctx.snap->port(in_port);
  if (in == nullptr || in->uplink || in->gateway) return nullptr;
  return ctx.snap->network(in->network);
}

}  // namespace

bool flow_cache_lookup(Burst& b, const StageContext& ctx, FlowCacheMisses& misses) noexcept {
  misses.mask = 0;
  misses.looked_up = false;
  FlowCache* fc = ctx.flow_cache;
  if (fc == nullptr || b.count == 0 || !fc->active()) return false;
  const NetworkState* net = cacheable_rx(ctx, b.in_port);
  if (net == nullptr) return false;
  misses.looked_up = true;
  const uint32_t max_len = static_cast<uint32_t>(net::kEtherHdrSize) + net->mtu;
  const auto tick = static_cast<uint8_t>(ctx.now_ns >> 30);
  uint32_t hits = 0, decided = 0;
  const uint64_t port_bits = uint64_t{b.in_port} << 48;
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
    uint64_t w0, w1;  // bytes 0..7 and 6..13: destination, source, EtherType
    __builtin_memcpy(&w0, d, 8);
    __builtin_memcpy(&w1, d + 6, 8);
    if (static_cast<uint16_t>(w1 >> 48) == 0x0081) continue;  // 802.1Q tagged: the stages decide
    // Never cached, so not looked up: group destinations (floods) and the
    // gateway's MAC (gateway and routed frames).
    const uint64_t dst = w0 & 0xffffffffffffull;
    if ((dst & 1) != 0 || dst == gateway) continue;
    misses.k_dst[i] = dst | port_bits;
    misses.k_src[i] = (w1 & 0xffffffffffffull) | FlowCache::kValid;
    sets[i] = &fc->set(misses.k_dst[i], misses.k_src[i]);
    todo |= 1u << i;
  }
  // Pass 2: compare; a hit gets its verdict, a miss is noted for the insert.
  while (todo != 0) {
    const auto i = static_cast<uint16_t>(__builtin_ctz(todo));
    todo &= todo - 1;
    FlowCacheEntry* e = fc->find(*sets[i], misses.k_dst[i], misses.k_src[i]);
    if (e == nullptr) {
      misses.mask |= 1u << i;
      misses.set[i] = sets[i];
      continue;
    }
    // meta stays zero: only floods and egress edits read it, and a hit is
    // neither (its tag is pushed right here).
    if (e->touched != tick) {
      ctx.fdb->touch(ctx.worker, e->src_pos);
      e->touched = tick;
    }
    ++decided;
    if (e->push_tag != 0 && !vlan_push(b.pkts[i], e->vlan, 0)) {
      b.drop(i, DropReason::kNoHeadroom);
      continue;
    }
    b.verdicts[i] = {Action::kForward, DropReason::kNoPort, e->out_port};
    ++hits;
  }
  ctx.counters->ports[b.in_port].flow_cache_hits.add(hits);
  misses.hits = hits;
  if (decided != b.count) return false;
  fc->account(hits, hits);  // no insert follows
  return true;
}

void flow_cache_insert(const Burst& b, const StageContext& ctx, const FlowCacheMisses& misses) noexcept {
  FlowCache* fc = ctx.flow_cache;
  const NetworkState* net = fc != nullptr ? cacheable_rx(ctx, b.in_port) : nullptr;
  if (net == nullptr || !misses.looked_up) return;
  uint32_t inserted = 0;
  uint32_t todo = misses.mask;
  while (todo != 0) {
    const auto i = static_cast<uint16_t>(__builtin_ctz(todo));
    todo &= todo - 1;
    const Verdict& v = b.verdicts[i];
    if (v.action != Action::kForward) continue;
    const uint64_t k_dst = misses.k_dst[i];
    const uint64_t k_src = misses.k_src[i];
    net::MacAddr dst;
    __builtin_memcpy(dst.b.data(), &k_dst, 6);
    if (net->has_gateway && dst == net->gateway_mac) continue;  // gateway and routed frames
    const PortState* out = ctx.snap->port(v.out_port);
    if (out == nullptr || out->uplink || out->gateway || out->network != net->id) continue;
    if ((b.src_known & (1u << i)) == 0) continue;  // source not learned here (yet)
    const PacketMeta& meta = b.meta[i];
    FlowCacheEntry& e = FlowCache::insert(*misses.set[i]);
    e.k_dst = k_dst;
    e.k_src = k_src;
    e.epoch = fc->epoch();
    e.src_pos = b.src_pos[i];
    e.out_port = v.out_port;
    e.vlan = meta.vlan;
    e.push_tag = out->vlan.egress_tagged(meta.vlan) ? 1 : 0;
    e.touched = static_cast<uint8_t>(ctx.now_ns >> 30);
    ++inserted;
  }
  fc->account(misses.hits, misses.hits + inserted);
}

}  // namespace vnet::dp
