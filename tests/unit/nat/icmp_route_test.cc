// ICMP errors translated back to the inside flow (RELATED), the ICMP error
// builders, TTL decrement and the route/open accept/refuse decisions.
#include <gtest/gtest.h>

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
using test::kGuest2;
using test::kExt;
using test::kPeer;

constexpr uint32_t kRouter = ip(192, 0, 2, 1);
const Result kOk{};

NatConfig config() { return test::guest_nat(1024, 65535); }

// Opens a flow from kGuest2 first so kGuest's flow gets a different outside
// port/id than its own (the translation must then change ports, not just
// addresses). Returns the guest's original packet and its translation.
struct Flow {
  Bytes original;
  Bytes translated;
};

Flow open_flow(NatWorker& w, const Bytes& guest_pkt, const Bytes& other_guest_pkt) {
  Bytes o = other_guest_pkt;
  EXPECT_EQ(w.in2out(o, 0), kOk);
  Flow f{guest_pkt, guest_pkt};
  EXPECT_EQ(w.in2out(f.translated, 0), kOk);
  return f;
}

void expect_related_out2in(NatWorker& w, const Flow& f, size_t quote, uint8_t type, uint8_t code) {
  Bytes err = test::icmp_error(kRouter, kExt, type, code, f.translated, quote);
  ASSERT_EQ(w.out2in(err, 1), kOk) << "quote " << quote;
  EXPECT_EQ(test::get32(err, 16), kGuest);
  EXPECT_EQ(test::get32(err, 12), kRouter);
  EXPECT_EQ(test::check_checksums(err), "") << "quote " << quote;
  // The quote is now exactly what the guest sent (up to the quoted length).
  const size_t q = std::min(quote, f.original.size());
  EXPECT_EQ(Bytes(err.begin() + 28, err.begin() + 28 + static_cast<long>(q)),
            Bytes(f.original.begin(), f.original.begin() + static_cast<long>(q)))
      << "quote " << quote;
}

TEST(Related, UdpPortUnreachableFullAndCutQuotes) {
  NatWorker w(config(), 0, 64, 1);
  const Flow f = open_flow(w, test::udp(kGuest, 5000, kPeer, 53, 13),
                           test::udp(kGuest2, 5000, kPeer, 53, 13));
  ASSERT_NE(test::get16(f.translated, 20), 5000);
  for (size_t quote : {size_t{28}, size_t{30}, size_t{33}, f.translated.size()})
    expect_related_out2in(w, f, quote, icmp::kDestUnreachable, icmp::kCodePortUnreachable);
  EXPECT_EQ(w.counters().read(NatEvent::kRelatedOut2In), 4u);
}

TEST(Related, TcpTimeExceededQuotesWithAndWithoutChecksum) {
  NatWorker w(config(), 0, 64, 2);
  const Flow f = open_flow(w, test::tcp(kGuest, 5000, kPeer, 80, l4::kTcpSyn, 5),
                           test::tcp(kGuest2, 5000, kPeer, 80, l4::kTcpSyn, 5));
  for (size_t quote : {size_t{28}, size_t{36}, size_t{38}, size_t{45}, f.translated.size()})
    expect_related_out2in(w, f, quote, icmp::kTimeExceeded, 0);
  // A quote that cuts the TCP checksum in half: the half cannot be updated
  // (as in Linux, which only rewrites what it can), everything else is.
  Bytes err = test::icmp_error(kRouter, kExt, icmp::kTimeExceeded, 0, f.translated, 37);
  ASSERT_EQ(w.out2in(err, 1), kOk);
  EXPECT_EQ(test::check_checksums(err), "");
  EXPECT_EQ(Bytes(err.begin() + 28, err.begin() + 28 + 36),
            Bytes(f.original.begin(), f.original.begin() + 36));
}

TEST(Related, IcmpEchoQuote) {
  NatWorker w(config(), 0, 64, 3);
  const Flow f = open_flow(w, test::icmp_echo(kGuest, kPeer, icmp::kEchoRequest, 9, 21),
                           test::icmp_echo(kGuest2, kPeer, icmp::kEchoRequest, 9, 21));
  ASSERT_NE(test::get16(f.translated, 24), 9);
  for (size_t quote : {size_t{28}, size_t{31}, f.translated.size()})
    expect_related_out2in(w, f, quote, icmp::kDestUnreachable, 1);
}

