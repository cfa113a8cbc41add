// vnet::nat — accept/refuse decisions for the L3 modes and the routing
// helpers they share (TTL, ICMP errors).
//
// Theory of operation
//   The decisions are libvirt's filter rules (networkAddFirewallRules, see
//   shared/libvirt-format.md section 3 and networkxml2firewalldata), done
//   per packet instead of with iptables. B is the network, S its IPv4
//   subnets, P the <forward dev> when given ("via_dev" = the packet leaves
//   or enters through the uplink that dev names):
//     outbound (network -> uplink)
//       nat, route: accept when src in S [and via P]  (FWO -s S -i B [-o P])
//                   else refuse                        (FWO -i B -j REJECT)
//       open:       accept (no rules)
//     inbound (uplink -> network)
//       route:      accept when dst in S [and via P]  (FWI -d S [-i P] -o B)
//                   else refuse                        (FWI -o B -j REJECT)
//       nat:        only established/related flows: NatWorker::out2in()
//                   decides; an untranslated packet to a guest address is
//                   refused (no_session)
//       open:       accept
//   Routing itself (route and open, and nat after translation) decrements
//   the TTL: ttl_decrement() refuses TTL <= 1 (the dataplane answers with
//   build_time_exceeded()) and updates the header checksum incrementally.
//
// Thread-safety
//   RoutePolicy is immutable after construction; functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "nat/nat_config.h"
#include "nat/reasons.h"

namespace vnet::nat {

enum class L3Mode : uint8_t { kNat, kRoute, kOpen };

struct RoutePolicy {
  L3Mode mode = L3Mode::kNat;
  SubnetSet subnets;    // the network's IPv4 subnets (S)
  bool has_dev = false; // <forward dev> given: only traffic through it
};

// Decision for an IPv4 packet from the network towards the uplink. A
// non-forward reason is also counted in *counters when given (the calling
// worker's counters).
Result route_outbound(const RoutePolicy& policy, std::span<const std::byte> packet, bool via_dev,
                      NatCounters* counters = nullptr) noexcept;
// Decision for an IPv4 packet from the uplink towards the network (route and
// open modes; in nat mode translated packets come from NatWorker::out2in()).
Result route_inbound(const RoutePolicy& policy, std::span<const std::byte> packet, bool via_dev,
                     NatCounters* counters = nullptr) noexcept;

// Decrements the TTL of a valid IPv4 header in place, with an RFC 1624
// checksum update. kTtlExpired (nothing changed) when TTL <= 1, kTruncated
// when the buffer has no IPv4 header.
NatReason ttl_decrement(std::span<std::byte> packet) noexcept;

}  // namespace vnet::nat
