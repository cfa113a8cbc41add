// vnet::dp — the forwarding database: (network, VLAN, MAC) -> port.
//
// Theory of operation
//   One table for all networks: two-choice hashing into buckets of kWays
//   entries, entries never move once placed. A bucket is two 64-byte cache
//   lines of four (key word, data word) ways each; the writer fills the
//   lowest free way, so at the table's load (at most half the ways) a key is
//   almost always in the first line of its bucket, and a lookup touches the
//   two lines its probe prefetched (with 100k stations the table is far
//   bigger than the caches: lines per lookup is what costs). Eight ways per
//   bucket pair keep two-choice placement from ever finding both full
//   before the capacity is reached.
//     key word  = MAC (48 bits) | VID (12 bits) << 48 | 1 << 63 (0 = empty)
//     data word = network (16 bits) | port << 16
//   A key lives in bucket b1 = crc32c(key word, network) or b2 = a
//   multiplicative hash of the same; the writer puts a new key in the less
//   loaded of the two (ties: b1), so with twice as many ways as entries no
//   bucket pair fills up (slots = bit_ceil(2 * capacity)). An entry's
//   position (bucket * kWays + way) is stable for its life and indexes side
//   arrays:
//     - Slot (writer-only): key, port, when learned/moved, state.
//     - last_seen[worker][position] (one array per worker, written only by
//       that worker, read by the writer): the worker "touches" an entry when
//       it sees the source MAC again, at most once per kTouchInterval, so
//       ageing needs no events for known MACs.
//   Readers: compute the probe (hash, both buckets; prefetch them — a burst
//   probes all its keys first, then resolves them, so table misses overlap),
//   compare key words, and on a match check the network in the data word.
//   The writer publishes a new entry by storing its data word, then its key
//   word with release; a MAC move is one store of the data word (readers see
//   the old or the new port, never garbage). A deleted entry's key word is
//   cleared at once, but its position is only reused after a QSBR grace
//   period (reclaim()), because a reader may still hold the position or be
//   about to read its data word.
//   Ageing: an entry whose newest sighting (max of learned_ns and every
//   worker's last_seen) is older than its network's ageing time is deleted
//   by age(). The per-network MAC limit is checked on learn(); a refused
//   learn is counted (limit_hits) and the frame keeps being flooded. The
//   table holds at most `capacity` live entries (kTableFull beyond).
//   Static entries (learn_static: the gateway MAC on the gateway port) never
//   age, are never moved by learn() (kStatic), and survive flush_network /
//   flush_network_port (user flushes); flush_port and flush_all remove them.
//
// Thread-safety
//   Reader API (probe, find, lookup, touch): any registered worker,
//   concurrently with the writer; touch(w, ...) only from worker w. Writer
//   API (learn, age, flush*, dump, reclaim): only the slow-path thread — the
//   single writer — or, when no slow path runs (tests), one thread at a time.
//   Statistics: written by the writer, readable from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "dataplane/drop_reasons.h"
#include "dataplane/constants.h"
#include "dataplane/net/ether.h"
#include "dataplane/status.h"

struct rte_rcu_qsbr;

namespace vnet::dp {

// The key: 16 bytes, padding always zero (learn events and LearnFilter
// compare it as two 64-bit words). The table stores it packed (see above).
struct FdbKey {
  uint16_t network = 0;  // network id (facade-assigned)
  uint16_t vlan = 0;     // 0 = untagged domain, else 1..4094
  net::MacAddr mac;
  uint16_t pad = 0;
  uint32_t pad2 = 0;
  friend bool operator==(const FdbKey&, const FdbKey&) = default;
};
static_assert(sizeof(FdbKey) == 16);
static_assert(std::has_unique_object_representations_v<FdbKey>);

struct FdbOptions {
  std::string name = "vnet_fdb";  // memory zone name prefix, unique per EAL
  uint32_t capacity = 65536;      // live entries across all networks (1..kMaxCapacity)
  uint16_t max_workers = 1;       // number of last_seen arrays
  rte_rcu_qsbr* qsbr = nullptr;   // readers' QSBR variable (required)
  int socket_id = -1;             // SOCKET_ID_ANY
};

enum class LearnResult : uint8_t {
  kAdded,      // new entry
  kRefreshed,  // same port, learned_ns updated
  kMoved,      // MAC moved to another port
  kLimit,      // network MAC limit reached: not learned
  kTableFull,  // table capacity reached: not learned
  kStatic,     // a static entry has this key on another port: not moved
};

// A row of `fdb-show`.
struct FdbEntry {
  uint16_t network = 0;
  uint16_t vlan = 0;
  net::MacAddr mac;
  uint16_t port = 0;
  uint64_t age_ns = 0;  // now - last sighting
  bool is_static = false;
};

// Per-network statistics (writer-owned counters).
struct FdbNetworkStats {
  Counter entries;      // current number of MACs
  Counter learned;      // kAdded
  Counter moved;        // kMoved
  Counter aged;         // removed by age()
  Counter limit_hits;   // kLimit + kTableFull
};

// A key prepared for find(): packed key word, network and its two buckets.
struct FdbProbe {
  uint64_t key_word;
  uint32_t bucket1;
  uint32_t bucket2;
  uint16_t network;
};  // no initialisers: a burst's array of probes costs nothing to declare

class Fdb {
 public:
  // A worker refreshes last_seen at most this often per entry.
  static constexpr uint64_t kTouchIntervalNs = 1'000'000'000ull;
  static constexpr uint32_t kDefaultMacLimit = 8192;
  static constexpr uint64_t kDefaultAgeingNs = 300ull * 1'000'000'000ull;
  static constexpr uint32_t kMaxCapacity = 1u << 26;
  static constexpr uint32_t kWays = 8;

