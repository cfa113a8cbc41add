// T1: the whole worker loop over ring ethdevs — deterministic (poll_once on
// the test thread) and through the Dataplane facade with a real PMD lcore
// and slow-path thread.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string_view>
#include <thread>

#include "dataplane/dataplane.h"
#include "dataplane/worker.h"
#include "tests/dp/ring_io.h"
#include "tests/dp/stage_harness.h"

namespace vnet::dp::test {
namespace {

using namespace std::chrono_literals;

FrameSpec frame_from(uint8_t src, net::MacAddr dst, size_t payload = 46) {
  return FrameSpec{dst, mac(src), std::nullopt, 0, net::kEtherTypeIpv4, payload, src};
}

void enqueue(rte_ring* ring, rte_mempool* pool, const std::vector<FrameSpec>& frames) {
  for (const auto& f : frames) {
    rte_mbuf* m = build_frame(pool, f);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(rte_ring_enqueue(ring, m), 0);
  }
}

class TestPool {
 public:
  static rte_mempool* get() {
    static rte_mempool* pool =
        rte_pktmbuf_pool_create("wt_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    return pool;
  }
};

// ---- deterministic: Worker::poll_once on the test thread ----

TEST(WorkerLoop, RxPipelineTxOverRingPorts) {
  rte_mempool* pool = TestPool::get();
  ASSERT_NE(pool, nullptr);
  RingPorts ports;
  ports.create("wl", pool);
  auto pub = std::move(SnapshotPublisher::create(2)).value();
  ASSERT_TRUE(pub->register_reader(0).is_ok());
  ASSERT_TRUE(pub->register_reader(1).is_ok());
  pub->online(0);
  pub->online(1);
  FdbOptions fo;
  fo.name = "wl_fdb";
  fo.qsbr = pub->qsbr();
  auto fdb = std::move(Fdb::create(fo)).value();
  auto learn = std::move(TypedRing<LearnEvent>::create("wl_lrn", 1024)).value();
  auto cmds = std::move(TypedRing<WorkerCommand>::create("wl_cmd", 64)).value();
  FakeClock clock;
  WorkerDeps wd;
  wd.publisher = pub.get();
  wd.fdb = fdb.get();
  wd.learn_ring = learn.get();
  wd.commands = cmds.get();
  wd.pool = pool;
  wd.clock = &clock;
  Worker worker(wd);
  SlowPathDeps sd;
  sd.publisher = pub.get();
  sd.fdb = fdb.get();
  sd.learn_rings = {learn.get()};
  sd.clock = &clock;
  sd.reader_id = 1;
  SlowPath slow(sd);

  std::vector<SnapshotNetworkInput> nets{network(1)};
  std::vector<SnapshotPortInput> in{port(0, 1), port(1, 1), port(2, 1)};
  for (auto& p : in) p.port_id = ports.id(p.port_id);
  pub->publish(std::move(build_snapshot(1, 1, nets, in)).value());

  // 33 broadcasts from port 0: two iterations (32 + 1), flooded to 1 and 2.
  std::vector<FrameSpec> frames;
  for (int i = 0; i < 33; ++i) frames.push_back(frame_from(1, net::kBroadcastMac, 46 + i));
  enqueue(ports.rx(0), pool, frames);
  EXPECT_EQ(worker.poll_once(), 32u);
  EXPECT_EQ(worker.poll_once(), 1u);
  EXPECT_EQ(worker.poll_once(), 0u);
  EXPECT_EQ(drain(ports.tx(1)).size(), 33u);
  EXPECT_EQ(drain(ports.tx(2)).size(), 33u);
  EXPECT_TRUE(drain(ports.tx(0)).empty());
  const PortCounters& c0 = worker.counters().ports[ports.id(0)];
  EXPECT_EQ(c0.rx_pkts.read(), 33u);
  uint64_t bytes = 0;
  for (const auto& f : frames) bytes += frame_bytes(f).size();
  EXPECT_EQ(c0.rx_bytes.read(), bytes);
  EXPECT_EQ(worker.counters().ports[ports.id(2)].tx_bytes.read(), bytes);
  EXPECT_EQ(learn->count(), 1u);  // the second burst finds its event still queued
  // pmd-stats: two busy iterations took the 33 frames, the third was idle.
  EXPECT_EQ(worker.counters().loops.read(), 3u);
  EXPECT_EQ(worker.counters().busy_loops.read(), 2u);
  EXPECT_EQ(worker.counters().frames.read(), 33u);
  EXPECT_GT(worker.counters().busy_cycles.read(), 0u);
  EXPECT_GT(worker.counters().idle_cycles.read(), 0u);

  // The slow path learns; unicast from port 2 to MAC 1 goes to port 0 only.
  slow.poll_once();
  enqueue(ports.rx(2), pool, {frame_from(3, mac(1))});
  EXPECT_EQ(worker.poll_once(), 1u);
  EXPECT_EQ(drain(ports.tx(0)).size(), 1u);
  EXPECT_TRUE(drain(ports.tx(1)).empty());

  // Counter reset command.
  WorkerCommand reset;
  reset.port = ports.id(0);
  ASSERT_TRUE(cmds->push(reset));
  worker.poll_once();
  EXPECT_EQ(c0.rx_pkts.read(), 0u);

  // A port dropped from the snapshot is no longer polled.
  std::vector<SnapshotPortInput> in2{in[1], in[2]};
  pub->publish(std::move(build_snapshot(2, 1, nets, in2)).value());
  enqueue(ports.rx(0), pool, {frame_from(1, net::kBroadcastMac)});
  EXPECT_EQ(worker.poll_once(), 0u);
  drain(ports.rx(0));  // (frees nothing: rx ring holds mbufs; drain them)
  slow.poll_once();
  pub->reclaim();
  EXPECT_EQ(pub->pending(), 0u);
  pub->offline(0);
  pub->offline(1);
}

// The stages' time: read every iteration (refresh 0, injected clocks), or
// again only once clock_refresh_cycles passed (vnetd's steady clock).
class CountingClock final : public Clock {
 public:
  uint64_t now_ns() const noexcept override { return ++reads_ * kNsPerSec; }
  uint64_t reads() const { return reads_; }

