// vnet::dp — the dataplane facade the control plane drives.
//
// Theory of operation
//   A Dataplane owns everything of the switch: the mbuf pool, the FDB, the
//   snapshot publisher, the rings, the PMD workers (EAL lcores) and the
//   slow-path thread, and the ports. The control plane describes networks
//   (NetworkConfig) and ports (PortSpec); every change rebuilds a complete
//   ConfigSnapshot from the facade's model and publishes it (STYLE 4). A
//   change that fails validation changes nothing.
//   Port removal: publish a snapshot without the port, wait one grace period
//   (no worker polls or holds packets for it any more), stop/close/detach the
//   ethdev, then flush its FDB entries (slow-path command, waited for).
//   fdb_show/fdb_flush are commands run by the slow path, the FDB's only
//   writer; the facade waits (bounded) for their completion.
//   Statistics are sums of per-worker single-writer counters, read without
//   stopping anybody.
//   Gateway (punt.h): set_punt_handler() gives a network an internal
//   ring-backed port named "gateway" (kGatewayPortName): never isolated, not
//   in list_ports(), not removable by remove_port(), reachable by every
//   guest on every VLAN; the gateway MAC is static on it. The slow path
//   drains it into the PuntHandler and injects the handler's frames back.
//   Its counters: port_stats("gateway", network) (or port_stats("gateway")
//   when one network has a gateway) — rx = frames injected into the switch,
//   tx = frames the switch sent to the gateway, punted/injected, and drops
//   (punt_handler_error, inject_*); drop_totals() includes them.
//   MTU: NetworkConfig::mtu is enforced on every frame entering the switch
//   (guests and gateway alike; all ports of a network share it, so egress
//   needs no second check) and set on each port's ethdev (best effort; a
//   vhost-user guest learns it from QEMU's host_mtu, see PortInfo::guest_mtu).
//   Jumbo frames travel as mbuf chains of 2 KB segments.
//   Link state: PortInfo::link_up is read from the PMD; every link-state
//   interrupt is counted (PortStats::link_up_events/link_down_events) and
//   posted for poll_port_events().
//   L3 (l3.h): set_l3() gives a network with a gateway an uplink port (its
//   own name, not in list_ports(): afpacket, tap, vhost-user or an ethdev;
//   one tx queue per worker — the slow path's ARP goes out through worker 0's
//   inject ring) and routes guests' off-network traffic through it
//   by NAT (mode nat) or plainly (route/open). The neighbour table, the
//   per-worker NAT workers and counters live in an L3 runtime owned here;
//   the snapshot points to them. clear_l3() (also run by remove_network and
//   by detaching the gateway) publishes a snapshot without them, detaches the
//   slow path, waits a grace period, then closes the uplink and frees them.
//   Replacing an L3 configuration starts from empty session and neighbour
//   tables. nat_sessions()/l3_stats() ask each worker for its sessions
//   through its command ring (the worker owns its table) and wait (bounded).
//
// Thread-safety
//   Public methods may be called from any control-side thread; they are
//   serialised by an internal mutex (never taken by workers or the slow path).
//   poll_port_events() is the only consumer of port events.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dataplane/clock.h"
#include "dataplane/config.h"
#include "dataplane/drop_reasons.h"
#include "dataplane/eal.h"
#include "dataplane/events.h"
#include "dataplane/neighbor.h"
#include "dataplane/ports/ethdev_port.h"
#include "dataplane/punt.h"
#include "dataplane/status.h"

struct rte_mempool;

