// vnet::dp — a PMD worker: the fast-path loop on one lcore (DESIGN "Packet path").
//
// Theory of operation
//   poll_once() is one loop iteration:
//     1. snap = publisher.load()            (once per iteration)
//     2. drain this worker's command ring   (counter resets)
//     2b. L3: packets other workers handed over (l3.h), NAT session expiry
//     3. for each rx queue snap assigns to this worker: rx burst (<= 32),
//        count rx, run_pipeline, dispatch
//     4. flush tx buffers                   (nothing is held across iterations)
//     5. quiescent(reader id = worker index)
//   Because of 4 and 5, once a grace period has passed after a snapshot
//   without port P was published, no worker holds a packet for P nor uses
//   P's queues: the port can be stopped and detached.
//   The TSC is read once at the end of every iteration: the cycles since the
//   previous read are the iteration's, busy or idle (pmd-stats).
//   The stages' time (ctx.now_ns: ageing, NAT timeouts) comes from the Clock.
//   With clock_refresh_cycles = 0 it is read every iteration (tests drive a
//   fake clock so); vnetd reads it again only when that many TSC cycles
//   passed since the last read (about 100 us): under a hypervisor's
//   kvm-clock a clock read costs as much as switching a whole burst, and
//   every timeout vnet keeps is counted in seconds.
//   run() loops until asked to stop. With idle_sleep_us > 0 it sleeps after
//   an iteration that received nothing (offline while asleep) — for small
//   test machines where PMDs share cores; 0 (default) is pure polling.
//
// Thread-safety
//   poll_once/run: the worker's own thread. counters(): read from any thread.
#pragma once

#include <rte_mempool.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "dataplane/burst.h"
#include "dataplane/clock.h"
#include "dataplane/events.h"
#include "dataplane/fdb.h"
#include "dataplane/flow_cache.h"
#include "dataplane/l3.h"
#include "dataplane/rings.h"
#include "dataplane/snapshot_publisher.h"
#include "dataplane/worker_state.h"

namespace vnet::dp {

// vnetd's clock_refresh_cycles: the steady clock at most every 100 us.
inline constexpr uint64_t kClockRefreshUs = 100;

struct WorkerDeps {
  uint16_t index = 0;                          // worker index = QSBR id = tx queue id
  SnapshotPublisher* publisher = nullptr;
  Fdb* fdb = nullptr;
  TypedRing<LearnEvent>* learn_ring = nullptr;
  TypedRing<WorkerCommand>* commands = nullptr;
  rte_mempool* pool = nullptr;
  const Clock* clock = nullptr;
  rte_ring* punt_ring = nullptr;
  uint32_t idle_sleep_us = 0;
  TypedRing<ResolveRequest>* resolve_ring = nullptr;  // L3 neighbour misses -> slow path
  rte_ring* const* handoff_rings = nullptr;           // L3: one MP/SC ring per worker; [index] is ours
  bool flow_cache = true;           // the microflow cache in front of the L2 stages (flow_cache.h)
  uint64_t clock_refresh_cycles = 0;  // 0: read the clock every iteration, else at most this often
  rte_ring* inject_ring = nullptr;  // worker 0: frames from the slow path to transmit on mbuf->port
};

class Worker {
 public:
  explicit Worker(const WorkerDeps& deps);
  // One iteration; returns the number of packets received.
  uint32_t poll_once() noexcept;
  void run(const std::atomic<bool>& stop) noexcept;
  const WorkerCounters& counters() const noexcept { return *counters_; }
  uint16_t index() const noexcept { return deps_.index; }

 private:
  void drain_commands() noexcept;
  uint32_t drain_inject(const ConfigSnapshot& snap) noexcept;

  WorkerDeps deps_;
  std::unique_ptr<WorkerCounters> counters_;
  std::unique_ptr<TxBuffers> tx_;
  std::unique_ptr<LearnFilter> learn_filter_;
  std::unique_ptr<ResolveFilter> resolve_filter_;
  std::unique_ptr<FlowCache> flow_cache_;  // null: DataplaneOptions::flow_cache off
  Burst burst_;
  uint64_t last_tsc_ = 0;  // end of the previous iteration (or of a sleep)
  uint64_t now_ns_ = 0;    // the clock's last reading ...
  uint64_t clock_tsc_ = 0;  // ... taken at this TSC
  bool clock_read_ = false;
};

}  // namespace vnet::dp
