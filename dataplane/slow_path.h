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
//   loops over poll_once() and sleeps when a pass found nothing to do: it is
//   a slow path and may share a core with a PMD or a guest. The sleep starts
//   at idle_sleep_us and doubles with every further idle pass up to
//   idle_sleep_max_us (IdleBackoff); any work brings it back to the start.
//   An idle vnetd so wakes ~500 times a second instead of ~3000 (each wake
//   costs tens of microseconds of that CPU under a hypervisor), and a
//   request reaching an idle gateway waits at most idle_sleep_max_us more.
//   While a gateway is conversing() (a TFTP transfer sends its next block
//   when the client's ACK arrives) idle passes sleep converse_sleep_us
//   instead, with a timer slack of 1 us, so a lock-step round trip is not
//   bound by the idle sleep.
//   Gateways (punt.h): for every attached GatewayBinding, drain the gateway
//   port's output ring (what the switch sent to the gateway), copy each frame
//   into a flat buffer, strip its one 802.1Q tag (the gateway port always
//   tags; VID 0 = untagged domain), and hand it to the PuntHandler; frames
//   the handler sends are built into fresh mbufs, tagged with their VLAN and
//   enqueued on the gateway port's input ring, which a worker polls like any
//   rx queue. Every tick_interval of steady time the handlers are ticked.
//   Handler failures (exceptions) and injection failures are counted on the
//   gateway port by named reason; punted/injected frames too.
//   Learn events for a gateway MAC on its gateway port install a static FDB
//   entry (one per VLAN the gateway talks in); VLAN 0's is installed on attach.
//   L3 (l3.h): for every attached L3Binding the slow path is the neighbour
//   table's only writer. It learns from ARP reaching the gateway port
//   (senders inside the network's subnets; probes with sender 0.0.0.0 are
//   ignored) and from ARP on the uplink, which the workers punt to it through
//   the punt ring (mbuf->port = the uplink). It answers who-has for the
//   outside address and every NAT address on the uplink (never a probe),
//   sends ARP requests for ResolveRequests (rate-limited to one per address
//   per kResolveIntervalNs) — into the network through the gateway port's
//   input ring, or on the uplink through worker 0's inject ring (mbuf->port =
//   the uplink; worker 0 transmits them on its own tx queue, so the uplink
//   needs no queue of the slow path's own and a one-queue vhost-user peer
//   gets them too) — re-resolves the next hop every kNextHopRefreshNs,
//   and ages neighbours out after kNeighborAgeingNs without confirmation.
//
// Thread-safety
//   poll_once/run: the slow-path thread only (QSBR reader id given in deps).
//   completed_seq(), counters(): any thread.
#pragma once

#include <rte_mempool.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dataplane/clock.h"
#include "dataplane/drop_reasons.h"
#include "dataplane/events.h"
#include "dataplane/fdb.h"
#include "dataplane/l3.h"
#include "dataplane/punt.h"
#include "dataplane/rings.h"
#include "dataplane/snapshot_publisher.h"

namespace vnet::dp {

// A network's gateway as the slow path uses it. Owned by the facade; the
// slow path touches it only between the attach and detach commands.
struct GatewayBinding {
  uint16_t network = 0;
  uint16_t port = 0;              // the gateway port's ethdev id
  net::MacAddr mac;               // the gateway MAC (static in the FDB)
  rte_ring* out = nullptr;        // switch -> gateway (workers produce, slow path consumes)
  rte_ring* in = nullptr;         // gateway -> switch (slow path produces, a worker consumes)
  std::shared_ptr<PuntHandler> handler;
};

// Per gateway port, written by the slow path only.
struct GatewayCounters {
  Counter punted;    // frames handed to PuntHandler::on_frame
  Counter injected;  // frames the handler sent that entered the input ring
  DropCounters drops;
};

// run()'s sleep between idle passes: min_us after work, doubling per idle
// pass up to max_us (max_us < min_us counts as min_us).
class IdleBackoff {
 public:
  IdleBackoff(uint32_t min_us, uint32_t max_us) noexcept : min_(min_us), max_(max_us < min_us ? min_us : max_us), next_(min_us) {}
  // An idle pass: how long to sleep now.
  uint32_t idle() noexcept {
    const uint32_t now = next_;
    next_ = next_ > max_ / 2 ? max_ : next_ * 2;
    return now;
  }
  void busy() noexcept { next_ = min_; }

