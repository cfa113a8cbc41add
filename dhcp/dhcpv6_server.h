// vnet::dhcp — the DHCPv6 server of one network (RFC 8415), answering as the
// dnsmasq that libvirt configures for an IPv6 <ip> with <dhcp> would.
//
// Theory of operation
//   libvirt writes `dhcp-range=<start>,<end>,<prefix>[,<lease>]` per <range>
//   (or `dhcp-range=<address>,static,<prefix>` for hosts only), the hosts as
//   `id:<duid>[,<name>],[<ip>]` or `<name>,[<ip>]` lines, and `enable-ra`.
//   handle() takes the UDP payload of a client message to port 547 plus the
//   client's MAC, and returns what dnsmasq's rfc3315.c would send back,
//   option for option, with the outcome counted (STYLE rule 6):
//     * Every message but Information-request needs a Client Identifier.
//       Solicit, Confirm and Rebind must not carry a Server Identifier;
//       Request, Renew, Release and Decline must carry ours; an
//       Information-request may. Others are dropped (counted).
//     * The client's host: a <host id> equal to its DUID; failing that, when
//       the client names itself (Client FQDN, RFC 4704), a <host> with that
//       name and no id. Its name wins over the client's; names are kept as
//       their first label, as for DHCPv4.
//     * Solicit -> Advertise (Reply, with Rapid Commit, creating the lease),
//       per IA_NA/IA_TA: the addresses it asks for that are free in a range
//       (or its host's address instead), its host's address, the addresses
//       of its leases, else one chosen from the ranges starting at an SDBM
//       hash of the IAID and DUID (random for IA_TA), skipping the gateway's
//       address, leased addresses and hosts' addresses. No address: status
//       NoAddrsAvail in the IA and in the message. Preference 255 when
//       dnsmasq is authoritative (libvirt writes dhcp-authoritative when the
//       network's IPv4 <ip> has DHCP), else 0.
//     * Request -> Reply: each address asked for is granted when it is in a
//       range or is the client's host's address, and not leased to another
//       DUID/IAID ("address in use"); off-link ones get NotOnLink. An IA
//       without addresses is served as a Solicit with Rapid Commit.
//     * Renew/Rebind -> Reply with fresh lifetimes for known leases (T1/T2
//       fuzzed down by up to 1/16, as dnsmasq does); an unknown lease gets
//       NoBinding on Renew, and is re-created on Rebind when authoritative;
//       addresses off the link get zero lifetimes.
//     * Confirm -> Success "all addresses still on link" or NotOnLink.
//     * Release/Decline -> Reply; unknown bindings listed with NoBinding. A
//       declined host address is not offered for kDeclineBackoffS; any other
//       decline moves the hash start, so the client gets another address.
//     * Information-request -> Reply with the DNS server, the refresh time
//       (the shortest lease, at least 600 s) and the client's name.
//   Replies to address messages carry, after the IAs and the status, the DNS
//   server option (the gateway's address on the prefix the client got an
//   address from, else the gateway's address; not with DNS disabled) and the
//   Client FQDN option (RFC 4704) when the client has a name: S set unless
//   the client asked to update its own AAAA, N cleared, the name qualified
//   with the network's domain once a lease holds it. T1 = lifetime/2, T2 =
//   lifetime*7/8 of the shortest lifetime in the IA.
//
//   Leases (DUID, IAID, address, name, expiry, MAC from the frame) persist in
//   dnsmasq's lease-file format after the DHCPv4 ones: a `duid <ours>` line,
//   then `<expiry> [T]<iaid> <address> <name|*> <duid>` per lease. The
//   server DUID is DUID-LLT of the gateway MAC and the time it was made,
//   kept in that file so it survives restarts, as dnsmasq's.
//
// Thread-safety
//   Owned by the gateway service thread; no locking.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dhcp/dhcpv6_codec.h"
#include "dhcp/net_types.h"

