// vnet::xml — validate_for_define() (libvirt's networkValidate() plus the
// parser's semantic checks) and fill_define_defaults() (bridge name and MAC).
#include <algorithm>
#include <cstdio>
#include <set>

#include "xml/network_xml.h"
#include "xml/parse_internal.h"

namespace vnet::xml {

using namespace detail;  // NOLINT: internal helpers of this library

namespace {

std::string q(const std::string& s) { return "'" + s + "'"; }

std::string mode_of(const NetworkDef& def) { return forward_mode_name(def.forward.mode); }

// virXMLCheckIllegalChars.
Status check_illegal_chars(const char* what, const std::string& s, const char* illegal) {
  const size_t pos = s.find_first_of(illegal);
  if (pos == std::string::npos) return {};
  const auto c = static_cast<unsigned char>(s[pos]);
  std::string shown;
  if (c >= 0x20 && c < 0x7f) {
    shown = std::string(1, static_cast<char>(c));
  } else {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "0x%02x", c);
    shown = buf;
  }
  return Status::error("invalid char in " + std::string(what) + ": " + shown);
}

// The checks libvirt's parser makes, re-run for definitions built in code or
// changed by net-update.
Status check_parsed_rules(const NetworkDef& def) {
  if (def.name.empty()) return Status::error("missing name information: network has no name");
  if (auto st = check_illegal_chars("name", def.name, "/"); !st) return st;
  if (def.title.find('\n') != std::string::npos) {
    return Status::error("Network title can't contain newlines");
  }
  if (def.mac && def.mac->is_multicast()) {
    return Status::error("Invalid multicast bridge mac address " + q(def.mac->format()) +
                         " in network " + q(def.name));
  }
  if (def.domain && def.domain->register_ == TriState::kYes &&
      def.domain->local_only != TriState::kYes) {
    return Status::error(
        "attribute 'register=yes' in <domain> element requires 'localOnly=yes' in network " +
        def.name);
  }
  const DnsDef& dns = def.dns;
  if (dns.enable == TriState::kNo && (!dns.forwarders.empty() || !dns.hosts.empty() ||
                                      !dns.srvs.empty() || !dns.txts.empty())) {
    return Status::error("Extra data in disabled network " + q(def.name));
  }
  if (auto st = check_dns_line_breaks(dns); !st) return st;
  if (def.uplink) {
    if (auto st = check_uplink(def.name, *def.uplink); !st) return st;
  }
  for (const IpDef& ip : def.ips) {
    if (auto st = check_ip(def.name, ip); !st) return st;
    if (ip.tftp_root && !ip.address.is_v4()) {
      return Status::error("Unsupported <tftp> element in an IPv6 element in network " + q(def.name));
    }
    if (!ip.dhcp) continue;
    for (const DhcpRange& r : ip.dhcp->ranges) {
      if (auto size = check_range(r.start, r.end, &ip.address, ip_prefix(ip)); !size) {
        return Status::error(size.error());
      }
    }
    for (const DhcpHost& h : ip.dhcp->hosts) {
      if (!h.ip) {
        return Status::error("Missing IP address in static host definition for network " +
                             q(def.name));
      }
      if (!h.mac.empty() && ip.address.is_v6()) {
        return Status::error("Invalid to specify MAC address " + q(h.mac) + " in network " +
                             q(def.name) + " IPv6 static host definition");
      }
    }
  }
  for (const RouteDef& r : def.routes) {
    if (auto st = check_route(def.name, r); !st) return st;
  }
  if (auto st = check_route_gateways(def); !st) return st;
  if (def.forward.nat && def.forward.mode != ForwardMode::kNat) {
    return Status::error(
        "The <nat> element can only be used when <forward> 'mode' is 'nat' in network " + def.name);
  }
  if (!def.forward.interfaces.empty() && !def.forward.dev.empty() &&
      def.forward.interfaces.front().dev != def.forward.dev) {
    return Status::error("<forward dev=" + q(def.forward.dev) +
                         "> must match first <interface dev=" +
                         q(def.forward.interfaces.front().dev) + "/> in network " + def.name);
  }
  std::set<std::string> devs;
  for (const ForwardInterface& i : def.forward.interfaces) {
    if (!devs.insert(i.dev).second) {
      return Status::error("interface " + q(i.dev) + " can only be listed once in network " +
                           def.name);
    }
  }
  for (size_t i = 0; i < def.forward.addresses.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (def.forward.addresses[i] == def.forward.addresses[j]) {
        return Status::error("PCI device " + q(def.forward.addresses[i].format()) +
                             " can only be listed once in network " + def.name);
      }
    }
  }
  return check_forward_mode_rules(def);
}

