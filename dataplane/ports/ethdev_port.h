// vnet::dp — every port is an ethdev: creation, setup, teardown (DESIGN "Ports").
//
// Theory of operation
//   open_port() turns a PortSpec into a started ethdev:
//     vhost-user server/client  rte_dev_probe("net_vhost<N>,iface=PATH,client=0|1,queues=Q")
//                               (client mode reconnects on its own when QEMU restarts)
//     tap                       rte_dev_probe("net_tap<N>,iface=IFNAME")
//     af_packet                 rte_dev_probe("net_af_packet<N>,iface=IFNAME,qpairs=Q")
//     ring                      two rte_rings + rte_eth_from_rings (tests, gateway)
//     ethdev                    an existing port id, set up but not owned
//   then configure_and_start(): rx queues from our mbuf pool, one tx queue per
//   worker (queue id = worker index, so workers never share a tx queue), LSC
//   interrupts when the PMD has them, and a link-state callback that only
//   posts a PortEvent. close_port() stops, closes and detaches (rte_dev_remove)
//   what open_port created; the caller first removes the port from the
//   snapshot and waits a grace period, so no worker still polls it.
//   net_vhost guards its queues itself (allow_queuing/while_queuing), so a
//   guest disconnecting (destroy_device) while a worker polls is safe.
//   vhost-user client mode (client=1) relies on rte_vhost's reconnect: when
//   the peer (QEMU, or a virtio-user server) goes away, the vhost library
//   keeps retrying the connect and the port comes back up by itself.
//   Multiqueue: net_vhost offers Q queue pairs; the guest enables what it
//   negotiated and rx on a disabled queue returns nothing, so every queue is
//   polled. Server sockets get the PortSpec's owner/group/mode right after
//   they are created (apply_socket_ownership).
//   Ring ports: close_port first frees the mbufs still queued on both rings.
//
// Thread-safety
//   Control thread only. The link-state callback runs on DPDK's interrupt or
//   vhost-events thread and only pushes to the MPSC PortEvent ring.
#pragma once

#include <rte_mempool.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/config.h"
#include "dataplane/constants.h"
#include "dataplane/events.h"
#include "dataplane/rings.h"
#include "dataplane/status.h"

namespace vnet::dp {

// Link-state bookkeeping shared with DPDK's callback threads: every LSC
// interrupt is counted per port id (relaxed atomics, several writers) and
// posted on `ring`.
struct PortEventSink {
  TypedRing<PortEvent>* ring = nullptr;  // MPSC; may be null
  std::array<std::atomic<uint64_t>, kMaxPorts> link_up{};
  std::array<std::atomic<uint64_t>, kMaxPorts> link_down{};
  std::array<std::atomic<uint64_t>, kMaxPorts> queue_state{};  // vhost vring enable/disable
};

struct PortSetup {
  rte_mempool* pool = nullptr;
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;   // one per worker
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint32_t mtu = 0;         // best effort rte_eth_dev_set_mtu; 0 = leave as is
  TypedRing<PortEvent>* events = nullptr;  // link-state events (MPSC), may be null
  PortEventSink* sink = nullptr;           // counted events (used instead of `events`)
};

struct OpenedPort {
  uint16_t port_id = 0;
  PortKind kind = PortKind::kRing;
  std::string device;       // devargs / vdev name ("net_vhost3,iface=..." shows as net_vhost3)
  std::string socket_path;  // vhost-user
  std::string ring_in;      // kRing: rte_ring the peer enqueues frames to the switch into
  std::string ring_out;     // kRing: rte_ring the switch sends frames out on
  bool owned = true;        // close + detach on close_port (false for kEthdev)
  rte_ring* rx_ring = nullptr;  // kRing, owned
  rte_ring* tx_ring = nullptr;  // kRing, owned
  uint16_t rx_queues = 1;
};

// `index` makes vdev and ring names unique in the process; `socket_path`
// is the resolved vhost-user path.
Result<OpenedPort> open_port(const PortSpec& spec, uint32_t index, const std::string& socket_path,
                             const PortSetup& setup);
Status configure_and_start(uint16_t port_id, const PortSetup& setup);
void close_port(OpenedPort& port, TypedRing<PortEvent>* events);
// Frees the mbufs queued on a ring port's rings; returns how many.
uint32_t drain_ring_port(OpenedPort& port);
// chown/chmod of a vhost-user server socket per spec (no-op when unset).
Status apply_socket_ownership(const std::string& path, const PortSpec& spec);

// Link state as the PMD reports it now (no waiting).
bool port_link_up(uint16_t port_id) noexcept;

}  // namespace vnet::dp
