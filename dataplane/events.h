// vnet::dp — messages carried by the typed rings (STYLE 5).
//
// Theory of operation
//   LearnEvent      worker -> slow path, one SPSC ring per worker: "source MAC
//                   seen on this port and the FDB does not say so".
//   SlowPathCommand control -> slow path, SPSC: FDB flush and dump requests,
//                   gateway attach/detach; the slow path acknowledges by
//                   storing the command's seq into its completed counter.
//   WorkerCommand   control -> worker, SPSC per worker: counter resets, NAT
//                   session queries (the worker owns its session tables).
//   ResolveRequest  worker -> slow path, SPSC per worker: "no neighbour
//                   entry for this address" (l3.h); the slow path ARPs.
//   PortEvent       DPDK callback threads -> control, MPSC: link state.
//
// Thread-safety
//   Plain values copied through rings.
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/fdb.h"

namespace vnet::dp {

struct GatewayBinding;  // slow_path.h
struct L3Binding;       // l3.h
struct NatQuery;        // l3.h

struct LearnEvent {
  FdbKey key;         // network, VLAN, source MAC
  uint16_t port = 0;  // rx port
  uint16_t pad = 0;
};
static_assert(sizeof(LearnEvent) == 20);

enum class SlowPathOp : uint32_t {
  kFlushNetwork,      // network
  kFlushPort,         // port
  kFlushNetworkPort,  // network + port
  kFlushAll,
  kDump,              // network (or all when all_networks), into *dump_out
  kAttachGateway,     // *gateway: start draining/ticking it, install its static MAC
  kDetachGateway,     // network: stop using its gateway (binding may be freed after ack)
  kAttachL3,          // *l3: start ARP/neighbour service for the network's uplink
  kDetachL3,          // network: stop it (binding may be freed after ack)
};

struct SlowPathCommand {
  SlowPathOp op = SlowPathOp::kFlushAll;
  uint16_t network = 0;
  uint16_t port = 0;
  uint32_t all_networks = 0;
  uint32_t pad = 0;
  uint64_t seq = 0;                          // completion sequence number
  std::vector<FdbEntry>* dump_out = nullptr; // kDump: filled by the slow path
  GatewayBinding* gateway = nullptr;         // kAttachGateway: owned by the facade
  L3Binding* l3 = nullptr;                   // kAttachL3: owned by the facade
};

enum class WorkerOp : uint32_t {
  kResetPortCounters,  // port
  kNatQuery,           // *query: read this worker's NAT sessions (run_nat_query)
};

struct WorkerCommand {
  WorkerOp op = WorkerOp::kResetPortCounters;
  uint16_t port = 0;
  uint16_t pad = 0;
  NatQuery* query = nullptr;  // kNatQuery: owned by the caller until done
};

struct ResolveRequest {
  uint16_t network = 0;
  uint16_t pad = 0;
  uint32_t ip = 0;  // host order
};
static_assert(sizeof(ResolveRequest) == 8);

enum class PortEventType : uint32_t {
  kLinkUp,
  kLinkDown,
  kQueueState,  // vhost vring enabled/disabled
};

struct PortEvent {
  PortEventType type = PortEventType::kLinkDown;
  uint16_t port = 0;
  uint16_t pad = 0;
};

}  // namespace vnet::dp