// libvirt-format.md 1.12: average/peak/floor <= 2^54 kB/s, burst <= UINT_MAX >> 10 KiB.
Status check_bandwidth_limits(const std::optional<BandwidthDef>& bw) {
  if (!bw) return {};
  constexpr uint64_t kMaxRate = uint64_t{1} << 54;
  constexpr uint64_t kMaxBurst = 0xffffffffull >> 10;
  const std::pair<const char*, const std::optional<BandwidthRate>*> rates[] = {
      {"inbound", &bw->inbound}, {"outbound", &bw->outbound}};
  for (const auto& [elem, rate] : rates) {
    if (!*rate) continue;
    const BandwidthRate& r = **rate;
    const std::pair<const char*, uint64_t> values[] = {
        {"average", r.average}, {"peak", r.peak}, {"floor", r.floor}};
    for (const auto& [attr, v] : values) {
      if (v > kMaxRate) {
        return Status::error("value '" + std::to_string(v) + "' of attribute '" + attr +
                             "' in <" + elem + "> is too big (maximum " +
                             std::to_string(kMaxRate) + ")");
      }
    }
    if (r.burst > kMaxBurst) {
      return Status::error("value '" + std::to_string(r.burst) + "' of attribute 'burst' in <" +
                           elem + "> is too big (maximum " + std::to_string(kMaxBurst) + ")");
    }
  }
  return {};
}

// <vnet:uplink> is the outside identity of a routed network: it needs a mode that
// reaches the outside, and its subnet must not overlap the network's own subnets
// (the dataplane could not tell inside from outside).
Status check_uplink_for_define(const NetworkDef& def) {
  if (!def.uplink) return {};
  const UplinkDef& up = *def.uplink;
  const ForwardMode m = def.forward.mode;
  if (m != ForwardMode::kNat && m != ForwardMode::kRoute && m != ForwardMode::kOpen) {
    return Status::error("Unsupported <vnet:uplink> element in network " + q(def.name) +
                         " with forward mode='" + mode_of(def) +
                         "': only nat, route and open networks have an uplink");
  }
  if (up.effective_type() == UplinkType::kVhostUser) {
    const std::string dev =
        !def.forward.dev.empty() ? def.forward.dev
                                 : (def.forward.interfaces.empty() ? std::string() : def.forward.interfaces.front().dev);
    if (!dev.empty()) {
      return Status::error("<forward dev='" + dev + "'> and <vnet:uplink type='vhostuser'> of network " +
                           q(def.name) + " both name the uplink: a vhost-user uplink is its socket, "
                           "remove the <forward dev>");
    }
  }
  for (const IpDef& ip : def.ips) {
    if (!ip.address.is_v4()) continue;
    const int p = ip_prefix(ip);
    if (p <= 0) continue;
    const unsigned common = std::min(static_cast<unsigned>(p), up.prefix);
    if (same_subnet(ip.address, up.address, common)) {
      return Status::error("<vnet:uplink> subnet " + network_address(up.address, up.prefix).format() +
                           "/" + std::to_string(up.prefix) + " of network " + q(def.name) +
                           " overlaps its <ip> subnet " +
                           network_address(ip.address, static_cast<unsigned>(p)).format() + "/" +
                           std::to_string(p));
    }
  }
  return {};
}

}  // namespace