 private:
  mutable uint64_t reads_ = 0;
};

TEST(WorkerLoop, ClockIsReadAtMostOncePerRefreshPeriod) {
  rte_mempool* pool = TestPool::get();
  ASSERT_NE(pool, nullptr);
  RingPorts ports;
  ports.create("wc", pool);
  auto pub = std::move(SnapshotPublisher::create(1)).value();
  ASSERT_TRUE(pub->register_reader(0).is_ok());
  pub->online(0);
  FdbOptions fo;
  fo.name = "wc_fdb";
  fo.qsbr = pub->qsbr();
  auto fdb = std::move(Fdb::create(fo)).value();
  auto learn = std::move(TypedRing<LearnEvent>::create("wc_lrn", 1024)).value();
  std::vector<SnapshotNetworkInput> nets{network(1)};
  std::vector<SnapshotPortInput> in{port(0, 1), port(1, 1)};
  for (auto& p : in) p.port_id = ports.id(p.port_id);
  pub->publish(std::move(build_snapshot(1, 1, nets, in)).value());

  for (const uint64_t refresh : {uint64_t{0}, uint64_t{1}, uint64_t{1} << 62}) {
    SCOPED_TRACE(refresh);
    CountingClock clock;
    WorkerDeps wd;
    wd.publisher = pub.get();
    wd.fdb = fdb.get();
    wd.learn_ring = learn.get();
    wd.pool = pool;
    wd.clock = &clock;
    wd.flow_cache = false;
    wd.clock_refresh_cycles = refresh;
    Worker worker(wd);
    for (int i = 0; i < 5; ++i) {
      enqueue(ports.rx(0), pool, {frame_from(1, net::kBroadcastMac)});
      EXPECT_EQ(worker.poll_once(), 1u);
    }
    // Every iteration's TSC differs from the previous one: refresh 1 reads
    // each time; a period of 2^62 cycles only the first time.
    EXPECT_EQ(clock.reads(), refresh == (uint64_t{1} << 62) ? 1u : 5u);
    EXPECT_EQ(drain(ports.tx(1)).size(), 5u);
  }
  pub->offline(0);
}

TEST(SlowPathIdle, SleepDoublesWhileIdleAndRestartsAfterWork) {
  IdleBackoff b(200, 2000);
  for (const uint32_t want : {200u, 400u, 800u, 1600u, 2000u, 2000u}) EXPECT_EQ(b.idle(), want);
  b.busy();
  EXPECT_EQ(b.idle(), 200u);
  EXPECT_EQ(b.idle(), 400u);
  IdleBackoff flat(300, 100);  // a maximum below the start: always the start
  EXPECT_EQ(flat.idle(), 300u);
  EXPECT_EQ(flat.idle(), 300u);
  IdleBackoff big(1u << 30, ~0u);  // no overflow at the top
  EXPECT_EQ(big.idle(), 1u << 30);
  EXPECT_EQ(big.idle(), 1u << 31);
  EXPECT_EQ(big.idle(), ~0u);
  EXPECT_EQ(big.idle(), ~0u);
}

// ---- the facade with a PMD lcore and the slow-path thread ----

class FacadeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    run_dir_ = std::filesystem::temp_directory_path() / ("vnet_dpt_" + std::to_string(getpid()));
    DataplaneOptions o;
    o.name = "fa" + std::to_string(n_++);
    o.workers = 1;
    o.mbufs = 4095;
    o.fdb_capacity = 4096;
    o.clock = &clock_;
    o.run_dir = run_dir_.string();
    o.worker_idle_sleep_us = 20;
    auto d = Dataplane::create(o);
    ASSERT_TRUE(d.is_ok()) << d.status().to_string();
    dp_ = std::move(d).value();
    ASSERT_TRUE(dp_->add_network({"n1", 1500, 8192, 300}).is_ok());
  }
  void TearDown() override {
    dp_.reset();
    std::filesystem::remove_all(run_dir_);
  }

