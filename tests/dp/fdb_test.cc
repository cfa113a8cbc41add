// T1 tests of the FDB (two-choice table, lock-free readers) with an injected clock.
#include "dataplane/fdb.h"

#include <gtest/gtest.h>
#include <rte_rcu_qsbr.h>

#include <array>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "tests/dp/fake_clock.h"
#include "tests/dp/qsbr_helper.h"

namespace vnet::dp {
namespace {

net::MacAddr mac(uint8_t last, uint8_t prev = 0) { return {{0x52, 0x54, 0x00, 0x00, prev, last}}; }
FdbKey key(uint16_t net, uint16_t vlan, net::MacAddr m) { return FdbKey{net, vlan, m, 0}; }

class FdbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FdbOptions o;
    o.name = "fdb_" + std::to_string(counter_++);
    o.capacity = 1024;
    o.max_workers = 2;
    o.qsbr = qsbr_.get();
    auto r = Fdb::create(o);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    fdb_ = std::move(r).value();
    ageing_.fill(Fdb::kDefaultAgeingNs);
  }
  uint16_t port_of(const FdbKey& k) {
    uint16_t p = 0xffff;
    return fdb_->lookup(k, &p) >= 0 ? p : 0xffff;
  }

  static inline int counter_ = 0;
  test::TestQsbr qsbr_{4};
  test::FakeClock clock_;
  std::unique_ptr<Fdb> fdb_;
  std::array<uint64_t, kMaxNetworks> ageing_{};
};

TEST_F(FdbTest, LearnAndLookup) {
  const auto k = key(1, 0, mac(1));
  EXPECT_EQ(port_of(k), 0xffff);
  EXPECT_EQ(fdb_->learn(k, 3, clock_.now_ns(), 8192), LearnResult::kAdded);
  EXPECT_EQ(port_of(k), 3);
  EXPECT_EQ(fdb_->learn(k, 3, clock_.now_ns(), 8192), LearnResult::kRefreshed);
  EXPECT_EQ(fdb_->stats(1).entries.read(), 1u);
  EXPECT_EQ(fdb_->stats(1).learned.read(), 1u);
  EXPECT_EQ(fdb_->size(), 1u);
}

TEST_F(FdbTest, PortZeroIsAValidPort) {
  const auto k = key(0, 0, mac(9));
  ASSERT_EQ(fdb_->learn(k, 0, clock_.now_ns(), 8192), LearnResult::kAdded);
  EXPECT_EQ(port_of(k), 0);
}

TEST_F(FdbTest, NetworksAndVlansAreSeparate) {
  ASSERT_EQ(fdb_->learn(key(1, 10, mac(1)), 1, clock_.now_ns(), 8192), LearnResult::kAdded);
  ASSERT_EQ(fdb_->learn(key(1, 20, mac(1)), 2, clock_.now_ns(), 8192), LearnResult::kAdded);
  ASSERT_EQ(fdb_->learn(key(2, 10, mac(1)), 3, clock_.now_ns(), 8192), LearnResult::kAdded);
  EXPECT_EQ(port_of(key(1, 10, mac(1))), 1);
  EXPECT_EQ(port_of(key(1, 20, mac(1))), 2);
  EXPECT_EQ(port_of(key(2, 10, mac(1))), 3);
  EXPECT_EQ(port_of(key(2, 20, mac(1))), 0xffff);
  EXPECT_EQ(fdb_->stats(1).entries.read(), 2u);
  EXPECT_EQ(fdb_->stats(2).entries.read(), 1u);
}

TEST_F(FdbTest, MacMove) {
  const auto k = key(1, 0, mac(1));
  ASSERT_EQ(fdb_->learn(k, 1, clock_.now_ns(), 8192), LearnResult::kAdded);
  EXPECT_EQ(fdb_->learn(k, 2, clock_.now_ns(), 8192), LearnResult::kMoved);
  EXPECT_EQ(port_of(k), 2);
  EXPECT_EQ(fdb_->port_entries(1), 0u);
  EXPECT_EQ(fdb_->port_entries(2), 1u);
  EXPECT_EQ(fdb_->stats(1).moved.read(), 1u);
  EXPECT_EQ(fdb_->stats(1).entries.read(), 1u);
  std::vector<FdbEntry> rows;
  fdb_->dump(rows, clock_.now_ns(), std::nullopt);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].port, 2);
}

