#include "control/dataplane_runtime.h"

#include "control/uplink/vfio_binder.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace vnet::ctl {

namespace {

std::string dp_error(const dp::Status& st) { return st.message(); }

dp::VlanConfig compile_vlan(const xml::VlanDef& v) {
  dp::VlanConfig c;
  for (unsigned t : v.tags) c.tags.push_back(static_cast<uint16_t>(t));
  c.trunk = v.trunk;
  switch (v.native_mode) {
    case xml::NativeVlanMode::kDefault: c.native_mode = dp::NativeMode::kNone; break;
    case xml::NativeVlanMode::kTagged: c.native_mode = dp::NativeMode::kTagged; break;
    case xml::NativeVlanMode::kUntagged: c.native_mode = dp::NativeMode::kUntagged; break;
  }
  if (c.native_mode != dp::NativeMode::kNone) c.native_tag = static_cast<uint16_t>(v.native_tag);
  return c;
}

// chmod 0660 + chown owner:group of a server socket.
xml::Status set_socket_access(const PortConfig& p) {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (!p.owner.empty()) {
    const passwd* pw = ::getpwnam(p.owner.c_str());
    if (pw == nullptr) return xml::Status::error("unknown user '" + p.owner + "'");
    uid = pw->pw_uid;
  }
  if (!p.group.empty()) {
    const group* gr = ::getgrnam(p.group.c_str());
    if (gr == nullptr) return xml::Status::error("unknown group '" + p.group + "'");
    gid = gr->gr_gid;
  }
  if (::chmod(p.path.c_str(), 0660) != 0)
    return xml::Status::error("cannot chmod socket '" + p.path + "': " + std::strerror(errno));
  if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) && ::chown(p.path.c_str(), uid, gid) != 0)
    return xml::Status::error("cannot chown socket '" + p.path + "': " + std::strerror(errno));
  return {};
}

}  // namespace

std::string dataplane_port_name(const std::string& network, const std::string& port) {
  return network + "/" + port;
}

dp::NetworkConfig compile_network(const xml::NetworkDef& def, const NetworkPorts& stored) {
  dp::NetworkConfig c;
  c.name = def.name;
  if (def.mtu != 0) c.mtu = def.mtu;
  if (stored.ageing_s) c.ageing_s = *stored.ageing_s;
  if (stored.mac_limit) c.mac_limit = *stored.mac_limit;
  return c;
}

dp::PortSpec compile_port(const std::string& network, const PortConfig& port, const xml::NetworkDef& def) {
  dp::PortSpec s;
  s.name = dataplane_port_name(network, port.name);
  switch (port.type) {
    case PortType::kVhostUser:
      s.kind = port.mode == VhostMode::kServer ? dp::PortKind::kVhostServer : dp::PortKind::kVhostClient;
      s.path = port.path;
      s.queues = static_cast<uint16_t>(port.queues);
      break;
    case PortType::kTap:
      s.kind = dp::PortKind::kTap;
      s.ifname = port.ifname;
      break;
    case PortType::kAfPacket:
      s.kind = dp::PortKind::kAfPacket;
      s.ifname = port.ifname;
      break;
    case PortType::kAfXdp:
      s.kind = dp::PortKind::kAfXdp;
      s.ifname = port.ifname;
      break;
  }
  s.isolated = effective_isolated(port, def);
  s.vlan = compile_vlan(effective_vlan(port, def));
  return s;
}

DataplaneRuntime::DataplaneRuntime(Logger& log) : log_(log) {}

xml::Status DataplaneRuntime::check_running(const std::string& network) const {
  if (dp_ == nullptr) return xml::Status::error("the dataplane is not running");
  if (live_.count(network) == 0) return xml::Status::error("network '" + network + "' is not running");
  return {};
}

const xml::NetworkDef* DataplaneRuntime::live_def(const std::string& network) const {
  auto it = live_.find(network);
  return it == live_.end() ? nullptr : &it->second;
}

