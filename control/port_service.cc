#include "control/port_service.h"

#include <algorithm>
#include <tuple>

namespace vnet::ctl {

PortService::PortService(NetworkRegistry& registry, PortStore& store, NetworkRuntime& runtime, std::string run_dir,
                         Logger& log)
    : registry_(registry), store_(store), runtime_(runtime), run_dir_(std::move(run_dir)), log_(log) {}

xml::Result<std::string> PortService::resolve(std::string_view ref, bool need_active) const {
  using R = xml::Result<std::string>;
  xml::Result<NetworkInfo> info = registry_.info(ref);
  if (!info.ok()) return R::error(info.error());
  if (need_active && !info->active) return R::error("network '" + info->name + "' is not active");
  return info->name;
}

xml::Result<PortAdded> PortService::add(std::string_view network_ref, const PortRequest& req) {
  using R = xml::Result<PortAdded>;
  xml::Result<std::string> net = resolve(network_ref, true);
  if (!net.ok()) return R::error(net.error());
  NetworkPorts ports = store_.get(*net);
  std::vector<std::string> taken;
  for (const PortConfig& p : ports.ports) taken.push_back(p.name);
  xml::Result<PortConfig> cfg = complete_port(req, *net, run_dir_, taken);
  if (!cfg.ok()) return R::error(cfg.error());
  if (!cfg->vlan.empty()) {
    // As libvirt: <vlan> on an interface only where the network supports VLANs.
    const xml::NetworkDef* def = registry_.live_def(*net);
    const xml::ForwardMode m = def != nullptr ? def->forward.mode : xml::ForwardMode::kNone;
    if (m != xml::ForwardMode::kBridge && m != xml::ForwardMode::kPassthrough && m != xml::ForwardMode::kHostdev)
      return R::error("network '" + *net + "' (forward mode '" + xml::forward_mode_name(m) +
                      "') does not support VLAN tags on its ports; <vlan> needs forward mode bridge, passthrough "
                      "or hostdev");
  }
  if (!cfg->portgroup.empty()) {
    const xml::NetworkDef* def = registry_.live_def(*net);
    if (def == nullptr || std::none_of(def->portgroups.begin(), def->portgroups.end(),
                                       [&](const xml::PortgroupDef& pg) { return pg.name == cfg->portgroup; }))
      return R::error("network '" + *net + "' has no portgroup '" + cfg->portgroup + "'");
  }

  // Host-wide uniqueness of sockets and interfaces; MACs unique in the network.
  for (const std::string& other : store_.networks()) {
    for (const PortConfig& p : store_.get(other).ports) {
      if (cfg->type == PortType::kVhostUser && p.type == PortType::kVhostUser && p.path == cfg->path)
        return R::error("socket '" + cfg->path + "' is already used by port '" + p.name + "' of network '" +
                        other + "'");
      if (cfg->type != PortType::kVhostUser && p.type != PortType::kVhostUser && p.ifname == cfg->ifname)
        return R::error("interface '" + cfg->ifname + "' is already used by port '" + p.name + "' of network '" +
                        other + "'");
    }
  }
  for (unsigned salt = 1; std::any_of(ports.ports.begin(), ports.ports.end(),
                                      [&](const PortConfig& p) { return p.mac == cfg->mac; });
       ++salt)
    cfg->mac = derive_guest_mac(*net, cfg->name, salt);

  if (xml::Status st = runtime_.add_port(*net, *cfg); !st.ok()) return R::error(st.error());
  ports.ports.push_back(*cfg);
  if (xml::Status st = store_.put(*net, ports); !st.ok()) {
    (void)runtime_.remove_port(*net, cfg->name);
    return R::error(st.error());
  }
  log_.info("network '" + *net + "': port '" + cfg->name + "' (" + port_type_name(cfg->type) + ") added");
  return PortAdded{*net, *cfg};
}

xml::Result<PortAdded> PortService::remove(std::string_view network_ref, const std::string& port) {
  using R = xml::Result<PortAdded>;
  xml::Result<std::string> net = resolve(network_ref, false);
  if (!net.ok()) return R::error(net.error());
  NetworkPorts ports = store_.get(*net);
  auto it = std::find_if(ports.ports.begin(), ports.ports.end(), [&](const PortConfig& p) { return p.name == port; });
  if (it == ports.ports.end()) return R::error("network '" + *net + "' has no port '" + port + "'");
  const PortConfig removed = *it;
  ports.ports.erase(it);
  const bool active = registry_.info(*net)->active;
  if (active) {
    if (xml::Status st = runtime_.remove_port(*net, port); !st.ok()) return R::error(st.error());
  }
  if (xml::Status st = store_.put(*net, ports); !st.ok()) {
    if (active) (void)runtime_.add_port(*net, removed);
    return R::error(st.error());
  }
  log_.info("network '" + *net + "': port '" + port + "' removed");
  return PortAdded{*net, removed};
}

xml::Result<std::vector<PortStatus>> PortService::list(std::string_view network_ref) {
  using R = xml::Result<std::vector<PortStatus>>;
  xml::Result<std::string> net = resolve(network_ref, false);
  if (!net.ok()) return R::error(net.error());
  std::vector<PortStatus> running;
  if (registry_.info(*net)->active) {
    xml::Result<std::vector<PortStatus>> r = runtime_.ports(*net);
    if (!r.ok()) return R::error(r.error());
    running = std::move(*r);
  }
  std::vector<PortStatus> out;
  for (const PortConfig& p : store_.get(*net).ports) {
    PortStatus s;
    s.config = p;
    auto it = std::find_if(running.begin(), running.end(), [&](const PortStatus& r) { return r.config.name == p.name; });
    if (it != running.end()) {
      s.running = true;
      s.link_up = it->link_up;
      s.macs = it->macs;
      s.device = it->device;
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const PortStatus& a, const PortStatus& b) { return a.config.name < b.config.name; });
  return out;
}

xml::Result<std::vector<PortCounters>> PortService::stats(std::string_view network_ref, const std::string& port) {
  using R = xml::Result<std::vector<PortCounters>>;
  xml::Result<std::string> net = resolve(network_ref, true);
  if (!net.ok()) return R::error(net.error());
  const auto& stored = store_.get(*net).ports;
  if (!port.empty() &&
      std::none_of(stored.begin(), stored.end(), [&](const PortConfig& p) { return p.name == port; }))
    return R::error("network '" + *net + "' has no port '" + port + "'");
  xml::Result<std::vector<PortCounters>> r = runtime_.counters(*net);
  if (!r.ok()) return r;
  std::vector<PortCounters> out;
  for (PortCounters& c : *r) {
    if (port.empty() || c.name == port) out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const PortCounters& a, const PortCounters& b) { return a.name < b.name; });
  return out;
}

