// forward_stage: known unicast -> port (isolation, VLAN, egress tag); else flood.
#include "dataplane/mbuf_ops.h"
#include "dataplane/stages/stages.h"

namespace vnet::dp {

bool egress_edit(rte_mbuf* m, const PortState& out, const PacketMeta& meta) noexcept {
  if (!out.vlan.egress_tagged(meta.vlan)) return true;
  return vlan_push(m, meta.vlan, meta.pcp);
}

namespace {

// What a known unicast to (out_port, VLAN) becomes: the same for every
// packet of a burst with that pair, so forward_stage computes it once per
// distinct pair (usually once per burst).
struct UnicastDecision {
  Action action = Action::kForward;          // kForward, kFlood or kDrop
  DropReason reason = DropReason::kNoPort;   // kDrop
  bool push_tag = false;                     // kForward: egress 802.1Q tag
};

inline UnicastDecision decide(const StageContext& ctx, const PortState& in, uint16_t in_port,
                              uint16_t out_port, uint16_t network, uint16_t vlan) noexcept {
  if (out_port == in_port) return {Action::kDrop, DropReason::kLoop, false};
  const PortState* out = ctx.snap->port(out_port);
  // Stale entry (port removed, flush pending): behave as unknown unicast.
  if (out == nullptr || out->network != network) return {Action::kFlood, DropReason::kNoPort, false};
  if (in.isolated && out->isolated) return {Action::kDrop, DropReason::kIsolated, false};
  if (!out->vlan.admits(vlan)) return {Action::kDrop, DropReason::kVlanNotAllowed, false};
  return {Action::kForward, DropReason::kNoPort, out->vlan.egress_tagged(vlan)};
}

inline void apply(Burst& b, uint16_t i, const UnicastDecision& d, uint16_t out_port) noexcept {
  switch (d.action) {
    case Action::kForward: {
      const PacketMeta& meta = b.meta[i];
      if (d.push_tag && !vlan_push(b.pkts[i], meta.vlan, meta.pcp)) {
        b.drop(i, DropReason::kNoHeadroom);
        return;
      }
      b.verdicts[i] = {Action::kForward, DropReason::kNoPort, out_port};
      return;
    }
    case Action::kDrop:
      b.drop(i, d.reason);
      return;
    default:
      b.verdicts[i].action = Action::kFlood;
      return;
  }
}

}  // namespace

void forward_stage(Burst& b, const StageContext& ctx) noexcept {
  static_assert(kBurst <= 32, "one bit per packet");
  const PortState* in = ctx.snap->port(b.in_port);
  const NetworkState* net = in != nullptr ? ctx.snap->network(in->network) : nullptr;
  const bool gateway = net != nullptr && net->has_gateway;
  // Pass 1: decide what needs no lookup, probe the destination of the rest
  // (prefetches its first line).
  std::array<FdbProbe, kBurst> probes;
  uint32_t todo = 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!b.pending(i)) continue;
    if (in == nullptr) {
      b.drop(i, DropReason::kNoPort);
      continue;
    }
    const auto* eth = view_of(b.pkts[i]).header<net::EtherHdr>(0);
    if (eth == nullptr) {
      b.drop(i, DropReason::kRunt);
      continue;
    }
    if (eth->dst.is_multicast()) {
      b.verdicts[i].action = Action::kFlood;
      continue;
    }
    if (gateway && eth->dst == net->gateway_mac) {
      // Static: no lookup, never flooded.
      apply(b, i, decide(ctx, *in, b.in_port, net->gateway_port, b.meta[i].network, b.meta[i].vlan),
            net->gateway_port);
      continue;
    }
    probes[i] = ctx.fdb->probe(FdbKey{b.meta[i].network, b.meta[i].vlan, eth->dst, 0});
    todo |= 1u << i;
  }
  // Pass 2: resolve (Fdb::find_burst: the prefetched line first).
  uint64_t cached_key = UINT64_MAX;  // network << 32 | out_port << 16 | vlan of `cached`
  UnicastDecision cached;
  auto resolve = [&](uint16_t i, int32_t pos, uint16_t out_port) {
    if (pos < 0) {
      b.verdicts[i].action = Action::kFlood;
      return;
    }
    const PacketMeta& meta = b.meta[i];
    const uint64_t k = uint64_t{meta.network} << 32 | uint64_t{out_port} << 16 | meta.vlan;
    if (k != cached_key) {
      cached = decide(ctx, *in, b.in_port, out_port, meta.network, meta.vlan);
      cached_key = k;
    }
    apply(b, i, cached, out_port);
  };
  ctx.fdb->find_burst(probes.data(), todo, resolve);
}

void run_pipeline(Burst& b, const StageContext& ctx) noexcept {
  FlowCacheMisses misses;
  if (flow_cache_lookup(b, ctx, misses)) return;  // every frame hit the cache
  const bool l2 = !misses.l2_complete;  // some frame still needs ingress and learning
  if (l2) ingress_stage(b, ctx);
  l3_uplink_stage(b, ctx);
  if (l2) learn_stage(b, ctx);
  l3_route_stage(b, ctx);
  forward_stage(b, ctx);
  flow_cache_insert(b, ctx, misses);
}

}  // namespace vnet::dp
