// Dataplane facade: statistics, FDB commands, port events, port info.
#include <rte_cycles.h>
#include <rte_eth_vhost.h>
#include <rte_lcore.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_vhost.h>

#include "dataplane/dataplane.h"
#include "dataplane/fdb.h"
#include "dataplane/l3.h"
#include "dataplane/slow_path.h"
#include "nat/nat_config.h"
#include "nat/bytes.h"
#include "nat/session_table.h"
#include "dataplane/worker.h"

namespace vnet::dp {

PortInfo Dataplane::info_locked(const PortRecord& r) const {
  PortInfo i;
  i.name = r.spec.name;
  i.network = r.network;
  i.kind = r.spec.kind;
  i.port_id = r.opened.port_id;
  i.device = r.opened.device;
  i.socket_path = r.opened.socket_path;
  i.ifname = r.spec.ifname;
  i.ring_in = r.opened.ring_in;
  i.ring_out = r.opened.ring_out;
  i.isolated = r.spec.isolated;
  i.vlan = r.spec.vlan;
  i.link_up = port_link_up(r.opened.port_id);
  i.worker = r.worker;
  i.queues = r.opened.rx_queues;
  if (r.spec.kind == PortKind::kVhostServer || r.spec.kind == PortKind::kVhostClient) {
    const int vid = rte_eth_vhost_get_vid_from_port_id(r.opened.port_id);
    uint16_t mtu = 0;
    if (vid >= 0 && rte_vhost_get_mtu(vid, &mtu) == 0) i.guest_mtu = mtu;
  }
  return i;
}

std::vector<PmdStats> Dataplane::pmd_stats() const {
  std::lock_guard lock(mu_);
  std::vector<PmdStats> out;
  for (size_t w = 0; w < workers_.size() && w < lcores_.size(); ++w) {
    const WorkerCounters& c = workers_[w]->counters();
    PmdStats s;
    s.worker = static_cast<uint16_t>(w);
    s.lcore = lcores_[w];
    const rte_cpuset_t cpus = rte_lcore_cpuset(lcores_[w]);
    if (CPU_COUNT(&cpus) == 1)
      for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &cpus)) s.cpu = cpu;
    s.loops = c.loops.read();
    s.busy_loops = c.busy_loops.read();
    s.frames = c.frames.read();
    s.busy_cycles = c.busy_cycles.read();
    s.idle_cycles = c.idle_cycles.read();
    s.tsc_hz = rte_get_tsc_hz();
    s.fc_lookups = c.fc_lookups.read();
    s.fc_hits = c.fc_hits.read();
    s.fc_inserts = c.fc_inserts.read();
    s.fc_declined = c.fc_declined.read();
    s.fc_invalidations = c.fc_invalidations.read();
    s.fc_bypasses = c.fc_bypasses.read();
    s.fc_bypassed = c.fc_bypassed.read();
    out.push_back(s);
  }
  return out;
}

std::vector<PortInfo> Dataplane::list_ports(std::string_view network) const {
  std::lock_guard lock(mu_);
  std::vector<PortInfo> out;
  for (const auto& [name, rec] : ports_)
    if (network.empty() || rec.network == network) out.push_back(info_locked(rec));
  return out;
}

PortStats Dataplane::sum_counters_locked(uint16_t id) const {
  PortStats s;
  for (const auto& w : workers_) {
    const PortCounters& c = w->counters().ports[id];
    s.rx_pkts += c.rx_pkts.read();
    s.rx_bytes += c.rx_bytes.read();
    s.tx_pkts += c.tx_pkts.read();
    s.tx_bytes += c.tx_bytes.read();
    s.flow_cache_hits += c.flow_cache_hits.read();
    for (size_t r = 0; r < kDropReasonCount; ++r) s.drops[r] += c.drops.by_reason[r].read();
  }
  if (slow_path_ != nullptr) {
    const GatewayCounters& g = slow_path_->gateway_counters(id);
    s.punted = g.punted.read();
    s.injected = g.injected.read();
    for (size_t r = 0; r < kDropReasonCount; ++r) s.drops[r] += g.drops.by_reason[r].read();
  }
  if (event_sink_ != nullptr) {
    s.link_up_events = event_sink_->link_up[id].load(std::memory_order_relaxed);
    s.link_down_events = event_sink_->link_down[id].load(std::memory_order_relaxed);
  }
  return s;
}

