// T1/T2: port lifecycle through the Dataplane facade — ring ports removed
// while traffic flows (mbuf accounting), and vhost-user ports driven by an
// in-process net_virtio_user guest (hot-plugged after the vhost side, so the
// probe order works in one process): socket ownership, multiqueue rx,
// link-state events, jumbo frames, and client-mode reconnection.
#include <gtest/gtest.h>
#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "dataplane/dataplane.h"
#include "tests/dp/fake_clock.h"
#include "tests/dp/packet_builder.h"
#include "tests/dp/ring_io.h"

namespace vnet::dp::test {
namespace {

using namespace std::chrono_literals;

rte_mempool* test_pool() {
  static rte_mempool* pool =
      rte_pktmbuf_pool_create("pt_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return pool;
}

FrameSpec frame_from(uint8_t src, net::MacAddr dst, size_t payload = 46) {
  return FrameSpec{dst, mac(src), std::nullopt, 0, net::kEtherTypeIpv4, payload, src};
}

class PortsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(test_pool(), nullptr);
    pool_in_use_ = rte_mempool_in_use_count(test_pool());
    run_dir_ = std::filesystem::temp_directory_path() / ("vnet_pt_" + std::to_string(getpid()));
    DataplaneOptions o;
    o.name = "pt" + std::to_string(n_++);
    o.workers = 1;
    o.mbufs = 4095;
    o.fdb_capacity = 4096;
    o.clock = &clock_;
    o.run_dir = run_dir_.string();
    o.worker_idle_sleep_us = 20;
    auto d = Dataplane::create(o);
    ASSERT_TRUE(d.is_ok()) << d.status().to_string();
    dp_ = std::move(d).value();
  }
  void TearDown() override {
    dp_.reset();
    std::filesystem::remove_all(run_dir_);
    EXPECT_EQ(rte_mempool_in_use_count(test_pool()), pool_in_use_) << "test mbufs leaked";
  }

  struct RingPeer {
    rte_ring* in = nullptr;
    rte_ring* out = nullptr;
  };
  RingPeer add_ring(const std::string& net, const std::string& name, VlanConfig vlan = {}) {
    PortSpec s;
    s.name = name;
    s.kind = PortKind::kRing;
    s.vlan = std::move(vlan);
    auto r = dp_->add_port(net, s);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (!r) return {};
    return {rte_ring_lookup(r->ring_in.c_str()), rte_ring_lookup(r->ring_out.c_str())};
  }
  PortInfo info(const std::string& name) {
    for (const auto& p : dp_->list_ports())
      if (p.name == name) return p;
    ADD_FAILURE() << "no port " << name;
    return {};
  }

