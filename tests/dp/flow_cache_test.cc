// T1 tests of the worker's microflow cache (dataplane/flow_cache.h) on real
// mbufs: hits skip the stages with the same result, and every change that
// could alter a cached decision (MAC move, ageing, flush, port
// configuration, MTU, tags) is honoured on the next frame.
#include <gtest/gtest.h>
#include <algorithm>
#include <array>
#include <random>
#include <utility>
#include <vector>
#include <rte_mbuf.h>

#include "tests/dp/stage_harness.h"

namespace vnet::dp::test {
namespace {

constexpr int kA = 0, kB = 1, kC = 2;  // harness ports

class FlowCacheTest : public StageTest<FlowCacheTest> {
 public:
  static constexpr const char* kTag = "fc";
  static constexpr unsigned kPoolSize = 4095;

 protected:
  uint64_t hits(int port) const { return h_->port_counters(port).flow_cache_hits.read(); }
};

TEST_F(FlowCacheTest, SecondFrameOfAConversationHitsWithTheSameResult) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kA, kB, kC});
  h_->send(kA, {frame(kA, kB)});
  EXPECT_EQ(hits(kA), 0u) << "the first frame is switched by the stages and cached";
  std::vector<FrameSpec> frames;
  for (size_t i = 0; i < 32; ++i) frames.push_back(frame(kA, kB, 46 + i));
  h_->send(kA, frames);
  EXPECT_EQ(hits(kA), 32u);
  auto rb = h_->received(kB);
  ASSERT_EQ(rb.size(), 33u);
  for (size_t i = 0; i < 32; ++i) EXPECT_EQ(rb[i + 1], frame_bytes(frames[i]));
  EXPECT_TRUE(h_->received(kC).empty());
  EXPECT_TRUE(h_->received(kA).empty());
  // The other direction is its own entry; frames of the burst that inserts it
  // all miss (lookups come first).
  h_->send(kB, {frame(kB, kA), frame(kB, kA)});
  EXPECT_EQ(hits(kB), 0u);
  h_->send(kB, {frame(kB, kA)});
  EXPECT_EQ(hits(kB), 1u);
  EXPECT_EQ(h_->received(kA).size(), 3u);
}

TEST_F(FlowCacheTest, UnknownAndBroadcastAreNeverCached) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kA});
  for (int k = 0; k < 3; ++k) h_->send(kA, {frame(kA, kB), bcast(kA)});  // B unknown: flooded
  EXPECT_EQ(hits(kA), 0u);
  EXPECT_EQ(h_->received(kB).size(), 6u);
  EXPECT_EQ(h_->received(kC).size(), 6u);
}

TEST_F(FlowCacheTest, SourceNotYetLearnedIsNotCached) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1)});
  learn_ports({kB});
  // A talks to B before the slow path has learned A: forwarded, not cached.
  Burst b = h_->burst(kA, {frame(kA, kB)});
  StageContext c = h_->ctx();
  run_pipeline(b, c);
  EXPECT_EQ(b.verdicts[0].action, Action::kForward);
  h_->free_burst(b);
  b = h_->burst(kA, {frame(kA, kB)});
  run_pipeline(b, h_->ctx());
  EXPECT_EQ(hits(kA), 0u);
  h_->free_burst(b);
}

TEST_F(FlowCacheTest, MacMoveRedirectsTheNextFrame) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kA, kB, kC});
  h_->send(kA, {frame(kA, kB)});
  h_->send(kA, {frame(kA, kB)});
  EXPECT_EQ(hits(kA), 1u);
  EXPECT_EQ(h_->received(kB).size(), 2u);
  // B's MAC shows up on C (a migrated guest): the FDB moves it.
  FrameSpec moved = bcast(kC);
  moved.src = mac(kB + 1);
  h_->send(kC, {moved});
  for (int i = 0; i < RingPorts::kCount; ++i) h_->received(i);
  EXPECT_EQ(h_->slow_path().counters().moved.read(), 1u);
  h_->send(kA, {frame(kA, kB)});
  EXPECT_EQ(h_->received(kC).size(), 1u) << "to B's new port";
  EXPECT_TRUE(h_->received(kB).empty());
  EXPECT_EQ(hits(kA), 1u) << "the move invalidated the entry";
  h_->send(kA, {frame(kA, kB)});
  EXPECT_EQ(hits(kA), 2u) << "and the new decision is cached";
  EXPECT_EQ(h_->received(kC).size(), 1u);
}

