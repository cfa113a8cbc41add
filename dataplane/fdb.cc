#include "dataplane/fdb.h"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <cstring>

namespace vnet::dp {

namespace {

// rte_hash_crc(key, 16, init) unrolled for the fixed key size: the same value
// without the generic length loop.
uint32_t fdb_key_hash(const void* key, uint32_t /*key_len*/, uint32_t init) {
  uint64_t w[2];
  std::memcpy(w, key, sizeof(w));
  return rte_hash_crc_8byte(w[1], rte_hash_crc_8byte(w[0], init));
}
static_assert(sizeof(FdbKey) == 16);

}  // namespace

Result<std::unique_ptr<Fdb>> Fdb::create(const FdbOptions& options) {
  if (options.qsbr == nullptr) return Status{StatusCode::kInvalidArgument, "fdb: qsbr is required"};
  if (options.max_workers == 0 || options.max_workers > kMaxWorkers)
    return Status{StatusCode::kInvalidArgument, "fdb: bad max_workers"};
  std::unique_ptr<Fdb> fdb(new Fdb());
  rte_hash_parameters params{};
  params.name = options.name.c_str();
  params.entries = std::max<uint32_t>(options.capacity, 16);
  params.key_len = sizeof(FdbKey);
  params.hash_func = fdb_key_hash;
  params.hash_func_init_val = 0;
  params.socket_id = options.socket_id;
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  fdb->hash_ = rte_hash_create(&params);
  if (fdb->hash_ == nullptr)
    return Status{StatusCode::kResourceExhausted,
                  "fdb: rte_hash_create(" + options.name + "): " + rte_strerror(rte_errno)};
  fdb->qsbr_ = options.qsbr;
  fdb->max_workers_ = options.max_workers;
  fdb->slot_count_ = static_cast<uint32_t>(rte_hash_max_key_id(fdb->hash_)) + 1;
  fdb->slots_ = std::make_unique<Slot[]>(fdb->slot_count_);
  fdb->last_seen_ =
      std::make_unique<std::atomic<uint64_t>[]>(size_t{fdb->slot_count_} * options.max_workers);
  fdb->pending_.reserve(fdb->slot_count_);
  fdb->net_stats_ = std::make_unique<FdbNetworkStats[]>(kMaxNetworks);
  return fdb;
}

Fdb::~Fdb() {
  if (hash_ != nullptr) rte_hash_free(hash_);
}

int32_t Fdb::lookup(const FdbKey& key, uint16_t* port) const noexcept {
  void* data = nullptr;
  const int32_t pos = rte_hash_lookup_data(hash_, &key, &data);
  if (pos < 0) return -1;
  *port = static_cast<uint16_t>(reinterpret_cast<uintptr_t>(data));
  return pos;
}

LearnResult Fdb::learn(const FdbKey& key, uint16_t port, uint64_t now_ns,
                       uint32_t mac_limit) noexcept {
  FdbNetworkStats& st = net_stats_[key.network % kMaxNetworks];
  void* data = reinterpret_cast<void*>(static_cast<uintptr_t>(port));
  const int32_t existing = rte_hash_lookup(hash_, &key);
  if (existing >= 0) {
    Slot& s = slots_[existing];
    if (s.is_static && s.port != port) return LearnResult::kStatic;
    s.learned_ns = now_ns;
    if (s.port == port) return LearnResult::kRefreshed;
    // MAC move: an atomic update of the data pointer of an existing key.
    if (rte_hash_add_key_data(hash_, &key, data) < 0) return LearnResult::kTableFull;
    s.port = port;
    st.moved.add();
    return LearnResult::kMoved;
  }
  if (st.entries.read() >= mac_limit) {
    st.limit_hits.add();
    return LearnResult::kLimit;
  }
  // The data goes in with the key, so readers never see the key without its port.
  if (rte_hash_add_key_data(hash_, &key, data) < 0) {
    st.limit_hits.add();
    return LearnResult::kTableFull;
  }
  const int32_t pos = rte_hash_lookup(hash_, &key);
  if (pos < 0) return LearnResult::kTableFull;  // cannot happen: we are the only writer
  Slot& s = slots_[pos];
  s.key = key;
  s.port = port;
  s.state = SlotState::kLive;
  s.learned_ns = now_ns;
  st.entries.add();
  st.learned.add();
  live_.add();
  return LearnResult::kAdded;
}

LearnResult Fdb::learn_static(const FdbKey& key, uint16_t port, uint64_t now_ns) noexcept {
  const int32_t existing = rte_hash_lookup(hash_, &key);
  if (existing >= 0 && slots_[existing].is_static && slots_[existing].port == port)
    return LearnResult::kRefreshed;
  if (existing >= 0) slots_[existing].is_static = false;
  const LearnResult r = learn(key, port, now_ns, UINT32_MAX);
  const int32_t pos = rte_hash_lookup(hash_, &key);
  if (pos >= 0) slots_[pos].is_static = true;
  return r;
}

uint64_t Fdb::last_sighting(int32_t position) const noexcept {
  uint64_t t = slots_[position].learned_ns;
  for (uint16_t w = 0; w < max_workers_; ++w)
    t = std::max(t, last_seen_[size_t{w} * slot_count_ + static_cast<uint32_t>(position)].load(
                        std::memory_order_relaxed));
  return t;
}

void Fdb::remove(int32_t position) noexcept {
  Slot& s = slots_[position];
  const int32_t pos = rte_hash_del_key(hash_, &s.key);
  if (pos < 0) return;
  s.state = SlotState::kDeleted;
  FdbNetworkStats& st = net_stats_[s.key.network % kMaxNetworks];
  st.entries.store_sub(1);
  live_.store_sub(1);
  pending_.push_back({pos, rte_rcu_qsbr_start(qsbr_)});
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
  return remove_if([&](const Slot& s, int32_t pos) {
    const uint64_t limit = ageing_ns[s.key.network % kMaxNetworks];
    if (limit == 0 || s.is_static) return false;
    const uint64_t seen = last_sighting(pos);
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
               std::optional<uint16_t> network) const {
  for (uint32_t i = 0; i < slot_count_; ++i) {
    const Slot& s = slots_[i];
    if (s.state != SlotState::kLive) continue;
    if (network && s.key.network != *network) continue;
    const uint64_t seen = last_sighting(static_cast<int32_t>(i));
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
    rte_hash_free_key_with_position(hash_, pending_[i].position);
    slots_[pending_[i].position] = Slot{};
    ++n;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(i));
  return n;
}

}  // namespace vnet::dp
