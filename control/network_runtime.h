// vnet::ctl — the hook between the network registry and whatever runs networks.
//
// Theory of operation
//   The registry (registry.h) owns definitions and lifecycle state; it calls a
//   NetworkRuntime to make a network actually run, stop or change:
//     start(def)   net-start / net-create / autostart. On error nothing runs
//                  and the registry leaves the network inactive.
//     stop(name)   net-destroy and daemon shutdown. Cannot fail: whatever is
//                  left is torn down best-effort and logged by the runtime.
//     update(def)  net-update --live with the complete new live definition.
//                  On error the runtime must keep running the previous one;
//                  the registry then keeps its previous live definition too.
//   The registry calls the runtime only after every check of its own passed,
//   and before it writes state, so a runtime failure changes nothing.
//   Ports and the FDB of an active network go through the runtime too:
//     add_port / remove_port      port-add / port-remove on an active network;
//                                 a failure leaves the network as it was.
//     ports / counters / fdb      port-list, port-stats, fdb-show
//     fdb_counts                  fdb-stats
//     fdb_flush / set_ageing      fdb-flush, fdb-setageing
//     set_mac_limit               fdb-setlimit
//   start() also brings up the network's persisted ports and ageing time,
//   read from the PortStore given with set_port_store() (none: no ports).
//   If one of them cannot be added, start() fails as a whole.
//   RecordingRuntime runs nothing and only remembers what it was told (and
//   can be told to fail, for tests); vnetd --no-dataplane uses it.
//   DataplaneRuntime (dataplane_runtime.h) runs networks on the DPDK switch.
//
// Thread-safety
//   Called from the control thread only. An implementation that hands work to
//   other threads does its own synchronisation.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "control/port_config.h"
#include "control/port_store.h"
#include "xml/network_xml.h"

namespace vnet::ctl {

class NetworkRuntime {
 public:
  virtual ~NetworkRuntime() = default;
  virtual xml::Status start(const xml::NetworkDef& def) = 0;
  virtual void stop(const std::string& name) = 0;
  virtual xml::Status update(const xml::NetworkDef& def) = 0;

  virtual xml::Status add_port(const std::string& network, const PortConfig& port) = 0;
  virtual xml::Status remove_port(const std::string& network, const std::string& port) = 0;
  // Every running port of the network, in no particular order.
  virtual xml::Result<std::vector<PortStatus>> ports(const std::string& network) = 0;
  virtual xml::Result<std::vector<PortCounters>> counters(const std::string& network) = 0;
  virtual xml::Result<std::vector<FdbRecord>> fdb(const std::string& network) = 0;
  virtual xml::Result<FdbCounts> fdb_counts(const std::string& network) = 0;
  // `port` empty: the whole network.
  virtual xml::Status fdb_flush(const std::string& network, const std::string& port) = 0;
  virtual xml::Status set_ageing(const std::string& network, uint32_t seconds) = 0;
  // The network's MAC limit (FDB entries it may learn), 1..UINT32_MAX.
  virtual xml::Status set_mac_limit(const std::string& network, uint32_t limit) = 0;

  void set_port_store(const PortStore* store) { port_store_ = store; }

 protected:
  // The persisted ports of `network` (none without a store).
  const NetworkPorts& stored_ports(const std::string& network) const;

 private:
  const PortStore* port_store_ = nullptr;
};

// Records state only; no packets move.
class RecordingRuntime final : public NetworkRuntime {
 public:
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

  bool is_running(const std::string& name) const { return running_.count(name) != 0; }
  size_t running_count() const { return running_.size(); }
  int start_calls() const { return start_calls_; }
  int stop_calls() const { return stop_calls_; }
  int update_calls() const { return update_calls_; }
  // Test hook: the next start()/update() fails with `msg` (empty: succeed).
  void fail_next_start(std::string msg) { fail_start_ = std::move(msg); }
  void fail_next_update(std::string msg) { fail_update_ = std::move(msg); }
  void fail_next_add_port(std::string msg) { fail_add_port_ = std::move(msg); }
  uint32_t ageing(const std::string& network) const;  // 0 when not running
  uint32_t mac_limit(const std::string& network) const;  // 0 when not running

 private:
  std::map<std::string, xml::NetworkDef> running_;  // name -> live definition
  int start_calls_ = 0;
  int stop_calls_ = 0;
  int update_calls_ = 0;
  std::string fail_start_;
  std::string fail_update_;
  std::string fail_add_port_;
  struct Running {
    std::map<std::string, PortConfig> ports;  // by name
    uint32_t ageing_s = 300;
    uint32_t mac_limit = 8192;
  };
  std::map<std::string, Running> state_;  // by network name, for running networks
};

}  // namespace vnet::ctl