TEST_F(FlowCacheTest, PortConfigurationChangeAppliesToTheNextFrame) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kA, kB, kC});
  h_->send(kA, {frame(kA, kB), frame(kA, kB)});
  EXPECT_EQ(hits(kA), 0u) << "cached at the end of the burst";
  h_->send(kA, {frame(kA, kB)});
  EXPECT_EQ(hits(kA), 1u);
  EXPECT_EQ(h_->received(kB).size(), 3u);
  // Both ports become isolated: A may no longer reach B.
  h_->configure({network(1)}, {port(kA, 1, true), port(kB, 1, true), port(kC, 1)});
  h_->send(kA, {frame(kA, kB)});
  EXPECT_TRUE(h_->received(kB).empty());
  EXPECT_EQ(h_->drops(kA, DropReason::kIsolated), 1u);
  EXPECT_EQ(hits(kA), 1u);
}

TEST_F(FlowCacheTest, MtuIsEnforcedOnCachedConversations) {
  h_->configure({network(1, 1500)}, {port(kA, 1), port(kB, 1)});
  learn_ports({kA, kB});
  h_->send(kA, {frame(kA, kB), frame(kA, kB)});
  h_->send(kA, {frame(kA, kB, 1500), frame(kA, kB, 1501)});
  EXPECT_EQ(hits(kA), 1u) << "the oversized frame goes to the stages";
  EXPECT_EQ(h_->drops(kA, DropReason::kMtuExceeded), 1u);
  EXPECT_EQ(h_->received(kB).size(), 3u);
}

TEST_F(FlowCacheTest, TaggedFramesGoThroughTheStages) {
  h_->configure({network(1)}, {port(kA, 1, false, trunk({10, 20}, 10, NativeMode::kUntagged)), port(kB, 1, false, access(10)),
                               port(kC, 1, false, access(20))});
  learn_ports({kA, kB, kC});  // A's broadcast is native VLAN 10
  h_->send(kA, {frame(kA, kB), frame(kA, kB)});
  h_->send(kA, {frame(kA, kB)});
  EXPECT_EQ(hits(kA), 1u);
  EXPECT_EQ(h_->received(kB).size(), 3u);
  // A tagged frame with the same MACs is in VLAN 20, where B is unknown.
  FrameSpec t = frame(kA, kB);
  t.vid = 20;
  h_->send(kA, {t});
  EXPECT_EQ(hits(kA), 1u);
  EXPECT_TRUE(h_->received(kB).empty());
  EXPECT_EQ(h_->received(kC).size(), 1u) << "flooded in VLAN 20";
}

TEST_F(FlowCacheTest, EgressTagIsPushedOnHits) {
  h_->configure({network(1)}, {port(kA, 1, false, access(10)), port(kB, 1, false, trunk({10}))});
  learn_ports({kA});
  FrameSpec bb = bcast(kB);
  bb.vid = 10;
  h_->send(kB, {bb});
  for (int i = 0; i < RingPorts::kCount; ++i) h_->received(i);
  h_->send(kA, {frame(kA, kB), frame(kA, kB)});
  h_->send(kA, {frame(kA, kB, 60)});
  EXPECT_EQ(hits(kA), 1u);
  auto rb = h_->received(kB);
  ASSERT_EQ(rb.size(), 3u);
  FrameSpec want = frame(kA, kB, 60);
  want.vid = 10;
  EXPECT_EQ(rb[2], frame_bytes(want));
}

TEST_F(FlowCacheTest, CachedTrafficKeepsStationsAliveAndAgeingInvalidates) {
  h_->configure({network(1, 1500, 8192, 300)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kA, kB});
  h_->send(kA, {frame(kA, kB)});
  h_->send(kB, {frame(kB, kA)});
  for (int i = 0; i < 5; ++i) {
    h_->clock().advance_s(100);
    h_->send(kA, {frame(kA, kB)});  // hits only: their touches keep A and B alive
    h_->send(kB, {frame(kB, kA)});
  }
  EXPECT_EQ(hits(kA), 5u);
  EXPECT_EQ(hits(kB), 5u);
  EXPECT_EQ(h_->slow_path().counters().aged.read(), 0u) << "seen every 100 s through the cache";
  EXPECT_EQ(h_->received(kB).size(), 6u);
  EXPECT_TRUE(h_->received(kC).empty());
  // Silence for 300 s: both age out, and A -> B is unknown again (flooded).
  h_->clock().advance_s(300);
  h_->quiesce();
  EXPECT_EQ(h_->slow_path().counters().aged.read(), 2u);
  for (int i = 0; i < RingPorts::kCount; ++i) h_->received(i);
  h_->send(kA, {frame(kA, kB)});
  EXPECT_EQ(h_->received(kB).size(), 1u);
  EXPECT_EQ(h_->received(kC).size(), 1u) << "flooded";
  EXPECT_EQ(hits(kA), 5u);
}

