// rfc2544.cc — see rfc2544.h.
#include "rfc2544.h"

#include <algorithm>

namespace vnet::perf {

bool trial_passes(const TrialOutcome& t, double loss_tolerance) {
  if (t.offered == 0) return false;
  if (loss_tolerance <= 0.0) return t.received >= t.offered;
  return t.loss_ratio() <= loss_tolerance;
}

SearchResult rfc2544_search(const SearchConfig& config,
                            const std::function<TrialOutcome(double rate_pps)>& run_trial) {
  SearchResult result;
  const unsigned max_trials = std::max(config.max_trials, 1u);

  TrialOutcome first = run_trial(0.0);
  result.trials.push_back(first);
  if (trial_passes(first, config.loss_tolerance)) {
    result.found = true;
    result.generator_bound = true;
    result.best = first;
    return result;
  }
  // Offering more than the DUT accepted is loss by definition.
  const double hi_initial = std::max(first.accepted_pps, first.received_pps);
  double lo = 0.0;
  double hi = hi_initial;
  const double min_step = std::max(config.resolution, 1e-6) * hi_initial;
  while (result.trials.size() < max_trials && hi - lo > min_step && hi > 0.0) {
    const double rate = (lo + hi) / 2.0;
    TrialOutcome t = run_trial(rate);
    result.trials.push_back(t);
    if (trial_passes(t, config.loss_tolerance)) {
      lo = rate;
      if (!result.found || t.offered_pps > result.best.offered_pps) result.best = t;
      result.found = true;
    } else {
      hi = rate;
    }
  }
  return result;
}

}  // namespace vnet::perf
