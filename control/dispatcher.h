// vnet::ctl — turns control-socket requests into registry calls.
//
// Theory of operation
//   handle_line() parses one request line (protocol.h), checks its arguments,
//   calls the NetworkRegistry and returns one response line. Every failure -
//   malformed JSON, an unknown command, a missing or mistyped argument, a
//   refused operation, even an unexpected exception - becomes
//   {"ok":false,"error":"..."}; the dispatcher never throws and never leaves
//   the registry half-changed (the registry guarantees the latter).
//   The command set and each command's arguments and result are listed in
//   control/PROTOCOL.md; keep the two in sync. The port and FDB commands
//   (port-*, fdb-*) need a PortService; without one they fail with
//   "ports are not supported by this daemon".
//
// Thread-safety
//   Control thread only (it drives the registry).
#pragma once

#include <functional>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/protocol.h"
#include "control/port_service.h"
#include "control/registry.h"

namespace vnet::ctl {

class CommandDispatcher {
 public:
  explicit CommandDispatcher(NetworkRegistry& registry, PortService* ports = nullptr);

  // One request line in, one response line (ending in '\n') out.
  std::string handle_line(std::string_view line);
  // The same for an already parsed request; returns the response line.
  std::string handle(const Request& req);

  // net-dhcp-leases: the leases of an active network's gateway as a JSON array
  // (empty when the network has none), for an optional MAC ("" = all).
  using LeaseSource = std::function<nlohmann::json(const std::string& network, const std::string& mac)>;
  void set_lease_source(LeaseSource source) { leases_ = std::move(source); }
  // nat-sessions / nat-stats of an active network: the routing state towards
  // its uplink as JSON, or an error message. Unset: "no dataplane".
  using L3Source = std::function<xml::Result<nlohmann::json>(const std::string& cmd, const std::string& network,
                                                             const nlohmann::json& args)>;
  void set_l3_source(L3Source source) { l3_ = std::move(source); }
  // gateway-stats: the counters of an active network's gateway (nullopt: none).
  using GatewayStatsSource = std::function<std::optional<nlohmann::json>(const std::string& network)>;
  void set_gateway_stats_source(GatewayStatsSource source) { gateway_stats_ = std::move(source); }
  // pmd-stats: every PMD worker's counters as a JSON array. Unset: "no dataplane".
  using PmdStatsSource = std::function<nlohmann::json()>;
  void set_pmd_stats_source(PmdStatsSource source) { pmd_stats_ = std::move(source); }

 private:
  nlohmann::json run(const Request& req);  // throws on error; handle() catches
  nlohmann::json run_port_command(const Request& req);
  nlohmann::json net_info(const std::string& ref, LookupBy by);
  void forget_if_gone(const std::string& name);

  NetworkRegistry& registry_;
  PortService* ports_;
  LeaseSource leases_;
  L3Source l3_;
  GatewayStatsSource gateway_stats_;
  PmdStatsSource pmd_stats_;
};

}  // namespace vnet::ctl
