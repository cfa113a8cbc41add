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
//   decision). The cache maps that key to the decision: direct-mapped,
//   kEntries entries of 32 bytes per worker, no sharing, no locks.
//   Lookup (flow_cache_lookup, first in run_pipeline): every untagged frame
//   within the network MTU is hashed (crc32c) and compared; a hit gets its
//   verdict (kForward, pushing the egress tag when the decision says so)
//   and refreshes its source's FDB sighting at most once per ~1.07 s tick, so
//   ageing still sees the station; a miss goes through the stages.
//   Insert (flow_cache_insert, last in run_pipeline): a missed frame whose
//   verdict became kForward through the FDB (not to the gateway MAC, not from
//   an uplink or the gateway port, not to either) and whose source is known
//   on its rx port is cached. Nothing a stage drops, floods, punts, routes
//   or hands off is ever cached, so those paths and their counters are the
//   stages' own.
//   Invalidation is wholesale: sync() bumps the worker's epoch whenever the
//   snapshot generation or the FDB version it sees at the start of a poll
//   differs from the last one; an entry is valid only in its own epoch. A
//   change during a poll is seen at the next one (the same bound as the
//   stages' lock-free FDB reads).
//   Thrashing (far more distinct conversations than entries) costs a lookup
//   and an insert per frame for nothing: after a window of kWindow bursts
//   with fewer than 1 hit in 8 frames the cache bypasses itself for
//   kBypassBursts bursts, then tries again.
//
// Thread-safety
//   One FlowCache per worker, used only by that worker.
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/constants.h"

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

class FlowCache {
 public:
  static constexpr uint32_t kEntries = 8192;
  static constexpr uint64_t kValid = 1ull << 63;
  static constexpr uint32_t kWindow = 64;         // bursts per hit-rate window
  static constexpr uint32_t kBypassBursts = 1024;  // bursts without the cache after a bad window

  // Start of a poll: a new snapshot or FDB version invalidates every entry.
  void sync(uint64_t snapshot_generation, uint64_t fdb_version) noexcept {
    if (snapshot_generation == seen_generation_ && fdb_version == seen_fdb_) return;
    seen_generation_ = snapshot_generation;
    seen_fdb_ = fdb_version;
    if (++epoch_ == 0) {  // wrapped: old entries could look valid again
      entries_.fill(FlowCacheEntry{});
      epoch_ = 1;
    }
  }
  uint32_t epoch() const noexcept { return epoch_; }

  FlowCacheEntry& slot(uint64_t k_dst, uint64_t k_src) noexcept {
    const auto h = static_cast<uint32_t>(__builtin_ia32_crc32di(__builtin_ia32_crc32di(0, k_src), k_dst));
    return entries_[h & (kEntries - 1)];
  }

  // Bypass control, once per burst that used the cache.
  bool active() noexcept {
    if (bypass_ == 0) return true;
    --bypass_;
    return false;
  }
  void account(uint32_t hits, uint32_t frames) noexcept {
    window_hits_ += hits;
    window_frames_ += frames;
    if (++window_bursts_ < kWindow) return;
    if (window_hits_ * 8 < window_frames_) bypass_ = kBypassBursts;
    window_bursts_ = window_hits_ = window_frames_ = 0;
  }

 private:
  std::array<FlowCacheEntry, kEntries> entries_{};
  uint32_t epoch_ = 1;
  uint64_t seen_generation_ = 0;
  uint64_t seen_fdb_ = 0;
  uint32_t bypass_ = 0;
  uint32_t window_bursts_ = 0;
  uint32_t window_hits_ = 0;
  uint32_t window_frames_ = 0;
};

}  // namespace vnet::dp