TEST_F(FlowCacheTest, FlushInvalidates) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kA, kB});
  h_->send(kA, {frame(kA, kB), frame(kA, kB)});
  h_->send(kA, {frame(kA, kB)});
  EXPECT_EQ(hits(kA), 1u);
  h_->fdb().flush_network(1);
  h_->quiesce();
  for (int i = 0; i < RingPorts::kCount; ++i) h_->received(i);
  h_->send(kA, {frame(kA, kB)});
  EXPECT_EQ(h_->received(kC).size(), 1u) << "flooded after the flush";
  EXPECT_EQ(hits(kA), 1u);
}

TEST_F(FlowCacheTest, OffMeansNoHits) {
  h_->set_flow_cache(false);
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1)});
  learn_ports({kA, kB});
  for (int k = 0; k < 3; ++k) h_->send(kA, {frame(kA, kB)});
  EXPECT_EQ(hits(kA), 0u);
  EXPECT_EQ(h_->received(kB).size(), 3u);
}

// Frames to the gateway's MAC (to the gateway, or routed off the network)
// are cached for their L2 part only: a hit stands for ingress and source
// learning and leaves the frame to the stages after them, which send it to
// the gateway port here (no L3 in this harness). A frame over the MTU is not
// looked up; a source that moves is seen on the next burst.
TEST_F(FlowCacheTest, FramesToTheGatewayHitTheirIngressAndLearningOnly) {
  const net::MacAddr gw = mac(0x77);
  SnapshotPortInput g = port(kC, 1);
  g.gateway = true;
  g.gateway_mac = gw;
  h_->configure({network(1)}, {port(kA, 1, true), port(kB, 1), g});
  learn_ports({kA, kB});
  FrameSpec to_gw = frame(kA, 0);
  to_gw.dst = gw;
  h_->send(kA, {to_gw});
  EXPECT_EQ(hits(kA), 0u);
  EXPECT_EQ(h_->worker_counters().fc_inserts.read(), 1u);
  std::vector<FrameSpec> frames;
  for (size_t i = 0; i < 8; ++i) {
    FrameSpec f = frame(kA, 0, 46 + i);
    f.dst = gw;
    frames.push_back(f);
  }
  frames.push_back(frame(kA, kB));  // not cached yet: through every stage
  Burst b = h_->burst(kA, frames);
  StageContext c = h_->ctx();
  FlowCacheMisses misses;
  EXPECT_FALSE(flow_cache_lookup(b, c, misses));
  EXPECT_EQ(misses.hits, 8u);
  EXPECT_EQ(b.l2_done, 0xffu);
  EXPECT_FALSE(misses.l2_complete) << "the frame to B still needs ingress and learning";
  for (uint16_t i = 0; i < 8; ++i) {
    EXPECT_TRUE(b.pending(i)) << "left to the L3 and forward stages";
    EXPECT_EQ(b.meta[i].network, 1);
    EXPECT_EQ(b.meta[i].vlan, kNoVlan);
  }
  h_->free_burst(b);
  const uint64_t looked_up = hits(kA);
  h_->send(kA, frames);
  auto rc = h_->received(kC);  // the gateway port's frames carry one tag (VID 0 here)
  ASSERT_EQ(rc.size(), 9u);
  EXPECT_EQ(rc[0], frame_bytes(tagged(to_gw, 0)));
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(rc[i + 1], frame_bytes(tagged(frames[i], 0)));
  EXPECT_EQ(h_->received(kB).size(), 1u);
  EXPECT_EQ(hits(kA) - looked_up, 8u);
  // Over the MTU: not looked up, dropped by ingress as before.
  FrameSpec big = frame(kA, 0, 1501);
  big.dst = gw;
  h_->send(kA, {big});
  EXPECT_EQ(h_->drops(kA, DropReason::kMtuExceeded), 1u);
  EXPECT_TRUE(h_->received(kC).empty());
  // A's MAC moves to B: frames from A's port no longer hit, and B's frames
  // to the gateway go through learning (and are cached from the next burst).
  h_->send(kB, {frame(kA, kB)});  // the move (source A's MAC on B's port)
  drain();
  h_->received(kB);
  const uint64_t a_hits = hits(kA);
  FrameSpec moved = frame(kA, 0);
  moved.dst = gw;
  h_->send(kB, {moved});
  h_->send(kB, {moved});
  EXPECT_EQ(hits(kA), a_hits);
  EXPECT_EQ(hits(kB), 1u);
  EXPECT_EQ(h_->received(kC).size(), 2u);
}

