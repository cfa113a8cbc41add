// flow_cache_lookup / flow_cache_insert: the per-worker microflow cache in
// front of the L2 stages (dataplane/flow_cache.h).
#include "dataplane/flow_cache.h"

#include <rte_mbuf.h>

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
  FlowCache* fc = ctx.flow_cache;
  if (fc == nullptr || b.count == 0 || !fc->active()) return false;
  const NetworkState* net = cacheable_rx(ctx, b.in_port);
  if (net == nullptr) return false;
  const uint32_t max_len = static_cast<uint32_t>(net::kEtherHdrSize) + net->mtu;
  const uint32_t epoch = fc->epoch();
  const auto tick = static_cast<uint8_t>(ctx.now_ns >> 30);
  uint32_t hits = 0, decided = 0;
  const uint64_t port_bits = uint64_t{b.in_port} << 48;
  // Every frame is still pending here: the cache runs first.
  for (uint16_t i = 0; i < b.count; ++i) {
    rte_mbuf* m = b.pkts[i];
    if (m->data_len < net::kEtherHdrSize || m->pkt_len > max_len) continue;
    const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
    uint64_t w0, w1;  // bytes 0..7 and 6..13: destination, source, EtherType
    __builtin_memcpy(&w0, d, 8);
    __builtin_memcpy(&w1, d + 6, 8);
    if (static_cast<uint16_t>(w1 >> 48) == 0x0081) continue;  // 802.1Q tagged: the stages decide
    const uint64_t k_dst = (w0 & 0xffffffffffffull) | port_bits;
    const uint64_t k_src = (w1 & 0xffffffffffffull) | FlowCache::kValid;
    FlowCacheEntry& e = fc->slot(k_dst, k_src);
    if (((e.k_dst ^ k_dst) | (e.k_src ^ k_src) | (e.epoch ^ epoch)) != 0) {
      misses.mask |= 1u << i;
      misses.k_dst[i] = k_dst;
      misses.k_src[i] = k_src;
      continue;
    }
    // meta stays zero: only floods and egress edits read it, and a hit is
    // neither (its tag is pushed right here).
    if (e.touched != tick) {
      ctx.fdb->touch(ctx.worker, e.src_pos);
      e.touched = tick;
    }
    ++decided;
    if (e.push_tag != 0 && !vlan_push(m, e.vlan, 0)) {
      b.drop(i, DropReason::kNoHeadroom);
      continue;
    }
    b.verdicts[i] = {Action::kForward, DropReason::kNoPort, e.out_port};
    ++hits;
  }
  fc->account(hits, b.count);
  ctx.counters->ports[b.in_port].flow_cache_hits.add(hits);
  return decided == b.count;
}

void flow_cache_insert(const Burst& b, const StageContext& ctx, const FlowCacheMisses& misses) noexcept {
  if (misses.mask == 0) return;
  FlowCache* fc = ctx.flow_cache;
  const NetworkState* net = cacheable_rx(ctx, b.in_port);
  if (fc == nullptr || net == nullptr) return;
  uint32_t todo = misses.mask;
  while (todo != 0) {
    const auto i = static_cast<uint16_t>(__builtin_ctz(todo));
    todo &= todo - 1;
    const Verdict& v = b.verdicts[i];
    if (v.action != Action::kForward) continue;
    const uint64_t k_dst = misses.k_dst[i];
    const uint64_t k_src = misses.k_src[i];
    net::MacAddr dst, src;
    __builtin_memcpy(dst.b.data(), &k_dst, 6);
    __builtin_memcpy(src.b.data(), &k_src, 6);
    if (net->has_gateway && dst == net->gateway_mac) continue;  // gateway and routed frames
    const PortState* out = ctx.snap->port(v.out_port);
    if (out == nullptr || out->uplink || out->gateway || out->network != net->id) continue;
    const PacketMeta& meta = b.meta[i];
    uint16_t src_port = 0;
    const int32_t src_pos = ctx.fdb->lookup(FdbKey{meta.network, meta.vlan, src, 0}, &src_port);
    if (src_pos < 0 || src_port != b.in_port) continue;  // not learned here (yet)
    FlowCacheEntry& e = fc->slot(k_dst, k_src);
    e.k_dst = k_dst;
    e.k_src = k_src;
    e.epoch = fc->epoch();
    e.src_pos = src_pos;
    e.out_port = v.out_port;
    e.vlan = meta.vlan;
    e.push_tag = out->vlan.egress_tagged(meta.vlan) ? 1 : 0;
    e.touched = static_cast<uint8_t>(ctx.now_ns >> 30);
  }
}

}  // namespace vnet::dp