xml::Result<std::optional<GatewaySetup>> DataplaneRuntime::make_gateway(const xml::NetworkDef& def) const {
  if (!gateway_factory_) return std::optional<GatewaySetup>{};
  xml::Result<std::optional<GatewaySetup>> g = gateway_factory_(def);
  if (g.ok() && g->has_value() && (*g)->handler == nullptr)
    return xml::Result<std::optional<GatewaySetup>>::error("gateway of network '" + def.name + "' has no handler");
  return g;
}

xml::Status DataplaneRuntime::start(const xml::NetworkDef& def) {
  if (dp_ == nullptr) return xml::Status::error("the dataplane is not running");
  xml::Result<std::optional<GatewaySetup>> gateway = make_gateway(def);
  if (!gateway.ok()) return xml::Status::error("network '" + def.name + "': gateway: " + gateway.error());
  const NetworkPorts& stored = stored_ports(def.name);
  if (dp::Status st = dp_->add_network(compile_network(def, stored)); !st)
    return xml::Status::error("network '" + def.name + "': " + dp_error(st));
  if (gateway->has_value()) {
    if (dp::Status st = dp_->set_punt_handler(def.name, (*gateway)->mac, (*gateway)->handler); !st) {
      if (dp::Status rm = dp_->remove_network(def.name); !rm) log_.error("network '" + def.name + "': " + rm.message());
      return xml::Status::error("network '" + def.name + "': gateway: " + dp_error(st));
    }
    gateway_mac_[def.name] = (*gateway)->mac;
  }
  for (const PortConfig& p : stored.ports) {
    if (xml::Status st = add_port_locked(def.name, p, def); !st.ok()) {
      if (dp::Status rm = dp_->remove_network(def.name); !rm) log_.error("network '" + def.name + "': " + rm.message());
      gateway_mac_.erase(def.name);
      return xml::Status::error("network '" + def.name + "': port '" + p.name + "': " + st.error());
    }
  }
  if (xml::Status st = start_l3(def); !st.ok()) {
    if (dp::Status rm = dp_->remove_network(def.name); !rm) log_.error("network '" + def.name + "': " + rm.message());
    gateway_mac_.erase(def.name);
    return st;
  }
  live_.insert_or_assign(def.name, def);
  log_.info("network '" + def.name + "' running on the dataplane with " + std::to_string(stored.ports.size()) +
            " port(s)");
  return {};
}

