// T1: the gateway port (punt.h) through the Dataplane facade, on real mbufs,
// with a PMD lcore and the slow-path thread, and a fake ARP-like handler
// that answers every ARP frame with a unicast echo from the gateway MAC.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "dataplane/dataplane.h"
#include "tests/dp/fake_clock.h"
#include "tests/dp/packet_builder.h"
#include "tests/dp/ring_io.h"

namespace vnet::dp::test {
namespace {

using namespace std::chrono_literals;

constexpr std::array<uint8_t, 6> kGwMacBytes{0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
const net::MacAddr kGwMac{kGwMacBytes};
constexpr uint8_t kThrowMarker = 0xee;  // first payload byte that makes the handler throw
constexpr uint8_t kRuntMarker = 0xdd;   // ... that makes it send a runt

rte_mempool* test_pool() {
  static rte_mempool* pool =
      rte_pktmbuf_pool_create("gw_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return pool;
}

struct Seen {
  std::vector<uint8_t> frame;
  uint16_t vlan;
};

// Answers ARP frames: dst = the asker, src = gateway MAC, same payload, same VLAN.
class EchoHandler : public PuntHandler {
 public:
  void on_frame(std::span<const uint8_t> frame, uint16_t vlan, uint64_t /*now_ns*/,
                FrameOut& out) override {
    {
      std::lock_guard l(mu_);
      seen_.push_back({{frame.begin(), frame.end()}, vlan});
    }
    if (frame.size() < 15 || frame[12] != 0x08 || frame[13] != 0x06) return;
    if (frame[14] == kThrowMarker) throw std::runtime_error("handler failure");
    if (frame[14] == kRuntMarker) {
      const std::array<uint8_t, 10> runt{};
      sent_ok_ += out.send(runt, vlan) ? 1 : 0;
      return;
    }
    std::vector<uint8_t> reply(frame.begin(), frame.end());
    std::copy(frame.begin() + 6, frame.begin() + 12, reply.begin());
    std::copy(kGwMacBytes.begin(), kGwMacBytes.end(), reply.begin() + 6);
    sent_ok_ += out.send(reply, vlan) ? 1 : 0;
  }
  void on_tick(uint64_t /*now_ns*/, FrameOut& /*out*/) override { ticks_.fetch_add(1); }

  std::vector<Seen> seen() {
    std::lock_guard l(mu_);
    return seen_;
  }
  size_t seen_count() {
    std::lock_guard l(mu_);
    return seen_.size();
  }
  uint64_t ticks() const { return ticks_.load(); }

 private:
  std::mutex mu_;
  std::vector<Seen> seen_;
  std::atomic<uint64_t> ticks_{0};
  std::atomic<uint64_t> sent_ok_{0};
};

FrameSpec arp_from(uint8_t src, net::MacAddr dst, size_t payload = 28, uint8_t fill = 1) {
  return FrameSpec{dst, mac(src), std::nullopt, 0, net::kEtherTypeArp, payload, fill};
}
FrameSpec ip_from(uint8_t src, net::MacAddr dst) {
  return FrameSpec{dst, mac(src), std::nullopt, 0, net::kEtherTypeIpv4, 46, src};
}
// What EchoHandler answers to `ask` (untagged form).
std::vector<uint8_t> echo_of(const FrameSpec& ask) {
  FrameSpec r = ask;
  r.dst = ask.src;
  r.src = kGwMac;
  r.vid.reset();
  return frame_bytes(r);
}

void enqueue(rte_ring* ring, const std::vector<FrameSpec>& frames) {
  for (const auto& f : frames) {
    rte_mbuf* m = build_frame(test_pool(), f);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(rte_ring_enqueue(ring, m), 0);
  }
}

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(test_pool(), nullptr);
    pool_in_use_ = rte_mempool_in_use_count(test_pool());
    run_dir_ = std::filesystem::temp_directory_path() / ("vnet_gwt_" + std::to_string(getpid()));
    DataplaneOptions o;
    o.name = "gw" + std::to_string(n_++);
    o.workers = 1;
    o.mbufs = 4095;
    o.fdb_capacity = 4096;
    o.clock = &clock_;
    o.run_dir = run_dir_.string();
    o.worker_idle_sleep_us = 20;
    auto d = Dataplane::create(o);
    ASSERT_TRUE(d.is_ok()) << d.status().to_string();
    dp_ = std::move(d).value();
    ASSERT_TRUE(dp_->add_network({"n1", 9000, 8192, 300}).is_ok());
    handler_ = std::make_shared<EchoHandler>();
  }
  void TearDown() override {
    for (auto& p : peers_) {
      drain(p.in);
      drain(p.out);
    }
    dp_.reset();
    std::filesystem::remove_all(run_dir_);
    EXPECT_EQ(rte_mempool_in_use_count(test_pool()), pool_in_use_) << "test mbufs leaked";
  }

  struct RingPeer {
    rte_ring* in = nullptr;
    rte_ring* out = nullptr;
  };
  RingPeer add_port(const std::string& name, bool isolated = false, VlanConfig vlan = {}) {
    PortSpec s;
    s.name = name;
    s.kind = PortKind::kRing;
    s.isolated = isolated;
    s.vlan = std::move(vlan);
    auto r = dp_->add_port("n1", s);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (!r) return {};
    RingPeer p{rte_ring_lookup(r->ring_in.c_str()), rte_ring_lookup(r->ring_out.c_str())};
    peers_.push_back(p);
    return p;
  }
  void attach() { ASSERT_TRUE(dp_->set_punt_handler("n1", kGwMacBytes, handler_).is_ok()); }
  // Waits until the FDB of n1 has `n` entries.
  bool learned(size_t n) {
    return eventually([&] { return fdb().size() >= n; });
  }
  std::vector<FdbRow> fdb() {
    auto r = dp_->fdb_show("n1");
    EXPECT_TRUE(r.is_ok());
    return r.is_ok() ? std::move(r).value() : std::vector<FdbRow>{};
  }
  PortStats gw_stats() { return dp_->port_stats("gateway", "n1").value(); }

  static inline int n_ = 0;
  FakeClock clock_;
  std::filesystem::path run_dir_;
  std::unique_ptr<Dataplane> dp_;
  std::shared_ptr<EchoHandler> handler_;
  std::vector<RingPeer> peers_;
  unsigned pool_in_use_ = 0;
};

TEST_F(GatewayTest, BroadcastReachesHandlerUnicastReplyReachesOnlyTheGuest) {
  RingPeer a = add_port("a"), b = add_port("b"), c = add_port("c");
  attach();
  // Learn a's MAC first (the handler sees this broadcast too, but ignores it).
  enqueue(a.in, {ip_from(1, net::kBroadcastMac)});
  ASSERT_EQ(receive(b.out, 1).size(), 1u);
  ASSERT_EQ(receive(c.out, 1).size(), 1u);
  ASSERT_TRUE(learned(2));  // a's MAC + the static gateway MAC
  ASSERT_TRUE(eventually([&] { return handler_->seen_count() == 1; }));

  const FrameSpec ask = arp_from(1, net::kBroadcastMac);
  enqueue(a.in, {ask});
  auto ra = receive(a.out, 1);
  ASSERT_EQ(ra.size(), 1u);
  EXPECT_EQ(ra[0], echo_of(ask));
  EXPECT_EQ(receive(b.out, 1).size(), 1u);  // the broadcast itself is flooded too
  EXPECT_EQ(receive(c.out, 1).size(), 1u);
  std::this_thread::sleep_for(30ms);
  EXPECT_TRUE(drain(b.out).empty()) << "the unicast reply reached only the guest";
  EXPECT_TRUE(drain(c.out).empty());
  auto seen = handler_->seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].frame, frame_bytes(ask));
  EXPECT_EQ(seen[1].vlan, 0);

