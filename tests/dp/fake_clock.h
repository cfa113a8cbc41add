// A Clock the test moves by hand.
#pragma once

#include <atomic>
#include <cstdint>

#include "dataplane/clock.h"

namespace vnet::dp::test {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(uint64_t start_ns = 1'000'000'000ull) : now_(start_ns) {}
  uint64_t now_ns() const noexcept override { return now_.load(std::memory_order_relaxed); }
  void advance_ns(uint64_t d) { now_.fetch_add(d, std::memory_order_relaxed); }
  void advance_s(uint64_t s) { advance_ns(s * kNsPerSec); }

 private:
  std::atomic<uint64_t> now_;
};

}  // namespace vnet::dp::test
