// vnet::xml — apply_network_update(): virNetworkDefUpdateSection() for
// `net-update` (libvirt-format.md section 4 "net-update").
//
// Every section works on a copy of the definition; the copy replaces `def`
// only when the whole update succeeded.
#include "xml/network_xml.h"
#include "xml/parse_internal.h"
#include "xml/xml_doc.h"

namespace vnet::xml {

using namespace detail;  // NOLINT: internal helpers of this library

namespace {

std::string q(const std::string& s) { return "'" + s + "'"; }
std::string or_null(const std::string& s) { return s.empty() ? "(null)" : s; }

bool is_add(UpdateCommand c) { return c == UpdateCommand::kAddFirst || c == UpdateCommand::kAddLast; }

template <typename T>
void insert(std::vector<T>& v, UpdateCommand c, T value) {
  if (c == UpdateCommand::kAddFirst) {
    v.insert(v.begin(), std::move(value));
  } else {
    v.push_back(std::move(value));
  }
}

Status no_support(const NetworkDef& def, const char* section) {
  return Status::error("can't update '" + std::string(section) + "' section of network " +
                       q(def.name));
}

Status check_element(const NetworkDef& def, xmlNode* node, const char* expected) {
  if (node_name(node) != expected) {
    return Status::error("unexpected element <" + std::string(node_name(node)) + ">, expecting <" +
                         expected + ">, while updating network " + q(def.name));
  }
  return {};
}

// virMacAddrCompare: case-insensitive, leading zeros of each group ignored.
bool same_mac(const std::string& a, const std::string& b) {
  auto pa = parse_mac(a);
  auto pb = parse_mac(b);
  if (pa && pb) return *pa == *pb;
  return a == b;
}

// virNetworkIPDefByIndex: the indexed <ip>, or (-1) the first with DHCP, else
// the first IPv4, else the first IPv6.
Result<IpDef*> ip_by_index(NetworkDef& def, int parent_index) {
  if (parent_index >= 0) {
    if (static_cast<size_t>(parent_index) >= def.ips.size()) {
      return Result<IpDef*>::error(
          "couldn't update dhcp host entry - no <ip> element found at index " +
          std::to_string(parent_index) + " in network " + q(def.name));
    }
    return &def.ips[static_cast<size_t>(parent_index)];
  }
  for (IpDef& ip : def.ips) {
    if (has_dhcp(ip)) return &ip;
  }
  for (IpDef& ip : def.ips) {
    if (ip.address.is_v4()) return &ip;
  }
  for (IpDef& ip : def.ips) {
    if (ip.address.is_v6()) return &ip;
  }
  return Result<IpDef*>::error("couldn't update dhcp host entry - no <ip> element found in network " +
                               q(def.name));
}

Status check_multi_dhcp(const NetworkDef& def, const IpDef* target) {
  for (const IpDef& ip : def.ips) {
    if (&ip == target || ip.address.family != target->address.family) continue;
    if (has_dhcp(ip)) {
      return Status::error(std::string("dhcp is supported only for a single ") +
                           (target->address.is_v4() ? "IPv4" : "IPv6") +
                           " address on each network");
    }
  }
  return {};
}

Status update_dhcp_host(NetworkDef& def, UpdateCommand cmd, int parent_index, xmlNode* node) {
  if (auto st = check_element(def, node, "host"); !st) return st;
  auto ipr = ip_by_index(def, parent_index);
  if (!ipr) return Status::error(ipr.error());
  IpDef& ip = **ipr;
  const bool partial = cmd == UpdateCommand::kDelete;
  DhcpHost host;
  if (auto st = parse_dhcp_host(def.name, ip, node, &host, partial); !st) return st;
  if (!partial && (!host.ip || host.ip->family != ip.address.family)) {
    return Status::error(
        "the address family of a host entry IP must match the address family of the dhcp "
        "element's parent");
  }
  if (!ip.dhcp) ip.dhcp = DhcpDef{};
  std::vector<DhcpHost>& hosts = ip.dhcp->hosts;
  const std::string ip_text = host.ip ? host.ip->format() : "unknown";
  const std::string mac_text = host.mac.empty() ? "unknown" : host.mac;
  if (cmd == UpdateCommand::kModify) {
    for (DhcpHost& h : hosts) {
      if ((!host.mac.empty() && !h.mac.empty() && same_mac(host.mac, h.mac)) ||
          (host.ip && h.ip && *host.ip == *h.ip) || (!host.name.empty() && host.name == h.name)) {
        h = std::move(host);
        return {};
      }
    }
    return Status::error("couldn't locate an existing dhcp host entry with \"mac='" + mac_text +
                         "'\" \"name='" + or_null(host.name) + "'\" \"ip='" + ip_text +
                         "'\" in network " + q(def.name));
  }
  if (is_add(cmd)) {
    if (auto st = check_multi_dhcp(def, &ip); !st) return st;
    for (const DhcpHost& h : hosts) {
      if ((!host.mac.empty() && !h.mac.empty() && same_mac(host.mac, h.mac)) ||
          (!host.name.empty() && host.name == h.name) || (host.ip && h.ip && *host.ip == *h.ip)) {
        return Status::error("there is an existing dhcp host entry in network " + q(def.name) +
                             " that matches \"<host mac='" + mac_text + "' name='" +
                             or_null(host.name) + "' ip='" + ip_text + "'/>\"");
      }
    }
    insert(hosts, cmd, std::move(host));
    return {};
  }
  // Delete: every attribute given must match.
  for (size_t i = 0; i < hosts.size(); ++i) {
    const DhcpHost& h = hosts[i];
    if ((host.mac.empty() || h.mac.empty() || same_mac(host.mac, h.mac)) &&
        (host.name.empty() || host.name == h.name) && (!host.ip || (h.ip && *host.ip == *h.ip))) {
      hosts.erase(hosts.begin() + static_cast<std::ptrdiff_t>(i));
      return {};
    }
  }
  return Status::error("couldn't locate a matching dhcp host entry in network " + q(def.name));
}

Status update_dhcp_range(NetworkDef& def, UpdateCommand cmd, int parent_index, xmlNode* node) {
  if (auto st = check_element(def, node, "range"); !st) return st;
  auto ipr = ip_by_index(def, parent_index);
  if (!ipr) return Status::error(ipr.error());
  IpDef& ip = **ipr;
  if (cmd == UpdateCommand::kModify) {
    return Status::error("dhcp ranges cannot be modified, only added or deleted");
  }
  DhcpRange range;
  if (auto st = parse_dhcp_range(def.name, ip, node, &range); !st) return st;
  if (range.start.family != ip.address.family) {
    return Status::error(
        "the address family of a dhcp range must match the address family of the dhcp element's "
        "parent");
  }
  if (!ip.dhcp) ip.dhcp = DhcpDef{};
  std::vector<DhcpRange>& ranges = ip.dhcp->ranges;
  size_t found = ranges.size();
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (ranges[i].start == range.start && ranges[i].end == range.end) {
      found = i;
      break;
    }
  }
  if (is_add(cmd)) {
    if (auto st = check_multi_dhcp(def, &ip); !st) return st;
    if (found < ranges.size()) {
      return Status::error("there is an existing dhcp range entry in network " + q(def.name) +
                           " that matches \"<range start='" + range.start.format() + "' end='" +
                           range.end.format() + "'/>\"");
    }
    insert(ranges, cmd, std::move(range));
    return {};
  }
  if (found == ranges.size()) {
    return Status::error("couldn't locate a matching dhcp range entry in network " + q(def.name));
  }
  ranges.erase(ranges.begin() + static_cast<std::ptrdiff_t>(found));
  return {};
}

Status update_forward_interface(NetworkDef& def, UpdateCommand cmd, xmlNode* node) {
  if (auto st = check_element(def, node, "interface"); !st) return st;
  if (cmd == UpdateCommand::kModify) {
    return Status::error("forward interface entries cannot be modified, only added or deleted");
  }
  auto dev = prop(node, "dev");
  if (!dev) return Status::error("missing dev attribute in <interface> element");
  ForwardDef& fwd = def.forward;
  if (fwd.interfaces.empty() && !fwd.dev.empty()) fwd.interfaces.push_back({fwd.dev, 0});
  size_t found = fwd.interfaces.size();
  for (size_t i = 0; i < fwd.interfaces.size(); ++i) {
    if (fwd.interfaces[i].dev == *dev) {
      found = i;
      break;
    }
  }
  if (is_add(cmd)) {
    if (found < fwd.interfaces.size()) {
      return Status::error("there is an existing interface entry in network " + q(def.name) +
                           " that matches \"<interface dev='" + *dev + "'>\"");
    }
    insert(fwd.interfaces, cmd, ForwardInterface{*dev, 0});
  } else {
    if (found == fwd.interfaces.size()) {
      return Status::error("couldn't find an interface entry in network " + q(def.name) +
                           " matching <interface dev='" + *dev + "'>");
    }
    if (fwd.interfaces[found].connections > 0) {
      return Status::error("unable to delete interface '" + *dev + "' in network " + q(def.name) +
                           ". It is currently being used by " +
                           std::to_string(fwd.interfaces[found].connections) + " domains.");
    }
    fwd.interfaces.erase(fwd.interfaces.begin() + static_cast<std::ptrdiff_t>(found));
  }
  fwd.dev = fwd.interfaces.empty() ? std::string() : fwd.interfaces.front().dev;
  return {};
}

Status update_portgroup(NetworkDef& def, UpdateCommand cmd, xmlNode* node) {
  if (auto st = check_element(def, node, "portgroup"); !st) return st;
  PortgroupDef pg;
  if (auto st = parse_portgroup(node, &pg); !st) return st;
  int found_name = -1, found_default = -1;
  for (size_t i = 0; i < def.portgroups.size(); ++i) {
    if (def.portgroups[i].name == pg.name) found_name = static_cast<int>(i);
    if (def.portgroups[i].is_default) found_default = static_cast<int>(i);
  }
  if (found_name < 0 && (cmd == UpdateCommand::kModify || cmd == UpdateCommand::kDelete)) {
    return Status::error("couldn't find a portgroup entry in network " + q(def.name) +
                         " matching <portgroup name='" + pg.name + "'>");
  }
  if (found_name >= 0 && is_add(cmd)) {
    return Status::error("there is an existing portgroup entry in network " + q(def.name) +
                         " that matches \"<portgroup name='" + pg.name + "'>\"");
  }
  if (cmd != UpdateCommand::kDelete && pg.is_default && found_default >= 0 &&
      found_default != found_name) {
    return Status::error("a different portgroup entry in network " + q(def.name) +
                         " is already set as the default. Only one default is allowed.");
  }
  if (cmd == UpdateCommand::kModify) {
    def.portgroups[static_cast<size_t>(found_name)] = std::move(pg);
  } else if (is_add(cmd)) {
    insert(def.portgroups, cmd, std::move(pg));
  } else {
    def.portgroups.erase(def.portgroups.begin() + found_name);
  }
  return {};
}

Status update_dns_host(NetworkDef& def, UpdateCommand cmd, xmlNode* node) {
  if (auto st = check_element(def, node, "host"); !st) return st;
  const bool add = is_add(cmd);
  PartialDnsHost parsed;
  if (auto st = parse_dns_host(def.name, node, &parsed, !add); !st) return st;
  std::vector<DnsHost>& hosts = def.dns.hosts;
  int found_count = 0;
  size_t found = 0, found_by_ip = 0;
  for (size_t i = 0; i < hosts.size(); ++i) {
    bool hit = parsed.has_ip && parsed.host.ip == hosts[i].ip;
    if (hit) found_by_ip = i;
    if (cmd == UpdateCommand::kDelete && !hit) {
      for (const std::string& a : parsed.host.hostnames) {
        for (const std::string& b : hosts[i].hostnames) hit = hit || a == b;
      }
    }
    if (hit) {
      ++found_count;
      found = i;
    }
  }
  if (add) {
    if (found_count > 0) {
      return Status::error("there is already at least one DNS HOST record with a matching field in network " +
                           def.name);
    }
    insert(hosts, cmd, std::move(parsed.host));
    return {};
  }
  if (found_count == 0) {
    return Status::error("couldn't locate a matching DNS HOST record in network " + def.name);
  }
  if (found_count > 1) {
    return Status::error("multiple matching DNS HOST records were found in network " + def.name);
  }
  if (cmd == UpdateCommand::kDelete) {
    hosts.erase(hosts.begin() + static_cast<std::ptrdiff_t>(found));
  } else {
    hosts[found_by_ip] = std::move(parsed.host);
  }
  return {};
}

Status update_dns_srv(NetworkDef& def, UpdateCommand cmd, xmlNode* node) {
  if (cmd == UpdateCommand::kModify) {
    return Status::error("DNS SRV records cannot be modified, only added or deleted");
  }
  if (auto st = check_element(def, node, "srv"); !st) return st;
  const bool add = is_add(cmd);
  DnsSrv srv;
  if (auto st = parse_dns_srv(def.name, node, &srv, !add); !st) return st;
  std::vector<DnsSrv>& srvs = def.dns.srvs;
  int found_count = 0;
  size_t found = 0;
  for (size_t i = 0; i < srvs.size(); ++i) {
    const DnsSrv& s = srvs[i];
    if ((srv.domain.empty() || srv.domain == s.domain) &&
        (srv.service.empty() || srv.service == s.service) &&
        (srv.protocol.empty() || srv.protocol == s.protocol) &&
        (srv.target.empty() || srv.target == s.target)) {
      ++found_count;
      found = i;
    }
  }
  if (add) {
    if (found_count > 0) {
      return Status::error(
          "there is already at least one DNS SRV record matching all specified fields in network " +
          def.name);
    }
    insert(srvs, cmd, std::move(srv));
    return {};
  }
  if (found_count == 0) {
    return Status::error("couldn't locate a matching DNS SRV record in network " + def.name);
  }
  if (found_count > 1) {
    return Status::error("multiple DNS SRV records matching all specified fields were found in network " +
                         def.name);
  }
  srvs.erase(srvs.begin() + static_cast<std::ptrdiff_t>(found));
  return {};
}

Status update_dns_txt(NetworkDef& def, UpdateCommand cmd, xmlNode* node) {
  if (auto st = check_element(def, node, "txt"); !st) return st;
  const bool add = is_add(cmd);
  PartialDnsTxt parsed;
  if (auto st = parse_dns_txt(def.name, node, &parsed, !add); !st) return st;
  std::vector<DnsTxt>& txts = def.dns.txts;
  size_t found = txts.size();
  for (size_t i = 0; i < txts.size(); ++i) {
    if (txts[i].name == parsed.txt.name) {
      found = i;
      break;
    }
  }
  if (add) {
    if (found < txts.size()) {
      return Status::error("there is already a DNS TXT record with name " + q(parsed.txt.name) +
                           " in network " + def.name);
    }
    insert(txts, cmd, std::move(parsed.txt));
    return {};
  }
  if (found == txts.size()) {
    return Status::error("couldn't locate a matching DNS TXT record in network " + def.name);
  }
  if (cmd == UpdateCommand::kDelete) {
    txts.erase(txts.begin() + static_cast<std::ptrdiff_t>(found));
    return {};
  }
  if (!parsed.has_value) {
    return Status::error("missing value of modifying DNS TXT record in network " + def.name);
  }
  txts[found].value = std::move(parsed.txt.value);
  return {};
}

}  // namespace

