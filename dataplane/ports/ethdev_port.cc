#include "dataplane/ports/ethdev_port.h"

#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace vnet::dp {

namespace {

Status dpdk_error(const std::string& what, int rc) {
  return Status{StatusCode::kInternal, what + ": " + rte_strerror(rc < 0 ? -rc : rc)};
}

// Runs on DPDK's interrupt thread or the vhost-events thread: post, nothing else.
int on_port_event(uint16_t port_id, rte_eth_event_type type, void* arg, void* /*ret*/) {
  auto* ring = static_cast<TypedRing<PortEvent>*>(arg);
  PortEvent ev;
  ev.port = port_id;
  if (type == RTE_ETH_EVENT_INTR_LSC) {
    ev.type = port_link_up(port_id) ? PortEventType::kLinkUp : PortEventType::kLinkDown;
  } else {
    ev.type = PortEventType::kQueueState;
  }
  ring->push(ev);  // a full ring loses the event; link state is re-read on demand
  return 0;
}

int on_port_event_counted(uint16_t port_id, rte_eth_event_type type, void* arg, void* /*ret*/) {
  auto* sink = static_cast<PortEventSink*>(arg);
  PortEvent ev;
  ev.port = port_id;
  if (type == RTE_ETH_EVENT_INTR_LSC) {
    ev.type = port_link_up(port_id) ? PortEventType::kLinkUp : PortEventType::kLinkDown;
  } else {
    ev.type = PortEventType::kQueueState;
  }
  if (port_id < kMaxPorts) {
    auto& c = ev.type == PortEventType::kLinkUp     ? sink->link_up[port_id]
              : ev.type == PortEventType::kLinkDown ? sink->link_down[port_id]
                                                    : sink->queue_state[port_id];
    c.fetch_add(1, std::memory_order_relaxed);
  }
  if (sink->ring != nullptr) sink->ring->push(ev);
  return 0;
}

}  // namespace

bool port_link_up(uint16_t port_id) noexcept {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port_id, &link) != 0) return false;
  return link.link_status == RTE_ETH_LINK_UP;
}

Status configure_and_start(uint16_t port_id, const PortSetup& setup) {
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(port_id, &info);
  if (rc != 0) return dpdk_error("rte_eth_dev_info_get", rc);
  if (setup.rx_queues > info.max_rx_queues || setup.tx_queues > info.max_tx_queues)
    return Status{StatusCode::kInvalidArgument,
                  "port supports " + std::to_string(info.max_rx_queues) + " rx / " +
                      std::to_string(info.max_tx_queues) + " tx queues, need " +
                      std::to_string(setup.rx_queues) + "/" + std::to_string(setup.tx_queues)};
  rte_eth_conf conf{};
  const bool lsc = info.dev_flags != nullptr && (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) != 0;
  conf.intr_conf.lsc = lsc && (setup.events != nullptr || setup.sink != nullptr) ? 1 : 0;
  if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  rc = rte_eth_dev_configure(port_id, setup.rx_queues, setup.tx_queues, &conf);
  if (rc != 0) return dpdk_error("rte_eth_dev_configure", rc);
  uint16_t rx_desc = setup.rx_desc;
  uint16_t tx_desc = setup.tx_desc;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rx_desc, &tx_desc);
  if (rc != 0) return dpdk_error("rte_eth_dev_adjust_nb_rx_tx_desc", rc);
  const int socket = rte_eth_dev_socket_id(port_id);
  for (uint16_t q = 0; q < setup.rx_queues; ++q) {
    rc = rte_eth_rx_queue_setup(port_id, q, rx_desc, socket < 0 ? SOCKET_ID_ANY : socket, nullptr,
                                setup.pool);
    if (rc != 0) return dpdk_error("rte_eth_rx_queue_setup", rc);
  }
  for (uint16_t q = 0; q < setup.tx_queues; ++q) {
    rc = rte_eth_tx_queue_setup(port_id, q, tx_desc, socket < 0 ? SOCKET_ID_ANY : socket, nullptr);
    if (rc != 0) return dpdk_error("rte_eth_tx_queue_setup", rc);
  }
  if (setup.mtu != 0) (void)rte_eth_dev_set_mtu(port_id, static_cast<uint16_t>(setup.mtu));
  if (setup.sink != nullptr) {
    rte_eth_dev_callback_register(port_id, RTE_ETH_EVENT_INTR_LSC, on_port_event_counted, setup.sink);
    rte_eth_dev_callback_register(port_id, RTE_ETH_EVENT_QUEUE_STATE, on_port_event_counted, setup.sink);
  } else if (setup.events != nullptr) {
    rte_eth_dev_callback_register(port_id, RTE_ETH_EVENT_INTR_LSC, on_port_event, setup.events);
    rte_eth_dev_callback_register(port_id, RTE_ETH_EVENT_QUEUE_STATE, on_port_event, setup.events);
  }
  rc = rte_eth_dev_start(port_id);
  if (rc != 0) return dpdk_error("rte_eth_dev_start", rc);
  return {};
}