  // Unicast to the gateway MAC goes to the gateway only, never flooded.
  const FrameSpec uni = arp_from(1, kGwMac, 28, 7);
  enqueue(a.in, {uni});
  ra = receive(a.out, 1);
  ASSERT_EQ(ra.size(), 1u);
  EXPECT_EQ(ra[0], echo_of(uni));
  std::this_thread::sleep_for(30ms);
  EXPECT_TRUE(drain(b.out).empty());
  EXPECT_TRUE(drain(c.out).empty());

  const PortStats s = gw_stats();
  EXPECT_EQ(s.punted, 3u);
  EXPECT_EQ(s.injected, 2u);
  EXPECT_EQ(s.tx_pkts, 3u);  // switch -> gateway
  EXPECT_EQ(s.rx_pkts, 2u);  // gateway -> switch
  EXPECT_EQ(dp_->port_stats("gateway").value().punted, 3u);  // one gateway: unambiguous
  EXPECT_TRUE(eventually([&] { return handler_->ticks() >= 3; })) << "ticked about every 10 ms";

  // Internal: not listed, not removable, name reserved; the MAC is static.
  for (const auto& p : dp_->list_ports()) EXPECT_NE(p.name, "gateway");
  EXPECT_EQ(dp_->list_ports("n1").size(), 3u);
  auto gi = dp_->gateway_port("n1");
  ASSERT_TRUE(gi.is_ok());
  EXPECT_TRUE(gi->internal);
  EXPECT_FALSE(gi->isolated);
  EXPECT_EQ(gi->name, "gateway");
  EXPECT_EQ(dp_->remove_port("gateway").code(), StatusCode::kInvalidArgument);
  PortSpec clash;
  clash.name = "gateway";
  clash.kind = PortKind::kRing;
  EXPECT_EQ(dp_->add_port("n1", clash).status().code(), StatusCode::kInvalidArgument);
  bool found = false;
  for (const auto& r : fdb()) {
    if (r.mac != kGwMac.to_string()) continue;
    found = true;
    EXPECT_EQ(r.port, "gateway");
    EXPECT_TRUE(r.is_static);
    EXPECT_EQ(r.vlan, 0);
  }
  EXPECT_TRUE(found);
  // A user flush keeps the static entry; ageing never removes it.
  ASSERT_TRUE(dp_->fdb_flush("n1").is_ok());
  clock_.advance_s(10'000);
  std::this_thread::sleep_for(20ms);
  auto rows = fdb();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].mac, kGwMac.to_string());
}