std::optional<UpdateCommand> parse_update_command(std::string_view s) {
  if (s == "add" || s == "add-last") return UpdateCommand::kAddLast;
  if (s == "add-first") return UpdateCommand::kAddFirst;
  if (s == "delete") return UpdateCommand::kDelete;
  if (s == "modify") return UpdateCommand::kModify;
  return std::nullopt;
}

std::optional<UpdateSection> parse_update_section(std::string_view s) {
  static constexpr std::pair<std::string_view, UpdateSection> kSections[] = {
      {"bridge", UpdateSection::kBridge},
      {"domain", UpdateSection::kDomain},
      {"ip", UpdateSection::kIp},
      {"ip-dhcp-host", UpdateSection::kIpDhcpHost},
      {"ip-dhcp-range", UpdateSection::kIpDhcpRange},
      {"forward", UpdateSection::kForward},
      {"forward-interface", UpdateSection::kForwardInterface},
      {"forward-pf", UpdateSection::kForwardPf},
      {"portgroup", UpdateSection::kPortgroup},
      {"dns-host", UpdateSection::kDnsHost},
      {"dns-txt", UpdateSection::kDnsTxt},
      {"dns-srv", UpdateSection::kDnsSrv},
  };
  for (const auto& [name, section] : kSections) {
    if (s == name) return section;
  }
  return std::nullopt;
}

