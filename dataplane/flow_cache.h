// vnet::dp — a per-worker microflow cache in front of the L2 stages.
//
// Theory of operation
//   Most frames of a burst belong to a few conversations between stations the
//   switch already knows. For an untagged known-unicast frame the whole L2
//   pipeline (ingress VLAN policy, source learning, destination lookup,
//   isolation and VLAN decisions) is a function of (rx port, source MAC,
//   destination MAC) and of two versions: the configuration snapshot's
//   generation and the FDB's version, which the FDB writer bumps whenever a
//   MAC moves or is removed (an addition cannot change a known-unicast
//   decision). The cache maps that key to the decision: kSets sets of two
//   32-byte entries (one cache line per set), 8 MiB per worker (TableMemory:
//   hugepages when vnetd has them), no sharing, no locks. A hit costs one
//   line where the stages cost two FDB lines (source and destination) and
//   ~3x the instructions, so the cache is sized for 100k conversations
//   (about four in five of them keep their entry when every one recurs in
//   turn): with many stations, lines per frame is what costs.
//   Lookup (flow_cache_lookup, first in run_pipeline): every untagged frame
//   within the network MTU whose destination could be cached (unicast, not
//   the gateway's MAC: floods, gateway and routed frames never are) is
//   hashed and its set prefetched, then
//   each frame's set is compared (so a burst's misses overlap); a hit gets its
//   verdict (kForward, pushing the egress tag when the decision says so)
//   and refreshes its source's FDB sighting at most once per ~1.07 s tick, so
//   ageing still sees the station; a miss goes through the stages.
//   Insert (flow_cache_insert, last in run_pipeline): a missed frame whose
//   verdict became kForward through the FDB (not to the gateway MAC, not from
//   an uplink or the gateway port, not to either) and whose source is known
//   on its rx port is cached in way 0 of its set, the previous way 0 moving
//   to way 1. Nothing a stage drops, floods, punts, routes
//   or hands off is ever cached, so those paths and their counters are the
//   stages' own.
//   Invalidation is wholesale: sync() bumps the worker's epoch whenever the
//   snapshot generation or the FDB version it sees at the start of a poll
//   differs from the last one; an entry is valid only in its own epoch. A
//   change during a poll is seen at the next one (the same bound as the
//   stages' lock-free FDB reads).
//   Thrashing (far more distinct conversations than entries) costs a lookup
//   and an insert per frame for nothing: after a window of kWindow bursts
//   with fewer than 1 hit in 8 cacheable frames (hits and inserts) the cache
//   bypasses itself for kBypassBursts bursts, then tries again.
//
// Thread-safety
//   One FlowCache per worker, used only by that worker.
#pragma once

#include <cstdint>
#include <string>

#include "dataplane/constants.h"
#include "dataplane/table_memory.h"

namespace vnet::dp {

struct FlowCacheEntry {
  uint64_t k_dst = 0;      // destination MAC | rx port << 48
  uint64_t k_src = 0;      // source MAC | kValid
  uint32_t epoch = 0;      // valid only while equal to FlowCache::epoch()
  int32_t src_pos = -1;    // FDB position of the source (its sighting)
  uint16_t out_port = 0;
  uint16_t vlan = 0;       // the frame's VLAN (the rx port's untagged VLAN), for the egress tag
  uint8_t push_tag = 0;    // egress 802.1Q tag on out_port
  uint8_t touched = 0;     // low 8 bits of the tick (now_ns >> 30) of the last touch
  uint16_t reserved = 0;
};
static_assert(sizeof(FlowCacheEntry) == 32);

// Two entries, one cache line: a set of the cache.
struct alignas(64) FlowCacheSet {
  FlowCacheEntry way[2];  // way[0] the most recently inserted
};
static_assert(sizeof(FlowCacheSet) == 64);

class FlowCache {
 public:
  static constexpr uint32_t kSetBits = 17;
  static constexpr uint32_t kSets = 1u << kSetBits;  // 262144 entries, 8 MiB per worker
  static constexpr uint64_t kValid = 1ull << 63;
  // Bursts with cacheable frames per hit-rate window: long enough (at 32
  // frames a burst, twice the entries) for a conversation that recurs within
  // the cache's reach to be cached and then hit inside one window.
  static constexpr uint32_t kWindow = 16384;
  static constexpr uint32_t kBypassBursts = 65536;  // bursts without the cache after a bad window