TEST_F(GatewayTest, IsolationDoesNotCutGuestsOffFromTheGateway) {
  RingPeer a = add_port("a", true), b = add_port("b", true);
  attach();
  enqueue(a.in, {ip_from(1, net::kBroadcastMac)});
  ASSERT_TRUE(learned(2));
  const FrameSpec ask = arp_from(1, net::kBroadcastMac);
  enqueue(a.in, {ask});
  auto ra = receive(a.out, 1);
  ASSERT_EQ(ra.size(), 1u);
  EXPECT_EQ(ra[0], echo_of(ask));
  EXPECT_EQ(handler_->seen_count(), 2u);
  std::this_thread::sleep_for(30ms);
  EXPECT_TRUE(drain(b.out).empty()) << "isolated guests still do not see each other";
  // b (isolated too) reaches the gateway by unicast.
  const FrameSpec ask_b = arp_from(2, kGwMac);
  enqueue(b.in, {ip_from(2, net::kBroadcastMac)});
  ASSERT_TRUE(learned(3));
  enqueue(b.in, {ask_b});
  auto rb = receive(b.out, 1);
  ASSERT_EQ(rb.size(), 1u);
  EXPECT_EQ(rb[0], echo_of(ask_b));
  EXPECT_TRUE(drain(a.out).empty());
}

TEST_F(GatewayTest, GuestSpoofingTheGatewayMacIsDroppedAndMovesNothing) {
  RingPeer a = add_port("a"), b = add_port("b");
  attach();
  enqueue(a.in, {ip_from(1, net::kBroadcastMac)});
  ASSERT_TRUE(learned(2));
  ASSERT_EQ(receive(b.out, 1).size(), 1u);  // a's broadcast
  FrameSpec spoof = ip_from(2, net::kBroadcastMac);
  spoof.src = kGwMac;
  enqueue(b.in, {spoof, spoof});
  ASSERT_TRUE(eventually([&] {
    return dp_->port_stats("b").value().drop(DropReason::kGatewayMacSpoofed) == 2;
  }));
  EXPECT_EQ(dp_->drop_totals()[static_cast<size_t>(DropReason::kGatewayMacSpoofed)], 2u);
  std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(drain(a.out).empty());
  EXPECT_EQ(handler_->seen_count(), 1u);
  for (const auto& r : fdb())
    if (r.mac == kGwMac.to_string()) {
      EXPECT_EQ(r.port, "gateway");
    }
  // The gateway still answers a.
  const FrameSpec ask = arp_from(1, kGwMac);
  enqueue(a.in, {ask});
  auto ra = receive(a.out, 1);
  ASSERT_EQ(ra.size(), 1u);
  EXPECT_EQ(ra[0], echo_of(ask));
  EXPECT_TRUE(drain(b.out).empty());
}

