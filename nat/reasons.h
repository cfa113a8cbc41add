// vnet::nat — named reasons for every NAT/route refusal and drop, and the
// per-worker counters behind them (STYLE rule 6).
//
// Theory of operation
//   VNET_NAT_REASONS is the one table: enumerator, wire name (for the
//   control socket and the docs), the verdict it implies and a one-line
//   meaning. kRefuse reasons mirror libvirt's REJECT rules: the dataplane
//   answers them with what REJECT sends by default, an ICMP port unreachable
//   (build_port_unreachable() in icmp_build.h). kDrop reasons are dropped
//   silently (malformed, resource exhaustion) and kNone rows are events that
//   are counted but do not drop the packet.
//
// Thread-safety
//   NatCounters belongs to one worker: only that worker calls add(); any
//   thread may read(). Each counter is a relaxed atomic written with a plain
//   load + store (no locked read-modify-write), so reads are not data races.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vnet::nat {

// What the dataplane does with a packet after a nat/ decision.
enum class Verdict : uint8_t {
  kForward,              // translated (or routed) in place: send it on
  kForwardUntranslated,  // libvirt RETURN rule: send it on without NAT
  kRefuse,               // libvirt REJECT: drop and answer ICMP port unreachable
  kDrop,                 // drop silently
};

// X(enumerator, name, verdict, meaning)
#define VNET_NAT_REASONS(X)                                                                   \
  X(kNone, "none", kForward, "not a drop: the packet was forwarded")                          \
  X(kTruncated, "truncated", kDrop, "shorter than its IPv4 header, total length or L4 header") \
  X(kBadIpHeader, "bad_ip_header", kDrop, "not IPv4, IHL < 5 or total length < IHL")          \
  X(kBadIpChecksum, "bad_ip_checksum", kDrop, "IPv4 header checksum is wrong")                \
  X(kFragmentNoFirst, "fragment_no_first", kDrop,                                            \
    "later IPv4 fragment of a datagram whose first fragment was not seen (lost or reordered)") \
  X(kTtlExpired, "ttl_expired", kDrop, "TTL <= 1 when routing (send ICMP time exceeded)")     \
  X(kSrcNotInNetwork, "src_not_in_network", kRefuse,                                          \
    "outbound source not in the network's subnets (libvirt FWO -i B REJECT)")                 \
  X(kDstNotInNetwork, "dst_not_in_network", kRefuse,                                          \
    "inbound destination not in the network's subnets (libvirt FWI -o B REJECT)")             \
  X(kWrongDev, "wrong_dev", kRefuse, "not through the <forward dev> uplink (libvirt REJECT)") \
  X(kNoSession, "no_session", kRefuse,                                                        \
    "inbound packet of no established or related flow (libvirt FWI REJECT)")                  \
  X(kNotOurAddress, "not_our_address", kDrop, "inbound destination is not a NAT address")     \
  X(kWrongWorker, "wrong_worker", kDrop, "the outside port belongs to another worker's slice") \
  X(kPortsExhausted, "ports_exhausted", kDrop, "no free outside port in this worker's slice")  \
  X(kTableFull, "table_full", kDrop, "the worker's session table is full")                    \
  X(kTcpInvalid, "tcp_invalid", kDrop, "TCP packet that cannot open a connection (no SYN)")   \
  X(kIcmpUnsupported, "icmp_unsupported", kDrop, "ICMP type other than echo and errors")      \
  X(kIcmpErrorNoSession, "icmp_error_no_session", kDrop, "ICMP error quoting an unknown flow") \
  X(kIcmpErrorMalformed, "icmp_error_malformed", kDrop, "ICMP error with a truncated quote")   \
  X(kAddressClash, "address_clash", kDrop,                                                    \
    "portless protocol flow already mapped for this outside address and peer")                \
  X(kNoNatLocalDst, "no_nat_local_dst", kForwardUntranslated,                                 \
    "not a drop: destination 224.0.0.0/24 or 255.255.255.255 (libvirt RETURN)")               \
  X(kNoNatInsideDst, "no_nat_inside_dst", kForwardUntranslated,                               \
    "not a drop: destination inside the network (libvirt ! -d S)")

enum class NatReason : uint8_t {
#define VNET_NAT_REASON_ENUM(e, name, verdict, meaning) e,
  VNET_NAT_REASONS(VNET_NAT_REASON_ENUM)
#undef VNET_NAT_REASON_ENUM
};

inline constexpr size_t kNatReasonCount = 0
#define VNET_NAT_REASON_COUNT(e, name, verdict, meaning) +1
    VNET_NAT_REASONS(VNET_NAT_REASON_COUNT)
