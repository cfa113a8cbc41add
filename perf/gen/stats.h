// stats.h — latency histogram, token bucket and trial counters (no DPDK).
//
// Theory of operation
// -------------------
// LatencyHistogram is log-linear (HDR-style): values are bucketed by their
// highest set bit and the next kSubBits bits, so every bucket is within
// 1/2^kSubBits (1.6 %) of the values it holds, from 1 ns to 2^40 ns, in a
// fixed 32 KiB array: recording is a few instructions and never allocates.
// Min, max and sum are exact; percentiles are bucket midpoints.
//
// TokenBucket paces a sender on the TSC: after `now - start` cycles it has
// allowed (now - start) * rate / hz packets; a sender asks how many it may
// send now and reports how many it took. Credit is capped at one burst so a
// stall does not turn into a line-rate spike afterwards.
//
// Thread-safety
// -------------
// Everything here is owned by the single generator thread; no sharing.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace vnet::perf {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 6;
  static constexpr unsigned kMaxBits = 40;

  void record(uint64_t value_ns) noexcept;
  void merge(const LatencyHistogram& other) noexcept;
  void clear() noexcept { *this = LatencyHistogram{}; }

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // q in [0, 1]; 0 when empty.
  uint64_t percentile(double q) const;

 private:
  static constexpr unsigned kSub = 1u << kSubBits;
  static unsigned bucket_of(uint64_t v) noexcept;
  static uint64_t bucket_low(unsigned b) noexcept;
  static uint64_t bucket_high(unsigned b) noexcept;

  std::array<uint64_t, (kMaxBits + 1) * kSub> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

class TokenBucket {
 public:
  // rate_pps <= 0 means unlimited.
  TokenBucket(double rate_pps, uint64_t hz, uint64_t start_tsc, unsigned burst)
      : per_tsc_(rate_pps > 0 ? rate_pps / static_cast<double>(hz) : 0.0),
        start_tsc_(start_tsc),
        burst_(burst) {}

  bool unlimited() const { return per_tsc_ == 0.0; }

  // Packets that may be sent at `now_tsc` (at most `burst`).
  unsigned available(uint64_t now_tsc) noexcept {
    if (unlimited()) return burst_;
    const double allowed = static_cast<double>(now_tsc - start_tsc_) * per_tsc_;
    double credit = allowed - taken_;
    if (credit > burst_) {  // idle for a while: forget the excess, keep one burst
      taken_ = allowed - burst_;
      credit = burst_;
    }
    return credit >= 1.0 ? static_cast<unsigned>(credit) : 0u;
  }
  void take(unsigned n) noexcept { taken_ += n; }

 private:
  double per_tsc_;     // packets per TSC cycle
  uint64_t start_tsc_;
  unsigned burst_;
  double taken_ = 0;   // packets taken since start (may be re-based when idle)
};

// Counters of one trial, summed over ports.
struct TrialCounters {
  uint64_t offered = 0;       // frames the schedule asked for (tx attempts)
  uint64_t sent = 0;          // accepted by the tx queues
  uint64_t tx_full = 0;       // refused by a full tx queue (the DUT did not take them)
  uint64_t alloc_fail = 0;    // mbuf allocation failures (generator-side; not offered)
  uint64_t received = 0;      // stamped frames on their expected port
  uint64_t misdelivered = 0;  // stamped frames on another port (flooding)
  uint64_t reordered = 0;     // sequence lower than one already seen on that (tx, rx) pair
  uint64_t rx_other = 0;      // unstamped or learning frames
  uint64_t rx_bytes = 0;      // bytes of `received` frames, without FCS
  uint64_t arp_answered = 0;  // who-has for --arp-reply-ip answered (cumulative since the start)
  uint64_t src_rewritten = 0; // received frames whose IPv4 source is outside the sent range (SNAT)
};

}  // namespace vnet::perf
