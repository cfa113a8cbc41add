#include "dataplane/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include <thread>

#include "dataplane/stages/stages.h"

namespace vnet::dp {

Worker::Worker(const WorkerDeps& deps)
    : deps_(deps),
      counters_(std::make_unique<WorkerCounters>()),
      tx_(std::make_unique<TxBuffers>(deps.index)),
      learn_filter_(std::make_unique<LearnFilter>()),
      resolve_filter_(std::make_unique<ResolveFilter>()),
      flow_cache_(deps.flow_cache ? std::make_unique<FlowCache>("vnet_flow_cache_" + std::to_string(deps.index))
                                  : nullptr),
      last_tsc_(rte_rdtsc()) {
  if (flow_cache_ != nullptr && !flow_cache_->ok()) flow_cache_.reset();  // no memory: run without
}

void Worker::drain_commands() noexcept {
  // Commands are rare: an empty ring costs two loads, not a zeroed array.
  if (deps_.commands == nullptr || deps_.commands->empty()) return;
  std::array<WorkerCommand, 8> cmds;
  const unsigned n = deps_.commands->pop_burst(cmds.data(), cmds.size());
  for (unsigned i = 0; i < n; ++i) {
    switch (cmds[i].op) {
      case WorkerOp::kResetPortCounters:
        if (cmds[i].port < kMaxPorts) counters_->ports[cmds[i].port].reset();
        break;
      case WorkerOp::kNatQuery:
        run_nat_query(cmds[i].query, deps_.clock->now_ns());
        break;
    }
  }
}

// Frames the slow path built (uplink ARP) go out on this worker's tx queue of
// mbuf->port; a port gone from the snapshot meanwhile drops them (no_port).
uint32_t Worker::drain_inject(const ConfigSnapshot& snap) noexcept {
  std::array<rte_mbuf*, kBurst> pkts;
  const unsigned n = rte_ring_sc_dequeue_burst(deps_.inject_ring, reinterpret_cast<void**>(pkts.data()), kBurst, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (m->port >= kMaxPorts || snap.port(m->port) == nullptr) {
      if (m->port < kMaxPorts) counters_->ports[m->port].drops.add(DropReason::kNoPort);
      rte_pktmbuf_free(m);
      continue;
    }
    tx_->enqueue(m->port, m, *counters_);
  }
  return n;
}

uint32_t Worker::poll_once() noexcept {
  const ConfigSnapshot* snap = deps_.publisher->load();
  drain_commands();
  uint32_t received = 0;
  if (snap != nullptr && deps_.index < snap->worker_count) {
    if (!clock_read_ || deps_.clock_refresh_cycles == 0 || last_tsc_ - clock_tsc_ >= deps_.clock_refresh_cycles) {
      now_ns_ = deps_.clock->now_ns();
      clock_tsc_ = last_tsc_;
      clock_read_ = true;
    }
    if (flow_cache_ != nullptr && flow_cache_->sync(snap->generation, deps_.fdb->version()))
      counters_->fc_invalidations.add();
    // Every member named: no zeroing pass before the stores.
    const StageContext ctx{.snap = snap,
                           .fdb = deps_.fdb,
                           .worker = deps_.index,
                           .now_ns = now_ns_,
                           .counters = counters_.get(),
                           .learn_ring = deps_.learn_ring,
                           .learn_filter = learn_filter_.get(),
                           .pool = deps_.pool,
                           .punt_ring = deps_.punt_ring,
                           .resolve_ring = deps_.resolve_ring,
                           .resolve_filter = resolve_filter_.get(),
                           .handoff_rings = deps_.handoff_rings,
                           .flow_cache = flow_cache_.get()};
    if (deps_.handoff_rings != nullptr)
      received += l3_drain_handoff(deps_.handoff_rings[deps_.index], burst_, ctx, *tx_);
    if (deps_.inject_ring != nullptr) received += drain_inject(*snap);
    if (!snap->l3_networks.empty()) l3_housekeeping(ctx);
    for (const RxQueueRef& q : snap->rx[deps_.index]) {
      const uint16_t n = rte_eth_rx_burst(q.port, q.queue, burst_.pkts.data(), kBurst);
      if (n == 0) continue;
      received += n;
      burst_.in_port = q.port;
      burst_.count = n;
      burst_.reset_verdicts();
      PortCounters& pc = counters_->ports[q.port];
      uint64_t bytes = 0;
      for (uint16_t i = 0; i < n; ++i) bytes += burst_.pkts[i]->pkt_len;
      pc.rx_pkts.add(n);
      pc.rx_bytes.add(bytes);
      run_pipeline(burst_, ctx);
      dispatch(burst_, ctx, *tx_);
    }
    tx_->flush_all(*counters_);
  }
  counters_->loops.add();
  const uint64_t tsc = rte_rdtsc();
  const uint64_t spent = tsc - last_tsc_;
  last_tsc_ = tsc;
  if (received > 0) {
    counters_->busy_loops.add();
    counters_->frames.add(received);
    counters_->busy_cycles.add(spent);
  } else {
    counters_->idle_cycles.add(spent);
  }
  deps_.publisher->quiescent(deps_.index);
  return received;
}

void Worker::run(const std::atomic<bool>& stop) noexcept {
  deps_.publisher->online(deps_.index);
  last_tsc_ = rte_rdtsc();
  while (!stop.load(std::memory_order_relaxed)) {
    if (poll_once() == 0 && deps_.idle_sleep_us > 0) {
      deps_.publisher->offline(deps_.index);
      std::this_thread::sleep_for(std::chrono::microseconds(deps_.idle_sleep_us));
      deps_.publisher->online(deps_.index);
      last_tsc_ = rte_rdtsc();  // the sleep is neither busy nor idle
    }
  }
  deps_.publisher->offline(deps_.index);
}

}  // namespace vnet::dp
