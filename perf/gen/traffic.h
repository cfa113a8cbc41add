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
// Beside the measured traffic, the same loop can
//   - answer ARP: rx ports stand in for the host at --arp-reply-ip (the next
//     hop of a NAT uplink); the request mbuf becomes the reply (arp.h);
//   - resolve a router's MAC by ARP before the trial (--dst-mac-arp, and the
//     gateway of --gw-ip);
//   - drive DHCP/DNS load at the gateway from a port of its own (gwload.h):
//     requests paced by their own token bucket, replies read every loop, an
//     OFFER answered at once by a REQUEST. The load port is neither a tx nor
//     an rx port of the measured traffic, so the L2 figures count only the
//     stamped frames, exactly as without load.
//
// Thread-safety
// -------------
// Not thread-safe: constructed, used and destroyed on the EAL main lcore.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gwload.h"
#include "options.h"
#include "stats.h"

struct rte_mempool;
struct rte_mbuf;

namespace vnet::perf {

struct TrialReport {
  double requested_pps = 0;  // 0 = unlimited
  double duration_s = 0;     // sending period actually measured
  TrialCounters counters;
  LatencyHistogram latency;  // ns, stamped frames on their expected port
  GwCounters gw;             // gateway load (zero without --gw-port)
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
  // ARP for `target_ip` from port `port_index` (asked from `src_mac`, `src_ip`),
  // repeated every 100 ms; the sender MAC of the reply, or nullopt on timeout.
  std::optional<uint64_t> resolve_mac(unsigned port_index, uint64_t src_mac, uint32_t src_ip,
                                      uint32_t target_ip, double timeout_s);
  // Every tx frame goes to `mac` from now on (FlowSpec::dst_mac).
  void set_dst_mac(uint64_t mac);
  // Resolves the gateway's MAC and prepares the load (--gw-port). Error text, or empty.
  std::string prepare_gateway(double timeout_s);
  // A trial ends early when *flag becomes true (SIGINT/SIGTERM).
  void set_stop_flag(const std::atomic<bool>* flag) { stop_flag_ = flag; }

  uint64_t tsc_hz() const { return tsc_hz_; }
  const std::vector<PortPlan>& plans() const { return plans_; }

 private:
  struct PortState;
  uint64_t drain_rx(uint64_t until_tsc, bool stop_when_idle);
  bool answer_arp(PortState& ps, rte_mbuf* m);  // true: consumed (sent back or freed)
  void gw_send(uint64_t now, TokenBucket& bucket, GwCounters& c);
  void gw_poll(GwCounters& c);

  GenOptions opts_;
  std::vector<PortPlan> plans_;
  std::vector<std::unique_ptr<PortState>> ports_;
  rte_mempool* pool_ = nullptr;
  uint64_t tsc_hz_ = 0;
  bool started_ = false;
  const std::atomic<bool>* stop_flag_ = nullptr;
  TrialReport report_;  // reused: the histogram is 21 KiB
  uint64_t arp_answered_ = 0;            // since setup
  PortState* gw_port_ = nullptr;         // --gw-port, once prepared
  std::optional<GwFrames> gw_frames_;
  uint16_t dns_id_ = 0;
  uint32_t next_client_ = 0;
  double dhcp_credit_ = 0;               // DISCOVERs owed (fractional)
};

}  // namespace vnet::perf
