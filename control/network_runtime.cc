#include "control/network_runtime.h"

namespace vnet::ctl {

const NetworkPorts& NetworkRuntime::stored_ports(const std::string& network) const {
  static const NetworkPorts kNone;
  return port_store_ != nullptr ? port_store_->get(network) : kNone;
}

namespace {
std::string not_running(const std::string& network) { return "network '" + network + "' is not running"; }
}  // namespace

xml::Status RecordingRuntime::start(const xml::NetworkDef& def) {
  ++start_calls_;
  if (!fail_start_.empty()) {
    std::string msg = std::move(fail_start_);
    fail_start_.clear();
    return xml::Status::error(msg);
  }
  Running r;
  const NetworkPorts& stored = stored_ports(def.name);
  if (stored.ageing_s) r.ageing_s = *stored.ageing_s;
  if (stored.mac_limit) r.mac_limit = *stored.mac_limit;
  for (const PortConfig& p : stored.ports) r.ports[p.name] = p;
  running_.insert_or_assign(def.name, def);
  state_.insert_or_assign(def.name, std::move(r));
  return {};
}

void RecordingRuntime::stop(const std::string& name) {
  ++stop_calls_;
  running_.erase(name);
  state_.erase(name);
}

xml::Status RecordingRuntime::update(const xml::NetworkDef& def) {
  ++update_calls_;
  if (!fail_update_.empty()) {
    std::string msg = std::move(fail_update_);
    fail_update_.clear();
    return xml::Status::error(msg);
  }
  running_.insert_or_assign(def.name, def);
  return {};
}

xml::Status RecordingRuntime::add_port(const std::string& network, const PortConfig& port) {
  auto it = state_.find(network);
  if (it == state_.end()) return xml::Status::error(not_running(network));
  if (!fail_add_port_.empty()) {
    std::string msg = std::move(fail_add_port_);
    fail_add_port_.clear();
    return xml::Status::error(msg);
  }
  if (!it->second.ports.emplace(port.name, port).second)
    return xml::Status::error("port '" + port.name + "' is already running");
  return {};
}

xml::Status RecordingRuntime::remove_port(const std::string& network, const std::string& port) {
  auto it = state_.find(network);
  if (it == state_.end()) return xml::Status::error(not_running(network));
  if (it->second.ports.erase(port) == 0) return xml::Status::error("no running port '" + port + "'");
  return {};
}

xml::Result<std::vector<PortStatus>> RecordingRuntime::ports(const std::string& network) {
  auto it = state_.find(network);
  if (it == state_.end()) return xml::Result<std::vector<PortStatus>>::error(not_running(network));
  std::vector<PortStatus> out;
  for (const auto& [name, cfg] : it->second.ports) {
    PortStatus s;
    s.config = cfg;
    s.running = true;
    out.push_back(std::move(s));
  }
  return out;
}

xml::Result<std::vector<PortCounters>> RecordingRuntime::counters(const std::string& network) {
  auto it = state_.find(network);
  if (it == state_.end()) return xml::Result<std::vector<PortCounters>>::error(not_running(network));
  std::vector<PortCounters> out;
  for (const auto& [name, cfg] : it->second.ports) {
    PortCounters c;
    c.name = name;
    out.push_back(std::move(c));
  }
  return out;
}

xml::Result<std::vector<FdbRecord>> RecordingRuntime::fdb(const std::string& network) {
  if (state_.count(network) == 0) return xml::Result<std::vector<FdbRecord>>::error(not_running(network));
  return std::vector<FdbRecord>{};
}

xml::Result<FdbCounts> RecordingRuntime::fdb_counts(const std::string& network) {
  if (state_.count(network) == 0) return xml::Result<FdbCounts>::error(not_running(network));
  return FdbCounts{};
}

xml::Status RecordingRuntime::fdb_flush(const std::string& network, const std::string& port) {
  auto it = state_.find(network);
  if (it == state_.end()) return xml::Status::error(not_running(network));
  if (!port.empty() && it->second.ports.count(port) == 0) return xml::Status::error("no running port '" + port + "'");
  return {};
}

xml::Status RecordingRuntime::set_ageing(const std::string& network, uint32_t seconds) {
  auto it = state_.find(network);
  if (it == state_.end()) return xml::Status::error(not_running(network));
  it->second.ageing_s = seconds;
  return {};
}

xml::Status RecordingRuntime::set_mac_limit(const std::string& network, uint32_t limit) {
  auto it = state_.find(network);
  if (it == state_.end()) return xml::Status::error(not_running(network));
  it->second.mac_limit = limit;
  return {};
}

uint32_t RecordingRuntime::mac_limit(const std::string& network) const {
  auto it = state_.find(network);
  return it == state_.end() ? 0 : it->second.mac_limit;
}

uint32_t RecordingRuntime::ageing(const std::string& network) const {
  auto it = state_.find(network);
  return it == state_.end() ? 0 : it->second.ageing_s;
}

}  // namespace vnet::ctl
