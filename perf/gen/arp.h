// arp.h — the few ARP frames vnet-pktgen needs (RFC 826), no DPDK.
//
// Theory of operation
// -------------------
// Two uses, both on generator ports that stand in for a host rather than a
// set of stations:
//   - answering: a port given --arp-reply-ip stands for the host at that
//     address (e.g. the uplink's next hop G, which vnetd resolves by ARP
//     before it forwards NATed traffic). A who-has for that address is
//     turned into the is-at reply in place, in the received buffer, with the
//     port's station MAC 0 as the answer; no allocation.
//   - resolving: the generator asks who-has for an address (the network's
//     gateway) and reads the sender MAC of the reply.
// Only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4), untagged,
// is recognized; anything else is "not ARP".
//
// Thread-safety
// -------------
// Pure functions over the given bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace vnet::perf {

inline constexpr std::size_t kArpFrameSize = 60;  // 14 + 28, padded to the Ethernet minimum (no FCS)

struct ArpView {
  uint16_t op = 0;          // 1 request, 2 reply
  uint64_t sender_mac = 0;  // 48-bit
  uint32_t sender_ip = 0;   // host order
  uint64_t target_mac = 0;
  uint32_t target_ip = 0;
};

// Parses an untagged Ethernet/IPv4 ARP frame; nullopt for anything else.
std::optional<ArpView> parse_arp(std::span<const uint8_t> frame) noexcept;

// Writes a broadcast who-has `target_ip` from (src_mac, src_ip) into `frame`
// (at least kArpFrameSize bytes); returns the frame length (kArpFrameSize).
std::size_t build_arp_request(std::span<uint8_t> frame, uint64_t src_mac, uint32_t src_ip,
                              uint32_t target_ip) noexcept;

// If `frame` is a who-has for `my_ip`, rewrites it in place into the reply
// "my_ip is-at my_mac", addressed to the requester, and returns true. The
// frame keeps its length.
bool arp_reply_in_place(std::span<uint8_t> frame, uint32_t my_ip, uint64_t my_mac) noexcept;

}  // namespace vnet::perf