#undef VNET_NAT_REASON_COUNT
    ;

inline constexpr std::array<std::string_view, kNatReasonCount> kNatReasonNames{
#define VNET_NAT_REASON_NAME(e, name, verdict, meaning) std::string_view{name},
    VNET_NAT_REASONS(VNET_NAT_REASON_NAME)
#undef VNET_NAT_REASON_NAME
};

inline constexpr std::array<std::string_view, kNatReasonCount> kNatReasonMeanings{
#define VNET_NAT_REASON_MEANING(e, name, verdict, meaning) std::string_view{meaning},
    VNET_NAT_REASONS(VNET_NAT_REASON_MEANING)
#undef VNET_NAT_REASON_MEANING
};

inline constexpr std::array<Verdict, kNatReasonCount> kNatReasonVerdicts{
#define VNET_NAT_REASON_VERDICT(e, name, verdict, meaning) Verdict::verdict,
    VNET_NAT_REASONS(VNET_NAT_REASON_VERDICT)
#undef VNET_NAT_REASON_VERDICT
};

constexpr std::string_view reason_name(NatReason r) noexcept {
  return kNatReasonNames[static_cast<size_t>(r)];
}
constexpr Verdict reason_verdict(NatReason r) noexcept {
  return kNatReasonVerdicts[static_cast<size_t>(r)];
}

// Outcome of one nat/ decision: what to do, and why.
struct Result {
  Verdict verdict = Verdict::kForward;
  NatReason reason = NatReason::kNone;
  friend bool operator==(const Result&, const Result&) = default;
};
constexpr Result result_of(NatReason r) noexcept { return Result{reason_verdict(r), r}; }

// Counted events that are not refusals (session life cycle and traffic).
#define VNET_NAT_EVENTS(X)                                                          \
  X(kIn2Out, "in2out", "packets translated inside to outside")                      \
  X(kOut2In, "out2in", "packets translated outside to inside")                      \
  X(kRelatedIn2Out, "related_in2out", "ICMP errors translated inside to outside")   \
  X(kRelatedOut2In, "related_out2in", "ICMP errors translated outside to inside")   \
  X(kSessionsCreated, "sessions_created", "sessions opened")                        \
  X(kSessionsExpired, "sessions_expired", "sessions removed by timeout")            \
  X(kPortPreserved, "port_preserved", "new sessions that kept their source port")    \
  X(kFragments, "fragments", "later IPv4 fragments translated like their first fragment") \
  X(kFragmentNotesEvicted, "fragment_notes_evicted",                                \
    "fragment notes replaced by newer datagrams before their datagram was complete")

enum class NatEvent : uint8_t {
#define VNET_NAT_EVENT_ENUM(e, name, meaning) e,
  VNET_NAT_EVENTS(VNET_NAT_EVENT_ENUM)
#undef VNET_NAT_EVENT_ENUM
};

inline constexpr size_t kNatEventCount = 0
#define VNET_NAT_EVENT_COUNT(e, name, meaning) +1
    VNET_NAT_EVENTS(VNET_NAT_EVENT_COUNT)
#undef VNET_NAT_EVENT_COUNT
    ;

inline constexpr std::array<std::string_view, kNatEventCount> kNatEventNames{
#define VNET_NAT_EVENT_NAME(e, name, meaning) std::string_view{name},
    VNET_NAT_EVENTS(VNET_NAT_EVENT_NAME)
#undef VNET_NAT_EVENT_NAME
};

constexpr std::string_view event_name(NatEvent e) noexcept {
  return kNatEventNames[static_cast<size_t>(e)];
}

// A single-writer counter (see Thread-safety above).
class NatCounter {
 public:
  void add(uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t read() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// One worker's counters: one per reason (kNone counts nothing) and per event.
struct NatCounters {
  std::array<NatCounter, kNatReasonCount> reasons;  // packets; owner: the worker
  std::array<NatCounter, kNatEventCount> events;    // packets/sessions; owner: the worker

  void count(NatReason r) noexcept {
    if (r != NatReason::kNone) reasons[static_cast<size_t>(r)].add();
  }
  void count(NatEvent e, uint64_t n = 1) noexcept { events[static_cast<size_t>(e)].add(n); }
  uint64_t read(NatReason r) const noexcept { return reasons[static_cast<size_t>(r)].read(); }
  uint64_t read(NatEvent e) const noexcept { return events[static_cast<size_t>(e)].read(); }
};

}  // namespace vnet::nat
