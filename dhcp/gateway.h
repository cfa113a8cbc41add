// vnet::dhcp — the gateway of one network: the host that libvirt's bridge IP
// plus dnsmasq would be, speaking raw Ethernet frames.
//
// Theory of operation
//   The dataplane punts to the gateway every frame addressed to it (its MAC,
//   broadcasts) and injects whatever it sends back. Gateway works on plain
//   bytes: the control plane wraps it in the dataplane's punt interface with a
//   thin adapter (FrameSink has the same shape as dp::FrameOut). Per frame:
//     * Ethernet: unicast to another MAC or multicast is ignored (counted).
//     * ARP (RFC 826): a request for one of the network's IPv4 addresses is
//       answered; everything else is counted and ignored. start() sends one
//       gratuitous ARP request per address (RFC 5227 §3 announcement).
//     * ICMP echo to one of our addresses -> echo reply (RFC 792).
//     * IPv6 (ipv6_host.h): Neighbor Solicitations for our IPv6 addresses
//       (the IPv6 <ip>s and the link-local address of our MAC) -> Neighbor
//       Advertisements; ICMPv6 echo -> reply. Frames to the solicited-node
//       groups of those addresses are ours too. UDP port 53 of those
//       addresses -> the DNS responder, as over IPv4; other UDP ports ->
//       ICMPv6 port unreachable.
//     * UDP port 67 (broadcast or to us) -> the DHCPv4 server of the <ip>
//       with <dhcp> (dhcp_server.h). Replies follow RFC 2131 §4.1 without
//       relays: NAK and broadcast-flag replies are broadcast, renewals and
//       INFORM go to ciaddr, the rest is unicast to yiaddr at chaddr.
//       Relayed requests (giaddr != 0) are ignored: a libvirt network is a
//       single segment.
//     * UDP port 53 to one of our addresses -> the DNS responder
//       (dns_responder.h); names it does not own go to the DNS forwarder
//       (dns_forwarder.h), whose answers on_tick() relays back as frames. A
//       reply that would not fit the network MTU is sent truncated (TC).
//       With <dns enable='no'> port 53 is closed.
//     * TCP port 53 to one of our addresses -> DNS over TCP (RFC 7766): the
//       segments go to a DnsTcpServer (dns_tcp_server.h), which hands every
//       complete message to the same responder/forwarder path as UDP and
//       sends the answers unlimited by the UDP size (no truncation). A
//       forwarded TCP query that finds the forwarder full gets SERVFAIL
//       rather than silence, so the connection does not hang.
//     * UDP port 69, and the ports of running transfers, with <tftp root>
//       -> the TFTP server (tftp_server.h), read-only, as dnsmasq's.
//     * Any other UDP port of ours -> ICMP port unreachable (RFC 1122
//       §4.1.3.1), and any other TCP port (or port 53 with DNS disabled) ->
//       RST, as the host's kernel would answer.
//   Every frame not answered is counted under a named reason (GatewayCounter,
//   FrameError) and every DHCP/DNS outcome under the servers' own counters.
//
//   Leases live in a LeaseDb, are loaded from `lease_file` at construction,
//   and are written back atomically (write-temp + fsync + rename) by on_tick()
//   after any change — with more than 1024 leases at most once a second —
//   and at destruction. on_tick() also expires leases by
//   the clock and drives the forwarder's timeouts and retries.
//
// Thread-safety
//   One service thread owns the Gateway and calls start(), on_frame() and
//   on_tick(), never concurrently. Three calls may come from any thread (the
//   control thread): stats() reads a snapshot the service thread publishes
//   under a mutex after every frame and tick; leases() reads the lease view
//   the service thread republishes at the first on_tick() after a change (so
//   it lags by at most one tick, and never costs a copy per DHCP message;
//   with more than 1024 leases, at most every 100 ms);
//   update_config() validates at once and leaves the new configuration for
//   the service thread to apply at its next on_frame()/on_tick(). The
//   forwarder's and the TCP endpoint's settings (GatewayConfig::forwarder,
//   dns_tcp) are fixed at construction.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dhcp/dhcp_config.h"
#include "dhcp/dhcp_server.h"
#include "dhcp/dhcpv6_server.h"
#include "dhcp/dns_config.h"
#include "dhcp/dns_forwarder.h"
#include "dhcp/dns_responder.h"
#include "dhcp/dns_tcp_server.h"
#include "dhcp/frame.h"
#include "dhcp/ipv6_host.h"
#include "dhcp/lease_db.h"
#include "dhcp/net_types.h"
#include "dhcp/tftp_server.h"