xml::Status DataplaneRuntime::start_l3(const xml::NetworkDef& def) {
  if (!routes_to_uplink(def.forward.mode)) return {};
  const std::optional<std::string> dev = uplink_plan(def, default_uplink_);
  if (!dev) {
    log_.warning("network '" + def.name + "': mode '" + xml::forward_mode_name(def.forward.mode) +
                 "' without an uplink (no <forward dev> and no vnetd --uplink): guests reach each other and "
                 "the gateway only; frames routed off the network are dropped");
    return {};
  }
  if (gateway_mac_.count(def.name) == 0)
    return xml::Status::error("network '" + def.name + "': routing to the uplink needs the network's gateway (an IPv4 <ip>)");
  xml::Result<uplink::EffectiveUplink> up =
      uplink::effective_uplink(def, default_uplink_, kernel_query_, [this](const std::string& line) { log_.info(line); });
  if (!up.ok()) return xml::Status::error(up.error());
  // A NIC or VF: bound to vfio-pci here, given back to its driver by stop()
  // (or right away when starting fails).
  std::optional<uplink::VfioBinding> binding;
  if (up->type == xml::UplinkType::kPci ||
      (up->type == xml::UplinkType::kKernel && uplink::normalize_pci_address(up->dev))) {
    up->type = xml::UplinkType::kPci;
    if (!l3_options_.pci)
      return xml::Status::error("network '" + def.name + "': uplink '" + up->dev +
                                "' is a PCI device and vnetd runs DPDK without the PCI bus: start vnetd with --pci");
    uplink::VfioBinder binder(l3_options_.sysfs_root);
    xml::Result<uplink::VfioBinding> b = binder.bind(up->dev);
    if (!b.ok()) return xml::Status::error("network '" + def.name + "': uplink '" + up->dev + "': " + b.error());
    binding = *b;
    log_.info("network '" + def.name + "': uplink '" + up->dev + "' is PCI device " + b->pci_address +
              (b->was_bound ? ", already on vfio-pci"
                            : ", bound to vfio-pci (from " + (b->original_driver.empty() ? std::string("no driver")
                                                                                         : b->original_driver) + ")"));
    up->dev = b->pci_address;
  }
  auto give_back = [&](xml::Status st) {
    if (binding) release_binding(def.name, *binding);
    return st;
  };
  xml::Result<dp::L3Config> l3 = compile_l3(def, *up, l3_options_);
  if (!l3.ok()) return give_back(xml::Status::error(l3.error()));
  if (l3->uplink.kind == dp::PortKind::kVhostServer || l3->uplink.kind == dp::PortKind::kVhostClient) {
    up->socket_path = l3->uplink.path;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(up->socket_path).parent_path(), ec);
    if (ec)
      return give_back(xml::Status::error("network '" + def.name + "': cannot create the directory of the uplink socket '" +
                                          up->socket_path + "': " + ec.message()));
    struct stat sst{};
    // A stale socket of an earlier run would make bind() fail.
    if (l3->uplink.kind == dp::PortKind::kVhostServer && ::stat(up->socket_path.c_str(), &sst) == 0 &&
        S_ISSOCK(sst.st_mode))
      ::unlink(up->socket_path.c_str());
  }
  const std::string shown =
      up->type == xml::UplinkType::kVhostUser
          ? "vhostuser:" + up->socket_path + (up->vhost_client ? " (client)" : " (server)")
          : *dev;
  if (dp::Status st = dp_->set_l3(def.name, *l3); !st)
    return give_back(xml::Status::error("network '" + def.name + "': uplink '" + shown + "': " + dp_error(st)));
  uplinks_[def.name] = *up;
  if (binding) vfio_[def.name] = *binding;
  log_.info("network '" + def.name + "': " + xml::forward_mode_name(def.forward.mode) + " through uplink '" + shown +
            "' as " + up->address.format() + "/" + std::to_string(up->prefix) + " via " + up->gateway.format());
  return {};
}

void DataplaneRuntime::release_binding(const std::string& network, const uplink::VfioBinding& binding) {
  if (binding.was_bound) return;  // it was on vfio-pci before: left as it was
  uplink::VfioBinder binder(l3_options_.sysfs_root);
  if (xml::Status st = binder.release(binding); !st.ok()) {
    log_.error("network '" + network + "': giving PCI device " + binding.pci_address + " back to '" +
               binding.original_driver + "': " + st.error());
    return;
  }
  log_.info("network '" + network + "': PCI device " + binding.pci_address + " given back to " +
            (binding.original_driver.empty() ? std::string("no driver") : "'" + binding.original_driver + "'"));
}

void DataplaneRuntime::stop(const std::string& name) {
  live_.erase(name);
  uplinks_.erase(name);
  gateway_mac_.erase(name);
  if (dp_ != nullptr) {
    if (dp::Status st = dp_->remove_network(name); !st) log_.error("network '" + name + "': " + st.message());
  }
  // After the uplink port is closed and detached from DPDK.
  if (auto v = vfio_.find(name); v != vfio_.end()) {
    release_binding(name, v->second);
    vfio_.erase(v);
  }
}

