// vnet::ctl — the port and FDB verbs: port-add, port-remove, port-list,
// port-stats, fdb-show, fdb-stats, fdb-flush, fdb-setageing, fdb-setlimit.
//
// Theory of operation
//   Ports belong to a network (by name or UUID, as every net-* verb) and are
//   kept in the PortStore; the NetworkRuntime runs them while the network is
//   active. Like libvirt's network ports (virsh net-port-create), a port can
//   only be added to an active network: on an inactive one port-add fails
//   with "network 'X' is not active" and nothing is stored. Once added, a
//   port stays defined with its network: net-destroy stops it, net-start and
//   a vnetd restart bring it back with the same socket and MAC. port-remove
//   works on inactive networks too (it only edits the stored list), so a port
//   that cannot come up any more can always be dropped.
//   Order of every change: check the request (complete_port, name unique in
//   the network, socket path and interface name unique on the host), call
//   the runtime, write the store; if the write fails the runtime call is
//   undone. So a failure changes nothing, in memory, on disk or in the
//   dataplane.
//   The registry knows nothing of ports: the dispatcher calls
//   network_gone() when a network disappears (undefine of an inactive one,
//   destroy of a transient one) and prune_unknown() at start-up.
//
// Thread-safety
//   Control thread only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "control/log.h"
#include "control/network_runtime.h"
#include "control/port_config.h"
#include "control/port_store.h"
#include "control/registry.h"

namespace vnet::ctl {

struct PortAdded {
  std::string network;  // the resolved network name
  PortConfig port;
};

struct AgeingSet {
  std::string network;
  uint32_t ageing_s = 0;
};

struct MacLimitSet {
  std::string network;
  uint32_t mac_limit = 0;
};

// The switch settings of a network (stored value or default), for fdb-show.
struct FdbSettings {
  uint32_t ageing_s = 300;
  uint32_t mac_limit = 8192;
};

class PortService {
 public:
  PortService(NetworkRegistry& registry, PortStore& store, NetworkRuntime& runtime, std::string run_dir,
              Logger& log);

  xml::Result<PortAdded> add(std::string_view network_ref, const PortRequest& req);
  xml::Result<PortAdded> remove(std::string_view network_ref, const std::string& port);
  // Stored ports merged with their runtime state; sorted by name.
  xml::Result<std::vector<PortStatus>> list(std::string_view network_ref);
  // All ports of an active network, or only `port`; sorted by name.
  xml::Result<std::vector<PortCounters>> stats(std::string_view network_ref, const std::string& port);
  xml::Result<std::vector<FdbRecord>> fdb_show(std::string_view network_ref);
  xml::Status fdb_flush(std::string_view network_ref, const std::string& port);
  xml::Result<AgeingSet> set_ageing(std::string_view network_ref, long long seconds);
  // fdb-setlimit: 1..kMaxMacLimit; persisted like the ageing time.
  xml::Result<MacLimitSet> set_mac_limit(std::string_view network_ref, long long limit);
  FdbSettings fdb_settings(const std::string& network) const;
  // fdb-stats: the FDB's counters (no dump; cheap at any size).
  xml::Result<FdbCounts> fdb_counts(std::string_view network_ref, std::string* resolved);

  size_t port_count(const std::string& network) const;
  // The network no longer exists: drop its stored ports.
  void network_gone(const std::string& network);
  // Start-up: drop stored ports of networks the registry does not know.
  void prune_unknown();

 private:
  // Resolves a reference to a network name; `need_active` refuses inactive ones.
  xml::Result<std::string> resolve(std::string_view ref, bool need_active) const;

  NetworkRegistry& registry_;
  PortStore& store_;
  NetworkRuntime& runtime_;
  std::string run_dir_;
  Logger& log_;
};

inline constexpr long long kMaxAgeingSeconds = 1000000;
inline constexpr long long kMaxMacLimit = 67108864;  // the largest vnetd --fdb-capacity

}  // namespace vnet::ctl