  static inline int n_ = 0;
  FakeClock clock_;
  std::filesystem::path run_dir_;
  std::unique_ptr<Dataplane> dp_;
  unsigned pool_in_use_ = 0;
};

// A virtio-user guest in this process: hot-plugged, configured, started.
class VirtioGuest {
 public:
  bool start(const std::string& name, const std::string& path, uint16_t queues, bool server,
             uint32_t mtu = 1500) {
    name_ = name;
    std::string args = name + ",path=" + path + ",queues=" + std::to_string(queues);
    if (server) args += ",server=1";
    if (rte_dev_probe(args.c_str()) != 0) return false;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port_) != 0) return false;
    probed_ = true;
    rte_eth_dev_info dinfo{};
    if (rte_eth_dev_info_get(port_, &dinfo) != 0) return false;
    rte_eth_conf conf{};
    conf.rxmode.mtu = mtu;
    if (dinfo.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
    if (dinfo.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    if (rte_eth_dev_configure(port_, queues, queues, &conf) != 0) return false;
    for (uint16_t q = 0; q < queues; ++q) {
      if (rte_eth_rx_queue_setup(port_, q, 256, SOCKET_ID_ANY, nullptr, test_pool()) != 0) return false;
      if (rte_eth_tx_queue_setup(port_, q, 256, SOCKET_ID_ANY, nullptr) != 0) return false;
    }
    queues_ = queues;
    return rte_eth_dev_start(port_) == 0;
  }
  void stop() {
    if (!probed_) return;
    rx_all();
    (void)rte_eth_dev_stop(port_);
    (void)rte_eth_dev_close(port_);
    (void)rte_eal_hotplug_remove("vdev", name_.c_str());
    probed_ = false;
  }
  ~VirtioGuest() { stop(); }

  bool link_up() const {
    rte_eth_link l{};
    return rte_eth_link_get_nowait(port_, &l) == 0 && l.link_status == RTE_ETH_LINK_UP;
  }
  // Sends on queue q; returns frames accepted.
  uint16_t send(uint16_t q, const std::vector<FrameSpec>& frames) {
    std::vector<rte_mbuf*> m;
    for (const auto& f : frames) m.push_back(build_frame(test_pool(), f));
    const uint16_t n = rte_eth_tx_burst(port_, q, m.data(), static_cast<uint16_t>(m.size()));
    for (size_t i = n; i < m.size(); ++i) rte_pktmbuf_free(m[i]);
    return n;
  }
  std::vector<std::vector<uint8_t>> rx_all() {
    std::vector<std::vector<uint8_t>> out;
    for (uint16_t q = 0; q < queues_; ++q) {
      std::array<rte_mbuf*, 32> m;
      uint16_t n;
      while ((n = rte_eth_rx_burst(port_, q, m.data(), 32)) > 0) {
        for (uint16_t i = 0; i < n; ++i) {
          out.push_back(mbuf_bytes(m[i]));
          rte_pktmbuf_free(m[i]);
        }
      }
    }
    return out;
  }
  std::vector<std::vector<uint8_t>> receive(size_t n, std::chrono::milliseconds t = 3000ms) {
    std::vector<std::vector<uint8_t>> out;
    const auto deadline = std::chrono::steady_clock::now() + t;
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      auto got = rx_all();
      out.insert(out.end(), got.begin(), got.end());
      if (out.size() < n) std::this_thread::sleep_for(1ms);
    }
    return out;
  }

 private:
  std::string name_;
  uint16_t port_ = 0;
  uint16_t queues_ = 1;
  bool probed_ = false;
};

TEST_F(PortsTest, RemovalWhileTrafficFlowsLeaksNoMbufs) {
  ASSERT_TRUE(dp_->add_network({"n1", 1500, 8192, 300}).is_ok());
  // Flooding across access/trunk ports: copies, tag pushes and pops.
  RingPeer a = add_ring("n1", "a", VlanConfig{{10}, false, 0, NativeMode::kNone});
  RingPeer b = add_ring("n1", "b", VlanConfig{{10, 20}, true, 10, NativeMode::kUntagged});
  RingPeer c = add_ring("n1", "c", VlanConfig{{10}, false, 0, NativeMode::kNone});
  RingPeer d = add_ring("n1", "d", VlanConfig{{10, 20}, true, 0, NativeMode::kNone});
  std::atomic<bool> stop{false};
  std::thread pump([&] {
    uint8_t k = 0;
    while (!stop.load()) {
      rte_mbuf* m = build_frame(test_pool(), frame_from(1, net::kBroadcastMac, 46 + (k++ % 64)));
      if (m != nullptr && rte_ring_enqueue(a.in, m) != 0) rte_pktmbuf_free(m);
      std::this_thread::sleep_for(20us);
    }
  });
  // b's output is drained; c's and d's fill up and are left for removal to free.
  std::thread sink([&] {
    while (!stop.load()) {
      drain(b.out);
      std::this_thread::sleep_for(500us);
    }
  });
  std::this_thread::sleep_for(60ms);
  EXPECT_GT(rte_ring_count(c.out), 0u);
  EXPECT_GT(rte_ring_count(d.out), 0u);
  ASSERT_TRUE(dp_->remove_port("c").is_ok());
  std::this_thread::sleep_for(30ms);
  ASSERT_TRUE(dp_->remove_port("d").is_ok());
  std::this_thread::sleep_for(30ms);
  const uint64_t before = dp_->port_stats("b").value().tx_pkts;
  std::this_thread::sleep_for(30ms);
  EXPECT_GT(dp_->port_stats("b").value().tx_pkts, before) << "traffic goes on";
  stop = true;
  pump.join();
  sink.join();
  EXPECT_GT(dp_->drop_totals()[static_cast<size_t>(DropReason::kPortRemoved)], 0u);
  // Quiesce, then account for every mbuf.
  std::this_thread::sleep_for(20ms);
  drain(b.out);
  drain(a.out);
  EXPECT_EQ(rte_ring_count(a.in), 0u);
  EXPECT_EQ(dp_->mbufs_in_use(), 0u) << "flood copies all returned";
  ASSERT_TRUE(dp_->remove_port("a").is_ok());
  ASSERT_TRUE(dp_->remove_port("b").is_ok());
  EXPECT_EQ(rte_mempool_in_use_count(test_pool()), pool_in_use_);
  EXPECT_EQ(dp_->mbufs_in_use(), 0u);
}

