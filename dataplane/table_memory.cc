#include "dataplane/table_memory.h"

#include <rte_malloc.h>
#include <sys/mman.h>

#include <cstring>
#include <new>
#include <utility>

namespace vnet::dp {

namespace {
constexpr size_t kAlign = 128;
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

TableMemory TableMemory::allocate(const std::string& name, size_t bytes, int socket_id) {
  TableMemory m;
  m.bytes_ = bytes;
  if (void* p = rte_zmalloc_socket(name.c_str(), bytes, kAlign, socket_id); p != nullptr) {
    m.ptr_ = p;
    m.from_eal_ = true;
    return m;
  }
  // Large tables start on a huge page boundary so THP can back them.
  const size_t align = bytes >= kHugePage ? kHugePage : kAlign;
  void* p = ::operator new(bytes, std::align_val_t{align}, std::nothrow);
  if (p == nullptr) return m;
  if (bytes >= kHugePage) madvise(p, bytes, MADV_HUGEPAGE);  // advice only: failure changes nothing
  std::memset(p, 0, bytes);
  m.ptr_ = p;
  return m;
}

void TableMemory::release() noexcept {
  if (ptr_ == nullptr) return;
  if (from_eal_) {
    rte_free(ptr_);
  } else {
    ::operator delete(ptr_, std::align_val_t{bytes_ >= kHugePage ? kHugePage : kAlign});
  }
  ptr_ = nullptr;
}

TableMemory::~TableMemory() { release(); }

TableMemory::TableMemory(TableMemory&& o) noexcept
    : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(o.bytes_), from_eal_(o.from_eal_) {}

TableMemory& TableMemory::operator=(TableMemory&& o) noexcept {
  if (this != &o) {
    release();
    ptr_ = std::exchange(o.ptr_, nullptr);
    bytes_ = o.bytes_;
    from_eal_ = o.from_eal_;
  }
  return *this;
}

}  // namespace vnet::dp
