// vnet::dhcp — the gateway's IPv6 host side: Neighbor Discovery for its
// addresses (RFC 4861) and ICMPv6 echo (RFC 4443), as the Linux bridge that
// carries a libvirt network's IPv6 <ip> answers them.
//
// Theory of operation
//   The gateway's IPv6 addresses are those of its IPv6 <ip> elements plus
//   the link-local address the kernel would give the bridge: fe80::/64 with
//   the modified EUI-64 of the gateway MAC (RFC 4291 §2.5.1). parse_ipv6()
//   takes an IPv6 packet with ICMPv6 directly after the fixed header (no
//   extension headers: ND and echo carry none) and checks its length and
//   ICMPv6 checksum. Ipv6Host::on_icmpv6() then answers:
//     * A Neighbor Solicitation (hop limit 255, code 0, RFC 4861 §7.1.1)
//       for one of our addresses: a Neighbor Advertisement with our MAC as
//       target link-layer address, Solicited and Override set, Router set
//       when the network routes (a <forward>: the host forwards IPv6 for it).
//       To the source and its source link-layer option (else the frame's
//       source MAC); a solicitation from :: (duplicate address detection)
//       is answered to all-nodes, not solicited (§7.2.4).
//     * An Echo Request to one of our unicast addresses: an Echo Reply with
//       the same identifier, sequence and data, hop limit 64.
//     * Router advertisements, as dnsmasq sends them for libvirt's
//       `dhcp-range=<address>,ra-only` (an IPv6 <ip> without <dhcp>, when no
//       IPv6 <ip> of the network has one): from the link-local address to
//       all-nodes (or to the soliciting host), hop limit 255, traffic class
//       0xc0; cur hop limit 64, no M/O flags, router lifetime 1800 s (0 on an
//       isolated network: libvirt's ra-param=*,0,0), then a prefix option
//       per such <ip> (on-link and autonomous, infinite lifetimes; the last
//       <ip> first, as dnsmasq walks the bridge's addresses), the MTU,
//       our link-layer address and, with DNS enabled, RDNSS with our
//       link-local address (infinite lifetime). Unsolicited ones go out at
//       start, twice more 4-16 s apart (RFC 4861 §6.2.4), then every 200-600
//       s; a valid Router Solicitation (hop limit 255, code 0; from :: only
//       without a source link-layer option) is answered at once.
//     * UDP to one of our addresses: udp_of() checks its length and its
//       checksum (mandatory over IPv6) for the gateway, which answers DNS on
//       port 53 and send_port_unreachable() (RFC 4443 §3.1) elsewhere.
//     * TCP to one of our addresses: nothing listens over IPv6, so a valid
//       segment is answered with RST as a host's kernel would (RFC 9293
//       §3.10.7.1), nothing for a RST.
//     * Router advertisements for a network whose IPv6 <ip> has <dhcp>, as
//       dnsmasq sends them with libvirt's enable-ra and a DHCPv6 range: M
//       and O set, the prefix on-link but not autonomous, with the range's
//       lease time as its lifetimes (dhcpv6_server.h serves the addresses).
//   Everything else is counted and left (RAs of others, MLD).
//
// Thread-safety
//   Owned by the gateway service thread; no locking.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dhcp/frame.h"
#include "dhcp/net_types.h"