TEST_F(PortsTest, VhostServerOwnershipMultiqueueLinkStateAndJumbo) {
  ASSERT_TRUE(dp_->add_network({"n1", 9000, 8192, 300}).is_ok());
  PortSpec v;
  v.name = "vm1";
  v.kind = PortKind::kVhostServer;
  v.queues = 2;
  v.socket_mode = 0660;
  const uint32_t owner = geteuid() == 0 ? 65534 : geteuid();
  v.socket_uid = owner;
  v.socket_gid = owner == 65534 ? 65534 : getegid();
  auto vi = dp_->add_port("n1", v);
  ASSERT_TRUE(vi.is_ok()) << vi.status().to_string();
  EXPECT_EQ(vi->queues, 2);
  struct stat st{};
  ASSERT_EQ(::stat(vi->socket_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_uid, owner);
  EXPECT_EQ(st.st_gid, *v.socket_gid);
  EXPECT_FALSE(info("vm1").link_up);
  RingPeer r = add_ring("n1", "r");

  VirtioGuest guest;
  ASSERT_TRUE(guest.start("net_virtio_user7", vi->socket_path, 2, false, 9000));
  ASSERT_TRUE(eventually([&] { return info("vm1").link_up; })) << "guest connected";
  ASSERT_TRUE(eventually([&] { return dp_->port_stats("vm1").value().link_up_events >= 1; }));
  bool saw_up_event = false;
  dp_->poll_port_events([&](const PortEvent& ev, std::string_view port) {
    if (port == "vm1" && ev.type == PortEventType::kLinkUp) saw_up_event = true;
  });
  EXPECT_TRUE(saw_up_event);

  // rx on every queue the guest uses.
  ASSERT_TRUE(eventually([&] { return guest.send(0, {frame_from(1, net::kBroadcastMac)}) == 1; }));
  auto got = receive(r.out, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], frame_bytes(frame_from(1, net::kBroadcastMac)));
  ASSERT_TRUE(eventually([&] { return guest.send(1, {frame_from(2, net::kBroadcastMac)}) == 1; }));
  got = receive(r.out, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], frame_bytes(frame_from(2, net::kBroadcastMac)));

  // Jumbo frames cross intact both ways (chains of 2 KB segments).
  const FrameSpec big_out = frame_from(1, net::kBroadcastMac, 9000);
  ASSERT_EQ(guest.send(0, {big_out}), 1);
  got = receive(r.out, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], frame_bytes(big_out));
  const FrameSpec big_in = frame_from(9, mac(1), 9000);
  rte_mbuf* m = build_frame(test_pool(), big_in);
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(rte_ring_enqueue(r.in, m), 0);
  auto in = guest.receive(1);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0], frame_bytes(big_in));
  // Over the network MTU: a named drop.
  ASSERT_EQ(guest.send(0, {frame_from(1, net::kBroadcastMac, 9001)}), 1);
  EXPECT_TRUE(eventually([&] {
    return dp_->port_stats("vm1").value().drop(DropReason::kMtuExceeded) == 1;
  }));
  EXPECT_TRUE(drain(r.out).empty());

  // The guest goes away: link down, counted.
  guest.stop();
  EXPECT_TRUE(eventually([&] { return !info("vm1").link_up; }));
  EXPECT_TRUE(eventually([&] { return dp_->port_stats("vm1").value().link_down_events >= 1; }));
  ASSERT_TRUE(dp_->remove_port("vm1").is_ok());
  EXPECT_FALSE(std::filesystem::exists(vi->socket_path));
  ASSERT_TRUE(dp_->remove_port("r").is_ok());
  EXPECT_EQ(dp_->mbufs_in_use(), 0u);
}

}  // namespace
}  // namespace vnet::dp::test
