// vnet::xml — parsers for <forward>, <vlan>, <bandwidth>, <virtualport>,
// <portgroup> and <route>, and the forward-mode rules (libvirt-format.md 1.6,
// 1.10–1.14).
#include <cstdio>

#include "xml/parse_internal.h"
#include "xml/xml_doc.h"

namespace vnet::xml::detail {

namespace {

std::string q(const std::string& s) { return "'" + s + "'"; }

std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%x", v);
  return buf;
}

bool iequals(const std::string& a, const char* b) {
  size_t i = 0;
  for (; i < a.size() && b[i]; ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return i == a.size() && b[i] == '\0';
}

Status parse_pci_address(xmlNode* node, PciAddress* out) {
  struct Field {
    const char* attr;
    unsigned* dst;
  };
  PciAddress a;
  const Field fields[] = {
      {"domain", &a.domain}, {"bus", &a.bus}, {"slot", &a.slot}, {"function", &a.function}};
  for (const Field& f : fields) {
    auto v = prop(node, f.attr);
    if (!v) continue;
    auto n = str_to_uip(*v, 0);
    if (!n) {
      return Status::error("Invalid value for attribute '" + std::string(f.attr) +
                           "' in element 'address': '" + *v +
                           "'. Expected non-negative integer value");
    }
    *f.dst = *n;
  }
  const bool empty = a.domain == 0 && a.bus == 0 && a.slot == 0 && a.function == 0;
  if (!empty) {
    if (a.domain > 0xffff) {
      return Status::error("Invalid PCI address domain='" + hex(a.domain) + "', must be <= 0xFFFF");
    }
    if (a.bus > 0xff) {
      return Status::error("Invalid PCI address bus='" + hex(a.bus) + "', must be <= 0xFF");
    }
    if (a.slot > 0x1f) {
      return Status::error("Invalid PCI address slot='" + hex(a.slot) + "', must be <= 0x1F");
    }
    if (a.function > 7) {
      return Status::error("Invalid PCI address function=" + hex(a.function) + ", must be <= 7");
    }
  }
  *out = a;
  return {};
}

Status parse_nat(const std::string& net, xmlNode* node, ForwardDef* fwd) {
  if (fwd->mode != ForwardMode::kNat) {
    return Status::error(
        "The <nat> element can only be used when <forward> 'mode' is 'nat' in network " + net);
  }
  NatDef nat;
  if (auto st = parse_tristate(node, "ipv6", &nat.ipv6); !st) return st;
  const auto addrs = xpath_children(node, "address");
  if (addrs.size() > 1) {
    return Status::error("Only one <address> element is allowed in <nat> in <forward> in network " +
                         net);
  }
  if (addrs.size() == 1) {
    auto start = prop(addrs[0], "start");
    if (!start) {
      return Status::error(
          "missing 'start' attribute in <address> element in <nat> in <forward> in network " + net);
    }
    auto end = prop(addrs[0], "end");
    if (!end) {
      return Status::error(
          "missing 'end' attribute in <address> element in <nat> in <forward> in network " + net);
    }
    nat.addr_start = parse_ipv4(*start);
    if (!nat.addr_start) {
      return Status::error("Bad ipv4 start address " + q(*start) +
                           " in <nat> in <forward> in network " + q(net));
    }
    nat.addr_end = parse_ipv4(*end);
    if (!nat.addr_end) {
      return Status::error("Bad ipv4 end address " + q(*end) + " in <nat> in <forward> in network " +
                           q(net));
    }
    if (auto r = check_range(*nat.addr_start, *nat.addr_end, nullptr, 0); !r) {
      return Status::error(r.error());
    }
  }
  const auto ports = xpath_children(node, "port");
  if (ports.size() > 1) {
    return Status::error("Only one <port> element is allowed in <nat> in <forward> in network " +
                         net);
  }
  if (ports.size() == 1) {
    auto s = xpath_prop(ports[0], "start");
    auto start = s ? str_to_ui(*s) : std::nullopt;
    if (!start || *start > 65535) {
      return Status::error(
          "Missing or invalid 'start' attribute in <port> in <nat> in <forward> in network " + net);
    }
    auto e = xpath_prop(ports[0], "end");
    auto end = e ? str_to_ui(*e) : std::nullopt;
    if (!end || *end > 65535 || *end < *start) {
      return Status::error(
          "Missing or invalid 'end' attribute in <port> in <nat> in <forward> in network " + net);
    }
    nat.port_start = *start;
    nat.port_end = *end;
  }
  fwd->nat = nat;
  return {};
}

}  // namespace

Status parse_forward(const std::string& net, xmlNode* node, ForwardDef* out) {
  ForwardDef fwd;
  if (auto mode = xpath_prop(node, "mode")) {
    auto m = parse_forward_mode(*mode);
    if (!m) return Status::error("unknown forwarding type " + q(*mode));
    fwd.mode = *m;
  } else {
    fwd.mode = ForwardMode::kNat;
  }
  if (auto managed = xpath_prop(node, "managed")) fwd.managed = iequals(*managed, "yes");
  if (xmlNode* driver = xpath_child(node, "driver")) {
    if (auto name = prop(driver, "name")) {
      if (*name == "kvm") {
        fwd.driver_name = ForwardDriverName::kKvm;
      } else if (*name == "vfio") {
        fwd.driver_name = ForwardDriverName::kVfio;
      } else if (*name == "xen") {
        fwd.driver_name = ForwardDriverName::kXen;
      } else {
        return Status::error(invalid_attr(driver, "name", *name));
      }
    }
    fwd.driver_model = prop(driver, "model").value_or("");
  }
  const auto ifs = xpath_children(node, "interface");
  const auto addrs = xpath_children(node, "address");
  const auto pfs = xpath_children(node, "pf");
  const auto nats = xpath_children(node, "nat");
  if (nats.size() > 1) {
    return Status::error("Only one <nat> element is allowed in <forward> of network " + net);
  }
  if (nats.size() == 1) {
    if (auto st = parse_nat(net, nats[0], &fwd); !st) return st;
  }
  auto dev = xpath_prop(node, "dev");
  if (dev && (!addrs.empty() || !pfs.empty())) {
    return Status::error(
        "the <forward> 'dev' attribute cannot be used when <address> or <pf> sub-elements are "
        "present in network " +
        net);
  }
  if (!ifs.empty() || dev) {
    if (dev) fwd.interfaces.push_back(ForwardInterface{*dev, 0});
    for (size_t i = 0; i < ifs.size(); ++i) {
      auto d = prop(ifs[i], "dev");
      if (!d) {
        return Status::error(
            "Missing required dev attribute in <forward> <interface> element of network " + net);
      }
      if (i == 0 && dev) {
        if (*d != *dev) {
          return Status::error("<forward dev=" + q(*dev) + "> must match first <interface dev=" +
                               q(*d) + "/> in network " + net);
        }
        continue;
      }
      for (const ForwardInterface& existing : fwd.interfaces) {
        if (existing.dev == *d) {
          return Status::error("interface " + q(*d) + " can only be listed once in network " + net);
        }
      }
      fwd.interfaces.push_back(ForwardInterface{*d, 0});
    }
  } else if (!addrs.empty()) {
    for (xmlNode* a : addrs) {
      auto type = prop(a, "type");
      if (!type) return Status::error("missing address type in network " + net);
      if (*type != "pci") {
        if (*type == "none" || *type == "netdev") {
          return Status::error("unsupported address type " + q(*type) + " in network " + net);
        }
        return Status::error("unknown address type " + q(*type) + " in network " + net);
      }
      PciAddress pci;
      if (auto st = parse_pci_address(a, &pci); !st) return st;
      for (const PciAddress& existing : fwd.addresses) {
        if (existing == pci) {
          return Status::error("PCI device " + q(pci.format()) +
                               " can only be listed once in network " + net);
        }
      }
      fwd.addresses.push_back(pci);
    }
  } else if (pfs.size() > 1) {
    return Status::error("Only one <pf> element is allowed in <forward> of network " + net);
  } else if (pfs.size() == 1) {
    auto d = prop(pfs[0], "dev");
    if (!d) {
      return Status::error("Missing required dev attribute in <pf> element of network " + q(net));
    }
    fwd.pf = ForwardPf{*d, 0};
  }
  fwd.dev = fwd.interfaces.empty() ? std::string() : fwd.interfaces.front().dev;
  *out = std::move(fwd);
  return {};
}

Status parse_vlan(xmlNode* node, VlanDef* out) {
  VlanDef vlan;
  const auto tags = xpath_children(node, "tag");
  if (tags.empty()) {
    return Status::error(
        "missing tag id - each <vlan> must have at least one <tag id='n'/> subelement");
  }
  for (xmlNode* t : tags) {
    auto id_s = xpath_prop(t, "id");
    auto id = id_s ? str_to_ul(*id_s) : std::nullopt;
    if (!id) return Status::error("missing or invalid vlan tag id attribute");
    if (*id > 4095) {
      return Status::error("vlan tag id " + std::to_string(*id) + " too large (maximum 4095)");
    }
    if (auto mode = xpath_prop(t, "nativeMode")) {
      if (vlan.native_mode != NativeVlanMode::kDefault) {
        return Status::error("duplicate native vlan setting");
      }
      if (*mode == "tagged") {
        vlan.native_mode = NativeVlanMode::kTagged;
      } else if (*mode == "untagged") {
        vlan.native_mode = NativeVlanMode::kUntagged;
      } else {
        return Status::error("Invalid \"nativeMode='" + *mode + "'\" in vlan <tag> element");
      }
      vlan.native_tag = static_cast<unsigned>(*id);
    }
    vlan.tags.push_back(static_cast<unsigned>(*id));
  }
  vlan.trunk = vlan.tags.size() > 1;
  if (auto trunk = xpath_prop(node, "trunk")) {
    vlan.trunk = iequals(*trunk, "yes");
    if (!vlan.trunk) {
      if (vlan.tags.size() > 1) {
        return Status::error("invalid \"trunk='" + *trunk +
                             "'\" in <vlan> - trunk='yes' is required for more than one vlan tag");
      }
      if (vlan.native_mode != NativeVlanMode::kDefault) {
        return Status::error(
            "invalid configuration in <vlan> - \"trunk='no'\" is not allowed with a native vlan id");
      }
      if (!iequals(*trunk, "no")) {
        return Status::error("invalid \"trunk='" + *trunk + "'\" in <vlan> - must be yes or no");
      }
    }
  }
  *out = std::move(vlan);
  return {};
}

namespace {

Status parse_rate(xmlNode* node, BandwidthRate* rate) {
  auto average = prop(node, "average");
  auto peak = prop(node, "peak");
  auto burst = prop(node, "burst");
  auto floor = prop(node, "floor");
  const std::string elem(node_name(node));
  if (average) {
    auto v = str_to_ulp(*average);
    if (!v) {
      return Status::error("could not convert bandwidth average value " + q(*average) + " in <" +
                           elem + ">");
    }
    rate->average = *v;
  } else if (!floor) {
    return Status::error("Missing mandatory average or floor attributes in <" + elem + ">");
  }
  if ((peak || burst) && !average) {
    return Status::error("'peak' and 'burst' require 'average' attribute in <" + elem + ">");
  }
  struct Opt {
    const char* name;
    const std::optional<std::string>* text;
    uint64_t* dst;
  };
  const Opt opts[] = {{"peak", &peak, &rate->peak},
                      {"burst", &burst, &rate->burst},
                      {"floor", &floor, &rate->floor}};
  for (const Opt& o : opts) {
    if (!*o.text) continue;
    auto v = str_to_ulp(**o.text);
    if (!v) {
      return Status::error("could not convert bandwidth " + std::string(o.name) + " value " +
                           q(**o.text) + " in <" + elem + ">");
    }
    *o.dst = *v;
  }
  return {};
}

}  // namespace

Status parse_bandwidth(xmlNode* node, std::optional<BandwidthDef>* out) {
  out->reset();
  if (prop(node, "classID")) {
    return Status::error("classID attribute not supported on <bandwidth> in this usage context");
  }
  xmlNode* in = nullptr;
  xmlNode* outbound = nullptr;
  for (xmlNode* c = node->children; c; c = c->next) {
    if (is_element(c, "inbound")) {
      if (in) return Status::error("Only one child <inbound> element allowed");
      in = c;
    } else if (is_element(c, "outbound")) {
      if (outbound) return Status::error("Only one child <outbound> element allowed");
      outbound = c;
    }
  }
  BandwidthDef bw;
  if (in) {
    BandwidthRate r;
    if (auto st = parse_rate(in, &r); !st) return st;
    if (r.floor) return Status::error("floor attribute is not supported for this config");
    bw.inbound = r;
  }
  if (outbound) {
    BandwidthRate r;
    if (auto st = parse_rate(outbound, &r); !st) return st;
    if (r.floor) return Status::error("'floor' attribute allowed only in <inbound> element");
    bw.outbound = r;
  }
  if (bw.inbound || bw.outbound) *out = bw;
  return {};
}

namespace {

const char* vport_type_name(VirtualPortType t) {
  switch (t) {
    case VirtualPortType::k8021Qbg: return "802.1Qbg";
    case VirtualPortType::k8021Qbh: return "802.1Qbh";
    case VirtualPortType::kOpenvswitch: return "openvswitch";
    case VirtualPortType::kMidonet: return "midonet";
    default: return "none";
  }
}

}  // namespace

Status parse_virtualport(xmlNode* node, bool require_type, VirtualPortDef* out) {
  VirtualPortDef vp;
  if (auto type = prop(node, "type")) {
    if (*type == "802.1Qbg") {
      vp.type = VirtualPortType::k8021Qbg;
    } else if (*type == "802.1Qbh") {
      vp.type = VirtualPortType::k8021Qbh;
    } else if (*type == "openvswitch") {
      vp.type = VirtualPortType::kOpenvswitch;
    } else if (*type == "midonet") {
      vp.type = VirtualPortType::kMidonet;
    } else {
      return Status::error("unknown virtualport type " + *type);
    }
  }
  if (vp.type == VirtualPortType::kNone && require_type) {
    return Status::error("missing required virtualport type");
  }
  xmlNode* params = sub_element(node, "parameters");
  if (params) {
    struct Num {
      const char* attr;
      unsigned max;
      const char* range_msg;
    };
    const Num nums[] = {{"managerid", 0xff, "value of managerid out of range"},
                        {"typeid", 0xffffff, "value for typeid out of range"},
                        {"typeidversion", 0xff, "value of typeidversion out of range"}};
    for (const Num& n : nums) {
      auto v = prop(params, n.attr);
      if (!v) continue;
      auto val = str_to_ui(*v, 0);
      if (!val) return Status::error("cannot parse value of " + std::string(n.attr) + " parameter");
      if (*val > n.max) return Status::error(n.range_msg);
      if (n.max == 0xffffff) {
        vp.type_id = *val;
      } else if (std::string_view(n.attr) == "managerid") {
        vp.manager_id = static_cast<uint8_t>(*val);
      } else {
        vp.type_id_version = static_cast<uint8_t>(*val);
      }
    }
    if (auto v = prop(params, "instanceid")) {
      vp.instance_id = parse_uuid(*v);
      if (!vp.instance_id) return Status::error("cannot parse instanceid parameter as a uuid");
    }
    if (auto v = prop(params, "profileid")) {
      if (v->size() >= 40) return Status::error("profileid parameter too long");
      vp.profile_id = *v;
    }
    if (auto v = prop(params, "interfaceid")) {
      vp.interface_id = parse_uuid(*v);
      if (!vp.interface_id) return Status::error("cannot parse interfaceid parameter as a uuid");
    }
  }
  const char* extra = nullptr;
  switch (vp.type) {
    case VirtualPortType::k8021Qbg:
      if (!vp.profile_id.empty()) extra = "profileid";
      else if (vp.interface_id) extra = "interfaceid";
      break;
    case VirtualPortType::k8021Qbh:
    case VirtualPortType::kOpenvswitch:
      if (vp.manager_id) extra = "managerid";
      else if (vp.type_id) extra = "typeid";
      else if (vp.type_id_version) extra = "typeidversion";
      else if (vp.instance_id) extra = "instanceid";
      else if (vp.type == VirtualPortType::k8021Qbh && vp.interface_id) extra = "interfaceid";
      break;
    case VirtualPortType::kMidonet:
      if (vp.manager_id) extra = "managerid";
      else if (vp.type_id) extra = "typeid";
      else if (vp.type_id_version) extra = "typeidversion";
      else if (vp.instance_id) extra = "instanceid";
      else if (!vp.profile_id.empty()) extra = "profileid";
      break;
    default:
      break;
  }
  if (extra) {
    return Status::error("extra " + std::string(extra) + " unsupported in <virtualport type='" +
                         vport_type_name(vp.type) + "'>");
  }
  *out = std::move(vp);
  return {};
}

Status parse_portgroup(xmlNode* node, PortgroupDef* out) {
  PortgroupDef pg;
  auto name = xpath_prop(node, "name");
  if (!name) return Status::error("Missing required name attribute in portgroup");
  pg.name = *name;
  if (auto d = xpath_prop(node, "default")) pg.is_default = iequals(*d, "yes");
  if (auto st = parse_tristate(node, "trustGuestRxFilters", &pg.trust_guest_rx_filters); !st) {
    return st;
  }
  if (xmlNode* vp = xpath_child(node, "virtualport")) {
    VirtualPortDef def;
    if (auto st = parse_virtualport(vp, false, &def); !st) return st;
    pg.virtualport = std::move(def);
  }
  if (xmlNode* bw = xpath_child(node, "bandwidth")) {
    if (auto st = parse_bandwidth(bw, &pg.bandwidth); !st) return st;
  }
  if (xmlNode* vlan = xpath_child(node, "vlan")) {
    if (auto st = parse_vlan(vlan, &pg.vlan); !st) return st;
  }
  *out = std::move(pg);
  return {};
}

Status check_route(const std::string& net, const RouteDef& r) {
  const std::string address = r.address.format();
  const std::string gateway = r.gateway.format();
  const std::string p = net + ": ";
  if (r.family.empty() || r.family == "ipv4") {
    const char* fam = r.family.empty() ? "No family" : "IPv4 family";
    if (!r.address.is_v4()) {
      return Status::error(p + fam + " specified for non-IPv4 address " + q(address) +
                           " in route definition");
    }
    if (!r.gateway.is_v4()) {
      return Status::error(p + fam + " specified for non-IPv4 gateway " + q(gateway) +
                           " in route definition");
    }
    if (r.netmask) {
      if (!r.netmask->is_v4()) {
        return Status::error(p + "Invalid netmask " + q(r.netmask->format()) + " for address " +
                             q(address) + " (both must be IPv4)");
      }
      if (r.prefix) {
        return Status::error(p + "Route definition cannot have both a prefix and a netmask");
      }
    }
    if (r.prefix && *r.prefix > 32) {
      return Status::error(p + "Invalid prefix " + std::to_string(*r.prefix) +
                           " specified in route definition, must be 0 - 32");
    }
  } else if (r.family == "ipv6") {
    if (!r.address.is_v6()) {
      return Status::error(p + "ipv6 family specified for non-IPv6 address " + q(address) +
                           " in route definition");
    }
    if (r.netmask) {
      return Status::error(p + "Specifying netmask invalid for IPv6 address " + q(address) +
                           " in route definition");
    }
    if (!r.gateway.is_v6()) {
      return Status::error(p + "ipv6 specified for non-IPv6 gateway address " + q(gateway) +
                           " in route definition");
    }
    if (r.prefix && *r.prefix > 128) {
      return Status::error(p + "Invalid prefix " + std::to_string(*r.prefix) +
                           " specified in route definition, must be 0 - 128");
    }
  } else {
    return Status::error(p + "Unrecognized family " + q(r.family) + " in route definition");
  }
  unsigned prefix = r.prefix.value_or(0);
  if (r.netmask) {
    auto mp = netmask_to_prefix(*r.netmask);
    if (!mp) {
      return Status::error(p + "Error converting address " + q(address) + " with netmask " +
                           q(r.netmask->format()) + " to network-address in route definition");
    }
    prefix = *mp;
  }
  if (network_address(r.address, prefix) != r.address) {
    return Status::error(p + "Address " + q(address) + " in route definition is not a network address");
  }
  return {};
}

Status parse_route(const std::string& net, xmlNode* node, RouteDef* out) {
  RouteDef r;
  const std::string p = net + ": ";
  r.family = xpath_prop(node, "family").value_or("");
  auto address = xpath_prop(node, "address");
  auto netmask = xpath_prop(node, "netmask");
  auto gateway = xpath_prop(node, "gateway");
  if (auto prefix = xpath_prop(node, "prefix")) {
    auto v = str_to_ul(*prefix);
    if (!v) return Status::error(p + "Invalid prefix specified in route definition");
    r.prefix = static_cast<unsigned>(*v);
  }
  if (auto metric = xpath_prop(node, "metric")) {
    auto v = str_to_ul(*metric);
    if (!v) return Status::error(p + "Invalid metric specified in route definition");
    if (*v == 0) return Status::error(p + "Invalid metric value, must be > 0 in route definition");
    r.metric = static_cast<unsigned>(*v);
  }
  if (!address) return Status::error(p + "Missing required address attribute in route definition");
  if (!gateway) return Status::error(p + "Missing required gateway attribute in route definition");
  auto a = parse_ip(*address);
  if (!a) return Status::error(p + "Bad network address " + q(*address) + " in route definition");
  auto g = parse_ip(*gateway);
  if (!g) return Status::error(p + "Bad gateway address " + q(*gateway) + " in route definition");
  r.address = *a;
  r.gateway = *g;
  if (netmask && (r.family.empty() || r.family == "ipv4")) {
    r.netmask = parse_ip(*netmask);
    if (!r.netmask) {
      return Status::error(p + "Bad netmask address " + q(*netmask) + " in route definition");
    }
  } else if (netmask) {
    // An IPv6 route with a netmask is rejected by check_route(); keep something there.
    r.netmask = parse_ip(*netmask);
    if (!r.netmask) r.netmask = IpAddr{};
  }
  if (auto st = check_route(net, r); !st) return st;
  *out = std::move(r);
  return {};
}

Status check_route_gateways(const NetworkDef& def) {
  for (const RouteDef& r : def.routes) {
    bool reachable = false;
    for (const IpDef& ip : def.ips) {
      if (ip.address.family != r.gateway.family) continue;
      const int prefix = ip_prefix(ip);
      if (prefix < 0) continue;
      if (same_subnet(ip.address, r.gateway, static_cast<unsigned>(prefix))) {
        reachable = true;
        break;
      }
    }
    if (!reachable) {
      return Status::error("unreachable static route gateway " + q(r.gateway.format()) +
                           " specified for network " + q(def.name));
    }
  }
  return {};
}

Status check_forward_mode_rules(const NetworkDef& def) {
  const std::string mode = forward_mode_name(def.forward.mode);
  const size_t nifs = def.forward.interfaces.size() + def.forward.addresses.size() +
                      (def.forward.interfaces.empty() && !def.forward.dev.empty() ? 1 : 0);
  switch (def.forward.mode) {
    case ForwardMode::kNone:
      break;
    case ForwardMode::kRoute:
    case ForwardMode::kNat:
      if (def.ips.empty()) {
        return Status::error(mode + " forwarding requested, but no IP address provided for network " +
                             q(def.name));
      }
      if (nifs > 1) {
        return Status::error("multiple forwarding interfaces specified for network " + q(def.name) +
                             ", only one is supported");
      }
      break;
    case ForwardMode::kOpen:
      if (nifs) {
        return Status::error("forward dev not allowed for network " + q(def.name) +
                             " with forward mode='" + mode + "'");
      }
      break;
    case ForwardMode::kPrivate:
    case ForwardMode::kVepa:
    case ForwardMode::kPassthrough:
    case ForwardMode::kHostdev:
      if (!def.bridge.name.empty()) {
        return Status::error("bridge name not allowed in " + mode + " mode (network " + q(def.name) +
                             ")");
      }
      if (!def.bridge.zone.empty()) {
        return Status::error("bridge zone not allowed in " + mode + " mode (network " + q(def.name) +
                             ")");
      }
      if (def.bridge.mac_table_manager != MacTableManager::kDefault) {
        return Status::error("bridge macTableManager setting not allowed in " + mode +
                             " mode (network " + q(def.name) + ")");
      }
      [[fallthrough]];
    case ForwardMode::kBridge:
      if (def.bridge.delay || def.bridge.stp != TriState::kAbsent || !def.bridge.zone.empty()) {
        return Status::error(
            "bridge delay/stp/zone options only allowed in open, route, nat, and isolated mode, "
            "not in " +
            mode + " (network " + q(def.name) + ")");
      }
      if (!def.bridge.name.empty() && (nifs || def.forward.pf)) {
        return Status::error("A network with forward mode='" + mode +
                             "' can specify a bridge name or a forward dev, but not both (network " +
                             q(def.name) + ")");
      }
      break;
  }
  if (def.mtu && !is_l3_mode(def.forward.mode)) {
    return Status::error("mtu size only allowed in open, route, nat, and isolated mode, not in " +
                         mode + " (network " + q(def.name) + ")");
  }
  return {};
}

}  // namespace vnet::xml::detail