namespace {

Result<OpenedPort> probe_vdev(const std::string& name, const std::string& args, PortKind kind) {
  const std::string devargs = name + "," + args;
  const int rc = rte_dev_probe(devargs.c_str());
  if (rc != 0) return dpdk_error("rte_dev_probe(" + devargs + ")", rc);
  uint16_t id = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) {
    rte_eal_hotplug_remove("vdev", name.c_str());
    return Status{StatusCode::kInternal, "no ethdev for " + name};
  }
  OpenedPort p;
  p.port_id = id;
  p.kind = kind;
  p.device = name;
  return p;
}

}  // namespace

Result<OpenedPort> open_port(const PortSpec& spec, uint32_t index, const std::string& socket_path,
                             const PortSetup& setup) {
  const std::string idx = std::to_string(index);
  const uint16_t qpairs = std::max<uint16_t>({spec.queues, setup.rx_queues, setup.tx_queues, 1});
  Result<OpenedPort> opened = Status{StatusCode::kInternal, "unreachable"};
  switch (spec.kind) {
    case PortKind::kVhostServer:
    case PortKind::kVhostClient: {
      if (socket_path.empty()) return Status{StatusCode::kInvalidArgument, "vhost-user: no socket path"};
      if (socket_path.find(',') != std::string::npos)
        return Status{StatusCode::kInvalidArgument, "vhost-user: ',' in socket path"};
      const bool client = spec.kind == PortKind::kVhostClient;
      opened = probe_vdev("net_vhost" + idx,
                          "iface=" + socket_path + ",client=" + (client ? "1" : "0") +
                              ",queues=" + std::to_string(qpairs),
                          spec.kind);
      if (opened) opened->socket_path = socket_path;
      break;
    }
    case PortKind::kTap:
      if (spec.ifname.empty()) return Status{StatusCode::kInvalidArgument, "tap: no ifname"};
      opened = probe_vdev("net_tap" + idx, "iface=" + spec.ifname, spec.kind);
      break;
    case PortKind::kAfPacket:
      if (spec.ifname.empty()) return Status{StatusCode::kInvalidArgument, "af_packet: no ifname"};
      opened = probe_vdev("net_af_packet" + idx,
                          "iface=" + spec.ifname + ",qpairs=" + std::to_string(qpairs), spec.kind);
      break;
    case PortKind::kAfXdp:
      if (spec.ifname.empty()) return Status{StatusCode::kInvalidArgument, "af_xdp: no ifname"};
      opened = probe_vdev("net_af_xdp" + idx,
                          "iface=" + spec.ifname + ",start_queue=0,queue_count=" + std::to_string(qpairs),
                          spec.kind);
      break;
    case PortKind::kPci: {
      if (spec.pci_address.empty()) return Status{StatusCode::kInvalidArgument, "pci: no address"};
      // EAL must have the PCI bus (vnetd starts it without --no-pci when a
      // network has a PCI uplink); the device must already be on vfio-pci.
      const int rc = rte_dev_probe(spec.pci_address.c_str());
      if (rc != 0) return dpdk_error("rte_dev_probe(" + spec.pci_address + ")", rc);
      uint16_t id = 0;
      if (rte_eth_dev_get_port_by_name(spec.pci_address.c_str(), &id) != 0) {
        rte_eal_hotplug_remove("pci", spec.pci_address.c_str());
        return Status{StatusCode::kNotFound, "no ethdev for PCI device " + spec.pci_address};
      }
      OpenedPort p;
      p.port_id = id;
      p.kind = spec.kind;
      p.device = spec.pci_address;
      opened = std::move(p);
      break;
    }
    case PortKind::kRing: {
      OpenedPort p;
      p.kind = spec.kind;
      p.ring_in = "vnet_r" + idx + "_in";
      p.ring_out = "vnet_r" + idx + "_out";
      // in: the peer produces, one worker consumes. out: every worker produces.
      p.rx_ring = rte_ring_create(p.ring_in.c_str(), 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      p.tx_ring = rte_ring_create(p.ring_out.c_str(), 4096, SOCKET_ID_ANY, RING_F_SC_DEQ);
      if (p.rx_ring == nullptr || p.tx_ring == nullptr) {
        rte_ring_free(p.rx_ring);
        rte_ring_free(p.tx_ring);
        return Status{StatusCode::kResourceExhausted, "ring port: rte_ring_create failed"};
      }
      std::vector<rte_ring*> tx(setup.tx_queues, p.tx_ring);
      const std::string name = "vnet_r" + idx;
      const int id = rte_eth_from_rings(name.c_str(), &p.rx_ring, 1, tx.data(), setup.tx_queues,
                                        static_cast<unsigned>(rte_socket_id()));
      if (id < 0) {
        rte_ring_free(p.rx_ring);
        rte_ring_free(p.tx_ring);
        return Status{StatusCode::kInternal, "rte_eth_from_rings failed"};
      }
      p.port_id = static_cast<uint16_t>(id);
      p.device = "net_ring_" + name;
      opened = std::move(p);
      break;
    }
    case PortKind::kEthdev: {
      if (!rte_eth_dev_is_valid_port(spec.ethdev_port))
        return Status{StatusCode::kNotFound, "no ethdev port " + std::to_string(spec.ethdev_port)};
      OpenedPort p;
      p.kind = spec.kind;
      p.port_id = spec.ethdev_port;
      p.owned = false;
      char name[RTE_ETH_NAME_MAX_LEN] = {};
      rte_eth_dev_get_name_by_port(p.port_id, name);
      p.device = name;
      opened = std::move(p);
      break;
    }
  }
  if (!opened) return opened;
  PortSetup s = setup;
  if (spec.kind == PortKind::kRing) s.rx_queues = 1;
  opened->rx_queues = s.rx_queues;
  if (Status st = configure_and_start(opened->port_id, s); !st) {
    close_port(opened.value(), setup.events);
    return st;
  }
  return opened;
}

uint32_t drain_ring_port(OpenedPort& port) {
  uint32_t n = 0;
  for (rte_ring* r : {port.rx_ring, port.tx_ring}) {
    if (r == nullptr) continue;
    void* obj = nullptr;
    while (rte_ring_dequeue(r, &obj) == 0) {
      rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
      ++n;
    }
  }
  return n;
}

Status apply_socket_ownership(const std::string& path, const PortSpec& spec) {
  if (spec.socket_uid || spec.socket_gid) {
    const auto uid = spec.socket_uid ? static_cast<uid_t>(*spec.socket_uid) : static_cast<uid_t>(-1);
    const auto gid = spec.socket_gid ? static_cast<gid_t>(*spec.socket_gid) : static_cast<gid_t>(-1);
    if (::chown(path.c_str(), uid, gid) != 0)
      return Status{StatusCode::kInternal, "chown " + path + ": " + std::strerror(errno)};
  }
  if (spec.socket_mode && ::chmod(path.c_str(), static_cast<mode_t>(*spec.socket_mode & 07777)) != 0)
    return Status{StatusCode::kInternal, "chmod " + path + ": " + std::strerror(errno)};
  return {};
}

void close_port(OpenedPort& port, TypedRing<PortEvent>* events) {
  if (!rte_eth_dev_is_valid_port(port.port_id)) return;
  if (events != nullptr) {
    rte_eth_dev_callback_unregister(port.port_id, RTE_ETH_EVENT_INTR_LSC, on_port_event, events);
    rte_eth_dev_callback_unregister(port.port_id, RTE_ETH_EVENT_QUEUE_STATE, on_port_event, events);
  }
  // (void*)-1: whatever sink it was registered with.
  rte_eth_dev_callback_unregister(port.port_id, RTE_ETH_EVENT_INTR_LSC, on_port_event_counted,
                                  reinterpret_cast<void*>(-1));
  rte_eth_dev_callback_unregister(port.port_id, RTE_ETH_EVENT_QUEUE_STATE, on_port_event_counted,
                                  reinterpret_cast<void*>(-1));
  (void)rte_eth_dev_stop(port.port_id);
  if (!port.owned) return;
  rte_eth_dev_info info{};
  rte_device* dev = nullptr;
  if (rte_eth_dev_info_get(port.port_id, &info) == 0) dev = info.device;
  (void)rte_eth_dev_close(port.port_id);
  if (dev != nullptr) (void)rte_dev_remove(dev);
  drain_ring_port(port);
  rte_ring_free(port.rx_ring);
  rte_ring_free(port.tx_ring);
  port.rx_ring = nullptr;
  port.tx_ring = nullptr;
}

}  // namespace vnet::dp
