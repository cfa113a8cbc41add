// vnet::nat — per-worker NAT: libvirt <forward mode='nat'> done on packets
// in byte buffers (SNAT/masquerade with port ranges, connection tracking,
// ICMP error translation).
//
// Theory of operation
//   The dataplane calls NatWorker::in2out() for an IPv4 packet a guest sends
//   to the gateway MAC for an address off the network, and out2in() for an
//   IPv4 packet arriving from the uplink. The span starts at the IPv4 header
//   and covers at least total_length bytes (trailing padding is ignored).
//   Both translate in place and return a Result (reasons.h):
//     kForward             translated: send it on (the dataplane rewrites L2
//                          and, for routing, calls ttl_decrement() first —
//                          route.h).
//     kForwardUntranslated libvirt's RETURN rules (destination 224.0.0.0/24
//                          or 255.255.255.255) or an inside destination.
//     kRefuse              libvirt's REJECT: drop, and send the source an
//                          ICMP port unreachable (build_port_unreachable()).
//     kDrop                drop (malformed, fragment, exhaustion, ...).
//   Every non-forward outcome is counted under its reason in counters().
//   A caller that parsed the header already passes it (and the session key
//   hash of its burst prefetch) to the in2out()/out2in() overloads that take
//   an Ipv4Info, so that nothing is read or hashed twice.
//
//   in2out (libvirt FWO + LIBVIRT_PRT): the source must be in one of the
//   network's subnets (else src_not_in_network, refused). TCP, UDP, ICMP
//   echo and portless protocols get a session (address + port/id
//   translation; address only for portless ones); ICMP errors from the guest
//   about a translated flow are translated as RELATED. A new mapping keeps
//   the source port when it is in this worker's slice and free for that
//   peer ("port preservation"); otherwise a port is searched from a hashed
//   start in the slice (at most kMaxPortProbes candidates, as Linux bounds
//   its search); failure counts ports_exhausted. Ports are reused across
//   peers (endpoint-dependent, like Linux conntrack): the mapping is unique
//   per (outside addr, port, peer addr, peer port), which is what lets one
//   masquerade address carry far more than 64k sessions.
//   out2in (libvirt FWI "ESTABLISHED,RELATED" accept, else REJECT): only a
//   packet matching a session (established) or an ICMP error quoting one
//   (related) passes; anything else is no_session (refused), or
//   not_our_address when it is not addressed to a NAT address.
//   Checksums are updated incrementally (RFC 1624, checksum.h): IPv4
//   header, TCP/UDP (pseudo header + port), ICMP (identifier), and for ICMP
//   errors the quoted header's checksum, the quoted L4 checksum (when
//   quoted) and the outer ICMP checksum.
//   Fragments are not reassembled (no per-packet buffers) but translated
//   one by one (fragments.h): the first fragment like an unfragmented
//   packet, the later ones with the address noted from the first; a later
//   fragment whose first was not seen is dropped (fragment_no_first).
//   Guests must send complete L4 checksums (the dataplane resolves virtio
//   checksum offload before calling nat/).
//
// Thread-safety
//   A NatWorker (its session table and counters) belongs to one PMD worker:
//   only that thread calls in2out/out2in/expire/sessions. counters() may be
//   read from any thread. Packets for another worker's sessions are steered
//   with PortPlan::out2in_worker()/in2out_worker() before calling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "nat/conntrack.h"
#include "nat/fragments.h"
#include "nat/nat_config.h"
#include "nat/parse.h"
#include "nat/port_plan.h"
#include "nat/reasons.h"
#include "nat/session_table.h"

