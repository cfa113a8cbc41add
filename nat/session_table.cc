#include "nat/session_table.h"

#include <sys/mman.h>

#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>

#include "nat/bytes.h"
#include "nat/nat_config.h"

namespace vnet::nat {

namespace {

constexpr size_t kHugePageSize = size_t{2} << 20;
constexpr size_t kCacheLine = 64;

// Zeroed memory for `count` objects of an implicit-lifetime type: 2 MiB
// aligned and advised for transparent huge pages when it spans at least one
// huge page, cache-line aligned otherwise (or when that allocation fails).
template <class T>
T* allocate_zeroed(size_t count) {
  static_assert(alignof(T) <= kCacheLine);
  const size_t size = count * sizeof(T);
  void* p = nullptr;
  if (size >= kHugePageSize) {
    const size_t rounded = (size + kHugePageSize - 1) / kHugePageSize * kHugePageSize;
    p = std::aligned_alloc(kHugePageSize, rounded);
    if (p != nullptr) (void)::madvise(p, rounded, MADV_HUGEPAGE);  // a hint: no huge pages is fine
  }
  if (p == nullptr) {
    const size_t rounded = size == 0 ? kCacheLine : (size + kCacheLine - 1) / kCacheLine * kCacheLine;
    p = std::aligned_alloc(kCacheLine, rounded);
  }
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, size);
  return static_cast<T*>(p);
}

}  // namespace

void SessionTable::FreeDeleter::operator()(void* p) const noexcept { std::free(p); }

SessionTable::SessionTable(uint32_t capacity, uint64_t seed)
    : capacity_(capacity == 0 ? 1 : (capacity > (1u << 30) ? (1u << 30) : capacity)),
      index_mask_(static_cast<uint32_t>(std::bit_ceil(uint64_t{capacity_} * 2) - 1)),
      seed_(fmix64(seed ^ 0x9e3779b97f4a7c15ull)),
      sessions_(allocate_zeroed<Session>(capacity_)),
      free_(allocate_zeroed<uint32_t>(capacity_)),
      in_index_(allocate_zeroed<IndexEntry>(size_t{index_mask_} + 1)),
      out_index_(allocate_zeroed<IndexEntry>(size_t{index_mask_} + 1)) {
  clear();
}

void SessionTable::clear() noexcept {
  for (uint32_t i = 0; i < capacity_; ++i) {
    sessions_[i].live = 0;
    free_[i] = capacity_ - 1 - i;  // pop order: slot 0 first
  }
  free_count_ = capacity_;
  size_ = 0;
  sweep_cursor_ = 0;
  high_water_ = 0;
  std::memset(static_cast<void*>(in_index_.get()), 0, (size_t{index_mask_} + 1) * sizeof(IndexEntry));
  std::memset(static_cast<void*>(out_index_.get()), 0, (size_t{index_mask_} + 1) * sizeof(IndexEntry));
}

size_t SessionTable::memory_bytes() const noexcept {
  return size_t{capacity_} * (sizeof(Session) + sizeof(uint32_t)) +
         2 * (size_t{index_mask_} + 1) * sizeof(IndexEntry);
}

void SessionTable::index_insert(IndexEntry* index, uint32_t h, uint32_t slot) noexcept {
  uint32_t pos = h & index_mask_;
  while (index[pos].slot != 0) pos = (pos + 1) & index_mask_;
  index[pos] = IndexEntry{h, slot + 1};
}

void SessionTable::index_erase(IndexEntry* index, uint32_t h, uint32_t slot) noexcept {
  uint32_t i = h & index_mask_;
  while (index[i].slot != slot + 1) {
    if (index[i].slot == 0) return;  // not indexed: nothing to remove
    i = (i + 1) & index_mask_;
  }
  // Backward-shift deletion: pull later entries of the cluster into the hole
  // when their home slot is not cyclically after the hole.
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & index_mask_;
    if (index[j].slot == 0) break;
    const uint32_t home = index[j].hash & index_mask_;
    if (((j - home) & index_mask_) >= ((j - i) & index_mask_)) {
      index[i] = index[j];
      i = j;
    }
  }
  index[i] = IndexEntry{0, 0};
}