TEST(Related, UnknownOrMalformedQuotesAreDropped) {
  NatWorker w(config(), 0, 64, 4);
  const Flow f = open_flow(w, test::udp(kGuest, 5000, kPeer, 53), test::udp(kGuest2, 5000, kPeer, 53));
  Bytes unknown = test::udp(kExt, 6000, kPeer, 53);
  Bytes e1 = test::icmp_error(kRouter, kExt, 3, 3, unknown, 28);
  EXPECT_EQ(w.out2in(e1, 1), (Result{Verdict::kDrop, NatReason::kIcmpErrorNoSession}));
  Bytes e2 = test::icmp_error(kRouter, kExt, 3, 3, f.translated, 27);  // < header + 8
  EXPECT_EQ(w.out2in(e2, 1), (Result{Verdict::kDrop, NatReason::kIcmpErrorMalformed}));
  Bytes e3 = test::icmp_error(kRouter, kExt, 3, 3, f.translated, 10);
  EXPECT_EQ(w.out2in(e3, 1), (Result{Verdict::kDrop, NatReason::kIcmpErrorMalformed}));
  // Quote whose source is not the address the error was sent to.
  Bytes spoof = f.translated;
  test::put32(spoof, 12, ip(198, 51, 100, 9));
  Bytes e4 = test::icmp_error(kRouter, kExt, 3, 3, spoof, 28);
  EXPECT_EQ(w.out2in(e4, 1), (Result{Verdict::kDrop, NatReason::kIcmpErrorNoSession}));
  // A quote of an echo reply is not one of our outbound flows.
  Bytes echo_reply = test::icmp_echo(kExt, kPeer, icmp::kEchoReply, 9);
  Bytes e5 = test::icmp_error(kRouter, kExt, 3, 3, echo_reply, 28);
  EXPECT_EQ(w.out2in(e5, 1), (Result{Verdict::kDrop, NatReason::kIcmpErrorNoSession}));
}

TEST(Related, GuestIcmpErrorAboutInboundPacketIsTranslatedOut) {
  NatWorker w(config(), 0, 64, 5);
  const Flow f = open_flow(w, test::udp(kGuest, 5000, kPeer, 53), test::udp(kGuest2, 5000, kPeer, 53));
  const uint16_t ext_port = test::get16(f.translated, 20);
  // The peer answers; the reply reaches the guest translated...
  Bytes reply_outside = test::udp(kPeer, 53, kExt, ext_port, 9);
  Bytes reply_inside = reply_outside;
  ASSERT_EQ(w.out2in(reply_inside, 1), kOk);
  // ...and the guest sends a port unreachable about it.
  Bytes err = test::icmp_error(kGuest, kPeer, 3, 3, reply_inside, reply_inside.size());
  ASSERT_EQ(w.in2out(err, 2), kOk);
  EXPECT_EQ(test::get32(err, 12), kExt);
  EXPECT_EQ(test::check_checksums(err), "");
  EXPECT_EQ(Bytes(err.begin() + 28, err.end()), reply_outside);
  EXPECT_EQ(w.counters().read(NatEvent::kRelatedIn2Out), 1u);
  Bytes stray = test::icmp_error(kGuest, kPeer, 3, 3, test::udp(kPeer, 53, kGuest, 9999), 28);
  EXPECT_EQ(w.in2out(stray, 2), (Result{Verdict::kDrop, NatReason::kIcmpErrorNoSession}));
}

TEST(IcmpBuild, PortUnreachableQuotesOffendingPacket) {
  const Bytes off = test::udp(kPeer, 5555, kExt, 8080, 33);
  Bytes out(kIcmpErrorMaxSize);
  const size_t n = build_port_unreachable(out, off, kExt);
  ASSERT_EQ(n, 28 + off.size());
  out.resize(n);
  EXPECT_EQ(test::get8(out, 0), 0x45);
  EXPECT_EQ(test::get16(out, 2), n);
  EXPECT_EQ(test::get8(out, 9), 1);
  EXPECT_EQ(test::get32(out, 12), kExt);
  EXPECT_EQ(test::get32(out, 16), kPeer);
  EXPECT_EQ(test::get8(out, 20), 3);
  EXPECT_EQ(test::get8(out, 21), 3);
  EXPECT_EQ(Bytes(out.begin() + 28, out.end()), off);
  EXPECT_EQ(test::check_checksums(out), "");
}

