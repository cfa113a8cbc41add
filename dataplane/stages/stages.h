// vnet::dp — the L2 switch stages (STYLE 1): each is a noexcept function over
// a Burst that edits headers and writes verdicts, never moves packets.
//
// Theory of operation
//   ingress_stage  parse Ethernet (+802.1Q); drop runts and invalid source
//                  MACs; apply the rx port's VLAN policy (pop the tag, set
//                  meta.vlan); enforce the network MTU on the L3 payload.
//   learn_stage and forward_stage probe the FDB for every packet of the
//                  burst first (hash + prefetch of a bucket line) and resolve
//                  the probes in a second pass, so table cache misses overlap.
//   learn_stage    look the source MAC up in the FDB: same port -> touch the
//                  entry (ageing) and note its position in the burst
//                  (Burst::src_known, for flow_cache_insert); unknown or
//                  moved -> post a LearnEvent to
//                  the slow path (which alone writes the FDB), unless the
//                  worker's LearnFilter says the same event is still queued.
//   forward_stage  broadcast/multicast -> kFlood; known unicast -> kForward
//                  after the isolation and VLAN checks and the egress tag
//                  edit (decided once per distinct out port and VLAN in a
//                  burst); unknown unicast -> kFlood; destination on the rx
//                  port -> drop (loop).
//   flood_replicate (called by dispatch for kFlood) computes the allowed set
//                  — same network, VLAN admitted, not isolated-to-isolated,
//                  not the rx port — and makes one deep copy per extra target
//                  (rte_pktmbuf_copy, so tag edits never touch a shared
//                  buffer), editing each for its port; the original goes to
//                  the last target.
//   l3_uplink_stage / l3_route_stage (l3.cc, see l3.h) run between them:
//                  frames from an uplink port, and guest frames routed off
//                  the network through the gateway MAC.
//   flow_cache_lookup / flow_cache_insert (flow_cache.h) wrap the stages: a
//                  hit in the worker's microflow cache skips them all (a
//                  frame to the gateway's MAC: ingress and learning only).
//   run_pipeline = flow cache lookup, ingress, l3_uplink, learn, l3_route,
//   forward, flow cache insert; dispatch() then frees drops
//   (counting reasons), fills tx buffers, replicates floods, punts.
//
// Thread-safety
//   Called by one worker on its own Burst, TxBuffers and counters; reads the
//   snapshot it loaded for this iteration and the FDB (lock-free reader).
#pragma once

#include <rte_mempool.h>
#include <rte_ring.h>

#include <array>
#include <cstdint>

#include "dataplane/burst.h"
#include "dataplane/events.h"
#include "dataplane/fdb.h"
#include "dataplane/flow_cache.h"
#include "dataplane/l3.h"
#include "dataplane/rings.h"
#include "dataplane/snapshot.h"
#include "dataplane/worker_state.h"

namespace vnet::dp {

struct StageContext {
  const ConfigSnapshot* snap = nullptr;
  Fdb* fdb = nullptr;                          // lookups + this worker's touch()
  uint16_t worker = 0;                         // index: tx queue, FDB seen bitmap
  uint64_t now_ns = 0;                         // read once per loop iteration
  WorkerCounters* counters = nullptr;
  TypedRing<LearnEvent>* learn_ring = nullptr; // to the slow path; null = no learning
  LearnFilter* learn_filter = nullptr;         // this worker's; null = dedupe within a burst only
  rte_mempool* pool = nullptr;                 // flood copies
  rte_ring* punt_ring = nullptr;               // to the slow path; null = none
  TypedRing<ResolveRequest>* resolve_ring = nullptr;  // L3 neighbour misses; null = none
  ResolveFilter* resolve_filter = nullptr;     // this worker's; null = no deduplication
  rte_ring* const* handoff_rings = nullptr;    // L3: per-worker MP/SC rings [worker_count]; null = none
  FlowCache* flow_cache = nullptr;             // this worker's, synced for `snap`; null = off
};

// The frames of a burst that missed the flow cache, with their keys.
struct FlowCacheMisses {
  bool looked_up = false;  // the cache ran for this burst (not bypassed, cacheable rx port)
  uint32_t hits = 0;
  uint32_t mask = 0;
  uint32_t to_gateway = 0;  // frames to the gateway's MAC among those looked up
  bool l2_complete = false;  // every frame either decided or through L2 (Burst::l2_done)
  std::array<FlowCacheKey, kBurst> key;
  std::array<FlowCacheSet*, kBurst> set;  // the frame's set (flow_cache_insert fills a way)
};

// flow_cache.cc (flow_cache.h): hits get their verdict; misses are noted.
// True when every frame of the burst was decided by the cache.
bool flow_cache_lookup(Burst& b, const StageContext& ctx, FlowCacheMisses& misses) noexcept;
// After the stages: caches the misses that became known-unicast forwards.
void flow_cache_insert(const Burst& b, const StageContext& ctx, const FlowCacheMisses& misses) noexcept;

void ingress_stage(Burst& b, const StageContext& ctx) noexcept;
void learn_stage(Burst& b, const StageContext& ctx) noexcept;
void forward_stage(Burst& b, const StageContext& ctx) noexcept;
// L3 (l3.cc): frames from an uplink port / guest frames routed off the network.
void l3_uplink_stage(Burst& b, const StageContext& ctx) noexcept;
void l3_route_stage(Burst& b, const StageContext& ctx) noexcept;
// Once per worker loop: NAT session expiry sweep.
void l3_housekeeping(const StageContext& ctx) noexcept;
// Runs the L3 path over mbufs handed over by other workers (uplink frames
// whose session this worker owns); `in_port` is the uplink they came from.
void l3_handoff_stage(Burst& b, const StageContext& ctx) noexcept;
// Dequeues up to one burst from this worker's handoff ring and runs
// l3_handoff_stage + dispatch over it; returns the packets taken.
uint32_t l3_drain_handoff(rte_ring* ring, Burst& b, const StageContext& ctx, TxBuffers& tx) noexcept;

// ingress + learn + forward.
void run_pipeline(Burst& b, const StageContext& ctx) noexcept;

// Edits a frame leaving through `out` (pushes the 802.1Q tag when needed).
bool egress_edit(rte_mbuf* m, const PortState& out, const PacketMeta& meta) noexcept;

struct FloodOut {
  uint16_t count = 0;
  std::array<uint16_t, kMaxPorts> ports;  // [0, count) are set; no initialiser: dispatch declares one per burst
  std::array<rte_mbuf*, kMaxPorts> pkts;
  bool original_consumed = false;  // false: the caller frees the original
};

// Fills `out` with (port, mbuf) for every allowed target. Copy and edit
// failures are counted on the rx port. Never frees `m`.
void flood_replicate(rte_mbuf* m, uint16_t in_port, const PacketMeta& meta,
                     const StageContext& ctx, FloodOut& out) noexcept;

// Moves every packet of the burst by its verdict.
void dispatch(Burst& b, const StageContext& ctx, TxBuffers& tx) noexcept;

}  // namespace vnet::dp