TEST_F(FdbTest, AgeingWithInjectedClock) {
  const auto a = key(1, 0, mac(1));
  const auto b = key(1, 0, mac(2));
  ASSERT_EQ(fdb_->learn(a, 1, clock_.now_ns(), 8192), LearnResult::kAdded);
  ASSERT_EQ(fdb_->learn(b, 2, clock_.now_ns(), 8192), LearnResult::kAdded);
  clock_.advance_s(200);
  // Worker 1 sees b again: the next harvest records it as seen at 200 s.
  uint16_t p = 0;
  const int32_t pos = fdb_->lookup(b, &p);
  ASSERT_GE(pos, 0);
  EXPECT_EQ(fdb_->harvest(clock_.now_ns()), 0u);  // the ageing sweep before the sighting
  fdb_->touch(1, pos);
  fdb_->touch(1, pos);  // marked once
  clock_.advance_s(1);
  EXPECT_EQ(fdb_->harvest(clock_.now_ns()), 1u);  // b seen at 200 s
  EXPECT_EQ(fdb_->harvest(clock_.now_ns()), 0u) << "marks are cleared by a harvest";
  clock_.advance_s(98);
  EXPECT_EQ(fdb_->age(clock_.now_ns(), ageing_), 0u);  // a is 299 s old
  clock_.advance_s(1);
  EXPECT_EQ(fdb_->age(clock_.now_ns(), ageing_), 1u);  // a is 300 s old
  EXPECT_EQ(fdb_->port_entries(1), 0u);
  EXPECT_EQ(fdb_->port_entries(2), 1u);
  EXPECT_EQ(port_of(a), 0xffff);
  EXPECT_EQ(port_of(b), 2);
  std::vector<FdbEntry> rows;
  fdb_->dump(rows, clock_.now_ns(), 1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].age_ns, 100 * kNsPerSec);
  clock_.advance_s(200);
  EXPECT_EQ(fdb_->age(clock_.now_ns(), ageing_), 1u);
  EXPECT_EQ(fdb_->stats(1).aged.read(), 2u);
  EXPECT_EQ(fdb_->stats(1).entries.read(), 0u);
}

TEST_F(FdbTest, AgeingIsPerNetworkAndZeroMeansNever) {
  ageing_[1] = 10 * kNsPerSec;
  ageing_[2] = 0;
  ASSERT_EQ(fdb_->learn(key(1, 0, mac(1)), 1, clock_.now_ns(), 8192), LearnResult::kAdded);
  ASSERT_EQ(fdb_->learn(key(2, 0, mac(1)), 1, clock_.now_ns(), 8192), LearnResult::kAdded);
  ASSERT_EQ(fdb_->learn(key(3, 0, mac(1)), 1, clock_.now_ns(), 8192), LearnResult::kAdded);
  clock_.advance_s(10);
  EXPECT_EQ(fdb_->age(clock_.now_ns(), ageing_), 1u);
  clock_.advance_s(10000);
  EXPECT_EQ(fdb_->age(clock_.now_ns(), ageing_), 1u);  // network 3 at 300 s
  EXPECT_EQ(port_of(key(2, 0, mac(1))), 1);
}

TEST_F(FdbTest, MacLimit) {
  for (uint8_t i = 0; i < 4; ++i)
    ASSERT_EQ(fdb_->learn(key(1, 0, mac(i)), 1, clock_.now_ns(), 4), LearnResult::kAdded);
  EXPECT_EQ(fdb_->learn(key(1, 0, mac(9)), 1, clock_.now_ns(), 4), LearnResult::kLimit);
  EXPECT_EQ(fdb_->stats(1).limit_hits.read(), 1u);
  // Other networks and known MACs are unaffected.
  EXPECT_EQ(fdb_->learn(key(2, 0, mac(9)), 1, clock_.now_ns(), 4), LearnResult::kAdded);
  EXPECT_EQ(fdb_->learn(key(1, 0, mac(0)), 2, clock_.now_ns(), 4), LearnResult::kMoved);
  EXPECT_EQ(fdb_->flush_network(1), 4u);
  EXPECT_EQ(fdb_->learn(key(1, 0, mac(9)), 1, clock_.now_ns(), 4), LearnResult::kAdded);
}

TEST_F(FdbTest, Defaults) {
  EXPECT_EQ(Fdb::kDefaultMacLimit, 8192u);
  EXPECT_EQ(Fdb::kDefaultAgeingNs, 300 * kNsPerSec);
}

