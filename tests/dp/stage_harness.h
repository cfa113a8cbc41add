// A test harness around the stages: a pool, ring ethdevs as ports, a
// publisher, an FDB, a slow path and one worker's state, all driven by hand
// from the test thread (QSBR reader 0 = the worker, 1 = the slow path).
// StageTest is the gtest fixture of the stage tests built on it: one pool and
// one set of ring ports per suite, a fresh StageHarness per test, frames by
// harness port index, and a check that every test returns its mbufs.
#pragma once

#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/fdb.h"
#include "dataplane/ports/ethdev_port.h"
#include "dataplane/slow_path.h"
#include "dataplane/snapshot_publisher.h"
#include "dataplane/stages/stages.h"
#include "tests/dp/fake_clock.h"
#include "tests/dp/packet_builder.h"

namespace vnet::dp::test {

// Ring ethdevs shared by every test of a binary: port i sends into tx_ring(i).
class RingPorts {
 public:
  static constexpr int kCount = 6;
  void create(const std::string& prefix, rte_mempool* pool) {
    for (int i = 0; i < kCount; ++i) {
      const std::string n = prefix + std::to_string(i);
      rx_[i] = rte_ring_create((n + "_rx").c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      tx_[i] = rte_ring_create((n + "_tx").c_str(), 1024, SOCKET_ID_ANY, 0);
      ASSERT_NE(rx_[i], nullptr);
      ASSERT_NE(tx_[i], nullptr);
      const int id = rte_eth_from_rings(n.c_str(), &rx_[i], 1, &tx_[i], 1, SOCKET_ID_ANY);
      ASSERT_GE(id, 0);
      ids_[i] = static_cast<uint16_t>(id);
      PortSetup setup;
      setup.pool = pool;
      Status st = configure_and_start(ids_[i], setup);
      ASSERT_TRUE(st.is_ok()) << st.to_string();
    }
  }
  uint16_t id(int i) const { return ids_[i]; }
  rte_ring* rx(int i) const { return rx_[i]; }
  rte_ring* tx(int i) const { return tx_[i]; }

 private:
  std::array<uint16_t, kCount> ids_{};
  std::array<rte_ring*, kCount> rx_{};
  std::array<rte_ring*, kCount> tx_{};
};

class StageHarness {
 public:
  StageHarness(rte_mempool* pool, const RingPorts& ports, const std::string& name)
      : pool_(pool), ports_(ports) {
    auto pub = SnapshotPublisher::create(2);
    EXPECT_TRUE(pub.is_ok());
    publisher_ = std::move(pub).value();
    EXPECT_TRUE(publisher_->register_reader(0).is_ok());
    EXPECT_TRUE(publisher_->register_reader(1).is_ok());
    publisher_->online(0);
    publisher_->online(1);
    FdbOptions fo;
    fo.name = name + "_fdb";
    fo.capacity = 4096;
    fo.qsbr = publisher_->qsbr();
    auto fdb = Fdb::create(fo);
    EXPECT_TRUE(fdb.is_ok()) << fdb.status().to_string();
    fdb_ = std::move(fdb).value();
    auto ring = TypedRing<LearnEvent>::create(name + "_lrn", 1024);
    EXPECT_TRUE(ring.is_ok());
    learn_ring_ = std::move(ring).value();
    SlowPathDeps sd;
    sd.publisher = publisher_.get();
    sd.fdb = fdb_.get();
    sd.learn_rings = {learn_ring_.get()};
    sd.clock = &clock_;
    sd.reader_id = 1;
    slow_path_ = std::make_unique<SlowPath>(sd);
    counters_ = std::make_unique<WorkerCounters>();
    tx_ = std::make_unique<TxBuffers>(0);
  }

  ~StageHarness() {
    publisher_->offline(0);
    publisher_->offline(1);
    publisher_->unregister_reader(0);
    publisher_->unregister_reader(1);
  }