namespace vnet::dp {

class Fdb;
class SlowPath;
struct GatewayBinding;
struct L3Runtime;
class SnapshotPublisher;
class Worker;

struct DataplaneOptions {
  std::string name = "vnet";            // prefix of DPDK object names (unique per process)
  uint16_t workers = 0;                 // PMD workers; 0 = one per EAL worker lcore
  std::vector<unsigned> worker_lcores;  // EAL lcore ids; empty = the first `workers` worker lcores
  uint32_t mbufs = 16383;               // mbuf pool size (2 KB data room; jumbo = chains)
  uint32_t fdb_capacity = 65536;        // FDB entries across all networks
  std::string run_dir = "/run/vnet";    // vhost-user sockets: <run_dir>/<network>/<port>.sock
  const Clock* clock = nullptr;         // FDB ageing time source; null = SteadyClock
  uint32_t worker_idle_sleep_us = 0;    // >0: PMDs sleep when idle (small test machines)
  bool flow_cache = true;               // per-worker microflow cache in front of the L2 stages
  std::chrono::milliseconds grace_timeout{3000};  // grace periods and slow-path commands
  uint64_t ageing_sweep_ns = 1'000'000'000ull;     // FDB ageing sweep period
};

// A row of `nat-sessions`.
struct NatSessionRow {
  std::string proto;    // "tcp", "udp", "icmp", or the protocol number
  std::string inside;   // "10.0.0.5:3456" (guest address:port / ICMP id)
  std::string outside;  // translated address:port
  std::string peer;     // remote address:port
  std::string state;    // TCP state, or "" for other protocols
  uint64_t expires_in_s = 0;
  uint16_t worker = 0;  // owning PMD worker
};

struct PortInfo {
  std::string name;
  std::string network;
  PortKind kind = PortKind::kVhostServer;
  uint16_t port_id = 0;      // DPDK ethdev port id
  std::string device;        // e.g. net_vhost3
  std::string socket_path;   // vhost-user
  std::string ifname;        // tap / af_packet
  std::string ring_in;       // kRing: enqueue frames to the switch here
  std::string ring_out;      // kRing: frames from the switch appear here
  bool isolated = false;
  VlanConfig vlan;
  bool link_up = false;
  uint16_t worker = 0;       // PMD worker polling it
  bool internal = false;     // the network's gateway port (gateway_port())
  uint16_t queues = 1;       // rx queues polled (vhost-user: queue pairs offered)
  uint32_t guest_mtu = 0;    // vhost-user: MTU QEMU announced (VIRTIO_NET_F_MTU); 0 = none
};

// One PMD worker's time (pmd-stats; WorkerCounters): TSC cycles of the
// iterations that took frames (busy) and of those that found none (idle).
struct PmdStats {
  uint16_t worker = 0;
  unsigned lcore = 0;
  int cpu = -1;            // the lcore's CPU (-1: not pinned to one)
  uint64_t loops = 0;
  uint64_t busy_loops = 0;
  uint64_t frames = 0;     // rx, hand-off and inject frames of busy iterations
  uint64_t busy_cycles = 0;
  uint64_t idle_cycles = 0;
  uint64_t tsc_hz = 0;
  // The flow cache (WorkerCounters::fc_*).
  uint64_t fc_lookups = 0;
  uint64_t fc_hits = 0;
  uint64_t fc_inserts = 0;
  uint64_t fc_declined = 0;
  uint64_t fc_invalidations = 0;
  uint64_t fc_bypasses = 0;
  uint64_t fc_bypassed = 0;
};

struct PortStats {
  uint64_t rx_pkts = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_pkts = 0;
  uint64_t tx_bytes = 0;
  uint64_t flow_cache_hits = 0;   // rx frames switched by a worker's flow cache
  DropTotals drops{};  // by DropReason
  uint64_t punted = 0;            // gateway port: frames handed to the PuntHandler
  uint64_t injected = 0;          // gateway port: handler frames injected into the switch
  uint64_t link_up_events = 0;    // link-state interrupts reporting up
  uint64_t link_down_events = 0;  // link-state interrupts reporting down