// Group destinations are never cached, so the cache does not even look them
// up: a burst of broadcasts leaves no miss behind (nor does a known unicast
// mixed in, once cached).
TEST_F(FlowCacheTest, GroupDestinationsAreNotLookedUp) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kA, kB, kC});
  h_->send(kA, {frame(kA, kB)});  // cached
  drain();
  std::vector<FrameSpec> frames;
  for (int i = 0; i < 8; ++i) frames.push_back(bcast(kA));
  frames.push_back(frame(kA, kB));
  Burst b = h_->burst(kA, frames);
  StageContext c = h_->ctx();
  FlowCacheMisses misses;
  EXPECT_FALSE(flow_cache_lookup(b, c, misses)) << "the broadcasts are the stages' to decide";
  EXPECT_TRUE(misses.looked_up);
  EXPECT_EQ(misses.mask, 0u) << "no broadcast counted as a miss";
  EXPECT_EQ(misses.hits, 1u);
  EXPECT_EQ(b.verdicts[8].action, Action::kForward);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(b.pending(static_cast<uint16_t>(i)));
  h_->free_burst(b);
}

// The worker's flow cache counters (vnetctl pmd-stats): lookups, hits and
// inserts; frames of bursts received while the cache is off, and the bad
// window that turned it off.
TEST_F(FlowCacheTest, WorkerCountersFollowLookupsHitsInsertsAndBypasses) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  learn_ports({kA, kB, kC});
  const WorkerCounters& wc = h_->worker_counters();
  const uint64_t lookups0 = wc.fc_lookups.read();
  h_->send(kA, {frame(kA, kB)});
  EXPECT_EQ(wc.fc_lookups.read() - lookups0, 1u);
  EXPECT_EQ(wc.fc_hits.read(), 0u);
  EXPECT_EQ(wc.fc_inserts.read(), 1u);
  h_->send(kA, {frame(kA, kB), frame(kA, kB), frame(kA, kB), bcast(kA)});
  EXPECT_EQ(wc.fc_lookups.read() - lookups0, 4u) << "the broadcast is not looked up";
  EXPECT_EQ(wc.fc_hits.read(), 3u);
  EXPECT_EQ(wc.fc_inserts.read(), 1u);
  EXPECT_EQ(wc.fc_hits.read(), hits(kA));
  // A fresh window (close the current one bad, let that bypass run out),
  // filled to one burst short of bad; a burst with one insert and no hit
  // closes it.
  FlowCache& fc = *h_->flow_cache();
  while (!fc.account(0, 32)) {
  }
  while (!fc.active()) {
  }
  for (uint32_t i = 0; i + 1 < FlowCache::kWindow; ++i) ASSERT_FALSE(fc.account(0, 32));
  h_->send(kA, {frame(kA, kC)});
  EXPECT_EQ(wc.fc_inserts.read(), 2u);
  EXPECT_EQ(wc.fc_bypasses.read(), 1u);
  EXPECT_EQ(wc.fc_bypassed.read(), 0u);
  const uint64_t lookups1 = wc.fc_lookups.read();
  h_->send(kA, {frame(kA, kB), frame(kA, kC)});
  EXPECT_EQ(wc.fc_bypassed.read(), 2u);
  EXPECT_EQ(wc.fc_lookups.read(), lookups1) << "bypassed: not looked up";
  EXPECT_EQ(wc.fc_hits.read(), 3u);
  EXPECT_EQ(h_->received(kB).size(), 6u) << "4 unicast, the broadcast, and 1 switched by the stages meanwhile";
}

