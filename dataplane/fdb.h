// vnet::dp — the forwarding database: (network, VLAN, MAC) -> port.
//
// Theory of operation
//   One table for all networks: two-choice hashing into buckets of kWays
//   entries, entries never move once placed. A bucket is two 64-byte cache
//   lines of four (key word, data word) ways each. The writer places a new
//   key in the first line of its first bucket when that line has a free way,
//   else in the first line of its second bucket, else in the emptier second
//   line. At the table's load (at most half the ways, ~3 keys per bucket) about
//   nine keys in ten sit in the first line of their first bucket, so a lookup
//   prefetches that one line (probe()) and usually finds its key there
//   (find_first()); only a key that is not there costs the other lines, which
//   a burst prefetches together (probe_rest()) before resolving them
//   (find_rest()). With 100k stations the table is far bigger than the caches:
//   lines per lookup is what costs. Eight ways per bucket pair keep two-choice
//   placement from ever finding both full before the capacity is reached.
//     key word  = MAC (48 bits) | VID (12 bits) << 48 | 1 << 63 (0 = empty)
//     data word = network (16 bits) | port << 16
//   A key lives in bucket b1 = crc32c(key word, network) or b2 = a
//   multiplicative hash of the same (slots = bit_ceil(2 * capacity)). An
//   entry's position (bucket * kWays + way) is stable for its life and
//   indexes side arrays:
//     - Slot (writer-only): key, port, last sighting, state.
//     - seen bits [worker][position] (one bitmap per worker, 1 bit per
//       position: 64 KiB for 512k positions, so it stays in the worker's
//       cache): a worker marks an entry when it sees the source MAC again
//       (touch(): a load, and an atomic OR only when the bit is clear). The
//       writer's harvest() takes every worker's marks (atomic exchange of
//       each non-zero word) and records the previous harvest's time as their
//       last sighting (the mark was set since then); age() and dump() harvest
//       first, so sightings are exact to the ageing sweep period (1 s, never
//       later than the real one) and ageing needs no events and no
//       per-packet timestamps.
//       A mark that races with a harvest is kept for the next one (never
//       lost); a mark left on a deleted position can only make its next key
//       look seen once, just after it was learned.
//   Readers: compute the probe (hash, both buckets, prefetch the first
//   line), compare key words, and on a match check the network in the data
//   word; a burst probes all its keys before resolving any, so table misses
//   overlap.
//   The writer publishes a new entry by storing its data word, then its key
//   word with release; a MAC move is one store of the data word (readers see
//   the old or the new port, never garbage). A deleted entry's key word is
//   cleared at once, but its position is only reused after a QSBR grace
//   period (reclaim()), because a reader may still hold the position or be
//   about to read its data word.
//   Ageing: an entry whose last sighting (learned, moved or refreshed by an
//   event, or harvested from a worker's mark) is older than its network's
//   ageing time is deleted by age(). The per-network MAC limit is checked on
//   learn(); a refused learn is counted (limit_hits) and the frame keeps being
//   flooded. The table holds at most `capacity` live entries (kTableFull
//   beyond).
//   Static entries (learn_static: the gateway MAC on the gateway port) never
//   age, are never moved by learn() (kStatic), and survive flush_network /
//   flush_network_port (user flushes); flush_port and flush_all remove them.
//
// Thread-safety
//   Reader API (probe, find*, lookup, sighting, touch): any registered
//   worker, concurrently with the writer; sighting(w, ...) only from worker
//   w. Writer API (learn, harvest, age, flush*, dump, reclaim): only the
//   slow-path thread — the single writer — or, when no slow path runs
//   (tests), one thread at a time.
//   Statistics (per network, and live entries per port id): written by the
//   writer, readable from any thread.
#pragma once

#include <array>
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
#include "dataplane/table_memory.h"

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
  uint16_t max_workers = 1;       // number of seen bitmaps
  rte_rcu_qsbr* qsbr = nullptr;   // readers' QSBR variable (required)
  int socket_id = -1;             // SOCKET_ID_ANY
};

enum class LearnResult : uint8_t {
  kAdded,      // new entry
  kRefreshed,  // same port, last sighting updated
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

// A worker's seen bit of one entry (Fdb::sighting / Fdb::touch).
struct FdbSighting {
  std::atomic<uint64_t>* word;
  uint64_t bit;
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
  static constexpr uint32_t kDefaultMacLimit = 8192;
  static constexpr uint64_t kDefaultAgeingNs = 300ull * 1'000'000'000ull;
  static constexpr uint32_t kMaxCapacity = 1u << 26;
  static constexpr uint32_t kWays = 8;
  static constexpr uint32_t kLineWays = 4;  // ways per 64-byte line

  static Result<std::unique_ptr<Fdb>> create(const FdbOptions& options);
  ~Fdb();
  Fdb(const Fdb&) = delete;
  Fdb& operator=(const Fdb&) = delete;