TEST(IcmpBuild, TimeExceededIsLimitedTo576Bytes) {
  const Bytes off = test::udp(kGuest, 5000, kPeer, 53, 1400);
  Bytes out(2000);
  const size_t n = build_time_exceeded(out, off, ip(192, 168, 122, 1));
  ASSERT_EQ(n, kIcmpErrorMaxSize);
  out.resize(n);
  EXPECT_EQ(test::get8(out, 20), 11);
  EXPECT_EQ(test::get8(out, 21), 0);
  EXPECT_EQ(test::check_checksums(out), "");
  EXPECT_EQ(Bytes(out.begin() + 28, out.end()), Bytes(off.begin(), off.begin() + 548));
  Bytes small(100);
  EXPECT_EQ(build_time_exceeded(small, off, ip(192, 168, 122, 1)), 0u);
}

TEST(IcmpBuild, NoErrorsAboutErrorsBroadcastsOrFragments) {
  Bytes out(kIcmpErrorMaxSize);
  const Bytes inner = test::udp(kExt, 5000, kPeer, 53);
  const Bytes err = test::icmp_error(kRouter, kExt, 3, 3, inner, 28);
  EXPECT_EQ(build_port_unreachable(out, err, kExt), 0u);
  const Bytes echo = test::icmp_echo(kPeer, kExt, icmp::kEchoRequest, 1);
  EXPECT_GT(build_port_unreachable(out, echo, kExt), 0u);
  EXPECT_EQ(build_port_unreachable(out, test::udp(kPeer, 1, ip(255, 255, 255, 255), 2), kExt), 0u);
  EXPECT_EQ(build_port_unreachable(out, test::udp(kPeer, 1, ip(239, 1, 1, 1), 2), kExt), 0u);
  EXPECT_EQ(build_port_unreachable(out, test::udp(ip(0, 0, 0, 0), 1, kExt, 2), kExt), 0u);
  EXPECT_EQ(build_port_unreachable(out, test::udp(ip(127, 0, 0, 1), 1, kExt, 2), kExt), 0u);
  Bytes frag = test::udp(kPeer, 1, kExt, 2);
  test::put16(frag, 6, 10);
  EXPECT_EQ(build_port_unreachable(out, frag, kExt), 0u);
  EXPECT_EQ(build_port_unreachable(out, Bytes(10), kExt), 0u);
}

TEST(Route, TtlDecrementUpdatesChecksum) {
  for (uint8_t ttl : {uint8_t{2}, uint8_t{64}, uint8_t{255}}) {
    Bytes p = test::ipv4(kGuest, kPeer, 17, 8, ttl);
    ASSERT_EQ(ttl_decrement(p), NatReason::kNone);
    EXPECT_EQ(test::get8(p, 8), ttl - 1);
    Bytes ref = p;
    test::fill_ip_checksum(ref);
    EXPECT_EQ(p, ref);
  }
  for (uint8_t ttl : {uint8_t{0}, uint8_t{1}}) {
    Bytes p = test::ipv4(kGuest, kPeer, 17, 8, ttl);
    const Bytes before = p;
    EXPECT_EQ(ttl_decrement(p), NatReason::kTtlExpired);
    EXPECT_EQ(p, before);
  }
  Bytes runt(19);
  EXPECT_EQ(ttl_decrement(runt), NatReason::kTruncated);
}

RoutePolicy policy(L3Mode mode, bool dev) {
  RoutePolicy p;
  p.mode = mode;
  p.subnets.add(ip(192, 168, 122, 1), 24);
  p.subnets.add(ip(192, 168, 128, 1), 24);
  p.has_dev = dev;
  return p;
}