// Four conversations of one set: the three cached first keep their ways
// while they are in use (hit in this tick or the one before), the fourth's
// frames are switched by the stages and its inserts declined (counted); once
// one of the three has been idle for a tick the fourth takes its way.
TEST_F(FlowCacheTest, ASetInUseDeclinesAFourthConversation) {
  h_->configure({network(1)}, {port(kA, 1), port(kB, 1), port(kC, 1)});
  FlowCache& fc = *h_->flow_cache();
  const net::MacAddr dst = frame(kA, kB).dst;
  auto key_of = [&](const net::MacAddr& src) {
    std::array<uint8_t, 12> f{};
    std::copy(dst.b.begin(), dst.b.end(), f.begin());
    std::copy(src.b.begin(), src.b.end(), f.begin() + 6);
    return fc.key(f.data(), h_->port_id(kA));
  };
  // Stations 52:54:01:xx:xx:xx on A whose conversations with B share a set.
  std::vector<FrameSpec> conv;
  uint32_t want = UINT32_MAX;
  for (uint32_t i = 0; conv.size() < 4 && i < (1u << 24); ++i) {
    const net::MacAddr src{{0x52, 0x54, 0x01, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                            static_cast<uint8_t>(i)}};
    const uint32_t set = FlowCache::set_index(key_of(src));
    if (want == UINT32_MAX) want = set;
    if (set != want) continue;
    FrameSpec f = frame(kA, kB);
    f.src = src;
    conv.push_back(f);
  }
  ASSERT_EQ(conv.size(), 4u);
  for (const FrameSpec& f : conv) {
    FrameSpec b = f;
    b.dst = net::kBroadcastMac;
    h_->send(kA, {b});
  }
  learn_ports({kB});
  const WorkerCounters& wc = h_->worker_counters();
  h_->send(kA, conv);  // all miss (lookups come first): three inserted, one declined
  EXPECT_EQ(wc.fc_inserts.read(), 3u);
  EXPECT_EQ(wc.fc_declined.read(), 1u);
  h_->send(kA, conv);
  EXPECT_EQ(hits(kA), 3u);
  EXPECT_EQ(wc.fc_inserts.read(), 3u) << "none evicted";
  EXPECT_EQ(wc.fc_declined.read(), 2u);
  EXPECT_EQ(h_->received(kB).size(), 8u) << "the declined conversation is switched all the same";
  EXPECT_TRUE(h_->received(kC).empty());
  // Two ticks on, conversations 0 and 1 go on (hits: in use again), 2 is idle:
  // 3 takes its way, then 2 is declined.
  h_->clock().advance_s(3);
  h_->send(kA, {conv[0], conv[1], conv[3]});
  EXPECT_EQ(hits(kA), 5u);
  EXPECT_EQ(wc.fc_inserts.read(), 4u);
  h_->send(kA, conv);
  EXPECT_EQ(hits(kA), 8u) << "0, 1 and 3";
  EXPECT_EQ(wc.fc_declined.read(), 3u) << "2";
  EXPECT_EQ(h_->received(kB).size(), 7u);
}

