// vnet::nat — one worker's NAT session table.
//
// Theory of operation
//   A session maps an inside flow (proto, inside addr:port, remote
//   addr:port) to an outside flow (proto, outside addr:port, the same
//   remote). Sessions live in a preallocated array of `capacity` slots with
//   a free-slot stack; two open-addressing indexes (linear probing, load
//   factor <= 1/2, backward-shift deletion, no tombstones) find a session by
//   its inside key (in2out) and by its outside key (out2in). An index entry
//   is 8 bytes (32-bit hash + slot number), the session one 64-byte cache
//   line (56 bytes of fields, aligned: a lookup and its refresh touch one
//   line, which the burst prefetch fetches, where 56-byte slots straddle two
//   lines 7 times in 8), so a session costs about 64 + 2*2*8 (+4 for the
//   free stack) ~ 100 bytes: 1M sessions fit in ~ 100 MB (<= 256 MB,
//   asserted by a unit test).
//   ICMP echo sessions use the identifier as both ports' stand-in
//   (inside id / outside id, remote port 0); portless protocols use 0.
//   Time is injected: every call that needs it takes now_ns (any monotonic
//   nanosecond clock, e.g. TSC converted by the dataplane, or a test clock).
//   Expiry is lazy on lookup (the caller checks expires_ns) plus an
//   incremental sweep, expire(now, budget), which visits `budget` slots
//   per call so the fast path's cost per loop stays bounded. The sweep
//   cycles over the slots below the high-water mark only (the free stack
//   hands out low slots first and takes freed ones back on top, so no
//   session lives above it): a table far larger than its load is swept as
//   often as a full one, and never-used memory is not read.
//   Hashes are seeded per table (seed from the control plane's RNG) so
//   outside peers cannot aim at one probe chain.
//   Nothing here allocates after construction. The four arrays are allocated
//   2 MiB-aligned and advised for transparent huge pages (madvise
//   MADV_HUGEPAGE, at construction, when an array spans at least 2 MiB):
//   lookups land on random slots, and with 4 KiB pages a large table costs a
//   TLB miss (a page walk) per access on top of the cache misses
//   (perf/natbench measures it).
//
// Thread-safety
//   A table belongs to one worker (its NatWorker): only that thread calls
//   any member after construction. Other threads get sessions through the
//   owner (e.g. a command ring that runs dump() on the worker), or while the
//   worker is stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "nat/bytes.h"
#include "nat/conntrack.h"

namespace vnet::nat {

// One side of a session: (proto, local addr:port, remote addr:port), host order.
struct FlowKey {
  uint32_t local_addr = 0;   // inside address (in2out key) or outside address (out2in key)
  uint32_t remote_addr = 0;  // the peer outside the network
  uint16_t local_port = 0;   // port or ICMP identifier
  uint16_t remote_port = 0;  // 0 for ICMP and portless protocols
  uint8_t proto = 0;
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

struct alignas(64) Session {
  uint32_t in_addr;       // guest address, host order
  uint32_t ext_addr;      // outside (NAT) address
  uint32_t remote_addr;   // peer address
  uint16_t in_port;       // guest port / ICMP identifier
  uint16_t ext_port;      // outside port / identifier
  uint16_t remote_port;   // peer port (0: ICMP, portless)
  uint8_t proto;          // IP protocol
  TcpState tcp_state;     // kNone unless TCP
  uint8_t flags;          // kFlagSeenReply | kFlagFin* (conntrack.h)
  uint8_t live;           // 1 when the slot holds a session
  uint16_t reserved;
  uint64_t expires_ns;    // idle deadline on the injected clock
  uint64_t created_ns;    // creation time on the injected clock
  uint64_t pkts_in2out;   // packets translated inside -> outside
  uint64_t pkts_out2in;   // packets translated outside -> inside (incl. related)
  // TCP/UDP: the in2out translation's checksum changes, folded (csum_delta32/16;
  // out2in applies their negations): the address in the IPv4 header, and the
  // address in the pseudo header with the port in the TCP/UDP checksum.
  uint16_t ip_delta;
  uint16_t l4_delta;

  FlowKey in_key() const noexcept {
    return FlowKey{in_addr, remote_addr, in_port, remote_port, proto};
  }
  FlowKey out_key() const noexcept {
    return FlowKey{ext_addr, remote_addr, ext_port, remote_port, proto};
  }
};
static_assert(sizeof(Session) == 64, "Session layout changed: recheck the memory budget");

class SessionTable {
 public:
  // Preallocates everything for `capacity` sessions (1 .. 2^30).
  SessionTable(uint32_t capacity, uint64_t seed);
  SessionTable(const SessionTable&) = delete;
  SessionTable& operator=(const SessionTable&) = delete;

