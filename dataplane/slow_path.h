// vnet::dp — the slow-path (service) thread: the single writer of the FDB.
//
// Theory of operation
//   poll_once(): load the snapshot; drain every worker's LearnEvent ring and
//   apply each event with Fdb::learn (events for ports or networks no longer
//   in the snapshot are stale and ignored, so a removed port is never
//   re-learned after its flush); run control commands (flush, dump) and
//   acknowledge them by publishing their sequence number; every
//   sweep_interval of the injected clock, age the FDB; return deleted FDB
//   positions after their grace period; report a quiescent state. run()
//   loops over poll_once() and sleeps briefly when idle: it is a slow path
//   and may share a core with a PMD on small machines.
//   Later: the gateway service (ARP, DHCP, DNS punts) runs here too.
//
// Thread-safety
//   poll_once/run: the slow-path thread only (QSBR reader id given in deps).
//   completed_seq(), counters(): any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/clock.h"
#include "dataplane/drop_reasons.h"
#include "dataplane/events.h"
#include "dataplane/fdb.h"
#include "dataplane/rings.h"
#include "dataplane/snapshot_publisher.h"

namespace vnet::dp {

struct SlowPathDeps {
  SnapshotPublisher* publisher = nullptr;
  Fdb* fdb = nullptr;
  std::vector<TypedRing<LearnEvent>*> learn_rings;  // one per worker
  TypedRing<SlowPathCommand>* commands = nullptr;
  const Clock* clock = nullptr;
  uint32_t reader_id = 0;                         // QSBR thread id
  uint64_t sweep_interval_ns = 1'000'000'000ull;  // ageing sweep period
  uint32_t idle_sleep_us = 200;                   // run(): sleep when a pass did nothing
};

struct SlowPathCounters {
  Counter learn_events;   // LearnEvents received
  Counter learn_stale;    // for a port/network no longer configured
  Counter learned;        // kAdded
  Counter moved;          // kMoved
  Counter aged;           // entries aged out
  Counter commands;       // control commands run
  DropCounters drops;     // fdb_full
};

class SlowPath {
 public:
  explicit SlowPath(SlowPathDeps deps);
  // One pass; returns the amount of work done (events + commands).
  uint32_t poll_once() noexcept;
  // Registers/onlines the reader, loops until stop, offlines.
  void run(const std::atomic<bool>& stop) noexcept;

  uint64_t completed_seq() const noexcept { return completed_seq_.load(std::memory_order_acquire); }
  const SlowPathCounters& counters() const noexcept { return counters_; }

 private:
  void apply(const LearnEvent& ev, const ConfigSnapshot* snap, uint64_t now) noexcept;
  void execute(const SlowPathCommand& cmd, uint64_t now) noexcept;

  SlowPathDeps deps_;
  SlowPathCounters counters_;
  uint64_t next_sweep_ns_ = 0;
  std::atomic<uint64_t> completed_seq_{0};
};

}  // namespace vnet::dp
