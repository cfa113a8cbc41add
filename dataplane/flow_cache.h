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
//   decision). The cache maps that key to the decision: kSets sets of three
//   21-byte entries (one cache line per set), 8 MiB per worker (TableMemory:
//   hugepages when vnetd has them), no sharing, no locks. A hit costs one
//   line where the stages cost two FDB lines (source and destination) and
//   ~3x the instructions, so the cache is sized for 100k conversations: with
//   many stations, lines per frame is what costs, and three ways that keep
//   the conversations in use hit 99 in 100 frames of 100k conversations that
//   recur in turn (evicting round-robin hit 24 in 25; two ways of 32 bytes
//   four in five), and still about 3 in 8 of 1M.
//   An entry, packed (the key is the frame's first 12 bytes, then the rx port
//   and the epoch, so it is compared as two 64-bit words):
//     bytes 0-5 destination MAC, 6-11 source MAC, 12 rx port, 13-15 epoch
//     (24 bits), 16-19 the source's FDB position (27 bits) | out port << 27,
//     20 push-tag bit << 7 | touched (7 bits).
//   The VLAN of a cached frame is the rx port's untagged VLAN
//   (VlanPolicy::untagged_vlan), the same for a whole burst, so it is not
//   stored; only whether the out port tags it is.
//   Frames to the gateway's MAC (for the gateway, or routed off the network)
//   are cached for their L2 part only: ingress (the rx port's untagged VLAN,
//   the source checks) and learning are as much a function of the key, but
//   what follows is the L3 and forward stages' (NAT, routing, punting).
//   Lookup (flow_cache_lookup, first in run_pipeline): every untagged unicast
//   frame within the network MTU is hashed and its set prefetched, then
//   each frame's set is compared (so a burst's misses overlap); a hit
//   refreshes its source's FDB sighting at most once per ~1.07 s tick, so
//   ageing still sees the station, and gets its verdict (kForward, pushing
//   the egress tag when the decision says so) or, to the gateway's MAC, the
//   metadata ingress would give it and Burst::l2_done: ingress_stage and
//   learn_stage pass it by (and are not run for a burst of hits only); a
//   miss goes through the stages.
//   Insert (flow_cache_insert, last in run_pipeline): a missed frame whose
//   verdict became kForward through the FDB (not from an uplink or the
//   gateway port, not to either) or that was sent to the gateway's MAC, and
//   whose source is known on its rx port, is cached in its set: over its own
//   key if a frame before it in the burst put it there, else in a way of an
//   older epoch, else in an idle way (not hit in this tick or the one
//   before), the first from the set's round-robin pointer on. When every way
//   is in use the insert is declined (counted): a set asked to hold more
//   conversations than it has ways keeps the ones it holds instead of
//   evicting each just before it recurs (round-robin among four
//   conversations that take turns misses every frame of all four; keeping
//   three misses only the fourth's), and a new conversation gets a way once
//   one of them has been idle for a tick. No decision of a stage that drops,
//   floods, punts, routes or hands off is ever cached, so those paths and
//   their counters are the stages' own.
//   Invalidation is wholesale: sync() bumps the worker's epoch whenever the
//   snapshot generation or the FDB version it sees at the start of a poll
//   differs from the last one; an entry is valid only in its own epoch (the
//   key holds it). After 2^24 - 1 epochs the table is cleared and the epoch
//   starts again at 1 (epoch 0 is never current: a zeroed way is empty). A
//   change during a poll is seen at the next one (the same bound as the
//   stages' lock-free FDB reads).
//   Thrashing (far more distinct conversations than entries, each seen
//   once or rarely) costs a lookup and an insert per frame for nothing:
//   after a window of kWindow bursts with fewer than 1 hit in 8 cacheable
//   frames (hits, inserts and declined inserts) the cache bypasses itself for
//   kBypassBursts bursts of guest ports, then tries again. Lookups, hits,
//   inserts, declined inserts, invalidations, bypasses and the frames
//   received while bypassed are counted per worker (vnetctl pmd-stats).
//
// Thread-safety
//   One FlowCache per worker, used only by that worker.
#pragma once

#include <cstdint>
#include <string>

#include "dataplane/constants.h"
#include "dataplane/table_memory.h"