TEST_F(FdbTest, FlushPerNetworkPerPort) {
  ASSERT_EQ(fdb_->learn(key(1, 0, mac(1)), 1, clock_.now_ns(), 100), LearnResult::kAdded);
  ASSERT_EQ(fdb_->learn(key(1, 0, mac(2)), 2, clock_.now_ns(), 100), LearnResult::kAdded);
  ASSERT_EQ(fdb_->learn(key(1, 5, mac(3)), 2, clock_.now_ns(), 100), LearnResult::kAdded);
  ASSERT_EQ(fdb_->learn(key(2, 0, mac(4)), 3, clock_.now_ns(), 100), LearnResult::kAdded);
  ASSERT_EQ(fdb_->learn(key(2, 0, mac(5)), 2, clock_.now_ns(), 100), LearnResult::kAdded);
  EXPECT_EQ(fdb_->port_entries(2), 3u);
  EXPECT_EQ(fdb_->port_entries(1), 1u);
  EXPECT_EQ(fdb_->port_entries(kMaxPorts), 0u);
  EXPECT_EQ(fdb_->flush_network_port(1, 2), 2u);
  EXPECT_EQ(fdb_->port_entries(2), 1u);
  EXPECT_EQ(fdb_->size(), 3u);
  EXPECT_EQ(fdb_->flush_port(2), 1u);
  EXPECT_EQ(fdb_->port_entries(2), 0u);
  EXPECT_EQ(fdb_->port_entries(3), 1u);
  EXPECT_EQ(fdb_->flush_network(2), 1u);
  EXPECT_EQ(port_of(key(1, 0, mac(1))), 1);
  EXPECT_EQ(fdb_->flush_all(), 1u);
  EXPECT_EQ(fdb_->size(), 0u);
  EXPECT_EQ(fdb_->stats(1).entries.read(), 0u);
}

TEST_F(FdbTest, DeletedPositionsWaitForGracePeriod) {
  ASSERT_EQ(rte_rcu_qsbr_thread_register(qsbr_.get(), 0), 0);
  rte_rcu_qsbr_thread_online(qsbr_.get(), 0);
  ASSERT_EQ(fdb_->learn(key(1, 0, mac(1)), 1, clock_.now_ns(), 100), LearnResult::kAdded);
  EXPECT_EQ(fdb_->flush_all(), 1u);
  EXPECT_EQ(fdb_->reclaim(), 0u);  // reader 0 has not been quiescent yet
  EXPECT_EQ(fdb_->pending_reclaim(), 1u);
  rte_rcu_qsbr_quiescent(qsbr_.get(), 0);
  EXPECT_EQ(fdb_->reclaim(), 1u);
  EXPECT_EQ(fdb_->pending_reclaim(), 0u);
  rte_rcu_qsbr_thread_offline(qsbr_.get(), 0);
  rte_rcu_qsbr_thread_unregister(qsbr_.get(), 0);
}

TEST_F(FdbTest, TableFullIsReported) {
  uint32_t added = 0;
  LearnResult last = LearnResult::kAdded;
  for (uint32_t i = 0; i < 4096 && last == LearnResult::kAdded; ++i) {
    last = fdb_->learn(key(1, 0, mac(static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8))), 1,
                       clock_.now_ns(), 100000);
    if (last == LearnResult::kAdded) ++added;
  }
  EXPECT_EQ(last, LearnResult::kTableFull);
  EXPECT_EQ(added, 1024u);  // exactly the capacity
  EXPECT_EQ(fdb_->stats(1).limit_hits.read(), 1u);
  EXPECT_EQ(fdb_->capacity(), 1024u);
}