namespace vnet::dhcp {

using Ipv6Bytes = std::array<uint8_t, 16>;

inline constexpr uint32_t kDefaultLease6S = 3600;  // dnsmasq DEFLEASE, as for DHCPv4
inline constexpr uint32_t kMinRefreshS = 600;      // RFC 4242 §3.1

struct Dhcp6Range {
  Ipv6Bytes start{};
  Ipv6Bytes end{};
  std::optional<uint32_t> lease_s;   // nullopt: kDefaultLease6S; 0xffffffff: infinite
};

struct Dhcp6Host {
  std::vector<std::byte> duid;       // <host id>; empty: matched by name
  std::string name;                  // may be empty when duid is set
  Ipv6Bytes ip{};
  std::optional<uint32_t> lease_s;
};

struct Dhcp6Config {
  Ipv6Bytes server_ip{};             // the gateway's address on this <ip>
  unsigned prefix_len = 64;
  std::vector<Dhcp6Range> ranges;    // empty: static-only (`dhcp-range=<ip>,static`)
  std::vector<Dhcp6Host> hosts;
  bool send_dns = true;              // DNS enabled (dnsmasq port 53)
  std::string domain;                // <domain name>: the FQDN's domain; empty: none
  bool authoritative = false;        // dhcp-authoritative (the IPv4 <ip> has DHCP)
  Mac server_mac;                    // for the server DUID
};

// X(enumerator, counter name).
#define VNET_DHCP6_OUTCOMES(X)                                                      \
  X(kAdvertised, "advertised")              /* Solicit answered */                  \
  X(kRapidCommit, "rapid_commit")           /* Solicit answered with a lease */     \
  X(kReplied, "replied")                    /* Request/Renew/Rebind answered */     \
  X(kNoAddrs, "no_addrs")                   /* NoAddrsAvail sent */                 \
  X(kConfirmed, "confirmed")                                                        \
  X(kNotOnLink, "not_on_link")              /* Confirm failed */                    \
  X(kReleased, "released")                                                          \
  X(kDeclined, "declined")                                                          \
  X(kInformed, "informed")                  /* Information-request answered */      \
  X(kMalformed, "malformed")                /* shorter than the header */           \
  X(kTruncatedOptions, "truncated_options") /* an option overran; the rest dropped */\
  X(kNoClientId, "no_client_id")                                                    \
  X(kServerIdMismatch, "server_id_mismatch")  /* missing, unexpected or not ours */ \
  X(kUnexpectedType, "unexpected_type")     /* server messages, unknown types */   \
  X(kRelayIgnored, "relay_ignored")         /* Relay-forward: one segment */        \
  X(kIaInInformation, "ia_in_information")  /* Information-request with an IA */   \
  X(kConfirmEmpty, "confirm_empty")         /* Confirm without addresses */        \
  X(kUnicastIgnored, "unicast_ignored")      /* client messages must be multicast */

enum class Dhcp6Outcome : uint8_t {
#define VNET_X(e, name) e,
  VNET_DHCP6_OUTCOMES(VNET_X)
#undef VNET_X
  kCount,
};
const char* to_string(Dhcp6Outcome o);

struct Dhcp6Counters {
  std::array<uint64_t, static_cast<size_t>(Dhcp6Outcome::kCount)> outcome{};
  uint64_t of(Dhcp6Outcome o) const { return outcome[static_cast<size_t>(o)]; }
};

struct Lease6 {
  Ipv6Bytes ip{};
  std::vector<std::byte> duid;
  uint32_t iaid = 0;
  bool temporary = false;            // IA_TA
  std::string hostname;              // first label; empty: none
  bool hostname_from_config = false;
  int64_t expires_s = 0;             // wall clock; INT64_MAX: infinite
  std::optional<Mac> mac;            // the frame's source (or the DUID's link-layer address)
};

struct Dhcp6Result {
  std::optional<Dhcp6Outcome> outcome;  // counted
  std::vector<std::byte> reply;         // empty: no answer
  bool leases_changed = false;
};

class Dhcp6Server {
 public:
  Dhcp6Server(Dhcp6Config config, const Clock& clock, Rng& rng);

  // net-update: leases are kept.
  void reconfigure(Dhcp6Config config);
  const Dhcp6Config& config() const { return config_; }

  // One client message; `multicast`: sent to All_DHCP_Relay_Agents_and_Servers.
  Dhcp6Result handle(std::span<const std::byte> payload, const Mac& client_mac, bool multicast);

  // Drops expired leases and finished decline back-offs; true when a lease went.
  bool expire();

  // Active leases, by address.
  std::vector<Lease6> active_leases() const;
  // Addresses of active leases named `label`, and the name on `ip`.
  std::vector<Ipv6Bytes> addresses_named(std::string_view label) const;
  std::optional<std::string> name_of(const Ipv6Bytes& ip) const;

  const std::vector<std::byte>& duid() const { return duid_; }
  // The lease-file section: the duid line and one line per active lease.
  std::string serialize() const;
  // Reads the lines serialize() wrote (other lines are skipped); returns the
  // leases restored, counting the lines it could not use in `corrupt`.
  size_t load(std::string_view text, size_t& corrupt);
  uint64_t generation() const { return generation_; }
  const Dhcp6Counters& counters() const { return counters_; }

 private:
  struct State;

  Dhcp6Result count(Dhcp6Outcome o);
  bool in_subnet(const Ipv6Bytes& a) const;
  const Dhcp6Range* range_of(const Ipv6Bytes& a) const;
  uint32_t range_lease(const Dhcp6Range* r) const;
  const Dhcp6Host* host_by_ip(const Ipv6Bytes& a) const;
  bool host_address_free(const State& s, Ipv6Bytes& out) const;
  bool free_for(const State& s, const Ipv6Bytes& a) const;  // dnsmasq check_address
  std::optional<Ipv6Bytes> allocate(const State& s, uint32_t iaid, bool temporary, unsigned serial);
  Lease6* find_lease(const State& s, bool temporary, uint32_t iaid, const Ipv6Bytes& a);
  void add_address(State& s, const Ipv6Bytes& a, uint32_t lease_s, const Dhcp6Ia::Address* asked,
                   uint32_t& min_time);
  void update_lease(State& s, const Ipv6Bytes& a, uint32_t valid_s);
  void set_name(State& s, Lease6& l);
  void solicit_ias(State& s, bool commit);
  void add_options(State& s, bool refresh);
  void end_ia(State& s, size_t t1_at, uint32_t min_time, bool fuzz);
  void make_duid();

  Dhcp6Config config_;
  const Clock& clock_;
  Rng& rng_;
  std::vector<std::byte> duid_;
  std::map<Ipv6Bytes, Lease6> leases_;
  std::map<Ipv6Bytes, int64_t> declined_;  // host addresses out of use until
  uint64_t addr_epoch_ = 0;                // moved by declines of dynamic addresses
  uint64_t generation_ = 0;
  Dhcp6Counters counters_;
};

}  // namespace vnet::dhcp
