#include "control/l3_setup.h"

#include "control/uplink/vfio_binder.h"

namespace vnet::ctl {

bool routes_to_uplink(xml::ForwardMode mode) {
  return mode == xml::ForwardMode::kNat || mode == xml::ForwardMode::kRoute || mode == xml::ForwardMode::kOpen;
}

std::string uplink_port_name(const std::string& network) { return network + ":uplink"; }

std::string default_uplink_socket(const std::string& run_dir, const std::string& network) {
  return run_dir + "/" + network + "/uplink.sock";
}

std::optional<std::string> uplink_plan(const xml::NetworkDef& def, const std::string& default_uplink) {
  if (!routes_to_uplink(def.forward.mode)) return std::nullopt;
  if (def.uplink && def.uplink->effective_type() == xml::UplinkType::kVhostUser)
    return def.uplink->path.empty() ? std::string("vhostuser") : "vhostuser:" + def.uplink->path;
  std::string dev = uplink::uplink_device(def, default_uplink);
  if (dev.empty()) return std::nullopt;
  return dev;
}

xml::Result<dp::L3Config> compile_l3(const xml::NetworkDef& def, const uplink::EffectiveUplink& up,
                                     const L3Options& options) {
  using R = xml::Result<dp::L3Config>;
  const std::string where = "network '" + def.name + "': ";
  dp::L3Config c;
  switch (def.forward.mode) {
    case xml::ForwardMode::kNat: c.mode = dp::L3Mode::kNat; break;
    case xml::ForwardMode::kRoute: c.mode = dp::L3Mode::kRoute; break;
    case xml::ForwardMode::kOpen: c.mode = dp::L3Mode::kOpen; break;
    default:
      return R::error(where + "forward mode '" + xml::forward_mode_name(def.forward.mode) +
                      "' does not route through an uplink");
  }
  for (const xml::IpDef& ip : def.ips) {
    if (!ip.address.is_v4()) continue;
    const unsigned prefix = xml::effective_prefix(ip);
    if (prefix == 0 || prefix > 32) return R::error(where + "<ip address='" + ip.address.format() + "'> has no usable prefix");
    c.inside.push_back(dp::Ipv4Prefix{ip.address.v4_host_order(), static_cast<uint8_t>(prefix)});
  }
  if (c.inside.empty()) return R::error(where + "routing to an uplink needs an IPv4 <ip> address");
  if (options.nat_sessions < kMinNatSessions || options.nat_sessions > kMaxNatSessions)
    return R::error(where + "NAT session capacity " + std::to_string(options.nat_sessions) + " not in " +
                    std::to_string(kMinNatSessions) + ".." + std::to_string(kMaxNatSessions));
  c.nat_sessions = options.nat_sessions;
  c.uplink.name = uplink_port_name(def.name);
  if (up.type == xml::UplinkType::kVhostUser) {
    if (!up.dev.empty())
      return R::error(where + "<forward dev='" + up.dev + "'> and <vnet:uplink type='vhostuser'> both name the uplink");
    c.uplink.kind = up.vhost_client ? dp::PortKind::kVhostClient : dp::PortKind::kVhostServer;
    c.uplink.path = up.socket_path.empty() ? default_uplink_socket(options.run_dir, def.name) : up.socket_path;
    if (c.uplink.path.empty() || c.uplink.path.front() != '/')
      return R::error(where + "the vhost-user uplink socket '" + c.uplink.path + "' is not an absolute path");
  } else {
    if (up.dev.empty()) return R::error(where + "no uplink device (<forward dev> or vnetd --uplink)");
    const std::optional<std::string> pci = uplink::normalize_pci_address(up.dev);
    if (up.type == xml::UplinkType::kPci) {
      if (!pci)
        return R::error(where + "uplink '" + up.dev + "' is not a PCI address (vnetd binds the device first)");
      c.uplink.kind = dp::PortKind::kPci;
      c.uplink.pci_address = *pci;
    } else {
      if (pci)
        return R::error(where + "uplink '" + up.dev + "' is a PCI device: it is attached with type='pci'");
      c.uplink.kind = up.type == xml::UplinkType::kAfXdp ? dp::PortKind::kAfXdp : dp::PortKind::kAfPacket;
      c.uplink.ifname = up.dev;
    }
  }
  if (!up.address.is_v4() || !up.gateway.is_v4()) return R::error(where + "the uplink address must be IPv4");
  c.outside_ip = up.address.v4_host_order();
  c.outside_prefix = static_cast<uint8_t>(up.prefix);
  c.next_hop = up.gateway.v4_host_order();
  if (c.mode == dp::L3Mode::kNat && def.forward.nat) {
    const xml::NatDef& n = *def.forward.nat;
    if (n.addr_start && n.addr_end) {
      c.nat_addr_first = n.addr_start->v4_host_order();
      c.nat_addr_last = n.addr_end->v4_host_order();
      if (c.nat_addr_first > c.nat_addr_last)
        return R::error(where + "<nat><address start='" + n.addr_start->format() + "' end='" + n.addr_end->format() +
                        "'>: start is after end");
    }
    if (n.port_start != 0 || n.port_end != 0) {
      if (n.port_start >= n.port_end)
        return R::error(where + "Invalid port range '" + std::to_string(n.port_start) + "-" +
                        std::to_string(n.port_end) + "'");
      c.nat_port_first = static_cast<uint16_t>(n.port_start);
      c.nat_port_last = static_cast<uint16_t>(n.port_end);
    }
  }
  return c;
}

}  // namespace vnet::ctl