Status validate_for_define(const NetworkDef& def) {
  if (auto st = check_illegal_chars("name", def.name, "\n"); !st) return st;
  if (auto st = check_parsed_rules(def); !st) return st;

  const std::string mode = mode_of(def);
  bool bandwidth_allowed = false;
  switch (def.forward.mode) {
    case ForwardMode::kNone:
    case ForwardMode::kNat:
    case ForwardMode::kRoute:
    case ForwardMode::kOpen:
      bandwidth_allowed = true;
      break;
    case ForwardMode::kBridge:
    case ForwardMode::kPrivate:
    case ForwardMode::kVepa:
    case ForwardMode::kPassthrough:
    case ForwardMode::kHostdev:
      if (def.forward.mode == ForwardMode::kBridge && !def.bridge.name.empty()) {
        bandwidth_allowed = true;
      }
      if (def.mac) {
        return Status::error("Unsupported <mac> element in network " + def.name +
                             " with forward mode='" + mode + "'");
      }
      if (!def.ips.empty()) {
        return Status::error("Unsupported <ip> element in network " + def.name +
                             " with forward mode='" + mode + "'");
      }
      if (!def.dns.txts.empty() || !def.dns.hosts.empty() || !def.dns.srvs.empty()) {
        return Status::error("Unsupported <dns> element in network " + def.name +
                             " with forward mode='" + mode + "'");
      }
      if (def.domain) {
        return Status::error("Unsupported <domain> element in network " + def.name +
                             " with forward mode='" + mode + "'");
      }
      break;
  }
  if (def.bandwidth && !bandwidth_allowed) {
    return Status::error("Unsupported network-wide <bandwidth> element in network " + def.name +
                         " with forward mode='" + mode + "'");
  }
  if (auto st = check_bandwidth_limits(def.bandwidth); !st) return st;
  if (auto st = check_uplink_for_define(def); !st) return st;

  // <interface>, <address> and <pf> pools: one kind only, and PCI addresses
  // only for hostdev. (libvirt also checks in sysfs that each address is an
  // SR-IOV VF; that needs the host and is left to the caller.)
  const bool uses_interface = !def.forward.interfaces.empty() || !def.forward.dev.empty();
  const bool uses_address = !def.forward.addresses.empty();
  if (def.forward.mode == ForwardMode::kHostdev && uses_interface) {
    const std::string dev =
        def.forward.interfaces.empty() ? def.forward.dev : def.forward.interfaces.front().dev;
    return Status::error("hostdev network " + q(def.name) + " lists " + q(dev) +
                         " in the device pool, but hostdev networks require all devices to be "
                         "listed by PCI address, not network device name");
  }
  if (def.forward.mode != ForwardMode::kHostdev && uses_address) {
    return Status::error("network " + q(def.name) + " has forward mode " + q(mode) +
                         " but lists a device by PCI address in the device pool. This is only "
                         "supported for networks with forward mode 'hostdev'");
  }
  if (int{def.forward.pf.has_value()} + int{uses_interface} + int{uses_address} > 1) {
    return Status::error("<address>, <interface>, and <pf> elements of <forward> in network " +
                         def.name + " are mutually exclusive");
  }

  bool v4_dhcp = false, v6_dhcp = false;
  for (const IpDef& ip : def.ips) {
    if (!has_dhcp(ip)) continue;
    bool& seen = ip.address.is_v4() ? v4_dhcp : v6_dhcp;
    if (seen) {
      const char* fam = ip.address.is_v4() ? "IPv4" : "IPv6";
      return Status::error(std::string("Multiple ") + fam +
                           " dhcp sections found -- dhcp is supported only for a single " + fam +
                           " address on each network");
    }
    seen = true;
  }

  // VLANs: hostdev, passthrough, bridge with openvswitch, or (11.0+) a plain
  // Linux host bridge without a virtualport.
  const bool vport_ovs =
      def.virtualport && def.virtualport->type == VirtualPortType::kOpenvswitch;
  const bool vlan_allowed =
      def.forward.mode == ForwardMode::kHostdev || def.forward.mode == ForwardMode::kPassthrough ||
      (def.forward.mode == ForwardMode::kBridge && (vport_ovs || !def.virtualport));
  const bool vlan_used = !def.vlan.empty();
  bool bad_vlan_use = false;
  const PortgroupDef* default_pg = nullptr;
  for (size_t i = 0; i < def.portgroups.size(); ++i) {
    const PortgroupDef& pg = def.portgroups[i];
    if (vlan_used || !pg.vlan.empty()) {
      if (pg.virtualport) {
        // A portgroup <virtualport> without a type is merged with the network's
        // (virNetDevVPortProfileMerge3), so it inherits the network's type.
        // Upstream's validation accepts openvswitch-net this way.
        VirtualPortType type = pg.virtualport->type;
        if (type == VirtualPortType::kNone && def.virtualport) type = def.virtualport->type;
        if (def.forward.mode != ForwardMode::kBridge || type != VirtualPortType::kOpenvswitch) {
          bad_vlan_use = true;
        }
      } else if (!vlan_allowed) {
        bad_vlan_use = true;
      }
    }
    if (pg.is_default) {
      if (default_pg) {
        return Status::error("network " + q(def.name) + " has multiple default <portgroup> elements (" +
                             default_pg->name + " and " + pg.name +
                             "), but only one default is allowed");
      }
      default_pg = &pg;
    }
    for (size_t j = i + 1; j < def.portgroups.size(); ++j) {
      if (pg.name == def.portgroups[j].name) {
        return Status::error("multiple <portgroup> elements with the same name (" + pg.name +
                             ") in network " + q(def.name));
      }
    }
    if (pg.bandwidth && !bandwidth_allowed) {
      return Status::error("Unsupported <bandwidth> element in network " + q(def.name) +
                           " in portgroup " + q(pg.name) + " with forward mode='" + mode + "'");
    }
    if (auto st = check_bandwidth_limits(pg.bandwidth); !st) return st;
  }
  if (bad_vlan_use || (vlan_used && !vlan_allowed && !default_pg)) {
    return Status::error("<vlan> element specified for network " + def.name +
                         ", whose type doesn't support vlan configuration");
  }
  if (def.forward.mode == ForwardMode::kHostdev) {
    for (const PortgroupDef& pg : def.portgroups) {
      if (pg.bandwidth) {
        return Status::error("unsupported <bandwidth> element in <portgroup name=" + q(pg.name) +
                             "> of network " + q(def.name) + " with forward mode='" + mode + "'");
      }
    }
  }
  return {};
}

