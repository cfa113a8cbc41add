// vnet::dhcp — the locally known DNS data of one network, compiled from
// DnsConfig, plus the routing table for names that are not known locally.
//
// Theory of operation
//   LocalZone answers "what do we know about this name" the way dnsmasq's
//   cache does with libvirt's configuration:
//   * <dns><host> and /etc/hosts entries (hosts files): every name gives A or
//     AAAA records; with a network domain D, a name without a dot is also
//     answered as name.D (expand-hosts). Entries for the same address are
//     merged. The PTR of an address is its first name, qualified with D when
//     it has no dot (the first hosts-file name is canonical; <dns><host> are
//     read before /etc/hosts).
//   * DHCP leases (through DynamicHosts): a lease named "vm" answers "vm" and,
//     with a domain D, "vm.D"; its PTR is "vm.D" (or "vm").
//   * txt-record and srv-host entries, owner names as configured; an SRV owner
//     without a domain part takes D.
//   A name that has any of these for any type is *known*: other types get an
//   empty NOERROR answer (NODATA) rather than being forwarded.
//
//   Names that are not known are routed (Route): the longest matching domain
//   among the `local=` and `server=` rules wins, as in dnsmasq:
//     local=/D/ (localOnly), local=/zone/ (localPtr)   -> kLocal (NXDOMAIN)
//     server=/D/addr                                   -> kForward to those addrs
//     server=/D/#                                      -> kForward to the defaults
//   and names without a dot are kLocal under forwardPlainNames='no'. The
//   default upstreams are the address-only <forwarder>s in document order
//   (strict-order) when there are any (libvirt adds no-resolv then), else the
//   host's resolvers unless no_resolv; an empty upstream list means REFUSED.
//
// Thread-safety
//   Immutable after construction; DynamicHosts is read on the owner thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dhcp/dns_config.h"
#include "dhcp/host_names.h"

namespace vnet::dhcp {

struct SrvData {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 1;
  std::string target;  // "" for the root (service not available)
};

struct LocalData {
  bool known = false;                           // the name exists locally
  std::vector<IpAddress> addresses;             // A and AAAA data
  std::vector<std::vector<std::string>> txts;   // one entry per TXT record
  std::vector<SrvData> srvs;
};

struct Route {
  enum class Kind : uint8_t { kLocal, kForward };
  Kind kind = Kind::kForward;
  std::vector<Upstream> upstreams;  // kForward; empty means nobody to ask (REFUSED)
};

class LocalZone {
 public:
  LocalZone(const DnsConfig& config, const DynamicHosts* leases);

  // Everything known about `name` (presentation form, any case).
  LocalData lookup(std::string_view name) const;
  // The PTR target for an address, if known.
  std::optional<std::string> ptr_for(const IpAddress& addr) const;
  Route route(std::string_view name) const;

 private:
  struct Rule {
    std::string domain;              // lower case
    bool local = false;
    bool use_defaults = false;       // server=/D/#
    std::vector<Upstream> upstreams; // server=/D/addr...
  };

  void add_hosts(const std::vector<DnsHostRecord>& records);
  std::string qualify(std::string_view name) const;  // name.D for names without a dot

  std::string domain_;  // lower case
  const DynamicHosts* leases_;
  std::map<std::string, std::vector<IpAddress>> addresses_;  // lower-case name -> addresses
  std::map<IpAddress, std::string> ptrs_;                     // address -> canonical name
  std::map<std::string, std::vector<std::vector<std::string>>> txts_;
  std::map<std::string, std::vector<SrvData>> srvs_;
  std::vector<Rule> rules_;
  std::vector<Upstream> defaults_;
  bool plain_names_local_ = false;
};

}  // namespace vnet::dhcp