  // Publishes a snapshot; port inputs use harness port indexes, mapped to ethdev ids.
  void configure(std::vector<SnapshotNetworkInput> nets, std::vector<SnapshotPortInput> ports) {
    for (auto& p : ports) p.port_id = ports_.id(p.port_id);
    auto snap = build_snapshot(++generation_, 1, nets, ports);
    ASSERT_TRUE(snap.is_ok()) << snap.status().to_string();
    publisher_->publish(std::move(snap).value());
    quiesce();
  }

  void quiesce() {
    publisher_->quiescent(0);
    slow_path_->poll_once();
    publisher_->reclaim();
  }

  StageContext ctx() {
    StageContext c;
    c.snap = publisher_->load();
    c.fdb = fdb_.get();
    c.worker = 0;
    c.now_ns = clock_.now_ns();
    c.counters = counters_.get();
    c.learn_ring = learn_ring_.get();
    c.learn_filter = &learn_filter_;
    c.pool = pool_;
    if (flow_cache_ != nullptr) {
      flow_cache_->sync(c.snap->generation, fdb_->version());
      c.flow_cache = flow_cache_.get();
    }
    return c;
  }

  // Builds a burst of frames arriving on harness port `in`.
  Burst burst(int in, const std::vector<FrameSpec>& frames) {
    Burst b;
    b.in_port = ports_.id(in);
    b.count = static_cast<uint16_t>(frames.size());
    for (size_t i = 0; i < frames.size(); ++i) {
      b.pkts[i] = build_frame(pool_, frames[i]);
      EXPECT_NE(b.pkts[i], nullptr);
    }
    b.reset_verdicts();
    return b;
  }

  void run(Burst& b) { run_pipeline(b, ctx()); }

  // Runs the stages and the dispatcher, flushes tx, lets the slow path learn.
  void switch_burst(Burst& b) {
    StageContext c = ctx();
    run_pipeline(b, c);
    dispatch(b, c, *tx_);
    tx_->flush_all(*counters_);
    quiesce();
  }
  void send(int in, const std::vector<FrameSpec>& frames) {
    for (size_t off = 0; off < frames.size(); off += kBurst) {
      const size_t n = std::min<size_t>(kBurst, frames.size() - off);
      Burst b = burst(in, {frames.begin() + static_cast<std::ptrdiff_t>(off),
                           frames.begin() + static_cast<std::ptrdiff_t>(off + n)});
      switch_burst(b);
    }
  }

  // Frames the switch sent to harness port `out` (bytes), freeing the mbufs.
  std::vector<std::vector<uint8_t>> received(int out) {
    std::vector<std::vector<uint8_t>> r;
    void* obj = nullptr;
    while (rte_ring_dequeue(ports_.tx(out), &obj) == 0) {
      auto* m = static_cast<rte_mbuf*>(obj);
      r.push_back(mbuf_bytes(m));
      rte_pktmbuf_free(m);
    }
    return r;
  }

  void free_burst(Burst& b) {
    for (uint16_t i = 0; i < b.count; ++i) rte_pktmbuf_free(b.pkts[i]);
    b.count = 0;
  }

  uint64_t drops(int port, DropReason r) const { return counters_->ports[ports_.id(port)].drops.read(r); }
  const PortCounters& port_counters(int port) const { return counters_->ports[ports_.id(port)]; }
  const WorkerCounters& worker_counters() const { return *counters_; }
  uint16_t port_id(int i) const { return ports_.id(i); }

  FakeClock& clock() { return clock_; }
  Fdb& fdb() { return *fdb_; }
  SlowPath& slow_path() { return *slow_path_; }
  TypedRing<LearnEvent>& learn_ring() { return *learn_ring_; }
  // The worker's microflow cache is on by default, as in vnetd.
  void set_flow_cache(bool on) { flow_cache_ = on ? std::make_unique<FlowCache>() : nullptr; }
  FlowCache* flow_cache() { return flow_cache_.get(); }

