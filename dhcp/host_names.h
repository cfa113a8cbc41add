// vnet::dhcp — host-name rules shared by the DHCP server and the DNS responder.
//
// Theory of operation
//   DHCP clients name themselves (option 12 or 81) and static <host>s carry a
//   name; dnsmasq keeps only names that pass its legal_hostname() check and
//   stores the first label, the domain being the network's <domain name>
//   ("a.example.com" is stored as "a"; a different domain part is ignored with
//   a warning). The DNS responder then answers "a" and, when the network has
//   a domain D, "a.D" (expand-hosts). DNS name comparison is ASCII
//   case-insensitive (RFC 4343 §3).
//
//   DynamicHosts is the narrow view the DNS responder has of the lease
//   database: names of active leases and their addresses. LeaseDb implements
//   it, so the responder never depends on lease internals.
//
// Thread-safety
//   Pure functions. DynamicHosts implementations follow their own owner's
//   contract (LeaseDb: the gateway service thread only).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dhcp/net_types.h"

namespace vnet::dhcp {

// ASCII case-insensitive equality (RFC 4343).
bool names_equal(std::string_view a, std::string_view b);
std::string to_lower(std::string_view s);
// Strip one trailing '.' (a fully qualified presentation name).
std::string_view strip_root(std::string_view name);
// Labels of [A-Za-z0-9_-], 1..63 bytes each, separated by single dots, total
// <= 253 bytes, first character alphanumeric (dnsmasq legal_hostname, and
// libvirt's "the first character must be alphanumeric" for <host name>).
bool is_legal_hostname(std::string_view name);
// "a" of "a.example.com"; the whole name when it has no dot.
std::string_view first_label(std::string_view name);
// "example.com" of "a.example.com"; empty when the name has no dot.
std::string_view after_first_label(std::string_view name);
// True when `name` equals `domain` or ends with ".<domain>" (case-insensitive).
// An empty domain matches nothing.
bool is_subdomain(std::string_view name, std::string_view domain);

class DynamicHosts {
 public:
  virtual ~DynamicHosts() = default;
  // Addresses of active leases (IPv4 and IPv6) whose stored host name (a single label) equals `label`.
  virtual std::vector<IpAddress> named(std::string_view label) const = 0;
  // Stored host name of the active lease on `addr`, if it has one.
  virtual std::optional<std::string> name_of(const IpAddress& addr) const = 0;
};

}  // namespace vnet::dhcp
