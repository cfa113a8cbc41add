// vnet::dhcp — GatewayConfig from xml::NetworkDef. See xml_config.h.
#include "dhcp/xml_config.h"

#include <algorithm>
#include <limits>

namespace vnet::dhcp {

namespace {

uint32_t lease_seconds(const xml::Lease& l) {
  const uint64_t s = l.seconds();
  if (s == 0) return kInfiniteLease;  // <lease expiry='0'/>: "infinite"
  return static_cast<uint32_t>(std::min<uint64_t>(s, kInfiniteLease - 1));
}

uint16_t to_u16(std::optional<unsigned> v, uint16_t fallback) {
  return v ? static_cast<uint16_t>(std::min<unsigned>(*v, 65535)) : fallback;
}

}  // namespace

IpAddress to_ip_address(const xml::IpAddr& a) {
  IpAddress out;
  out.family = a.is_v4() ? IpAddress::Family::kV4 : IpAddress::Family::kV6;
  out.bytes = a.bytes;
  return out;
}

bool network_has_gateway(const xml::NetworkDef& def) {
  return xml::is_l3_mode(def.forward.mode) && !def.ips.empty();
}

std::optional<GatewayConfig> gateway_config_from_xml(const xml::NetworkDef& def, const XmlConfigOptions& options,
                                                     std::string& error) {
  GatewayConfig c;
  c.network = def.name;
  if (def.mac) {
    c.mac.bytes = def.mac->bytes;
  } else if (options.fallback_mac) {
    c.mac = *options.fallback_mac;
  } else {
    error = "network '" + def.name + "' has no <mac address>";
    return std::nullopt;
  }
  c.mtu = static_cast<uint16_t>(std::min<unsigned>(def.mtu, 65535));
  c.lease_file = options.lease_file;
  const bool isolated = def.forward.mode == xml::ForwardMode::kNone;
  c.routed = !isolated;
  const bool want_dns = def.dns.enable != xml::TriState::kNo;
  const std::string domain = def.domain ? def.domain->name : std::string();

  uint64_t lease_max = 0;
  for (const xml::IpDef& ip : def.ips) {
    const unsigned prefix = xml::effective_prefix(ip);
    if (prefix == 0) {
      error = "cannot determine the prefix of <ip address='" + ip.address.format() + "'>";
      return std::nullopt;
    }
    if (ip.address.is_v4()) {
      c.ipv4.push_back(Ipv4Interface{Ipv4(ip.address.v4_host_order()), prefix});
      if (ip.tftp_root && !c.tftp_root) c.tftp_root = *ip.tftp_root;
    } else {
      c.ipv6.push_back(Ipv6Interface{to_ip_address(ip.address), prefix, xml::has_dhcp(ip)});
    }
    if (!xml::has_dhcp(ip)) continue;
    for (const xml::DhcpRange& r : ip.dhcp->ranges) lease_max += xml::range_size(r.start, r.end).value_or(0);
    if (!ip.address.is_v4()) {
      if (c.dhcp6) {
        error = "For IPv6, multiple DHCP definitions cannot be specified.";
        return std::nullopt;
      }
      Dhcp6Config s6;
      s6.server_ip = ip.address.bytes;
      s6.prefix_len = prefix;
      for (const xml::DhcpRange& r : ip.dhcp->ranges) {
        if (r.start.is_v4() || r.end.is_v4()) continue;
        Dhcp6Range out{r.start.bytes, r.end.bytes, std::nullopt};
        if (r.lease) out.lease_s = lease_seconds(*r.lease);
        s6.ranges.push_back(out);
      }
      for (const xml::DhcpHost& h : ip.dhcp->hosts) {
        if (!h.ip || h.ip->is_v4() || (h.id.empty() && h.name.empty())) continue;
        Dhcp6Host host;
        if (!h.id.empty()) {
          const auto duid = parse_hex_colon(h.id);
          if (!duid) {
            error = "bad DHCPv6 host id '" + h.id + "'";
            return std::nullopt;
          }
          host.duid = *duid;
        }
        host.name = h.name;
        host.ip = h.ip->bytes;
        if (h.lease) host.lease_s = lease_seconds(*h.lease);
        s6.hosts.push_back(std::move(host));
      }
      s6.send_dns = want_dns;
      s6.domain = domain;
      c.dhcp6 = std::move(s6);
      continue;
    }
    if (c.dhcp) {
      error = "For IPv4, multiple DHCP definitions cannot be specified.";
      return std::nullopt;
    }
    ServerConfig s;
    s.server_ip = Ipv4(ip.address.v4_host_order());
    s.prefix_len = prefix;
    for (const xml::DhcpRange& r : ip.dhcp->ranges) {
      if (!r.start.is_v4() || !r.end.is_v4()) continue;
      DhcpRange out{Ipv4(r.start.v4_host_order()), Ipv4(r.end.v4_host_order()), std::nullopt};
      if (r.lease) out.lease_s = lease_seconds(*r.lease);
      s.ranges.push_back(out);
    }
    for (const xml::DhcpHost& h : ip.dhcp->hosts) {
      if (!h.ip || !h.ip->is_v4()) continue;  // libvirt skips hosts without an address
      StaticHost host;
      if (!h.mac.empty()) {
        const auto mac = xml::parse_mac(h.mac);
        if (!mac) {
          error = "bad MAC address '" + h.mac + "' in DHCP host";
          return std::nullopt;
        }
        host.mac = Mac{mac->bytes};
      } else if (h.name.empty()) {
        continue;  // an IPv4 host needs a MAC or a name; libvirt rejects it at parse
      }
      host.name = h.name;
      host.ip = Ipv4(h.ip->v4_host_order());
      if (h.lease) host.lease_s = lease_seconds(*h.lease);
      s.hosts.push_back(std::move(host));
    }
    if (ip.dhcp->bootp) {
      BootpConfig b;
      b.file = ip.dhcp->bootp->file;
      if (ip.dhcp->bootp->server && ip.dhcp->bootp->server->is_v4())
        b.server = Ipv4(ip.dhcp->bootp->server->v4_host_order());
      s.bootp = std::move(b);
    }
    s.send_router = !isolated;
    s.send_dns = want_dns;
    s.domain = domain;
    s.mtu = c.mtu;
    c.dhcp = std::move(s);
  }
  if (c.dhcp) c.dhcp->lease_max = static_cast<uint32_t>(std::min<uint64_t>(lease_max, UINT32_MAX));
  if (c.dhcp6) {
    c.dhcp6->authoritative = c.dhcp.has_value();  // libvirt writes dhcp-authoritative with IPv4 DHCP
    c.dhcp6->server_mac = c.mac;
  }

  DnsConfig& d = c.dns;
  d.enabled = want_dns;
  d.domain = domain;
  if (def.domain) {
    d.domain_local_only = def.domain->local_only == xml::TriState::kYes;
    c.domain_register = def.domain->register_ == xml::TriState::kYes;
  }
  d.no_resolv = isolated;
  d.system_resolvers = options.system_resolvers;
  d.system_hosts = options.system_hosts;
  if (want_dns) {
    d.forward_plain_names = def.dns.forward_plain_names != xml::TriState::kNo;
    for (const xml::DnsForwarder& f : def.dns.forwarders) {
      DnsForwarderRule rule;
      if (f.addr) rule.addr = to_ip_address(*f.addr);
      rule.domain = f.domain;
      d.forwarders.push_back(std::move(rule));
    }
    for (const xml::DnsHost& h : def.dns.hosts) {
      const IpAddress ip = to_ip_address(h.ip);
      auto it = std::find_if(d.hosts.begin(), d.hosts.end(), [&](const DnsHostRecord& r) { return r.ip == ip; });
      if (it == d.hosts.end()) {
        d.hosts.push_back(DnsHostRecord{ip, {}});
        it = d.hosts.end() - 1;
      }
      for (const std::string& name : h.hostnames)
        if (!name.empty()) it->hostnames.push_back(name);
    }
    for (const xml::DnsTxt& t : def.dns.txts) d.txts.push_back(DnsTxtRecord{t.name, t.value});
    for (const xml::DnsSrv& s : def.dns.srvs) {
      if (s.service.empty() || s.protocol.empty()) continue;
      DnsSrvRecord r;
      r.service = s.service;
      r.protocol = s.protocol;
      r.domain = s.domain;
      if (!s.target.empty() && s.target != ".") {
        r.target = s.target;
        // libvirt writes the numbers positionally: port (default 1) when any
        // is set, priority (default 0) when priority or weight is set.
        if (s.port || s.priority || s.weight) r.port = to_u16(s.port, 1);
        if (s.priority || s.weight) r.priority = to_u16(s.priority, 0);
        if (s.weight) r.weight = to_u16(s.weight, 0);
      }
      d.srvs.push_back(std::move(r));
    }
    for (const xml::IpDef& ip : def.ips) {
      if (ip.local_ptr != xml::TriState::kYes) continue;
      const unsigned prefix = xml::effective_prefix(ip);
      const auto zone = reverse_zone(to_ip_address(xml::network_address(ip.address, prefix)), prefix);
      if (!zone) {
        error = std::string("PTR domain for ") + (ip.address.is_v4() ? "IPv4" : "IPv6") +
                " network with prefix " + std::to_string(prefix) + " cannot be automatically created";
        return std::nullopt;
      }
      d.local_ptr_zones.push_back(*zone);
    }
  } else {
    d.forward_plain_names = true;
  }

  if (const std::string err = validate(c); !err.empty()) {
    error = err;
    return std::nullopt;
  }
  return c;
}

}  // namespace vnet::dhcp
