// Dataplane facade: statistics, FDB commands, port events, port info.
#include <rte_ethdev.h>

#include "dataplane/dataplane.h"
#include "dataplane/fdb.h"
#include "dataplane/slow_path.h"
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
  return i;
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
    for (size_t r = 0; r < kDropReasonCount; ++r) s.drops[r] += c.drops.by_reason[r].read();
  }
  return s;
}

Result<PortStats> Dataplane::port_stats(std::string_view port) const {
  std::lock_guard lock(mu_);
  auto it = ports_.find(port);
  if (it == ports_.end()) return Status{StatusCode::kNotFound, "no port " + std::string(port)};
  PortStats s = sum_counters_locked(it->second.opened.port_id);
  const PortStats& b = it->second.base;
  s.rx_pkts -= b.rx_pkts;
  s.rx_bytes -= b.rx_bytes;
  s.tx_pkts -= b.tx_pkts;
  s.tx_bytes -= b.tx_bytes;
  for (size_t r = 0; r < kDropReasonCount; ++r) s.drops[r] -= b.drops[r];
  return s;
}

DropTotals Dataplane::drop_totals() const {
  std::lock_guard lock(mu_);
  DropTotals t{};
  for (const auto& w : workers_)
    for (const PortCounters& c : w->counters().ports)
      for (size_t r = 0; r < kDropReasonCount; ++r) t[r] += c.drops.by_reason[r].read();
  if (slow_path_ != nullptr)
    for (size_t r = 0; r < kDropReasonCount; ++r) t[r] += slow_path_->counters().drops.by_reason[r].read();
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
    r.vlan = e.vlan;
    r.mac = e.mac.to_string();
    r.port_id = e.port;
    r.age_s = e.age_ns / kNsPerSec;
    rows.push_back(std::move(r));
  }
  return rows;
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
        named.emplace_back(evs[i], std::move(name));
      }
    }
    if (n == 0) return total;
    for (const auto& [ev, name] : named) fn(ev, name);
    total += n;
  }
}

}  // namespace vnet::dp