  // ---- readers (workers) ----
  // Hashes the key and prefetches the first line of its first bucket, where
  // the key almost always is; find*() it later (a burst probes every key
  // first so the cache misses overlap).
  FdbProbe probe(const FdbKey& key) const noexcept {
    FdbProbe p;
    p.key_word = key_word(key);
    p.network = key.network;
    p.bucket1 = hash1(p.key_word, p.network) & bucket_mask_;
    p.bucket2 = hash2(p.key_word, p.network, bucket_shift_);
    __builtin_prefetch(&buckets_[p.bucket1]);
    return p;
  }
  // The first line of the first bucket (what probe() prefetched): the
  // position (>= 0) with *port set, or -1 (the key may be in the other lines).
  int32_t find_first(const FdbProbe& p, uint16_t* port) const noexcept {
    const int32_t w = find_in(buckets_[p.bucket1], 0, kLineWays, p, port);
    return w >= 0 ? static_cast<int32_t>(p.bucket1 * kWays) + w : -1;
  }
  // Prefetches the lines find_first() did not look at.
  void probe_rest(const FdbProbe& p) const noexcept {
    __builtin_prefetch(&buckets_[p.bucket2]);
    __builtin_prefetch(&buckets_[p.bucket1].ways[kLineWays]);
    __builtin_prefetch(&buckets_[p.bucket2].ways[kLineWays]);
  }
  // The other lines: the position (>= 0) with *port set, or -1 (absent).
  int32_t find_rest(const FdbProbe& p, uint16_t* port) const noexcept {
    const int32_t w1 = find_in(buckets_[p.bucket1], kLineWays, kWays, p, port);
    if (w1 >= 0) return static_cast<int32_t>(p.bucket1 * kWays) + w1;
    const int32_t w2 = find_in(buckets_[p.bucket2], 0, kWays, p, port);
    return w2 >= 0 ? static_cast<int32_t>(p.bucket2 * kWays) + w2 : -1;
  }
  // Returns the position (>= 0) and sets *port, or -1 on a miss.
  int32_t find(const FdbProbe& p, uint16_t* port) const noexcept {
    const int32_t pos = find_first(p, port);
    return pos >= 0 ? pos : find_rest(p, port);
  }
  int32_t lookup(const FdbKey& key, uint16_t* port) const noexcept { return find(probe(key), port); }
  // Resolves the probes of a burst (bit i of `todo`: probes[i]): fn(i, pos,
  // port) for each, pos -1 when absent. Keys in their prefetched line come
  // first (in index order); the others get their other lines prefetched
  // together, then follow (in index order).
  template <class Fn>
  void find_burst(const FdbProbe* probes, uint32_t todo, Fn&& fn) const noexcept {
    uint32_t rest = 0;
    while (todo != 0) {
      const auto i = static_cast<uint16_t>(__builtin_ctz(todo));
      todo &= todo - 1;
      uint16_t port = 0;
      const int32_t pos = find_first(probes[i], &port);
      if (pos >= 0) {
        fn(i, pos, port);
        continue;
      }
      probe_rest(probes[i]);
      rest |= 1u << i;
    }
    while (rest != 0) {
      const auto i = static_cast<uint16_t>(__builtin_ctz(rest));
      rest &= rest - 1;
      uint16_t port = 0;
      const int32_t pos = find_rest(probes[i], &port);
      fn(i, pos, port);
    }
  }
  // Bumped by the writer after every MAC move and removal (not after an
  // addition): a worker's flow cache (flow_cache.h) is valid for one version.
  uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }
  // Worker `worker`'s seen bit of `position` (its own bitmap), prefetched
  // for a touch() that follows later (a burst resolves all its sources first).
  FdbSighting sighting(uint16_t worker, int32_t position) noexcept {
    const auto pos = static_cast<uint32_t>(position);
    std::atomic<uint64_t>* word = &seen_bits_[size_t{worker} * seen_words_ + pos / 64];
    __builtin_prefetch(word, 1);
    return {word, uint64_t{1} << (pos % 64)};
  }
  // Marks the entry seen; the writer's next harvest() records the time. A
  // store only when the mark is not there yet (once per sweep per entry).
  static void touch(const FdbSighting& s) noexcept {
    if ((s.word->load(std::memory_order_relaxed) & s.bit) == 0) s.word->fetch_or(s.bit, std::memory_order_relaxed);
  }
  void touch(uint16_t worker, int32_t position) noexcept { touch(sighting(worker, position)); }

