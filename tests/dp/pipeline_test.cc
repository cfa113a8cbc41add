// T1 tests of the L2 stages and dispatcher on real mbufs: learning, flooding,
// isolation, VLANs, MTU, drop reasons, burst sizes 0/1/3/4/5/31/32/33.
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include "tests/dp/stage_harness.h"

namespace vnet::dp::test {
namespace {

constexpr int kA = 0, kB = 1, kC = 2, kD = 3, kE = 4;  // harness ports

class PipelineTest : public StageTest<PipelineTest> {
 public:
  static constexpr const char* kTag = "pipe";
  static constexpr unsigned kPoolSize = 8191;
};

TEST_F(PipelineTest, BurstSizesFloodUnknownUnicast) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  uint64_t sent = 0;
  for (size_t n : {0u, 1u, 3u, 4u, 5u, 31u, 32u, 33u}) {
    std::vector<FrameSpec> frames;
    for (size_t i = 0; i < n; ++i) frames.push_back(frame(kA, kD, 46 + i));
    if (n > 0 && n <= kBurst) {
      // Verdicts of one burst: all flooded (the destination is unknown).
      Burst b = h_->burst(kA, frames);
      h_->run(b);
      for (uint16_t i = 0; i < b.count; ++i) EXPECT_EQ(b.verdicts[i].action, Action::kFlood) << n;
      h_->free_burst(b);
    }
    h_->send(kA, frames);
    sent += n;
    auto rb = h_->received(kB);
    auto rc = h_->received(kC);
    ASSERT_EQ(rb.size(), n);
    ASSERT_EQ(rc.size(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(rb[i], frame_bytes(frames[i])) << "n=" << n << " i=" << i;
      EXPECT_EQ(rc[i], frame_bytes(frames[i]));
    }
    EXPECT_TRUE(h_->received(kA).empty());
  }
  EXPECT_EQ(h_->port_counters(kB).tx_pkts.read(), sent);
  EXPECT_EQ(h_->port_counters(kC).tx_pkts.read(), sent);
}

TEST_F(PipelineTest, LearnThenUnicastReachesOnlyItsPort) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  h_->send(kA, {bcast(kA)});
  EXPECT_EQ(h_->received(kB).size(), 1u);
  EXPECT_EQ(h_->received(kC).size(), 1u);
  EXPECT_EQ(h_->slow_path().counters().learned.read(), 1u);
  // B -> A: A's MAC is known now.
  Burst b = h_->burst(kB, {frame(kB, kA)});
  h_->run(b);
  EXPECT_EQ(b.verdicts[0].action, Action::kForward);
  EXPECT_EQ(b.verdicts[0].out_port, h_->port_id(kA));
  h_->free_burst(b);
  h_->send(kB, {frame(kB, kA, 100)});
  auto ra = h_->received(kA);
  ASSERT_EQ(ra.size(), 1u);
  EXPECT_EQ(ra[0], frame_bytes(frame(kB, kA, 100)));
  EXPECT_TRUE(h_->received(kC).empty());
  EXPECT_EQ(h_->port_counters(kA).tx_bytes.read(), 14u + 100u);
  EXPECT_EQ(h_->port_counters(kB).rx_pkts.read(), 0u) << "rx is counted by the worker, not here";
}

// Frames from one source in a row share one FDB lookup: every one of them is
// known (with its entry's position, for the flow cache), and a new source
// in between is still looked up and learned.
TEST_F(PipelineTest, RepeatedSourceSharesOneLookup) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  h_->send(kA, {bcast(kA)});
  h_->send(kC, {bcast(kC)});
  (void)h_->received(kB);
  Burst b = h_->burst(kA, {frame(kA, kC), frame(kA, kC), frame(kA, kC), frame(kB, kC), frame(kA, kC)});
  h_->run(b);
  for (uint16_t i = 0; i < 5; ++i) EXPECT_EQ(b.verdicts[i].out_port, h_->port_id(kC)) << i;
  EXPECT_EQ(b.src_known, 0b10111u) << "A's frames known, B's not yet";
  for (uint16_t i : {1, 2}) EXPECT_EQ(b.src_pos[i], b.src_pos[0]) << i;
  EXPECT_EQ(b.src_pos[4], b.src_pos[0]);
  h_->free_burst(b);
  h_->quiesce();
  EXPECT_EQ(h_->slow_path().counters().learned.read(), 3u) << "A, C, then B from the burst";
}