TEST(Route, RouteModeSubnetOnlyAndDevRestriction) {
  const RoutePolicy r = policy(L3Mode::kRoute, false);
  const Bytes out_ok = test::udp(kGuest, 1, kPeer, 2);
  const Bytes out_bad = test::udp(ip(10, 0, 0, 1), 1, kPeer, 2);
  const Bytes in_ok = test::udp(kPeer, 2, ip(192, 168, 128, 9), 1);
  const Bytes in_bad = test::udp(kPeer, 2, ip(192, 168, 129, 9), 1);
  EXPECT_EQ(route_outbound(r, out_ok, false), kOk);
  EXPECT_EQ(route_outbound(r, out_bad, false),
            (Result{Verdict::kRefuse, NatReason::kSrcNotInNetwork}));
  EXPECT_EQ(route_inbound(r, in_ok, false), kOk);  // no conntrack: open to the subnet
  EXPECT_EQ(route_inbound(r, in_bad, false),
            (Result{Verdict::kRefuse, NatReason::kDstNotInNetwork}));
  const RoutePolicy d = policy(L3Mode::kRoute, true);
  EXPECT_EQ(route_outbound(d, out_ok, true), kOk);
  EXPECT_EQ(route_outbound(d, out_ok, false), (Result{Verdict::kRefuse, NatReason::kWrongDev}));
  EXPECT_EQ(route_inbound(d, in_ok, true), kOk);
  EXPECT_EQ(route_inbound(d, in_ok, false), (Result{Verdict::kRefuse, NatReason::kWrongDev}));
}

TEST(Route, OpenModeAcceptsEverything) {
  const RoutePolicy o = policy(L3Mode::kOpen, false);
  EXPECT_EQ(route_outbound(o, test::udp(ip(10, 0, 0, 1), 1, kPeer, 2), false), kOk);
  EXPECT_EQ(route_inbound(o, test::udp(kPeer, 2, ip(10, 0, 0, 1), 1), false), kOk);
}

TEST(Route, NatModeInboundNeedsASession) {
  const RoutePolicy n = policy(L3Mode::kNat, false);
  EXPECT_EQ(route_outbound(n, test::udp(kGuest, 1, kPeer, 2), false), kOk);
  EXPECT_EQ(route_outbound(n, test::udp(ip(10, 0, 0, 1), 1, kPeer, 2), false),
            (Result{Verdict::kRefuse, NatReason::kSrcNotInNetwork}));
  EXPECT_EQ(route_inbound(n, test::udp(kPeer, 2, kGuest, 1), false),
            (Result{Verdict::kRefuse, NatReason::kNoSession}));
}

TEST(Route, RefusalsAreCountedWhenCountersAreGiven) {
  const RoutePolicy r = policy(L3Mode::kRoute, true);
  NatCounters c;
  EXPECT_EQ(route_outbound(r, test::udp(ip(10, 0, 0, 1), 1, kPeer, 2), true, &c).reason,
            NatReason::kSrcNotInNetwork);
  EXPECT_EQ(route_inbound(r, test::udp(kPeer, 2, kGuest, 1), false, &c).reason,
            NatReason::kWrongDev);
  EXPECT_EQ(route_inbound(r, test::udp(kPeer, 2, kGuest, 1), true, &c), kOk);
  EXPECT_EQ(c.read(NatReason::kSrcNotInNetwork), 1u);
  EXPECT_EQ(c.read(NatReason::kWrongDev), 1u);
  EXPECT_EQ(c.read(NatReason::kNone), 0u);
}

TEST(Route, MalformedIsDropped) {
  const RoutePolicy r = policy(L3Mode::kRoute, false);
  Bytes bad = test::udp(kGuest, 1, kPeer, 2);
  test::put16(bad, 10, static_cast<uint16_t>(test::get16(bad, 10) + 1));
  EXPECT_EQ(route_outbound(r, bad, false), (Result{Verdict::kDrop, NatReason::kBadIpChecksum}));
  EXPECT_EQ(route_inbound(r, Bytes(5), false), (Result{Verdict::kDrop, NatReason::kTruncated}));
}

}  // namespace
}  // namespace vnet::nat