  struct RingPeer {
    PortInfo info;
    rte_ring* in = nullptr;
    rte_ring* out = nullptr;
  };
  RingPeer add_ring_port(const std::string& name, bool isolated = false, VlanConfig vlan = {}) {
    PortSpec s;
    s.name = name;
    s.kind = PortKind::kRing;
    s.isolated = isolated;
    s.vlan = std::move(vlan);
    auto r = dp_->add_port("n1", s);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (!r) return {};
    RingPeer p{r.value(), rte_ring_lookup(r->ring_in.c_str()), rte_ring_lookup(r->ring_out.c_str())};
    EXPECT_NE(p.in, nullptr);
    EXPECT_NE(p.out, nullptr);
    return p;
  }

  static inline int n_ = 0;
  FakeClock clock_;
  std::filesystem::path run_dir_;
  std::unique_ptr<Dataplane> dp_;
};

TEST_F(FacadeTest, FloodLearnUnicastStatsFdb) {
  RingPeer a = add_ring_port("a"), b = add_ring_port("b"), c = add_ring_port("c");
  enqueue(a.in, TestPool::get(), {frame_from(1, net::kBroadcastMac)});
  EXPECT_EQ(receive(b.out, 1).size(), 1u);
  EXPECT_EQ(receive(c.out, 1).size(), 1u);
  // Wait until the slow path has learned MAC 1.
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto rows = dp_->fdb_show("n1");
    ASSERT_TRUE(rows.is_ok());
    if (rows->size() == 1) break;
    std::this_thread::sleep_for(1ms);
  }
  enqueue(b.in, TestPool::get(), {frame_from(2, mac(1), 100)});
  auto ra = receive(a.out, 1);
  ASSERT_EQ(ra.size(), 1u);
  EXPECT_EQ(ra[0], frame_bytes(frame_from(2, mac(1), 100)));
  std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(drain(c.out).empty()) << "known unicast reached only its port";