// One burst with destinations interleaved (known on B, C, D — D isolated
// like A — the rx port itself, and unknown): forward_stage's per-burst
// decision cache must decide each packet by its own destination.
TEST_F(PipelineTest, MixedDestinationsInOneBurst) {
  h_->configure({network(1)}, {port(kA, 1, true), port(kB, 1), port(kC, 1), port(kD, 1, true)});
  learn_ports({kA, kB, kC, kD});
  std::vector<FrameSpec> frames;
  const int dsts[] = {kB, kC, kB, kD, kA, kE, kC, kC, kB, kD, kE, kB};
  for (int k = 0; k < 33; ++k) frames.push_back(frame(kA, dsts[k % 12]));
  Burst b = h_->burst(kA, std::vector<FrameSpec>(frames.begin(), frames.begin() + 32));
  h_->run(b);
  for (int k = 0; k < 32; ++k) {
    const int d = dsts[k % 12];
    const Verdict& v = b.verdicts[static_cast<size_t>(k)];
    if (d == kB || d == kC) {
      EXPECT_EQ(v.action, Action::kForward) << k;
      EXPECT_EQ(v.out_port, h_->port_id(d)) << k;
    } else if (d == kD) {
      EXPECT_EQ(v.action, Action::kDrop) << k;
      EXPECT_EQ(v.reason, DropReason::kIsolated) << k;
    } else if (d == kA) {
      EXPECT_EQ(v.action, Action::kDrop) << k;
      EXPECT_EQ(v.reason, DropReason::kLoop) << k;
    } else {
      EXPECT_EQ(v.action, Action::kFlood) << k;
    }
  }
  h_->free_burst(b);
  h_->send(kA, frames);  // 33 frames: a full burst and one more
  size_t to_b = 0, to_c = 0, unknown = 0;
  for (int k = 0; k < 33; ++k) {
    to_b += dsts[k % 12] == kB;
    to_c += dsts[k % 12] == kC;
    unknown += dsts[k % 12] == kE;
  }
  EXPECT_EQ(h_->received(kB).size(), to_b + unknown);  // unknown unicast floods to B and C
  EXPECT_EQ(h_->received(kC).size(), to_c + unknown);
  EXPECT_TRUE(h_->received(kD).empty());
}

TEST_F(PipelineTest, DestinationOnRxPortIsDroppedAsLoop) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1)});
  learn_ports({kA});
  FrameSpec f = frame(kA, kA);
  f.src = mac(0x77);
  h_->send(kA, {f});
  EXPECT_TRUE(h_->received(kB).empty());
  EXPECT_EQ(h_->drops(kA, DropReason::kLoop), 1u);
}

TEST_F(PipelineTest, MacMove) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kA});
  // The VM with A's MAC now sends from port B (migration): the FDB follows.
  FrameSpec moved = bcast(kA);
  h_->send(kB, {moved});
  h_->received(kA);
  h_->received(kC);
  EXPECT_EQ(h_->slow_path().counters().moved.read(), 1u);
  h_->send(kC, {frame(kC, kA)});
  EXPECT_EQ(h_->received(kB).size(), 1u);
  EXPECT_TRUE(h_->received(kA).empty());
}

TEST_F(PipelineTest, InvalidFramesAreDroppedWithReasons) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1)});
  FrameSpec mc = frame(kA, kB);
  mc.src = net::MacAddr{{0x01, 0, 0x5e, 0, 0, 1}};
  FrameSpec zero = frame(kA, kB);
  zero.src = net::MacAddr{};
  Burst b = h_->burst(kA, {mc, zero, frame(kA, kB)});
  // A 10-byte runt in place of the third frame.
  rte_pktmbuf_trim(b.pkts[2], static_cast<uint16_t>(b.pkts[2]->pkt_len - 10));
  h_->switch_burst(b);
  EXPECT_EQ(h_->drops(kA, DropReason::kSrcMacMulticast), 1u);
  EXPECT_EQ(h_->drops(kA, DropReason::kSrcMacZero), 1u);
  EXPECT_EQ(h_->drops(kA, DropReason::kRunt), 1u);
  EXPECT_TRUE(h_->received(kB).empty());
  EXPECT_EQ(h_->learn_ring().count(), 0u);
}

TEST_F(PipelineTest, UnknownRxPortIsDropped) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1)});
  h_->send(kC, {bcast(kC)});
  EXPECT_EQ(h_->drops(kC, DropReason::kNoPort), 1u);
  EXPECT_TRUE(h_->received(kA).empty());
}

TEST_F(PipelineTest, NoFloodTarget) {
  h_->configure({network(1)}, {port(kA, 1)});
  h_->send(kA, {bcast(kA)});
  EXPECT_EQ(h_->drops(kA, DropReason::kNoFloodTarget), 1u);
}