  // ---- the writer (slow path) ----
  LearnResult learn(const FdbKey& key, uint16_t port, uint64_t now_ns, uint32_t mac_limit) noexcept;
  // Installs (or moves) a static entry; no MAC limit. kAdded, kMoved,
  // kRefreshed (already static there) or kTableFull.
  LearnResult learn_static(const FdbKey& key, uint16_t port, uint64_t now_ns) noexcept;
  // Records the previous harvest's time as the last sighting of every entry a
  // worker marked since then (a lower bound of the real one), clears the
  // marks and remembers `now_ns`. Returns the count of live entries marked.
  uint32_t harvest(uint64_t now_ns) noexcept;
  // Harvests, then deletes entries older than ageing_ns[network] (0 = never
  // age). Returns the count deleted.
  uint32_t age(uint64_t now_ns, std::span<const uint64_t, kMaxNetworks> ageing_ns) noexcept;
  uint32_t flush_network(uint16_t network) noexcept;
  uint32_t flush_port(uint16_t port) noexcept;
  uint32_t flush_network_port(uint16_t network, uint16_t port) noexcept;
  uint32_t flush_all() noexcept;
  // Harvests, then appends the entries (of one network, or all) to out.
  void dump(std::vector<FdbEntry>& out, uint64_t now_ns, std::optional<uint16_t> network);
  // Returns deleted positions to the table once their grace period is over.
  uint32_t reclaim() noexcept;
  // Deleted positions not yet reclaimed.
  size_t pending_reclaim() const noexcept { return pending_.size(); }

  // ---- statistics (any thread) ----
  const FdbNetworkStats& stats(uint16_t network) const noexcept { return net_stats_[network]; }
  // Live entries pointing at `port` (port-list's MACs), any thread.
  uint64_t port_entries(uint16_t port) const noexcept {
    return port < kMaxPorts ? port_entries_[port].read() : 0;
  }
  // Live entries (deleted-but-unreclaimed positions are not counted).
  uint32_t size() const noexcept { return static_cast<uint32_t>(live_.read()); }
  uint32_t capacity() const noexcept { return capacity_; }

 private:
  void count_port(uint16_t port, int delta) noexcept {
    if (port >= kMaxPorts) return;
    if (delta > 0) {
      port_entries_[port].add();
    } else {
      port_entries_[port].store_sub(1);
    }
  }
  enum class SlotState : uint8_t { kFree, kLive, kDeleted };
  struct Slot {          // writer-only
    FdbKey key;
    uint16_t port = 0;
    SlotState state = SlotState::kFree;
    bool is_static = false;   // learn_static
    uint64_t seen_ns = 0;     // last sighting: learned, moved, refreshed, harvested
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
  static_assert(sizeof(Bucket) == 128 && sizeof(Way) * kLineWays == 64, "two cache lines");

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
  static int32_t find_in(const Bucket& b, uint32_t from, uint32_t to, const FdbProbe& p, uint16_t* port) noexcept {
    for (uint32_t w = from; w < to; ++w) {
      if (b.ways[w].key.load(std::memory_order_acquire) != p.key_word) continue;
      const uint64_t d = b.ways[w].data.load(std::memory_order_relaxed);
      if (static_cast<uint16_t>(d) != p.network) continue;
      *port = static_cast<uint16_t>(d >> 16);
      return static_cast<int32_t>(w);
    }
    return -1;
  }

  Fdb() = default;
  int32_t free_way(uint32_t bucket, uint32_t from, uint32_t to) const noexcept;
  uint32_t used_ways(uint32_t bucket, uint32_t from, uint32_t to) const noexcept;
  int32_t place(const FdbProbe& p) const noexcept;
  void remove(int32_t position) noexcept;
  template <class Pred>
  uint32_t remove_if(Pred pred) noexcept;

  std::atomic<uint64_t> version_{0};
  uint64_t harvested_ns_ = 0;  // the previous harvest's time
  Bucket* buckets_ = nullptr;  // [bucket_mask_ + 1], in buckets_mem_
  TableMemory buckets_mem_;
  TableMemory seen_bits_mem_;
  rte_rcu_qsbr* qsbr_ = nullptr;
  uint32_t bucket_mask_ = 0;
  uint32_t bucket_shift_ = 0;  // 64 - log2(bucket count), for hash2
  uint32_t slot_count_ = 0;    // buckets * kWays
  uint32_t seen_words_ = 0;    // slot_count_ / 64: one worker's bitmap
  uint32_t capacity_ = 0;
  uint16_t max_workers_ = 0;
  std::unique_ptr<Slot[]> slots_;
  std::atomic<uint64_t>* seen_bits_ = nullptr;  // [max_workers_][seen_words_], owned by seen_bits_mem_
  std::vector<PendingFree> pending_;
  std::unique_ptr<FdbNetworkStats[]> net_stats_;  // [kMaxNetworks]
  std::array<Counter, kMaxPorts> port_entries_;    // live entries per port id (writer-owned)
  Counter live_;  // writer-owned gauge
};

}  // namespace vnet::dp