namespace vnet::nat {

inline constexpr uint32_t kMaxPortProbes = 1024;
// Slots swept for expired sessions before a new session is refused as table_full.
inline constexpr size_t kFullTableSweep = 64;
// Below this many sessions NatWorker::prefetch() does nothing (perf/natbench).
inline constexpr uint32_t kPrefetchMinSessions = 8192;
inline constexpr uint64_t kSweepIntervalNs = 1'000'000;      // housekeeping(): 1 ms between sweeps
inline constexpr uint64_t kSweepPeriodNs = 1'000'000'000;    // every used slot about once a second
inline constexpr size_t kSweepMinSlots = 64;
// in2out()/out2in() with a parsed header: no session key hash from the caller.
inline constexpr uint64_t kNoKeyHash = ~uint64_t{0};

class NatWorker {
 public:
  // config must pass validate(); worker < config.workers. Preallocates a
  // table of `capacity` sessions. seed randomises hashing and port search.
  NatWorker(const NatConfig& config, unsigned worker, uint32_t capacity, uint64_t seed,
            const Timeouts& timeouts = Timeouts{});

  Result in2out(std::span<std::byte> packet, uint64_t now_ns) noexcept;
  Result out2in(std::span<std::byte> packet, uint64_t now_ns) noexcept;

  // The same for a caller that has read the IPv4 header already (the
  // dataplane's L3 stage), so that it is not parsed twice. `ip` holds what
  // parse_ipv4() returns for `packet`, whose structural checks the caller
  // made (version 4, IHL >= 5, total_length >= header_size, both within
  // packet.size()); ip.ttl is not used (the caller may have decremented the
  // TTL since). checksum_verified: the header checksum was verified too;
  // when false it is verified here (a bad one is dropped as
  // bad_ip_checksum, as by parse_ipv4()). key_hash: kNoKeyHash, or for TCP
  // and UDP table().key_hash() of the packet's session key in this
  // direction, computed for a burst prefetch (in2out FlowKey{src, dst,
  // sport, dport, proto}, out2in FlowKey{dst, src, dport, sport, proto});
  // ignored for other protocols. Results, bytes and counters are those of
  // the overloads above, which parse and call these.
  Result in2out(std::span<std::byte> packet, const Ipv4Info& ip, bool checksum_verified, uint64_t now_ns,
                uint64_t key_hash = kNoKeyHash) noexcept;
  Result out2in(std::span<std::byte> packet, const Ipv4Info& ip, bool checksum_verified, uint64_t now_ns,
                uint64_t key_hash = kNoKeyHash) noexcept;

  // Several workers: the worker that must translate this outside-to-inside
  // packet (PortPlan::out2in_worker()), or kAnyWorker to handle it here.
  // Call it on the worker the packet arrived at: a first fragment owned by
  // another worker leaves a steering note here, and the datagram's later
  // fragments (which carry no ports) are sent after it.
  int out2in_worker(std::span<const std::byte> packet, uint64_t now_ns) noexcept;

  // Optional prefetch before a burst: for every packet prefetch(pkt, dir, 1),
  // then prefetch(pkt, dir, 2), then in2out()/out2in() — stage 1 fetches the
  // session index slot, stage 2 the session (see SessionTable). It reads
  // only the addresses, protocol and ports (no checks); a packet in2out or
  // out2in would not look up is ignored, and so is every packet while the
  // table holds fewer than kPrefetchMinSessions sessions (small tables stay
  // in the caches: the prefetch would only cost).
  void prefetch(std::span<const std::byte> packet, Dir dir, int stage) const noexcept;

  // Incremental expiry sweep over `budget` slots.
  size_t expire(uint64_t now_ns, size_t budget) noexcept;
  // The worker's housekeeping, called once per loop: at most every
  // kSweepIntervalNs it sweeps enough slots to visit every used one about
  // once per kSweepPeriodNs (at least kSweepMinSlots), so its cost does not
  // grow with the packet rate. Expired sessions are also dropped when a
  // lookup meets them, and swept at once when the table is full.
  size_t housekeeping(uint64_t now_ns) noexcept;
  // Live sessions for `vnetctl nat-sessions` (see SessionTable::dump()).
  size_t sessions(std::span<Session> out, uint32_t* cursor, uint64_t now_ns) const noexcept {
    return table_.dump(out, cursor, now_ns);
  }

  // Live fragment notes (fragments.h), for statistics and tests.
  size_t fragment_notes(uint64_t now_ns) const noexcept { return fragments_.size(now_ns); }

