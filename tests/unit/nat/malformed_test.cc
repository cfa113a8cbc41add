// Malformed and truncated packets: every entry point (in2out, out2in,
// prefetch, out2in_worker, route decisions, ttl_decrement, ICMP builders) returns a
// counted drop and never reads or writes outside the span it was given.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "nat/bytes.h"
#include "nat/icmp_build.h"
#include "nat/nat.h"
#include "nat/route.h"
#include "tests/unit/nat/packet.h"

namespace vnet::nat {
namespace {

using test::Bytes;
using test::ip;
using test::kGuest;
using test::kExt;
using test::kPeer;

constexpr std::byte kGuard{0xa5};
constexpr size_t kGuardSize = 64;

NatConfig config() { return test::guest_nat(kDefaultPortFirst, kDefaultPortLast, 2); }

std::vector<Bytes> samples() {
  std::vector<Bytes> v;
  v.push_back(test::udp(kGuest, 5000, kPeer, 53, 7));
  v.push_back(test::tcp(kGuest, 5000, kPeer, 80, l4::kTcpSyn, 3));
  v.push_back(test::icmp_echo(kGuest, kPeer, icmp::kEchoRequest, 5, 3));
  v.push_back(test::ipv4(kGuest, kPeer, 47, 6));
  v.push_back(test::udp(kPeer, 53, kExt, 5000, 7));
  v.push_back(test::tcp(kPeer, 80, kExt, 5000, l4::kTcpAck, 3));
  v.push_back(test::icmp_echo(kPeer, kExt, icmp::kEchoReply, 5, 3));
  const Bytes sent = test::udp(kExt, 5000, kPeer, 53, 7);
  for (size_t q : {size_t{20}, size_t{27}, size_t{28}, sent.size()})
    v.push_back(test::icmp_error(ip(192, 0, 2, 1), kExt, 3, 3, sent, q));
  const Bytes got = test::udp(kPeer, 53, kGuest, 5000, 7);
  for (size_t q : {size_t{20}, size_t{28}, got.size()})
    v.push_back(test::icmp_error(kGuest, kPeer, 3, 3, got, q));
  return v;
}

// Runs every entry point on the first `size` bytes of pkt, placed in a
// buffer followed by guard bytes, and checks the guard is intact.
void exercise(NatWorker& w, const Bytes& pkt, size_t size) {
  Bytes buf(size + kGuardSize, kGuard);
  std::copy(pkt.begin(), pkt.begin() + static_cast<long>(std::min(size, pkt.size())), buf.begin());
  const std::span<std::byte> s(buf.data(), size);
  RoutePolicy rp;
  rp.mode = L3Mode::kRoute;
  rp.subnets.add(ip(192, 168, 122, 1), 24);
  (void)w.plan().out2in_worker(s);
  (void)w.out2in_worker(s, 0);
  const uint32_t sessions = w.table().size();
  for (Dir d : {Dir::kIn2Out, Dir::kOut2In})
    for (int stage : {1, 2}) w.prefetch(s, d, stage);  // reads within s only; a hint
  ASSERT_EQ(w.table().size(), sessions);
  (void)route_outbound(rp, s, true);
  (void)route_inbound(rp, s, true);
  Bytes out(kIcmpErrorMaxSize);
  (void)build_port_unreachable(out, s, kExt);
  (void)build_time_exceeded(out, s, kExt);
  Bytes copy(buf);
  (void)w.in2out(std::span<std::byte>(copy.data(), size), 1);
  for (size_t i = size; i < copy.size(); ++i) ASSERT_EQ(copy[i], kGuard) << "in2out wrote past";
  copy = buf;
  (void)w.out2in(std::span<std::byte>(copy.data(), size), 1);
  for (size_t i = size; i < copy.size(); ++i) ASSERT_EQ(copy[i], kGuard) << "out2in wrote past";
  copy = buf;
  (void)ttl_decrement(std::span<std::byte>(copy.data(), size));
  for (size_t i = size; i < copy.size(); ++i) ASSERT_EQ(copy[i], kGuard);
}

TEST(Malformed, EveryTruncationIsDroppedWithAReason) {
  NatWorker w(config(), 0, 64, 1);
  for (const Bytes& p : samples()) {
    for (size_t n = 0; n < p.size(); ++n) {
      exercise(w, p, n);
      Bytes b(p.begin(), p.begin() + static_cast<long>(n));
      const uint64_t before = w.counters().read(NatReason::kTruncated);
      const Result r = w.in2out(b, 1);
      EXPECT_NE(r.verdict, Verdict::kForward) << n;
      EXPECT_EQ(r.reason, NatReason::kTruncated) << n;
      EXPECT_EQ(w.counters().read(NatReason::kTruncated), before + 1);
      Bytes c(p.begin(), p.begin() + static_cast<long>(n));
      EXPECT_EQ(w.out2in(c, 1).reason, NatReason::kTruncated) << n;
    }
  }
}

TEST(Malformed, TotalLengthShorterThanL4HeaderIsTruncated) {
  NatWorker w(config(), 0, 64, 2);
  for (size_t total = 20; total < 28; ++total) {
    Bytes p = test::udp(kGuest, 5000, kPeer, 53, 7);
    test::put16(p, 2, static_cast<uint16_t>(total));
    test::fill_ip_checksum(p);
    EXPECT_EQ(w.in2out(p, 1), (Result{Verdict::kDrop, NatReason::kTruncated})) << total;
  }
  Bytes t = test::tcp(kGuest, 5000, kPeer, 80, l4::kTcpSyn, 0);
  test::put16(t, 2, 39);
  test::fill_ip_checksum(t);
  EXPECT_EQ(w.in2out(t, 1), (Result{Verdict::kDrop, NatReason::kTruncated}));
}

TEST(Malformed, BadHeadersAreNamed) {
  NatWorker w(config(), 0, 64, 3);
  Bytes v6 = test::udp(kGuest, 5000, kPeer, 53);
  test::put8(v6, 0, 0x65);
  EXPECT_EQ(w.in2out(v6, 1).reason, NatReason::kBadIpHeader);
  Bytes ihl = test::udp(kGuest, 5000, kPeer, 53);
  test::put8(ihl, 0, 0x44);
  EXPECT_EQ(w.in2out(ihl, 1).reason, NatReason::kBadIpHeader);
  Bytes big_ihl = test::udp(kGuest, 5000, kPeer, 53, 0);
  test::put8(big_ihl, 0, 0x4f);  // 60-byte header in a 28-byte packet
  EXPECT_EQ(w.in2out(big_ihl, 1).reason, NatReason::kBadIpHeader);
  Bytes total = test::udp(kGuest, 5000, kPeer, 53);
  test::put16(total, 2, 10);
  test::fill_ip_checksum(total);
  EXPECT_EQ(w.in2out(total, 1).reason, NatReason::kBadIpHeader);
  Bytes csum = test::udp(kGuest, 5000, kPeer, 53);
  test::put8(csum, 8, 3);  // TTL changed, checksum not
  EXPECT_EQ(w.out2in(csum, 1).reason, NatReason::kBadIpChecksum);
  EXPECT_EQ(w.counters().read(NatReason::kBadIpHeader), 4u);
  EXPECT_EQ(w.counters().read(NatReason::kBadIpChecksum), 1u);
}

// Random corruption of valid packets (header checksum fixed up so the
// corruption reaches the L4 and quote parsers).
TEST(Malformed, RandomCorruptionNeverEscapesTheBuffer) {
  NatWorker w(config(), 0, 256, 4);
  std::mt19937 rng(5);
  const std::vector<Bytes> base = samples();
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes p = base[rng() % base.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) p[rng() % p.size()] = std::byte{static_cast<uint8_t>(rng())};
    if (rng() % 2 && (test::get8(p, 0) & 0xf) * 4u <= p.size() && p.size() >= 12)
      test::fill_ip_checksum(p);
    const size_t size = rng() % 3 == 0 ? rng() % (p.size() + 1) : p.size();
    exercise(w, p, size);
    if (::testing::Test::HasFatalFailure()) return;
  }
  for (int iter = 0; iter < 5000; ++iter) {
    Bytes p(rng() % 120);
    for (auto& b : p) b = std::byte{static_cast<uint8_t>(rng())};
    if (p.size() >= 20) {
      test::put8(p, 0, 0x45);
      test::put16(p, 2, static_cast<uint16_t>(p.size()));
      test::fill_ip_checksum(p);
    }
    exercise(w, p, p.size());
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace vnet::nat