TEST_F(PipelineTest, NetworksAreSeparate) {
  h_->configure({network(1), network(2)}, {port(kA, 1), port(kB, 1), port(kC, 2), port(kD, 2)});
  h_->send(kA, {bcast(kA)});
  EXPECT_EQ(h_->received(kB).size(), 1u);
  EXPECT_TRUE(h_->received(kC).empty());
  EXPECT_TRUE(h_->received(kD).empty());
  // A's MAC is unknown in network 2: C's unicast to it floods within network 2 only.
  h_->send(kC, {frame(kC, kA)});
  EXPECT_EQ(h_->received(kD).size(), 1u);
  EXPECT_TRUE(h_->received(kA).empty());
}

TEST_F(PipelineTest, IsolatedPortsReachOnlyNonIsolated) {
  // A, B isolated (guests); C not isolated (gateway/uplink).
  h_->configure({network(1)}, {port(kA, 1, true), port(kB, 1, true), port(kC, 1)});
  h_->send(kA, {bcast(kA)});
  EXPECT_TRUE(h_->received(kB).empty());
  EXPECT_EQ(h_->received(kC).size(), 1u);
  h_->send(kB, {bcast(kB)});
  EXPECT_TRUE(h_->received(kA).empty());
  EXPECT_EQ(h_->received(kC).size(), 1u);
  h_->send(kC, {bcast(kC)});
  EXPECT_EQ(h_->received(kA).size(), 1u);
  EXPECT_EQ(h_->received(kB).size(), 1u);
  // Known unicast between isolated ports: dropped.
  h_->send(kA, {frame(kA, kB)});
  EXPECT_TRUE(h_->received(kB).empty());
  EXPECT_EQ(h_->drops(kA, DropReason::kIsolated), 1u);
  // Isolated <-> non-isolated unicast works both ways.
  h_->send(kA, {frame(kA, kC)});
  EXPECT_EQ(h_->received(kC).size(), 1u);
  h_->send(kC, {frame(kC, kB)});
  EXPECT_EQ(h_->received(kB).size(), 1u);
  // Unknown unicast from an isolated port floods to non-isolated ports only.
  h_->send(kA, {frame(kA, kE)});
  EXPECT_TRUE(h_->received(kB).empty());
  EXPECT_EQ(h_->received(kC).size(), 1u);
}

TEST_F(PipelineTest, VlanAccessAndTrunk) {
  // A, B access 10; C access 20; D trunk 10,20 (no native).
  h_->configure({network(1)}, {port(kA, 1, false, access(10)), port(kB, 1, false, access(10)),
                               port(kC, 1, false, access(20)), port(kD, 1, false, trunk({10, 20}))});
  h_->send(kA, {bcast(kA)});
  auto rb = h_->received(kB);
  auto rd = h_->received(kD);
  ASSERT_EQ(rb.size(), 1u);
  ASSERT_EQ(rd.size(), 1u);
  EXPECT_TRUE(h_->received(kC).empty());
  EXPECT_EQ(rb[0], frame_bytes(bcast(kA)));               // access: untagged
  EXPECT_EQ(rd[0], frame_bytes(tagged(bcast(kA), 10)));   // trunk: tagged 10
  // From the trunk, tagged 20 -> C untagged (pop); PCP is carried across.
  h_->send(kD, {tagged(bcast(kD), 20, 5)});
  auto rc = h_->received(kC);
  ASSERT_EQ(rc.size(), 1u);
  EXPECT_EQ(rc[0], frame_bytes(bcast(kD)));
  EXPECT_TRUE(h_->received(kA).empty());
  // C -> D's MAC in VLAN 20 (learned just now): tagged 20 with C's PCP (0).
  h_->send(kC, {frame(kC, kD)});
  rd = h_->received(kD);
  ASSERT_EQ(rd.size(), 1u);
  EXPECT_EQ(rd[0], frame_bytes(tagged(frame(kC, kD), 20)));
  // A -> D's MAC in VLAN 10: unknown there (per-VLAN FDB) -> flooded in 10.
  h_->send(kA, {frame(kA, kD)});
  EXPECT_EQ(h_->received(kB).size(), 1u);
  rd = h_->received(kD);
  ASSERT_EQ(rd.size(), 1u);
  EXPECT_EQ(rd[0], frame_bytes(tagged(frame(kA, kD), 10)));
  EXPECT_TRUE(h_->received(kC).empty());
}

