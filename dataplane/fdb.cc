#include "dataplane/fdb.h"

#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace vnet::dp {

Result<std::unique_ptr<Fdb>> Fdb::create(const FdbOptions& options) {
  if (options.qsbr == nullptr) return Status{StatusCode::kInvalidArgument, "fdb: qsbr is required"};
  if (options.max_workers == 0 || options.max_workers > kMaxWorkers)
    return Status{StatusCode::kInvalidArgument, "fdb: bad max_workers"};
  if (options.capacity == 0 || options.capacity > kMaxCapacity)
    return Status{StatusCode::kInvalidArgument,
                  "fdb: capacity must be in 1.." + std::to_string(kMaxCapacity)};
  std::unique_ptr<Fdb> fdb(new Fdb());
  // Twice as many ways as entries: two-choice placement then never finds
  // both buckets full (FdbLarge.RandomMacsFillToCapacity checks it).
  const uint32_t slots = std::max<uint32_t>(64, std::bit_ceil(2 * options.capacity));
  const uint32_t buckets = slots / kWays;
  fdb->capacity_ = options.capacity;
  fdb->slot_count_ = slots;
  fdb->bucket_mask_ = buckets - 1;
  fdb->bucket_shift_ = 64 - static_cast<uint32_t>(std::countr_zero(buckets));
  fdb->qsbr_ = options.qsbr;
  fdb->max_workers_ = options.max_workers;

  fdb->buckets_mem_ = TableMemory::allocate(options.name + "_b", size_t{buckets} * sizeof(Bucket), options.socket_id);
  if (fdb->buckets_mem_.get() == nullptr)
    return Status{StatusCode::kResourceExhausted, "fdb: no memory for " + options.name};
  fdb->buckets_ = static_cast<Bucket*>(fdb->buckets_mem_.get());
  fdb->seen_words_ = slots / 64;  // slots >= 64, a power of two
  fdb->seen_bits_mem_ = TableMemory::allocate(
      options.name + "_seen", size_t{fdb->seen_words_} * options.max_workers * sizeof(uint64_t), options.socket_id);
  if (fdb->seen_bits_mem_.get() == nullptr)
    return Status{StatusCode::kResourceExhausted, "fdb: no memory for " + options.name};
  fdb->seen_bits_ = static_cast<std::atomic<uint64_t>*>(fdb->seen_bits_mem_.get());
  static_assert(sizeof(std::atomic<uint64_t>) == sizeof(uint64_t) && std::atomic<uint64_t>::is_always_lock_free);

  fdb->slots_ = std::make_unique<Slot[]>(slots);
  fdb->pending_.reserve(slots);
  fdb->net_stats_ = std::make_unique<FdbNetworkStats[]>(kMaxNetworks);
  return fdb;
}

Fdb::~Fdb() = default;

uint32_t Fdb::used_ways(uint32_t bucket, uint32_t from, uint32_t to) const noexcept {
  uint32_t n = 0;
  for (uint32_t w = from; w < to; ++w) n += slots_[bucket * kWays + w].state != SlotState::kFree ? 1 : 0;
  return n;
}

int32_t Fdb::free_way(uint32_t bucket, uint32_t from, uint32_t to) const noexcept {
  for (uint32_t w = from; w < to; ++w)
    if (slots_[bucket * kWays + w].state == SlotState::kFree) return static_cast<int32_t>(bucket * kWays + w);
  return -1;
}

// First line of the first bucket, first line of the second, then the
// emptier second line (ties: the first bucket's): readers find most keys in
// the one line probe() prefetches.
int32_t Fdb::place(const FdbProbe& p) const noexcept {
  if (const int32_t pos = free_way(p.bucket1, 0, kLineWays); pos >= 0) return pos;
  if (const int32_t pos = free_way(p.bucket2, 0, kLineWays); pos >= 0) return pos;
  const bool second_first = used_ways(p.bucket2, kLineWays, kWays) < used_ways(p.bucket1, kLineWays, kWays);
  const uint32_t a = second_first ? p.bucket2 : p.bucket1;
  const uint32_t b = second_first ? p.bucket1 : p.bucket2;
  if (const int32_t pos = free_way(a, kLineWays, kWays); pos >= 0) return pos;
  return free_way(b, kLineWays, kWays);
}

LearnResult Fdb::learn(const FdbKey& key, uint16_t port, uint64_t now_ns,
                       uint32_t mac_limit) noexcept {
  FdbNetworkStats& st = net_stats_[key.network % kMaxNetworks];
  const FdbProbe p = probe(key);
  uint16_t old_port = 0;
  const int32_t existing = find(p, &old_port);
  if (existing >= 0) {
    Slot& s = slots_[existing];
    if (s.is_static && s.port != port) return LearnResult::kStatic;
    s.seen_ns = std::max(s.seen_ns, now_ns);
    if (s.port == port) return LearnResult::kRefreshed;
    // MAC move: one atomic store of the data word.
    buckets_[static_cast<uint32_t>(existing) / kWays].ways[static_cast<uint32_t>(existing) % kWays].data.store(
        uint64_t{key.network} | uint64_t{port} << 16, std::memory_order_release);
    count_port(s.port, -1);
    count_port(port, +1);
    s.port = port;
    st.moved.add();
    version_.fetch_add(1, std::memory_order_release);
    return LearnResult::kMoved;
  }
  if (st.entries.read() >= mac_limit) {
    st.limit_hits.add();
    return LearnResult::kLimit;
  }
  const int32_t pos = live_.read() < capacity_ ? place(p) : -1;
  if (pos < 0) {
    st.limit_hits.add();
    return LearnResult::kTableFull;
  }
  // Data first, then the key with release: a reader that sees the key sees its port.
  Bucket& bk = buckets_[static_cast<uint32_t>(pos) / kWays];
  const uint32_t way = static_cast<uint32_t>(pos) % kWays;
  bk.ways[way].data.store(uint64_t{key.network} | uint64_t{port} << 16, std::memory_order_relaxed);
  bk.ways[way].key.store(p.key_word, std::memory_order_release);
  Slot& s = slots_[pos];
  s.key = key;
  s.port = port;
  s.state = SlotState::kLive;
  s.is_static = false;
  s.seen_ns = now_ns;
  st.entries.add();
  st.learned.add();
  count_port(port, +1);
  live_.add();
  return LearnResult::kAdded;
}

