// Session table: both indexes, deletion, capacity, expiry sweep, dump, memory.
#include "nat/session_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "nat/bytes.h"
#include "tests/unit/nat/packet.h"

namespace vnet::nat {
namespace {

using test::ip;

Session make(uint32_t in_addr, uint16_t in_port, uint32_t remote, uint16_t rport, uint16_t ext_port,
             uint8_t proto = kProtoUdp, uint64_t expires = 100) {
  Session s{};
  s.in_addr = in_addr;
  s.in_port = in_port;
  s.remote_addr = remote;
  s.remote_port = rport;
  s.ext_addr = ip(198, 51, 100, 2);
  s.ext_port = ext_port;
  s.proto = proto;
  s.expires_ns = expires;
  return s;
}

TEST(SessionTable, FindsBothWays) {
  SessionTable t(16, 1);
  const Session s = make(ip(10, 0, 0, 2), 5000, ip(8, 8, 8, 8), 53, 6000);
  Session* p = t.insert(s);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.find_in(s.in_key()), p);
  EXPECT_EQ(t.find_out(s.out_key()), p);
  FlowKey other = s.in_key();
  other.proto = kProtoTcp;
  EXPECT_EQ(t.find_in(other), nullptr);
  other = s.out_key();
  other.remote_port = 54;
  EXPECT_EQ(t.find_out(other), nullptr);
  t.erase(p);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.find_in(s.in_key()), nullptr);
  EXPECT_EQ(t.find_out(s.out_key()), nullptr);
}

TEST(SessionTable, FullTableRefusesInsert) {
  SessionTable t(4, 2);
  for (uint16_t i = 0; i < 4; ++i)
    ASSERT_NE(t.insert(make(ip(10, 0, 0, 2), i, ip(1, 1, 1, 1), 80, i)), nullptr);
  EXPECT_EQ(t.insert(make(ip(10, 0, 0, 2), 9, ip(1, 1, 1, 1), 80, 9)), nullptr);
  EXPECT_EQ(t.size(), 4u);
}

// Random inserts and erases against a std::map model: every live session is
// found through both indexes and every erased one through neither (this
// exercises backward-shift deletion on long clusters).
TEST(SessionTable, MatchesModelUnderChurn) {
  SessionTable t(512, 3);
  std::mt19937 rng(4);
  std::map<std::tuple<uint32_t, uint16_t>, Session*> live;
  for (int step = 0; step < 20000; ++step) {
    const uint32_t a = ip(10, 0, 0, static_cast<uint8_t>(rng() % 8));
    const auto port = static_cast<uint16_t>(rng() % 600);
    auto it = live.find({a, port});
    if (it == live.end()) {
      Session* p = t.insert(make(a, port, ip(1, 1, 1, 1), 80, static_cast<uint16_t>(port + (a & 7) * 1000)));
      if (live.size() < t.capacity()) {
        ASSERT_NE(p, nullptr);
        live[{a, port}] = p;
      } else {
        ASSERT_EQ(p, nullptr);
      }
    } else {
      t.erase(it->second);
      live.erase(it);
    }
    ASSERT_EQ(t.size(), live.size());
    if (step % 1000 == 0) {
      for (auto& [k, p] : live) {
        ASSERT_EQ(t.find_in(p->in_key()), p);
        ASSERT_EQ(t.find_out(p->out_key()), p);
      }
    }
  }
  for (uint32_t h = 0; h < 8; ++h) {
    for (uint16_t port = 0; port < 600; ++port) {
      const bool present = live.count({ip(10, 0, 0, static_cast<uint8_t>(h)), port}) > 0;
      const Session probe = make(ip(10, 0, 0, static_cast<uint8_t>(h)), port, ip(1, 1, 1, 1), 80,
                                 static_cast<uint16_t>(port + h * 1000));
      ASSERT_EQ(t.find_in(probe.in_key()) != nullptr, present);
      ASSERT_EQ(t.find_out(probe.out_key()) != nullptr, present);
    }
  }
}

TEST(SessionTable, ExpireSweepsWithinBudget) {
  SessionTable t(8, 5);
  for (uint16_t i = 0; i < 8; ++i)
    t.insert(make(ip(10, 0, 0, 2), i, ip(1, 1, 1, 1), 80, i, kProtoUdp, i < 4 ? 100 : 200));
  EXPECT_EQ(t.expire(99, 8), 0u);
  EXPECT_EQ(t.expire(100, 2), 2u);  // budget: only 2 slots visited
  EXPECT_EQ(t.expire(100, 8), 2u);
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t.expire(1000, 100), 4u);
  EXPECT_EQ(t.size(), 0u);
  // Freed slots are reusable.
  for (uint16_t i = 0; i < 8; ++i)
    EXPECT_NE(t.insert(make(ip(10, 0, 0, 3), i, ip(1, 1, 1, 1), 80, i)), nullptr);
}

// The sweep cycles over the used slots only: in a table far larger than its
// load a session is checked within (used slots / budget) calls, not
// (capacity / budget).
TEST(SessionTable, ExpireSweepStaysBelowTheHighWaterMark) {
  SessionTable t(1u << 16, 5);
  for (uint16_t i = 0; i < 4; ++i) ASSERT_NE(t.insert(make(ip(10, 0, 0, 2), i, ip(1, 1, 1, 1), 80, i)), nullptr);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(t.expire(50, 64), 0u);  // visits slots 0..3 each time
  size_t removed = 0;
  for (int k = 0; k < 4; ++k) removed += t.expire(100, 1);
  EXPECT_EQ(removed, 4u);
  EXPECT_EQ(t.size(), 0u);
  // Slots freed below the mark are reused first, so the mark stays put.
  for (uint16_t i = 0; i < 4; ++i)
    ASSERT_NE(t.insert(make(ip(10, 0, 0, 3), i, ip(1, 1, 1, 1), 80, i, kProtoUdp, 300)), nullptr);
  removed = 0;
  for (int k = 0; k < 4; ++k) removed += t.expire(300, 1);
  EXPECT_EQ(removed, 4u);
  t.clear();
  EXPECT_EQ(t.expire(1000, 64), 0u);
}

