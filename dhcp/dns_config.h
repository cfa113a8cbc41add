// vnet::dhcp — configuration of one network's DNS service.
//
// Theory of operation
//   DnsConfig is what libvirt turns into dnsmasq DNS lines
//   (libvirt-format.md §1.5, §1.7, §1.8 localPtr, and §2 items 2-6, 9, 10, 16).
//   The control plane fills it from xml::NetworkDef:
//
//     <dns enable='no'>                  enabled = false (the adapter does not punt port 53)
//     <domain name=D>                    domain = D       ("domain=D", "expand-hosts")
//     <domain localOnly='yes'>           domain_local_only ("local=/D/")
//     <dns forwardPlainNames='no'>       forward_plain_names = false ("domain-needed", "local=//")
//     no <forward> (isolated)            no_resolv = true ("no-resolv": never the host's resolvers)
//     <forwarder addr domain>            forwarders[] ("server=...", see DnsForwarderRule)
//     <host ip><hostname>...             hosts[] (the addn-hosts file; same-IP hosts are merged)
//     <txt name value>                   txts[] ("txt-record=name,value")
//     <srv service protocol domain ...>  srvs[] ("srv-host=...")
//     <ip ... localPtr='yes'>            local_ptr_zones[] += reverse_zone(network, prefix)
//
//   Two inputs come from the host rather than the XML: system_resolvers (the
//   nameservers of /etc/resolv.conf, used when no `no-resolv` applies; see
//   parse_resolv_conf) and system_hosts (dnsmasq also answers from the host's
//   /etc/hosts because libvirt does not pass no-hosts; see parse_hosts_file).
//   Both may be left empty.
//
//   libvirt adds `no-resolv` by itself when any forwarder has an address and
//   no domain; the responder derives that, so no_resolv is only for isolated
//   networks.
//
// Thread-safety
//   Plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dhcp/dns_codec.h"
#include "dhcp/net_types.h"

namespace vnet::dhcp {

struct Upstream {
  IpAddress addr;             // an upstream DNS server
  uint16_t port = kDnsPort;   // 53 except in tests

  friend bool operator==(const Upstream&, const Upstream&) = default;
};

struct DnsHostRecord {
  IpAddress ip;
  std::vector<std::string> hostnames;  // first one is the canonical name (PTR)
};

struct DnsTxtRecord {
  std::string name;   // owner name, used as given
  std::string value;  // comma-separated strings, as dnsmasq reads txt-record
};

struct DnsSrvRecord {
  std::string service;   // without the leading '_'
  std::string protocol;  // without the leading '_'
  std::string domain;    // empty: the network's <domain name> (dnsmasq srv-host)
  std::string target;    // empty: "." (service not available, RFC 2782)
  std::optional<uint16_t> port;      // default 1 (dnsmasq)
  std::optional<uint16_t> priority;  // default 0
  std::optional<uint16_t> weight;    // default 0
};

// <forwarder addr domain>:
//   addr only   -> "server=addr": a default upstream (and no-resolv)
//   both        -> "server=/domain/addr": names under domain go to addr
//   domain only -> "server=/domain/#": names under domain use the default upstreams
struct DnsForwarderRule {
  std::optional<IpAddress> addr;
  std::string domain;
  uint16_t port = kDnsPort;
};

struct DnsConfig {
  bool enabled = true;
  std::string domain;                         // network domain; empty: none
  bool domain_local_only = false;             // local=/domain/
  bool forward_plain_names = true;            // false: domain-needed + local=//
  bool no_resolv = false;                     // isolated network
  std::vector<DnsForwarderRule> forwarders;   // document order (strict-order)
  std::vector<DnsHostRecord> hosts;           // <dns><host>
  std::vector<DnsHostRecord> system_hosts;    // the host's /etc/hosts
  std::vector<DnsTxtRecord> txts;
  std::vector<DnsSrvRecord> srvs;
  std::vector<std::string> local_ptr_zones;   // e.g. "122.168.192.in-addr.arpa"
  std::vector<Upstream> system_resolvers;     // the host's /etc/resolv.conf
  uint32_t local_ttl_s = 0;                   // dnsmasq local-ttl default
  uint16_t edns_udp_size = 1232;              // our EDNS payload size (edns-packet-max)
};

// "nameserver" lines of resolv.conf(5); scoped IPv6 link-local entries are skipped.
std::vector<Upstream> parse_resolv_conf(std::string_view text);
// hosts(5) lines: "<ip> <name> [<alias>...]"; entries with the same IP are merged.
std::vector<DnsHostRecord> parse_hosts_file(std::string_view text);
// txt-record value -> character-strings: split at commas outside double
// quotes, quotes removed (dnsmasq).
std::vector<std::string> split_txt_value(std::string_view value);

}  // namespace vnet::dhcp