xml::Status DataplaneRuntime::update(const xml::NetworkDef& def) {
  if (xml::Status st = check_running(def.name); !st.ok()) return st;
  auto it = live_.find(def.name);
  const xml::NetworkDef old = it->second;
  xml::Result<std::optional<GatewaySetup>> gateway = make_gateway(def);
  if (!gateway.ok()) return xml::Status::error("gateway: " + gateway.error());
  if (dp::Status st = dp_->update_network(compile_network(def, stored_ports(def.name))); !st)
    return xml::Status::error(dp_error(st));
  // The new gateway replaces the old one (or detaches it).
  dp::Status gst;
  if (gateway->has_value()) {
    gst = dp_->set_punt_handler(def.name, (*gateway)->mac, (*gateway)->handler);
    if (gst) gateway_mac_[def.name] = (*gateway)->mac;
  } else if (auto g = gateway_mac_.find(def.name); g != gateway_mac_.end()) {
    gst = dp_->set_punt_handler(def.name, g->second, nullptr);
    if (gst) gateway_mac_.erase(g);
  }
  if (!gst) {
    (void)dp_->update_network(compile_network(old, stored_ports(def.name)));
    return xml::Status::error("gateway: " + dp_error(gst));
  }
  if (def.port_isolated != old.port_isolated || def.vlan != old.vlan || def.portgroups != old.portgroups) {
    for (const PortConfig& p : stored_ports(def.name).ports) {
      const dp::PortSpec s = compile_port(def.name, p, def);
      if (dp::Status st = dp_->update_port(s.name, s.isolated, s.vlan); !st) {
        for (const PortConfig& q : stored_ports(def.name).ports) {
          const dp::PortSpec o = compile_port(def.name, q, old);
          (void)dp_->update_port(o.name, o.isolated, o.vlan);
        }
        (void)dp_->update_network(compile_network(old, stored_ports(def.name)));
        return xml::Status::error("port '" + p.name + "': " + dp_error(st));
      }
    }
  }
  it->second = def;
  return {};
}

xml::Status DataplaneRuntime::add_port_locked(const std::string& network, const PortConfig& port,
                                              const xml::NetworkDef& def) {
  const dp::PortSpec spec = compile_port(network, port, def);
  dp::Result<dp::PortInfo> added = dp_->add_port(network, spec);
  if (!added) return xml::Status::error(dp_error(added.status()));
  if (port.type == PortType::kVhostUser && port.mode == VhostMode::kServer) {
    if (xml::Status st = set_socket_access(port); !st.ok()) {
      (void)dp_->remove_port(spec.name);
      return st;
    }
  }
  return {};
}

xml::Status DataplaneRuntime::add_port(const std::string& network, const PortConfig& port) {
  if (xml::Status st = check_running(network); !st.ok()) return st;
  auto it = live_.find(network);
  return add_port_locked(network, port, it->second);
}

xml::Status DataplaneRuntime::remove_port(const std::string& network, const std::string& port) {
  if (xml::Status st = check_running(network); !st.ok()) return st;
  if (dp::Status st = dp_->remove_port(dataplane_port_name(network, port)); !st)
    return xml::Status::error(dp_error(st));
  return {};
}

xml::Result<std::vector<PortStatus>> DataplaneRuntime::ports(const std::string& network) {
  using R = xml::Result<std::vector<PortStatus>>;
  if (xml::Status st = check_running(network); !st.ok()) return R::error(st.error());
  const std::string prefix = network + "/";
  std::map<std::string, uint64_t> macs = dp_->fdb_port_entries(network);
  std::vector<PortStatus> out;
  for (const dp::PortInfo& i : dp_->list_ports(network)) {
    if (!i.name.starts_with(prefix)) continue;  // internal ports
    PortStatus s;
    s.config.name = i.name.substr(prefix.size());
    s.running = true;
    s.link_up = i.link_up;
    s.macs = macs[i.name];
    s.device = i.device;
    out.push_back(std::move(s));
  }
  return out;
}

