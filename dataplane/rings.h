// vnet::dp — typed rings of small structs between threads (STYLE 5).
//
// Theory of operation
//   TypedRing<T> wraps an rte_ring of fixed-size elements (rte_ring_*_elem):
//   T is copied in and out, no pointers to free. Rings are single-producer /
//   single-consumer unless created with Producers::kMulti (used where DPDK
//   itself calls us from more than one thread, e.g. link-state callbacks).
//
// Thread-safety
//   push*: the producer thread(s) only; pop*: the consumer thread only.
#pragma once

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <memory>
#include <string>
#include <type_traits>

#include "dataplane/status.h"

namespace vnet::dp {

enum class Producers : uint8_t { kSingle, kMulti };

template <class T>
class TypedRing {
  static_assert(std::is_trivially_copyable_v<T>);
  static_assert(sizeof(T) % 4 == 0, "rte_ring elements are multiples of 4 bytes");

 public:
  static Result<std::unique_ptr<TypedRing>> create(const std::string& name, uint32_t count,
                                                   Producers producers = Producers::kSingle,
                                                   int socket_id = SOCKET_ID_ANY) {
    unsigned flags = RING_F_SC_DEQ | RING_F_EXACT_SZ;
    if (producers == Producers::kSingle) flags |= RING_F_SP_ENQ;
    rte_ring* r = rte_ring_create_elem(name.c_str(), sizeof(T), count, socket_id, flags);
    if (r == nullptr)
      return Status{StatusCode::kResourceExhausted,
                    "ring " + name + ": " + rte_strerror(rte_errno)};
    return std::unique_ptr<TypedRing>(new TypedRing(r));
  }

  ~TypedRing() { rte_ring_free(ring_); }
  TypedRing(const TypedRing&) = delete;
  TypedRing& operator=(const TypedRing&) = delete;

  bool push(const T& v) noexcept {
    return rte_ring_enqueue_elem(ring_, const_cast<T*>(&v), sizeof(T)) == 0;
  }
  unsigned push_burst(const T* v, unsigned n) noexcept {
    return rte_ring_enqueue_burst_elem(ring_, const_cast<T*>(v), sizeof(T), n, nullptr);
  }
  unsigned pop_burst(T* out, unsigned n) noexcept {
    return rte_ring_dequeue_burst_elem(ring_, out, sizeof(T), n, nullptr);
  }
  unsigned count() const noexcept { return rte_ring_count(ring_); }
  bool empty() const noexcept { return rte_ring_empty(ring_) != 0; }

 private:
  explicit TypedRing(rte_ring* r) : ring_(r) {}
  rte_ring* ring_;
};

}  // namespace vnet::dp