namespace vnet::dhcp {

struct Ipv4Interface {
  Ipv4 address;             // the gateway's address (<ip address>)
  unsigned prefix_len = 24; // <ip prefix|netmask>
  friend bool operator==(const Ipv4Interface&, const Ipv4Interface&) = default;
};

struct Ipv6Interface {
  IpAddress address;        // IPv6 <ip address>: ND, echo and RA (ipv6_host.h)
  unsigned prefix_len = 64;
  bool dhcp = false;        // has <dhcp>: served by the DHCPv6 server (GatewayConfig::dhcp6)
  friend bool operator==(const Ipv6Interface&, const Ipv6Interface&) = default;
};

struct GatewayConfig {
  std::string network;                  // network name, for messages
  Mac mac;                              // the gateway's MAC (<mac address>)
  std::vector<Ipv4Interface> ipv4;      // every IPv4 <ip>, document order
  std::vector<Ipv6Interface> ipv6;      // every IPv6 <ip>, document order
  bool routed = false;                  // a <forward>: the host routes for the network
  uint16_t mtu = 0;                     // <mtu size>; 0 = 1500
  std::optional<ServerConfig> dhcp;     // the IPv4 <ip> with <dhcp>; its server_ip is in ipv4
  std::optional<Dhcp6Config> dhcp6;     // the IPv6 <ip> with <dhcp> (dhcpv6_server.h)
  std::optional<std::string> tftp_root; // <tftp root>: TFTP on port 69 (tftp_server.h)
  DnsConfig dns;                        // dns.enabled = false closes port 53
  bool domain_register = false;         // <domain register='yes'> (systemd-resolved; host side)
  std::string lease_file;               // lease file path; empty: leases are not persisted
  ForwarderConfig forwarder;            // upstream timeouts and dns-forward-max
  DnsTcpConfig dns_tcp;                 // TCP port 53: connection table, timers
};

// Checks the invariants Gateway relies on; "" when fine, else one line.
std::string validate(const GatewayConfig& config);

// X(enumerator, counter name): frames handled and frames ignored, by reason.
#define VNET_GATEWAY_COUNTERS(X)                                                     \
  X(kRxFrames, "rx_frames")                                                          \
  X(kTxFrames, "tx_frames")                                                          \
  X(kTxDropped, "tx_dropped")                   /* FrameSink refused a frame */      \
  X(kMalformed, "malformed")                    /* see frame_errors */               \
  X(kEthNotForUs, "eth_not_for_us")             /* unicast to another MAC */         \
  X(kEthMulticast, "eth_multicast")                                                  \
  X(kEthOtherType, "eth_other_type")                                                 \
  X(kIpv6Frames, "ipv6_frames")                 /* see ipv6 */                       \
  X(kArpReplied, "arp_replied")                                                      \
  X(kArpGratuitousSent, "arp_gratuitous_sent")                                       \
  X(kArpNotRequest, "arp_not_request")                                               \
  X(kArpNotForUs, "arp_not_for_us")                                                  \
  X(kArpConflict, "arp_conflict")               /* someone else claims our address */ \
  X(kIpv4NotForUs, "ipv4_not_for_us")                                                \
  X(kIpv4OtherProto, "ipv4_other_proto")                                             \
  X(kIcmpEchoReplied, "icmp_echo_replied")                                           \
  X(kIcmpIgnored, "icmp_ignored")               /* not an echo request */            \
  X(kTcpPortClosed, "tcp_port_closed")          /* answered with RST */              \
  X(kDnsTcpSegments, "dns_tcp_segments")        /* to port 53, see dns_tcp */        \
  X(kUdpBroadcastIgnored, "udp_broadcast_ignored")                                   \
  X(kUdpPortUnreachable, "udp_port_unreachable")                                     \
  X(kDhcpReceived, "dhcp_received")                                                  \
  X(kDhcpReplied, "dhcp_replied")                                                    \
  X(kDhcpDisabled, "dhcp_disabled")             /* no <dhcp> on this network */      \
  X(kDhcpRelayed, "dhcp_relayed")               /* giaddr set: not served */         \
  X(kDhcp6Received, "dhcp6_received")           /* to port 547, see dhcp6 */         \
  X(kDhcp6Replied, "dhcp6_replied")                                                  \
  X(kDhcp6Disabled, "dhcp6_disabled")           /* no IPv6 <dhcp> on this network */ \
  X(kDnsReceived, "dns_received")                                                    \
  X(kDnsReplied, "dns_replied")                                                      \
  X(kDnsDisabled, "dns_disabled")               /* <dns enable='no'> */              \
  X(kDnsNoReply, "dns_no_reply")                /* not a query */                    \
  X(kDnsForwarded, "dns_forwarded")                                                  \
  X(kDnsForwardFull, "dns_forward_full")        /* dns-forward-max reached */        \
  X(kDnsForwardReplied, "dns_forward_replied")                                       \
  X(kDnsTruncatedToMtu, "dns_truncated_to_mtu")                                      \
  X(kTftpDatagrams, "tftp_datagrams")           /* port 69 or a transfer's, see tftp */ \
  X(kLeaseWrites, "lease_writes")                                                    \
  X(kLeaseWriteFailed, "lease_write_failed")                                         \
  X(kLeaseLoadFailed, "lease_load_failed")                                           \
  X(kConfigApplied, "config_applied")

enum class GatewayCounter : uint8_t {
#define VNET_X(e, name) e,
  VNET_GATEWAY_COUNTERS(VNET_X)
#undef VNET_X
  kCount,
};
const char* to_string(GatewayCounter c);

struct GatewayStats {
  std::array<uint64_t, static_cast<size_t>(GatewayCounter::kCount)> counter{};
  std::array<uint64_t, static_cast<size_t>(FrameError::kCount)> frame_error{};
  DhcpCounters dhcp;
  DnsCounters dns;
  ForwarderCounters forwarder;
  DnsTcpCounters dns_tcp;
  TftpCounters tftp;
  Ipv6Counters ipv6;
  Dhcp6Counters dhcp6;
  LeaseLoadStats lease_load;        // from the lease file read at construction
  std::string last_lease_error;     // last lease-file read/write error; "" = none

