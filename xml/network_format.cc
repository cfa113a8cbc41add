// vnet::xml — format_network_xml(): virNetworkDefFormatBuf() of libvirt 11.3.0,
// byte for byte (libvirt-format.md section 0 "Output is canonical").
#include "xml/format_internal.h"
#include "xml/network_xml.h"
#include "xml/xml_doc.h"

#include <cstdio>

namespace vnet::xml {

namespace detail {

void Writer::add(std::string_view text) {
  // virBuffer auto-indentation: indent once when an add starts a new line
  // (newlines embedded in `text` are not followed by indentation).
  if (text.empty()) return;
  if (out_.empty() || out_.back() == '\n') out_.append(static_cast<size_t>(indent_), ' ');
  out_.append(text);
}

namespace {

std::string q_esc(std::string_view s) { return escaped(s); }

void format_rate(Writer& w, const std::optional<BandwidthRate>& r, const char* elem) {
  if (!r || !(r->average || r->floor)) return;
  std::string s = "<" + std::string(elem);
  if (r->average) s += " average='" + std::to_string(r->average) + "'";
  if (r->peak) s += " peak='" + std::to_string(r->peak) + "'";
  if (r->floor) s += " floor='" + std::to_string(r->floor) + "'";
  if (r->burst) s += " burst='" + std::to_string(r->burst) + "'";
  w.add(s + "/>\n");
}

void format_lease(Writer& w, const Lease& lease) {
  if (lease.expiry == 0) {
    w.add("<lease expiry='0'/>\n");
  } else {
    w.add("<lease expiry='" + std::to_string(lease.expiry) + "' unit='" +
          lease_unit_name(lease.unit) + "'/>\n");
  }
}

void format_dns(Writer& w, const DnsDef& dns) {
  const bool children =
      !dns.forwarders.empty() || !dns.hosts.empty() || !dns.srvs.empty() || !dns.txts.empty();
  if (dns.enable == TriState::kAbsent && dns.forward_plain_names == TriState::kAbsent && !children) {
    return;
  }
  std::string s = "<dns";
  if (dns.enable != TriState::kAbsent) s += std::string(" enable='") + tristate_name(dns.enable) + "'";
  if (dns.forward_plain_names != TriState::kAbsent) {
    s += std::string(" forwardPlainNames='") + tristate_name(dns.forward_plain_names) + "'";
  }
  if (!children) {
    w.add(s + "/>\n");
    return;
  }
  w.add(s + ">\n");
  w.indent(2);
  for (const DnsForwarder& f : dns.forwarders) {
    std::string l = "<forwarder";
    if (!f.domain.empty()) l += " domain='" + q_esc(f.domain) + "'";
    if (f.addr) l += " addr='" + f.addr->format() + "'";
    w.add(l + "/>\n");
  }
  for (const DnsTxt& t : dns.txts) {
    w.add("<txt name='" + q_esc(t.name) + "' value='" + q_esc(t.value) + "'/>\n");
  }
  for (const DnsSrv& srv : dns.srvs) {
    if (srv.service.empty() || srv.protocol.empty()) continue;
    std::string l = "<srv service='" + q_esc(srv.service) + "' protocol='" + q_esc(srv.protocol) + "'";
    if (!srv.domain.empty()) l += " domain='" + q_esc(srv.domain) + "'";
    if (!srv.target.empty()) l += " target='" + q_esc(srv.target) + "'";
    if (srv.port && *srv.port) l += " port='" + std::to_string(*srv.port) + "'";
    if (srv.priority && *srv.priority) l += " priority='" + std::to_string(*srv.priority) + "'";
    if (srv.weight && *srv.weight) l += " weight='" + std::to_string(*srv.weight) + "'";
    w.add(l + "/>\n");
  }
  for (const DnsHost& h : dns.hosts) {
    w.add("<host ip='" + h.ip.format() + "'>\n");
    w.indent(2);
    for (const std::string& name : h.hostnames) w.add("<hostname>" + q_esc(name) + "</hostname>\n");
    w.indent(-2);
    w.add("</host>\n");
  }
  w.indent(-2);
  w.add("</dns>\n");
}

void format_ip(Writer& w, const IpDef& ip) {
  std::string s = "<ip";
  if (!ip.family.empty()) s += " family='" + attr_safe(ip.family) + "'";
  s += " address='" + ip.address.format() + "'";
  if (ip.netmask) s += " netmask='" + ip.netmask->format() + "'";
  if (ip.prefix > 0) s += " prefix='" + std::to_string(ip.prefix) + "'";
  if (ip.local_ptr != TriState::kAbsent) {
    s += std::string(" localPtr='") + tristate_name(ip.local_ptr) + "'";
  }
  w.add(s + ">\n");
  w.indent(2);
  if (ip.tftp_root) w.add("<tftp root='" + q_esc(*ip.tftp_root) + "'/>\n");
  if (has_dhcp(ip)) {
    const DhcpDef& dhcp = *ip.dhcp;
    w.add("<dhcp>\n");
    w.indent(2);
    for (const DhcpRange& r : dhcp.ranges) {
      std::string l = "<range start='" + r.start.format() + "' end='" + r.end.format() + "'";
      if (r.lease) {
        w.add(l + ">\n");
        w.indent(2);
        format_lease(w, *r.lease);
        w.indent(-2);
        w.add("</range>\n");
      } else {
        w.add(l + "/>\n");
      }
    }
    for (const DhcpHost& h : dhcp.hosts) {
      std::string l = "<host";
      if (!h.mac.empty()) l += " mac='" + attr_safe(h.mac) + "'";
      if (!h.id.empty()) l += " id='" + attr_safe(h.id) + "'";
      if (!h.name.empty()) l += " name='" + attr_safe(h.name) + "'";
      if (h.ip) l += " ip='" + h.ip->format() + "'";
      if (h.lease) {
        w.add(l + ">\n");
        w.indent(2);
        format_lease(w, *h.lease);
        w.indent(-2);
        w.add("</host>\n");
      } else {
        w.add(l + "/>\n");
      }
    }
    if (dhcp.bootp) {
      std::string l = "<bootp file='" + q_esc(dhcp.bootp->file) + "'";
      if (dhcp.bootp->server) l += " server='" + dhcp.bootp->server->format() + "'";
      w.add(l + "/>\n");
    }
    w.indent(-2);
    w.add("</dhcp>\n");
  }
  w.indent(-2);
  w.add("</ip>\n");
}

void format_route(Writer& w, const RouteDef& r) {
  std::string s = "<route";
  if (!r.family.empty()) s += " family='" + attr_safe(r.family) + "'";
  s += " address='" + r.address.format() + "'";
  if (r.netmask) s += " netmask='" + r.netmask->format() + "'";
  if (r.prefix) s += " prefix='" + std::to_string(*r.prefix) + "'";
  s += " gateway='" + r.gateway.format() + "'";
  if (r.metric && *r.metric > 0) s += " metric='" + std::to_string(*r.metric) + "'";
  w.add(s + "/>\n");
}

void format_forward(Writer& w, const ForwardDef& fwd, unsigned flags) {
  if (fwd.mode == ForwardMode::kNone) return;
  // A dev with no interface list is libvirt's ifs[0].
  std::vector<ForwardInterface> ifs = fwd.interfaces;
  if (ifs.empty() && !fwd.dev.empty()) ifs.push_back(ForwardInterface{fwd.dev, 0});
  const bool inactive = (flags & kFormatInactive) != 0;

  std::string s = "<forward";
  if (!fwd.pf && !ifs.empty()) s += " dev='" + q_esc(ifs.front().dev) + "'";
  s += std::string(" mode='") + forward_mode_name(fwd.mode) + "'";
  if (fwd.mode == ForwardMode::kHostdev) s += fwd.managed ? " managed='yes'" : " managed='no'";
  const NatDef nat = fwd.nat.value_or(NatDef{});
  const bool has_nat_data = nat.addr_start || nat.addr_end || nat.port_start || nat.port_end ||
                            nat.ipv6 != TriState::kAbsent;
  const bool has_driver = fwd.driver_name != ForwardDriverName::kDefault || !fwd.driver_model.empty();
  const bool shortforward =
      !(!ifs.empty() || !fwd.addresses.empty() || fwd.pf || has_nat_data || has_driver);
  w.add(s + (shortforward ? "/>\n" : ">\n"));
  w.indent(2);
  if (has_driver) {
    static constexpr const char* kDriverNames[] = {"default", "kvm", "vfio", "xen"};
    std::string d = "<driver";
    if (fwd.driver_name != ForwardDriverName::kDefault) {
      d += std::string(" name='") + kDriverNames[static_cast<size_t>(fwd.driver_name)] + "'";
    }
    if (!fwd.driver_model.empty()) d += " model='" + q_esc(fwd.driver_model) + "'";
    w.add(d + "/>\n");
  }
  if (fwd.mode == ForwardMode::kNat && has_nat_data) {
    std::string n = "<nat";
    if (nat.ipv6 != TriState::kAbsent) n += std::string(" ipv6='") + tristate_name(nat.ipv6) + "'";
    if (!nat.addr_start && !nat.addr_end && !nat.port_start && !nat.port_end) {
      w.add(n + "/>\n");
    } else {
      w.add(n + ">\n");
      w.indent(2);
      if (nat.addr_start) {
        std::string a = "<address start='" + nat.addr_start->format() + "'";
        if (nat.addr_end) a += " end='" + nat.addr_end->format() + "'";
        w.add(a + "/>\n");
      }
      if (nat.port_start || nat.port_end) {
        std::string p = "<port start='" + std::to_string(nat.port_start) + "'";
        if (nat.port_end) p += " end='" + std::to_string(nat.port_end) + "'";
        w.add(p + "/>\n");
      }
      w.indent(-2);
      w.add("</nat>\n");
    }
  }
  if (fwd.pf) w.add("<pf dev='" + q_esc(fwd.pf->dev) + "'/>\n");
  if (!fwd.pf || !inactive) {
    for (const ForwardInterface& i : ifs) {
      std::string l = "<interface dev='" + q_esc(i.dev) + "'";
      if (!inactive && i.connections > 0) l += " connections='" + std::to_string(i.connections) + "'";
      w.add(l + "/>\n");
    }
    for (const PciAddress& a : fwd.addresses) {
      char buf[128];
      std::snprintf(buf, sizeof(buf),
                    "<address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%u'/>\n",
                    a.domain, a.bus, a.slot, a.function);
      w.add(buf);
    }
  }
  w.indent(-2);
  if (!shortforward) w.add("</forward>\n");
}

}  // namespace

void format_vlan(Writer& w, const VlanDef& vlan) {
  if (vlan.tags.empty()) return;
  w.add(vlan.trunk ? "<vlan trunk='yes'>\n" : "<vlan>\n");
  w.indent(2);
  for (unsigned tag : vlan.tags) {
    if (vlan.native_mode != NativeVlanMode::kDefault && vlan.native_tag == tag) {
      w.add("<tag id='" + std::to_string(tag) + "' nativeMode='" +
            (vlan.native_mode == NativeVlanMode::kTagged ? "tagged" : "untagged") + "'/>\n");
    } else {
      w.add("<tag id='" + std::to_string(tag) + "'/>\n");
    }
  }
  w.indent(-2);
  w.add("</vlan>\n");
}

void format_bandwidth(Writer& w, const std::optional<BandwidthDef>& bw) {
  if (!bw) return;
  w.add("<bandwidth>\n");
  w.indent(2);
  format_rate(w, bw->inbound, "inbound");
  format_rate(w, bw->outbound, "outbound");
  w.indent(-2);
  w.add("</bandwidth>\n");
}

void format_virtualport(Writer& w, const std::optional<VirtualPortDef>& vp) {
  if (!vp) return;
  const bool no_params = !(vp->manager_id || vp->type_id || vp->type_id_version ||
                           vp->instance_id || !vp->profile_id.empty() || vp->interface_id);
  const VirtualPortType t = vp->type;
  static constexpr const char* kNames[] = {"none", "802.1Qbg", "802.1Qbh", "openvswitch", "midonet"};
  const std::string type_name = kNames[static_cast<size_t>(t)];
  if (t == VirtualPortType::kNone) {
    if (no_params) return;
    w.add("<virtualport>\n");
  } else if (no_params) {
    w.add("<virtualport type='" + type_name + "'/>\n");
    return;
  } else {
    w.add("<virtualport type='" + type_name + "'>\n");
  }
  w.indent(2);
  const bool qbg = t == VirtualPortType::k8021Qbg || t == VirtualPortType::kNone;
  std::string p = "<parameters";
  if (vp->manager_id && qbg) p += " managerid='" + std::to_string(*vp->manager_id) + "'";
  if (vp->type_id && qbg) p += " typeid='" + std::to_string(*vp->type_id) + "'";
  if (vp->type_id_version && qbg) p += " typeidversion='" + std::to_string(*vp->type_id_version) + "'";
  if (vp->instance_id && qbg) p += " instanceid='" + format_uuid(*vp->instance_id) + "'";
  if (vp->interface_id && (t == VirtualPortType::kMidonet || t == VirtualPortType::kOpenvswitch ||
                           t == VirtualPortType::kNone)) {
    p += " interfaceid='" + format_uuid(*vp->interface_id) + "'";
  }
  if (!vp->profile_id.empty() && (t == VirtualPortType::kOpenvswitch ||
                                  t == VirtualPortType::k8021Qbh || t == VirtualPortType::kNone)) {
    p += " profileid='" + attr_safe(vp->profile_id) + "'";
  }
  w.add(p + "/>\n");
  w.indent(-2);
  w.add("</virtualport>\n");
}

void format_portgroup(Writer& w, const PortgroupDef& pg) {
  std::string s = "<portgroup name='" + attr_safe(pg.name) + "'";
  if (pg.is_default) s += " default='yes'";
  if (pg.trust_guest_rx_filters != TriState::kAbsent) {
    s += std::string(" trustGuestRxFilters='") + tristate_name(pg.trust_guest_rx_filters) + "'";
  }
  w.add(s + ">\n");
  w.indent(2);
  format_vlan(w, pg.vlan);
  format_virtualport(w, pg.virtualport);
  format_bandwidth(w, pg.bandwidth);
  w.indent(-2);
  w.add("</portgroup>\n");
}

}  // namespace detail

std::string format_network_xml(const NetworkDef& def, unsigned flags) {
  using namespace detail;  // NOLINT
  Writer w;
  std::string root = "<network";
  if (!def.dnsmasq_options.empty()) root += std::string(" xmlns:dnsmasq='") + kDnsmasqNamespace + "'";
  if (def.uplink) root += std::string(" xmlns:vnet='") + kVnetNamespace + "'";
  if (!(flags & kFormatInactive) && def.connections > 0) {
    root += " connections='" + std::to_string(def.connections) + "'";
  }
  if (def.ipv6) root += " ipv6='yes'";
  if (def.trust_guest_rx_filters != TriState::kAbsent) {
    root += std::string(" trustGuestRxFilters='") + tristate_name(def.trust_guest_rx_filters) + "'";
  }
  w.add(root + ">\n");
  w.indent(2);
  w.add("<name>" + escaped(def.name) + "</name>\n");
  w.add("<uuid>" + format_uuid(def.uuid) + "</uuid>\n");
  if (!def.title.empty()) w.add("<title>" + escaped(def.title) + "</title>\n");
  if (!def.description.empty()) w.add("<description>" + escaped(def.description) + "</description>\n");
  if (!def.metadata.empty()) w.add(def.metadata + "\n");
  format_forward(w, def.forward, flags);

  const bool hasbridge = is_l3_mode(def.forward.mode);
  const BridgeDef& b = def.bridge;
  if (hasbridge || !b.name.empty() || b.mac_table_manager != MacTableManager::kDefault) {
    std::string s = "<bridge";
    if (!b.name.empty()) s += " name='" + escaped(b.name) + "'";
    if (!b.zone.empty()) s += " zone='" + escaped(b.zone) + "'";
    if (hasbridge) {
      s += std::string(" stp='") + (b.stp == TriState::kNo ? "off" : "on") + "' delay='" +
           std::to_string(b.delay) + "'";
    }
    if (b.mac_table_manager == MacTableManager::kKernel) s += " macTableManager='kernel'";
    if (b.mac_table_manager == MacTableManager::kLibvirt) s += " macTableManager='libvirt'";
    w.add(s + "/>\n");
  }
  if (def.mtu) w.add("<mtu size='" + std::to_string(def.mtu) + "'/>\n");
  if (def.mac) w.add("<mac address='" + def.mac->format() + "'/>\n");
  if (def.domain) {
    std::string s = "<domain name='" + attr_safe(def.domain->name) + "'";
    if (def.domain->local_only != TriState::kAbsent) {
      s += std::string(" localOnly='") + tristate_name(def.domain->local_only) + "'";
    }
    if (def.domain->register_ != TriState::kAbsent) {
      s += std::string(" register='") + tristate_name(def.domain->register_) + "'";
    }
    w.add(s + "/>\n");
  }
  format_dns(w, def.dns);
  format_vlan(w, def.vlan);
  format_bandwidth(w, def.bandwidth);
  if (def.port_isolated != TriState::kAbsent) {
    w.add(std::string("<port isolated='") + tristate_name(def.port_isolated) + "'/>\n");
  }
  for (const IpDef& ip : def.ips) format_ip(w, ip);
  for (const RouteDef& r : def.routes) format_route(w, r);
  format_virtualport(w, def.virtualport);
  for (const PortgroupDef& pg : def.portgroups) format_portgroup(w, pg);
  if (!def.dnsmasq_options.empty()) {
    w.add("<dnsmasq:options>\n");
    w.indent(2);
    for (const std::string& o : def.dnsmasq_options) {
      w.add("<dnsmasq:option value='" + escaped(o) + "'/>\n");
    }
    w.indent(-2);
    w.add("</dnsmasq:options>\n");
  }
  format_vnet_uplink(w, def.uplink);
  w.indent(-2);
  w.add("</network>\n");
  return w.take();
}

}  // namespace vnet::xml
