// A session's folded checksum changes (Session::ip_delta / l4_delta,
// rewrite_tcp_udp), checked against the reference sum in packet.h.
#include <gtest/gtest.h>

#include <random>

#include "nat/checksum.h"
#include "nat/rewrite.h"
#include "tests/unit/nat/packet.h"

namespace vnet::nat {
namespace {

using test::Bytes;

// rewrite_tcp_udp with a session's folded changes (source and port, then
// back with the negated changes) gives exactly the checksums of a
// from-scratch computation each way, and the original packet back.
TEST(FoldedChanges, MatchRecomputationBothWays) {
  std::mt19937 rng(4);
  for (size_t payload = 0; payload < 40; ++payload) {
    for (uint8_t proto : {uint8_t{6}, uint8_t{17}}) {
      const uint32_t src = static_cast<uint32_t>(rng()), dst = static_cast<uint32_t>(rng());
      const auto sport = static_cast<uint16_t>(rng());
      const Bytes orig = proto == 6 ? test::tcp(src, sport, dst, 443, 0x10, payload) : test::udp(src, sport, dst, 53, payload);
      const uint32_t ext = static_cast<uint32_t>(rng());
      const auto ext_port = static_cast<uint16_t>(payload % 4 == 0 ? sport : rng());  // preserved or not
      const uint16_t ip_delta = csum_delta32(0, src, ext);
      const uint16_t l4_delta = csum_delta16(ip_delta, sport, ext_port);
      Bytes b = orig;
      rewrite_tcp_udp(b, 20, proto, ip4::kSrc, ext, l4::kSrcPort, ext_port, ip_delta, l4_delta);
      Bytes ref = b;
      test::fill_ip_checksum(ref);
      test::fill_l4_checksum(ref, 0, ref.size());
      ASSERT_EQ(b, ref) << "proto " << int(proto) << " payload " << payload;
      EXPECT_EQ(test::get32(b, 12), ext);
      EXPECT_EQ(test::get16(b, 20), ext_port);
      rewrite_tcp_udp(b, 20, proto, ip4::kSrc, src, l4::kSrcPort, sport, static_cast<uint16_t>(~ip_delta),
                      static_cast<uint16_t>(~l4_delta));
      EXPECT_EQ(b, orig) << "proto " << int(proto) << " payload " << payload;
    }
  }
  // UDP without a checksum keeps none.
  Bytes u = test::udp(test::ip(10, 0, 0, 5), 4000, test::ip(8, 8, 8, 8), 53, 10);
  test::put16(u, 26, 0);
  const uint16_t d = csum_delta32(0, test::ip(10, 0, 0, 5), test::ip(198, 51, 100, 2));
  rewrite_tcp_udp(u, 20, 17, ip4::kSrc, test::ip(198, 51, 100, 2), l4::kSrcPort, 5000, d, csum_delta16(d, 4000, 5000));
  EXPECT_EQ(test::get16(u, 26), 0);
  EXPECT_EQ(test::get16(u, 20), 5000);
}

}  // namespace
}  // namespace vnet::nat