TEST_F(PipelineTest, VlanIngressRules) {
  h_->configure({network(1)}, {port(kA, 1, false, access(10)), port(kB, 1, false, access(10)),
                               port(kD, 1, false, trunk({10, 20}))});
  // Tagged frame into an access port: dropped. Priority-tagged: accepted, tag removed.
  h_->send(kA, {tagged(bcast(kA), 10), tagged(bcast(kA), 0, 3)});
  EXPECT_EQ(h_->drops(kA, DropReason::kVlanNotAllowed), 1u);
  auto rb = h_->received(kB);
  ASSERT_EQ(rb.size(), 1u);
  EXPECT_EQ(rb[0], frame_bytes(bcast(kA)));
  auto rd = h_->received(kD);
  ASSERT_EQ(rd.size(), 1u);
  EXPECT_EQ(rd[0], frame_bytes(tagged(bcast(kA), 10, 3)));
  // Trunk: VID not allowed, and untagged without a native VLAN: dropped.
  h_->send(kD, {tagged(bcast(kD), 30), bcast(kD)});
  EXPECT_EQ(h_->drops(kD, DropReason::kVlanNotAllowed), 2u);
  EXPECT_TRUE(h_->received(kA).empty());
}

TEST_F(PipelineTest, TrunkNativeVlanUntaggedAndTagged) {
  // D: trunk 10,20 native 10 untagged. E: trunk 10,20 native 10 tagged.
  h_->configure({network(1)},
                {port(kA, 1, false, access(10)), port(kC, 1, false, access(20)),
                 port(kD, 1, false, trunk({10, 20}, 10, NativeMode::kUntagged)),
                 port(kE, 1, false, trunk({10, 20}, 10, NativeMode::kTagged))});
  // Untagged from D enters VLAN 10.
  h_->send(kD, {bcast(kD)});
  EXPECT_EQ(h_->received(kA).size(), 1u);
  EXPECT_TRUE(h_->received(kC).empty());
  auto re = h_->received(kE);
  ASSERT_EQ(re.size(), 1u);
  EXPECT_EQ(re[0], frame_bytes(tagged(bcast(kD), 10)));  // native tagged on E
  // VLAN 10 from A: untagged on D (native untagged), tagged on E.
  h_->send(kA, {bcast(kA)});
  auto rd = h_->received(kD);
  ASSERT_EQ(rd.size(), 1u);
  EXPECT_EQ(rd[0], frame_bytes(bcast(kA)));
  re = h_->received(kE);
  ASSERT_EQ(re.size(), 1u);
  EXPECT_EQ(re[0], frame_bytes(tagged(bcast(kA), 10)));
  // VLAN 20 from C: tagged on both trunks.
  h_->send(kC, {bcast(kC)});
  rd = h_->received(kD);
  ASSERT_EQ(rd.size(), 1u);
  EXPECT_EQ(rd[0], frame_bytes(tagged(bcast(kC), 20)));
  // Untagged from E (native tagged still admits untagged into 10).
  h_->send(kE, {bcast(kE)});
  EXPECT_EQ(h_->received(kA).size(), 1u);
  // A tagged-10 frame on D is also VLAN 10.
  h_->send(kD, {tagged(frame(kD, kA), 10)});
  auto ra = h_->received(kA);
  ASSERT_EQ(ra.size(), 1u);
  EXPECT_EQ(ra[0], frame_bytes(frame(kD, kA)));
}

TEST_F(PipelineTest, PortsWithoutVlanPassTagsThrough) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1, false, access(5))});
  h_->send(kA, {tagged(bcast(kA), 42)});
  auto rb = h_->received(kB);
  ASSERT_EQ(rb.size(), 1u);
  EXPECT_EQ(rb[0], frame_bytes(tagged(bcast(kA), 42)));  // unchanged
  EXPECT_TRUE(h_->received(kC).empty());                 // VLAN 0 is not VLAN 5
}

TEST_F(PipelineTest, MtuIsEnforcedOnL3Payload) {
  h_->configure({network(1, 1500)},
                {port(kA, 1, false, access(10)), port(kB, 1, false, access(10)),
                 port(kD, 1, false, trunk({10}, 10, NativeMode::kUntagged))});
  h_->send(kA, {bcast(kA, 1500), bcast(kA, 1501)});
  EXPECT_EQ(h_->drops(kA, DropReason::kMtuExceeded), 1u);
  auto rb = h_->received(kB);
  ASSERT_EQ(rb.size(), 1u);
  EXPECT_EQ(rb[0].size(), 1514u);
  // The 802.1Q tag is not part of the payload.
  h_->send(kD, {tagged(bcast(kD, 1500), 10), tagged(bcast(kD, 1501), 10)});
  EXPECT_EQ(h_->drops(kD, DropReason::kMtuExceeded), 1u);
  EXPECT_EQ(h_->received(kB).size(), 1u);
}

