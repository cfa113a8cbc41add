// vnet::dhcp — configuration of one network's DHCPv4 service.
//
// Theory of operation
//   ServerConfig is what libvirt turns into dnsmasq lines for the one IPv4
//   <ip> of a network that has <dhcp> (libvirt-format.md §1.9 and §2 items 9,
//   12, 14, 15, 17). The control plane fills it from xml::NetworkDef; this
//   library does not depend on xml/. Mapping, field by field:
//
//     <ip address=A netmask|prefix=P>     server_ip = A, prefix_len = P
//     <range start end><lease .../>       ranges[] (lease_s: nullopt = 1 hour default,
//                                         kInfiniteLease for expiry='0')
//     <host mac name ip><lease .../>      hosts[]
//     no <forward> (isolated)             send_router = false   ("dhcp-option=3")
//     <dns enable='no'>                   send_dns = false      ("port=0")
//     <domain name=D>                     domain = D
//     <mtu size=N>                        mtu = N               ("dhcp-option=option:mtu,N")
//     <bootp file server>                 bootp                 ("dhcp-boot=file[,,server]")
//     dhcp-lease-max                      lease_max = 0 derives it (sum of range sizes,
//                                         or dnsmasq's default 1000 when static-only)
//
//   dhcp-authoritative and dhcp-no-override are always on under libvirt; they
//   are fields so tests can exercise the other behaviour.
//
// Thread-safety
//   Plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dhcp/net_types.h"

namespace vnet::dhcp {

inline constexpr uint32_t kInfiniteLease = 0xffffffffu;  // RFC 2132 §9.2
inline constexpr uint32_t kDefaultLeaseS = 3600;          // dnsmasq and libvirt default: 1 hour
inline constexpr uint32_t kMinLeaseS = 120;               // dnsmasq's floor for requested times
inline constexpr uint32_t kDefaultLeaseMax = 1000;        // dnsmasq MAXLEASES
inline constexpr int64_t kDeclineBackoffS = 600;          // dnsmasq DECLINE_BACKOFF
inline constexpr int64_t kOfferHoldS = 60;                // how long an OFFERed address stays reserved

struct DhcpRange {
  Ipv4 start;                      // first address, inclusive
  Ipv4 end;                        // last address, inclusive
  std::optional<uint32_t> lease_s; // nullopt: kDefaultLeaseS; kInfiniteLease: never expires
};

struct StaticHost {
  std::optional<Mac> mac;          // match by chaddr; absent: match by client host name
  std::string name;                // may be empty when mac is set; may contain a domain part
  Ipv4 ip;                         // the fixed address
  std::optional<uint32_t> lease_s; // nullopt: the lease time of the range covering ip
};

struct BootpConfig {
  std::string file;                // the boot file name (BOOTP `file` field)
  std::optional<Ipv4> server;      // next server (siaddr); absent: the gateway itself
};

struct ServerConfig {
  Ipv4 server_ip;                  // the gateway's address on this network; also the server id
  unsigned prefix_len = 24;        // netmask of the subnet
  std::vector<DhcpRange> ranges;   // dynamic pools; may be empty (static-only DHCP)
  std::vector<StaticHost> hosts;   // fixed addresses
  bool send_router = true;         // option 3; false on isolated networks
  bool send_dns = true;            // option 6; false when DNS is disabled
  std::string domain;              // option 15 and the DNS suffix of lease names; empty: none
  uint16_t mtu = 0;                // option 26 when non-zero
  std::optional<BootpConfig> bootp;
  uint32_t lease_max = 0;          // 0: derived (see above)
  bool authoritative = true;       // dhcp-authoritative
  bool no_override = true;         // dhcp-no-override: never put options in file/sname

  Ipv4 netmask() const { return Ipv4::netmask(prefix_len); }
  Ipv4 broadcast_address() const { return server_ip.subnet_broadcast(prefix_len); }
  // lease_max, or the derived value.
  uint32_t effective_lease_max() const;
};

}  // namespace vnet::dhcp