TEST_F(GatewayTest, VlanIsStrippedReportedAndRetaggedPerPortPolicy) {
  // a: access 10; t: trunk 10,20 (no native); c: access 20.
  RingPeer a = add_port("a", false, VlanConfig{{10}, false, 0, NativeMode::kNone});
  RingPeer t = add_port("t", false, VlanConfig{{10, 20}, true, 0, NativeMode::kNone});
  RingPeer c = add_port("c", false, VlanConfig{{20}, false, 0, NativeMode::kNone});
  attach();
  // a in VLAN 10 asks; the handler sees it untagged with vlan 10.
  const FrameSpec ask_a = arp_from(1, net::kBroadcastMac);
  enqueue(a.in, {ip_from(1, net::kBroadcastMac)});
  ASSERT_TRUE(learned(2));
  enqueue(a.in, {ask_a});
  auto ra = receive(a.out, 1);
  ASSERT_EQ(ra.size(), 1u);
  EXPECT_EQ(ra[0], echo_of(ask_a));  // access port: untagged
  auto seen = handler_->seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].vlan, 10);
  EXPECT_EQ(seen[1].frame, frame_bytes(ask_a));
  // t saw both VLAN-10 broadcasts tagged 10; c (VLAN 20) saw nothing.
  auto t10 = receive(t.out, 2);
  ASSERT_EQ(t10.size(), 2u);
  FrameSpec ask_a_tagged = ask_a;
  ask_a_tagged.vid = 10;
  EXPECT_EQ(t10[1], frame_bytes(ask_a_tagged));
  EXPECT_TRUE(drain(c.out).empty());
  // t asks in VLAN 20 (tagged, PCP 0); the reply comes back tagged 20 on t only.
  FrameSpec ask_t = arp_from(3, net::kBroadcastMac);
  ask_t.vid = 20;
  FrameSpec hello_t = ip_from(3, net::kBroadcastMac);
  hello_t.vid = 20;
  enqueue(t.in, {hello_t});
  ASSERT_TRUE(learned(4));  // t's MAC in 20 (+ a's in 10, gateway in 0 and 10)
  enqueue(t.in, {ask_t});
  auto rt = receive(t.out, 1);
  ASSERT_EQ(rt.size(), 1u);
  FrameSpec reply_t = ask_t;
  reply_t.dst = ask_t.src;
  reply_t.src = kGwMac;
  EXPECT_EQ(rt[0], frame_bytes(reply_t));  // trunk: tagged 20
  seen = handler_->seen();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[3].vlan, 20);
  FrameSpec untagged = ask_t;
  untagged.vid.reset();
  EXPECT_EQ(seen[3].frame, frame_bytes(untagged));
  EXPECT_EQ(receive(c.out, 2).size(), 2u);  // the two VLAN-20 broadcasts, untagged
  std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(drain(c.out).empty());
  // Static gateway entries exist per VLAN the gateway talked in: 0, 10, 20.
  EXPECT_TRUE(eventually([&] {
    size_t statics = 0;
    for (const auto& r : fdb())
      if (r.mac == kGwMac.to_string() && r.is_static && r.port == "gateway") ++statics;
    return statics == 3;
  }));
}

TEST_F(GatewayTest, JumboFramesCrossTheGatewayIntact) {
  RingPeer a = add_port("a");
  attach();
  enqueue(a.in, {ip_from(1, net::kBroadcastMac)});
  ASSERT_TRUE(learned(2));
  const FrameSpec big = arp_from(1, kGwMac, 9000, 3);
  enqueue(a.in, {big});
  auto ra = receive(a.out, 1);
  ASSERT_EQ(ra.size(), 1u);
  EXPECT_EQ(ra[0], echo_of(big));
  auto seen = handler_->seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].frame, frame_bytes(big));
  // Over the MTU: dropped on the way in, never punted.
  enqueue(a.in, {arp_from(1, kGwMac, 9001, 3)});
  ASSERT_TRUE(eventually([&] {
    return dp_->port_stats("a").value().drop(DropReason::kMtuExceeded) == 1;
  }));
  EXPECT_EQ(handler_->seen_count(), 2u);
}

