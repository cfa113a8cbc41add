// vnet::nat — notes that carry a datagram's translation from its first IPv4
// fragment to the later ones.
//
// Theory of operation
//   Linux NATs a fragmented datagram by reassembling it first (nf_defrag)
//   and fragmenting it again on output. vnet's NAT keeps no packet buffers,
//   so it translates fragments one by one ("virtual reassembly"): the first
//   fragment (offset 0) carries the L4 header, is translated like an
//   unfragmented packet (its L4 checksum covers the whole datagram and gets
//   the same incremental update), and leaves a note keyed by the datagram
//   as it arrived (source, destination, protocol, IP identification,
//   direction) holding the translated address. A later fragment carries no
//   ports: it takes the address from the note (its IPv4 header checksum is
//   updated), or is dropped (fragment_no_first) when no note exists — its
//   first fragment was lost or comes later (reordering; Linux would have
//   waited for it).
//   A note counts the payload bytes of the fragments it has seen and is
//   removed when they add up to the datagram's size (known from the last
//   fragment, MF clear); otherwise it expires kFragmentTimeoutNs after it
//   was written (Linux's net.ipv4.ipfrag_time). Several workers: a note may
//   instead name the worker that owns the datagram's session (steering
//   note), so that later fragments follow the first to that worker.
//   Storage: a fixed array of sets of kFragmentWays notes, seeded hash of
//   the key; a full set replaces its note that expires first (counted by
//   the caller as an eviction).
//
// Thread-safety
//   One table per NatWorker, used by that worker's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nat/conntrack.h"

namespace vnet::nat {

inline constexpr uint64_t kFragmentTimeoutNs = 30'000'000'000ull;  // net.ipv4.ipfrag_time = 30 s
inline constexpr uint32_t kFragmentWays = 4;
inline constexpr uint32_t kFragmentNotesPerWorker = 1024;

// A fragmented datagram as it arrived (host order).
struct FragmentKey {
  uint32_t src = 0;
  uint32_t dst = 0;
  uint16_t id = 0;
  uint8_t proto = 0;
  Dir dir = Dir::kIn2Out;
  friend bool operator==(const FragmentKey&, const FragmentKey&) = default;
};

struct FragmentNote {
  FragmentKey key;
  uint32_t addr = 0;      // translated address (translation note)
  int16_t worker = -1;    // >= 0: steering note, the datagram's owning worker
  uint32_t seen = 0;      // payload bytes of the fragments seen
  uint32_t total = 0;     // the datagram's payload size once its last fragment is seen, else 0
  uint64_t expires_ns = 0;  // 0: free
};

class FragmentNotes {
 public:
  // capacity is rounded up to a multiple of kFragmentWays.
  FragmentNotes(uint32_t capacity, uint64_t seed);

  // The live note for key, or nullptr.
  FragmentNote* find(const FragmentKey& key, uint64_t now_ns) noexcept;
  // A note for key, live for kFragmentTimeoutNs from now (an existing note
  // for key is reset). *evicted: a live note of another datagram was
  // replaced to make room.
  FragmentNote* add(const FragmentKey& key, uint64_t now_ns, bool* evicted) noexcept;
  // Accounts one fragment of the note's datagram (offset and payload in
  // bytes, MF flag); removes the note and returns true when every byte of
  // the datagram has been seen.
  bool account(FragmentNote* note, uint32_t offset, uint32_t payload, bool more) noexcept;

  // Live notes (a scan: for statistics and tests).
  size_t size(uint64_t now_ns) const noexcept;
  size_t capacity() const noexcept { return notes_.size(); }

 private:
  FragmentNote* set_of(const FragmentKey& key) noexcept;

  std::vector<FragmentNote> notes_;
  uint32_t sets_;
  uint64_t seed_;
};

}  // namespace vnet::nat