Status apply_network_update(NetworkDef& def, UpdateCommand cmd, UpdateSection section,
                            int parent_index, std::string_view snippet_xml) {
  std::string error;
  XmlDocPtr doc = parse_xml_document(snippet_xml, "(network_update_xml)", &error);
  if (!doc) return Status::error(error);
  xmlNode* node = xmlDocGetRootElement(doc.get());
  NetworkDef copy = def;
  Status st;
  switch (section) {
    case UpdateSection::kBridge: st = no_support(def, "bridge"); break;
    case UpdateSection::kDomain: st = no_support(def, "domain"); break;
    case UpdateSection::kIp: st = no_support(def, "ip"); break;
    case UpdateSection::kForward: st = no_support(def, "forward"); break;
    case UpdateSection::kForwardPf: st = no_support(def, "forward pf"); break;
    case UpdateSection::kIpDhcpHost: st = update_dhcp_host(copy, cmd, parent_index, node); break;
    case UpdateSection::kIpDhcpRange: st = update_dhcp_range(copy, cmd, parent_index, node); break;
    case UpdateSection::kForwardInterface: st = update_forward_interface(copy, cmd, node); break;
    case UpdateSection::kPortgroup: st = update_portgroup(copy, cmd, node); break;
    case UpdateSection::kDnsHost: st = update_dns_host(copy, cmd, node); break;
    case UpdateSection::kDnsTxt: st = update_dns_txt(copy, cmd, node); break;
    case UpdateSection::kDnsSrv: st = update_dns_srv(copy, cmd, node); break;
    default: st = Status::error("can't update unrecognized section of network"); break;
  }
  if (!st) return st;
  def = std::move(copy);
  return {};
}

}  // namespace vnet::xml