  uint64_t drop(DropReason r) const { return drops[static_cast<size_t>(r)]; }
};

// A row of `fdb-show`.
struct FdbRow {
  std::string network;
  uint16_t vlan = 0;       // 0 = untagged
  std::string mac;         // "52:54:00:..."
  std::string port;        // port name
  uint16_t port_id = 0;
  uint64_t age_s = 0;      // seconds since last seen
  bool is_static = false;  // the gateway MAC: never aged, never moved
};

// A network's FDB counters (like `ovs-appctl fdb/stats-show`).
struct FdbStats {
  uint64_t entries = 0;     // MACs in the table now (the gateway's static entry included)
  uint64_t learned = 0;     // entries added
  uint64_t moved = 0;       // entries that moved to another port
  uint64_t aged = 0;        // entries removed by ageing
  uint64_t limit_hits = 0;  // stations not learned: MAC limit reached or table full
};

// L3 counters of a network, summed over workers and the slow path.
struct L3Stats {
  std::vector<std::pair<std::string, uint64_t>> counters;  // NAT reasons/events, L3 events -> count
  uint64_t sessions = 0;     // live NAT sessions (all workers)
  PortStats uplink;          // the uplink port's counters
  std::string next_hop_mac;  // "" while unresolved (or no next hop)
  uint64_t neighbors = 0;    // neighbour table entries
};

class Dataplane {
 public:
  // Starts the EAL (see eal.h), then create(). The EAL is cleaned up with
  // the Dataplane. `dp.workers` defaults to the PMD lcores started.
  static Result<std::unique_ptr<Dataplane>> init(const EalOptions& eal, DataplaneOptions dp = {});
  // The EAL is already running (tests, or a caller that started it).
  static Result<std::unique_ptr<Dataplane>> create(DataplaneOptions options);
  ~Dataplane();
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  // ---- networks ----
  Status add_network(const NetworkConfig& config);
  Status update_network(const NetworkConfig& config);  // by name: mtu, mac_limit, ageing
  Status remove_network(std::string_view name);        // removes its ports first
  Status set_ageing(std::string_view network, uint32_t seconds);
  std::vector<NetworkConfig> list_networks() const;

  // ---- ports ----
  Result<PortInfo> add_port(std::string_view network, const PortSpec& spec);
  Status update_port(std::string_view port, bool isolated, const VlanConfig& vlan);
  Status remove_port(std::string_view port);
  std::vector<PortInfo> list_ports(std::string_view network = {}) const;
  Result<PortStats> port_stats(std::string_view port) const;
  // A port of `network`; kGatewayPortName names the network's gateway port.
  Result<PortStats> port_stats(std::string_view port, std::string_view network) const;
  // Every PMD worker's counters (empty when the dataplane is not started).
  std::vector<PmdStats> pmd_stats() const;

  // ---- gateway (punt.h) ----
  static constexpr std::string_view kGatewayPortName = "gateway";  // reserved port name
  // Attaches `handler` as the network's gateway with MAC `gateway_mac`
  // (creating the gateway port), replaces an attached one, or detaches it
  // (handler == nullptr; removes the port, drops frames still queued on it
  // as port_removed). The handler is released after the slow path stopped
  // using it.
  Status set_punt_handler(std::string_view network, const std::array<uint8_t, 6>& gateway_mac,
                          std::shared_ptr<PuntHandler> handler);
  Result<PortInfo> gateway_port(std::string_view network) const;

  // ---- L3: uplink, NAT / route / open (l3.h) ----
  // Needs the network's gateway (set_punt_handler) first; opens the uplink
  // port; replaces a previous L3 configuration.
  Status set_l3(std::string_view network, const L3Config& config);
  // Closes the uplink (no-op without L3); also done by remove_network and by
  // detaching the gateway.
  Status clear_l3(std::string_view network);
  Result<std::vector<NatSessionRow>> nat_sessions(std::string_view network, size_t limit = 10000);
  Result<L3Stats> l3_stats(std::string_view network);
  Result<PortInfo> uplink_port(std::string_view network) const;
  // The network's neighbour table (IPv4 -> MAC), for diagnostics and tests.
  Result<std::vector<NeighborEntry>> neighbors(std::string_view network) const;

  // ---- FDB ----
  Result<std::vector<FdbRow>> fdb_show(std::string_view network);
  // Counters only: cheap at any table size (no dump).
  Result<FdbStats> fdb_stats(std::string_view network) const;
  // FDB entries on each port of `network` (by port name), without a dump.
  std::map<std::string, uint64_t> fdb_port_entries(std::string_view network) const;
  // Flushes a network's entries, or only those of `port` when given.
  Status fdb_flush(std::string_view network, std::string_view port = {});

  // ---- observability ----
  // Drops by reason over all ports and workers, plus the slow path's (fdb_full).
  DropTotals drop_totals() const;
  // Drains link-state events; returns how many were delivered.
  size_t poll_port_events(const std::function<void(const PortEvent&, std::string_view port)>& fn);
  uint16_t worker_count() const noexcept { return worker_count_; }
  // Mbufs of the dataplane's pool not free (in rings, queues, flight).
  uint32_t mbufs_in_use() const;