  auto sa = dp_->port_stats("a");
  ASSERT_TRUE(sa.is_ok());
  EXPECT_EQ(sa->rx_pkts, 1u);
  EXPECT_EQ(sa->rx_bytes, 60u);
  EXPECT_EQ(sa->tx_pkts, 1u);
  EXPECT_EQ(sa->tx_bytes, 114u);
  EXPECT_EQ(dp_->port_stats("nope").status().code(), StatusCode::kNotFound);
  // Every PMD worker, with the frames it took (the flood, then the unicast).
  const std::vector<PmdStats> pmds = dp_->pmd_stats();
  ASSERT_EQ(pmds.size(), 1u);
  EXPECT_EQ(pmds[0].worker, 0u);
  EXPECT_GE(pmds[0].frames, 2u);
  EXPECT_GE(pmds[0].busy_loops, 1u);
  EXPECT_GT(pmds[0].busy_cycles, 0u);
  EXPECT_GT(pmds[0].loops, pmds[0].busy_loops);
  EXPECT_GT(pmds[0].tsc_hz, 0u);
  EXPECT_GE(pmds[0].fc_invalidations, 1u) << "the first snapshot starts an epoch";
  EXPECT_GE(pmds[0].fc_lookups, 1u) << "the unicast frame";
  EXPECT_LE(pmds[0].fc_hits, pmds[0].fc_lookups);

  std::vector<FdbRow> rows;
  for (int i = 0; i < 300 && rows.size() < 2; ++i) {
    rows = dp_->fdb_show("n1").value();
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) {
    EXPECT_EQ(r.network, "n1");
    EXPECT_EQ(r.vlan, 0);
    if (r.mac == mac(1).to_string()) EXPECT_EQ(r.port, "a");
    else EXPECT_EQ(r.port, "b");
  }
  ASSERT_TRUE(dp_->fdb_flush("n1", "a").is_ok());
  EXPECT_EQ(dp_->fdb_show("n1")->size(), 1u);
  ASSERT_TRUE(dp_->fdb_flush("n1").is_ok());
  EXPECT_EQ(dp_->fdb_show("n1")->size(), 0u);
  EXPECT_EQ(dp_->fdb_show("zz").status().code(), StatusCode::kNotFound);
}

TEST_F(FacadeTest, AgeingWithInjectedClockAndSetAgeing) {
  RingPeer a = add_ring_port("a"), b = add_ring_port("b");
  ASSERT_TRUE(dp_->set_ageing("n1", 10).is_ok());
  enqueue(a.in, TestPool::get(), {frame_from(1, net::kBroadcastMac)});
  ASSERT_EQ(receive(b.out, 1).size(), 1u);
  std::vector<FdbRow> rows;
  for (int i = 0; i < 1000 && rows.empty(); ++i) {
    rows = dp_->fdb_show("n1").value();
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(rows.size(), 1u);
  clock_.advance_s(5);
  rows = dp_->fdb_show("n1").value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].age_s, 5u);
  clock_.advance_s(6);
  for (int i = 0; i < 1000 && !rows.empty(); ++i) {
    rows = dp_->fdb_show("n1").value();
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(rows.empty()) << "aged out after 10 s";
}

