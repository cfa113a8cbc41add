// gwload.h — DHCP and DNS load aimed at a network's gateway (no DPDK).
//
// Theory of operation
// -------------------
// `vnet-pktgen --gw-port P --gw-ip G --gw-rate R` turns generator port P into
// a crowd of clients of the gateway at G while the other ports measure L2
// throughput in the same loop (traffic.h). Every request is built here into
// a caller-provided buffer, and every frame P receives is classified here:
//   - DNS: a query "A <name>" (RD set) from the static client
//     (station_mac(P, 0), --gw-client-ip) to G:53, id = a running counter.
//     An answer is NOERROR with at least one answer record; anything else
//     that comes back from port 53 (NXDOMAIN, REFUSED, SERVFAIL, no record)
//     is counted apart, so a misconfigured name shows up as zero answers.
//   - DHCP (RFC 2131): client k (k < dhcp_clients) is station_mac(P, 1 + k)
//     with xid = 0x5a000000 | k. A DISCOVER is broadcast from 0.0.0.0:68;
//     the OFFER (matched by xid) makes the engine send the REQUEST at once
//     (SELECTING: requested address = yiaddr, server identifier = option 54
//     of the OFFER); the ACK completes one DORA. Clients are taken in turn,
//     so after the first round a client asks again for the address it holds
//     (the server's "returning client" path).
// The rate R counts DNS queries plus DISCOVERs (a fraction dhcp_share of R
// are DISCOVERs); REQUESTs follow OFFERs and are not paced. All frames are
// untagged IPv4 with UDP checksum 0 ("none", RFC 768).
//
// Thread-safety
// -------------
// GwFrames is immutable after construction and its methods write only the
// given buffer; the counters belong to the generator thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vnet::perf {

inline constexpr uint32_t kGwXidTag = 0x5a000000;
inline constexpr uint32_t kGwMaxClients = 1u << 24;
inline constexpr uint16_t kGwDnsClientPort = 40053;
inline constexpr std::size_t kGwMaxFrameSize = 400;  // largest request built here (DHCP: 342)

struct GwLoadSpec {
  bool enabled = false;            // --gw-port given
  unsigned port = 0;               // generator port index
  uint32_t gw_ip = 0;              // host order
  uint32_t client_ip = 0;          // source address of DNS queries
  double rate_pps = 0;             // DNS queries + DISCOVERs per second; 0 = attached but idle
  double dhcp_share = 0.5;         // fraction of rate_pps that are DISCOVERs
  uint32_t dhcp_clients = 10000;   // distinct DHCP client MACs
  std::string dns_name = "gwload"; // queried for A
};

// Counters of the gateway load in one trial (generator thread).
struct GwCounters {
  uint64_t dns_queries = 0;    // accepted by the tx queue
  uint64_t dns_answers = 0;    // NOERROR with >= 1 answer
  uint64_t dns_other = 0;      // other replies from port 53
  uint64_t discovers = 0;
  uint64_t offers = 0;
  uint64_t requests = 0;
  uint64_t acks = 0;
  uint64_t naks = 0;
  uint64_t tx_full = 0;        // requests the port's ring refused (dropped)
  uint64_t arp_answered = 0;   // who-has for the client address, answered
  uint64_t rx_other = 0;       // anything else received on the port
};

enum class GwReplyKind : uint8_t { kNone, kDnsAnswer, kDnsOther, kDhcpOffer, kDhcpAck, kDhcpNak, kDhcpOther };

struct GwReply {
  GwReplyKind kind = GwReplyKind::kNone;
  uint32_t client = 0;     // DHCP: client index from the xid
  uint32_t yiaddr = 0;     // DHCP: offered / acknowledged address
  uint32_t server_id = 0;  // DHCP: option 54 (0 if absent)
};

class GwFrames {
 public:
  GwFrames(const GwLoadSpec& spec, uint64_t mac_base, uint64_t gw_mac);

  uint64_t dns_client_mac() const { return dns_mac_; }
  uint64_t client_mac(uint32_t client) const;

  // Each writes one frame into `out` (>= kGwMaxFrameSize bytes) and returns its length (no FCS).
  std::size_t dns_query(std::span<uint8_t> out, uint16_t id) const noexcept;
  std::size_t dhcp_discover(std::span<uint8_t> out, uint32_t client) const noexcept;
  std::size_t dhcp_request(std::span<uint8_t> out, uint32_t client, uint32_t requested_ip,
                           uint32_t server_id) const noexcept;

 private:
  std::size_t dhcp_frame(std::span<uint8_t> out, uint32_t client, uint8_t type, uint32_t requested_ip,
                         uint32_t server_id) const noexcept;

  GwLoadSpec spec_;
  uint64_t mac_base_;
  uint64_t gw_mac_;
  uint64_t dns_mac_;
  std::vector<uint8_t> dns_template_;  // whole query frame, id at kDnsIdOffset
};

// Classifies a frame received on the load port. Pure; kNone for frames that are
// not replies of the gateway to this load.
GwReply classify_gw_reply(std::span<const uint8_t> frame) noexcept;

}  // namespace vnet::perf
