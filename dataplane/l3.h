// vnet::dp — the L3 path of a network: libvirt <forward mode='nat'|'route'|
// 'open'> between the guests and an uplink port, done by the PMD workers.
//
// Theory of operation
//   A network with an L3 configuration (Dataplane::set_l3) has an uplink
//   port (role uplink: polled by a worker, never flooded to, never learned
//   on, never switched at L2) and, in its snapshot NetworkState, an L3State:
//   the mode, the inside subnets and gateway addresses, the outside address
//   and NAT range, the uplink port and MAC, and pointers to the state the
//   dataplane mutates, owned by the facade's L3 runtime (not the snapshot):
//   the neighbour table (neighbor.h; slow path writes, workers read), one
//   nat::NatWorker per worker (mode nat; each touched only by its worker)
//   and one L3Counters per worker.
//   Stages (stages.h, l3.cc):
//     l3_uplink_stage  (after ingress, for bursts from an uplink port) —
//       ARP -> punted to the slow path (answers who-has for our addresses,
//       learns neighbours); IPv4 to one of our outside addresses (nat) or to
//       anything but us (route/open) -> nat::NatWorker::out2in() /
//       nat::route_inbound(), TTL, L2 rewrite (source = gateway MAC,
//       destination = the guest's MAC from the neighbour table) and
//       forwarding to the guest's port found in the FDB (VLAN 0; unknown ->
//       counted drop, never flooded); anything else -> counted drop.
//       An ICMP echo request to one of our outside addresses is answered
//       in place. In mode nat a packet routed to a guest's own address is
//       refused (libvirt's FWI REJECT), one to another address dropped.
//     l3_route_stage   (after learn, for guest ports) — a frame to the
//       gateway MAC, VLAN 0, IPv4, destination neither a gateway address nor
//       inside the network: verify the header, finish a partial L4 checksum
//       (virtio NEEDS_CSUM / mbuf TX checksum flags), TTL (expired -> ICMP
//       time exceeded from the gateway address back to the guest), NAT
//       in2out / route_outbound, L2 rewrite (source = uplink MAC,
//       destination = next hop's MAC, or the destination's when on-link)
//       and forwarding on the uplink. Refused (libvirt REJECT) -> the frame
//       is rewritten in place into an ICMP port unreachable to the sender.
//   Both stages read a packet's IPv4 header once: NAT gets the header the
//   stage parsed (nat::NatWorker::in2out()/out2in() with an Ipv4Info; for
//   the common header, no options and not a fragment, the checksum is left
//   to NAT to verify) and, when the burst was prefetched (tables of
//   nat::kPrefetchMinSessions sessions or more), the session key hash the
//   prefetch computed, kept per packet for the stage call.
//   ICMP errors (both directions) are limited to kIcmpErrorsPerSec per
//   worker and network (RFC 1812 4.3.2.8); the excess is dropped, counted.
//   Frames larger than the first mbuf segment (jumbo chains) are not
//   translated: nat/ sees them truncated and drops them (truncated).
//   A neighbour miss drops the packet (neighbor_miss) and posts a
//   ResolveRequest to the slow path (per-worker SPSC ring, deduplicated by a
//   small per-worker ResolveFilter); the slow path sends an ARP request,
//   rate-limited per address, into the network (through the gateway port's
//   input ring) or on the uplink (through the uplink's extra tx queue, id =
//   worker count, owned by the slow path).
//   Several workers (nat): a session lives on the worker that created it
//   (its port slice, nat::PortPlan); a packet whose owner is another worker
//   is handed to it through that worker's MP/SC handoff ring, drained at the
//   start of each of its loops (handoff_full counts a full ring).
//   Once per loop each of a worker's session tables gets its housekeeping
//   (l3_housekeeping -> NatWorker::housekeeping(): a sweep every 1 ms sized
//   to visit every used slot about once a second).
//   Everything that is not forwarded is counted: port drops by DropReason
//   (l3_refused, l3_dropped, neighbor_miss, ...), plus the NAT library's
//   reasons and events and the L3 events below (Dataplane::l3_stats).
//
// Thread-safety
//   L3State is part of the immutable snapshot. NatWorker[w] and
//   L3Counters[w] are written by worker w only. The neighbour table has one
//   writer, the slow path. L3Binding is the slow path's (attach/detach
//   commands). Counters are readable from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dataplane/config.h"
#include "dataplane/constants.h"
#include "dataplane/drop_reasons.h"
#include "dataplane/net/ether.h"
#include "dataplane/neighbor.h"
#include "nat/nat.h"
#include "nat/route.h"