LearnResult Fdb::learn_static(const FdbKey& key, uint16_t port, uint64_t now_ns) noexcept {
  uint16_t old_port = 0;
  const int32_t existing = lookup(key, &old_port);
  if (existing >= 0 && slots_[existing].is_static && slots_[existing].port == port)
    return LearnResult::kRefreshed;
  if (existing >= 0) slots_[existing].is_static = false;
  const LearnResult r = learn(key, port, now_ns, UINT32_MAX);
  const int32_t pos = lookup(key, &old_port);
  if (pos >= 0) slots_[pos].is_static = true;
  return r;
}

uint32_t Fdb::harvest(uint64_t now_ns) noexcept {
  // A mark was set after the previous harvest cleared it: that harvest's
  // time is its sighting (never later than the real one).
  const uint64_t stamp = std::min(harvested_ns_, now_ns);
  harvested_ns_ = now_ns;
  uint32_t n = 0;
  for (uint16_t w = 0; w < max_workers_; ++w) {
    std::atomic<uint64_t>* bits = &seen_bits_[size_t{w} * seen_words_];
    for (uint32_t i = 0; i < seen_words_; ++i) {
      if (bits[i].load(std::memory_order_relaxed) == 0) continue;
      uint64_t marks = bits[i].exchange(0, std::memory_order_relaxed);
      while (marks != 0) {
        Slot& s = slots_[i * 64 + static_cast<uint32_t>(std::countr_zero(marks))];
        marks &= marks - 1;
        if (s.state != SlotState::kLive) continue;  // deleted since the mark
        s.seen_ns = std::max(s.seen_ns, stamp);
        ++n;
      }
    }
  }
  return n;
}

void Fdb::remove(int32_t position) noexcept {
  Slot& s = slots_[position];
  if (s.state != SlotState::kLive) return;
  buckets_[static_cast<uint32_t>(position) / kWays].ways[static_cast<uint32_t>(position) % kWays].key.store(
      0, std::memory_order_release);
  s.state = SlotState::kDeleted;
  version_.fetch_add(1, std::memory_order_release);
  FdbNetworkStats& st = net_stats_[s.key.network % kMaxNetworks];
  st.entries.store_sub(1);
  count_port(s.port, -1);
  live_.store_sub(1);
  pending_.push_back({position, rte_rcu_qsbr_start(qsbr_)});
}

template <class Pred>
uint32_t Fdb::remove_if(Pred pred) noexcept {
  uint32_t n = 0;
  for (uint32_t i = 0; i < slot_count_; ++i) {
    const auto pos = static_cast<int32_t>(i);
    if (slots_[i].state == SlotState::kLive && pred(slots_[i], pos)) {
      remove(pos);
      ++n;
    }
  }
  return n;
}

uint32_t Fdb::age(uint64_t now_ns, std::span<const uint64_t, kMaxNetworks> ageing_ns) noexcept {
  harvest(now_ns);
  return remove_if([&](const Slot& s, int32_t) {
    const uint64_t limit = ageing_ns[s.key.network % kMaxNetworks];
    if (limit == 0 || s.is_static) return false;
    const uint64_t seen = s.seen_ns;
    if (now_ns <= seen || now_ns - seen < limit) return false;
    net_stats_[s.key.network % kMaxNetworks].aged.add();
    return true;
  });
}

uint32_t Fdb::flush_network(uint16_t network) noexcept {
  return remove_if([&](const Slot& s, int32_t) { return s.key.network == network && !s.is_static; });
}

uint32_t Fdb::flush_port(uint16_t port) noexcept {
  return remove_if([&](const Slot& s, int32_t) { return s.port == port; });
}

uint32_t Fdb::flush_network_port(uint16_t network, uint16_t port) noexcept {
  return remove_if(
      [&](const Slot& s, int32_t) { return s.key.network == network && s.port == port && !s.is_static; });
}

uint32_t Fdb::flush_all() noexcept {
  return remove_if([](const Slot&, int32_t) { return true; });
}

void Fdb::dump(std::vector<FdbEntry>& out, uint64_t now_ns,
               std::optional<uint16_t> network) {
  harvest(now_ns);
  for (uint32_t i = 0; i < slot_count_; ++i) {
    const Slot& s = slots_[i];
    if (s.state != SlotState::kLive) continue;
    if (network && s.key.network != *network) continue;
    const uint64_t seen = s.seen_ns;
    out.push_back({s.key.network, s.key.vlan, s.key.mac, s.port,
                   s.is_static || now_ns <= seen ? 0 : now_ns - seen, s.is_static});
  }
}

uint32_t Fdb::reclaim() noexcept {
  uint32_t n = 0;
  // Tokens are increasing, so the pending list is in grace-period order.
  size_t i = 0;
  for (; i < pending_.size(); ++i) {
    if (rte_rcu_qsbr_check(qsbr_, pending_[i].token, false) != 1) break;
    slots_[pending_[i].position] = Slot{};
    ++n;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(i));
  return n;
}

}  // namespace vnet::dp