namespace vnet::dhcp {

using Ipv6Addr = std::array<uint8_t, 16>;

inline constexpr size_t kIpv6HeaderSize = 40;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;

// fe80::/64 with the modified EUI-64 of `mac`.
Ipv6Addr link_local_of(const Mac& mac);
// ff02::1:ffXX:XXXX for `a`, and its Ethernet group 33:33:ff:XX:XX:XX.
Ipv6Addr solicited_node_of(const Ipv6Addr& a);
Mac multicast_mac_of(const Ipv6Addr& group);

struct Ipv6Packet {
  Ipv6Addr src{};
  Ipv6Addr dst{};
  uint8_t next_header = 0;
  uint8_t hop_limit = 0;
  std::span<const uint8_t> payload;  // after the fixed header, payload-length bytes
};

// X(enumerator, counter name)
#define VNET_IPV6_COUNTERS(X)                                                      \
  X(kReceived, "received")                                                        \
  X(kMalformed, "malformed")                  /* short, bad length or version */  \
  X(kBadChecksum, "bad_checksum")             /* ICMPv6 checksum */               \
  X(kNotIcmpv6, "not_icmpv6")                 /* UDP, TCP, extension headers */   \
  X(kNeighborAdvertised, "neighbor_advertised")                                   \
  X(kDadDefended, "dad_defended")             /* NS from :: for our address */    \
  X(kNsInvalid, "ns_invalid")                 /* hop limit, code, length, target */\
  X(kNsNotForUs, "ns_not_for_us")                                                 \
  X(kEchoReplied, "echo_replied")                                                 \
  X(kEchoNotForUs, "echo_not_for_us")         /* to a multicast or other address */\
  X(kRsAnswered, "rs_answered")                                                   \
  X(kRsInvalid, "rs_invalid")                                                     \
  X(kRsIgnored, "rs_ignored")                 /* no RA on this network */         \
  X(kRaSent, "ra_sent")                       /* solicited and unsolicited */     \
  X(kOtherIcmpv6, "other_icmpv6")             /* RAs, NAs, MLD, errors */      \
  X(kUdpBadChecksum, "udp_bad_checksum")      /* to us; 0 is never valid */    \
  X(kUdpMalformed, "udp_malformed")                                               \
  X(kPortUnreachable, "port_unreachable")     /* UDP to a closed port of ours */ \
  X(kTcpReset, "tcp_reset")                   /* TCP to us: RST, no listener */  \
  X(kTcpIgnored, "tcp_ignored")               /* a RST, malformed or bad sum */

enum class Ipv6Counter : uint8_t {
#define VNET_X(e, name) e,
  VNET_IPV6_COUNTERS(VNET_X)
#undef VNET_X
  kCount,
};
const char* to_string(Ipv6Counter c);

struct Ipv6Counters {
  std::array<uint64_t, static_cast<size_t>(Ipv6Counter::kCount)> value{};
  uint64_t of(Ipv6Counter c) const { return value[static_cast<size_t>(c)]; }
};

// The IPv6 packet after the Ethernet header; false when it is not a whole
// version-6 packet.
bool parse_ipv6(std::span<const uint8_t> l3, Ipv6Packet& out);
// The ICMPv6 checksum over the pseudo-header (RFC 8200 §8.1) and `message`
// (whose checksum field is included: 0 when the message checks).
uint16_t icmpv6_checksum(const Ipv6Addr& src, const Ipv6Addr& dst, std::span<const uint8_t> message);
// Ethernet + IPv6 (no extension headers) + an ICMPv6 message whose checksum
// is filled in here.
// Ethernet + IPv6 + UDP with its checksum.
std::vector<uint8_t> build_udp6_frame(const Mac& src_mac, const Mac& dst_mac, const Ipv6Addr& src, const Ipv6Addr& dst,
                                      uint16_t src_port, uint16_t dst_port, std::span<const uint8_t> payload);
std::vector<uint8_t> build_icmpv6_frame(const Mac& src_mac, const Mac& dst_mac, const Ipv6Addr& src,
                                        const Ipv6Addr& dst, uint8_t hop_limit, std::span<const uint8_t> icmp,
                                        uint8_t traffic_class = 0);

// What the router advertisements carry; no prefixes: none are sent.
struct RaConfig {
  struct Prefix {
    Ipv6Addr address{};
    unsigned length = 64;
    bool autonomous = true;           // SLAAC (ra-only); off for a DHCPv6 range
    uint32_t valid_s = 0xffffffff;
    uint32_t preferred_s = 0xffffffff;
  };
  std::vector<Prefix> prefixes;  // the ra-only <ip>s, document order
  bool managed = false;          // M and O: addresses and options from DHCPv6
  uint16_t router_lifetime_s = 1800;
  uint32_t mtu = 1500;
  bool rdnss = true;             // DNS enabled
};

class Ipv6Host {
 public:
  // Our MAC, our IPv6 addresses (the link-local one is added here), whether
  // the network routes (the Router flag of our advertisements) and what our
  // RAs say. A changed configuration starts the initial RAs again.
  void configure(const Mac& mac, const std::vector<Ipv6Addr>& addresses, bool router, RaConfig ra = {});
  // Whether an Ethernet destination is ours: a solicited-node group of one
  // of our addresses, all-routers while we advertise, or
  // All_DHCP_Relay_Agents_and_Servers while we serve DHCPv6 (dhcp6_group()).
  bool accepts_multicast(const Mac& dst) const;
  bool is_ours(const Ipv6Addr& a) const;
  // ff02::1:2, the group DHCPv6 clients send to (RFC 8415 §7.1).
  static const Ipv6Addr& dhcp6_group();
  void set_dhcp6(bool on) { dhcp6_ = on; }
  const std::vector<Ipv6Addr>& addresses() const { return addresses_; }

  // One IPv6 frame (Ethernet header included); answers go to `out`.
  void on_frame(std::span<const uint8_t> frame, uint16_t vlan, FrameSink& out);
  // The same for a frame whose packet the caller has parsed (`p`, from parse_ipv6()).
  void on_packet(std::span<const uint8_t> frame, const Ipv6Packet& p, uint16_t vlan, FrameSink& out);
  // Unsolicited RAs when due (untagged). `rng` draws the intervals.
  void on_tick(int64_t now_ns, Rng& rng, FrameSink& out);
  // UDP to one of our addresses: the datagram's ports and payload when its
  // length and checksum are right (counted otherwise).
  struct Udp {
    uint16_t src_port = 0, dst_port = 0;
    std::span<const uint8_t> payload;
  };
  std::optional<Udp> udp_of(const Ipv6Packet& p);
  // ICMPv6 destination unreachable (port) for `frame`, which held `p`.
  void send_port_unreachable(std::span<const uint8_t> frame, const Ipv6Packet& p, uint16_t vlan, FrameSink& out);
  // The RA message we send (empty when we send none).
  std::vector<uint8_t> router_advertisement() const;

  const Ipv6Counters& counters() const { return counters_; }

 private:
  void count(Ipv6Counter c) { ++counters_.value[static_cast<size_t>(c)]; }
  void on_solicitation(const Mac& src_mac, const Ipv6Packet& p, uint16_t vlan, FrameSink& out);
  void on_echo(const Mac& src_mac, const Ipv6Packet& p, uint16_t vlan, FrameSink& out);
  void on_router_solicitation(const Mac& src_mac, const Ipv6Packet& p, uint16_t vlan, FrameSink& out);
  void reset_tcp(std::span<const uint8_t> frame, const Ipv6Packet& p, uint16_t vlan, FrameSink& out);
  void send_ra(const Mac& dst_mac, const Ipv6Addr& dst, uint16_t vlan, FrameSink& out);

  Mac mac_;
  std::vector<Ipv6Addr> addresses_;
  bool router_ = false;
  RaConfig ra_;
  int64_t next_ra_ns_ = -1;     // -1: at the next tick
  unsigned initial_left_ = 3;   // initial unsolicited RAs still to send
  bool dhcp6_ = false;          // ff02::1:2 is ours
  Ipv6Counters counters_;
};

}  // namespace vnet::dhcp