PortStats Dataplane::port_stats_locked(const PortRecord& r) const {
  PortStats s = sum_counters_locked(r.opened.port_id);
  const PortStats& b = r.base;
  s.rx_pkts -= b.rx_pkts;
  s.rx_bytes -= b.rx_bytes;
  s.tx_pkts -= b.tx_pkts;
  s.tx_bytes -= b.tx_bytes;
  s.flow_cache_hits -= b.flow_cache_hits;
  s.punted -= b.punted;
  s.injected -= b.injected;
  s.link_up_events -= b.link_up_events;
  s.link_down_events -= b.link_down_events;
  for (size_t k = 0; k < kDropReasonCount; ++k) s.drops[k] -= b.drops[k];
  return s;
}

Result<PortStats> Dataplane::port_stats(std::string_view port) const {
  std::lock_guard lock(mu_);
  auto it = ports_.find(port);
  if (it != ports_.end()) return port_stats_locked(it->second);
  for (const auto& [net, l3] : l3_)
    if (l3.uplink.spec.name == port) return port_stats_locked(l3.uplink);
  if (port == kGatewayPortName) {
    if (gateways_.size() == 1) return port_stats_locked(gateways_.begin()->second.port);
    if (gateways_.size() > 1)
      return Status{StatusCode::kInvalidArgument, "several networks have a gateway: name the network"};
  }
  return Status{StatusCode::kNotFound, "no port " + std::string(port)};
}

Result<PortStats> Dataplane::port_stats(std::string_view port, std::string_view network) const {
  std::lock_guard lock(mu_);
  if (port == kGatewayPortName) {
    auto g = gateways_.find(network);
    if (g == gateways_.end())
      return Status{StatusCode::kNotFound, "network " + std::string(network) + " has no gateway"};
    return port_stats_locked(g->second.port);
  }
  auto it = ports_.find(port);
  if (it == ports_.end() || it->second.network != network)
    return Status{StatusCode::kNotFound, "no port " + std::string(port) + " in " + std::string(network)};
  return port_stats_locked(it->second);
}

Result<PortInfo> Dataplane::gateway_port(std::string_view network) const {
  std::lock_guard lock(mu_);
  auto g = gateways_.find(network);
  if (g == gateways_.end())
    return Status{StatusCode::kNotFound, "network " + std::string(network) + " has no gateway"};
  PortInfo i = info_locked(g->second.port);
  i.internal = true;
  return i;
}

uint32_t Dataplane::mbufs_in_use() const {
  std::lock_guard lock(mu_);
  return pool_ != nullptr ? rte_mempool_in_use_count(pool_) : 0;
}

DropTotals Dataplane::drop_totals() const {
  std::lock_guard lock(mu_);
  DropTotals t{};
  for (const auto& w : workers_)
    for (const PortCounters& c : w->counters().ports)
      for (size_t r = 0; r < kDropReasonCount; ++r) t[r] += c.drops.by_reason[r].read();
  if (slow_path_ != nullptr) {
    for (size_t r = 0; r < kDropReasonCount; ++r) t[r] += slow_path_->counters().drops.by_reason[r].read();
    for (uint16_t p = 0; p < kMaxPorts; ++p)
      for (size_t r = 0; r < kDropReasonCount; ++r)
        t[r] += slow_path_->gateway_counters(p).drops.by_reason[r].read();
  }
  for (size_t r = 0; r < kDropReasonCount; ++r) t[r] += control_drops_.by_reason[r].read();
  return t;
}

Result<std::vector<FdbRow>> Dataplane::fdb_show(std::string_view network) {
  std::lock_guard lock(mu_);
  std::optional<uint16_t> net_id;
  if (!network.empty()) {
    auto it = networks_.find(network);
    if (it == networks_.end()) return Status{StatusCode::kNotFound, "no network " + std::string(network)};
    net_id = it->second.id;
  }
  dump_buf_.clear();
  SlowPathCommand cmd;
  cmd.op = SlowPathOp::kDump;
  cmd.network = net_id.value_or(0);
  cmd.all_networks = net_id ? 0 : 1;
  cmd.dump_out = &dump_buf_;
  if (Status st = run_slow_path_command_locked(cmd); !st) return st;
  std::vector<FdbRow> rows;
  for (const FdbEntry& e : dump_buf_) {
    FdbRow r;
    for (const auto& [name, rec] : networks_)
      if (rec.id == e.network) r.network = name;
    for (const auto& [name, rec] : ports_)
      if (rec.opened.port_id == e.port) r.port = name;
    for (const auto& [name, gw] : gateways_)
      if (gw.port.opened.port_id == e.port) r.port = std::string(kGatewayPortName);
    r.is_static = e.is_static;
    r.vlan = e.vlan;
    r.mac = e.mac.to_string();
    r.port_id = e.port;
    r.age_s = e.age_ns / kNsPerSec;
    rows.push_back(std::move(r));
  }
  return rows;
}