TEST_F(PipelineTest, JumboFramesAsChainedMbufs) {
  h_->configure({network(1, 9000)}, {port(kA, 1, false, access(7)), port(kB, 1, false, access(7)),
                                     port(kD, 1, false, trunk({7}))});
  Burst probe = h_->burst(kA, {bcast(kA, 9000)});
  EXPECT_GT(probe.pkts[0]->nb_segs, 1);
  h_->free_burst(probe);
  h_->send(kA, {bcast(kA, 9000), bcast(kA, 9001)});
  EXPECT_EQ(h_->drops(kA, DropReason::kMtuExceeded), 1u);
  auto rb = h_->received(kB);
  auto rd = h_->received(kD);
  ASSERT_EQ(rb.size(), 1u);
  ASSERT_EQ(rd.size(), 1u);
  EXPECT_EQ(rb[0], frame_bytes(bcast(kA, 9000)));
  EXPECT_EQ(rd[0], frame_bytes(tagged(bcast(kA, 9000), 7)));  // tag pushed on a chain
  // A 9216-byte MTU is accepted by the snapshot builder; 9217 is not.
  EXPECT_TRUE(build_snapshot(1, 1, std::vector{network(1, 9216)}, {}).is_ok());
  EXPECT_FALSE(build_snapshot(1, 1, std::vector{network(1, 9217)}, {}).is_ok());
}

TEST_F(PipelineTest, AgeingThroughTheSlowPath) {
  h_->configure({network(1, 1500, 8192, 300)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kA});
  h_->clock().advance_s(299);
  h_->quiesce();
  h_->send(kB, {frame(kB, kA)});
  EXPECT_EQ(h_->received(kA).size(), 1u);
  EXPECT_TRUE(h_->received(kC).empty());
  h_->clock().advance_s(1);
  h_->quiesce();  // sweep: A's entry is 300 s old
  EXPECT_EQ(h_->slow_path().counters().aged.read(), 1u);
  h_->send(kB, {frame(kB, kA)});
  EXPECT_EQ(h_->received(kA).size(), 1u);
  EXPECT_EQ(h_->received(kC).size(), 1u) << "unknown again: flooded";
}

TEST_F(PipelineTest, SeenTrafficKeepsEntryAlive) {
  h_->configure({network(1, 1500, 8192, 300)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kA});
  for (int i = 0; i < 5; ++i) {
    h_->clock().advance_s(100);
    h_->send(kA, {frame(kA, kB)});  // A keeps talking: touch() refreshes it
  }
  h_->received(kB);
  h_->received(kC);
  EXPECT_EQ(h_->slow_path().counters().aged.read(), 0u) << "A was seen every 100 s";
  h_->send(kB, {frame(kB, kA)});
  EXPECT_EQ(h_->received(kA).size(), 1u);
  EXPECT_TRUE(h_->received(kC).empty());
}

