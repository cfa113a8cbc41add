// Checksums: full computation and RFC 1624 incremental updates, checked
// against the reference sum in packet.h on even and odd lengths.
#include "nat/checksum.h"

#include <gtest/gtest.h>

#include <random>

#include "nat/rewrite.h"
#include "nat/route.h"
#include "tests/unit/nat/packet.h"

namespace vnet::nat {
namespace {

using test::Bytes;

Bytes random_bytes(std::mt19937& rng, size_t n) {
  Bytes b(n);
  for (auto& x : b) x = std::byte{static_cast<uint8_t>(rng())};
  return b;
}

TEST(Checksum, FullMatchesReferenceOnAllLengths) {
  std::mt19937 rng(1);
  for (size_t n = 0; n < 80; ++n) {
    const Bytes b = random_bytes(rng, n);
    EXPECT_EQ(csum_fold(csum_partial(b)), test::ref_checksum(b, 0, n)) << "length " << n;
  }
}

TEST(Checksum, ChainedUnalignedAndExtremeDataMatchReference) {
  std::mt19937 rng(2);
  for (size_t n = 0; n < 70; ++n) {
    // Split at every point, starting one byte into the buffer (unaligned words).
    Bytes b = random_bytes(rng, n + 1);
    const std::span<const std::byte> s = std::span<const std::byte>(b).subspan(1);
    const uint16_t want = test::ref_checksum(Bytes(s.begin(), s.end()), 0, n);
    for (size_t cut = 0; cut <= n; cut += 2) {
      const uint32_t sum = csum_partial(s.subspan(cut), csum_partial(s.first(cut)));
      EXPECT_EQ(csum_fold(sum), want) << "length " << n << " cut " << cut;
    }
    // A large carried-in sum.
    const uint32_t big = csum_partial(s, 0xfffffff0u);
    uint64_t r = 0xfffffff0u + uint64_t{static_cast<uint16_t>(~want)};
    while (r >> 16) r = (r & 0xffff) + (r >> 16);
    EXPECT_EQ(csum_fold(big), static_cast<uint16_t>(~r & 0xffff)) << "length " << n;
  }
  for (uint8_t fill : {uint8_t{0x00}, uint8_t{0xff}}) {
    for (size_t n : {size_t{1}, size_t{2}, size_t{20}, size_t{21}, size_t{1500}}) {
      const Bytes b(n, std::byte{fill});
      EXPECT_EQ(csum_fold(csum_partial(b)), test::ref_checksum(b, 0, n)) << int(fill) << " x " << n;
    }
  }
}

TEST(Checksum, KnownVector) {
  // RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
  const Bytes b{std::byte{0x00}, std::byte{0x01}, std::byte{0xf2}, std::byte{0x03},
                std::byte{0xf4}, std::byte{0xf5}, std::byte{0xf6}, std::byte{0xf7}};
  EXPECT_EQ(csum_fold(csum_partial(b)), static_cast<uint16_t>(~0xddf2));
}

TEST(Checksum, IncrementalMatchesFullRecomputation) {
  std::mt19937 rng(2);
  for (int iter = 0; iter < 2000; ++iter) {
    const size_t n = 4 + rng() % 61;  // odd and even
    Bytes b = random_bytes(rng, n);
    const uint16_t c = test::ref_checksum(b, 0, n);
    const size_t off = 2 * (rng() % ((n - 2) / 2));
    if (iter % 2 == 0) {
      const uint16_t old = test::get16(b, off);
      const auto nw = static_cast<uint16_t>(rng());
      test::put16(b, off, nw);
      EXPECT_EQ(csum_update16(c, old, nw), test::ref_checksum(b, 0, n));
    } else if (off + 4 <= n) {
      const uint32_t old = test::get32(b, off);
      const auto nw = static_cast<uint32_t>(rng());
      test::put32(b, off, nw);
      EXPECT_EQ(csum_update32(c, old, nw), test::ref_checksum(b, 0, n));
    }
  }
}

TEST(Checksum, Ipv4HeaderChecksumIgnoresField) {
  Bytes b = test::ipv4(test::ip(10, 0, 0, 1), test::ip(10, 0, 0, 2), 17, 8, 64, 4);
  const uint16_t good = test::get16(b, 10);
  test::put16(b, 10, 0xdead);
  EXPECT_EQ(ipv4_header_checksum(std::span<const std::byte>(b).first(24)), good);
}

TEST(Checksum, Ipv4Header20CheckAgreesWithTheReferenceSum) {
  // Random headers of version 4, each once with a right checksum, once with
  // a wrong one, and the extremes: every other byte 0xff, sums that are
  // multiples of 0xffff without a right checksum field, a field of 0xffff
  // where 0x0000 is right (both are the same ones' complement zero).
  std::mt19937 rng(7);
  int right = 0;
  for (int n = 0; n < 20000; ++n) {
    Bytes h = random_bytes(rng, 20);
    h[0] = std::byte{static_cast<uint8_t>(0x40 | (rng() & 0x0f))};
    if (n % 5 == 1) std::fill(h.begin() + 1, h.end(), std::byte{0xff});
    if (n % 2 == 0) {
      test::put16(h, 10, 0);
      test::put16(h, 10, test::ref_checksum(h, 0, 20));
    }
    const bool ref = test::ref_checksum(h, 0, 20) == 0;  // the ones' complement sum is 0xffff
    right += ref ? 1 : 0;
    ASSERT_EQ(ipv4_header20_ok(h.data()), ref) << n;
    EXPECT_EQ(ipv4_header20_ok(h.data()), csum_fold(csum_partial(h)) == 0) << n;
  }
  EXPECT_GT(right, 10000 - 100);
  EXPECT_LT(right, 10000 + 100);
  Bytes z = test::ipv4(test::ip(10, 0, 0, 1), test::ip(10, 0, 0, 2), 17, 8);
  z.resize(20);
  ASSERT_TRUE(ipv4_header20_ok(z.data()));
  const uint16_t c = test::get16(z, 10);
  test::put16(z, 10, static_cast<uint16_t>(c ^ 0x0100));
  EXPECT_FALSE(ipv4_header20_ok(z.data()));
}

TEST(Checksum, L4ChecksumMatchesReference) {
  for (size_t payload = 0; payload < 12; ++payload) {
    const Bytes u = test::udp(test::ip(1, 2, 3, 4), 1000, test::ip(5, 6, 7, 8), 53, payload);
    const auto seg = std::span<const std::byte>(u).subspan(20);
    const uint16_t c = l4_checksum(test::ip(1, 2, 3, 4), test::ip(5, 6, 7, 8), 17, seg, 6);
    EXPECT_EQ(c == 0 ? 0xffff : c, test::get16(u, 26)) << payload;
    const Bytes t = test::tcp(test::ip(1, 2, 3, 4), 1000, test::ip(5, 6, 7, 8), 80, 0x18, payload);
    EXPECT_EQ(l4_checksum(test::ip(1, 2, 3, 4), test::ip(5, 6, 7, 8), 6,
                          std::span<const std::byte>(t).subspan(20), 16),
              test::get16(t, 36));
  }
}

// rewrite_l4 + set_ipv4_addr on TCP/UDP/ICMP of odd and even sizes give
// exactly the checksums of a from-scratch computation.
TEST(Checksum, RewriteMatchesRecomputationOddLengths) {
  std::mt19937 rng(3);
  for (size_t payload = 0; payload < 40; ++payload) {
    for (uint8_t proto : {uint8_t{6}, uint8_t{17}, uint8_t{1}}) {
      const uint32_t src = static_cast<uint32_t>(rng()), dst = static_cast<uint32_t>(rng());
      Bytes b = proto == 6    ? test::tcp(src, 40000, dst, 443, 0x10, payload)
                : proto == 17 ? test::udp(src, 40000, dst, 53, payload)
                              : test::icmp_echo(src, dst, 8, 777, payload);
      const uint32_t new_src = static_cast<uint32_t>(rng());
      const auto new_port = static_cast<uint16_t>(rng());
      const size_t port_off = proto == 1 ? l4::kIcmpId : l4::kSrcPort;
      std::span<std::byte> s(b);
      set_ipv4_addr(s, ip4::kSrc, new_src);
      uint16_t c0, c1;
      rewrite_l4(s.subspan(20), proto, src, new_src, port_off, new_port, &c0, &c1);
      Bytes ref = b;
      test::fill_ip_checksum(ref);
      test::fill_l4_checksum(ref, 0, ref.size());
      EXPECT_EQ(b, ref) << "proto " << int(proto) << " payload " << payload;
      EXPECT_EQ(test::check_checksums(b), "");
    }
  }
}

TEST(Checksum, UdpZeroChecksumStaysZero) {
  Bytes b = test::udp(test::ip(10, 0, 0, 2), 5000, test::ip(8, 8, 8, 8), 53, 9, false);
  std::span<std::byte> s(b);
  uint16_t c0, c1;
  rewrite_l4(s.subspan(20), 17, test::ip(10, 0, 0, 2), test::ip(1, 1, 1, 1), l4::kSrcPort, 6000,
             &c0, &c1);
  EXPECT_EQ(test::get16(b, 26), 0);
  EXPECT_EQ(test::get16(b, 20), 6000);
}

TEST(Checksum, UdpComputedZeroIsSentAsAllOnes) {
  // Search a port value whose incremental result is 0x0000 and check it is
  // transmitted as 0xffff (RFC 768) and still verifies.
  Bytes base = test::udp(test::ip(10, 0, 0, 2), 5000, test::ip(8, 8, 8, 8), 53, 4);
  const uint16_t c = test::get16(base, 26);
  for (uint32_t p = 0; p < 65536; ++p) {
    if (csum_update16(c, 5000, static_cast<uint16_t>(p)) != 0) continue;
    Bytes b = base;
    std::span<std::byte> s(b);
    uint16_t c0, c1;
    rewrite_l4(s.subspan(20), 17, 0, 0, l4::kSrcPort, static_cast<uint16_t>(p), &c0, &c1);
    EXPECT_EQ(test::get16(b, 26), 0xffff);
    EXPECT_EQ(test::check_checksums(b), "");
    return;
  }
  FAIL() << "no port gives a zero checksum";
}

// decrement_ttl (the fast path's TTL rewrite) gives the same bytes as
// ttl_decrement and a header checksum equal to a full recomputation, for
// every TTL and many checksums, including the ones'-complement edge values.
TEST(Checksum, DecrementTtlMatchesRecomputation) {
  std::mt19937 rng(11);
  for (int ttl = 2; ttl <= 255; ++ttl) {
    for (int k = 0; k < 8; ++k) {
      Bytes h = random_bytes(rng, 20);
      h[0] = std::byte{0x45};
      h[8] = std::byte{static_cast<uint8_t>(ttl)};
      std::span<std::byte> s(h);
      store16(s, ip4::kChecksum, ipv4_header_checksum(s));
      Bytes ref = h;
      decrement_ttl(s);
      ASSERT_EQ(ttl_decrement(std::span<std::byte>(ref)), NatReason::kNone);
      EXPECT_EQ(h, ref) << ttl;
      EXPECT_EQ(load8(s, ip4::kTtl), ttl - 1);
      EXPECT_EQ(csum_fold(csum_partial(s)), 0) << ttl;
    }
  }
}

}  // namespace
}  // namespace vnet::nat