  uint64_t of(GatewayCounter c) const { return counter[static_cast<size_t>(c)]; }
  uint64_t of(FrameError e) const { return frame_error[static_cast<size_t>(e)]; }
};

// One row of `virsh net-dhcp-leases`.
struct LeaseInfo {
  int64_t expiry_s = 0;     // wall-clock seconds since the epoch; 0 = infinite lease
  Mac mac;                  // zero: not known (a DHCPv6 lease reloaded from the file)
  IpAddress ip;
  unsigned prefix_len = 0;  // of the DHCP <ip>
  std::string hostname;     // empty: none ("-")
  std::string client_id;    // option 61, or the DHCPv6 DUID, as colon hex; empty: none ("-")
  uint32_t iaid = 0;        // DHCPv6
  const char* protocol() const { return ip.is_v4() ? "ipv4" : "ipv6"; }
};

class Gateway {
 public:
  // Loads the lease file. Throws std::invalid_argument when validate() fails.
  Gateway(GatewayConfig config, const Clock& clock, Rng& rng);
  ~Gateway();  // writes the lease file if it has unsaved changes
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // --- service thread ------------------------------------------------------
  // Announces the gateway's addresses (gratuitous ARP), untagged.
  void start(FrameSink& out);
  void on_frame(std::span<const uint8_t> frame, uint16_t vlan, FrameSink& out);
  // About every 10 ms: applies a pending configuration, expires leases, relays
  // forwarder answers, persists leases.
  void on_tick(FrameSink& out);
  // A TFTP transfer or a DNS TCP connection is open: the client's next
  // segment comes within a round trip (the caller may poll more often).
  bool conversing() const noexcept { return (tftp_ && tftp_->transfers() != 0) || tcp_.connections() != 0; }

  // --- any thread ----------------------------------------------------------
  // net-update: "" when accepted (applied at the next on_frame/on_tick), else
  // the validation error and nothing changes.
  std::string update_config(GatewayConfig config);
  // Active leases sorted by address, as of the last on_tick(); `mac` filters
  // (net-dhcp-leases NET MAC). Leases past their expiry are left out at once.
  std::vector<LeaseInfo> leases(std::optional<Mac> mac = std::nullopt) const;
  GatewayStats stats() const;

 private:
  struct DnsClient {
    Mac mac;
    Ipv4 ip;
    uint16_t port = 0;
    Ipv4 server_ip;  // which of our addresses it asked
    uint16_t vlan = 0;
    std::optional<TcpConnRef> tcp;  // set: a TCP client, answered on that connection
    std::optional<Ipv6Addr> ip6;    // set: a UDP client over IPv6 (ip/server_ip unused)
    Ipv6Addr server_ip6{};
  };
  class CountingSink;
  class TcpQueries;
  class TftpFrames;

