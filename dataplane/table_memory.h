// vnet::dp — memory for the large tables the fast path indexes at random
// (the FDB, the flow caches).
//
// Theory of operation
//   A table is allocated zeroed and 128-byte aligned from the EAL's heap
//   (hugepage-backed when vnetd has hugepages: no TLB miss per random
//   access), or, when the EAL has no room or is not initialised, from the
//   process heap, advised for transparent huge pages. Either way the layout
//   is the same and the memory is freed with the owner.
//
// Thread-safety
//   Allocation and release: the owner's thread (control/slow path or a
//   worker at construction). The memory itself: as its table says.
#pragma once

#include <cstddef>
#include <string>

namespace vnet::dp {

class TableMemory {
 public:
  TableMemory() = default;
  // Null get() when neither heap has `bytes`.
  static TableMemory allocate(const std::string& name, size_t bytes, int socket_id = -1);
  ~TableMemory();
  TableMemory(TableMemory&& o) noexcept;
  TableMemory& operator=(TableMemory&& o) noexcept;
  TableMemory(const TableMemory&) = delete;
  TableMemory& operator=(const TableMemory&) = delete;

  void* get() const noexcept { return ptr_; }
  bool from_eal() const noexcept { return from_eal_; }

 private:
  void release() noexcept;
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
  bool from_eal_ = false;
};

}  // namespace vnet::dp