TEST_F(FacadeTest, IsolationAndVlanThroughUpdatePort) {
  RingPeer a = add_ring_port("a"), b = add_ring_port("b"), c = add_ring_port("c");
  ASSERT_TRUE(dp_->update_port("a", true, {}).is_ok());
  ASSERT_TRUE(dp_->update_port("b", true, {}).is_ok());
  enqueue(a.in, TestPool::get(), {frame_from(1, net::kBroadcastMac)});
  EXPECT_EQ(receive(c.out, 1).size(), 1u);
  std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(drain(b.out).empty());
  // c becomes an access port of VLAN 5: a (untagged domain) no longer reaches it.
  ASSERT_TRUE(dp_->update_port("c", false, VlanConfig{{5}, false, 0, NativeMode::kNone}).is_ok());
  enqueue(a.in, TestPool::get(), {frame_from(1, net::kBroadcastMac)});
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(drain(c.out).empty());
  EXPECT_TRUE(drain(b.out).empty());
  EXPECT_EQ(dp_->port_stats("a")->drop(DropReason::kNoFloodTarget), 1u);
  EXPECT_FALSE(dp_->update_port("c", false, VlanConfig{{4095}, false, 0, NativeMode::kNone}).is_ok());
  EXPECT_EQ(dp_->drop_totals()[static_cast<size_t>(DropReason::kNoFloodTarget)], 1u);
}

TEST_F(FacadeTest, RemovePortWhileTrafficFlows) {
  RingPeer a = add_ring_port("a"), b = add_ring_port("b"), c = add_ring_port("c");
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0};
  std::thread pump([&] {
    while (!stop.load()) {
      rte_mbuf* m = build_frame(TestPool::get(), frame_from(1, net::kBroadcastMac));
      if (m == nullptr) { std::this_thread::sleep_for(100us); continue; }
      if (rte_ring_enqueue(a.in, m) != 0) rte_pktmbuf_free(m);
      else sent.fetch_add(1);
      std::this_thread::sleep_for(50us);
    }
  });
  std::thread sink([&] {  // keeps b's output ring from filling up
    while (!stop.load()) { drain(b.out); std::this_thread::sleep_for(1ms); }
  });
  std::this_thread::sleep_for(50ms);
  drain(c.out);
  ASSERT_TRUE(dp_->remove_port("c").is_ok());  // c's rings are gone now: do not touch them
  c = {};
  std::this_thread::sleep_for(50ms);
  const uint64_t before = dp_->port_stats("b")->tx_pkts;
  std::this_thread::sleep_for(50ms);
  EXPECT_GT(dp_->port_stats("b")->tx_pkts, before) << "traffic goes on";
  stop = true;
  pump.join();
  sink.join();
  EXPECT_EQ(dp_->list_ports("n1").size(), 2u);
  EXPECT_EQ(dp_->remove_port("c").code(), StatusCode::kNotFound);
  // Re-adding a port (the ethdev id is reused) starts with clean counters.
  RingPeer c2 = add_ring_port("c");
  auto s = dp_->port_stats("c");
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->tx_pkts, 0u);
  drain(a.out);
  drain(b.out);
  drain(c2.out);
}