  void apply_pending_and_announce(FrameSink& out);
  void apply_config(GatewayConfig config, bool initial);
  void load_leases(bool v4, bool v6);
  void persist_leases();
  void publish_leases();
  void publish_stats();

  bool is_our_ip(Ipv4 ip) const;
  void count(GatewayCounter c) { ++counters_.counter[static_cast<size_t>(c)]; }
  void emit(FrameSink& out, std::span<const uint8_t> frame, uint16_t vlan);
  void on_arp(const ParsedFrame& f, uint16_t vlan, FrameSink& out);
  void on_icmp(const ParsedFrame& f, uint16_t vlan, FrameSink& out);
  void on_udp(const ParsedFrame& f, uint16_t vlan, FrameSink& out);
  void on_dhcp(const ParsedFrame& f, uint16_t vlan, FrameSink& out);
  void on_dns(const ParsedFrame& f, uint16_t vlan, FrameSink& out);
  void on_tcp(const ParsedFrame& f, uint16_t vlan, FrameSink& out);
  void on_tftp(const ParsedFrame& f, uint16_t vlan, FrameSink& out);
  void on_ipv6(std::span<const uint8_t> frame, uint16_t vlan, FrameSink& out);
  void on_dhcp6(std::span<const uint8_t> frame, const Ipv6Packet& p, const Ipv6Host::Udp& u, uint16_t vlan,
                FrameSink& out);
  // Answers one DNS query of `client` locally or through the forwarder.
  void answer_dns(std::span<const std::byte> query, const DnsClient& client, FrameSink& out);
  // Sends a DNS reply to `client` over UDP or its TCP connection; `deferred`
  // when it answers a forwarded query.
  void deliver_dns(const DnsClient& client, std::vector<std::byte> reply, bool deferred, FrameSink& out);
  size_t mtu() const;
  void send_port_unreachable(const ParsedFrame& f, uint16_t vlan, FrameSink& out);
  void send_dns(const DnsClient& c, std::vector<std::byte> reply, FrameSink& out);
  void send_garp(FrameSink& out);

  // Owned by the service thread.
  GatewayConfig config_;
  const Clock& clock_;
  Rng& rng_;
  std::unique_ptr<LeaseDb> leases_;       // null without DHCP
  std::unique_ptr<DhcpServer> dhcp_;      // null without DHCP
  std::unique_ptr<Dhcp6Server> dhcp6_;    // null without IPv6 DHCP
  uint64_t dhcp6_saved_generation_ = 0;   // dhcp6_->generation() at the last lease write
  class LeaseNames;
  std::unique_ptr<LeaseNames> lease_names_;  // both lease tables, for the DNS responder
  std::unique_ptr<DnsResponder> dns_;
  DnsForwarder forwarder_;
  DnsTcpServer tcp_;
  Ipv6Host ipv6_;                         // ND and ICMPv6 echo for the IPv6 <ip>s
  std::unique_ptr<TftpServer> tftp_;      // null without <tftp root>
  TftpConfig tftp_config_;                // tftp_'s
  std::map<uint64_t, DnsClient> dns_clients_;  // forwarder cookie -> client
  uint64_t next_cookie_ = 1;
  uint16_t next_ip_id_ = 1;
  bool leases_dirty_ = false;             // the lease file is behind the LeaseDb
  bool lease_view_stale_ = false;         // published_leases_ is behind the LeaseDb
  size_t published_count_ = 0;            // rows in the last published lease view
  int64_t last_publish_ns_ = 0;           // Clock::now_ns() of the last publish_leases()
  int64_t last_write_ns_ = 0;             // Clock::now_ns() of the last lease file write
  int64_t next_write_attempt_s_ = 0;      // after a failed write
  int64_t next_expiry_s_ = kLeaseNever;   // earliest expiry among published leases
  int64_t last_expire_s_ = 0;             // second of the last LeaseDb::expire()
  DhcpCounters dhcp_base_;                // counts of DhcpServers replaced by update_config
  Dhcp6Counters dhcp6_base_;              // the same for Dhcp6Servers
  DnsCounters dns_base_;                  // counts of DnsResponders replaced by update_config
  TftpCounters tftp_base_;                // counts of TftpServers replaced by update_config
  GatewayStats counters_;                 // DHCP/DNS/forwarder parts filled in publish_stats()
  std::vector<ForwardResult> forward_results_;  // scratch

  // Shared with other threads, under mutex_.
  mutable std::mutex mutex_;
  std::optional<GatewayConfig> pending_config_;
  std::vector<LeaseInfo> published_leases_;
  GatewayStats published_stats_;
};

}  // namespace vnet::dhcp