namespace vnet::dp {

// A cache key: bytes 0-15 of an entry. No initialisers: a burst's array of
// keys costs nothing to declare.
struct FlowCacheKey {
  uint64_t lo;  // destination MAC | source MAC bytes 0-1 << 48 (frame bytes 0-7)
  uint64_t hi;  // source MAC bytes 2-5 | rx port << 32 | epoch << 40
  friend bool operator==(const FlowCacheKey&, const FlowCacheKey&) = default;
};

// What a cached entry decides.
struct FlowCacheDecision {
  int32_t src_pos = -1;  // FDB position of the source (its sighting)
  uint16_t out_port = 0;
  bool push_tag = false;  // push an 802.1Q tag (the rx port's untagged VLAN) on out_port
  uint8_t touched = 0;    // tick & FlowCache::kTickMask of the last touch
};

// Three entries, one cache line: a set of the cache.
struct alignas(64) FlowCacheSet {
  static constexpr uint32_t kWays = 3;
  static constexpr uint32_t kEntryBytes = 21;
  uint8_t bytes[kWays * kEntryBytes];
  uint8_t next;  // the first way an insert considers when every way is valid
};
static_assert(sizeof(FlowCacheSet) == 64);
static_assert(kMaxPorts <= 32, "an entry holds a 5-bit out port");

class FlowCache {
 public:
  static constexpr uint32_t kSetBits = 17;
  static constexpr uint32_t kSets = 1u << kSetBits;  // 393216 entries, 8 MiB per worker
  static constexpr uint32_t kEpochMax = (1u << 24) - 1;
  static constexpr uint32_t kPosBits = 27;  // FDB positions: < 2 * Fdb::kMaxCapacity
  static constexpr uint8_t kTickMask = 0x7f;
  // Bursts with cacheable frames per hit-rate window: long enough (at 32
  // frames a burst, 4/3 of the entries) for a conversation that recurs within
  // the cache's reach to be cached and then hit inside one window, short
  // enough that a thrashing cache (1M conversations) spends about a fifth of
  // the time looking up before it is bypassed again (with a window of twice
  // the entries, vnetd's PMD needed ~25 % more cycles per frame at 1M flows).
  static constexpr uint32_t kWindow = 16384;
  static constexpr uint32_t kBypassBursts = 65536;  // bursts without the cache after a bad window

  // `name` names the table's memory (unique per worker for debugging).
  explicit FlowCache(const std::string& name = "vnet_flow_cache")
      : mem_(TableMemory::allocate(name, sizeof(FlowCacheSet) * kSets)),
        sets_(static_cast<FlowCacheSet*>(mem_.get())) {}
  // False when there was no memory for the table (the worker runs without).
  bool ok() const noexcept { return sets_ != nullptr; }

  // Start of a poll: a new snapshot or FDB version invalidates every entry
  // (true when it did: a new epoch).
  bool sync(uint64_t snapshot_generation, uint64_t fdb_version) noexcept {
    if (snapshot_generation == seen_generation_ && fdb_version == seen_fdb_) return false;
    seen_generation_ = snapshot_generation;
    seen_fdb_ = fdb_version;
    if (++epoch_ > kEpochMax) {  // wrapped: old entries could look valid again
      for (uint32_t i = 0; i < kSets; ++i) sets_[i] = FlowCacheSet{};
      epoch_ = 1;
    }
    return true;
  }
  uint32_t epoch() const noexcept { return epoch_; }

