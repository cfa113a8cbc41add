// NatWorker::in2out()/out2in() taking a header the caller parsed (and maybe
// verified) and a key hash from a burst prefetch: the same verdicts, bytes
// and counters as the span-only calls, for every kind of packet — TCP, UDP,
// ICMP echo and errors, portless protocols, fragments, a bad header
// checksum, refusals — with and without the key hash.
#include <gtest/gtest.h>

#include <vector>

#include "nat/bytes.h"
#include "nat/nat.h"
#include "nat/parse.h"
#include "tests/unit/nat/packet.h"

namespace vnet::nat {
namespace {

using test::Bytes;
using test::ip;
using test::kExt;
using test::kGuest;
using test::kGuest2;
using test::kPeer;

constexpr uint64_t kSec = kNsPerSec;

NatConfig config() { return test::guest_nat(40000, 40999); }

// How the parsed-header call is made.
struct Mode {
  bool checksum_verified;  // the caller verified the header checksum
  bool with_hash;          // and passes the session key's hash (TCP/UDP)
};

// The header as a caller that made parse_ipv4()'s structural checks but not
// (necessarily) the checksum sees it: false when those checks fail (such a
// packet never reaches the parsed-header call).
bool structural_parse(const Bytes& packet, Ipv4Info* info) {
  Bytes fixed = packet;
  if (fixed.size() >= ip4::kMinHeaderSize) {
    const size_t hs = (test::get8(fixed, 0) & 0x0f) * 4u;
    if (hs >= ip4::kMinHeaderSize && hs <= fixed.size()) {
      test::put16(fixed, ip4::kChecksum, 0);
      test::put16(fixed, ip4::kChecksum, test::ref_checksum(fixed, 0, hs));
    }
  }
  return parse_ipv4(fixed, info) == NatReason::kNone;
}

// What a burst prefetch hashes: the TCP/UDP session key as the direction looks it up.
uint64_t prefetch_hash(const NatWorker& w, const Bytes& packet, const Ipv4Info& info, Dir dir) {
  if (info.proto != kProtoTcp && info.proto != kProtoUdp) return kNoKeyHash;
  if (packet.size() < info.header_size + 4u) return kNoKeyHash;
  const uint16_t sport = test::get16(packet, info.header_size);
  const uint16_t dport = test::get16(packet, info.header_size + 2);
  const FlowKey key = dir == Dir::kIn2Out ? FlowKey{info.src, info.dst, sport, dport, info.proto}
                                          : FlowKey{info.dst, info.src, dport, sport, info.proto};
  return w.table().key_hash(key);
}

void expect_same_counters(const NatWorker& a, const NatWorker& b) {
  for (size_t r = 0; r < kNatReasonCount; ++r)
    EXPECT_EQ(a.counters().reasons[r].read(), b.counters().reasons[r].read())
        << "reason " << reason_name(static_cast<NatReason>(r));
  for (size_t e = 0; e < kNatEventCount; ++e)
    EXPECT_EQ(a.counters().events[e].read(), b.counters().events[e].read())
        << "event " << event_name(static_cast<NatEvent>(e));
  EXPECT_EQ(a.table().size(), b.table().size());
}

// Two identical workers: `span` gets the span-only calls, `parsed` the
// parsed-header ones; every packet must come out the same from both.
class Twins {
 public:
  explicit Twins(Mode mode) : mode_(mode) {}

  Result in2out(Bytes& packet, uint64_t now) { return run(packet, now, Dir::kIn2Out); }
  Result out2in(Bytes& packet, uint64_t now) { return run(packet, now, Dir::kOut2In); }

  NatWorker span{config(), 0, 1024, 7};
  NatWorker parsed{config(), 0, 1024, 7};