FdbStats Dataplane::fdb_counters_locked(uint16_t id) const {
  const FdbNetworkStats& s = fdb_->stats(id);
  FdbStats out;
  out.entries = s.entries.read();
  out.learned = s.learned.read();
  out.moved = s.moved.read();
  out.aged = s.aged.read();
  out.limit_hits = s.limit_hits.read();
  return out;
}

std::map<std::string, uint64_t> Dataplane::fdb_port_entries(std::string_view network) const {
  std::lock_guard lock(mu_);
  std::map<std::string, uint64_t> out;
  for (const auto& [name, rec] : ports_)
    if (rec.network == network) out[name] = fdb_->port_entries(rec.opened.port_id);
  return out;
}

Result<FdbStats> Dataplane::fdb_stats(std::string_view network) const {
  std::lock_guard lock(mu_);
  auto it = networks_.find(network);
  if (it == networks_.end()) return Status{StatusCode::kNotFound, "no network " + std::string(network)};
  FdbStats s = fdb_counters_locked(it->second.id);
  const FdbStats& base = it->second.fdb_base;
  s.learned -= base.learned;
  s.moved -= base.moved;
  s.aged -= base.aged;
  s.limit_hits -= base.limit_hits;
  return s;
}

Status Dataplane::fdb_flush(std::string_view network, std::string_view port) {
  std::lock_guard lock(mu_);
  auto net = networks_.find(network);
  if (net == networks_.end()) return Status{StatusCode::kNotFound, "no network " + std::string(network)};
  SlowPathCommand cmd;
  cmd.network = net->second.id;
  cmd.op = SlowPathOp::kFlushNetwork;
  if (!port.empty()) {
    auto p = ports_.find(port);
    if (p == ports_.end() || p->second.network != network)
      return Status{StatusCode::kNotFound, "no port " + std::string(port) + " in " + std::string(network)};
    cmd.op = SlowPathOp::kFlushNetworkPort;
    cmd.port = p->second.opened.port_id;
  }
  return run_slow_path_command_locked(cmd);
}

size_t Dataplane::poll_port_events(
    const std::function<void(const PortEvent&, std::string_view port)>& fn) {
  std::array<PortEvent, 32> evs;
  size_t total = 0;
  while (true) {
    unsigned n;
    std::vector<std::pair<PortEvent, std::string>> named;
    {
      std::lock_guard lock(mu_);
      if (port_events_ == nullptr) return total;
      n = port_events_->pop_burst(evs.data(), evs.size());
      for (unsigned i = 0; i < n; ++i) {
        std::string name;
        for (const auto& [pname, rec] : ports_)
          if (rec.opened.port_id == evs[i].port) name = pname;
        for (const auto& [net, l3] : l3_)
          if (l3.uplink.opened.port_id == evs[i].port) name = l3.uplink.spec.name;
        named.emplace_back(evs[i], std::move(name));
      }
    }
    if (n == 0) return total;
    for (const auto& [ev, name] : named) fn(ev, name);
    total += n;
  }
}

// ---- L3 ----

Result<PortInfo> Dataplane::uplink_port(std::string_view network) const {
  std::lock_guard lock(mu_);
  auto it = l3_.find(network);
  if (it == l3_.end()) return Status{StatusCode::kNotFound, "network " + std::string(network) + " has no uplink"};
  PortInfo i = info_locked(it->second.uplink);
  i.internal = true;
  return i;
}

Result<std::vector<NeighborEntry>> Dataplane::neighbors(std::string_view network) const {
  std::lock_guard lock(mu_);
  auto it = l3_.find(network);
  if (it == l3_.end()) return Status{StatusCode::kNotFound, "network " + std::string(network) + " has no L3"};
  return it->second.rt->neighbors->dump();
}