TEST_F(FacadeTest, Errors) {
  PortSpec s;
  s.name = "x";
  s.kind = PortKind::kRing;
  EXPECT_EQ(dp_->add_port("nope", s).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(dp_->add_port("n1", s).is_ok());
  EXPECT_EQ(dp_->add_port("n1", s).status().code(), StatusCode::kAlreadyExists);
  s.name = "y";
  s.vlan.tags = {0};
  EXPECT_EQ(dp_->add_port("n1", s).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(dp_->add_network({"n1"}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dp_->add_network({"big", 9217}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(dp_->add_network({"jumbo", 9216}).is_ok());
  EXPECT_TRUE(dp_->update_network({"jumbo", 9000, 16, 60}).is_ok());
  EXPECT_EQ(dp_->list_networks().size(), 2u);
  ASSERT_TRUE(dp_->remove_network("n1").is_ok());
  EXPECT_TRUE(dp_->list_ports().empty());
  EXPECT_EQ(dp_->remove_network("n1").code(), StatusCode::kNotFound);
  // A vhost-user server port gets a socket under run_dir/<network>/.
  PortSpec v;
  v.name = "vm1";
  v.kind = PortKind::kVhostServer;
  auto vi = dp_->add_port("jumbo", v);
  ASSERT_TRUE(vi.is_ok()) << vi.status().to_string();
  EXPECT_EQ(vi->socket_path, (run_dir_ / "jumbo" / "vm1.sock").string());
  EXPECT_TRUE(std::filesystem::exists(vi->socket_path));
  EXPECT_FALSE(vi->link_up);
  ASSERT_TRUE(dp_->remove_port("vm1").is_ok());
}

TEST(EalArgs, Layout) {
  EalOptions o;
  o.file_prefix = "t1";
  o.hugepages = false;
  o.pmd_count = 1;
  std::string logged;
  o.log = [&](std::string_view l) { logged = std::string(l); };
  auto a = eal_args(o);
  ASSERT_TRUE(a.is_ok());
  const auto& v = a.value();
  auto has = [&](const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); };
  EXPECT_TRUE(has("--file-prefix=t1"));
  EXPECT_TRUE(has("--no-pci"));
  EXPECT_TRUE(has("--no-huge"));
  EXPECT_FALSE(has("--in-memory"));
  EXPECT_NE(logged.find("--no-huge"), std::string::npos);
  bool lcores = false;
  for (const auto& s : v) lcores |= s.rfind("--lcores=0@", 0) == 0 && s.find(",1@") != std::string::npos;
  EXPECT_TRUE(lcores);
  o.hugepages = true;
  o.pci = true;
  o.pmd_cores = {1, 1};
  o.file_prefix.clear();
  auto b = eal_args(o).value();
  EXPECT_EQ(std::find(b.begin(), b.end(), "--no-huge"), b.end());
  EXPECT_EQ(std::find(b.begin(), b.end(), "--no-pci"), b.end());
  bool two = false, prefix = false;
  for (const auto& s : b) {
    two |= s.find(",1@1,2@1") != std::string::npos;
    prefix |= s.rfind("--file-prefix=vnet-", 0) == 0;
  }
  EXPECT_TRUE(two);
  EXPECT_TRUE(prefix);
  // PCI without devices to probe at start: a match-nothing allow-list.
  auto next_to = [](const std::vector<std::string>& v, const std::string& flag) {
    std::vector<std::string> out;
    for (size_t i = 0; i + 1 < v.size(); ++i)
      if (v[i] == flag) out.push_back(v[i + 1]);
    return out;
  };
  EXPECT_EQ(next_to(b, "-a"), std::vector<std::string>{kNoPciDevice});
  o.pci_allow = {"0000:03:00.0", "0000:03:00.1"};
  EXPECT_EQ(next_to(eal_args(o).value(), "-a"), (std::vector<std::string>{"0000:03:00.0", "0000:03:00.1"}));
}

TEST(EalArgs, HugeUnlinkOnlyWithHugepages) {
  EalOptions o;
  o.file_prefix = "t2";
  auto count = [](const std::vector<std::string>& v) {
    return std::count_if(v.begin(), v.end(),
                         [](const std::string& s) { return s.starts_with("--huge-unlink"); });
  };
  o.hugepages = true;
  EXPECT_EQ(count(eal_args(o).value()), 1);
  o.hugepages = false;
  EXPECT_EQ(count(eal_args(o).value()), 0);
  o.hugepages = true;
  for (const char* conflicting : {"--no-huge", "--in-memory", "--huge-unlink=never"}) {
    o.extra_args = {conflicting};
    const auto v = eal_args(o).value();
    EXPECT_EQ(count(v), conflicting == std::string_view("--huge-unlink=never") ? 1 : 0) << conflicting;
    EXPECT_EQ(std::find(v.begin(), v.end(), "--huge-unlink"), v.end()) << conflicting;
  }
}

}  // namespace
}  // namespace vnet::dp::test