Status fill_define_defaults(NetworkDef& def, const std::set<std::string>& bridges_in_use,
                            const RandomBytes& rng) {
  if (!is_l3_mode(def.forward.mode)) return {};
  std::string& bridge = def.bridge.name;
  if (!bridge.empty() && bridge.find("%d") == std::string::npos) {
    if (bridges_in_use.count(bridge)) {
      return Status::error("bridge name '" + bridge + "' already in use.");
    }
  } else {
    // networkFindUnusedBridgeName: a name with exactly one '%', followed by
    // 'd', is a template; anything else falls back to virbr%d.
    std::string templ = "virbr%d";
    const size_t first = bridge.find('%');
    if (first != std::string::npos && first == bridge.rfind('%') && first + 1 < bridge.size() &&
        bridge[first + 1] == 'd') {
      templ = bridge;
    }
    const size_t at = templ.find("%d");
    bool found = false;
    for (int id = 0; id <= 256; ++id) {
      std::string candidate = templ.substr(0, at) + std::to_string(id) + templ.substr(at + 2);
      if (!bridges_in_use.count(candidate)) {
        bridge = std::move(candidate);
        found = true;
        break;
      }
    }
    if (!found) return Status::error("Bridge generation exceeded max id 256");
  }
  if (!def.mac) {
    MacAddr mac;
    mac.bytes = {0x52, 0x54, 0x00, 0, 0, 0};
    const RandomBytes& source = rng ? rng : system_random_bytes();
    source(mac.bytes.data() + 3, 3);
    def.mac = mac;
  }
  return {};
}

}  // namespace vnet::xml
