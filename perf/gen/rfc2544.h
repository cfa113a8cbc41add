// rfc2544.h — binary search for the highest rate with loss within tolerance (no DPDK).
//
// Theory of operation
// -------------------
// RFC 2544 §26.1 throughput: the highest offered rate at which the DUT
// forwards every frame (here: with loss ratio <= tolerance, e.g. 1e-4 for
// 0.01 %). The caller supplies `run_trial(rate_pps)` (rate 0 = as fast as the
// generator can) which sends for one trial duration and returns what was
// offered and received.
//
//   1. One trial at the generator's maximum. If it passes, the answer is that
//      rate and the result is marked generator-bound: the DUT was not the
//      limit. Otherwise hi = the rate the DUT accepted in that trial.
//   2. Binary search in (lo = 0, hi]: try mid; pass -> lo = mid, fail -> hi =
//      mid; stop when hi - lo <= resolution * hi_initial or after max_trials.
//   The answer is the last passing trial (lo), with its own counters.
//
// Thread-safety
// -------------
// Plain function; runs on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace vnet::perf {

struct TrialOutcome {
  double requested_pps = 0;  // 0 = unlimited
  double offered_pps = 0;    // what the generator actually offered
  double accepted_pps = 0;   // what the tx queues took
  double received_pps = 0;   // stamped frames received on their expected port
  uint64_t offered = 0;      // frames
  uint64_t received = 0;     // frames
  double loss_ratio() const {
    if (offered == 0) return 0.0;
    return received >= offered ? 0.0
                               : static_cast<double>(offered - received) / static_cast<double>(offered);
  }
};

struct SearchConfig {
  double loss_tolerance = 0.0;  // fraction: 1e-4 = 0.01 %
  double resolution = 0.005;    // stop when the interval is this fraction of the first upper bound
  unsigned max_trials = 16;     // including the first, unlimited one
};

struct SearchResult {
  bool found = false;            // some rate passed
  bool generator_bound = false;  // the unlimited trial passed: DUT faster than the generator
  TrialOutcome best;             // highest passing trial
  std::vector<TrialOutcome> trials;
};

bool trial_passes(const TrialOutcome& t, double loss_tolerance);

SearchResult rfc2544_search(const SearchConfig& config,
                            const std::function<TrialOutcome(double rate_pps)>& run_trial);

}  // namespace vnet::perf