 private:
  struct NetworkRecord {
    uint16_t id = 0;
    NetworkConfig config;
    FdbStats fdb_base;  // the id's FDB counters when this network was added (ids are reused)
  };
  FdbStats fdb_counters_locked(uint16_t id) const;
  struct PortRecord {
    PortSpec spec;
    std::string network;
    OpenedPort opened;
    uint16_t worker = 0;
    PortStats base;  // counters of the port id when this port was added
  };
  struct GatewayRecord {
    PortRecord port;
    std::unique_ptr<GatewayBinding> binding;  // read by the slow path while attached
  };
  struct L3Record {
    L3Config config;
    PortRecord uplink;
    std::unique_ptr<L3Runtime> rt;  // read by workers and the slow path while published/attached
  };

  explicit Dataplane(DataplaneOptions options);
  Status start();
  void stop();
  Status publish_locked();
  Status wait_grace_locked();
  Status run_slow_path_command_locked(SlowPathCommand cmd);
  Status remove_ports_locked(const std::vector<std::string>& names);
  PortInfo info_locked(const PortRecord& r) const;
  PortStats sum_counters_locked(uint16_t port_id) const;
  PortStats port_stats_locked(const PortRecord& r) const;
  uint16_t least_loaded_worker_locked() const;
  Status detach_gateway_locked(std::string_view network);
  Status clear_l3_locked(std::string_view network);
  Status check_l3_config_locked(std::string_view network, const L3Config& c) const;
  // Runs a NAT query on every worker; the queries stay alive until answered.
  Status query_nat_locked(const L3Record& rec, size_t limit_per_worker,
                          std::vector<std::shared_ptr<NatQuery>>& out);
  uint32_t close_port_locked(PortRecord& r);  // returns mbufs dropped as port_removed
  void apply_mtu_locked(std::string_view network, uint32_t mtu);
  std::string resolve_socket_path(std::string_view network, const PortSpec& spec) const;

  DataplaneOptions options_;
  uint16_t worker_count_ = 0;
  std::vector<unsigned> lcores_;
  bool owns_eal_ = false;
  SteadyClock steady_clock_;
  const Clock* clock_ = nullptr;

  mutable std::mutex mu_;  // control-side calls only
  rte_mempool* pool_ = nullptr;
  std::unique_ptr<SnapshotPublisher> publisher_;
  std::unique_ptr<Fdb> fdb_;
  std::vector<std::unique_ptr<TypedRing<LearnEvent>>> learn_rings_;
  std::vector<std::unique_ptr<TypedRing<WorkerCommand>>> worker_cmds_;
  std::unique_ptr<TypedRing<SlowPathCommand>> slow_cmds_;
  std::unique_ptr<TypedRing<PortEvent>> port_events_;
  std::unique_ptr<PortEventSink> event_sink_;  // link counters, shared with DPDK callback threads
  std::vector<std::unique_ptr<Worker>> workers_;
  struct LaunchArg {
    Worker* worker;
    const std::atomic<bool>* stop;
  };
  static int worker_main(void* arg);
  std::vector<LaunchArg> launch_args_;  // one per worker, stable while they run
  std::unique_ptr<SlowPath> slow_path_;
  std::thread slow_thread_;
  std::atomic<bool> stop_{false};
  bool running_ = false;

  std::map<std::string, NetworkRecord, std::less<>> networks_;
  std::map<std::string, PortRecord, std::less<>> ports_;
  std::map<std::string, GatewayRecord, std::less<>> gateways_;  // by network name
  std::map<std::string, L3Record, std::less<>> l3_;              // by network name
  std::vector<rte_ring*> handoff_rings_;  // L3: one MP/SC mbuf ring per worker
  rte_ring* punt_ring_ = nullptr;
  rte_ring* inject_ring_ = nullptr;       // slow path -> worker 0: frames to transmit (uplink ARP)         // L3: uplink ARP, workers -> slow path
  std::vector<std::unique_ptr<TypedRing<ResolveRequest>>> resolve_rings_;  // per worker
  std::vector<std::shared_ptr<NatQuery>> abandoned_queries_;  // timed out: a worker may still answer
  DropCounters control_drops_;  // port_removed; written under mu_
  std::vector<bool> network_ids_used_;
  uint64_t generation_ = 0;
  uint32_t next_port_index_ = 0;
  uint64_t next_seq_ = 0;
  std::vector<FdbEntry> dump_buf_;  // written by the slow path during kDump
};

}  // namespace vnet::dp
