// vnet::ctl — the network's gateway service (dhcp::Gateway) plugged into the
// switch (dp::PuntHandler).
//
// Theory of operation
//   make_gateway_factory() returns the DataplaneRuntime's GatewayFactory: for
//   a definition with a host side (dhcp::network_has_gateway) it builds the
//   dhcp::GatewayConfig as libvirt builds dnsmasq's (dhcp/xml_config.h), with
//   leases in STATE/leases/NAME and the host's /etc/resolv.conf and
//   /etc/hosts, and wraps a dhcp::Gateway in a dp::PuntHandler. A network that
//   already has a live gateway (net-update) keeps it and gets the new
//   configuration through Gateway::update_config, so leases and pending DNS
//   queries survive. GatewayDirectory answers net-dhcp-leases from the live
//   gateways.
//
// Thread-safety
//   The factory and GatewayDirectory run on the control thread; the handler
//   runs on the dataplane's slow-path thread; Gateway::leases() and
//   update_config() are safe from any thread.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/dataplane_runtime.h"
#include "control/log.h"
#include "dhcp/gateway.h"

namespace vnet::ctl {

class GatewayPunt;

// The live gateways by network name.
class GatewayDirectory {
 public:
  // nullopt when the network has no running gateway.
  std::optional<std::vector<dhcp::LeaseInfo>> leases(const std::string& network,
                                                     std::optional<dhcp::Mac> mac) const;
  std::optional<dhcp::GatewayStats> stats(const std::string& network) const;

 private:
  friend GatewayFactory make_gateway_factory(const std::filesystem::path&, Logger&,
                                             std::shared_ptr<GatewayDirectory>);
  std::shared_ptr<GatewayPunt> find(const std::string& network) const;
  std::map<std::string, std::weak_ptr<GatewayPunt>> live_;
};

GatewayFactory make_gateway_factory(const std::filesystem::path& state_dir, Logger& log,
                                    std::shared_ptr<GatewayDirectory> directory);

// net-dhcp-leases rows: [{"expiry_time": epoch s (0 = never), "mac", "protocol",
// "ipaddr": "A.B.C.D/P", "hostname", "clientid"}]; mac "" = all.
nlohmann::json leases_json(const GatewayDirectory& directory, const std::string& network, const std::string& mac);

// gateway-stats: every counter of the network's gateway by name —
// {"counters","frame_errors","dhcp":{"outcomes","parse_errors","dropped_options"},
//  "dns":{"outcomes","parse_errors","truncated","forwarder","tcp"},"lease_file"};
// nullopt when the network has no running gateway.
std::optional<nlohmann::json> gateway_stats_json(const GatewayDirectory& directory, const std::string& network);

}  // namespace vnet::ctl
