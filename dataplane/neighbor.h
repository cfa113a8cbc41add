// vnet::dp — a network's neighbour table (IPv4 -> MAC, RFC 826), inside and
// uplink side, for the L3 path (l3.h).
//
// Theory of operation
//   A fixed array of slots, open addressing with linear probing over at most
//   kMaxProbes slots from a hashed home slot. Each slot holds the IPv4
//   address, the MAC and the time it was last confirmed. Readers (the PMD
//   workers) look entries up without locks; the single writer (the slow
//   path) updates a slot under a per-slot sequence counter (a seqlock: odd
//   while the slot is being written), and a reader retries a slot whose
//   counter changed or was odd while it read, so it never sees an address
//   with another address' MAC. Removal leaves a tombstone (kTombstone) so
//   probe chains stay intact; an insert reuses the first tombstone of its
//   chain. An address not found within kMaxProbes slots is not stored
//   (kFull, counted by the caller). 0.0.0.0 and 255.255.255.255 are never
//   stored (they mark empty and deleted slots).
//   Entries are filled by ARP the slow path sees (guests' ARP reaching the
//   gateway port, ARP on the uplink) and removed by age() when they were not
//   confirmed for the ageing time.
//
// Thread-safety
//   lookup(), size(), dump(): any thread. learn(), remove(), age(): the
//   single writer (the slow-path thread, or one test thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/net/ether.h"

namespace vnet::dp {

struct NeighborEntry {
  uint32_t ip = 0;  // host order
  net::MacAddr mac;
  uint64_t updated_ns = 0;  // last confirmation, writer's clock
};

class NeighborTable {
 public:
  static constexpr uint32_t kMaxProbes = 32;
  static constexpr uint32_t kEmpty = 0;
  static constexpr uint32_t kTombstone = 0xffffffffu;

  enum class Update : uint8_t { kAdded, kChanged, kRefreshed, kFull, kInvalid };

  // capacity: slots, rounded up to a power of two (>= 64).
  explicit NeighborTable(uint32_t capacity);
  NeighborTable(const NeighborTable&) = delete;
  NeighborTable& operator=(const NeighborTable&) = delete;

  // ---- readers ----
  bool lookup(uint32_t ip, net::MacAddr* mac) const noexcept;
  uint32_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
  // A consistent copy of every entry (control side; allocates).
  std::vector<NeighborEntry> dump() const;

  // ---- the writer ----
  Update learn(uint32_t ip, const net::MacAddr& mac, uint64_t now_ns) noexcept;
  bool remove(uint32_t ip) noexcept;
  // Removes entries not confirmed for max_age_ns; returns how many.
  uint32_t age(uint64_t now_ns, uint64_t max_age_ns) noexcept;
  // The last confirmation of ip, or 0 when absent (writer only).
  uint64_t updated_ns(uint32_t ip) const noexcept;

 private:
  struct alignas(32) Slot {
    std::atomic<uint32_t> seq{0};  // odd while written
    std::atomic<uint32_t> ip{kEmpty};
    std::atomic<uint64_t> mac{0};  // 48-bit MAC, wire order in the low 6 bytes
    std::atomic<uint64_t> updated_ns{0};
  };
  uint32_t home(uint32_t ip) const noexcept;
  // Reads a slot consistently.
  static void read(const Slot& s, uint32_t* ip, uint64_t* mac) noexcept;
  static void write(Slot& s, uint32_t ip, uint64_t mac, uint64_t now_ns) noexcept;
  Slot* find_writer(uint32_t ip) noexcept;

  uint32_t mask_;
  std::unique_ptr<Slot[]> slots_;
  std::atomic<uint32_t> size_{0};
};

uint64_t mac_to_u64(const net::MacAddr& m) noexcept;
net::MacAddr u64_to_mac(uint64_t v) noexcept;

}  // namespace vnet::dp
