// vnet::dp — what each worker owns: per-port counters and tx buffers.
//
// Theory of operation
//   PortCounters: rx/tx packets and bytes plus drops by reason. Drops are
//   counted on the port that caused them: the rx port for everything decided
//   by the stages, the tx port for tx_full. The port's total is the sum over
//   workers (Dataplane::port_stats). Counters only grow; a reused port id is
//   read relative to a baseline the facade takes when the port is added.
//   TxBuffers: per tx port, up to kBurst mbufs collected by dispatch() and
//   sent with rte_eth_tx_burst on the worker's own tx queue (queue id = worker
//   index) when full and at the end of every loop iteration; what the port
//   does not take is freed and counted as tx_full.
//   LearnFilter: remembers, per (network, VLAN, source MAC), the last
//   LearnEvent the worker posted and its sequence number on the worker's
//   SPSC learn ring. The events consumed by the slow path are
//   posted - ring.count(), so an event is still pending exactly while its
//   sequence number is above that; learn_stage posts nothing for a source
//   with a pending event on the same port. Frames from an unlearned or moved
//   MAC then cost one event per slow-path round trip, not one per burst, and
//   learn_ring_full counts only events lost to a full ring. Direct-mapped,
//   fixed size: a colliding source evicts the entry and merely causes one
//   more (harmless) event.
//
// Thread-safety
//   Written only by the owning worker; counters readable from any thread.
#pragma once

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "dataplane/constants.h"
#include "dataplane/drop_reasons.h"
#include "dataplane/fdb.h"

namespace vnet::dp {

struct PortCounters {
  Counter rx_pkts;
  Counter rx_bytes;
  Counter tx_pkts;
  Counter tx_bytes;
  Counter flow_cache_hits;  // rx frames switched by the flow cache (flow_cache.h)
  DropCounters drops;

  void reset() noexcept {
    flow_cache_hits.reset();
    rx_pkts.reset();
    rx_bytes.reset();
    tx_pkts.reset();
    tx_bytes.reset();
    drops.reset();
  }
};

struct alignas(64) WorkerCounters {
  std::array<PortCounters, kMaxPorts> ports;
  Counter loops;  // loop iterations (liveness)
  // pmd-stats: where the PMD's time goes (TSC cycles), as OVS's
  // pmd-stats-show: an iteration that took frames (rx, hand-off, inject)
  // is busy, one that found none is idle; sleeping is neither.
  Counter busy_loops;
  Counter frames;       // frames taken by busy iterations
  Counter busy_cycles;
  Counter idle_cycles;
  // The flow cache (flow_cache.h), as the EMC lines of OVS's pmd-stats-show.
  Counter fc_lookups;        // frames looked up
  Counter fc_hits;           // of them, switched by the cache
  Counter fc_inserts;        // entries written after a miss
  Counter fc_declined;       // misses not cached: every way of their set in use
  Counter fc_invalidations;  // new epochs: a snapshot or FDB change emptied it
  Counter fc_bypasses;       // bad hit-rate windows that turned it off for a while
  Counter fc_bypassed;       // frames of guest-port bursts received while it was off
};

class TxBuffers {
 public:
  explicit TxBuffers(uint16_t tx_queue) : tx_queue_(tx_queue) {}

  [[gnu::always_inline]] void enqueue(uint16_t port, rte_mbuf* m, WorkerCounters& c) noexcept {
    Buf& b = bufs_[port];
    b.pkts[b.count++] = m;
    dirty_ |= 1u << port;
    if (b.count == kBurst) flush(port, c);
  }

  // Out of line: once per 32 packets, and inlined it bloats enqueue's callers.
  [[gnu::noinline]] void flush(uint16_t port, WorkerCounters& c) noexcept {
    Buf& b = bufs_[port];
    if (b.count == 0) return;
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < b.count; ++i) bytes += b.pkts[i]->pkt_len;
    const uint16_t sent = rte_eth_tx_burst(port, tx_queue_, b.pkts.data(), b.count);
    uint64_t unsent_bytes = 0;
    for (uint16_t i = sent; i < b.count; ++i) {
      unsent_bytes += b.pkts[i]->pkt_len;
      rte_pktmbuf_free(b.pkts[i]);
    }
    PortCounters& pc = c.ports[port];
    pc.tx_pkts.add(sent);
    pc.tx_bytes.add(bytes - unsent_bytes);
    if (sent < b.count) pc.drops.add(DropReason::kTxFull, b.count - sent);
    b.count = 0;
  }

  void flush_all(WorkerCounters& c) noexcept {
    uint32_t d = dirty_;
    while (d != 0) {
      const auto port = static_cast<uint16_t>(__builtin_ctz(d));
      d &= d - 1;
      flush(port, c);
    }
    dirty_ = 0;
  }

  uint16_t pending(uint16_t port) const noexcept { return bufs_[port].count; }

 private:
  static_assert(kMaxPorts <= 32, "dirty_ is a 32-bit mask");
  struct Buf {
    uint16_t count = 0;
    std::array<rte_mbuf*, kBurst> pkts{};
  };
  uint16_t tx_queue_;
  uint32_t dirty_ = 0;
  std::array<Buf, kMaxPorts> bufs_{};
};

class LearnFilter {
 public:
  static constexpr uint32_t kSlots = 256;

  // True when an event for (key, port) was recorded and is still among the
  // `queued` events in the learn ring (queued = the ring's current count).
  bool pending(const FdbKey& key, uint16_t port, unsigned queued) const noexcept {
    const Entry& e = slots_[index(key)];
    if (e.seq == 0 || e.port != port || !(e.key == key)) return false;
    const uint64_t consumed = posted_ > queued ? posted_ - queued : 0;
    return e.seq > consumed;
  }
  // Call after an event for (key, port) was pushed to the learn ring.
  void record(const FdbKey& key, uint16_t port) noexcept {
    slots_[index(key)] = Entry{key, port, ++posted_};
  }

 private:
  static_assert((kSlots & (kSlots - 1)) == 0);
  struct Entry {
    FdbKey key;
    uint16_t port = 0;
    uint64_t seq = 0;  // 0: empty; else the event's 1-based position in the ring's stream
  };
  static uint32_t index(const FdbKey& key) noexcept {
    uint64_t w[2];
    std::memcpy(w, &key, sizeof(w));
    const uint64_t h = (w[0] ^ (w[1] * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
    return static_cast<uint32_t>(h >> 56) & (kSlots - 1);
  }
  static_assert(sizeof(FdbKey) == 2 * sizeof(uint64_t));

  uint64_t posted_ = 0;  // events pushed by this worker
  std::array<Entry, kSlots> slots_{};
};

}  // namespace vnet::dp
