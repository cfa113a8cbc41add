// stats.cc — see stats.h.
#include "stats.h"

#include <algorithm>
#include <bit>

namespace vnet::perf {

unsigned LatencyHistogram::bucket_of(uint64_t v) noexcept {
  if (v < kSub) return static_cast<unsigned>(v);  // exact for small values
  const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(v));
  if (msb > kMaxBits) return (kMaxBits + 1) * kSub - 1;
  const unsigned shift = msb - kSubBits;
  const unsigned sub = static_cast<unsigned>((v >> shift) & (kSub - 1));
  return (shift + 1) * kSub + sub;
}

uint64_t LatencyHistogram::bucket_low(unsigned b) noexcept {
  if (b < kSub) return b;
  const unsigned shift = b / kSub - 1;
  return (uint64_t{kSub} + (b % kSub)) << shift;
}

uint64_t LatencyHistogram::bucket_high(unsigned b) noexcept {
  if (b < kSub) return b;
  const unsigned shift = b / kSub - 1;
  return bucket_low(b) + (uint64_t{1} << shift) - 1;
}

void LatencyHistogram::record(uint64_t value_ns) noexcept {
  ++buckets_[bucket_of(value_ns)];
  ++count_;
  sum_ += value_ns;
  min_ = std::min(min_, value_ns);
  max_ = std::max(max_, value_ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Rank of the sample wanted, 1-based (nearest-rank method).
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.999999);
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (unsigned b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= rank) {
      const uint64_t mid = bucket_low(b) + (bucket_high(b) - bucket_low(b)) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace vnet::perf