 private:
  uint32_t min_;
  uint32_t max_;
  uint32_t next_;
};

struct SlowPathDeps {
  SnapshotPublisher* publisher = nullptr;
  Fdb* fdb = nullptr;
  std::vector<TypedRing<LearnEvent>*> learn_rings;  // one per worker
  TypedRing<SlowPathCommand>* commands = nullptr;
  const Clock* clock = nullptr;
  uint32_t reader_id = 0;                         // QSBR thread id
  uint64_t sweep_interval_ns = 1'000'000'000ull;  // ageing sweep period
  uint32_t idle_sleep_us = 200;                   // run(): sleep when a pass did nothing ...
  uint32_t idle_sleep_max_us = 2000;              // ... doubling up to this while idle
  uint32_t converse_sleep_us = 20;                // ... or this while a handler is conversing()
  rte_mempool* pool = nullptr;                    // mbufs for injected gateway frames
  uint64_t tick_interval_ns = 10'000'000ull;      // PuntHandler::on_tick period (steady time)
  std::vector<TypedRing<ResolveRequest>*> resolve_rings;  // one per worker (L3)
  rte_ring* punt_ring = nullptr;                  // uplink ARP from the workers (MP/SC)
  rte_ring* inject_ring = nullptr;                // frames for worker 0 to transmit (SP/SC; m->port)
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
  const GatewayCounters& gateway_counters(uint16_t port) const noexcept { return gw_counters_[port]; }

  // Builds `frame` + an 802.1Q tag for `vlan` into mbufs and enqueues it on
  // the gateway's input ring. Slow-path thread only (FrameOut::send).
  bool inject(const GatewayBinding& gw, std::span<const uint8_t> frame, uint16_t vlan) noexcept;

  // The largest frame handed to or taken from a handler (jumbo MTU +
  // Ethernet header + one inner 802.1Q tag carried as payload).
  static constexpr size_t kMaxFrameSize = kMaxMtu + 14 + 4;
  static constexpr uint64_t kResolveIntervalNs = 1'000'000'000ull;
  static constexpr uint64_t kNextHopRefreshNs = 30'000'000'000ull;
  static constexpr uint64_t kNeighborAgeingNs = 300'000'000'000ull;

  // Sends an ARP request for `ip` where it lives (inside or uplink). Slow-path thread only.
  void resolve(L3Binding& l3, uint32_t ip, uint64_t now) noexcept;

 private:
  void apply(const LearnEvent& ev, const ConfigSnapshot* snap, uint64_t now) noexcept;
  void execute(const SlowPathCommand& cmd, uint64_t now) noexcept;
  uint32_t drain_gateway(GatewayBinding& gw, uint64_t now) noexcept;
  void tick_gateways(uint64_t now) noexcept;
  bool conversing() const noexcept;  // some gateway handler is conversing()
  GatewayBinding* gateway_of(uint16_t network) noexcept;
  L3Binding* l3_of(uint16_t network) noexcept;
  void snoop_inside(L3Binding& l3, std::span<const uint8_t> frame, uint64_t now) noexcept;
  uint32_t drain_punt(uint64_t now) noexcept;
  void uplink_arp(L3Binding& l3, std::span<const uint8_t> frame, uint64_t now) noexcept;
  bool send_uplink(L3Binding& l3, std::span<const uint8_t> frame) noexcept;
  void l3_timers(uint64_t now) noexcept;

  SlowPathDeps deps_;
  SlowPathCounters counters_;
  uint64_t next_sweep_ns_ = 0;
  uint64_t next_tick_steady_ns_ = 0;
  uint64_t next_neighbor_sweep_ns_ = 0;
  std::atomic<uint64_t> completed_seq_{0};
  std::vector<GatewayBinding*> gateways_;          // attached, at most one per network
  std::vector<L3Binding*> l3_;                     // attached, at most one per network
  std::unique_ptr<GatewayCounters[]> gw_counters_;  // [kMaxPorts]
  std::vector<uint8_t> punt_buf_;                   // one frame + room to strip a tag
  std::vector<uint8_t> inject_buf_;                 // one frame + its tag
};

}  // namespace vnet::dp
