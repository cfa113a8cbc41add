// vnet::xml — parsers for <ip>, <dhcp> and <dns> (libvirt-format.md 1.7–1.9).
#include <cstring>

#include "xml/parse_internal.h"
#include "xml/xml_doc.h"

namespace vnet::xml::detail {

namespace {

std::string q(const std::string& s) { return "'" + s + "'"; }

// libvirt caps the SRV service name (DNS_RECORD_LENGTH_SRV = 512 - 30).
constexpr size_t kDnsRecordLengthSrv = 512 - 30;
constexpr const char* kServiceChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+/*";
constexpr const char* kProtocolChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+/";

bool only_chars(const std::string& s, const char* allowed) {
  return s.find_first_not_of(allowed) == std::string::npos;
}

std::string or_null(const std::string& s, bool present) { return present ? s : "(null)"; }

}  // namespace

bool has_line_break(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

std::string invalid_attr(xmlNode* node, const char* attr, const std::string& value) {
  return "Invalid value for attribute '" + std::string(attr) + "' in element '" +
         std::string(node_name(node)) + "': '" + value + "'.";
}

Status parse_tristate(xmlNode* node, const char* attr, TriState* out) {
  *out = TriState::kAbsent;
  auto v = prop(node, attr);
  if (!v) return {};
  if (*v == "yes") {
    *out = TriState::kYes;
  } else if (*v == "no") {
    *out = TriState::kNo;
  } else {
    return Status::error(invalid_attr(node, attr, *v));
  }
  return {};
}

int ip_prefix(const IpDef& ip) {
  if (ip.prefix > 0) return static_cast<int>(ip.prefix);
  if (ip.netmask) {
    auto p = netmask_to_prefix(*ip.netmask);
    return p ? static_cast<int>(*p) : -1;
  }
  if (ip.address.is_v4()) {
    auto p = classful_prefix(ip.address);
    return p ? static_cast<int>(*p) : -1;
  }
  return 64;
}

Result<uint64_t> check_range(const IpAddr& start, const IpAddr& end, const IpAddr* network,
                             int prefix) {
  const std::string s = start.format();
  const std::string e = end.format();
  if (start.family != end.family) {
    return Result<uint64_t>::error("mismatch of address family in range " + s + " - " + e);
  }
  if (network) {
    const std::string n = network->format();
    const std::string where = n + "/" + std::to_string(prefix);
    if (start.family != network->family) {
      return Result<uint64_t>::error("mismatch of address family in range " + s + " - " + e +
                                     " for network " + n);
    }
    const int max_prefix = start.is_v4() ? 32 : 128;
    if (prefix < 0 || prefix > max_prefix) {
      return Result<uint64_t>::error("bad prefix " + std::to_string(prefix) + " for network " + n +
                                     " when checking range " + s + " - " + e);
    }
    const auto p = static_cast<unsigned>(prefix);
    if (!same_subnet(start, *network, p) || !same_subnet(end, *network, p)) {
      return Result<uint64_t>::error("range " + s + " - " + e + " is not entirely within network " +
                                     where);
    }
    if (start.is_v4()) {
      if (start == network_address(*network, p)) {
        return Result<uint64_t>::error("start of range " + s + " - " + e + " in network " + where +
                                       " is the network address");
      }
      if (end == broadcast_address(*network, p)) {
        return Result<uint64_t>::error("end of range " + s + " - " + e + " in network " + where +
                                       " is the broadcast address");
      }
    }
  }
  // libvirt's legacy size rule: all but the last two bytes must be equal.
  const size_t n = start.is_v4() ? 4 : 16;
  for (size_t i = 0; i + 2 < n; ++i) {
    if (start.bytes[i] != end.bytes[i]) {
      return Result<uint64_t>::error("range " + s + " - " + e + " is too large (> 65535)");
    }
  }
  const int lo = start.bytes[n - 2] * 256 + start.bytes[n - 1];
  const int hi = end.bytes[n - 2] * 256 + end.bytes[n - 1];
  if (hi < lo) return Result<uint64_t>::error("range " + s + " - " + e + " is reversed");
  return static_cast<uint64_t>(hi - lo + 1);
}

Status parse_lease(xmlNode* node, std::optional<Lease>* out) {
  out->reset();
  auto expiry_s = prop(node, "expiry");
  if (!expiry_s) return {};  // no expiry: the element is ignored
  auto expiry = str_to_ulp(*expiry_s, 0);
  if (!expiry) {
    return Status::error("Invalid value for attribute 'expiry' in element 'lease': '" + *expiry_s +
                         "'. Expected non-negative integer value");
  }
  Lease lease;
  lease.expiry = *expiry;
  lease.unit = Lease::Unit::kMinutes;
  if (auto unit = prop(node, "unit")) {
    if (*unit == "seconds") {
      lease.unit = Lease::Unit::kSeconds;
    } else if (*unit == "minutes") {
      lease.unit = Lease::Unit::kMinutes;
    } else if (*unit == "hours") {
      lease.unit = Lease::Unit::kHours;
    } else {
      return Status::error(invalid_attr(node, "unit", *unit));
    }
  }
  if (lease.expiry > 0 && ((lease.unit == Lease::Unit::kSeconds && lease.expiry < 120) ||
                           (lease.unit == Lease::Unit::kMinutes && lease.expiry < 2))) {
    return Status::error("The minimum lease time should be greater than 2 minutes");
  }
  *out = lease;
  return {};
}

Status parse_dhcp_range(const std::string& net, const IpDef& ip, xmlNode* node, DhcpRange* out) {
  auto start = prop(node, "start");
  if (!start) return Status::error("Missing 'start' attribute in dhcp range for network " + q(net));
  auto start_addr = parse_ip(*start);
  if (!start_addr) {
    return Status::error("Invalid 'start' address " + q(*start) + " in dhcp range for network " +
                         q(net));
  }
  auto end = prop(node, "end");
  if (!end) return Status::error("Missing 'end' attribute in dhcp range for network " + q(net));
  auto end_addr = parse_ip(*end);
  if (!end_addr) {
    return Status::error("Invalid 'end' address " + q(*end) + " in dhcp range for network " +
                         q(net));
  }
  auto size = check_range(*start_addr, *end_addr, &ip.address, ip_prefix(ip));
  if (!size) return Status::error(size.error());
  out->start = *start_addr;
  out->end = *end_addr;
  if (xmlNode* lease = sub_element(node, "lease")) {
    if (auto st = parse_lease(lease, &out->lease); !st) return st;
  }
  return {};
}

Status parse_dhcp_host(const std::string& net, const IpDef& ip, xmlNode* node, DhcpHost* out,
                       bool partial_ok) {
  *out = DhcpHost{};
  auto mac = prop(node, "mac");
  if (mac) {
    if (ip.address.is_v6()) {
      return Status::error("Invalid to specify MAC address " + q(*mac) + " in network " + q(net) +
                           " IPv6 static host definition");
    }
    auto parsed = parse_mac(*mac);
    if (!parsed) {
      return Status::error("Cannot parse MAC address " + q(*mac) + " in network " + q(net));
    }
    if (parsed->is_multicast()) {
      return Status::error("expected unicast mac address, found multicast " + q(*mac) +
                           " in network " + q(net));
    }
  }
  auto id = prop(node, "id");
  if (id) {
    const size_t bad = id->find_first_not_of("0123456789abcdefABCDEF:");
    if (bad != std::string::npos) {
      return Status::error("Invalid character '" + std::string(1, (*id)[bad]) + "' in id " + q(*id) +
                           " of network " + q(net));
    }
  }
  auto name = prop(node, "name");
  if (name) {
    const unsigned char c0 = name->empty() ? 0 : static_cast<unsigned char>((*name)[0]);
    const bool ok = (c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || (c0 >= '0' && c0 <= '9');
    if (!ok) {
      return Status::error("Cannot use host name " + q(*name) + " in network " + q(net));
    }
  }
  auto ip_s = prop(node, "ip");
  std::optional<IpAddr> host_ip;
  if (ip_s) {
    host_ip = parse_ip(*ip_s);
    if (!host_ip) {
      return Status::error("Invalid IP address in static host definition for network " + q(net));
    }
  }
  if (partial_ok) {
    if (!(mac || name || ip_s)) {
      return Status::error(
          "At least one of name, mac, or ip attribute must be specified for static host definition "
          "in network " +
          q(net));
    }
  } else {
    if (ip.address.is_v6()) {
      if (!(id || name)) {
        return Status::error("Static host definition in IPv6 network " + q(net) +
                             " must have id or name attribute");
      }
    } else if (!(mac || name)) {
      return Status::error("Static host definition in IPv4 network " + q(net) +
                           " must have mac or name attribute");
    }
    if (!ip_s) {
      return Status::error("Missing IP address in static host definition for network " + q(net));
    }
  }
  if (xmlNode* lease = sub_element(node, "lease")) {
    if (auto st = parse_lease(lease, &out->lease); !st) return st;
  }
  out->mac = mac.value_or("");
  out->id = id.value_or("");
  out->name = name.value_or("");
  out->ip = host_ip;
  return {};
}

namespace {

Status parse_dhcp(const std::string& net, xmlNode* node, IpDef* ip) {
  DhcpDef dhcp;
  for (xmlNode* r : sub_elements(node, "range")) {
    DhcpRange range;
    if (auto st = parse_dhcp_range(net, *ip, r, &range); !st) return st;
    dhcp.ranges.push_back(range);
  }
  for (xmlNode* h : sub_elements(node, "host")) {
    DhcpHost host;
    if (auto st = parse_dhcp_host(net, *ip, h, &host, false); !st) return st;
    dhcp.hosts.push_back(std::move(host));
  }
  xmlNode* bootp = sub_element(node, "bootp");
  if (bootp && ip->address.is_v4()) {
    Bootp b;
    auto file = prop(bootp, "file");
    if (!file) return Status::error("Missing required attribute 'file' in element 'bootp'");
    b.file = *file;
    if (auto server = prop(bootp, "server")) {
      b.server = parse_ip(*server);
      if (!b.server) {
        return Status::error("Invalid 'server' address " + q(*server) +
                             " in <bootp> of network " + q(net));
      }
    }
    dhcp.bootp = std::move(b);
  }
  ip->dhcp = std::move(dhcp);
  return {};
}

}  // namespace

Status check_ip(const std::string& net, const IpDef& ip) {
  const std::string address = ip.address.format();
  if (ip.family.empty() || ip.family == "ipv4") {
    if (!ip.address.is_v4()) {
      return Status::error(std::string(ip.family.empty() ? "no" : "ipv4") +
                           " family specified for non-IPv4 address " + q(address) +
                           " in network " + q(net));
    }
    if (ip.netmask) {
      if (!ip.netmask->is_v4()) {
        return Status::error("Invalid netmask " + q(ip.netmask->format()) + " for address " +
                             q(address) + " in network " + q(net) + " (both must be IPv4)");
      }
      if (ip.prefix > 0) {
        return Status::error("Network " + q(net) +
                             " IP address cannot have both a prefix and a netmask");
      }
    } else if (ip.prefix > 32) {
      return Status::error("Invalid IPv4 prefix '" + std::to_string(ip.prefix) + "' in network " +
                           q(net));
    }
  } else if (ip.family == "ipv6") {
    if (!ip.address.is_v6()) {
      return Status::error("Family 'ipv6' specified for non-IPv6 address " + q(address) +
                           " in network " + q(net));
    }
    if (ip.netmask) {
      return Status::error("netmask not allowed for IPv6 address " + q(address) + " in network " +
                           q(net));
    }
    if (ip.prefix > 128) {
      return Status::error("Invalid IPv6 prefix '" + std::to_string(ip.prefix) + "' in network " +
                           q(net));
    }
  } else {
    return Status::error("Unrecognized family " + q(ip.family) + " in network " + q(net));
  }
  return {};
}

Status parse_ip_element(const std::string& net, xmlNode* node, IpDef* out) {
  IpDef ip;
  ip.family = xpath_prop(node, "family").value_or("");
  auto address = xpath_prop(node, "address");
  if (!address) return Status::error("Missing required address attribute in network " + q(net));
  auto addr = parse_ip(*address);
  if (!addr) return Status::error("Invalid address " + q(*address) + " in network " + q(net));
  ip.address = *addr;
  auto netmask = xpath_prop(node, "netmask");
  if (netmask) {
    ip.netmask = parse_ip(*netmask);
    if (!ip.netmask) {
      return Status::error("Invalid netmask " + q(*netmask) + " in network " + q(net));
    }
  }
  if (auto prefix = prop(node, "prefix")) {
    auto p = str_to_uip(*prefix);
    if (!p) {
      return Status::error("Invalid value for attribute 'prefix' in element 'ip': '" + *prefix +
                           "'. Expected non-negative integer value");
    }
    ip.prefix = *p;
  }
  if (auto st = parse_tristate(node, "localPtr", &ip.local_ptr); !st) return st;
  if (auto st = check_ip(net, ip); !st) return st;
  if (xmlNode* dhcp = xpath_child(node, "dhcp")) {
    if (auto st = parse_dhcp(net, dhcp, &ip); !st) return st;
  }
  if (xmlNode* tftp = xpath_child(node, "tftp")) {
    if (!ip.address.is_v4()) {
      return Status::error("Unsupported <tftp> element in an IPv6 element in network " + q(net));
    }
    if (auto root = xpath_prop(tftp, "root")) ip.tftp_root = *root;
  }
  *out = std::move(ip);
  return {};
}

Status parse_dns_host(const std::string& net, xmlNode* node, PartialDnsHost* out, bool partial_ok) {
  *out = PartialDnsHost{};
  const auto names = sub_elements(node, "hostname");
  for (xmlNode* n : names) {
    std::string name = content(n);
    if (name.empty()) {
      return Status::error("Missing hostname in network " + q(net) + " DNS HOST record");
    }
    out->host.hostnames.push_back(std::move(name));
  }
  if (names.empty() && !partial_ok) {
    return Status::error("Missing hostname in network " + q(net) + " DNS HOST record");
  }
  if (auto ip = prop(node, "ip")) {
    auto addr = parse_ip(*ip);
    if (!addr) return Status::error("Invalid IP address in network " + q(net) + " DNS HOST record");
    out->host.ip = *addr;
    out->has_ip = true;
  } else {
    if (!partial_ok) {
      return Status::error("Missing IP address in network " + q(net) + " DNS HOST record");
    }
    if (names.empty()) {
      return Status::error("Missing ip and hostname in network " + q(net) + " DNS HOST record");
    }
  }
  return {};
}

Status parse_dns_srv(const std::string& net, xmlNode* node, DnsSrv* out, bool partial_ok) {
  *out = DnsSrv{};
  auto service = prop(node, "service");
  if (!service && !partial_ok) {
    return Status::error("missing required service attribute in DNS SRV record of network " +
                         q(net));
  }
  if (service) {
    if (service->size() > kDnsRecordLengthSrv) {
      return Status::error("service attribute " + q(*service) + " in network " + q(net) +
                           " is too long, limit is " + std::to_string(kDnsRecordLengthSrv) +
                           " bytes");
    }
    if (!only_chars(*service, kServiceChars)) {
      return Status::error("invalid character in service attribute " + q(*service) +
                           " in DNS SRV record of network " + q(net));
    }
  }
  const std::string svc = or_null(service.value_or(""), service.has_value());
  auto protocol = prop(node, "protocol");
  if (!protocol && !partial_ok) {
    return Status::error("missing required protocol attribute in DNS SRV record " + q(svc) +
                         " of network " + q(net));
  }
  if (protocol && !only_chars(*protocol, kProtocolChars)) {
    return Status::error("invalid character in protocol attribute " + q(*protocol) +
                         " in DNS SRV record of network " + q(net));
  }
  auto domain = prop(node, "domain");
  auto target = prop(node, "target");
  // CVE-2026-61477 (post-11.3): a line break would inject a dnsmasq directive.
  if (domain && has_line_break(*domain)) {
    return Status::error("invalid line break in DNS SRV record domain attribute");
  }
  if (target && has_line_break(*target)) {
    return Status::error("invalid line break in DNS SRV record target attribute");
  }
  struct NumAttr {
    const char* attr;
    std::optional<unsigned>* dst;
    unsigned min, max;
    const char* bad;  // libvirt capitalises the priority message only
  };
  const NumAttr nums[] = {
      {"port", &out->port, 1, 65535, "invalid DNS SRV port attribute"},
      {"priority", &out->priority, 0, 65535, "Invalid DNS SRV priority attribute"},
      {"weight", &out->weight, 0, 65535, "invalid DNS SRV weight attribute"},
  };
  for (const NumAttr& a : nums) {
    auto v = xpath_prop(node, a.attr);
    if (!v) continue;
    auto n = str_to_ui(*v);
    if (n && !target) {
      return Status::error("DNS SRV " + std::string(a.attr) +
                           " attribute not permitted without target for service " + q(svc) +
                           " in network " + q(net));
    }
    if (!n || *n < a.min || *n > a.max) {
      return Status::error(std::string(a.bad) + " for service " + q(svc) + " in network " + q(net));
    }
    *a.dst = *n;
  }
  out->service = service.value_or("");
  out->protocol = protocol.value_or("");
  out->domain = domain.value_or("");
  out->target = target.value_or("");
  return {};
}

Status parse_dns_txt(const std::string& net, xmlNode* node, PartialDnsTxt* out, bool partial_ok) {
  *out = PartialDnsTxt{};
  auto name = prop(node, "name");
  if (!name) {
    return Status::error("missing required name attribute in DNS TXT record of network " + net);
  }
  if (name->find_first_of(" ,") != std::string::npos) {
    return Status::error("prohibited character in DNS TXT record name " + q(*name) +
                         " of network " + net);
  }
  // Hardening beyond libvirt's parser (its dnsmasq emitter refuses the same).
  if (has_line_break(*name)) {
    return Status::error("invalid line break in DNS TXT record name attribute");
  }
  auto value = prop(node, "value");
  if (!value && !partial_ok) {
    return Status::error("missing required value attribute in DNS TXT record named " + q(*name) +
                         " of network " + net);
  }
  // CVE-2026-61477 (post-11.3).
  if (value && has_line_break(*value)) {
    return Status::error("invalid line break in DNS TXT record value attribute");
  }
  out->txt.name = *name;
  out->txt.value = value.value_or("");
  out->has_value = value.has_value();
  return {};
}

Status parse_dns(const std::string& net, xmlNode* node, DnsDef* out) {
  DnsDef dns;
  if (auto st = parse_tristate(node, "enable", &dns.enable); !st) return st;
  if (auto st = parse_tristate(node, "forwardPlainNames", &dns.forward_plain_names); !st) return st;
  const auto fwds = xpath_children(node, "forwarder");
  for (xmlNode* f : fwds) {
    DnsForwarder fwd;
    auto addr = prop(f, "addr");
    if (addr) {
      fwd.addr = parse_ip(*addr);
      if (!fwd.addr) {
        return Status::error("Invalid forwarder IP address " + q(*addr) + " in network " + q(net));
      }
    }
    auto domain = prop(f, "domain");
    fwd.domain = domain.value_or("");
    if (!addr && fwd.domain.empty()) {
      return Status::error(
          "Invalid forwarder element, must contain at least one of addr or domain");
    }
    dns.forwarders.push_back(std::move(fwd));
  }
  const auto hosts = xpath_children(node, "host");
  for (xmlNode* h : hosts) {
    PartialDnsHost host;
    if (auto st = parse_dns_host(net, h, &host, false); !st) return st;
    dns.hosts.push_back(std::move(host.host));
  }
  const auto srvs = xpath_children(node, "srv");
  for (xmlNode* s : srvs) {
    DnsSrv srv;
    if (auto st = parse_dns_srv(net, s, &srv, false); !st) return st;
    dns.srvs.push_back(std::move(srv));
  }
  const auto txts = xpath_children(node, "txt");
  for (xmlNode* t : txts) {
    PartialDnsTxt txt;
    if (auto st = parse_dns_txt(net, t, &txt, false); !st) return st;
    dns.txts.push_back(std::move(txt.txt));
  }
  if (dns.enable == TriState::kNo &&
      (!fwds.empty() || !hosts.empty() || !srvs.empty() || !txts.empty())) {
    return Status::error("Extra data in disabled network " + q(net));
  }
  *out = std::move(dns);
  return {};
}

Status check_dns_line_breaks(const DnsDef& dns) {
  for (const DnsTxt& t : dns.txts) {
    if (has_line_break(t.name)) return Status::error("invalid line break in DNS TXT record name attribute");
    if (has_line_break(t.value)) {
      return Status::error("invalid line break in DNS TXT record value attribute");
    }
  }
  for (const DnsSrv& s : dns.srvs) {
    if (has_line_break(s.domain)) {
      return Status::error("invalid line break in DNS SRV record domain attribute");
    }
    if (has_line_break(s.target)) {
      return Status::error("invalid line break in DNS SRV record target attribute");
    }
  }
  return {};
}

}  // namespace vnet::xml::detail