  // Software prefetch for a burst (PMD style): stage 1 the key's home index
  // slot, stage 2 (once that line has had time to arrive) the session the
  // slot points to. Hints only: no effect on the table's state. The
  // overloads taking key_hash(key) let a caller hash each key once for both.
  void prefetch_index(const FlowKey& key, bool out) const noexcept { prefetch_index(key_hash(key), out); }
  void prefetch_session(const FlowKey& key, bool out) const noexcept { prefetch_session(key_hash(key), out); }
  void prefetch_index(uint32_t key_hash, bool out) const noexcept {
    prefetch_line(&(out ? out_index_ : in_index_)[key_hash & index_mask_]);
  }
  void prefetch_session(uint32_t key_hash, bool out) const noexcept {
    const IndexEntry& e = (out ? out_index_ : in_index_)[key_hash & index_mask_];
    if (e.slot != 0) prefetch_line<1>(&sessions_[e.slot - 1]);  // written by the refresh
  }
  // The seeded hash the indexes use for key.
  uint32_t key_hash(const FlowKey& key) const noexcept { return hash(key); }

  Session* find_in(const FlowKey& key) noexcept { return find(in_index_.get(), key, hash(key), false); }
  Session* find_out(const FlowKey& key) noexcept { return find(out_index_.get(), key, hash(key), true); }
  // The same with key_hash(key) computed by the caller (e.g. for a burst
  // prefetch): the key is not hashed again.
  Session* find_in(const FlowKey& key, uint32_t key_hash) noexcept {
    return find(in_index_.get(), key, key_hash, false);
  }
  Session* find_out(const FlowKey& key, uint32_t key_hash) noexcept {
    return find(out_index_.get(), key, key_hash, true);
  }
  // Adds a copy of s (live is set). Neither key may be present already.
  // nullptr when the table is full.
  Session* insert(const Session& s) noexcept;
  void erase(Session* s) noexcept;

  // Removes sessions whose expires_ns <= now_ns among the next `budget`
  // slots of a round-robin sweep. Returns how many were removed.
  size_t expire(uint64_t now_ns, size_t budget) noexcept;
  void clear() noexcept;

  // Copies live, unexpired sessions into out, resuming at *cursor (a slot
  // number, 0 to start) and advancing it; *cursor == capacity() when done.
  size_t dump(std::span<Session> out, uint32_t* cursor, uint64_t now_ns) const noexcept;

  uint32_t size() const noexcept { return size_; }
  uint32_t capacity() const noexcept { return capacity_; }
  // 1 + the highest slot used since clear(): the sweep's range.
  uint32_t high_water() const noexcept { return high_water_; }
  // Bytes preallocated by this table.
  size_t memory_bytes() const noexcept;

 private:
  struct IndexEntry {
    uint32_t hash;  // full key hash (home slot = hash & mask)
    uint32_t slot;  // session slot + 1; 0 = empty
  };

  // GCC takes __builtin_prefetch for an instruction without side effects:
  // a function that only prefetches (a burst's prefetch pass, once these
  // are inlined into it) is deemed const and its calls are deleted. The
  // empty volatile asm keeps the hint.
  template <int kWrite = 0>
  static void prefetch_line(const void* p) noexcept {
    __builtin_prefetch(p, kWrite);
    asm volatile("" : : "r"(p));
  }
  uint32_t hash(const FlowKey& k) const noexcept {
    const uint64_t a = (uint64_t{k.local_addr} << 32) | k.remote_addr;
    const uint64_t b = (uint64_t{k.local_port} << 32) | (uint64_t{k.remote_port} << 16) | k.proto;
    return static_cast<uint32_t>(fmix64(a ^ fmix64(b ^ seed_)) >> 32);
  }
  // Inline: every translated packet looks up one key.
  Session* find(const IndexEntry* index, const FlowKey& key, uint32_t h, bool out) noexcept {
    for (uint32_t pos = h & index_mask_;; pos = (pos + 1) & index_mask_) {
      const IndexEntry& e = index[pos];
      if (e.slot == 0) return nullptr;
      if (e.hash == h) {
        Session& s = sessions_[e.slot - 1];
        if ((out ? s.out_key() : s.in_key()) == key) return &s;
      }
    }
  }
  void index_insert(IndexEntry* index, uint32_t h, uint32_t slot) noexcept;
  void index_erase(IndexEntry* index, uint32_t h, uint32_t slot) noexcept;

  uint32_t capacity_;
  uint32_t index_mask_;
  uint64_t seed_;
  uint32_t size_ = 0;
  uint32_t free_count_ = 0;
  uint32_t sweep_cursor_ = 0;
  uint32_t high_water_ = 0;  // 1 + the highest slot ever used since clear()
  struct FreeDeleter {
    void operator()(void* p) const noexcept;
  };
  template <class T>
  using LargeArray = std::unique_ptr<T[], FreeDeleter>;  // zeroed, huge-page advised (see above)

  std::unique_ptr<Session[], FreeDeleter> sessions_;
  LargeArray<uint32_t> free_;
  LargeArray<IndexEntry> in_index_;
  LargeArray<IndexEntry> out_index_;
};

// One line per session for `vnetctl nat-sessions`, e.g.
// "tcp ESTABLISHED 192.168.122.10:40000 -> 203.0.113.5:80 via 198.51.100.2:40000
//  expires 431990s pkts 12/10". Control side (allocates).
std::string format_session(const Session& s, uint64_t now_ns);
std::string_view proto_name(uint8_t proto) noexcept;

}  // namespace vnet::nat