// Filled to capacity with keys that differ in network, VLAN and MAC: every
// one is placed (two-choice buckets never both fill), found through probe +
// find and lookup alike, and the positions are distinct.
TEST_F(FdbTest, FullTableFindsEveryKeyAndReusesReclaimedPositions) {
  auto k_of = [](uint32_t i) {
    return key(static_cast<uint16_t>(i % 3), static_cast<uint16_t>((i / 3) % 5 == 4 ? 4094 : (i / 3) % 5),
               net::MacAddr{{0x02, 0x00, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                             static_cast<uint8_t>(i), 0x00}});
  };
  for (int round = 0; round < 2; ++round) {
    for (uint32_t i = 0; i < 1024; ++i)
      ASSERT_EQ(fdb_->learn(k_of(i), static_cast<uint16_t>(i % 31), clock_.now_ns(), 1024), LearnResult::kAdded)
          << "round " << round << " key " << i;
    std::vector<bool> seen(4096, false);
    for (uint32_t i = 0; i < 1024; ++i) {
      uint16_t p1 = 0xffff;
      uint16_t p2 = 0xffff;
      const int32_t pos = fdb_->find(fdb_->probe(k_of(i)), &p1);
      ASSERT_GE(pos, 0) << i;
      EXPECT_EQ(fdb_->lookup(k_of(i), &p2), pos);
      EXPECT_EQ(p1, i % 31);
      EXPECT_EQ(p2, i % 31);
      ASSERT_LT(static_cast<size_t>(pos), seen.size());
      EXPECT_FALSE(seen[static_cast<size_t>(pos)]) << "position reused while live";
      seen[static_cast<size_t>(pos)] = true;
    }
    uint16_t p = 0;
    EXPECT_LT(fdb_->lookup(key(0, 0, net::MacAddr{}), &p), 0);  // the zero MAC is never an empty slot's key
    EXPECT_LT(fdb_->lookup(key(3, 0, k_of(0).mac), &p), 0);     // same MAC, other network
    EXPECT_EQ(fdb_->flush_all(), 1024u);
    EXPECT_LT(fdb_->lookup(k_of(7), &p), 0);
    EXPECT_EQ(fdb_->reclaim(), 1024u);  // no registered reader: the grace period is over
  }
}

// A large table filled to capacity with random MACs: two-choice placement
// never finds both buckets full before the capacity is reached.
TEST(FdbLarge, RandomMacsFillToCapacity) {
  test::TestQsbr qsbr{2};
  test::FakeClock clock;
  for (uint32_t capacity : {8192u, 262144u}) {
    FdbOptions o;
    o.name = "fdb_large_" + std::to_string(capacity);
    o.capacity = capacity;
    o.max_workers = 1;
    o.qsbr = qsbr.get();
    auto r = Fdb::create(o);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    std::unique_ptr<Fdb> fdb = std::move(r).value();
    std::mt19937_64 rng(capacity);
    uint32_t added = 0;
    for (uint32_t i = 0; i < capacity; ++i) {
      const uint64_t v = rng();
      net::MacAddr m{{static_cast<uint8_t>((v >> 40) & 0xfe), static_cast<uint8_t>(v >> 32),
                      static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
                      static_cast<uint8_t>(v)}};
      const LearnResult lr = fdb->learn(key(1, static_cast<uint16_t>(v >> 52) & 0x3, m), 1, clock.now_ns(), capacity);
      added += lr == LearnResult::kAdded ? 1 : 0;
      ASSERT_NE(lr, LearnResult::kTableFull) << "capacity " << capacity << ": full after " << added;
    }
    EXPECT_GE(added, capacity - 16) << "random duplicates only";
  }
}

// At the load a 100k-station network puts on its table (capacity 262144,
// 200k stations), most keys are in the one line probe() prefetches, and
// find_first/find_rest together find every key exactly where find() does.
TEST(FdbLarge, MostKeysInTheFirstLine) {
  test::TestQsbr qsbr{2};
  test::FakeClock clock;
  FdbOptions o;
  o.name = "fdb_first_line";
  o.capacity = 262144;
  o.qsbr = qsbr.get();
  auto r = Fdb::create(o);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  std::unique_ptr<Fdb> fdb = std::move(r).value();
  std::vector<FdbKey> keys;
  for (uint32_t i = 0; i < 200000; ++i) {
    // Scattered MACs: sequential ones would spread evenly over the buckets.
    const uint64_t v = (uint64_t{i} + 1) * 0x9e3779b97f4a7c15ull;
    const net::MacAddr m{{0x02, static_cast<uint8_t>(v >> 56), static_cast<uint8_t>(v >> 48),
                          static_cast<uint8_t>(v >> 40), static_cast<uint8_t>(v >> 32), static_cast<uint8_t>(v >> 24)}};
    keys.push_back(key(1, 0, m));
    ASSERT_EQ(fdb->learn(keys.back(), static_cast<uint16_t>(i % 7), clock.now_ns(), UINT32_MAX), LearnResult::kAdded);
  }
  uint32_t first = 0;
  for (uint32_t i = 0; i < keys.size(); ++i) {
    const FdbProbe p = fdb->probe(keys[i]);
    uint16_t port = 0xffff;
    const int32_t pos = fdb->find(p, &port);
    ASSERT_GE(pos, 0);
    EXPECT_EQ(port, i % 7);
    uint16_t port1 = 0xffff;
    const int32_t pos1 = fdb->find_first(p, &port1);
    if (pos1 >= 0) {
      ++first;
      EXPECT_EQ(pos1, pos);
      EXPECT_EQ(port1, port);
    } else {
      EXPECT_EQ(fdb->find_rest(p, &port1), pos);
    }
  }
  EXPECT_GE(first, keys.size() * 85 / 100) << first << " of " << keys.size() << " in the first line";
  EXPECT_LT(first, keys.size()) << "some keys in the other lines: find_rest was exercised";
  // An absent key: in no line.
  uint16_t port = 0;
  const FdbProbe absent = fdb->probe(key(2, 0, mac(1)));
  EXPECT_LT(fdb->find_first(absent, &port), 0);
  EXPECT_LT(fdb->find_rest(absent, &port), 0);
}