 private:
  rte_mempool* pool_;
  const RingPorts& ports_;
  FakeClock clock_;
  std::unique_ptr<SnapshotPublisher> publisher_;
  std::unique_ptr<Fdb> fdb_;
  std::unique_ptr<TypedRing<LearnEvent>> learn_ring_;
  LearnFilter learn_filter_;
  std::unique_ptr<SlowPath> slow_path_;
  std::unique_ptr<WorkerCounters> counters_;
  std::unique_ptr<TxBuffers> tx_;
  std::unique_ptr<FlowCache> flow_cache_ = std::make_unique<FlowCache>();
  uint64_t generation_ = 0;
};

inline SnapshotNetworkInput network(uint16_t id, uint32_t mtu = 1500, uint32_t mac_limit = 8192,
                                    uint32_t ageing_s = 300) {
  return SnapshotNetworkInput{id, NetworkConfig{"net" + std::to_string(id), mtu, mac_limit, ageing_s}};
}

inline SnapshotPortInput port(uint16_t harness_port, uint16_t net, bool isolated = false,
                              VlanConfig vlan = {}) {
  SnapshotPortInput p;
  p.port_id = harness_port;
  p.name = "p" + std::to_string(harness_port);
  p.network = net;
  p.isolated = isolated;
  p.vlan = std::move(vlan);
  return p;
}

inline VlanConfig access(uint16_t tag) { return VlanConfig{{tag}, false, 0, NativeMode::kNone}; }
inline VlanConfig trunk(std::vector<uint16_t> tags, uint16_t native = 0,
                        NativeMode mode = NativeMode::kNone) {
  return VlanConfig{std::move(tags), true, native, mode};
}

// The fixture: Derived (CRTP) names the suite's DPDK objects with
// `static constexpr const char* kTag` (pool "<tag>_pool", ring ports
// "<tag>0".., harnesses "<tag>_<n>") and sizes its pool with
// `static constexpr unsigned kPoolSize` (mbufs).
template <typename Derived>
class StageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string tag = Derived::kTag;
    pool_ = rte_pktmbuf_pool_create((tag + "_pool").c_str(), Derived::kPoolSize, 0, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ASSERT_NE(pool_, nullptr);
    ports_ = new RingPorts();
    ports_->create(tag, pool_);
  }
  void SetUp() override {
    avail_ = rte_mempool_avail_count(pool_);
    h_ = std::make_unique<StageHarness>(pool_, *ports_, std::string(Derived::kTag) + "_" + std::to_string(n_++));
  }
  void TearDown() override {
    drain();
    h_.reset();
    EXPECT_EQ(rte_mempool_avail_count(pool_), avail_) << "mbuf leak";
  }

  // A frame: src/dst by harness index (MAC 52:54:00:00:00:<i+1>); the payload
  // bytes count up from src * 16 + dst.
  static FrameSpec frame(int src, int dst, size_t payload = 46) {
    return FrameSpec{mac(static_cast<uint8_t>(dst + 1)), mac(static_cast<uint8_t>(src + 1)),
                     std::nullopt, 0, net::kEtherTypeIpv4, payload, static_cast<uint8_t>(src * 16 + dst)};
  }
  static FrameSpec bcast(int src, size_t payload = 46) {
    FrameSpec f = frame(src, 0, payload);
    f.dst = net::kBroadcastMac;
    return f;
  }
  static FrameSpec tagged(FrameSpec f, uint16_t vid, uint8_t pcp = 0) {
    f.vid = vid;
    f.pcp = pcp;
    return f;
  }
  // Every port announces itself with a broadcast so the FDB knows all MACs.
  void learn_ports(std::initializer_list<int> ps) {
    for (int p : ps) h_->send(p, {bcast(p)});
    drain();
  }
  // Frees whatever the switch sent to any harness port.
  void drain() {
    for (int i = 0; i < RingPorts::kCount; ++i) h_->received(i);
  }

  static inline rte_mempool* pool_ = nullptr;
  static inline RingPorts* ports_ = nullptr;
  static inline int n_ = 0;
  unsigned avail_ = 0;
  std::unique_ptr<StageHarness> h_;
};

}  // namespace vnet::dp::test