// Thousands of stations: some keys sit outside the line a probe prefetches
// (the FDB's rest lines); every frame still reaches exactly its station's
// port, through the stages and through the flow cache.
TEST_F(PipelineTest, ManyStationsEachReachItsPort) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kA});
  constexpr int kStations = 3000;
  // Scattered MACs (sequential ones spread evenly over the buckets).
  auto station = [](int k) {
    const uint64_t v = (static_cast<uint64_t>(k) + 1) * 0x9e3779b97f4a7c15ull;
    return net::MacAddr{{0x02, static_cast<uint8_t>(v >> 56), static_cast<uint8_t>(v >> 48),
                         static_cast<uint8_t>(v >> 40), static_cast<uint8_t>(v >> 32), static_cast<uint8_t>(v >> 24)}};
  };
  std::vector<FrameSpec> to;
  for (int k = 0; k < kStations; ++k) {
    const int at = k % 2 == 0 ? kB : kC;
    h_->send(at, {FrameSpec{net::kBroadcastMac, station(k), std::nullopt, 0, net::kEtherTypeIpv4, 46, 0}});
    to.push_back(FrameSpec{station(k), mac(static_cast<uint8_t>(kA + 1)), std::nullopt, 0, net::kEtherTypeIpv4, 46,
                           static_cast<uint8_t>(k)});
  }
  drain();
  ASSERT_EQ(h_->fdb().stats(1).entries.read(), kStations + 1u);
  int rest = 0;
  for (int k = 0; k < kStations; ++k) {
    uint16_t port = 0;
    rest += h_->fdb().find_first(h_->fdb().probe(FdbKey{1, 0, station(k), 0}), &port) < 0 ? 1 : 0;
  }
  ASSERT_GT(rest, 0) << "no station outside the prefetched line: the test would not reach find_rest";
  for (int round = 0; round < 2; ++round) {  // round 1 hits the flow cache
    for (int k0 = 0; k0 < kStations; k0 += 256) {  // within the harness rings' room
      const int n = std::min(256, kStations - k0);
      h_->send(kA, {to.begin() + k0, to.begin() + k0 + n});
      const auto rb = h_->received(kB);
      const auto rc = h_->received(kC);
      ASSERT_EQ(rb.size(), static_cast<size_t>(n / 2)) << "round " << round << " from " << k0;
      ASSERT_EQ(rc.size(), static_cast<size_t>(n / 2)) << "round " << round << " from " << k0;
      for (int j = 0; j < n / 2; ++j) {
        EXPECT_EQ(rb[j], frame_bytes(to[k0 + 2 * j])) << k0 + 2 * j;
        EXPECT_EQ(rc[j], frame_bytes(to[k0 + 2 * j + 1])) << k0 + 2 * j + 1;
      }
      EXPECT_TRUE(h_->received(kA).empty());
    }
  }
  EXPECT_EQ(h_->port_counters(kA).flow_cache_hits.read(), static_cast<uint64_t>(kStations));
}

TEST_F(PipelineTest, MacLimitThroughTheSlowPath) {
  h_->configure({network(1, 1500, 2)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kA, kB, kC});
  EXPECT_EQ(h_->fdb().stats(1).entries.read(), 2u);
  EXPECT_EQ(h_->slow_path().counters().drops.read(DropReason::kFdbFull), 1u);
  // C's MAC is not learned: traffic to it floods but still arrives.
  h_->send(kA, {frame(kA, kC)});
  EXPECT_EQ(h_->received(kC).size(), 1u);
  EXPECT_EQ(h_->received(kB).size(), 1u);
}

TEST_F(PipelineTest, StaleFdbEntryForRemovedPortFloods) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kC});
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1)});  // C removed, FDB not flushed yet
  h_->send(kA, {frame(kA, kC)});
  EXPECT_EQ(h_->received(kB).size(), 1u);
  EXPECT_TRUE(h_->received(kC).empty());
  // A learn event for the removed port is ignored by the slow path.
  h_->learn_ring().push(LearnEvent{FdbKey{1, 0, mac(0x99), 0}, h_->port_id(kC), 0});
  h_->quiesce();
  EXPECT_EQ(h_->slow_path().counters().learn_stale.read(), 1u);
}

TEST_F(PipelineTest, LearnEventsAreDedupedWithinABurst) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1)});
  Burst b = h_->burst(kA, {bcast(kA), bcast(kA), bcast(kA), bcast(kB)});
  h_->run(b);
  EXPECT_EQ(h_->learn_ring().count(), 2u);
  h_->free_burst(b);
  h_->quiesce();
}

TEST_F(PipelineTest, LearnEventIsNotRepostedWhilePending) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1)});
  auto run_one = [&](int in, const std::vector<FrameSpec>& frames) {
    Burst b = h_->burst(in, frames);
    h_->run(b);
    h_->free_burst(b);
  };
  for (int i = 0; i < 5; ++i) run_one(kA, {bcast(kA), bcast(kA)});
  EXPECT_EQ(h_->learn_ring().count(), 1u);
  // The same MAC on another port is a different event (a move).
  run_one(kB, {bcast(kA)});
  EXPECT_EQ(h_->learn_ring().count(), 2u);
  h_->quiesce();
  EXPECT_EQ(h_->learn_ring().count(), 0u);
  EXPECT_EQ(h_->slow_path().counters().learn_events.read(), 2u);
  // Consumed events no longer hold back new ones: after a flush A is unknown again.
  h_->fdb().flush_all();
  run_one(kA, {bcast(kA)});
  run_one(kA, {bcast(kA)});
  EXPECT_EQ(h_->learn_ring().count(), 1u);
  h_->quiesce();
  uint16_t where = 0;
  EXPECT_GE(h_->fdb().lookup(FdbKey{1, 0, mac(static_cast<uint8_t>(kA + 1)), 0}, &where), 0);
  EXPECT_EQ(where, h_->port_id(kA));
  EXPECT_EQ(h_->drops(kA, DropReason::kLearnRingFull), 0u);
  EXPECT_EQ(h_->drops(kB, DropReason::kLearnRingFull), 0u);
}