 private:
  Result run(Bytes& packet, uint64_t now, Dir dir) {
    Bytes copy = packet;
    const Result want = dir == Dir::kIn2Out ? span.in2out(packet, now) : span.out2in(packet, now);
    Ipv4Info info;
    if (!structural_parse(copy, &info)) {
      // Not for the parsed-header call: the caller drops it itself.
      EXPECT_EQ(want.verdict, Verdict::kDrop);
      return want;
    }
    // The caller verified the checksum only when it is right (parse_ipv4 passed).
    Ipv4Info checked;
    const bool verified = mode_.checksum_verified && parse_ipv4(copy, &checked) == NatReason::kNone;
    const uint64_t hash = mode_.with_hash ? prefetch_hash(parsed, copy, info, dir) : kNoKeyHash;
    const Result got = dir == Dir::kIn2Out ? parsed.in2out(copy, info, verified, now, hash)
                                           : parsed.out2in(copy, info, verified, now, hash);
    EXPECT_EQ(got, want);
    EXPECT_EQ(copy, packet) << "the same bytes out";
    expect_same_counters(span, parsed);
    return want;
  }

  Mode mode_;
};

class Parsed : public ::testing::TestWithParam<Mode> {};

TEST_P(Parsed, SameAsSpanPath) {
  Twins t(GetParam());
  // UDP and TCP both ways, on new and established sessions.
  for (uint16_t i = 0; i < 8; ++i) {
    Bytes u = test::udp(i % 2 ? kGuest : kGuest2, static_cast<uint16_t>(5000 + i), kPeer, 53, 11);
    ASSERT_EQ(t.in2out(u, kSec).verdict, Verdict::kForward);
    Bytes r = test::udp(kPeer, 53, kExt, test::get16(u, 20), 11);
    ASSERT_EQ(t.out2in(r, kSec + 1).verdict, Verdict::kForward);
    Bytes u2 = test::udp(i % 2 ? kGuest : kGuest2, static_cast<uint16_t>(5000 + i), kPeer, 53, 3);
    ASSERT_EQ(t.in2out(u2, kSec + 2).verdict, Verdict::kForward);
  }
  Bytes syn = test::tcp(kGuest, 6000, kPeer, 80, l4::kTcpSyn, 0);
  ASSERT_EQ(t.in2out(syn, 2 * kSec).verdict, Verdict::kForward);
  Bytes synack = test::tcp(kPeer, 80, kExt, test::get16(syn, 20), l4::kTcpSyn | l4::kTcpAck, 0);
  ASSERT_EQ(t.out2in(synack, 2 * kSec).verdict, Verdict::kForward);
  Bytes ack = test::tcp(kGuest, 6000, kPeer, 80, l4::kTcpAck, 4);
  ASSERT_EQ(t.in2out(ack, 2 * kSec).verdict, Verdict::kForward);
  // Mid-stream TCP (picked up) and a bare RST (refused).
  Bytes stray = test::tcp(kGuest, 6001, kPeer, 80, l4::kTcpAck, 0);
  t.in2out(stray, 2 * kSec);
  Bytes rst = test::tcp(kGuest, 6002, kPeer, 80, l4::kTcpRst, 0);
  t.in2out(rst, 2 * kSec);

  // ICMP echo and an ICMP error about the UDP flow, both ways.
  Bytes ping = test::icmp_echo(kGuest, kPeer, icmp::kEchoRequest, 77);
  ASSERT_EQ(t.in2out(ping, 3 * kSec).verdict, Verdict::kForward);
  Bytes pong = test::icmp_echo(kPeer, kExt, icmp::kEchoReply, test::get16(ping, 24));
  ASSERT_EQ(t.out2in(pong, 3 * kSec).verdict, Verdict::kForward);
  Bytes flow = test::udp(kGuest, 5001, kPeer, 53, 11);
  ASSERT_EQ(t.in2out(flow, 3 * kSec).verdict, Verdict::kForward);
  Bytes unreach = test::icmp_error(ip(203, 0, 113, 254), kExt, icmp::kDestUnreachable, 3, flow, 28);
  EXPECT_EQ(t.out2in(unreach, 3 * kSec).verdict, Verdict::kForward);
  Bytes inbound = test::udp(kPeer, 53, kGuest, 5001, 11);
  Bytes from_guest = test::icmp_error(kGuest, kPeer, icmp::kDestUnreachable, 3, inbound, 28);
  t.in2out(from_guest, 3 * kSec);

  // A portless protocol (GRE).
  Bytes gre = test::ipv4(kGuest, kPeer, 47, 24);
  test::fill_ip_checksum(gre);
  ASSERT_EQ(t.in2out(gre, 4 * kSec).verdict, Verdict::kForward);
  Bytes gre_back = test::ipv4(kPeer, kExt, 47, 24);
  test::fill_ip_checksum(gre_back);
  EXPECT_EQ(t.out2in(gre_back, 4 * kSec).verdict, Verdict::kForward);

  // Refusals and drops: unsolicited inbound, not our address, outside
  // source, RETURN destinations, inside destination, unsupported ICMP.
  Bytes unsolicited = test::udp(kPeer, 53, kExt, 40500, 11);
  EXPECT_EQ(t.out2in(unsolicited, 5 * kSec).reason, NatReason::kNoSession);
  Bytes not_ours = test::udp(kPeer, 53, ip(198, 51, 100, 77), 40500, 11);
  EXPECT_EQ(t.out2in(not_ours, 5 * kSec).reason, NatReason::kNotOurAddress);
  Bytes spoofed = test::udp(ip(10, 9, 9, 9), 53, kPeer, 53, 11);
  EXPECT_EQ(t.in2out(spoofed, 5 * kSec).reason, NatReason::kSrcNotInNetwork);
  Bytes bcast = test::udp(kGuest, 68, 0xffffffffu, 67, 11);
  EXPECT_EQ(t.in2out(bcast, 5 * kSec).reason, NatReason::kNoNatLocalDst);
  Bytes inside = test::udp(kGuest, 68, kGuest2, 67, 11);
  EXPECT_EQ(t.in2out(inside, 5 * kSec).reason, NatReason::kNoNatInsideDst);
  Bytes ts = test::icmp_echo(kGuest, kPeer, 13, 1);
  EXPECT_EQ(t.in2out(ts, 5 * kSec).reason, NatReason::kIcmpUnsupported);

  // Truncated L4 headers within a sound IPv4 header.
  Bytes short_udp = test::ipv4(kGuest, kPeer, kProtoUdp, 4);
  test::fill_ip_checksum(short_udp);
  EXPECT_EQ(t.in2out(short_udp, 5 * kSec).reason, NatReason::kTruncated);
  Bytes short_tcp = test::ipv4(kPeer, kExt, kProtoTcp, 12);
  test::fill_ip_checksum(short_tcp);
  EXPECT_EQ(t.out2in(short_tcp, 5 * kSec).reason, NatReason::kTruncated);
}

TEST_P(Parsed, BadHeaderChecksum) {
  Twins t(GetParam());
  Bytes u = test::udp(kGuest, 5000, kPeer, 53, 11);
  test::put16(u, ip4::kChecksum, static_cast<uint16_t>(test::get16(u, ip4::kChecksum) ^ 0x0101));
  EXPECT_EQ(t.in2out(u, kSec), (Result{Verdict::kDrop, NatReason::kBadIpChecksum}));
  Bytes ok = test::udp(kGuest, 5000, kPeer, 53, 11);
  ASSERT_EQ(t.in2out(ok, kSec).verdict, Verdict::kForward);
  Bytes r = test::udp(kPeer, 53, kExt, test::get16(ok, 20), 11);
  test::put16(r, ip4::kTtl, static_cast<uint16_t>(test::get16(r, ip4::kTtl) - 0x100));  // TTL changed, sum not
  EXPECT_EQ(t.out2in(r, kSec), (Result{Verdict::kDrop, NatReason::kBadIpChecksum}));
  EXPECT_EQ(t.parsed.counters().read(NatReason::kBadIpChecksum), 2u);
  // A damaged header with options.
  Bytes opt = test::ipv4(kGuest, kPeer, kProtoUdp, 8 + 11, 64, 4);  // four NOP options
  test::put16(opt, 24, 5002);
  test::put16(opt, 26, 53);
  test::put16(opt, 28, 8 + 11);
  test::fill_l4_checksum(opt, 0, opt.size());
  Bytes opt_bad = opt;
  test::put8(opt_bad, 20, 0);  // an option byte changed after the sum
  EXPECT_EQ(t.in2out(opt_bad, kSec).reason, NatReason::kBadIpChecksum);
  EXPECT_EQ(t.in2out(opt, kSec).verdict, Verdict::kForward);
}

TEST_P(Parsed, Fragments) {
  Twins t(GetParam());
  Bytes d = test::udp(kGuest, 5000, kPeer, 7007, 3000);
  test::put16(d, ip4::kId, 0x4242);
  test::put16(d, ip4::kFlagsFrag, 0);
  test::fill_ip_checksum(d);
  std::vector<Bytes> out = test::fragment(d, 1480);
  ASSERT_EQ(out.size(), 3u);
  // A later fragment before its first: no note yet.
  Bytes early = out[1];
  EXPECT_EQ(t.in2out(early, kSec).reason, NatReason::kFragmentNoFirst);
  for (Bytes& f : out) EXPECT_EQ(t.in2out(f, kSec).verdict, Verdict::kForward);
  Bytes r = test::udp(kPeer, 7007, kExt, test::get16(out[0], 20), 3000);
  test::put16(r, ip4::kId, 0x5151);
  test::put16(r, ip4::kFlagsFrag, 0);
  test::fill_ip_checksum(r);
  for (Bytes& f : test::fragment(r, 1480)) EXPECT_EQ(t.out2in(f, kSec).verdict, Verdict::kForward);
  EXPECT_EQ(t.parsed.counters().read(NatEvent::kFragments), 4u);
}

TEST_P(Parsed, MalformedNeverReachesIt) {
  // Packets that fail parse_ipv4()'s structural checks: the span path drops
  // them; a caller of the parsed-header path drops them before (Twins checks).
  Twins t(GetParam());
  Bytes u = test::udp(kGuest, 5000, kPeer, 53, 11);
  Bytes cut(u.begin(), u.begin() + 19);
  EXPECT_EQ(t.in2out(cut, kSec).reason, NatReason::kTruncated);
  Bytes v6 = u;
  test::put8(v6, 0, 0x65);
  EXPECT_EQ(t.in2out(v6, kSec).reason, NatReason::kBadIpHeader);
  Bytes longer = u;
  test::put16(longer, ip4::kTotalLength, static_cast<uint16_t>(u.size() + 1));
  test::fill_ip_checksum(longer);
  EXPECT_EQ(t.in2out(longer, kSec).reason, NatReason::kTruncated);
}

INSTANTIATE_TEST_SUITE_P(Modes, Parsed,
                         ::testing::Values(Mode{false, false}, Mode{false, true}, Mode{true, false},
                                           Mode{true, true}),
                         [](const ::testing::TestParamInfo<Mode>& p) {
                           return std::string(p.param.checksum_verified ? "Verified" : "Unverified") +
                                  (p.param.with_hash ? "Hashed" : "Unhashed");
                         });

TEST(Parsed, KeyHashIsTheTables) {
  // The hash a caller passes is SessionTable::key_hash() of the key: a
  // lookup with it finds the session the plain lookup finds.
  NatWorker w(config(), 0, 64, 3);
  Bytes u = test::udp(kGuest, 5000, kPeer, 53, 11);
  ASSERT_EQ(w.in2out(u, kSec).verdict, Verdict::kForward);
  const FlowKey in{kGuest, kPeer, 5000, 53, kProtoUdp};
  const FlowKey out{kExt, kPeer, test::get16(u, 20), 53, kProtoUdp};
  ASSERT_NE(w.table().find_in(in), nullptr);
  EXPECT_EQ(w.table().find_in(in, w.table().key_hash(in)), w.table().find_in(in));
  EXPECT_EQ(w.table().find_out(out, w.table().key_hash(out)), w.table().find_out(out));
  EXPECT_EQ(w.table().find_out(out, w.table().key_hash(out)), w.table().find_in(in));
}

}  // namespace
}  // namespace vnet::nat