Session* SessionTable::insert(const Session& s) noexcept {
  if (free_count_ == 0) return nullptr;
  const uint32_t slot = free_[--free_count_];
  if (slot >= high_water_) high_water_ = slot + 1;
  Session& d = sessions_[slot];
  d = s;
  d.live = 1;
  index_insert(in_index_.get(), hash(d.in_key()), slot);
  index_insert(out_index_.get(), hash(d.out_key()), slot);
  ++size_;
  return &d;
}

void SessionTable::erase(Session* s) noexcept {
  if (s == nullptr || !s->live) return;
  const uint32_t slot = static_cast<uint32_t>(s - sessions_.get());
  index_erase(in_index_.get(), hash(s->in_key()), slot);
  index_erase(out_index_.get(), hash(s->out_key()), slot);
  s->live = 0;
  free_[free_count_++] = slot;
  --size_;
}

size_t SessionTable::expire(uint64_t now_ns, size_t budget) noexcept {
  size_t removed = 0;
  const size_t visits = budget < high_water_ ? budget : high_water_;  // each slot at most once per call
  for (size_t n = 0; n < visits && size_ > 0; ++n) {
    if (sweep_cursor_ >= high_water_) sweep_cursor_ = 0;
    Session& s = sessions_[sweep_cursor_];
    if (s.live && s.expires_ns <= now_ns) {
      erase(&s);
      ++removed;
    }
    ++sweep_cursor_;
  }
  return removed;
}

size_t SessionTable::dump(std::span<Session> out, uint32_t* cursor, uint64_t now_ns) const noexcept {
  size_t n = 0;
  uint32_t i = *cursor;
  for (; i < capacity_ && n < out.size(); ++i) {
    const Session& s = sessions_[i];
    if (s.live && s.expires_ns > now_ns) out[n++] = s;
  }
  *cursor = i;
  return n;
}

std::string_view proto_name(uint8_t proto) noexcept {
  switch (proto) {
    case kProtoTcp:
      return "tcp";
    case kProtoUdp:
      return "udp";
    case kProtoIcmp:
      return "icmp";
    default:
      return "ip";
  }
}

std::string format_session(const Session& s, uint64_t now_ns) {
  std::string out(proto_name(s.proto));
  if (s.proto != kProtoTcp && s.proto != kProtoUdp && s.proto != kProtoIcmp)
    out += "/" + std::to_string(s.proto);
  if (s.proto == kProtoTcp) {
    out += ' ';
    out += tcp_state_name(s.tcp_state);
  }
  const bool ports = s.proto == kProtoTcp || s.proto == kProtoUdp;
  const auto ep = [&](uint32_t a, uint16_t p, bool with_port) {
    return format_ipv4(a) + (with_port ? ":" + std::to_string(p) : std::string{});
  };
  if (s.proto == kProtoIcmp) {
    out += " id " + std::to_string(s.in_port) + " " + format_ipv4(s.in_addr) + " -> " +
           format_ipv4(s.remote_addr) + " via " + format_ipv4(s.ext_addr) + " id " +
           std::to_string(s.ext_port);
  } else {
    out += ' ' + ep(s.in_addr, s.in_port, ports) + " -> " + ep(s.remote_addr, s.remote_port, ports) +
           " via " + ep(s.ext_addr, s.ext_port, ports);
  }
  const uint64_t left = s.expires_ns > now_ns ? (s.expires_ns - now_ns) / kNsPerSec : 0;
  out += " expires " + std::to_string(left) + "s pkts " + std::to_string(s.pkts_in2out) + "/" +
         std::to_string(s.pkts_out2in);
  return out;
}

}  // namespace vnet::nat