TEST(SessionTable, DumpResumesAtCursorAndSkipsExpired) {
  SessionTable t(10, 6);
  for (uint16_t i = 0; i < 10; ++i)
    t.insert(make(ip(10, 0, 0, 2), i, ip(1, 1, 1, 1), 80, i, kProtoUdp, i == 3 ? 5 : 100));
  std::vector<Session> out(4);
  uint32_t cursor = 0;
  size_t total = 0;
  int calls = 0;
  while (cursor < t.capacity()) {
    total += t.dump(out, &cursor, 10);
    ++calls;
  }
  EXPECT_EQ(total, 9u);
  EXPECT_GE(calls, 3);
}

TEST(SessionTable, SessionIsOneCacheLine) {
  EXPECT_EQ(sizeof(Session), 64u);
  EXPECT_EQ(alignof(Session), 64u);
  EXPECT_EQ(sizeof(FlowKey), 16u);
  // Every slot starts a line, small (malloc'ed) and large (huge-page) tables alike.
  for (uint32_t capacity : {1u, 100u, 40000u}) {
    SessionTable t(capacity, 3);
    Session* s = t.insert(make(ip(10, 0, 0, 2), 1, ip(1, 1, 1, 1), 80, 1));
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(s) % 64, 0u) << capacity;
  }
}

// The hash-taking prefetch overloads use the same hash as the key-taking
// ones and as the lookups (prefetching is only a hint, but a wrong hash
// would fetch the wrong line for every packet).
TEST(SessionTable, KeyHashIsStableAndSeeded) {
  SessionTable a(1024, 1), b(1024, 1), c(1024, 2);
  const FlowKey k{ip(10, 0, 0, 2), ip(1, 1, 1, 1), 1000, 80, kProtoUdp};
  EXPECT_EQ(a.key_hash(k), b.key_hash(k));
  EXPECT_NE(a.key_hash(k), c.key_hash(k));
  FlowKey k2 = k;
  k2.remote_port = 81;
  EXPECT_NE(a.key_hash(k), a.key_hash(k2));
  a.prefetch_index(a.key_hash(k), false);
  a.prefetch_session(a.key_hash(k), false);  // empty slot: nothing to fetch
  ASSERT_NE(a.insert(make(ip(10, 0, 0, 2), 1000, ip(1, 1, 1, 1), 80, 1000)), nullptr);
  a.prefetch_session(a.key_hash(k), false);
  a.prefetch_session(k, true);
  EXPECT_NE(a.find_in(k), nullptr);
}

TEST(SessionTable, OneMillionSessionsFitIn256MB) {
  constexpr uint32_t kMillion = 1'000'000;
  SessionTable t(kMillion, 7);
  EXPECT_LE(t.memory_bytes(), size_t{256} << 20);
  // Fill it completely: every slot usable, both indexes consistent.
  for (uint32_t i = 0; i < kMillion; ++i) {
    Session s = make(ip(10, 0, 0, 0) + (i >> 16), static_cast<uint16_t>(i), ip(1, 1, 1, 1), 80,
                     static_cast<uint16_t>(i));
    s.ext_addr = ip(198, 51, 100, 0) + (i >> 16);
    ASSERT_NE(t.insert(s), nullptr) << i;
  }
  EXPECT_EQ(t.size(), kMillion);
  Session probe = make(ip(10, 0, 0, 0) + (777777 >> 16), static_cast<uint16_t>(777777),
                       ip(1, 1, 1, 1), 80, static_cast<uint16_t>(777777));
  probe.ext_addr = ip(198, 51, 100, 0) + (777777 >> 16);
  EXPECT_NE(t.find_in(probe.in_key()), nullptr);
  EXPECT_NE(t.find_out(probe.out_key()), nullptr);
}

TEST(SessionTable, FormatSession) {
  Session s = make(ip(192, 168, 122, 10), 40000, ip(203, 0, 113, 5), 80, 40001, kProtoTcp,
                   3 * kNsPerSec);
  s.tcp_state = TcpState::kEstablished;
  s.pkts_in2out = 12;
  s.pkts_out2in = 10;
  EXPECT_EQ(format_session(s, kNsPerSec),
            "tcp ESTABLISHED 192.168.122.10:40000 -> 203.0.113.5:80 via 198.51.100.2:40001 "
            "expires 2s pkts 12/10");
  Session e = make(ip(192, 168, 122, 10), 7, ip(203, 0, 113, 5), 0, 9, kProtoIcmp, 0);
  EXPECT_EQ(format_session(e, 5),
            "icmp id 7 192.168.122.10 -> 203.0.113.5 via 198.51.100.2 id 9 expires 0s pkts 0/0");
  Session g = make(ip(192, 168, 122, 10), 0, ip(203, 0, 113, 5), 0, 0, 47, 0);
  EXPECT_EQ(format_session(g, 0),
            "ip/47 192.168.122.10 -> 203.0.113.5 via 198.51.100.2 expires 0s pkts 0/0");
}

}  // namespace
}  // namespace vnet::nat