Status Dataplane::query_nat_locked(const L3Record& rec, size_t limit_per_worker,
                                   std::vector<std::shared_ptr<NatQuery>>& out) {
  out.clear();
  for (uint16_t w = 0; w < worker_count_ && w < rec.rt->nat.size(); ++w) {
    auto q = std::make_shared<NatQuery>();
    q->nat = rec.rt->nat[w].get();
    q->storage.resize(limit_per_worker);
    q->out = q->storage;
    out.push_back(q);
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.grace_timeout;
  for (uint16_t w = 0; w < out.size(); ++w) {
    WorkerCommand cmd;
    cmd.op = WorkerOp::kNatQuery;
    cmd.query = out[w].get();
    while (!worker_cmds_[w]->push(cmd)) {
      if (std::chrono::steady_clock::now() > deadline)
        return Status{StatusCode::kTimeout, "worker command ring full"};
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  Status result;
  for (auto& q : out) {
    while (!q->done.load(std::memory_order_acquire)) {
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    if (!q->done.load(std::memory_order_acquire)) {
      abandoned_queries_.push_back(q);  // the worker may still write into it
      result = Status{StatusCode::kTimeout, "a PMD worker did not answer the NAT query"};
    }
  }
  return result;
}

Result<std::vector<NatSessionRow>> Dataplane::nat_sessions(std::string_view network, size_t limit) {
  std::lock_guard lock(mu_);
  auto it = l3_.find(network);
  if (it == l3_.end()) return Status{StatusCode::kNotFound, "network " + std::string(network) + " has no L3"};
  if (it->second.config.mode != L3Mode::kNat)
    return Status{StatusCode::kInvalidArgument, "network " + std::string(network) + " does not NAT"};
  std::vector<std::shared_ptr<NatQuery>> qs;
  if (Status st = query_nat_locked(it->second, limit, qs); !st) return st;
  std::vector<NatSessionRow> rows;
  for (uint16_t w = 0; w < qs.size(); ++w) {
    const NatQuery& q = *qs[w];
    for (size_t k = 0; k < q.filled && rows.size() < limit; ++k) {
      const nat::Session& s = q.storage[k];
      const bool ports = s.proto == nat::kProtoTcp || s.proto == nat::kProtoUdp || s.proto == nat::kProtoIcmp;
      auto ep = [&](uint32_t a, uint16_t p, bool with) {
        return nat::format_ipv4(a) + (with ? ":" + std::to_string(p) : std::string{});
      };
      NatSessionRow r;
      r.proto = s.proto == nat::kProtoTcp || s.proto == nat::kProtoUdp || s.proto == nat::kProtoIcmp
                    ? std::string(nat::proto_name(s.proto))
                    : std::to_string(s.proto);
      r.inside = ep(s.in_addr, s.in_port, ports);
      r.outside = ep(s.ext_addr, s.ext_port, ports);
      r.peer = ep(s.remote_addr, s.remote_port, s.proto == nat::kProtoTcp || s.proto == nat::kProtoUdp);
      r.state = s.proto == nat::kProtoTcp ? std::string(nat::tcp_state_name(s.tcp_state)) : std::string();
      r.expires_in_s = s.expires_ns > q.now_ns ? (s.expires_ns - q.now_ns) / nat::kNsPerSec : 0;
      r.worker = w;
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

Result<L3Stats> Dataplane::l3_stats(std::string_view network) {
  std::lock_guard lock(mu_);
  auto it = l3_.find(network);
  if (it == l3_.end()) return Status{StatusCode::kNotFound, "network " + std::string(network) + " has no L3"};
  const L3Runtime& rt = *it->second.rt;
  L3Stats s;
  std::array<uint64_t, nat::kNatReasonCount> reasons{};
  std::array<uint64_t, nat::kNatEventCount> nat_events{};
  std::array<uint64_t, kL3EventCount> events{};
  auto add_nat = [&](const nat::NatCounters& c) {
    for (size_t r = 0; r < nat::kNatReasonCount; ++r) reasons[r] += c.reasons[r].read();
    for (size_t e = 0; e < nat::kNatEventCount; ++e) nat_events[e] += c.events[e].read();
  };
  for (const auto& nw : rt.nat) add_nat(nw->counters());
  for (const auto& c : rt.counters) {
    add_nat(c->route);
    for (size_t e = 0; e < kL3EventCount; ++e) events[e] += c->events[e].read();
  }
  for (size_t e = 0; e < kL3EventCount; ++e) events[e] += rt.binding.counters.events[e].read();
  for (size_t r = 1; r < nat::kNatReasonCount; ++r) s.counters.emplace_back(std::string(nat::kNatReasonNames[r]), reasons[r]);
  for (size_t e = 0; e < nat::kNatEventCount; ++e) s.counters.emplace_back(std::string(nat::kNatEventNames[e]), nat_events[e]);
  for (size_t e = 0; e < kL3EventCount; ++e) s.counters.emplace_back(std::string(kL3EventNames[e]), events[e]);
  if (!rt.nat.empty()) {
    std::vector<std::shared_ptr<NatQuery>> qs;
    if (Status st = query_nat_locked(it->second, 0, qs); !st) return st;
    for (const auto& q : qs) s.sessions += q->size;
  }
  s.uplink = port_stats_locked(it->second.uplink);
  net::MacAddr mac;
  if (it->second.config.next_hop != 0 && rt.neighbors->lookup(it->second.config.next_hop, &mac))
    s.next_hop_mac = mac.to_string();
  s.neighbors = rt.neighbors->size();
  return s;
}

}  // namespace vnet::dp
