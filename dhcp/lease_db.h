// vnet::dhcp — the lease database of one network: dynamic leases from
// <range>s, fixed addresses of <host>s, and their persistence.
//
// Theory of operation
//   A client is identified as dnsmasq does (lease_find_by_client): by its
//   client identifier (option 61) when both the request and the lease have
//   one, otherwise by its hardware address. A lease record holds the address,
//   the client, an optional host name (a single label, see host_names.h) and
//   an expiry in wall-clock seconds (Clock::now_s). A lease is *active* until
//   it expires. Expired and released records are kept as history so that a
//   returning client gets its previous address back while nobody else has
//   taken it; history is dropped as soon as the address goes to another
//   client, and trimmed to a bounded size (checked at most once a second).
//
//   Address policy (what DISCOVER may offer and REQUEST may ACK):
//   * never the gateway's own address, the subnet's network or broadcast
//     address, an address outside the subnet, or an address declined within
//     the last kDeclineBackoffS seconds (RFC 2131 §4.3.3);
//   * a dynamic address must lie in one of the ranges and must not be the
//     fixed address of any static host (dnsmasq config_find_by_address);
//   * a static host's own address may lie outside the ranges (static-only
//     DHCP, `dhcp-range=<ip>,static`);
//   * never an address actively leased to, or held for an outstanding OFFER
//     (kOfferHoldS), by another client.
//   choose_address() prefers, in order: the client's static address, its
//   current or previous address, the address it asked for (option 50), then
//   a scan of the ranges starting at a hash of the MAC, so a client tends to
//   get the same address even with an empty database; addresses that are
//   another client's history are used only when nothing else is free.
//   commit() enforces dhcp-lease-max over active leases.
//
//   Records live in a vector (in no particular order) with two indexes, by
//   address and by MAC, kept in step by add_record()/remove_record() (a
//   removal moves the last record into the hole). Lookups by address and by
//   a client without client id are O(1), so a DORA costs the same with 10 or
//   60 000 leases; a client id lookup scans (as dnsmasq's does).
//
//   Persistence uses dnsmasq's lease-file line format,
//     <expiry> <mac> <ip> <hostname|*> <client-id|*>
//   with expiry in seconds since the epoch (0 = infinite) and the client id as
//   colon-separated hex. serialize() writes active leases; the caller writes
//   the text atomically (write-temp + fsync + rename). load() skips and counts
//   lines it cannot use and never throws on input.
//
// Thread-safety
//   Owned by the gateway service thread; no internal locking. The DNS
//   responder reads it through DynamicHosts on the same thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dhcp/dhcp_config.h"
#include "dhcp/host_names.h"
#include "dhcp/net_types.h"

namespace vnet::dhcp {

inline constexpr int64_t kLeaseNever = INT64_MAX;  // in-memory expiry of an infinite lease

struct ClientKey {
  Mac mac;                              // chaddr
  std::vector<std::byte> client_id;     // option 61; empty when absent
};

// dnsmasq's rule: client ids decide when both sides have one, else the MAC.
bool same_client(const ClientKey& a, const ClientKey& b);

struct Lease {
  Ipv4 ip;
  ClientKey client;
  std::string hostname;        // single label; empty: none
  bool hostname_from_config = false;  // name came from a static <host> (wins over client names)
  int64_t expires_s = 0;       // wall-clock seconds; kLeaseNever for infinite

  bool active(int64_t now_s) const { return expires_s > now_s; }
};

struct LeaseLoadStats {
  size_t loaded = 0;           // active leases restored
  size_t expired = 0;          // well-formed but already expired (kept as history)
  size_t corrupt = 0;          // unparsable lines, skipped
  size_t foreign = 0;          // addresses outside this subnet or duplicates, skipped
};

enum class CommitResult : uint8_t { kOk, kLeaseMax, kUnavailable };

class LeaseDb final : public DynamicHosts {
 public:
  LeaseDb(const ServerConfig& config, const Clock& clock);

  // Replace the configuration (net-update); existing leases are kept and
  // re-validated lazily when their clients come back.
  void reconfigure(const ServerConfig& config);
  const ServerConfig& config() const { return config_; }

  // --- lookups -------------------------------------------------------------
  // The record (active or history) of this client, if any.
  const Lease* find_by_client(const ClientKey& client) const;
  const Lease* find_active_by_ip(Ipv4 ip) const;
  // Static host for a client: by MAC first, else a name-only host whose name
  // (first label) equals the client's host name (dnsmasq matches names only
  // for hosts without a MAC, to avoid impersonation).
  const StaticHost* static_host_for(const Mac& mac, std::string_view client_hostname) const;
  const StaticHost* static_host_by_ip(Ipv4 ip) const;
  bool in_dynamic_range(Ipv4 ip) const;
  bool is_declined(Ipv4 ip) const;

