#include "control/port_store.h"

#include <system_error>

#include "control/atomic_file.h"
#include "control/state_store.h"

namespace vnet::ctl {

namespace fs = std::filesystem;
using nlohmann::json;

json to_json(const NetworkPorts& p) {
  json j = json::object();
  if (p.ageing_s) j["ageing_s"] = *p.ageing_s;
  if (p.mac_limit) j["mac_limit"] = *p.mac_limit;
  json arr = json::array();
  for (const PortConfig& c : p.ports) arr.push_back(to_json(c));
  j["ports"] = arr;
  return j;
}

xml::Result<NetworkPorts> network_ports_from_json(const json& j) {
  using R = xml::Result<NetworkPorts>;
  if (!j.is_object()) return R::error("not a JSON object");
  NetworkPorts out;
  if (auto it = j.find("ageing_s"); it != j.end() && !it->is_null()) {
    if (!it->is_number_unsigned()) return R::error("'ageing_s' is not a non-negative integer");
    out.ageing_s = it->get<uint32_t>();
  }
  if (auto it = j.find("mac_limit"); it != j.end() && !it->is_null()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() == 0 || it->get<uint64_t>() > UINT32_MAX)
      return R::error("'mac_limit' is not a positive 32-bit integer");
    out.mac_limit = it->get<uint32_t>();
  }
  if (auto it = j.find("ports"); it != j.end()) {
    if (!it->is_array()) return R::error("'ports' is not an array");
    for (const json& e : *it) {
      xml::Result<PortConfig> p = port_from_json(e);
      if (!p.ok()) return R::error(p.error());
      out.ports.push_back(std::move(*p));
    }
  }
  return out;
}

PortStore::PortStore(fs::path dir, LogFn warn) : dir_(std::move(dir)), warn_(std::move(warn)) {}

fs::path PortStore::path_of(const std::string& network) const { return dir_ / (network + ".json"); }

xml::Status PortStore::open() {
  if (xml::Status st = ensure_dir(dir_, 0755); !st.ok()) return st;
  remove_stale_temporaries(dir_);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    const std::string name = e.path().stem().string();
    xml::Result<std::string> text = read_file(e.path());
    if (!text.ok()) {
      if (warn_) warn_(text.error());
      continue;
    }
    json j = json::parse(*text, nullptr, false);
    xml::Result<NetworkPorts> ports =
        j.is_discarded() ? xml::Result<NetworkPorts>::error("invalid JSON") : network_ports_from_json(j);
    if (!ports.ok()) {
      if (warn_) warn_("ignoring '" + e.path().string() + "': " + ports.error());
      continue;
    }
    by_network_[name] = std::move(*ports);
  }
  if (ec) return xml::Status::error("cannot read '" + dir_.string() + "': " + ec.message());
  return {};
}

const NetworkPorts& PortStore::get(const std::string& network) const {
  static const NetworkPorts kEmpty;
  auto it = by_network_.find(network);
  return it == by_network_.end() ? kEmpty : it->second;
}

xml::Status PortStore::put(const std::string& network, const NetworkPorts& ports) {
  if (!is_safe_file_name(network)) return xml::Status::error("invalid network name '" + network + "'");
  if (ports.empty()) return forget(network);
  if (xml::Status st = atomic_write_file(path_of(network), to_json(ports).dump(2) + "\n", 0600); !st.ok())
    return st;
  by_network_[network] = ports;
  return {};
}

xml::Status PortStore::forget(const std::string& network) {
  if (!is_safe_file_name(network)) return xml::Status::error("invalid network name '" + network + "'");
  if (xml::Status st = remove_file_durable(path_of(network)); !st.ok()) return st;
  by_network_.erase(network);
  return {};
}

std::vector<std::string> PortStore::networks() const {
  std::vector<std::string> out;
  for (const auto& [name, p] : by_network_) out.push_back(name);
  return out;
}

}  // namespace vnet::ctl