  const NatCounters& counters() const noexcept { return counters_; }
  const PortPlan& plan() const noexcept { return plan_; }
  const NatConfig& config() const noexcept { return config_; }
  const Timeouts& timeouts() const noexcept { return timeouts_; }
  unsigned worker() const noexcept { return worker_; }
  SessionTable& table() noexcept { return table_; }
  const SessionTable& table() const noexcept { return table_; }

 private:
  Result fail(NatReason r) noexcept {
    counters_.count(r);
    return result_of(r);
  }
  // The live session for key k (h: table_.key_hash(k)); an expired one met
  // here is removed. Inline: one per translated packet.
  Session* lookup_in(const FlowKey& k, uint32_t h, uint64_t now_ns) noexcept {
    return live_or_expire(table_.find_in(k, h), now_ns);
  }
  Session* lookup_out(const FlowKey& k, uint32_t h, uint64_t now_ns) noexcept {
    return live_or_expire(table_.find_out(k, h), now_ns);
  }
  Session* live_or_expire(Session* s, uint64_t now_ns) noexcept {
    if (s != nullptr && s->expires_ns <= now_ns) {
      table_.erase(s);
      counters_.count(NatEvent::kSessionsExpired);
      return nullptr;
    }
    return s;
  }
  Session* lookup_in(const FlowKey& k, uint64_t now_ns) noexcept { return lookup_in(k, table_.key_hash(k), now_ns); }
  Session* lookup_out(const FlowKey& k, uint64_t now_ns) noexcept { return lookup_out(k, table_.key_hash(k), now_ns); }
  Result open_session(const FlowKey& in_key, uint64_t now_ns, Session** created) noexcept;
  // A packet's effect on its session (counts, TCP state, expiry). Inline
  // (nat_inline.h): once per translated packet.
  void refresh(Session* s, Dir dir, uint8_t tcp_flags, uint64_t now_ns) noexcept;
  Result create_in2out(const FlowKey& key, uint8_t tcp_flags, uint64_t now_ns, Session** created) noexcept;
  Result related_in2out(std::span<std::byte> packet, const Ipv4Info& ip, uint64_t now_ns) noexcept;
  Result related_out2in(std::span<std::byte> packet, const Ipv4Info& ip, uint64_t now_ns) noexcept;
  // After the direction's checks: a whole packet or first fragment is
  // translated by its ports (a first fragment leaves a note), a later
  // fragment by its first fragment's note.
  // key_hash as for the public in2out()/out2in().
  Result translate(std::span<std::byte> packet, const Ipv4Info& ip, Dir dir, uint64_t now_ns,
                   uint64_t key_hash) noexcept;
  Result translate_in2out(std::span<std::byte> packet, const Ipv4Info& ip, uint64_t now_ns,
                          uint64_t key_hash) noexcept;
  Result translate_out2in(std::span<std::byte> packet, const Ipv4Info& ip, uint64_t now_ns,
                          uint64_t key_hash) noexcept;
  // A translated first fragment: note its new address for the later ones.
  void note_first_fragment(std::span<const std::byte> packet, const Ipv4Info& ip, Dir dir,
                           uint64_t now_ns) noexcept;
  Result later_fragment(std::span<std::byte> packet, const Ipv4Info& ip, Dir dir, uint64_t now_ns) noexcept;

  NatConfig config_;
  PortPlan plan_;
  Timeouts timeouts_;
  unsigned worker_;
  uint64_t seed_;
  SessionTable table_;
  uint64_t next_sweep_ns_ = 0;
  FragmentNotes fragments_;
  NatCounters counters_;
};

// True for destinations libvirt never NATs (its RETURN rules):
// 255.255.255.255 and 224.0.0.0/24.
constexpr bool is_no_nat_destination(uint32_t dst) noexcept {
  return dst == 0xffffffffu || (dst & 0xffffff00u) == 0xe0000000u;
}

}  // namespace vnet::nat

#include "nat/nat_inline.h"  // IWYU pragma: export
