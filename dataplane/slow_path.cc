#include "dataplane/slow_path.h"

#include <array>
#include <thread>

namespace vnet::dp {

SlowPath::SlowPath(SlowPathDeps deps) : deps_(std::move(deps)) {}

void SlowPath::apply(const LearnEvent& ev, const ConfigSnapshot* snap, uint64_t now) noexcept {
  counters_.learn_events.add();
  const PortState* port = snap != nullptr ? snap->port(ev.port) : nullptr;
  const NetworkState* net = snap != nullptr ? snap->network(ev.key.network) : nullptr;
  if (port == nullptr || net == nullptr || port->network != ev.key.network) {
    counters_.learn_stale.add();
    return;
  }
  switch (deps_.fdb->learn(ev.key, ev.port, now, net->mac_limit)) {
    case LearnResult::kAdded: counters_.learned.add(); break;
    case LearnResult::kMoved: counters_.moved.add(); break;
    case LearnResult::kRefreshed: break;
    case LearnResult::kLimit:
    case LearnResult::kTableFull: counters_.drops.add(DropReason::kFdbFull); break;
  }
}

void SlowPath::execute(const SlowPathCommand& cmd, uint64_t now) noexcept {
  Fdb& fdb = *deps_.fdb;
  switch (cmd.op) {
    case SlowPathOp::kFlushNetwork: fdb.flush_network(cmd.network); break;
    case SlowPathOp::kFlushPort: fdb.flush_port(cmd.port); break;
    case SlowPathOp::kFlushNetworkPort: fdb.flush_network_port(cmd.network, cmd.port); break;
    case SlowPathOp::kFlushAll: fdb.flush_all(); break;
    case SlowPathOp::kDump:
      if (cmd.dump_out != nullptr) {
        // The slow path may allocate; a bad_alloc here is fatal like anywhere else.
        fdb.dump(*cmd.dump_out, now,
                 cmd.all_networks != 0 ? std::nullopt : std::optional<uint16_t>(cmd.network));
      }
      break;
  }
  counters_.commands.add();
  completed_seq_.store(cmd.seq, std::memory_order_release);
}

uint32_t SlowPath::poll_once() noexcept {
  const ConfigSnapshot* snap = deps_.publisher->load();
  const uint64_t now = deps_.clock->now_ns();
  uint32_t work = 0;
  std::array<LearnEvent, 64> events;
  for (TypedRing<LearnEvent>* ring : deps_.learn_rings) {
    unsigned n;
    while ((n = ring->pop_burst(events.data(), events.size())) > 0) {
      for (unsigned i = 0; i < n; ++i) apply(events[i], snap, now);
      work += n;
    }
  }
  if (deps_.commands != nullptr) {
    std::array<SlowPathCommand, 8> cmds;
    const unsigned n = deps_.commands->pop_burst(cmds.data(), cmds.size());
    for (unsigned i = 0; i < n; ++i) execute(cmds[i], now);
    work += n;
  }
  if (now >= next_sweep_ns_) {
    next_sweep_ns_ = now + deps_.sweep_interval_ns;
    if (snap != nullptr) {
      const uint32_t aged = deps_.fdb->age(now, snap->ageing_ns);
      counters_.aged.add(aged);
    }
  }
  deps_.fdb->reclaim();
  deps_.publisher->quiescent(deps_.reader_id);
  return work;
}

void SlowPath::run(const std::atomic<bool>& stop) noexcept {
  deps_.publisher->online(deps_.reader_id);
  while (!stop.load(std::memory_order_relaxed)) {
    if (poll_once() == 0 && deps_.idle_sleep_us > 0) {
      // Blocking: go offline so grace periods do not wait for our sleep.
      deps_.publisher->offline(deps_.reader_id);
      std::this_thread::sleep_for(std::chrono::microseconds(deps_.idle_sleep_us));
      deps_.publisher->online(deps_.reader_id);
    }
  }
  deps_.publisher->offline(deps_.reader_id);
}

}  // namespace vnet::dp
