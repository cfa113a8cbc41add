// traffic.h — the generator's DPDK side: ports, warm-up and the one-core trial loop.
//
// Theory of operation
// -------------------
// One thread (the EAL main lcore) owns every port. A trial is one loop:
//   for each tx port: take tokens, allocate a burst, build frames (FlowCursor),
//                     stamp sequence + TSC, rte_eth_tx_burst
//   for each rx port: rte_eth_rx_burst until empty (at most 4 bursts), read
//                     stamps, record latency and counters, free in bulk
// Sending and receiving on the same core is deliberate: two processes on one
// CPU time-slice each other and measure nothing.
//
// Offered-load semantics:
//   - rate-limited trials (RFC 2544): a frame refused by a full tx queue is
//     counted in tx_full and lost — the virtio ring is the DUT's rx queue.
//   - unlimited trials ("max"): refused frames are kept, re-stamped and
//     retried; tx_full then counts refusals and only shows backpressure,
//     which tells whether the DUT (refusals) or the generator (none) was the
//     bottleneck.
//
// Thread-safety
// -------------
// Not thread-safe: constructed, used and destroyed on the EAL main lcore.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "options.h"
#include "stats.h"

struct rte_mempool;

namespace vnet::perf {

struct TrialReport {
  double requested_pps = 0;  // 0 = unlimited
  double duration_s = 0;     // sending period actually measured
  TrialCounters counters;
  LatencyHistogram latency;  // ns, stamped frames on their expected port
};

class TrafficEngine {
 public:
  TrafficEngine(const GenOptions& opts, std::vector<PortPlan> plans);
  ~TrafficEngine();
  TrafficEngine(const TrafficEngine&) = delete;
  TrafficEngine& operator=(const TrafficEngine&) = delete;

  // Mempool, port configuration and start. Error text, or empty on success.
  std::string setup();
  // Waits until every port reports link up. False on timeout (names in `down`).
  bool wait_links(double timeout_s, std::string& down);
  // Learning frames from every station MAC of every port, then drain.
  void warmup();
  // One trial. rate_pps 0 = unlimited; count 0 = run for duration_s.
  // The report is owned by the engine and valid until the next call.
  const TrialReport& run_trial(double rate_pps, double duration_s, uint64_t count);
  void stop();
  // A trial ends early when *flag becomes true (SIGINT/SIGTERM).
  void set_stop_flag(const std::atomic<bool>* flag) { stop_flag_ = flag; }

  uint64_t tsc_hz() const { return tsc_hz_; }
  const std::vector<PortPlan>& plans() const { return plans_; }

 private:
  struct PortState;
  uint64_t drain_rx(uint64_t until_tsc, bool stop_when_idle);

  GenOptions opts_;
  std::vector<PortPlan> plans_;
  std::vector<std::unique_ptr<PortState>> ports_;
  rte_mempool* pool_ = nullptr;
  uint64_t tsc_hz_ = 0;
  bool started_ = false;
  const std::atomic<bool>* stop_flag_ = nullptr;
  TrialReport report_;  // reused: the histogram is 21 KiB
};

}  // namespace vnet::perf