xml::Result<std::vector<PortCounters>> DataplaneRuntime::counters(const std::string& network) {
  using R = xml::Result<std::vector<PortCounters>>;
  if (xml::Status st = check_running(network); !st.ok()) return R::error(st.error());
  const std::string prefix = network + "/";
  std::vector<PortCounters> out;
  for (const dp::PortInfo& i : dp_->list_ports(network)) {
    if (!i.name.starts_with(prefix)) continue;
    dp::Result<dp::PortStats> st = dp_->port_stats(i.name);
    if (!st) return R::error(dp_error(st.status()));
    PortCounters c;
    c.name = i.name.substr(prefix.size());
    c.rx_packets = st->rx_pkts;
    c.rx_bytes = st->rx_bytes;
    c.tx_packets = st->tx_pkts;
    c.tx_bytes = st->tx_bytes;
    c.flow_cache_hits = st->flow_cache_hits;
    for (size_t r = 0; r < dp::kDropReasonCount; ++r) c.drops[std::string(dp::kDropReasonNames[r])] = st->drops[r];
    out.push_back(std::move(c));
  }
  return out;
}

xml::Result<FdbCounts> DataplaneRuntime::fdb_counts(const std::string& network) {
  using R = xml::Result<FdbCounts>;
  if (xml::Status st = check_running(network); !st.ok()) return R::error(st.error());
  dp::Result<dp::FdbStats> s = dp_->fdb_stats(network);
  if (!s) return R::error(dp_error(s.status()));
  FdbCounts c;
  c.entries = s->entries;
  c.learned = s->learned;
  c.moved = s->moved;
  c.aged = s->aged;
  c.limit_hits = s->limit_hits;
  return c;
}

xml::Result<std::vector<FdbRecord>> DataplaneRuntime::fdb(const std::string& network) {
  using R = xml::Result<std::vector<FdbRecord>>;
  if (xml::Status st = check_running(network); !st.ok()) return R::error(st.error());
  dp::Result<std::vector<dp::FdbRow>> rows = dp_->fdb_show(network);
  if (!rows) return R::error(dp_error(rows.status()));
  const std::string prefix = network + "/";
  std::vector<FdbRecord> out;
  for (const dp::FdbRow& r : rows.value()) {
    FdbRecord f;
    f.local = !r.port.starts_with(prefix);
    f.port = f.local ? r.port : r.port.substr(prefix.size());
    f.mac = r.mac;
    f.vlan = r.vlan;
    f.age_s = r.age_s;
    out.push_back(std::move(f));
  }
  return out;
}

xml::Status DataplaneRuntime::fdb_flush(const std::string& network, const std::string& port) {
  if (xml::Status st = check_running(network); !st.ok()) return st;
  const std::string dp_port = port.empty() ? std::string() : dataplane_port_name(network, port);
  if (dp::Status st = dp_->fdb_flush(network, dp_port); !st) return xml::Status::error(dp_error(st));
  return {};
}

xml::Status DataplaneRuntime::set_ageing(const std::string& network, uint32_t seconds) {
  if (xml::Status st = check_running(network); !st.ok()) return st;
  if (dp::Status st = dp_->set_ageing(network, seconds); !st) return xml::Status::error(dp_error(st));
  return {};
}

xml::Status DataplaneRuntime::set_mac_limit(const std::string& network, uint32_t limit) {
  if (xml::Status st = check_running(network); !st.ok()) return st;
  NetworkPorts settings = stored_ports(network);
  settings.mac_limit = limit;
  if (dp::Status st = dp_->update_network(compile_network(live_.at(network), settings)); !st)
    return xml::Status::error(dp_error(st));
  return {};
}