  // The key of an untagged frame (its first 12 bytes) received on rx_port,
  // in this epoch.
  FlowCacheKey key(const uint8_t* frame, uint16_t rx_port) const noexcept {
    uint64_t lo;
    uint32_t mid;
    __builtin_memcpy(&lo, frame, 8);
    __builtin_memcpy(&mid, frame + 8, 4);
    return {lo, uint64_t{mid} | uint64_t{rx_port} << 32 | uint64_t{epoch_} << 40};
  }
  // Multiplicative hashing of the key without its epoch: CRC is linear, and a
  // chained CRC of two MACs that differ by a constant (station i talking to
  // station i of another range) cancels into a few thousand values.
  static uint32_t set_index(const FlowCacheKey& k) noexcept {
    const uint64_t h = k.lo * 0xc2b2ae3d27d4eb4full ^ (k.hi & 0xffffffffffull) * 0x9e3779b97f4a7c15ull;
    return static_cast<uint32_t>(h >> (64 - kSetBits));
  }
  // The set of a key, prefetched: a burst hashes every frame first.
  FlowCacheSet& set(const FlowCacheKey& k) noexcept {
    FlowCacheSet& s = sets_[set_index(k)];
    __builtin_prefetch(&s);
    return s;
  }
  // The way of `s` holding this key (of this epoch: the key has it), or -1.
  static int find(const FlowCacheSet& s, const FlowCacheKey& k) noexcept {
    for (uint32_t w = 0; w < FlowCacheSet::kWays; ++w) {
      uint64_t lo, hi;
      __builtin_memcpy(&lo, s.bytes + w * FlowCacheSet::kEntryBytes, 8);
      __builtin_memcpy(&hi, s.bytes + w * FlowCacheSet::kEntryBytes + 8, 8);
      if (((lo ^ k.lo) | (hi ^ k.hi)) == 0) return static_cast<int>(w);
    }
    return -1;
  }
  static FlowCacheDecision decision(const FlowCacheSet& s, int way) noexcept {
    const uint8_t* e = s.bytes + way * FlowCacheSet::kEntryBytes;
    uint32_t pos_port;
    __builtin_memcpy(&pos_port, e + 16, 4);
    return {static_cast<int32_t>(pos_port & ((1u << kPosBits) - 1)), static_cast<uint16_t>(pos_port >> kPosBits),
            (e[20] & 0x80) != 0, static_cast<uint8_t>(e[20] & kTickMask)};
  }
  static void set_touched(FlowCacheSet& s, int way, uint8_t tick) noexcept {
    uint8_t& b = s.bytes[way * FlowCacheSet::kEntryBytes + 20];
    b = static_cast<uint8_t>((b & 0x80) | (tick & kTickMask));
  }
  // A way touched in `tick` or the tick before is in use.
  static bool in_use(uint8_t touched, uint8_t tick) noexcept {
    return ((tick - touched) & kTickMask) <= 1;
  }
  // Caches `d` (d.touched: the current tick) for `k` in `s`: over the same key
  // if present, else in a way of another epoch (empty or stale), else in the
  // first idle way from the round-robin pointer on. Returns the way, or -1
  // when every way is in use (declined).
  int insert(FlowCacheSet& s, const FlowCacheKey& k, const FlowCacheDecision& d) const noexcept {
    int w = find(s, k);
    for (uint32_t i = 0; w < 0 && i < FlowCacheSet::kWays; ++i) {
      uint32_t e;
      __builtin_memcpy(&e, s.bytes + i * FlowCacheSet::kEntryBytes + 12, 4);
      if ((e >> 8) != epoch_) w = static_cast<int>(i);
    }
    for (uint32_t i = 0; w < 0 && i < FlowCacheSet::kWays; ++i) {
      const uint32_t way = (s.next + i) % FlowCacheSet::kWays;
      if (in_use(s.bytes[way * FlowCacheSet::kEntryBytes + 20] & kTickMask, d.touched)) continue;
      w = static_cast<int>(way);
      s.next = static_cast<uint8_t>((way + 1) % FlowCacheSet::kWays);
    }
    if (w < 0) return -1;
    uint8_t* e = s.bytes + w * FlowCacheSet::kEntryBytes;
    const uint32_t pos_port = (static_cast<uint32_t>(d.src_pos) & ((1u << kPosBits) - 1)) |
                              uint32_t{d.out_port} << kPosBits;
    __builtin_memcpy(e, &k.lo, 8);
    __builtin_memcpy(e + 8, &k.hi, 8);
    __builtin_memcpy(e + 16, &pos_port, 4);
    e[20] = static_cast<uint8_t>((d.push_tag ? 0x80 : 0) | (d.touched & kTickMask));
    return w;
  }

  // Bypass control: active() once per burst of a guest port; account() once
  // per burst that used the cache, with its hits and its cacheable frames
  // (hits, inserts and declined inserts; floods, drops and not-yet-learned
  // sources are no evidence either way); true when that closed a bad window
  // (bypass on).
  bool active() noexcept {
    if (bypass_ == 0) return true;
    --bypass_;
    return false;
  }
  bool account(uint32_t hits, uint32_t frames) noexcept {
    if (frames == 0) return false;
    window_hits_ += hits;
    window_frames_ += frames;
    if (++window_bursts_ < kWindow) return false;
    const bool bad = window_hits_ * 8 < window_frames_;
    if (bad) bypass_ = kBypassBursts;
    window_bursts_ = window_hits_ = window_frames_ = 0;
    return bad;
  }

 private:
  TableMemory mem_;
  FlowCacheSet* sets_;  // [kSets], in mem_
  uint32_t epoch_ = 1;  // 1..kEpochMax
  uint64_t seen_generation_ = 0;
  uint64_t seen_fdb_ = 0;
  uint32_t bypass_ = 0;
  uint32_t window_bursts_ = 0;
  uint32_t window_hits_ = 0;
  uint32_t window_frames_ = 0;
};

}  // namespace vnet::dp