  static Result<std::unique_ptr<Fdb>> create(const FdbOptions& options);
  ~Fdb();
  Fdb(const Fdb&) = delete;
  Fdb& operator=(const Fdb&) = delete;

  // ---- readers (workers) ----
  // Hashes the key and prefetches its buckets; find() it later (a burst
  // probes every key first so the cache misses overlap).
  FdbProbe probe(const FdbKey& key) const noexcept {
    FdbProbe p;
    p.key_word = key_word(key);
    p.network = key.network;
    p.bucket1 = hash1(p.key_word, p.network) & bucket_mask_;
    p.bucket2 = hash2(p.key_word, p.network, bucket_shift_);
    // The first line of each bucket: the writer fills ways 0-3 first.
    __builtin_prefetch(&buckets_[p.bucket1]);
    __builtin_prefetch(&buckets_[p.bucket2]);
    return p;
  }
  // Returns the position (>= 0) and sets *port, or -1 on a miss.
  int32_t find(const FdbProbe& p, uint16_t* port) const noexcept {
    const int32_t pos = find_in(buckets_[p.bucket1], p, port);
    if (pos >= 0) return static_cast<int32_t>(p.bucket1 * kWays) + pos;
    const int32_t pos2 = find_in(buckets_[p.bucket2], p, port);
    if (pos2 >= 0) return static_cast<int32_t>(p.bucket2 * kWays) + pos2;
    return -1;
  }
  int32_t lookup(const FdbKey& key, uint16_t* port) const noexcept { return find(probe(key), port); }
  // Bumped by the writer after every MAC move and removal (not after an
  // addition): a worker's flow cache (flow_cache.h) is valid for one version.
  uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }
  // Worker `worker`'s last sighting of `position` (its own array), prefetched
  // for a touch() that follows later (a burst resolves all its sources first).
  std::atomic<uint64_t>* sighting(uint16_t worker, int32_t position) noexcept {
    std::atomic<uint64_t>* ls = &last_seen_[size_t{worker} * slot_count_ + static_cast<uint32_t>(position)];
    __builtin_prefetch(ls, 1);
    return ls;
  }
  // Refreshes a last sighting, at most once per kTouchIntervalNs.
  static void touch(std::atomic<uint64_t>* ls, uint64_t now_ns) noexcept {
    if (now_ns - ls->load(std::memory_order_relaxed) >= kTouchIntervalNs)
      ls->store(now_ns, std::memory_order_relaxed);
  }
  // Refreshes the entry's last sighting for worker `worker` (its own array).
  void touch(uint16_t worker, int32_t position, uint64_t now_ns) noexcept {
    touch(&last_seen_[size_t{worker} * slot_count_ + static_cast<uint32_t>(position)], now_ns);
  }

  // ---- the writer (slow path) ----
  LearnResult learn(const FdbKey& key, uint16_t port, uint64_t now_ns, uint32_t mac_limit) noexcept;
  // Installs (or moves) a static entry; no MAC limit. kAdded, kMoved,
  // kRefreshed (already static there) or kTableFull.
  LearnResult learn_static(const FdbKey& key, uint16_t port, uint64_t now_ns) noexcept;
  // Deletes entries older than ageing_ns[network] (0 = never age). Returns the count.
  uint32_t age(uint64_t now_ns, std::span<const uint64_t, kMaxNetworks> ageing_ns) noexcept;
  uint32_t flush_network(uint16_t network) noexcept;
  uint32_t flush_port(uint16_t port) noexcept;
  uint32_t flush_network_port(uint16_t network, uint16_t port) noexcept;
  uint32_t flush_all() noexcept;
  // Appends the entries (of one network, or all) to out.
  void dump(std::vector<FdbEntry>& out, uint64_t now_ns, std::optional<uint16_t> network) const;
  // Returns deleted positions to the table once their grace period is over.
  uint32_t reclaim() noexcept;
  // Deleted positions not yet reclaimed.
  size_t pending_reclaim() const noexcept { return pending_.size(); }