// Randomised, against the stages alone: the same script of traffic gives the
// same frames on every port, in order, with the cache in front of the stages
// as without it. Stations on plain, isolated, access-VLAN and trunk ports;
// known and unknown unicast, broadcasts, tagged frames, frames over the MTU,
// MAC moves and flushes, and frames to the gateway's MAC (whose ingress and
// learning a hit stands for; the gateway port sits on the last ring port
// and is not a station's). (Ageing is left out: the cache refreshes sightings
// once per tick by design, CachedTrafficKeepsStationsAliveAndAgeingInvalidates
// covers it.)
TEST_F(FlowCacheTest, SameFramesAsTheStagesAlone) {
  struct Step {
    int in = 0;                    // harness port, -1: flush the network
    std::vector<FrameSpec> frames;
  };
  constexpr int kStations = 14;
  constexpr int kGuestPorts = RingPorts::kCount - 1;
  constexpr int kGw = RingPorts::kCount - 1;
  const net::MacAddr gw_mac{{0x52, 0x54, 0x00, 0x77, 0x77, 0x77}};
  auto station_mac = [](int s) { return net::MacAddr{{0x02, 0x00, 0x00, 0x00, 0x00, static_cast<uint8_t>(s + 1)}}; };
  std::mt19937 rng(20261207);
  std::array<int, kStations> where{};
  for (int s = 0; s < kStations; ++s) where[static_cast<size_t>(s)] = s % kGuestPorts;
  std::vector<Step> script;
  int src = 0;
  std::array<int, 2> peers{};
  for (int n = 0; n < 600; ++n) {
    const unsigned r = rng() % 100;
    if (r < 1) {
      script.push_back({-1, {}});
      continue;
    }
    if (r < 4) where[rng() % kStations] = static_cast<int>(rng() % kGuestPorts);  // a MAC move
    // A conversation lasts a few steps (so the cache has something to hit).
    if (n % 6 == 0) {
      src = static_cast<int>(rng() % kStations);
      peers = {static_cast<int>(rng() % kStations), static_cast<int>(rng() % kStations)};
    }
    // Odd steps: the first peer answers.
    const int from = n % 2 == 0 ? src : peers[0];
    const std::array<int, 2> to = n % 2 == 0 ? peers : std::array<int, 2>{src, src};
    Step st;
    st.in = where[static_cast<size_t>(from)];
    const size_t count = 1 + rng() % 40;
    for (size_t i = 0; i < count; ++i) {
      FrameSpec f;
      f.src = station_mac(from);
      const unsigned kind = rng() % 100;
      f.dst = kind < 60   ? station_mac(to[rng() % 2])
              : kind < 75 ? gw_mac
              : kind < 85 ? net::MacAddr{{0x02, 0x00, 0x00, 0x00, 0x01, static_cast<uint8_t>(rng())}}
                          : net::kBroadcastMac;
      if (rng() % 10 == 0) f.vid = static_cast<uint16_t>(std::array{0, 10, 20, 30}[rng() % 4]);
      f.payload_size = rng() % 20 == 0 ? 1501 : 46 + rng() % 200;
      f.fill = static_cast<uint8_t>(rng());
      st.frames.push_back(f);
    }
    script.push_back(std::move(st));
  }
  auto run = [&](bool cache) {
    h_ = std::make_unique<StageHarness>(pool_, *ports_, std::string(kTag) + "_" + std::to_string(n_++));
    h_->set_flow_cache(cache);
    SnapshotPortInput g = port(kGw, 1);
    g.gateway = true;
    g.gateway_mac = gw_mac;
    h_->configure({network(1)}, {port(0, 1), port(1, 1, true), port(2, 1, true), port(3, 1, false, access(10)),
                                 port(4, 1, false, trunk({10, 20}, 10, NativeMode::kTagged)), g});
    std::array<std::vector<std::vector<uint8_t>>, RingPorts::kCount> out;
    for (const Step& st : script) {
      if (st.in < 0) {
        h_->fdb().flush_network(1);
        h_->quiesce();
        continue;
      }
      h_->send(st.in, st.frames);
      for (int p = 0; p < RingPorts::kCount; ++p)
        for (auto& f : h_->received(p)) out[static_cast<size_t>(p)].push_back(std::move(f));
    }
    return out;
  };
  const auto plain = run(false);
  const auto cached = run(true);
  EXPECT_GT(h_->worker_counters().fc_hits.read(), 500u) << "the script must exercise the cache; lookups " << h_->worker_counters().fc_lookups.read() << " inserts " << h_->worker_counters().fc_inserts.read() << " bypassed " << h_->worker_counters().fc_bypassed.read();
  size_t frames = 0;
  for (int p = 0; p < RingPorts::kCount; ++p) {
    const auto& a = plain[static_cast<size_t>(p)];
    const auto& b = cached[static_cast<size_t>(p)];
    ASSERT_EQ(a.size(), b.size()) << "port " << p;
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "port " << p << " frame " << i;
    frames += a.size();
  }
  EXPECT_GT(frames, 5000u);
}

// Pure: a window of bursts with almost no hits turns the cache off for a while.
TEST(FlowCacheBypass, BadWindowBypassesThenRetries) {
  FlowCache fc;
  for (uint32_t i = 0; i < FlowCache::kWindow; ++i) {
    ASSERT_TRUE(fc.active());
    EXPECT_EQ(fc.account(1, 32), i + 1 == FlowCache::kWindow) << "true once: when the window closes bad";
  }
  for (uint32_t i = 0; i < FlowCache::kBypassBursts; ++i) ASSERT_FALSE(fc.active()) << i;
  EXPECT_TRUE(fc.active());
  for (uint32_t i = 0; i < FlowCache::kWindow; ++i) ASSERT_FALSE(fc.account(8, 32));  // 1 in 4: good enough
  EXPECT_TRUE(fc.active());
}

TEST(FlowCacheBypass, BurstsWithNothingCacheableAreNoEvidence) {
  FlowCache fc;
  // Floods and not-yet-learned sources (no hit, no insert): never a bypass.
  for (uint32_t i = 0; i < 2 * FlowCache::kWindow; ++i) fc.account(0, 0);
  EXPECT_TRUE(fc.active());
}

