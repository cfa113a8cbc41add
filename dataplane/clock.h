// vnet::dp — injected time source (STYLE 8).
//
// Theory of operation
//   Everything that ages (FDB entries) takes its time from a Clock& given at
//   construction, so tests drive time with a fake clock. now_ns() is
//   monotonic nanoseconds from an arbitrary origin. SteadyClock reads
//   CLOCK_MONOTONIC through std::chrono::steady_clock (a vDSO call, no system
//   call); workers read the clock once per loop iteration.
//
// Thread-safety
//   now_ns() must be callable from any thread concurrently.
#pragma once

#include <chrono>
#include <cstdint>

namespace vnet::dp {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t now_ns() const noexcept = 0;
};

class SteadyClock final : public Clock {
 public:
  uint64_t now_ns() const noexcept override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }
};

inline constexpr uint64_t kNsPerSec = 1'000'000'000ull;

}  // namespace vnet::dp