TEST_F(PipelineTest, LearnRingFullCountsOnlyLostEvents) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1)});
  // Leave one free slot in the ring (capacity 1024): events for network 9 are stale.
  for (int i = 0; i < 1023; ++i)
    ASSERT_TRUE(h_->learn_ring().push(LearnEvent{FdbKey{9, 0, mac(0x99), 0}, h_->port_id(kA), 0}));
  auto run_one = [&](int in, const std::vector<FrameSpec>& frames) {
    Burst b = h_->burst(in, frames);
    h_->run(b);
    h_->free_burst(b);
  };
  run_one(kA, {bcast(kA)});  // takes the last slot
  for (int i = 0; i < 10; ++i) run_one(kA, {bcast(kA), bcast(kA)});
  EXPECT_EQ(h_->drops(kA, DropReason::kLearnRingFull), 0u);
  run_one(kB, {bcast(kB), bcast(kB)});  // a new source with no room: one lost event
  EXPECT_EQ(h_->drops(kB, DropReason::kLearnRingFull), 1u);
  run_one(kB, {bcast(kB)});  // not pending (it was lost): tried, and lost, again
  EXPECT_EQ(h_->drops(kB, DropReason::kLearnRingFull), 2u);
  h_->quiesce();
  EXPECT_EQ(h_->slow_path().counters().learn_stale.read(), 1023u);
  // Room again: B's next frame is learned.
  run_one(kB, {bcast(kB)});
  h_->quiesce();
  uint16_t where = 0;
  EXPECT_GE(h_->fdb().lookup(FdbKey{1, 0, mac(static_cast<uint8_t>(kB + 1)), 0}, &where), 0);
  EXPECT_GE(h_->fdb().lookup(FdbKey{1, 0, mac(static_cast<uint8_t>(kA + 1)), 0}, &where), 0);
  EXPECT_EQ(h_->drops(kB, DropReason::kLearnRingFull), 2u);
}