// Pure: a set holds three keys of this epoch; a key inserted again keeps its
// way; a way of an older epoch is taken first, then an idle way (not touched
// in this tick or the one before), the first from the round-robin pointer
// on; when every way is in use the insert is declined and the set unchanged.
TEST(FlowCacheSets, ThreeKeysPerSetAndIdleWaysMakeRoom) {
  FlowCache fc;
  ASSERT_TRUE(fc.ok());
  auto key = [&](uint64_t n) {
    const uint64_t src = (n + 100) | (n + 100) << 24;  // 48 bits, both halves vary
    return FlowCacheKey{n | (src & 0xffff) << 48, src >> 16 | uint64_t{1} << 32 | uint64_t{fc.epoch()} << 40};
  };
  FlowCacheSet& s = fc.set(key(1));
  auto put_at = [&](uint64_t n, uint8_t tick) {
    return fc.insert(s, key(n), {static_cast<int32_t>(1000 + n), static_cast<uint16_t>(n), n % 2 == 1, tick});
  };
  auto put = [&](uint64_t n) { return put_at(n, 5); };
  auto has = [&](uint64_t n) { return FlowCache::find(s, key(n)) >= 0; };
  EXPECT_FALSE(has(1)) << "empty";
  EXPECT_EQ(put(1), 0);
  EXPECT_EQ(put(2), 1);
  EXPECT_EQ(put(2), 1) << "the same key keeps its way";
  EXPECT_EQ(put(3), 2);
  for (uint64_t n : {1, 2, 3}) {
    const int w = FlowCache::find(s, key(n));
    ASSERT_GE(w, 0) << n;
    const FlowCacheDecision d = FlowCache::decision(s, w);
    EXPECT_EQ(d.src_pos, static_cast<int32_t>(1000 + n));
    EXPECT_EQ(d.out_port, n);
    EXPECT_EQ(d.push_tag, n % 2 == 1);
    EXPECT_EQ(d.touched, 5u);
  }
  FlowCache::set_touched(s, FlowCache::find(s, key(3)), 0x7f);
  EXPECT_EQ(FlowCache::decision(s, FlowCache::find(s, key(3))).touched, 0x7f);
  EXPECT_TRUE(FlowCache::decision(s, FlowCache::find(s, key(3))).push_tag) << "touching keeps the tag bit";
  FlowCache::set_touched(s, FlowCache::find(s, key(3)), 5);

  // Every way touched in this tick (5) or the one before: in use.
  EXPECT_EQ(put(4), -1) << "declined";
  EXPECT_EQ(put_at(4, 6), -1) << "touched the tick before: still in use";
  EXPECT_TRUE(has(1) && has(2) && has(3) && !has(4)) << "a declined insert changes nothing";
  EXPECT_EQ(put(2), 1) << "a key it holds is still rewritten";
  // Two ticks later every way is idle: the round-robin pointer (way 0) first.
  EXPECT_EQ(put_at(4, 7), 0);
  EXPECT_TRUE(!has(1) && has(2) && has(3) && has(4));
  // Way 0 is in use now, way 1 idle: taken, though the pointer names it anyway;
  // then with ways 0 and 1 in use the pointer (way 2) is idle.
  EXPECT_EQ(put_at(5, 7), 1);
  EXPECT_EQ(put_at(6, 7), 2);
  EXPECT_EQ(put_at(1, 7), -1) << "all three in use again";
  // An idle way is found past an in-use one the pointer names.
  FlowCache::set_touched(s, FlowCache::find(s, key(4)), 20);  // way 0 in use at tick 20
  FlowCache::set_touched(s, FlowCache::find(s, key(6)), 19);  // way 2 in use at tick 20
  EXPECT_EQ(put_at(7, 20), 1) << "way 0 (the pointer) in use, way 1 idle";
  EXPECT_EQ(put_at(8, 20), -1);
  // Ticks wrap at 128: touched 0x7f is the tick before 0.
  FlowCache::set_touched(s, FlowCache::find(s, key(4)), 0x7f);
  FlowCache::set_touched(s, FlowCache::find(s, key(7)), 0x7f);
  FlowCache::set_touched(s, FlowCache::find(s, key(6)), 0x7f);
  EXPECT_EQ(put_at(8, 0), -1) << "0x7f is the tick before 0";
  EXPECT_GE(put_at(8, 1), 0) << "and two before 1";

  FlowCacheKey mixed = key(8);
  mixed.hi = key(7).hi;
  EXPECT_LT(FlowCache::find(s, mixed), 0) << "both halves of the key count";
  FlowCacheKey other_port = key(8);
  other_port.hi ^= uint64_t{3} << 32;
  EXPECT_LT(FlowCache::find(s, other_port), 0) << "the rx port counts";
  // The largest position and port survive the packing.
  const int w = fc.insert(s, key(8), {(1 << FlowCache::kPosBits) - 1, kMaxPorts - 1, false, 1});
  ASSERT_GE(w, 0);
  EXPECT_EQ(FlowCache::decision(s, w).src_pos, (1 << FlowCache::kPosBits) - 1);
  EXPECT_EQ(FlowCache::decision(s, w).out_port, kMaxPorts - 1);
  fc.sync(9, 9);
  EXPECT_LT(FlowCache::find(s, key(8)), 0) << "another epoch (keys now carry the new one)";
  const FlowCacheKey old8 = FlowCacheKey{key(8).lo, (key(8).hi & 0xffffffffffull) | uint64_t{fc.epoch() - 1} << 40};
  EXPECT_GE(FlowCache::find(s, old8), 0) << "still there under its own epoch";
  EXPECT_EQ(put_at(9, 1), 0) << "stale ways are taken first, in use or not";
  EXPECT_EQ(put_at(10, 1), 1);
  EXPECT_EQ(put_at(11, 1), 2);
}