namespace vnet::dp {

// X(enumerator, name, meaning) — counted per worker (fast path) or by the
// slow path (ARP), summed by l3_stats.
#define VNET_L3_EVENTS(X)                                                                  \
  X(kRoutedOut, "routed_out", "packets sent on the uplink")                               \
  X(kRoutedIn, "routed_in", "packets from the uplink sent to a guest")                     \
  X(kNeighborMiss, "neighbor_miss", "dropped: no MAC for the next hop or the guest yet")   \
  X(kResolvePosted, "resolve_posted", "neighbour resolve requests posted to the slow path") \
  X(kResolveRingFull, "resolve_ring_full", "resolve request lost: ring full")               \
  X(kIcmpErrorsSent, "icmp_errors_sent", "ICMP port unreachable / time exceeded sent")       \
  X(kIcmpErrorsSuppressed, "icmp_errors_suppressed", "refusal or expiry without an ICMP error (RFC 1812 4.3.2.7)") \
  X(kIcmpRateLimited, "icmp_rate_limited", "ICMP error not sent: over kIcmpErrorsPerSec (RFC 1812 4.3.2.8)") \
  X(kChecksumCompleted, "checksum_completed", "partial L4 checksums finished before NAT")   \
  X(kNoGuestPort, "no_guest_port", "dropped: guest MAC not in the FDB (never flooded)")     \
  X(kUplinkArp, "uplink_arp", "ARP frames from the uplink punted to the slow path")         \
  X(kUplinkNotForUs, "uplink_not_for_us", "dropped: uplink frame not addressed to us")      \
  X(kUplinkUnsupported, "uplink_unsupported", "dropped: uplink frame neither IPv4 nor ARP")  \
  X(kToOutsideAddress, "to_outside_address", "dropped: packet to our own outside address (not NAT return traffic, not a ping)") \
  X(kEchoReplies, "echo_replies", "ICMP echo requests to our outside addresses answered")    \
  X(kHandoffOut, "handoff_out", "packets handed to the session's owning worker")            \
  X(kHandoffIn, "handoff_in", "packets received from another worker")                        \
  X(kHandoffFull, "handoff_full", "dropped: the owning worker's handoff ring was full")     \
  X(kArpRepliesSent, "arp_replies_sent", "ARP replies for our outside addresses")           \
  X(kArpRequestsUplink, "arp_requests_uplink", "ARP requests sent on the uplink")           \
  X(kArpRequestsInside, "arp_requests_inside", "ARP requests sent into the network")        \
  X(kArpIgnored, "arp_ignored", "uplink ARP not for us, probes (sender 0.0.0.0), malformed") \
  X(kResolveRateLimited, "resolve_rate_limited", "resolve requests within the rate limit")  \
  X(kNeighborsLearned, "neighbors_learned", "neighbour entries added or changed")            \
  X(kNeighborsAged, "neighbors_aged", "neighbour entries aged out")                          \
  X(kNeighborTableFull, "neighbor_table_full", "neighbour not stored: probe chain full")     \
  X(kUplinkTxFailed, "uplink_tx_failed", "slow-path frame not taken by the uplink or no mbuf")

enum class L3Event : uint8_t {
#define VNET_L3_EVENT_ENUM(e, name, meaning) e,
  VNET_L3_EVENTS(VNET_L3_EVENT_ENUM)
#undef VNET_L3_EVENT_ENUM
};

inline constexpr size_t kL3EventCount = 0
#define VNET_L3_EVENT_COUNT(e, name, meaning) +1
    VNET_L3_EVENTS(VNET_L3_EVENT_COUNT)
#undef VNET_L3_EVENT_COUNT
    ;

inline constexpr std::array<std::string_view, kL3EventCount> kL3EventNames{
#define VNET_L3_EVENT_NAME(e, name, meaning) std::string_view{name},
    VNET_L3_EVENTS(VNET_L3_EVENT_NAME)
#undef VNET_L3_EVENT_NAME
};

// ICMP errors one worker sends per second and network, at most (like Linux's icmp_ratelimit).
inline constexpr uint32_t kIcmpErrorsPerSec = 1000;

// One owner thread's L3 counters for one network.
struct alignas(64) L3Counters {
  std::array<Counter, kL3EventCount> events;
  nat::NatCounters route;  // route/open decisions, TTL and header checks of the L3 path
  uint64_t icmp_window_ns = 0;  // owner only: start of the current one-second window
  uint32_t icmp_in_window = 0;  // owner only: errors sent in it

  // Owner only: true when one more ICMP error may be sent now.
  bool icmp_allowed(uint64_t now_ns) noexcept {
    if (now_ns - icmp_window_ns >= 1'000'000'000ull) {
      icmp_window_ns = now_ns;
      icmp_in_window = 0;
    }
    return icmp_in_window++ < kIcmpErrorsPerSec;
  }

