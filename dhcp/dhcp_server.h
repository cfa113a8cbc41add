// vnet::dhcp — the DHCPv4 server of one network, answering as the dnsmasq
// that libvirt configures would.
//
// Theory of operation
//   handle() takes the UDP payload of a packet to port 67 plus a little
//   metadata from the dataplane (RxMeta), and returns an outcome (counted
//   under a named reason, STYLE rule 6) and possibly a reply. The reply says
//   where it goes (RFC 2131 §4.1) so the adapter only wraps it in
//   Ethernet/IPv4/UDP:
//     * giaddr != 0:            unicast to the relay, port 67;
//     * NAK without relay:      broadcast;
//     * ciaddr != 0:            unicast to ciaddr (RENEWING, INFORM);
//     * broadcast flag set:     broadcast 255.255.255.255 / ff:ff:ff:ff:ff:ff;
//     * otherwise:              unicast to yiaddr at chaddr (no ARP needed).
//
//   Message handling follows dnsmasq's rfc2131.c as configured by libvirt
//   (dhcp-authoritative, dhcp-no-override):
//     DISCOVER  -> OFFER: the static address, else the client's previous
//                  address, else the requested one (option 50), else the
//                  first free address from a MAC hash (LeaseDb::choose_address).
//                  No lease is created; the address is held for kOfferHoldS.
//     REQUEST   -> ACK or NAK (RFC 2131 §4.3.2). SELECTING (50 + 54): a server
//                  id that is not ours is NAKed (authoritative). INIT-REBOOT
//                  (50, no 54): NAK if the client's lease is another address.
//                  RENEWING/REBINDING (ciaddr, no 50): NAK a unicast request
//                  for an unknown lease; ignore a broadcast one (it may belong
//                  to another server); in authoritative mode a lost lease is
//                  re-created if the address is available. Then: NAK when the
//                  address is off-subnet, not available, reserved for another
//                  static host, in use, when the client has a static address
//                  and asked for another one, or when dhcp-lease-max is hit.
//     RELEASE   -> the lease ends (kept as history); no reply.
//     DECLINE   -> the lease ends and the address is not used for
//                  kDeclineBackoffS; no reply.
//     INFORM    -> ACK with configuration and no lease (RFC 2131 §4.3.5).
//     BOOTP (no option 53) is not served and is counted.
//   Options, in dnsmasq's order: 53, 54, 51, 58 (T1 = lease/2), 59 (T2 =
//   lease*7/8) unless the lease is infinite; 1 netmask and 28 broadcast always;
//   3 router (unless isolated), 6 DNS (unless DNS is disabled), 15 domain,
//   12 host name and 26 MTU only when in the parameter request list (or when
//   the client sent no list); 81 in reply to 81 (RFC 4702). On renewals T1 and
//   T2 are shortened by a random fuzz of up to T1/8 to spread renewals, as
//   dnsmasq does. siaddr is the gateway (dnsmasq sets it to its own address),
//   or <bootp server>; the boot file goes in the `file` field (no-override).
//   Host names: a static host's name wins; otherwise the client's option 81 or
//   12 name if legal. Only the first label is kept; the DNS responder adds the
//   network's domain.
//
// Thread-safety
//   Owned by the gateway service thread, like the LeaseDb it drives.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dhcp/dhcp_codec.h"
#include "dhcp/dhcp_config.h"
#include "dhcp/lease_db.h"
#include "dhcp/net_types.h"