  // `name` names the table's memory (unique per worker for debugging).
  explicit FlowCache(const std::string& name = "vnet_flow_cache")
      : mem_(TableMemory::allocate(name, sizeof(FlowCacheSet) * kSets)),
        sets_(static_cast<FlowCacheSet*>(mem_.get())) {}
  // False when there was no memory for the table (the worker runs without).
  bool ok() const noexcept { return sets_ != nullptr; }

  // Start of a poll: a new snapshot or FDB version invalidates every entry.
  void sync(uint64_t snapshot_generation, uint64_t fdb_version) noexcept {
    if (snapshot_generation == seen_generation_ && fdb_version == seen_fdb_) return;
    seen_generation_ = snapshot_generation;
    seen_fdb_ = fdb_version;
    if (++epoch_ == 0) {  // wrapped: old entries could look valid again
      for (uint32_t i = 0; i < kSets; ++i) sets_[i] = FlowCacheSet{};
      epoch_ = 1;
    }
  }
  uint32_t epoch() const noexcept { return epoch_; }

  // Multiplicative hashing: CRC is linear, and a chained CRC of two MACs
  // that differ by a constant (station i talking to station i of another
  // range) cancels into a few thousand values.
  static uint32_t set_index(uint64_t k_dst, uint64_t k_src) noexcept {
    const uint64_t h = k_src * 0x9e3779b97f4a7c15ull ^ k_dst * 0xc2b2ae3d27d4eb4full;
    return static_cast<uint32_t>(h >> (64 - kSetBits));
  }
  // The set of a key, prefetched: a burst hashes every frame first.
  FlowCacheSet& set(uint64_t k_dst, uint64_t k_src) noexcept {
    FlowCacheSet& s = sets_[set_index(k_dst, k_src)];
    __builtin_prefetch(&s);
    return s;
  }
  // The valid entry of `s` with this key, or null.
  FlowCacheEntry* find(FlowCacheSet& s, uint64_t k_dst, uint64_t k_src) const noexcept {
    for (FlowCacheEntry& e : s.way)
      if (((e.k_dst ^ k_dst) | (e.k_src ^ k_src) | (e.epoch ^ epoch_)) == 0) return &e;
    return nullptr;
  }
  // The entry a new key takes: way 0, after the previous way 0 moved to way 1
  // (a set keeps its two most recently inserted keys).
  static FlowCacheEntry& insert(FlowCacheSet& s) noexcept {
    s.way[1] = s.way[0];
    return s.way[0];
  }

  // Bypass control: active() once per burst; account() once per burst that
  // used the cache, with its hits and its cacheable frames (hits + inserts;
  // floods, drops and not-yet-learned sources are no evidence either way).
  bool active() noexcept {
    if (bypass_ == 0) return true;
    --bypass_;
    return false;
  }
  void account(uint32_t hits, uint32_t frames) noexcept {
    if (frames == 0) return;
    window_hits_ += hits;
    window_frames_ += frames;
    if (++window_bursts_ < kWindow) return;
    if (window_hits_ * 8 < window_frames_) bypass_ = kBypassBursts;
    window_bursts_ = window_hits_ = window_frames_ = 0;
  }

 private:
  TableMemory mem_;
  FlowCacheSet* sets_;  // [kSets], in mem_
  uint32_t epoch_ = 1;
  uint64_t seen_generation_ = 0;
  uint64_t seen_fdb_ = 0;
  uint32_t bypass_ = 0;
  uint32_t window_bursts_ = 0;
  uint32_t window_hits_ = 0;
  uint32_t window_frames_ = 0;
};

}  // namespace vnet::dp