  void count(L3Event e, uint64_t n = 1) noexcept { events[static_cast<size_t>(e)].add(n); }
  uint64_t read(L3Event e) const noexcept { return events[static_cast<size_t>(e)].read(); }
};

// A network's L3 configuration as the workers see it (in NetworkState).
struct L3State {
  bool enabled = false;
  L3Mode mode = L3Mode::kNat;
  nat::RoutePolicy policy;                       // mode + inside subnets (libvirt S)
  std::array<uint32_t, nat::kMaxSubnets> gateway_ips{};  // our inside addresses, host order
  uint8_t gateway_ip_count = 0;
  uint32_t outside_ip = 0;                       // host order
  uint32_t outside_mask = 0;                     // on-link test on the uplink
  uint32_t next_hop = 0;                         // 0 = on-link
  uint32_t nat_first = 0, nat_last = 0;          // our outside addresses (nat; = outside_ip when masquerading)
  uint16_t uplink_port = 0;                      // ethdev id
  net::MacAddr uplink_mac;
  NeighborTable* neighbors = nullptr;            // facade-owned
  std::array<nat::NatWorker*, kMaxWorkers> nat{};  // mode nat, per worker, facade-owned
  std::array<L3Counters*, kMaxWorkers> counters{};  // per worker, facade-owned

  bool is_gateway_ip(uint32_t a) const noexcept {
    if (gateway_ip_count == 1) return gateway_ips[0] == a;  // the usual one <ip>, without the loop
    for (uint8_t i = 0; i < gateway_ip_count; ++i)
      if (gateway_ips[i] == a) return true;
    return false;
  }
  // Our inside address towards guest `a` (the gateway of its subnet).
  uint32_t gateway_ip_for(uint32_t a) const noexcept {
    for (uint8_t i = 0; i < policy.subnets.count; ++i)
      if (policy.subnets.items[i].contains(a)) return gateway_ips[i];
    return gateway_ip_count > 0 ? gateway_ips[0] : 0;
  }
  bool is_outside_address(uint32_t a) const noexcept {
    return a == outside_ip || (a >= nat_first && a <= nat_last && nat_first != 0);
  }
  bool on_link(uint32_t a) const noexcept { return (a & outside_mask) == (outside_ip & outside_mask); }
};

// A worker's deduplication of resolve requests: one request per address per
// kIntervalNs (direct-mapped; a collision merely costs one more request).
class ResolveFilter {
 public:
  static constexpr uint32_t kSlots = 64;
  static constexpr uint64_t kIntervalNs = 100'000'000ull;
  bool should_post(uint16_t network, uint32_t ip, uint64_t now_ns) noexcept {
    Entry& e = slots_[(ip * 2654435761u + network) & (kSlots - 1)];
    if (e.ip == ip && e.network == network && now_ns - e.at_ns < kIntervalNs) return false;
    e = Entry{ip, network, now_ns};
    return true;
  }

 private:
  struct Entry {
    uint32_t ip = 0;
    uint16_t network = 0;
    uint64_t at_ns = 0;
  };
  std::array<Entry, kSlots> slots_{};
};

// A network's L3 as the slow path uses it (ARP, neighbour resolution).
// Owned by the facade; used by the slow path between attach and detach.
struct L3Binding {
  uint16_t network = 0;
  uint16_t uplink_port = 0;
  net::MacAddr uplink_mac;
  uint32_t outside_ip = 0;
  uint32_t outside_mask = 0;
  uint32_t next_hop = 0;
  uint32_t nat_first = 0, nat_last = 0;
  nat::SubnetSet inside;
  std::vector<uint32_t> gateway_ips;  // parallel to inside.items
  NeighborTable* neighbors = nullptr;
  L3Counters counters;  // slow-path events (ARP)
  // Slow-path private.
  std::unordered_map<uint32_t, uint64_t> last_request_ns;  // resolve rate limit
  uint64_t next_hop_refresh_ns = 0;

  bool is_outside_address(uint32_t a) const noexcept {
    return a == outside_ip || (nat_first != 0 && a >= nat_first && a <= nat_last);
  }
};

// A control-side query of one worker's NAT sessions, run by that worker
// (WorkerOp::kNatQuery): the table's size and up to out.size() sessions.
struct NatQuery {
  nat::NatWorker* nat = nullptr;
  uint64_t now_ns = 0;                 // the worker's clock when it answered
  std::vector<nat::Session> storage;   // control side: backs `out`
  std::span<nat::Session> out;
  size_t filled = 0;
  uint32_t size = 0;
  std::atomic<bool> done{false};
};
void run_nat_query(NatQuery* q, uint64_t now_ns) noexcept;

// What the facade owns for a network's L3 (the snapshot points into it).
struct L3Runtime {
  std::unique_ptr<NeighborTable> neighbors;
  std::vector<std::unique_ptr<nat::NatWorker>> nat;     // mode nat: one per worker
  std::vector<std::unique_ptr<L3Counters>> counters;    // one per worker
  L3Binding binding;                                    // the slow path's view
};

}  // namespace vnet::dp