namespace vnet::dhcp {

// What happened to one received message. X(enumerator, counter name).
#define VNET_DHCP_OUTCOMES(X)                                              \
  X(kOffer, "offer")                    /* DISCOVER answered */            \
  X(kAck, "ack")                        /* REQUEST acknowledged */         \
  X(kNak, "nak")                        /* REQUEST refused */              \
  X(kInformAck, "inform_ack")           /* INFORM answered */              \
  X(kReleased, "released")              /* RELEASE ended a lease */        \
  X(kDeclined, "declined")              /* DECLINE took an address out */  \
  X(kParseError, "parse_error")         /* see parse_errors */             \
  X(kBootpIgnored, "bootp_ignored")     /* no option 53 */                 \
  X(kUnexpectedType, "unexpected_type") /* OFFER/ACK/NAK or unknown 53 */  \
  X(kNoAddress, "no_address")           /* pool exhausted on DISCOVER */   \
  X(kWrongNetwork, "wrong_network")     /* relayed from another subnet */  \
  X(kNotForUs, "not_for_us")            /* another server's id, ignored */ \
  X(kRequestIgnored, "request_ignored") /* broadcast renewal of unknown */ \
  X(kReleaseUnknown, "release_unknown") /* RELEASE of no lease of ours */  \
  X(kInformNoCiaddr, "inform_no_ciaddr")                                   \
  X(kMissingOption, "missing_option")   /* e.g. DECLINE without 50 */

enum class DhcpOutcome : uint8_t {
#define VNET_X(e, name) e,
  VNET_DHCP_OUTCOMES(VNET_X)
#undef VNET_X
  kCount,
};
const char* to_string(DhcpOutcome o);

struct DhcpCounters {
  std::array<uint64_t, static_cast<size_t>(DhcpOutcome::kCount)> outcome{};
  std::array<uint64_t, static_cast<size_t>(DhcpParseError::kCount)> parse_error{};
  uint64_t dropped_options = 0;  // options that did not fit a reply

  uint64_t of(DhcpOutcome o) const { return outcome[static_cast<size_t>(o)]; }
  uint64_t of(DhcpParseError e) const { return parse_error[static_cast<size_t>(e)]; }
};

// Metadata of a received packet, from its Ethernet and IPv4 headers.
struct RxMeta {
  Mac src_mac;        // Ethernet source
  Ipv4 src_ip;        // IPv4 source (0.0.0.0 for clients without an address)
  Ipv4 dst_ip;        // IPv4 destination (broadcast or the gateway address)
};

// A reply ready to be wrapped in UDP/IPv4/Ethernet.
struct DhcpReply {
  std::vector<std::byte> payload;  // the BOOTP message (UDP payload)
  MessageType type = MessageType::kAck;
  Ipv4 src_ip;                     // the server id (gateway address); UDP source port 67
  Ipv4 dst_ip;                     // see "Theory of operation"
  uint16_t dst_port = kDhcpClientPort;
  Mac dst_mac;                     // ff:ff:ff:ff:ff:ff when broadcast
  bool broadcast = false;          // L2 and L3 broadcast
};

struct DhcpResult {
  DhcpOutcome outcome = DhcpOutcome::kParseError;
  std::optional<DhcpReply> reply;
  bool leases_changed = false;     // persist the lease file (LeaseDb::serialize)
};

class DhcpServer {
 public:
  DhcpServer(LeaseDb& leases, const Clock& clock, Rng& rng);

  DhcpResult handle(std::span<const std::byte> payload, const RxMeta& meta);

  const DhcpCounters& counters() const { return counters_; }
  const ServerConfig& config() const { return leases_.config(); }

 private:
  struct Request;  // parsed request plus derived client facts

  DhcpResult on_discover(const Request& rq);
  DhcpResult on_request(const Request& rq, const RxMeta& meta);
  DhcpResult on_release(const Request& rq);
  DhcpResult on_decline(const Request& rq);
  DhcpResult on_inform(const Request& rq);

  DhcpMessage reply_base(const Request& rq, MessageType type) const;
  void add_common_options(DhcpMessage& m, const Request& rq, std::optional<uint32_t> lease_s,
                          uint16_t fuzz, const std::string& hostname) const;
  DhcpResult finish(DhcpOutcome outcome, const Request& rq, DhcpMessage reply);
  DhcpResult nak(const Request& rq, const char* message);
  DhcpResult count(DhcpOutcome outcome);

  LeaseDb& leases_;
  const Clock& clock_;
  Rng& rng_;
  DhcpCounters counters_;
};

}  // namespace vnet::dhcp