TEST_F(PipelineTest, VlanTagUntagNativeAcrossBurstSizes) {
  // A: access 10. D: trunk 10,20 native 20 untagged. E: trunk 10,20, no native.
  h_->configure({network(1)}, {port(kA, 1, false, access(10)),
                               port(kD, 1, false, trunk({10, 20}, 20, NativeMode::kUntagged)),
                               port(kE, 1, false, trunk({10, 20}))});
  for (size_t n : {0u, 1u, 31u, 32u, 33u}) {
    std::vector<FrameSpec> t10, plain, from_a;
    for (size_t i = 0; i < n; ++i) {
      t10.push_back(tagged(bcast(kD, 46 + i), 10, static_cast<uint8_t>(i % 8)));
      plain.push_back(bcast(kD, 46 + i));
      from_a.push_back(bcast(kA, 46 + i));
    }
    // Tagged 10 from the trunk: untagged on the access port, tagged 10 (PCP kept) on E.
    h_->send(kD, t10);
    auto ra = h_->received(kA);
    auto re = h_->received(kE);
    ASSERT_EQ(ra.size(), n);
    ASSERT_EQ(re.size(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(ra[i], frame_bytes(plain[i])) << "n=" << n << " i=" << i;
      EXPECT_EQ(re[i], frame_bytes(t10[i]));
    }
    // Untagged on D is its native VLAN 20: tagged 20 on E, nothing on A.
    h_->send(kD, plain);
    re = h_->received(kE);
    ASSERT_EQ(re.size(), n);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(re[i], frame_bytes(tagged(plain[i], 20)));
    EXPECT_TRUE(h_->received(kA).empty());
    // From the access port: tagged 10 on both trunks (10 is not D's native VLAN).
    h_->send(kA, from_a);
    auto rd = h_->received(kD);
    re = h_->received(kE);
    ASSERT_EQ(rd.size(), n);
    ASSERT_EQ(re.size(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(rd[i], frame_bytes(tagged(from_a[i], 10)));
      EXPECT_EQ(re[i], frame_bytes(tagged(from_a[i], 10)));
    }
  }
  EXPECT_EQ(h_->drops(kD, DropReason::kVlanNotAllowed), 0u);
}

TEST_F(PipelineTest, GatewayPortCarriesEveryVlanWithOneTag) {
  const net::MacAddr gw = mac(0x77);
  SnapshotPortInput g = port(kE, 1);
  g.gateway = true;
  g.gateway_mac = gw;
  g.isolated = true;  // ignored: the gateway port is never isolated
  h_->configure({network(1)}, {port(kA, 1, true, access(10)), port(kB, 1, true), g});
  // A (VLAN 10) broadcasts: the gateway gets it tagged 10; B (VLAN 0) gets nothing.
  h_->send(kA, {bcast(kA)});
  auto re = h_->received(kE);
  ASSERT_EQ(re.size(), 1u);
  EXPECT_EQ(re[0], frame_bytes(tagged(bcast(kA), 10)));
  EXPECT_TRUE(h_->received(kB).empty());
  // B (untagged domain, isolated) broadcasts: the gateway gets a priority tag (VID 0).
  h_->send(kB, {bcast(kB)});
  re = h_->received(kE);
  ASSERT_EQ(re.size(), 1u);
  EXPECT_EQ(re[0], frame_bytes(tagged(bcast(kB), 0)));
  // Unicast to the gateway MAC: straight to the gateway, never flooded.
  FrameSpec to_gw = frame(kB, 0);
  to_gw.dst = gw;
  h_->send(kB, {to_gw});
  re = h_->received(kE);
  ASSERT_EQ(re.size(), 1u);
  EXPECT_EQ(re[0], frame_bytes(tagged(to_gw, 0)));
  EXPECT_TRUE(h_->received(kA).empty());
  // The gateway answers A in VLAN 10 (one tag): A gets it untagged.
  FrameSpec reply = frame(0, kA);
  reply.src = gw;
  h_->send(kE, {tagged(reply, 10)});
  auto ra = h_->received(kA);
  ASSERT_EQ(ra.size(), 1u);
  EXPECT_EQ(ra[0], frame_bytes(reply));
  // ... and B in the untagged domain (VID 0), also when the frame has no tag.
  FrameSpec reply_b = frame(0, kB);
  reply_b.src = gw;
  h_->send(kE, {tagged(reply_b, 0), reply_b});
  auto rb = h_->received(kB);
  ASSERT_EQ(rb.size(), 2u);
  EXPECT_EQ(rb[0], frame_bytes(reply_b));
  EXPECT_EQ(rb[1], frame_bytes(reply_b));
  // A guest using the gateway MAC as its source: dropped, nothing learned.
  FrameSpec spoof = bcast(kB);
  spoof.src = gw;
  h_->send(kB, {spoof});
  EXPECT_EQ(h_->drops(kB, DropReason::kGatewayMacSpoofed), 1u);
  EXPECT_TRUE(h_->received(kE).empty());
  EXPECT_TRUE(h_->received(kA).empty());
  uint16_t where = 0;
  ASSERT_GE(h_->fdb().lookup(FdbKey{1, 0, gw, 0}, &where), 0);
  EXPECT_EQ(where, h_->port_id(kE)) << "the gateway's own frames installed it (static)";
}

TEST(VlanPolicy, LibvirtSemantics) {
  EXPECT_EQ(make_vlan_policy({}).value().mode, VlanMode::kNone);
  EXPECT_EQ(make_vlan_policy(access(42)).value().mode, VlanMode::kAccess);
  auto t = make_vlan_policy(trunk({42}));
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->mode, VlanMode::kTrunk);  // trunk='yes' with one tag
  EXPECT_TRUE(t->egress_tagged(42));
  auto n = make_vlan_policy(VlanConfig{{42, 47}, false, 42, NativeMode::kUntagged});
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(n->mode, VlanMode::kTrunk);  // several tags imply a trunk
  EXPECT_FALSE(n->egress_tagged(42));
  EXPECT_TRUE(n->egress_tagged(47));
  EXPECT_FALSE(make_vlan_policy(access(0)).is_ok());
  EXPECT_FALSE(make_vlan_policy(access(4095)).is_ok());
  EXPECT_FALSE(make_vlan_policy(VlanConfig{{42}, true, 7, NativeMode::kTagged}).is_ok());
  // One tag with a nativeMode (libvirt: trunk unset) is a one-VLAN trunk with that native VLAN.
  auto one = make_vlan_policy(VlanConfig{{42}, false, 42, NativeMode::kTagged});
  ASSERT_TRUE(one.is_ok());
  EXPECT_EQ(one->mode, VlanMode::kTrunk);
  EXPECT_EQ(one->native_vlan, 42);
  EXPECT_TRUE(one->egress_tagged(42));
  EXPECT_TRUE(one->admits(42));
  EXPECT_FALSE(one->admits(0));
  EXPECT_FALSE(make_vlan_policy(VlanConfig{{}, true, 0, NativeMode::kNone}).is_ok());
}

}  // namespace
}  // namespace vnet::dp::test
