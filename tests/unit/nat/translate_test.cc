// NatWorker: SNAT/masquerade of TCP, UDP, ICMP echo and portless protocols,
// reverse translation, port preservation and exhaustion, expiry on an
// injected clock, TCP states, libvirt RETURN/REJECT semantics, workers.
#include "nat/nat.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "nat/bytes.h"
#include "tests/unit/nat/packet.h"

namespace vnet::nat {
namespace {

using test::Bytes;
using test::ip;
using test::kGuest;
using test::kGuest2;
using test::kExt;
using test::kPeer;

constexpr uint64_t kSec = kNsPerSec;

NatConfig base_config(uint16_t workers = 1, uint16_t first = 1024, uint16_t last = 65535) {
  NatConfig c = test::guest_nat(first, last, workers);
  c.inside.add(ip(192, 168, 128, 1), 24);
  return c;
}

Result in2out(NatWorker& w, Bytes& b, uint64_t now) { return w.in2out(b, now); }
Result out2in(NatWorker& w, Bytes& b, uint64_t now) { return w.out2in(b, now); }

const Result kOk{};
Result refused(NatReason r) { return Result{Verdict::kRefuse, r}; }
Result dropped(NatReason r) { return Result{Verdict::kDrop, r}; }

TEST(Translate, PrefetchChangesNothing) {
  // Two identical workers with more than kPrefetchMinSessions sessions (below
  // that prefetch() does nothing); one is prefetched before every packet.
  NatWorker a(base_config(), 0, 16384, 1);
  NatWorker b(base_config(), 0, 16384, 1);
  for (uint32_t i = 0; i < kPrefetchMinSessions + 100; ++i) {
    Bytes f = test::udp(kGuest2, static_cast<uint16_t>(20000 + i), kPeer, 53, 11);
    Bytes g = f;
    ASSERT_EQ(in2out(a, f, 10).verdict, Verdict::kForward);
    ASSERT_EQ(in2out(b, g, 10).verdict, Verdict::kForward);
  }
  ASSERT_GE(b.table().size(), kPrefetchMinSessions);
  // Truncated packets: prefetch reads nothing beyond the span (checked under ASan).
  const Bytes whole = test::udp(kGuest, 40000, kPeer, 53, 11);
  for (size_t n = 0; n <= whole.size(); ++n) {
    const Bytes cut(whole.begin(), whole.begin() + static_cast<long>(n));
    for (int stage : {1, 2}) {
      b.prefetch(cut, Dir::kIn2Out, stage);
      b.prefetch(cut, Dir::kOut2In, stage);
    }
  }
  for (uint16_t i = 0; i < 40; ++i) {
    Bytes pa = i % 2 ? test::tcp(kGuest, static_cast<uint16_t>(40000 + i % 7), kPeer, 80, l4::kTcpSyn, 3)
                     : test::udp(kGuest, static_cast<uint16_t>(40000 + i % 7), kPeer, 53, 11);
    Bytes pb = pa;
    b.prefetch(pb, Dir::kIn2Out, 1);
    b.prefetch(pb, Dir::kIn2Out, 2);
    EXPECT_EQ(in2out(a, pa, 1000 + i), in2out(b, pb, 1000 + i));
    EXPECT_EQ(pa, pb);
    Bytes ra = i % 2 ? test::tcp(kPeer, 80, kExt, test::get16(pa, 20), l4::kTcpSyn | l4::kTcpAck, 3)
                     : test::udp(kPeer, 53, kExt, test::get16(pa, 20), 11);
    Bytes rb = ra;
    b.prefetch(rb, Dir::kOut2In, 1);
    b.prefetch(rb, Dir::kOut2In, 2);
    EXPECT_EQ(out2in(a, ra, 2000 + i), out2in(b, rb, 2000 + i));
    EXPECT_EQ(ra, rb);
  }
  EXPECT_EQ(a.table().size(), b.table().size());
}

TEST(Translate, UdpRoundTripPreservesPort) {
  NatWorker w(base_config(), 0, 64, 1);
  Bytes p = test::udp(kGuest, 40000, kPeer, 53, 11);
  ASSERT_EQ(in2out(w, p, 0), kOk);
  EXPECT_EQ(test::get32(p, 12), kExt);
  EXPECT_EQ(test::get16(p, 20), 40000);  // preserved
  EXPECT_EQ(test::get32(p, 16), kPeer);
  EXPECT_EQ(test::check_checksums(p), "");
  EXPECT_EQ(w.counters().read(NatEvent::kPortPreserved), 1u);

  Bytes r = test::udp(kPeer, 53, kExt, 40000, 30);
  ASSERT_EQ(out2in(w, r, kSec), kOk);
  EXPECT_EQ(test::get32(r, 16), kGuest);
  EXPECT_EQ(test::get16(r, 22), 40000);
  EXPECT_EQ(test::check_checksums(r), "");
  EXPECT_EQ(w.counters().read(NatEvent::kIn2Out), 1u);
  EXPECT_EQ(w.counters().read(NatEvent::kOut2In), 1u);
}

TEST(Translate, TranslationEqualsFullRecomputation) {
  NatWorker w(base_config(), 0, 64, 2);
  for (size_t payload = 0; payload < 9; ++payload) {
    Bytes p = test::tcp(kGuest, static_cast<uint16_t>(30000 + payload), kPeer, 443, l4::kTcpSyn,
                        payload);
    ASSERT_EQ(in2out(w, p, 0), kOk);
    Bytes ref = p;
    test::fill_ip_checksum(ref);
    test::fill_l4_checksum(ref, 0, ref.size());
    EXPECT_EQ(p, ref) << payload;
  }
}

TEST(Translate, IpOptionsAndTrailingPadding) {
  NatWorker w(base_config(), 0, 64, 3);
  Bytes p = test::ipv4(kGuest, kPeer, kProtoUdp, 8 + 3, 64, 8);
  test::put16(p, 28, 4444);
  test::put16(p, 30, 53);
  test::put16(p, 32, 11);
  test::fill_l4_checksum(p, 0, p.size());
  p.resize(p.size() + 17, std::byte{0xee});  // Ethernet padding beyond total length
  ASSERT_EQ(in2out(w, p, 0), kOk);
  EXPECT_EQ(test::get32(p, 12), kExt);
  p.resize(test::get16(p, 2));
  EXPECT_EQ(test::check_checksums(p), "");
}

TEST(Translate, PortConflictPicksAnotherPortInRange) {
  NatWorker w(base_config(1, 500, 1000), 0, 64, 4);
  Bytes a = test::udp(kGuest, 700, kPeer, 53);
  Bytes b = test::udp(kGuest2, 700, kPeer, 53);
  ASSERT_EQ(in2out(w, a, 0), kOk);
  ASSERT_EQ(in2out(w, b, 0), kOk);
  EXPECT_EQ(test::get16(a, 20), 700);
  const uint16_t pb = test::get16(b, 20);
  EXPECT_NE(pb, 700);
  EXPECT_GE(pb, 500);
  EXPECT_LE(pb, 1000);
  EXPECT_EQ(test::check_checksums(b), "");
  // Another peer may reuse port 700 (endpoint-dependent mapping).
  Bytes c = test::udp(kGuest2, 700, ip(203, 0, 113, 6), 53);
  ASSERT_EQ(in2out(w, c, 0), kOk);
  EXPECT_EQ(test::get16(c, 20), 700);
  // Replies reach the right guest.
  Bytes rb = test::udp(kPeer, 53, kExt, pb);
  ASSERT_EQ(out2in(w, rb, 0), kOk);
  EXPECT_EQ(test::get32(rb, 16), kGuest2);
  EXPECT_EQ(test::get16(rb, 22), 700);
}

TEST(Translate, SourcePortOutsideRangeIsRemapped) {
  NatWorker w(base_config(1, 500, 1000), 0, 64, 5);
  Bytes p = test::tcp(kGuest, 40000, kPeer, 80, l4::kTcpSyn);
  ASSERT_EQ(in2out(w, p, 0), kOk);
  const uint16_t port = test::get16(p, 20);
  EXPECT_GE(port, 500);
  EXPECT_LE(port, 1000);
  EXPECT_EQ(w.counters().read(NatEvent::kPortPreserved), 0u);
}

TEST(Translate, ExhaustionIsCountedNotFatal) {
  NatWorker w(base_config(1, 500, 509), 0, 64, 6);  // 10 ports
  std::set<uint16_t> used;
  for (uint16_t i = 0; i < 10; ++i) {
    Bytes p = test::udp(kGuest, static_cast<uint16_t>(2000 + i), kPeer, 53);
    ASSERT_EQ(in2out(w, p, 0), kOk) << i;
    used.insert(test::get16(p, 20));
  }
  EXPECT_EQ(used.size(), 10u);
  Bytes p = test::udp(kGuest, 2010, kPeer, 53);
  const Bytes before = p;
  EXPECT_EQ(in2out(w, p, 0), dropped(NatReason::kPortsExhausted));
  EXPECT_EQ(p, before);  // untouched
  EXPECT_EQ(w.counters().read(NatReason::kPortsExhausted), 1u);
  // Existing flows keep working; a different peer still gets ports.
  Bytes again = test::udp(kGuest, 2000, kPeer, 53);
  EXPECT_EQ(in2out(w, again, 0), kOk);
  Bytes other = test::udp(kGuest, 2010, ip(203, 0, 113, 99), 53);
  EXPECT_EQ(in2out(w, other, 0), kOk);
  // After expiry the ports come back.
  Bytes late = test::udp(kGuest, 2010, kPeer, 53);
  EXPECT_EQ(in2out(w, late, 31 * kSec), kOk);
}

TEST(Translate, TableFullIsCounted) {
  NatWorker w(base_config(), 0, 2, 7);
  Bytes a = test::udp(kGuest, 1, kPeer, 53), b = test::udp(kGuest, 2, kPeer, 53),
        c = test::udp(kGuest, 3, kPeer, 53);
  EXPECT_EQ(in2out(w, a, 0), kOk);
  EXPECT_EQ(in2out(w, b, 0), kOk);
  EXPECT_EQ(in2out(w, c, 0), dropped(NatReason::kTableFull));
  EXPECT_EQ(w.counters().read(NatReason::kTableFull), 1u);
  // Once the others have expired, a full table makes room by itself.
  Bytes d = test::udp(kGuest, 4, kPeer, 53);
  EXPECT_EQ(in2out(w, d, 30 * kSec), kOk);
  EXPECT_EQ(w.counters().read(NatEvent::kSessionsExpired), 2u);
}

TEST(Translate, UdpTimeoutsUnrepliedAndReplied) {
  NatWorker w(base_config(), 0, 64, 8);
  Bytes p = test::udp(kGuest, 5000, kPeer, 53);
  ASSERT_EQ(in2out(w, p, 0), kOk);
  Bytes r = test::udp(kPeer, 53, kExt, 5000);
  ASSERT_EQ(out2in(w, r, 29 * kSec), kOk);  // unreplied: 30 s
  // Replied: 120 s from the last packet.
  Bytes r2 = test::udp(kPeer, 53, kExt, 5000);
  EXPECT_EQ(out2in(w, r2, (29 + 119) * kSec), kOk);
  Bytes r3 = test::udp(kPeer, 53, kExt, 5000);
  EXPECT_EQ(out2in(w, r3, (29 + 119 + 120) * kSec), refused(NatReason::kNoSession));
  EXPECT_EQ(w.counters().read(NatEvent::kSessionsExpired), 1u);

  Bytes q = test::udp(kGuest, 5001, kPeer, 53);
  ASSERT_EQ(in2out(w, q, 1000 * kSec), kOk);
  Bytes qr = test::udp(kPeer, 53, kExt, 5001);
  EXPECT_EQ(out2in(w, qr, 1030 * kSec), refused(NatReason::kNoSession));
}

TEST(Translate, ExpireSweepCountsAndFrees) {
  NatWorker w(base_config(), 0, 16, 9);
  for (uint16_t i = 0; i < 5; ++i) {
    Bytes p = test::icmp_echo(kGuest, kPeer, icmp::kEchoRequest, i);
    ASSERT_EQ(in2out(w, p, 0), kOk);
  }
  EXPECT_EQ(w.expire(29 * kSec, 16), 0u);
  EXPECT_EQ(w.expire(30 * kSec, 16), 5u);
  EXPECT_EQ(w.table().size(), 0u);
  EXPECT_EQ(w.counters().read(NatEvent::kSessionsExpired), 5u);
}

TEST(Translate, IcmpEchoIdentifier) {
  NatWorker w(base_config(), 0, 64, 10);
  Bytes a = test::icmp_echo(kGuest, kPeer, icmp::kEchoRequest, 77, 13);
  Bytes b = test::icmp_echo(kGuest2, kPeer, icmp::kEchoRequest, 77, 13);
  ASSERT_EQ(in2out(w, a, 0), kOk);
  ASSERT_EQ(in2out(w, b, 0), kOk);
  EXPECT_EQ(test::get16(a, 24), 77);
  const uint16_t id_b = test::get16(b, 24);
  EXPECT_NE(id_b, 77);
  EXPECT_EQ(test::check_checksums(a), "");
  EXPECT_EQ(test::check_checksums(b), "");
  Bytes rb = test::icmp_echo(kPeer, kExt, icmp::kEchoReply, id_b, 13);
  ASSERT_EQ(out2in(w, rb, kSec), kOk);
  EXPECT_EQ(test::get32(rb, 16), kGuest2);
  EXPECT_EQ(test::get16(rb, 24), 77);
  EXPECT_EQ(test::check_checksums(rb), "");
  // Unsolicited echo request from outside: not established.
  Bytes ping = test::icmp_echo(kPeer, kExt, icmp::kEchoRequest, 5);
  EXPECT_EQ(out2in(w, ping, kSec), refused(NatReason::kNoSession));
  // ICMP timeout 30 s.
  Bytes late = test::icmp_echo(kPeer, kExt, icmp::kEchoReply, 77);
  EXPECT_EQ(out2in(w, late, 32 * kSec), refused(NatReason::kNoSession));
  // Other ICMP types from the guest are not translated.
  Bytes ts = test::icmp_echo(kGuest, kPeer, 13, 1);
  EXPECT_EQ(in2out(w, ts, 0), dropped(NatReason::kIcmpUnsupported));
}

TEST(Translate, TcpStatesThroughPackets) {
  NatWorker w(base_config(), 0, 64, 11);
  auto out = [&](uint8_t f, uint64_t t) {
    Bytes p = test::tcp(kGuest, 41000, kPeer, 80, f);
    return in2out(w, p, t);
  };
  auto in = [&](uint8_t f, uint64_t t) {
    Bytes p = test::tcp(kPeer, 80, kExt, 41000, f);
    return out2in(w, p, t);
  };
  auto state = [&]() {
    Session* s = w.table().find_in(FlowKey{kGuest, kPeer, 41000, 80, kProtoTcp});
    return s ? s->tcp_state : TcpState::kNone;
  };
  const uint8_t S = l4::kTcpSyn, A = l4::kTcpAck, F = l4::kTcpFin;
  ASSERT_EQ(out(S, 0), kOk);
  EXPECT_EQ(state(), TcpState::kSynSent);
  ASSERT_EQ(in(S | A, 1), kOk);
  EXPECT_EQ(state(), TcpState::kSynRecv);
  ASSERT_EQ(out(A, 2), kOk);
  EXPECT_EQ(state(), TcpState::kEstablished);
  // Established lives 5 days.
  ASSERT_EQ(in(A, 2 + 400000 * kSec), kOk);
  const uint64_t t0 = 2 + 400000 * kSec;
  ASSERT_EQ(out(F | A, t0), kOk);
  EXPECT_EQ(state(), TcpState::kFinWait);
  ASSERT_EQ(in(F | A, t0 + 1), kOk);
  EXPECT_EQ(state(), TcpState::kLastAck);
  ASSERT_EQ(out(A, t0 + 2), kOk);
  EXPECT_EQ(state(), TcpState::kTimeWait);
  // TIME_WAIT: 120 s.
  EXPECT_EQ(in(A, t0 + 2 + 119 * kSec), kOk);
  EXPECT_EQ(in(A, t0 + 2 + 119 * kSec + 120 * kSec), refused(NatReason::kNoSession));
}

TEST(Translate, TcpSynSentExpiresAfter120s) {
  NatWorker w(base_config(), 0, 64, 12);
  Bytes p = test::tcp(kGuest, 41001, kPeer, 80, l4::kTcpSyn);
  ASSERT_EQ(in2out(w, p, 0), kOk);
  Bytes r = test::tcp(kPeer, 80, kExt, 41001, l4::kTcpSyn | l4::kTcpAck);
  EXPECT_EQ(out2in(w, r, 120 * kSec), refused(NatReason::kNoSession));
}

TEST(Translate, TcpRstClosesIn10s) {
  NatWorker w(base_config(), 0, 64, 13);
  Bytes p = test::tcp(kGuest, 41002, kPeer, 80, l4::kTcpSyn);
  ASSERT_EQ(in2out(w, p, 0), kOk);
  Bytes r = test::tcp(kPeer, 80, kExt, 41002, l4::kTcpRst | l4::kTcpAck);
  ASSERT_EQ(out2in(w, r, kSec), kOk);
  Bytes r2 = test::tcp(kPeer, 80, kExt, 41002, l4::kTcpAck);
  EXPECT_EQ(out2in(w, r2, 11 * kSec + 1), refused(NatReason::kNoSession));
}

TEST(Translate, TcpWithoutSynOpensNothingUnlessLoosePickup) {
  NatWorker w(base_config(), 0, 64, 14);
  Bytes rst = test::tcp(kGuest, 41003, kPeer, 80, l4::kTcpRst);
  EXPECT_EQ(in2out(w, rst, 0), dropped(NatReason::kTcpInvalid));
  Bytes fin = test::tcp(kGuest, 41003, kPeer, 80, l4::kTcpFin);
  EXPECT_EQ(in2out(w, fin, 0), dropped(NatReason::kTcpInvalid));
  EXPECT_EQ(w.table().size(), 0u);
  Bytes ack = test::tcp(kGuest, 41003, kPeer, 80, l4::kTcpAck);
  EXPECT_EQ(in2out(w, ack, 0), kOk);
  Session* s = w.table().find_in(FlowKey{kGuest, kPeer, 41003, 80, kProtoTcp});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->tcp_state, TcpState::kEstablished);
}

TEST(Translate, UnsolicitedInboundIsRefusedLikeLibvirtReject) {
  NatWorker w(base_config(), 0, 64, 15);
  Bytes syn = test::tcp(kPeer, 5555, kExt, 22, l4::kTcpSyn);
  EXPECT_EQ(out2in(w, syn, 0), refused(NatReason::kNoSession));  // port 22 below range
  Bytes syn2 = test::tcp(kPeer, 5555, kExt, 8080, l4::kTcpSyn);
  EXPECT_EQ(out2in(w, syn2, 0), refused(NatReason::kNoSession));
  Bytes u = test::udp(kPeer, 5555, kExt, 5353);
  EXPECT_EQ(out2in(w, u, 0), refused(NatReason::kNoSession));
  EXPECT_EQ(w.counters().read(NatReason::kNoSession), 3u);
  // A reply from a different peer port is not the same flow.
  Bytes p = test::udp(kGuest, 6000, kPeer, 53);
  ASSERT_EQ(in2out(w, p, 0), kOk);
  Bytes wrong = test::udp(kPeer, 54, kExt, 6000);
  EXPECT_EQ(out2in(w, wrong, 0), refused(NatReason::kNoSession));
  // Not addressed to a NAT address.
  Bytes other = test::udp(kPeer, 53, ip(198, 51, 100, 3), 6000);
  EXPECT_EQ(out2in(w, other, 0), dropped(NatReason::kNotOurAddress));
}

TEST(Translate, LibvirtReturnAndRejectOutbound) {
  NatWorker w(base_config(), 0, 64, 16);
  Bytes bc = test::udp(kGuest, 68, ip(255, 255, 255, 255), 67);
  const Bytes bc0 = bc;
  EXPECT_EQ(in2out(w, bc, 0), (Result{Verdict::kForwardUntranslated, NatReason::kNoNatLocalDst}));
  EXPECT_EQ(bc, bc0);
  Bytes mc = test::udp(kGuest, 5353, ip(224, 0, 0, 251), 5353);
  EXPECT_EQ(in2out(w, mc, 0), (Result{Verdict::kForwardUntranslated, NatReason::kNoNatLocalDst}));
  Bytes mc2 = test::udp(kGuest, 5353, ip(224, 0, 1, 1), 5353);  // outside 224.0.0.0/24: NAT
  EXPECT_EQ(in2out(w, mc2, 0), kOk);
  Bytes inside = test::udp(kGuest, 5000, ip(192, 168, 128, 7), 53);  // another <ip> of the network
  EXPECT_EQ(in2out(w, inside, 0),
            (Result{Verdict::kForwardUntranslated, NatReason::kNoNatInsideDst}));
  Bytes spoof = test::udp(ip(10, 9, 9, 9), 5000, kPeer, 53);
  EXPECT_EQ(in2out(w, spoof, 0), refused(NatReason::kSrcNotInNetwork));
  EXPECT_EQ(w.counters().read(NatReason::kSrcNotInNetwork), 1u);
  EXPECT_EQ(w.counters().read(NatReason::kNoNatLocalDst), 2u);
  // The second subnet is NATed too.
  Bytes second = test::udp(ip(192, 168, 128, 20), 5000, kPeer, 53);
  EXPECT_EQ(in2out(w, second, 0), kOk);
  EXPECT_EQ(test::get32(second, 12), kExt);
}

TEST(Translate, PortlessProtocolAddressOnly) {
  NatWorker w(base_config(), 0, 64, 18);
  Bytes gre = test::ipv4(kGuest, kPeer, 47, 12);
  const Bytes payload0(gre.begin() + 20, gre.end());
  ASSERT_EQ(in2out(w, gre, 0), kOk);
  EXPECT_EQ(test::get32(gre, 12), kExt);
  EXPECT_EQ(Bytes(gre.begin() + 20, gre.end()), payload0);
  EXPECT_EQ(test::check_checksums(gre), "");
  Bytes clash = test::ipv4(kGuest2, kPeer, 47, 12);
  EXPECT_EQ(in2out(w, clash, 0), dropped(NatReason::kAddressClash));
  Bytes back = test::ipv4(kPeer, kExt, 47, 12);
  ASSERT_EQ(out2in(w, back, kSec), kOk);
  EXPECT_EQ(test::get32(back, 16), kGuest);
  // Generic timeout: 600 s.
  Bytes late = test::ipv4(kPeer, kExt, 47, 12);
  EXPECT_EQ(out2in(w, late, 602 * kSec), refused(NatReason::kNoSession));
}

TEST(Translate, AddressRangeSnat) {
  NatConfig c = base_config();
  c.addr_first = ip(203, 0, 113, 100);
  c.addr_last = ip(203, 0, 113, 103);
  NatWorker w(c, 0, 256, 19);
  std::set<uint32_t> used;
  for (uint8_t h = 2; h < 60; ++h) {
    Bytes p = test::udp(ip(192, 168, 122, h), 7000, kPeer, 53);
    ASSERT_EQ(in2out(w, p, 0), kOk);
    const uint32_t a = test::get32(p, 12);
    EXPECT_GE(a, c.addr_first);
    EXPECT_LE(a, c.addr_last);
    used.insert(a);
    Bytes again = test::tcp(ip(192, 168, 122, h), 7001, kPeer, 80, l4::kTcpSyn);
    ASSERT_EQ(in2out(w, again, 0), kOk);
    EXPECT_EQ(test::get32(again, 12), a);  // one guest, one outside address
    Bytes r = test::udp(kPeer, 53, a, test::get16(p, 20));
    ASSERT_EQ(out2in(w, r, 0), kOk);
    EXPECT_EQ(test::get32(r, 16), ip(192, 168, 122, h));
  }
  EXPECT_GT(used.size(), 1u);
}

TEST(Translate, WorkersAllocateFromOwnSlicesAndReturnTrafficIsSteered) {
  const NatConfig c = base_config(3, 1024, 65535);
  std::vector<std::unique_ptr<NatWorker>> ws;
  for (unsigned i = 0; i < 3; ++i) ws.push_back(std::make_unique<NatWorker>(c, i, 1024, 20 + i));
  for (unsigned i = 0; i < 3; ++i) {
    for (uint16_t k = 0; k < 50; ++k) {
      Bytes p = test::udp(kGuest, static_cast<uint16_t>(3000 + 7 * k), kPeer, 53);
      ASSERT_EQ(ws[i]->in2out(p, 0), kOk);
      const uint16_t port = test::get16(p, 20);
      const PortSlice s = ws[i]->plan().slice(i, kProtoUdp);
      EXPECT_TRUE(s.contains(port)) << port;
      Bytes r = test::udp(kPeer, 53, kExt, port);
      const int owner = ws[0]->plan().out2in_worker(r);
      ASSERT_EQ(owner, static_cast<int>(i));
      // Any other worker refuses it as not its own.
      const unsigned other = (i + 1) % 3;
      Bytes copy = r;
      EXPECT_EQ(ws[other]->out2in(copy, 0), dropped(NatReason::kWrongWorker));
      ASSERT_EQ(ws[static_cast<size_t>(owner)]->out2in(r, 0), kOk);
      EXPECT_EQ(test::get16(r, 22), 3000 + 7 * k);
    }
  }
}

TEST(Translate, HousekeepingSweepsAtAPaceNotPerLoop) {
  NatWorker w(base_config(), 0, 4096, 31);
  for (uint16_t k = 0; k < 2000; ++k) {
    Bytes p = test::udp(kGuest, static_cast<uint16_t>(2000 + k), kPeer, 53);
    ASSERT_EQ(in2out(w, p, 0), kOk);
  }
  const uint64_t late = 200 * kSec;  // every session expired (UDP, unreplied: 30 s)
  // A sweep of kSweepMinSlots, then nothing until kSweepIntervalNs has passed.
  EXPECT_EQ(w.housekeeping(late), kSweepMinSlots);
  EXPECT_EQ(w.housekeeping(late + kSweepIntervalNs / 2), 0u);
  EXPECT_EQ(w.housekeeping(late + kSweepIntervalNs), kSweepMinSlots);
  EXPECT_EQ(w.table().size(), 2000u - 2 * kSweepMinSlots);
  // Enough sweeps (one per interval) empty the table; each visits at most the used slots.
  uint64_t t = late + kSweepIntervalNs;
  for (int i = 0; i < 100 && w.table().size() > 0; ++i) (void)w.housekeeping(t += kSweepIntervalNs);
  EXPECT_EQ(w.table().size(), 0u);
  EXPECT_EQ(w.counters().read(NatEvent::kSessionsExpired), 2000u);
}

TEST(Translate, SessionsDumpForVnetctl) {
  NatWorker w(base_config(), 0, 64, 30);
  Bytes a = test::udp(kGuest, 5000, kPeer, 53);
  Bytes b = test::tcp(kGuest, 5001, kPeer, 80, l4::kTcpSyn);
  ASSERT_EQ(in2out(w, a, 0), kOk);
  ASSERT_EQ(in2out(w, b, 0), kOk);
  std::vector<Session> out(8);
  uint32_t cursor = 0;
  const size_t n = w.sessions(out, &cursor, kSec);
  ASSERT_EQ(n, 2u);
  std::set<std::string> lines;
  for (size_t i = 0; i < n; ++i) lines.insert(format_session(out[i], kSec));
  EXPECT_TRUE(lines.count(
      "udp 192.168.122.10:5000 -> 203.0.113.5:53 via 198.51.100.2:5000 expires 29s pkts 1/0"));
  EXPECT_TRUE(lines.count("tcp SYN_SENT 192.168.122.10:5001 -> 203.0.113.5:80 via "
                          "198.51.100.2:5001 expires 119s pkts 1/0"));
}

TEST(Translate, ReasonTableIsConsistent) {
  EXPECT_EQ(reason_name(NatReason::kNoSession), "no_session");
  EXPECT_EQ(reason_verdict(NatReason::kNoSession), Verdict::kRefuse);
  EXPECT_EQ(reason_verdict(NatReason::kSrcNotInNetwork), Verdict::kRefuse);
  EXPECT_EQ(reason_verdict(NatReason::kPortsExhausted), Verdict::kDrop);
  EXPECT_EQ(reason_verdict(NatReason::kNoNatLocalDst), Verdict::kForwardUntranslated);
  std::set<std::string_view> names(kNatReasonNames.begin(), kNatReasonNames.end());
  EXPECT_EQ(names.size(), kNatReasonCount);
  EXPECT_EQ(event_name(NatEvent::kSessionsCreated), "sessions_created");
}

}  // namespace
}  // namespace vnet::nat
