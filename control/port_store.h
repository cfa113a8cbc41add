// vnet::ctl — persistence of each network's ports and switch settings.
//
// Theory of operation
//   STATE/ports/NET.json holds what port-add, fdb-setageing and fdb-setlimit
//   asked for:
//     {"ageing_s": 300, "mac_limit": 8192, "ports": [ <PortConfig as to_json()>, ... ]}
//   ("ageing_s" / "mac_limit" absent = the network default). The file belongs to the
//   network: it is kept across net-destroy / net-start and vnetd restarts,
//   and removed when the network itself goes away (undefine of an inactive
//   network, destroy of a transient one, or a file left for a network that
//   no longer exists at start-up). Every write is atomic_write_file().
//   The store keeps an in-memory copy loaded by open(); a bad file is
//   reported through the log callback and treated as empty, never thrown.
//
// Thread-safety
//   Control thread only.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "control/port_config.h"
#include "xml/network_xml.h"

namespace vnet::ctl {

struct NetworkPorts {
  std::optional<uint32_t> ageing_s;   // fdb-setageing; unset = the network default
  std::optional<uint32_t> mac_limit;  // fdb-setlimit; unset = the default (8192)
  std::vector<PortConfig> ports;      // in port-add order
  bool empty() const { return !ageing_s && !mac_limit && ports.empty(); }
};

class PortStore {
 public:
  using LogFn = std::function<void(const std::string&)>;

  // `dir` is STATE/ports.
  explicit PortStore(std::filesystem::path dir, LogFn warn = {});

  // mkdir, drop stale temporaries, load every *.json.
  xml::Status open();

  const NetworkPorts& get(const std::string& network) const;  // empty when none
  // Replaces the network's entry on disk, then in memory; nothing changes on error.
  xml::Status put(const std::string& network, const NetworkPorts& ports);
  xml::Status forget(const std::string& network);
  std::vector<std::string> networks() const;
  std::filesystem::path path_of(const std::string& network) const;

 private:
  std::filesystem::path dir_;
  LogFn warn_;
  std::map<std::string, NetworkPorts> by_network_;
};

nlohmann::json to_json(const NetworkPorts& p);
xml::Result<NetworkPorts> network_ports_from_json(const nlohmann::json& j);

}  // namespace vnet::ctl