// Pure: 100k conversations station i -> station i of another range (how
// generators build flow sets) spread over the sets like random keys do
// (about 1 - e^-0.76 of the sets used), not into a few thousand.
TEST(FlowCacheSets, ConversationsSpreadOverTheSets) {
  FlowCache fc;
  std::vector<bool> used(FlowCache::kSets);
  // MAC 02:00:<range>:<i>>16>:<i>>8>:<i>, as a frame carries it.
  auto mac = [](uint8_t range, uint32_t i) {
    return std::array<uint8_t, 6>{0x02, 0x00, range, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                                  static_cast<uint8_t>(i)};
  };
  for (uint32_t i = 0; i < 100000; ++i) {
    std::array<uint8_t, 14> frame{};
    const auto dst = mac(1, i), src = mac(0, i);
    std::copy(dst.begin(), dst.end(), frame.begin());
    std::copy(src.begin(), src.end(), frame.begin() + 6);
    used[FlowCache::set_index(fc.key(frame.data(), 1))] = true;
  }
  const auto n = static_cast<uint32_t>(std::count(used.begin(), used.end(), true));
  EXPECT_GE(n, FlowCache::kSets / 2) << n << " sets used";
}

// Pure: the epoch wraps after 2^24 - 1 versions, and the wrap empties the
// table, so an entry of epoch 1 is not mistaken for one of the new epoch 1.
TEST(FlowCacheEpoch, WrapEmptiesTheTable) {
  FlowCache fc;
  ASSERT_EQ(fc.epoch(), 1u);
  std::array<uint8_t, 14> frame{0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
  const FlowCacheKey k = fc.key(frame.data(), 0);
  FlowCacheSet& s = fc.set(k);
  fc.insert(s, k, {7, 1, false, 0});
  for (uint64_t v = 1; v < FlowCache::kEpochMax; ++v) fc.sync(0, v);
  EXPECT_EQ(fc.epoch(), FlowCache::kEpochMax);
  EXPECT_GE(FlowCache::find(s, k), 0) << "epoch 1's entry is untouched until the wrap";
  fc.sync(0, FlowCache::kEpochMax);
  EXPECT_EQ(fc.epoch(), 1u);
  EXPECT_EQ(fc.key(frame.data(), 0), k);
  EXPECT_LT(FlowCache::find(s, k), 0) << "cleared at the wrap";
}

TEST(FlowCacheEpoch, NewVersionsInvalidate) {
  FlowCache fc;
  const uint32_t e0 = fc.epoch();
  EXPECT_TRUE(fc.sync(1, 0));
  const uint32_t e1 = fc.epoch();
  EXPECT_NE(e0, e1);
  EXPECT_FALSE(fc.sync(1, 0));
  EXPECT_EQ(fc.epoch(), e1);
  EXPECT_TRUE(fc.sync(1, 7));
  EXPECT_NE(fc.epoch(), e1);
}

}  // namespace
}  // namespace vnet::dp::test