  // ---- statistics (any thread) ----
  const FdbNetworkStats& stats(uint16_t network) const noexcept { return net_stats_[network]; }
  // Live entries (deleted-but-unreclaimed positions are not counted).
  uint32_t size() const noexcept { return static_cast<uint32_t>(live_.read()); }
  uint32_t capacity() const noexcept { return capacity_; }

 private:
  enum class SlotState : uint8_t { kFree, kLive, kDeleted };
  struct Slot {          // writer-only
    FdbKey key;
    uint16_t port = 0;
    SlotState state = SlotState::kFree;
    bool is_static = false;   // learn_static
    uint64_t learned_ns = 0;  // learned, moved or refreshed by an event
  };
  struct PendingFree {
    int32_t position;
    uint64_t token;  // rte_rcu_qsbr_start() at delete time
  };
  struct Way {
    std::atomic<uint64_t> key;   // key word, 0 = empty
    std::atomic<uint64_t> data;  // network | port << 16
  };
  struct alignas(64) Bucket {
    Way ways[kWays];  // ways 0-3 in the first cache line, 4-7 in the second
  };
  static_assert(sizeof(Bucket) == 128, "two cache lines");
  struct MemFree {
    void operator()(void* p) const noexcept;
  };

  static constexpr uint64_t kKeyValid = 1ull << 63;
  static_assert(kVlanCount == 4096, "the key word holds a 12-bit VID");
  static uint64_t key_word(const FdbKey& key) noexcept {
    uint32_t lo;
    uint16_t hi;
    __builtin_memcpy(&lo, key.mac.b.data(), 4);
    __builtin_memcpy(&hi, key.mac.b.data() + 4, 2);
    return uint64_t{lo} | uint64_t{hi} << 32 | uint64_t{key.vlan & 0x0fffu} << 48 | kKeyValid;
  }
  static uint32_t hash1(uint64_t key_word, uint16_t network) noexcept {
    return static_cast<uint32_t>(__builtin_ia32_crc32di(network, key_word));
  }
  static uint32_t hash2(uint64_t key_word, uint16_t network, uint32_t shift) noexcept {
    return static_cast<uint32_t>(((key_word ^ (uint64_t{network} << 52)) * 0x9e3779b97f4a7c15ull) >> shift);
  }
  static int32_t find_in(const Bucket& b, const FdbProbe& p, uint16_t* port) noexcept {
    for (uint32_t w = 0; w < kWays; ++w) {
      if (b.ways[w].key.load(std::memory_order_acquire) != p.key_word) continue;
      const uint64_t d = b.ways[w].data.load(std::memory_order_relaxed);
      if (static_cast<uint16_t>(d) != p.network) continue;
      *port = static_cast<uint16_t>(d >> 16);
      return static_cast<int32_t>(w);
    }
    return -1;
  }

  Fdb() = default;
  int32_t free_way(uint32_t bucket) const noexcept;
  uint32_t used_ways(uint32_t bucket) const noexcept;
  uint64_t last_sighting(int32_t position) const noexcept;
  void remove(int32_t position) noexcept;
  template <class Pred>
  uint32_t remove_if(Pred pred) noexcept;

  std::atomic<uint64_t> version_{0};
  Bucket* buckets_ = nullptr;  // [bucket_mask_ + 1], owned by buckets_mem_
  std::unique_ptr<void, MemFree> buckets_mem_;
  std::unique_ptr<void, MemFree> last_seen_mem_;
  rte_rcu_qsbr* qsbr_ = nullptr;
  uint32_t bucket_mask_ = 0;
  uint32_t bucket_shift_ = 0;  // 64 - log2(bucket count), for hash2
  uint32_t slot_count_ = 0;    // buckets * kWays
  uint32_t capacity_ = 0;
  uint16_t max_workers_ = 0;
  std::unique_ptr<Slot[]> slots_;
  std::atomic<uint64_t>* last_seen_ = nullptr;  // [max_workers_][slot_count_], owned by last_seen_mem_
  std::vector<PendingFree> pending_;
  std::unique_ptr<FdbNetworkStats[]> net_stats_;  // [kMaxNetworks]
  Counter live_;  // writer-owned gauge
};

}  // namespace vnet::dp
