// Test helpers: frames out of rte_rings as bytes, and polling with a deadline.
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "tests/dp/packet_builder.h"

namespace vnet::dp::test {

// Everything queued on `ring` now, as bytes; the mbufs are freed. A null ring is empty.
inline std::vector<std::vector<uint8_t>> drain(rte_ring* ring) {
  std::vector<std::vector<uint8_t>> out;
  void* obj = nullptr;
  while (ring != nullptr && rte_ring_dequeue(ring, &obj) == 0) {
    out.push_back(mbuf_bytes(static_cast<rte_mbuf*>(obj)));
    rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
  }
  return out;
}

// Waits until `ring` has received `n` frames (or the deadline), returns them.
inline std::vector<std::vector<uint8_t>> receive(rte_ring* ring, size_t n,
                                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
  std::vector<std::vector<uint8_t>> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    auto got = drain(ring);
    out.insert(out.end(), got.begin(), got.end());
    if (out.size() < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return out;
}

// True as soon as `p()` is, false if it is still false at the deadline.
template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return p();
}

}  // namespace vnet::dp::test
