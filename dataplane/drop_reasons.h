// vnet::dp — named reasons for every dropped or punted packet (STYLE 6).
//
// Theory of operation
//   VNET_DP_REASONS is the one table of reasons: enumerator, wire name (used by
//   the control socket `stats` command and the docs) and a one-line meaning.
//   Everything else — the DropReason enum, reason_name(), the per-port
//   counter arrays — is generated from it, so a new reason is one line here.
//   Most reasons drop the packet. Two do not: learn_ring_full and fdb_full
//   lose a learn event (the packet is still forwarded, flooded until the MAC
//   is learned), and they are counted in the same table so that every loss
//   is visible in one place.
//   The gateway reasons (punt_handler_error, inject_*) are counted by the
//   slow path on the gateway port; port_removed by the control thread.
//   The L3 reasons (l3_*, ttl_expired, neighbor_miss, ...) are counted by the
//   workers on the rx port of the L3 path (l3.h), with details in l3_stats.
//
// Thread-safety
//   Counter is a single-writer counter: only its owner thread (a worker, or
//   the slow path for fdb_full) calls add(); any thread may read() it. It is
//   a relaxed atomic so that concurrent reads are not data races; add() is a
//   plain load + store, not a locked read-modify-write.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace vnet::dp {

// X(enumerator, name, meaning)
#define VNET_DP_REASONS(X)                                                              \
  X(kRunt, "runt", "frame shorter than its Ethernet (+802.1Q) header")                  \
  X(kSrcMacMulticast, "src_mac_multicast", "source MAC is multicast or broadcast")      \
  X(kSrcMacZero, "src_mac_zero", "source MAC is 00:00:00:00:00:00")                    \
  X(kNoPort, "no_port", "rx or tx port is not (or no longer) in the configuration")    \
  X(kVlanNotAllowed, "vlan_not_allowed", "VLAN not admitted on the rx or tx port")      \
  X(kIsolated, "isolated", "isolated port to isolated port")                            \
  X(kLoop, "loop", "destination is learned on the port the frame came from")            \
  X(kMtuExceeded, "mtu_exceeded", "L3 payload larger than the network MTU")             \
  X(kNoFloodTarget, "no_flood_target", "flooded frame had no port to go to")            \
  X(kCopyFailed, "copy_failed", "mbuf pool empty while copying a flooded frame")        \
  X(kNoHeadroom, "no_headroom", "no mbuf headroom to push an 802.1Q tag")               \
  X(kTxFull, "tx_full", "tx queue full or port link down")                              \
  X(kPuntRingFull, "punt_ring_full", "slow-path punt ring full")                        \
  X(kLearnRingFull, "learn_ring_full", "learn event lost: ring full (not a drop)")      \
  X(kFdbFull, "fdb_full", "learn refused: network MAC limit or table full (not a drop)") \
  X(kGatewayMacSpoofed, "gateway_mac_spoofed", "guest frame with the gateway's source MAC")  \
  X(kPuntHandlerError, "punt_handler_error", "the gateway's punt handler failed on a frame") \
  X(kInjectInvalid, "inject_invalid", "gateway frame runt, oversized or with a bad VLAN") \
  X(kInjectNoMbuf, "inject_no_mbuf", "mbuf pool empty while injecting a gateway frame")   \
  X(kInjectRingFull, "inject_ring_full", "gateway port input ring full")                  \
  X(kPortRemoved, "port_removed", "frame still queued on a ring port when it was removed") \
  X(kL3Refused, "l3_refused", "L3: refused like libvirt's REJECT (an ICMP error is sent back)") \
  X(kL3Dropped, "l3_dropped", "L3: dropped by NAT/route (reason in l3_stats)")             \
  X(kTtlExpired, "ttl_expired", "L3: TTL <= 1 when routing (ICMP time exceeded sent back)") \
  X(kNeighborMiss, "neighbor_miss", "L3: no MAC for the next hop or guest yet (ARP sent)")  \
  X(kNoGuestPort, "no_guest_port", "L3: the guest's MAC is not in the FDB")                 \
  X(kUplinkNotForUs, "uplink_not_for_us", "L3: uplink frame not addressed to us")           \
  X(kUplinkUnsupported, "uplink_unsupported", "L3: uplink frame neither IPv4 nor ARP")      \
  X(kHandoffFull, "handoff_full", "L3: the session owner's handoff ring was full")

enum class DropReason : uint8_t {
#define VNET_DP_REASON_ENUM(e, name, meaning) e,
  VNET_DP_REASONS(VNET_DP_REASON_ENUM)
#undef VNET_DP_REASON_ENUM
};

inline constexpr size_t kDropReasonCount = 0
#define VNET_DP_REASON_COUNT(e, name, meaning) +1
    VNET_DP_REASONS(VNET_DP_REASON_COUNT)
#undef VNET_DP_REASON_COUNT
    ;

inline constexpr std::array<std::string_view, kDropReasonCount> kDropReasonNames{
#define VNET_DP_REASON_NAME(e, name, meaning) std::string_view{name},
    VNET_DP_REASONS(VNET_DP_REASON_NAME)
#undef VNET_DP_REASON_NAME
};

inline constexpr std::array<std::string_view, kDropReasonCount> kDropReasonMeanings{
#define VNET_DP_REASON_MEANING(e, name, meaning) std::string_view{meaning},
    VNET_DP_REASONS(VNET_DP_REASON_MEANING)
#undef VNET_DP_REASON_MEANING
};

constexpr std::string_view reason_name(DropReason r) noexcept {
  return kDropReasonNames[static_cast<size_t>(r)];
}

// A single-writer statistics counter (see Thread-safety above).
class Counter {
 public:
  void add(uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t read() const noexcept { return v_.load(std::memory_order_relaxed); }
  // Owner only: for gauges (e.g. current FDB entries) that go down too.
  void store_sub(uint64_t n) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  void reset() noexcept { v_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Per-reason counters, owned by one thread.
struct DropCounters {
  std::array<Counter, kDropReasonCount> by_reason;

  void add(DropReason r, uint64_t n = 1) noexcept { by_reason[static_cast<size_t>(r)].add(n); }
  uint64_t read(DropReason r) const noexcept { return by_reason[static_cast<size_t>(r)].read(); }
  void reset() noexcept {
    for (auto& c : by_reason) c.reset();
  }
};

// A plain snapshot of DropCounters, summed over owners.
using DropTotals = std::array<uint64_t, kDropReasonCount>;

}  // namespace vnet::dp