  // --- policy --------------------------------------------------------------
  // True if `ip` may be given to `client` (see "Address policy"). `own` is the
  // client's static host, if it has one.
  bool address_available(Ipv4 ip, const ClientKey& client, const StaticHost* own) const;
  // DISCOVER: the address to offer, or nullopt when the pool is exhausted.
  std::optional<Ipv4> choose_address(const ClientKey& client, const StaticHost* own,
                                     std::optional<Ipv4> requested) const;
  // Lease time for `ip` (static host time, else the covering range's time,
  // else the first range's, else kDefaultLeaseS), shortened to the client's
  // requested time (never below kMinLeaseS) as dnsmasq calc_time() does.
  uint32_t lease_time_for(Ipv4 ip, const StaticHost* own, std::optional<uint32_t> requested_s) const;

  // --- changes -------------------------------------------------------------
  // Reserve an offered address for kOfferHoldS seconds.
  void hold_offer(Ipv4 ip, const ClientKey& client);
  // Create or renew the client's lease on `ip` (REQUEST -> ACK). Drops the
  // client's other records and any history of other clients on `ip`.
  CommitResult commit(Ipv4 ip, const ClientKey& client, uint32_t lease_s, Lease** out = nullptr);
  // Give the lease a host name (first label of `name`; empty clears it).
  // Another active lease with the same name loses it, unless that name came
  // from configuration and this one does not, in which case this lease stays
  // unnamed (dnsmasq lease_set_hostname).
  void set_hostname(Lease& lease, std::string_view name, bool from_config);
  // RELEASE: end the client's lease on `ip`; false if it holds none.
  bool release(Ipv4 ip, const ClientKey& client);
  // DECLINE: end the client's lease on `ip` (if any) and keep `ip` out of use
  // for kDeclineBackoffS.
  void decline(Ipv4 ip, const ClientKey& client);
  // Drop expired offer holds and declines, and trim history.
  void expire();

  // --- state ---------------------------------------------------------------
  size_t active_count() const;
  std::vector<Lease> active_leases() const;  // sorted by address
  uint64_t generation() const { return generation_; }  // bumps on every persisted change

  // --- persistence ---------------------------------------------------------
  std::string serialize() const;
  LeaseLoadStats load(std::string_view text);

  // Addresses of active leases named `label`, and the name of the lease on `addr`.
  std::vector<Ipv4> lease_addresses(std::string_view label) const;
  std::optional<std::string> lease_hostname(Ipv4 addr) const;

  // --- DynamicHosts --------------------------------------------------------
  std::vector<IpAddress> named(std::string_view label) const override;
  std::optional<std::string> name_of(const IpAddress& addr) const override;

 private:
  struct Hold {
    Ipv4 ip;
    ClientKey client;
    int64_t until_s;
  };
  struct Declined {
    Ipv4 ip;
    int64_t until_s;
  };

  int64_t now_s() const { return clock_.now_s(); }
  bool usable_address(Ipv4 ip) const;  // in subnet, not gateway/network/broadcast
  bool held_by_other(Ipv4 ip, const ClientKey& client) const;
  bool history_of_other(Ipv4 ip, const ClientKey& client) const;
  void trim_history();
  // The record at `ip`, or nullptr.
  const Lease* record_at(Ipv4 ip) const;
  // Index of a record of `client` (same_client), or SIZE_MAX.
  size_t record_of(const ClientKey& client) const;
  void add_record(Lease lease);
  void remove_record(size_t index);
  template <class Pred>
  void remove_records_if(Pred pred) {
    for (size_t i = leases_.size(); i-- > 0;)
      if (pred(leases_[i])) remove_record(i);
  }
  void clear_records();
  static uint64_t mac_key(const Mac& mac);

  ServerConfig config_;
  const Clock& clock_;
  std::vector<Lease> leases_;      // active and history records, at most one per address
  std::unordered_map<uint32_t, size_t> by_ip_;        // address -> index in leases_
  std::unordered_multimap<uint64_t, size_t> by_mac_;  // MAC -> indexes in leases_
  std::vector<Hold> holds_;        // outstanding offers
  std::vector<Declined> declined_; // addresses in decline backoff
  uint64_t generation_ = 0;
  int64_t last_trim_s_ = INT64_MIN;  // second of the last trim_history() scan
};

// Colon-separated hex ("01:52:54:00:aa:bb:cc"), and back.
std::string format_hex_colon(std::span<const std::byte> bytes);
std::optional<std::vector<std::byte>> parse_hex_colon(std::string_view s);

}  // namespace vnet::dhcp