xml::Result<std::vector<FdbRecord>> PortService::fdb_show(std::string_view network_ref) {
  using R = xml::Result<std::vector<FdbRecord>>;
  xml::Result<std::string> net = resolve(network_ref, true);
  if (!net.ok()) return R::error(net.error());
  xml::Result<std::vector<FdbRecord>> r = runtime_.fdb(*net);
  if (!r.ok()) return r;
  std::sort(r->begin(), r->end(), [](const FdbRecord& a, const FdbRecord& b) {
    return std::tie(a.port, a.vlan, a.mac) < std::tie(b.port, b.vlan, b.mac);
  });
  return r;
}

xml::Result<FdbCounts> PortService::fdb_counts(std::string_view network_ref, std::string* resolved) {
  xml::Result<std::string> net = resolve(network_ref, true);
  if (!net.ok()) return xml::Result<FdbCounts>::error(net.error());
  *resolved = *net;
  return runtime_.fdb_counts(*net);
}

xml::Status PortService::fdb_flush(std::string_view network_ref, const std::string& port) {
  xml::Result<std::string> net = resolve(network_ref, true);
  if (!net.ok()) return xml::Status::error(net.error());
  if (!port.empty()) {
    const auto& stored = store_.get(*net).ports;
    if (std::none_of(stored.begin(), stored.end(), [&](const PortConfig& p) { return p.name == port; }))
      return xml::Status::error("network '" + *net + "' has no port '" + port + "'");
  }
  return runtime_.fdb_flush(*net, port);
}

xml::Result<AgeingSet> PortService::set_ageing(std::string_view network_ref, long long seconds) {
  using R = xml::Result<AgeingSet>;
  xml::Result<std::string> net = resolve(network_ref, true);
  if (!net.ok()) return R::error(net.error());
  if (seconds < 0 || seconds > kMaxAgeingSeconds)
    return R::error("ageing time must be in 0.." + std::to_string(kMaxAgeingSeconds) + " seconds (0: never)");
  NetworkPorts ports = store_.get(*net);
  const std::optional<uint32_t> old = ports.ageing_s;
  ports.ageing_s = static_cast<uint32_t>(seconds);
  if (xml::Status st = runtime_.set_ageing(*net, *ports.ageing_s); !st.ok()) return R::error(st.error());
  if (xml::Status st = store_.put(*net, ports); !st.ok()) {
    (void)runtime_.set_ageing(*net, old.value_or(300));
    return R::error(st.error());
  }
  return AgeingSet{*net, *ports.ageing_s};
}

xml::Result<MacLimitSet> PortService::set_mac_limit(std::string_view network_ref, long long limit) {
  using R = xml::Result<MacLimitSet>;
  xml::Result<std::string> net = resolve(network_ref, true);
  if (!net.ok()) return R::error(net.error());
  if (limit < 1 || limit > kMaxMacLimit)
    return R::error("MAC limit must be in 1.." + std::to_string(kMaxMacLimit));
  NetworkPorts ports = store_.get(*net);
  const std::optional<uint32_t> old = ports.mac_limit;
  ports.mac_limit = static_cast<uint32_t>(limit);
  if (xml::Status st = runtime_.set_mac_limit(*net, *ports.mac_limit); !st.ok()) return R::error(st.error());
  if (xml::Status st = store_.put(*net, ports); !st.ok()) {
    (void)runtime_.set_mac_limit(*net, old.value_or(FdbSettings{}.mac_limit));
    return R::error(st.error());
  }
  return MacLimitSet{*net, *ports.mac_limit};
}

FdbSettings PortService::fdb_settings(const std::string& network) const {
  const NetworkPorts& p = store_.get(network);
  FdbSettings s;
  if (p.ageing_s) s.ageing_s = *p.ageing_s;
  if (p.mac_limit) s.mac_limit = *p.mac_limit;
  return s;
}

size_t PortService::port_count(const std::string& network) const { return store_.get(network).ports.size(); }

void PortService::network_gone(const std::string& network) {
  if (store_.get(network).empty()) return;
  if (xml::Status st = store_.forget(network); !st.ok()) log_.warning(st.error());
}

void PortService::prune_unknown() {
  for (const std::string& net : store_.networks()) {
    if (!registry_.info(net, LookupBy::kName).ok()) {
      log_.info("dropping the ports of network '" + net + "', which no longer exists");
      network_gone(net);
    }
  }
}

}  // namespace vnet::ctl
