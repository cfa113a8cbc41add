// vnet::dhcp — the DNS service of one network's gateway: answers what is
// known locally, and decides where everything else goes, as the dnsmasq
// instance that libvirt would start for the network.
//
// Theory of operation
//   answer() takes one query (a UDP payload, or one TCP message without its
//   length prefix) and returns a DnsAnswer:
//     kReply    a complete response to send back;
//     kForward  send the query to `upstreams` in order (DnsForwarder does it);
//     kDrop     say nothing (not a query: QR set, or no complete header).
//   In order:
//   1. Unparsable -> FORMERR (RFC 1035 §4.1.1); opcode other than QUERY ->
//      NOTIMP; not exactly one question -> FORMERR; EDNS version > 0 ->
//      BADVERS (RFC 6891 §6.1.3).
//   2. Class IN or ANY: a PTR query for an address we know, or a name known
//      locally (see LocalZone), is answered from local data with AA set and
//      TTL local_ttl_s (0, dnsmasq's default): the records of the asked type,
//      all of them for ANY, or NODATA (NOERROR, no answers) when the name
//      exists with other types only. SRV answers carry the targets' local
//      addresses as additional data.
//   3. Otherwise the name is routed (LocalZone::route): local domains and
//      zones -> NXDOMAIN with AA; forwarded names -> kForward, or REFUSED
//      when there is no upstream to ask (dnsmasq with no servers, e.g. an
//      isolated network).
//   Responses echo the question exactly as asked (case included), copy RD
//   and CD, set RA (we recurse via upstreams), and carry an OPT record when
//   the query had one (RFC 6891 §7). A UDP response is limited to 512 bytes,
//   or to the client's EDNS size capped by edns_udp_size; if the answers do
//   not fit, they are all dropped and TC is set (RFC 2181 §9) so the client
//   retries over TCP; additional data that does not fit is simply left out.
//
// Thread-safety
//   Owned by the gateway service thread (it reads the LeaseDb through
//   DynamicHosts on that thread).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dhcp/dns_codec.h"
#include "dhcp/dns_config.h"
#include "dhcp/dns_zone.h"
#include "dhcp/host_names.h"

namespace vnet::dhcp {

enum class DnsTransport : uint8_t { kUdp, kTcp };

// X(enumerator, counter name)
#define VNET_DNS_OUTCOMES(X)                                           \
  X(kAnswered, "answered")     /* NOERROR with local data */          \
  X(kNoData, "nodata")         /* known name, no record of the type */ \
  X(kNxDomain, "nxdomain")     /* local domain, unknown name */       \
  X(kForwarded, "forwarded")   /* handed to the forwarder */          \
  X(kRefused, "refused")       /* nobody to forward to */             \
  X(kNotImp, "notimp")         /* opcode other than QUERY */          \
  X(kFormErr, "formerr")       /* malformed, or qdcount != 1 */       \
  X(kBadVers, "badvers")       /* EDNS version > 0 */                 \
  X(kDropped, "dropped")       /* not a query */

enum class DnsOutcome : uint8_t {
#define VNET_X(e, name) e,
  VNET_DNS_OUTCOMES(VNET_X)
#undef VNET_X
  kCount,
};
const char* to_string(DnsOutcome o);

struct DnsCounters {
  std::array<uint64_t, static_cast<size_t>(DnsOutcome::kCount)> outcome{};
  std::array<uint64_t, static_cast<size_t>(DnsParseError::kCount)> parse_error{};
  uint64_t truncated = 0;  // responses sent with TC

  uint64_t of(DnsOutcome o) const { return outcome[static_cast<size_t>(o)]; }
  uint64_t of(DnsParseError e) const { return parse_error[static_cast<size_t>(e)]; }
};

struct DnsAnswer {
  enum class Action : uint8_t { kReply, kForward, kDrop };
  Action action = Action::kDrop;
  DnsOutcome outcome = DnsOutcome::kDropped;
  std::vector<std::byte> reply;     // kReply
  std::vector<Upstream> upstreams;  // kForward, in the order to try them
};

class DnsResponder {
 public:
  // `leases` may be null (no DHCP on this network).
  DnsResponder(const DnsConfig& config, const DynamicHosts* leases);

  void reconfigure(const DnsConfig& config);
  const DnsConfig& config() const { return config_; }

  DnsAnswer answer(std::span<const std::byte> query, DnsTransport transport);

  const DnsCounters& counters() const { return counters_; }

 private:
  DnsAnswer finish(DnsOutcome outcome, std::vector<std::byte> reply);

  DnsConfig config_;
  const DynamicHosts* leases_;
  std::unique_ptr<LocalZone> zone_;
  DnsCounters counters_;
};

}  // namespace vnet::dhcp