TEST_F(GatewayTest, HandlerFailuresAndBadFramesAreCounted) {
  RingPeer a = add_port("a");
  attach();
  enqueue(a.in, {arp_from(1, kGwMac, 28, kThrowMarker), arp_from(1, kGwMac, 28, kRuntMarker)});
  ASSERT_TRUE(eventually([&] { return handler_->seen_count() == 2; }));
  ASSERT_TRUE(eventually([&] {
    const PortStats s = gw_stats();
    return s.drop(DropReason::kPuntHandlerError) == 1 && s.drop(DropReason::kInjectInvalid) == 1;
  }));
  const DropTotals t = dp_->drop_totals();
  EXPECT_EQ(t[static_cast<size_t>(DropReason::kPuntHandlerError)], 1u);
  EXPECT_EQ(t[static_cast<size_t>(DropReason::kInjectInvalid)], 1u);
  EXPECT_EQ(gw_stats().injected, 0u);
  EXPECT_TRUE(drain(a.out).empty());
}

TEST_F(GatewayTest, AttachErrorsReplaceAndDetach) {
  RingPeer a = add_port("a");
  EXPECT_EQ(dp_->set_punt_handler("nope", kGwMacBytes, handler_).code(), StatusCode::kNotFound);
  EXPECT_EQ(dp_->set_punt_handler("n1", {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, handler_).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(dp_->gateway_port("n1").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(dp_->set_punt_handler("n1", kGwMacBytes, nullptr).is_ok());  // nothing to detach
  attach();
  auto second = std::make_shared<EchoHandler>();
  ASSERT_TRUE(dp_->set_punt_handler("n1", kGwMacBytes, second).is_ok());
  EXPECT_EQ(handler_.use_count(), 1) << "the replaced handler is released";
  enqueue(a.in, {arp_from(1, kGwMac)});
  ASSERT_EQ(receive(a.out, 1).size(), 1u);
  EXPECT_EQ(second->seen_count(), 1u);
  EXPECT_EQ(handler_->seen_count(), 0u);
  // Removing the network detaches its gateway.
  ASSERT_TRUE(dp_->remove_network("n1").is_ok());
  peers_.clear();
  EXPECT_EQ(second.use_count(), 1);
  EXPECT_EQ(dp_->mbufs_in_use(), 0u);
}

TEST_F(GatewayTest, DetachWhileTrafficFlows) {
  RingPeer a = add_port("a"), b = add_port("b");
  attach();
  std::atomic<bool> stop{false};
  std::thread pump([&] {
    uint8_t k = 0;
    while (!stop.load()) {
      rte_mbuf* m = build_frame(test_pool(), arp_from(1, net::kBroadcastMac, 28, k++));
      if (m == nullptr) {
        std::this_thread::sleep_for(100us);
        continue;
      }
      if (rte_ring_enqueue(a.in, m) != 0) rte_pktmbuf_free(m);
      std::this_thread::sleep_for(30us);
    }
  });
  std::thread sink([&] {
    while (!stop.load()) {
      drain(a.out);
      drain(b.out);
      std::this_thread::sleep_for(500us);
    }
  });
  ASSERT_TRUE(eventually([&] { return handler_->seen_count() > 50; }));
  ASSERT_TRUE(dp_->set_punt_handler("n1", kGwMacBytes, nullptr).is_ok());
  EXPECT_EQ(handler_.use_count(), 1) << "the slow path let go of the handler";
  const size_t seen_at_detach = handler_->seen_count();
  const uint64_t b_before = dp_->port_stats("b").value().tx_pkts;
  std::this_thread::sleep_for(50ms);
  EXPECT_GT(dp_->port_stats("b").value().tx_pkts, b_before) << "traffic goes on";
  EXPECT_EQ(handler_->seen_count(), seen_at_detach);
  EXPECT_EQ(dp_->gateway_port("n1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(dp_->port_stats("gateway", "n1").status().code(), StatusCode::kNotFound);
  for (const auto& r : fdb()) EXPECT_NE(r.mac, kGwMac.to_string());
  // Re-attach while traffic still flows.
  attach();
  ASSERT_TRUE(eventually([&] { return handler_->seen_count() > seen_at_detach + 10; }));
  stop = true;
  pump.join();
  sink.join();
  std::this_thread::sleep_for(20ms);
  drain(a.out);
  drain(b.out);
  ASSERT_TRUE(dp_->set_punt_handler("n1", kGwMacBytes, nullptr).is_ok());
  ASSERT_TRUE(dp_->remove_port("a").is_ok());
  ASSERT_TRUE(dp_->remove_port("b").is_ok());
  peers_.clear();
  EXPECT_EQ(dp_->mbufs_in_use(), 0u) << "no dataplane mbuf leaked";
}

}  // namespace
}  // namespace vnet::dp::test