xml::Result<nlohmann::json> DataplaneRuntime::l3_query(const std::string& cmd, const std::string& network,
                                                       const nlohmann::json& args) {
  using R = xml::Result<nlohmann::json>;
  using nlohmann::json;
  if (xml::Status st = check_running(network); !st.ok()) return R::error(st.error());
  const xml::NetworkDef& def = live_.at(network);
  if (!routes_to_uplink(def.forward.mode))
    return R::error("network '" + network + "' is not a nat, route or open network (forward mode '" +
                    xml::forward_mode_name(def.forward.mode) + "')");
  if (!dp_->uplink_port(network))
    return R::error("network '" + network + "' runs without an uplink (no <forward dev> and no vnetd --uplink)");
  json j = json::object();
  if (cmd == "nat-sessions") {
    size_t limit = 1000;
    if (auto it = args.find("limit"); it != args.end()) {
      if (!it->is_number_unsigned()) return R::error("'limit' must be a non-negative integer");
      limit = it->get<size_t>();
    }
    if (def.forward.mode != xml::ForwardMode::kNat)
      return R::error("network '" + network + "' routes without NAT (forward mode '" +
                      xml::forward_mode_name(def.forward.mode) + "'): it has no sessions");
    dp::Result<dp::L3Stats> stats = dp_->l3_stats(network);
    if (!stats) return R::error(dp_error(stats.status()));
    dp::Result<std::vector<dp::NatSessionRow>> rows = dp_->nat_sessions(network, limit);
    if (!rows) return R::error(dp_error(rows.status()));
    json arr = json::array();
    for (const dp::NatSessionRow& r : rows.value()) {
      json e = json::object();
      e["proto"] = r.proto;
      e["inside"] = r.inside;
      e["outside"] = r.outside;
      e["peer"] = r.peer;
      e["state"] = r.state;
      e["expires_in_s"] = r.expires_in_s;
      e["worker"] = r.worker;
      arr.push_back(std::move(e));
    }
    j["total"] = stats->sessions;
    j["truncated"] = stats->sessions > arr.size();
    j["sessions"] = std::move(arr);
    return j;
  }
  dp::Result<dp::L3Stats> stats = dp_->l3_stats(network);
  if (!stats) return R::error(dp_error(stats.status()));
  dp::Result<dp::PortInfo> up = dp_->uplink_port(network);
  j["mode"] = xml::forward_mode_name(def.forward.mode);
  j["uplink"] = up ? up->ifname : std::string();
  if (auto eff = uplinks_.find(network); eff != uplinks_.end()) {
    j["uplink_type"] = xml::uplink_type_name(eff->second.type);
    if (eff->second.type == xml::UplinkType::kVhostUser) {
      const char* vmode = eff->second.vhost_client ? "client" : "server";
      j["uplink_socket"] = eff->second.socket_path;
      j["uplink_mode"] = vmode;
      j["uplink"] = eff->second.socket_path + " (vhostuser " + vmode + ")";
    }
  }
  j["uplink_link_up"] = up ? up->link_up : false;
  j["next_hop_mac"] = stats->next_hop_mac;
  j["sessions"] = stats->sessions;
  json counters = json::object();
  for (const auto& [name, n] : stats->counters) counters[name] = n;
  j["counters"] = std::move(counters);
  json us = json::object();
  us["rx_packets"] = stats->uplink.rx_pkts;
  us["rx_bytes"] = stats->uplink.rx_bytes;
  us["tx_packets"] = stats->uplink.tx_pkts;
  us["tx_bytes"] = stats->uplink.tx_bytes;
  json drops = json::object();
  for (size_t r = 0; r < dp::kDropReasonCount; ++r) {
    if (stats->uplink.drops[r] != 0) drops[std::string(dp::kDropReasonNames[r])] = stats->uplink.drops[r];
  }
  us["drops"] = std::move(drops);
  j["uplink_stats"] = std::move(us);
  if (auto eff = uplinks_.find(network); eff != uplinks_.end()) {
    j["outside"] = eff->second.address.format() + "/" + std::to_string(eff->second.prefix);
    j["next_hop"] = eff->second.gateway.format();
  }
  return j;
}

}  // namespace vnet::ctl
