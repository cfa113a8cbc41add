// vnet::dp — the forwarding database: (network, VLAN, MAC) -> port.
//
// Theory of operation
//   One rte_hash for all networks, created with
//   RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | EXT_TABLE: lookups are lock-free
//   and may run concurrently with the single writer. The hash data pointer
//   carries the port id, so a MAC move is one atomic store of the data
//   (readers see the old or the new port, never garbage). The position that
//   rte_hash returns for a key indexes side arrays:
//     - Slot (writer-only): key, when learned/moved, state.
//     - last_seen[worker][position] (one array per worker, written only by
//       that worker, read by the writer): the worker "touches" an entry when
//       it sees the source MAC again, at most once per kTouchInterval, so
//       ageing needs no events for known MACs.
//   Workers never write the table; they post LearnEvents (see events.h) for
//   unknown or moved source MACs and the slow-path thread calls learn().
//   A deleted key (ageing, flush) is removed from the hash at once, but its
//   position — and so its side-array slots — is only returned to the hash
//   with rte_hash_free_key_with_position() after a QSBR grace period
//   (reclaim()), because a worker may still hold the position.
//   Ageing: an entry whose newest sighting (max of learned_ns and every
//   worker's last_seen) is older than its network's ageing time is deleted
//   by age(). The per-network MAC limit is checked on learn(); a refused
//   learn is counted (limit_hits) and the frame keeps being flooded.
//   Static entries (learn_static: the gateway MAC on the gateway port) never
//   age, are never moved by learn() (kStatic), and survive flush_network /
//   flush_network_port (user flushes); flush_port and flush_all remove them.
//
// Thread-safety
//   Reader API (lookup, touch): any registered worker, concurrently with the
//   writer; touch(w, ...) only from worker w. Writer API (learn, age, flush*,
//   dump, reclaim): only the slow-path thread — the single writer — or, when
//   no slow path runs (tests), one thread at a time. Statistics: written by
//   the writer, readable from any thread.
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

struct rte_hash;
struct rte_rcu_qsbr;

namespace vnet::dp {

// The hash key: 16 bytes, padding always zero. 16 (not the 12 the fields
// need) because rte_hash compares 16-byte keys with one vector compare and
// other lengths with memcmp.
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
  std::string name = "vnet_fdb";  // rte_hash name, unique per EAL
  uint32_t capacity = 65536;      // entries across all networks
  uint16_t max_workers = 1;       // number of last_seen arrays
  rte_rcu_qsbr* qsbr = nullptr;   // readers' QSBR variable (required)
  int socket_id = -1;             // SOCKET_ID_ANY
};

enum class LearnResult : uint8_t {
  kAdded,      // new entry
  kRefreshed,  // same port, learned_ns updated
  kMoved,      // MAC moved to another port
  kLimit,      // network MAC limit reached: not learned
  kTableFull,  // rte_hash out of space: not learned
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

class Fdb {
 public:
  // A worker refreshes last_seen at most this often per entry.
  static constexpr uint64_t kTouchIntervalNs = 1'000'000'000ull;
  static constexpr uint32_t kDefaultMacLimit = 8192;
  static constexpr uint64_t kDefaultAgeingNs = 300ull * 1'000'000'000ull;

  static Result<std::unique_ptr<Fdb>> create(const FdbOptions& options);
  ~Fdb();
  Fdb(const Fdb&) = delete;
  Fdb& operator=(const Fdb&) = delete;

  // ---- readers (workers) ----
  // Returns the position (>= 0) and sets *port, or -1 on a miss.
  int32_t lookup(const FdbKey& key, uint16_t* port) const noexcept;
  // Refreshes the entry's last sighting for worker `worker` (its own array).
  void touch(uint16_t worker, int32_t position, uint64_t now_ns) noexcept {
    std::atomic<uint64_t>& ls = last_seen_[size_t{worker} * slot_count_ + static_cast<uint32_t>(position)];
    if (now_ns - ls.load(std::memory_order_relaxed) >= kTouchIntervalNs)
      ls.store(now_ns, std::memory_order_relaxed);
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
  // Returns deleted positions to the hash once their grace period is over.
  uint32_t reclaim() noexcept;
  // Deleted positions not yet reclaimed.
  size_t pending_reclaim() const noexcept { return pending_.size(); }

  // ---- statistics (any thread) ----
  const FdbNetworkStats& stats(uint16_t network) const noexcept { return net_stats_[network]; }
  // Live entries (deleted-but-unreclaimed positions are not counted).
  uint32_t size() const noexcept { return static_cast<uint32_t>(live_.read()); }

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

  Fdb() = default;
  uint64_t last_sighting(int32_t position) const noexcept;
  void remove(int32_t position) noexcept;
  template <class Pred>
  uint32_t remove_if(Pred pred) noexcept;

  rte_hash* hash_ = nullptr;
  rte_rcu_qsbr* qsbr_ = nullptr;
  uint32_t slot_count_ = 0;  // rte_hash_max_key_id() + 1
  uint16_t max_workers_ = 0;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<std::atomic<uint64_t>[]> last_seen_;  // [max_workers_][slot_count_]
  std::vector<PendingFree> pending_;
  std::unique_ptr<FdbNetworkStats[]> net_stats_;  // [kMaxNetworks]
  Counter live_;  // writer-owned gauge
};

}  // namespace vnet::dp
