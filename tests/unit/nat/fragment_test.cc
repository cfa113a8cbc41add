// NatWorker on fragmented IPv4 datagrams: the first fragment translated like
// a whole packet, later ones by the note it leaves; reassembled results
// checked against the reference checksums; lost or reordered first
// fragments, note expiry and eviction, steering across workers.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "nat/bytes.h"
#include "nat/nat.h"
#include "tests/unit/nat/packet.h"

namespace vnet::nat {
namespace {

using test::Bytes;
using test::ip;
using test::kGuest;
using test::kExt;
using test::kPeer;

constexpr uint64_t kSec = kNsPerSec;

NatConfig config(uint16_t workers = 1) { return test::guest_nat(40000, 40999, workers); }

const Result kOk{};
Result dropped(NatReason r) { return Result{Verdict::kDrop, r}; }

// A datagram of `payload` bytes with identification `id`, in fragments of 1480.
std::vector<Bytes> udp_fragments(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, size_t payload,
                                 uint16_t id) {
  Bytes d = test::udp(src, sport, dst, dport, payload);
  test::put16(d, 4, id);
  test::put16(d, 6, 0);  // DF clear: the sender fragments
  test::fill_ip_checksum(d);
  return test::fragment(d, 1480);
}

TEST(Fragments, UdpDatagramBothWays) {
  NatWorker w(config(), 0, 64, 1);
  std::vector<Bytes> out = udp_fragments(kGuest, 5000, kPeer, 7007, 4000, 0x1111);
  ASSERT_EQ(out.size(), 3u);
  for (Bytes& f : out) ASSERT_EQ(w.in2out(f, kSec), kOk);
  for (const Bytes& f : out) {
    EXPECT_EQ(test::get32(f, 12), kExt);
    EXPECT_EQ(test::ref_checksum(f, 0, 20), 0) << "each fragment's IPv4 header checksum";
  }
  const uint16_t port = test::get16(out[0], 20);
  EXPECT_GE(port, 40000);
  EXPECT_LE(port, 40999);
  const Bytes sent = test::reassemble(out);
  EXPECT_EQ(test::check_checksums(sent), "") << "the UDP checksum over the whole datagram";
  EXPECT_EQ(test::get32(sent, 12), kExt);
  EXPECT_EQ(w.counters().read(NatEvent::kFragments), 2u);
  EXPECT_EQ(w.counters().read(NatEvent::kIn2Out), 1u);
  EXPECT_EQ(w.fragment_notes(kSec), 0u) << "a complete datagram leaves no note";

  std::vector<Bytes> back = udp_fragments(kPeer, 7007, kExt, port, 3000, 0x2222);
  for (Bytes& f : back) ASSERT_EQ(w.out2in(f, 2 * kSec), kOk);
  const Bytes got = test::reassemble(back);
  EXPECT_EQ(test::check_checksums(got), "");
  EXPECT_EQ(test::get32(got, 16), kGuest);
  EXPECT_EQ(test::get16(got, 22), 5000);
  for (const Bytes& f : back) EXPECT_EQ(test::get32(f, 16), kGuest);
  EXPECT_EQ(w.counters().read(NatEvent::kFragments), 4u);
  EXPECT_EQ(w.fragment_notes(2 * kSec), 0u);
}

TEST(Fragments, IcmpEchoAndTcpInFragments) {
  NatWorker w(config(), 0, 64, 2);
  Bytes ping = test::icmp_echo(kGuest, kPeer, icmp::kEchoRequest, 0x4242, 3000);
  test::put16(ping, 6, 0);
  test::fill_ip_checksum(ping);
  std::vector<Bytes> frags = test::fragment(ping, 1480);
  for (Bytes& f : frags) ASSERT_EQ(w.in2out(f, kSec), kOk);
  EXPECT_EQ(test::check_checksums(test::reassemble(frags)), "");
  const uint16_t id = test::get16(frags[0], 24);
  Bytes reply = test::icmp_echo(kPeer, kExt, icmp::kEchoReply, id, 3000);
  test::put16(reply, 6, 0);
  test::fill_ip_checksum(reply);
  std::vector<Bytes> rf = test::fragment(reply, 1480);
  for (Bytes& f : rf) ASSERT_EQ(w.out2in(f, kSec), kOk);
  const Bytes back = test::reassemble(rf);
  EXPECT_EQ(test::check_checksums(back), "");
  EXPECT_EQ(test::get16(back, 24), 0x4242);
  EXPECT_EQ(test::get32(back, 16), kGuest);

  Bytes syn = test::tcp(kGuest, 6000, kPeer, 80, l4::kTcpSyn, 2000);
  test::put16(syn, 6, 0);
  test::fill_ip_checksum(syn);
  std::vector<Bytes> tf = test::fragment(syn, 1480);
  for (Bytes& f : tf) ASSERT_EQ(w.in2out(f, kSec), kOk);
  EXPECT_EQ(test::check_checksums(test::reassemble(tf)), "");
}

TEST(Fragments, LaterFragmentWithoutItsFirstIsDropped) {
  NatWorker w(config(), 0, 64, 3);
  std::vector<Bytes> out = udp_fragments(kGuest, 5000, kPeer, 53, 4000, 7);
  const Bytes second0 = out[1];
  EXPECT_EQ(w.in2out(out[1], kSec), dropped(NatReason::kFragmentNoFirst));
  EXPECT_EQ(out[1], second0) << "a dropped fragment is not modified";
  ASSERT_EQ(w.in2out(out[0], kSec), kOk);
  ASSERT_EQ(w.in2out(out[2], kSec), kOk);
  EXPECT_EQ(test::get32(out[2], 12), kExt);
  EXPECT_EQ(w.counters().read(NatReason::kFragmentNoFirst), 1u);
  // The datagram never completed: its note lives for net.ipv4.ipfrag_time.
  EXPECT_EQ(w.fragment_notes(kSec), 1u);
  Bytes late = second0;
  ASSERT_EQ(w.in2out(late, kSec + kFragmentTimeoutNs - 1), kOk);
  EXPECT_EQ(w.fragment_notes(kSec + kFragmentTimeoutNs - 1), 0u) << "now every byte was seen";
  // After the timeout a later fragment has no note.
  std::vector<Bytes> b = udp_fragments(kGuest, 5000, kPeer, 53, 4000, 8);
  ASSERT_EQ(w.in2out(b[0], 100 * kSec), kOk);
  EXPECT_EQ(w.in2out(b[1], 100 * kSec + kFragmentTimeoutNs), dropped(NatReason::kFragmentNoFirst));
  // An inbound later fragment of no datagram: dropped, not refused.
  std::vector<Bytes> in = udp_fragments(kPeer, 53, kExt, 40001, 3000, 9);
  EXPECT_EQ(w.out2in(in[1], kSec), dropped(NatReason::kFragmentNoFirst));
}

TEST(Fragments, FirstFragmentNeedsTheWholeL4Header) {
  NatWorker w(config(), 0, 64, 4);
  Bytes syn = test::tcp(kGuest, 6000, kPeer, 80, l4::kTcpSyn, 100);
  test::put16(syn, 6, 0);
  test::fill_ip_checksum(syn);
  std::vector<Bytes> tiny = test::fragment(syn, 8);  // 8 bytes of TCP header in the first
  EXPECT_EQ(w.in2out(tiny[0], kSec), dropped(NatReason::kTruncated));
  EXPECT_EQ(w.in2out(tiny[1], kSec), dropped(NatReason::kFragmentNoFirst));
  EXPECT_EQ(w.table().size(), 0u);
}

TEST(Fragments, NotesAreBoundedAndEvictedOldestFirst) {
  NatWorker w(config(), 0, 64, 5);
  const uint32_t n = kFragmentNotesPerWorker + 200;
  for (uint32_t i = 0; i < n; ++i) {
    std::vector<Bytes> f = udp_fragments(kGuest, 5000, kPeer, 53, 3000, static_cast<uint16_t>(i));
    ASSERT_EQ(w.in2out(f[0], kSec + i), kOk);
  }
  EXPECT_LE(w.fragment_notes(kSec + n), static_cast<size_t>(kFragmentNotesPerWorker));
  EXPECT_GE(w.counters().read(NatEvent::kFragmentNotesEvicted), 200u);
  // The newest datagram still has its note.
  std::vector<Bytes> last = udp_fragments(kGuest, 5000, kPeer, 53, 3000, static_cast<uint16_t>(n - 1));
  EXPECT_EQ(w.in2out(last[1], kSec + n), kOk);
}

TEST(Fragments, LaterFragmentsFollowTheFirstToTheOwningWorker) {
  const NatConfig c = config(3);
  std::vector<std::unique_ptr<NatWorker>> ws;
  for (unsigned i = 0; i < 3; ++i) ws.push_back(std::make_unique<NatWorker>(c, i, 64, 10 + i));
  Bytes p = test::udp(kGuest, 5000, kPeer, 7007);
  ASSERT_EQ(ws[2]->in2out(p, kSec), kOk);
  const uint16_t port = test::get16(p, 20);
  ASSERT_EQ(ws[0]->plan().owner(kProtoUdp, kExt, port), 2);

  // The reply arrives at worker 0 (the uplink's queue), in fragments.
  std::vector<Bytes> back = udp_fragments(kPeer, 7007, kExt, port, 3000, 0x3333);
  EXPECT_EQ(ws[0]->out2in_worker(back[1], kSec), kAnyWorker) << "no first fragment seen yet";
  for (Bytes& f : back) EXPECT_EQ(ws[0]->out2in_worker(f, kSec), 2);
  EXPECT_EQ(ws[0]->fragment_notes(kSec), 0u) << "the steering note goes with the last byte";
  for (Bytes& f : back) ASSERT_EQ(ws[2]->out2in(f, kSec), kOk);
  const Bytes got = test::reassemble(back);
  EXPECT_EQ(test::check_checksums(got), "");
  EXPECT_EQ(test::get32(got, 16), kGuest);
  EXPECT_EQ(test::get16(got, 22), 5000);
  // Unfragmented packets are steered by their port as before.
  Bytes whole = test::udp(kPeer, 7007, kExt, port);
  EXPECT_EQ(ws[1]->out2in_worker(whole, kSec), 2);
}

}  // namespace
}  // namespace vnet::nat