TEST_F(FdbTest, HarvestTakesEveryWorkersMarksOfLiveEntriesOnly) {
  const auto a = key(1, 0, mac(1));
  const auto b = key(1, 0, mac(2));
  ASSERT_EQ(fdb_->learn(a, 1, clock_.now_ns(), 8192), LearnResult::kAdded);
  ASSERT_EQ(fdb_->learn(b, 2, clock_.now_ns(), 8192), LearnResult::kAdded);
  uint16_t p = 0;
  const int32_t pa = fdb_->lookup(a, &p);
  const int32_t pb = fdb_->lookup(b, &p);
  clock_.advance_s(100);
  EXPECT_EQ(fdb_->harvest(clock_.now_ns()), 0u);
  fdb_->touch(0, pa);
  fdb_->touch(1, pb);
  clock_.advance_s(1);
  EXPECT_EQ(fdb_->harvest(clock_.now_ns()), 2u) << "seen since 100 s";
  // A mark on an entry deleted before the harvest is dropped.
  fdb_->touch(0, pa);
  ASSERT_EQ(fdb_->flush_port(1), 1u);
  EXPECT_EQ(fdb_->harvest(clock_.now_ns()), 0u);
  clock_.advance_s(249);
  std::vector<FdbEntry> rows;
  fdb_->dump(rows, clock_.now_ns(), 1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].age_ns, 250 * kNsPerSec) << "b seen at 100 s";
  // dump() harvests too: a mark since the previous harvest (the dump at 350 s).
  fdb_->touch(1, pb);
  clock_.advance_s(10);
  rows.clear();
  fdb_->dump(rows, clock_.now_ns(), 1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].age_ns, 10 * kNsPerSec);
}

TEST_F(FdbTest, CreateChecksCapacity) {
  FdbOptions o;
  o.qsbr = qsbr_.get();
  o.capacity = 0;
  EXPECT_FALSE(Fdb::create(o).is_ok());
  o.capacity = Fdb::kMaxCapacity + 1;
  EXPECT_FALSE(Fdb::create(o).is_ok());
}

// One writer learning, moving and flushing while a reader looks up: the
// reader only ever sees ports the writer wrote. The writer waits for reader
// progress each round so the two interleave even on a loaded 2-core box.
TEST_F(FdbTest, ConcurrentReaderSeesOnlyValidPorts) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bad{0};
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> loops{0};
  std::thread reader([&] {
    rte_rcu_qsbr_thread_register(qsbr_.get(), 1);
    rte_rcu_qsbr_thread_online(qsbr_.get(), 1);
    while (!stop.load()) {
      for (uint8_t i = 0; i < 64; ++i) {
        uint16_t p = 0;
        if (fdb_->lookup(key(1, 0, mac(i)), &p) >= 0) {
          hits.fetch_add(1, std::memory_order_relaxed);
          if (p != 1 && p != 2) bad.fetch_add(1);
        }
      }
      rte_rcu_qsbr_quiescent(qsbr_.get(), 1);
      loops.fetch_add(1);
    }
    rte_rcu_qsbr_thread_offline(qsbr_.get(), 1);
    rte_rcu_qsbr_thread_unregister(qsbr_.get(), 1);
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (int round = 0; round < 300 && std::chrono::steady_clock::now() < deadline; ++round) {
    for (uint8_t i = 0; i < 64; ++i)
      EXPECT_NE(fdb_->learn(key(1, 0, mac(i)), 1 + (round & 1), 0, 8192), LearnResult::kTableFull);
    const uint64_t seen = loops.load();
    while (loops.load() < seen + 2 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
    if (round % 3 == 0) fdb_->flush_all();
    while (fdb_->pending_reclaim() > 0 && std::chrono::steady_clock::now() < deadline) {
      fdb_->reclaim();
      std::this_thread::yield();
    }
  }
  stop = true;
  reader.join();
  fdb_->reclaim();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
}

}  // namespace
}  // namespace vnet::dp
