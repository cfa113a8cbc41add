#include "dataplane/neighbor.h"

#include <bit>
#include <cstring>

namespace vnet::dp {

// The six bytes in a word's low 48 bits, in memory order (the value only
// lives inside this table).
uint64_t mac_to_u64(const net::MacAddr& m) noexcept {
  uint64_t v = 0;
  std::memcpy(&v, m.b.data(), 6);
  return v;
}

net::MacAddr u64_to_mac(uint64_t v) noexcept {
  net::MacAddr m;
  std::memcpy(m.b.data(), &v, 6);
  return m;
}

NeighborTable::NeighborTable(uint32_t capacity) {
  const uint32_t n = std::bit_ceil(capacity < 64 ? 64u : capacity);
  mask_ = n - 1;
  slots_ = std::make_unique<Slot[]>(n);
}

uint32_t NeighborTable::home(uint32_t ip) const noexcept {
  return static_cast<uint32_t>((uint64_t{ip} * 0x9e3779b97f4a7c15ull) >> 32) & mask_;
}

void NeighborTable::read(const Slot& s, uint32_t* ip, uint64_t* mac) noexcept {
  while (true) {
    const uint32_t s1 = s.seq.load(std::memory_order_acquire);
    if ((s1 & 1u) == 0) {
      *ip = s.ip.load(std::memory_order_relaxed);
      *mac = s.mac.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (s.seq.load(std::memory_order_relaxed) == s1) return;
    }
  }
}

void NeighborTable::write(Slot& s, uint32_t ip, uint64_t mac, uint64_t now_ns) noexcept {
  const uint32_t s0 = s.seq.load(std::memory_order_relaxed);
  s.seq.store(s0 + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  s.ip.store(ip, std::memory_order_relaxed);
  s.mac.store(mac, std::memory_order_relaxed);
  s.updated_ns.store(now_ns, std::memory_order_relaxed);
  s.seq.store(s0 + 2, std::memory_order_release);
}

bool NeighborTable::lookup(uint32_t ip, net::MacAddr* mac) const noexcept {
  if (ip == kEmpty || ip == kTombstone) return false;
  const uint32_t h = home(ip);
  for (uint32_t k = 0; k < kMaxProbes; ++k) {
    const Slot& s = slots_[(h + k) & mask_];
    uint32_t sip;
    uint64_t smac;
    read(s, &sip, &smac);
    if (sip == ip) {
      *mac = u64_to_mac(smac);
      return true;
    }
    if (sip == kEmpty) return false;
  }
  return false;
}

NeighborTable::Slot* NeighborTable::find_writer(uint32_t ip) noexcept {
  const uint32_t h = home(ip);
  for (uint32_t k = 0; k < kMaxProbes; ++k) {
    Slot& s = slots_[(h + k) & mask_];
    const uint32_t sip = s.ip.load(std::memory_order_relaxed);
    if (sip == ip) return &s;
    if (sip == kEmpty) return nullptr;
  }
  return nullptr;
}

NeighborTable::Update NeighborTable::learn(uint32_t ip, const net::MacAddr& mac,
                                           uint64_t now_ns) noexcept {
  if (ip == kEmpty || ip == kTombstone || mac.is_multicast() || mac.is_zero())
    return Update::kInvalid;
  const uint64_t m = mac_to_u64(mac);
  if (Slot* s = find_writer(ip)) {
    if (s->mac.load(std::memory_order_relaxed) == m) {
      s->updated_ns.store(now_ns, std::memory_order_relaxed);
      return Update::kRefreshed;
    }
    write(*s, ip, m, now_ns);
    return Update::kChanged;
  }
  const uint32_t h = home(ip);
  for (uint32_t k = 0; k < kMaxProbes; ++k) {
    Slot& s = slots_[(h + k) & mask_];
    const uint32_t sip = s.ip.load(std::memory_order_relaxed);
    if (sip == kEmpty || sip == kTombstone) {
      write(s, ip, m, now_ns);
      size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return Update::kAdded;
    }
  }
  return Update::kFull;
}

bool NeighborTable::remove(uint32_t ip) noexcept {
  Slot* s = find_writer(ip);
  if (s == nullptr) return false;
  write(*s, kTombstone, 0, 0);
  size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  return true;
}

uint32_t NeighborTable::age(uint64_t now_ns, uint64_t max_age_ns) noexcept {
  uint32_t removed = 0;
  for (uint32_t i = 0; i <= mask_; ++i) {
    Slot& s = slots_[i];
    const uint32_t sip = s.ip.load(std::memory_order_relaxed);
    if (sip == kEmpty || sip == kTombstone) continue;
    const uint64_t t = s.updated_ns.load(std::memory_order_relaxed);
    if (now_ns > t && now_ns - t >= max_age_ns) {
      write(s, kTombstone, 0, 0);
      size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
      ++removed;
    }
  }
  return removed;
}

uint64_t NeighborTable::updated_ns(uint32_t ip) const noexcept {
  const uint32_t h = home(ip);
  for (uint32_t k = 0; k < kMaxProbes; ++k) {
    const Slot& s = slots_[(h + k) & mask_];
    const uint32_t sip = s.ip.load(std::memory_order_relaxed);
    if (sip == ip) return s.updated_ns.load(std::memory_order_relaxed);
    if (sip == kEmpty) return 0;
  }
  return 0;
}

std::vector<NeighborEntry> NeighborTable::dump() const {
  std::vector<NeighborEntry> out;
  for (uint32_t i = 0; i <= mask_; ++i) {
    uint32_t ip;
    uint64_t mac;
    read(slots_[i], &ip, &mac);
    if (ip == kEmpty || ip == kTombstone) continue;
    out.push_back({ip, u64_to_mac(mac), slots_[i].updated_ns.load(std::memory_order_relaxed)});
  }
  return out;
}

}  // namespace vnet::dp
