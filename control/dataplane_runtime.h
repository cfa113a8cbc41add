// vnet::ctl — NetworkRuntime on the DPDK switch (dataplane/dataplane.h).
//
// Theory of operation
//   The control plane's NetworkDef and PortConfig are compiled into the
//   dataplane's plain structs:
//     compile_network()  name, mtu (<mtu size>, else 1500), the stored
//                        fdb-setageing value (else 300 s) and fdb-setlimit
//                        value (else 8192).
//     compile_port()     vhostuser server/client -> kVhostServer/kVhostClient
//                        with the socket path and queues; tap / afpacket /
//                        afxdp -> kTap / kAfPacket / kAfXdp with the
//                        interface name; isolation
//                        and VLAN policy by libvirt's precedence
//                        (port_config.h effective_vlan/effective_isolated):
//                        the port's own, its portgroup's, the network's.
//   A port is known to the dataplane as "NET/PORT" (port names are unique per
//   network, the dataplane's are global); internal ports the dataplane adds
//   itself (the gateway) have no '/' and show up in fdb-show as local.
//   start() adds the network, then every persisted port; if one fails the
//   network is removed again and start() reports which port and why.
//   A vhost-user server socket gets mode 0660 and the configured owner and
//   group right after the port comes up; if that fails the port is removed.
//   The gateway (dhcp::Gateway behind a dp::PuntHandler adapter in control/)
//   comes from the GatewayFactory given with set_gateway_factory(): start()
//   asks it for the definition's gateway before touching the dataplane and
//   attaches it (Dataplane::set_punt_handler) right after add_network, so
//   the gateway port exists before any guest port; update() asks again and
//   replaces (or detaches) the handler. A factory error fails start/update
//   and changes nothing. Without a factory networks have no gateway.
//   nat / route / open networks (l3_setup.h): after the gateway and the
//   ports, start() resolves the uplink (<forward dev>, else the default
//   uplink; <vnet:uplink>, else the kernel's address of that interface) and
//   hands the dataplane its L3Config (Dataplane::set_l3); a failure there
//   fails the start as a whole. Without any uplink device the network runs
//   without routing (logged). l3_query() serves nat-sessions / nat-stats.
//   vnetd constructs the runtime before it starts DPDK (the control socket
//   and the state lock come first) and attach()es the Dataplane once the EAL
//   is up; until then every call fails with "the dataplane is not running".
//
// Thread-safety
//   Control thread only (the Dataplane serialises its own callers).
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "control/l3_setup.h"
#include "control/log.h"
#include "control/network_runtime.h"
#include "control/uplink/vfio_binder.h"
#include "dataplane/dataplane.h"
#include "dataplane/punt.h"

namespace vnet::ctl {

dp::NetworkConfig compile_network(const xml::NetworkDef& def, const NetworkPorts& stored);
dp::PortSpec compile_port(const std::string& network, const PortConfig& port, const xml::NetworkDef& def);
// "NET/PORT".
std::string dataplane_port_name(const std::string& network, const std::string& port);

// The gateway of one network: its MAC and the handler answering for it.
struct GatewaySetup {
  std::array<uint8_t, 6> mac{};
  std::shared_ptr<dp::PuntHandler> handler;  // never null
};
// Builds the gateway for a definition; nullopt = the network has none.
using GatewayFactory = std::function<xml::Result<std::optional<GatewaySetup>>(const xml::NetworkDef&)>;

class DataplaneRuntime final : public NetworkRuntime {
 public:
  explicit DataplaneRuntime(Logger& log);
  void attach(dp::Dataplane* dataplane) { dp_ = dataplane; }
  void set_gateway_factory(GatewayFactory factory) { gateway_factory_ = std::move(factory); }
  // The uplink of nat/route/open networks without <forward dev> (vnetd --uplink); "" = none.
  void set_default_uplink(std::string dev) { default_uplink_ = std::move(dev); }
  // How the uplink address is found without <vnet:uplink> (tests inject their own).
  void set_kernel_query(uplink::KernelQuery query) { kernel_query_ = std::move(query); }
  // vnetd's run dir (default vhost-user uplink sockets) and --nat-sessions.
  void set_l3_options(L3Options options) { l3_options_ = std::move(options); }

  xml::Status start(const xml::NetworkDef& def) override;
  void stop(const std::string& name) override;
  xml::Status update(const xml::NetworkDef& def) override;
  xml::Status add_port(const std::string& network, const PortConfig& port) override;
  xml::Status remove_port(const std::string& network, const std::string& port) override;
  xml::Result<std::vector<PortStatus>> ports(const std::string& network) override;
  xml::Result<std::vector<PortCounters>> counters(const std::string& network) override;
  xml::Result<std::vector<FdbRecord>> fdb(const std::string& network) override;
  xml::Result<FdbCounts> fdb_counts(const std::string& network) override;
  xml::Status fdb_flush(const std::string& network, const std::string& port) override;
  xml::Status set_ageing(const std::string& network, uint32_t seconds) override;
  xml::Status set_mac_limit(const std::string& network, uint32_t limit) override;

  // nat-sessions / nat-stats (CommandDispatcher::L3Source) of a running network.
  xml::Result<nlohmann::json> l3_query(const std::string& cmd, const std::string& network, const nlohmann::json& args);

  dp::Dataplane* dataplane() { return dp_; }
  // The running definition, nullptr when the network does not run.
  const xml::NetworkDef* live_def(const std::string& network) const;

 private:
  xml::Status add_port_locked(const std::string& network, const PortConfig& port, const xml::NetworkDef& def);

  xml::Status check_running(const std::string& network) const;

  dp::Dataplane* dp_ = nullptr;  // not owned; null until attach()
  Logger& log_;
  xml::Result<std::optional<GatewaySetup>> make_gateway(const xml::NetworkDef& def) const;
  // Routing to the uplink of an L3 network (l3_setup.h); nothing for other networks.
  xml::Status start_l3(const xml::NetworkDef& def);

  std::string default_uplink_;
  L3Options l3_options_;
  std::map<std::string, uplink::EffectiveUplink> uplinks_;  // networks routing through an uplink
  std::map<std::string, uplink::VfioBinding> vfio_;         // PCI uplinks vnetd bound to vfio-pci
  void release_binding(const std::string& network, const uplink::VfioBinding& binding);
  uplink::KernelQuery kernel_query_ = uplink::discover_kernel_ipv4;

  GatewayFactory gateway_factory_;                 // empty: no gateways
  std::map<std::string, xml::NetworkDef> live_;  // running networks by name
  std::map<std::string, std::array<uint8_t, 6>> gateway_mac_;  // networks with a gateway attached
};

}  // namespace vnet::ctl
