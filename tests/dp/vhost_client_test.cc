// T2: a vhost-user client port reconnects when its peer restarts. The peer
// plays QEMU's part: a separate dpdk-testpmd process whose net_virtio_user
// is the socket server (server=1) and forwards every frame back (io mode,
// one port paired with itself). The binary exits 77 without dpdk-testpmd.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "dataplane/dataplane.h"
#include "tests/dp/packet_builder.h"

extern char** environ;

namespace vnet::dp::test {
namespace {

using namespace std::chrono_literals;

rte_mempool* test_pool() {
  static rte_mempool* pool =
      rte_pktmbuf_pool_create("vc_pool", 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return pool;
}

template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds t) {
  const auto deadline = std::chrono::steady_clock::now() + t;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return p();
}

std::vector<std::vector<uint8_t>> drain(rte_ring* ring) {
  std::vector<std::vector<uint8_t>> out;
  void* obj = nullptr;
  while (rte_ring_dequeue(ring, &obj) == 0) {
    out.push_back(mbuf_bytes(static_cast<rte_mbuf*>(obj)));
    rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
  }
  return out;
}

// A dpdk-testpmd process serving `socket`; killed (SIGTERM, then SIGKILL) on stop().
class Peer {
 public:
  bool start(const std::string& socket, const std::string& prefix, const std::string& log) {
    std::vector<std::string> args = {
        "dpdk-testpmd", "-l", "0,1", "--no-huge", "-m", "256", "--no-pci",
        "--no-shconf", "--file-prefix=" + prefix, "--log-level=lib.eal:error",
        "--vdev=net_virtio_user0,path=" + socket + ",server=1,queues=1",
        "--", "--forward-mode=io", "--auto-start", "--stats-period=1",
        "--total-num-mbufs=2048", "--txd=256", "--rxd=256",
    };
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    const int rc = posix_spawnp(&pid_, "dpdk-testpmd", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(10ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  ~Peer() { stop(); }

 private:
  pid_t pid_ = -1;
};

TEST(VhostClient, ReconnectsWhenThePeerRestarts) {
  ASSERT_NE(test_pool(), nullptr);
  const auto dir = std::filesystem::temp_directory_path() / ("vnet_vc_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string socket = (dir / "qemu.sock").string();
  const std::string log = (dir / "testpmd.log").string();
  const std::string prefix = "vnet_vc_peer" + std::to_string(getpid());
  {
    DataplaneOptions o;
    o.name = "vcd";
    o.workers = 1;
    o.mbufs = 2047;
    o.fdb_capacity = 1024;
    o.run_dir = dir.string();
    o.worker_idle_sleep_us = 50;
    auto d = Dataplane::create(o);
    ASSERT_TRUE(d.is_ok()) << d.status().to_string();
    std::unique_ptr<Dataplane> dp = std::move(d).value();
    ASSERT_TRUE(dp->add_network({"n1", 1500, 8192, 300}).is_ok());
    PortSpec rs;
    rs.name = "r";
    rs.kind = PortKind::kRing;
    auto ri = dp->add_port("n1", rs);
    ASSERT_TRUE(ri.is_ok());
    rte_ring* r_in = rte_ring_lookup(ri->ring_in.c_str());
    rte_ring* r_out = rte_ring_lookup(ri->ring_out.c_str());

    Peer peer;
    ASSERT_TRUE(peer.start(socket, prefix, log));
    ASSERT_TRUE(eventually([&] { return std::filesystem::exists(socket); }, 20s))
        << "testpmd did not create " << socket << " (see " << log << ")";
    PortSpec v;
    v.name = "vm";
    v.kind = PortKind::kVhostClient;
    v.path = socket;
    auto vi = dp->add_port("n1", v);
    ASSERT_TRUE(vi.is_ok()) << vi.status().to_string();
    auto link_up = [&] {
      for (const auto& p : dp->list_ports("n1"))
        if (p.name == "vm") return p.link_up;
      return false;
    };
    // The peer echoes what the switch floods to it: a broadcast from r comes back to r.
    auto echoed = [&](uint8_t tag) {
      const FrameSpec f{net::kBroadcastMac, mac(9), std::nullopt, 0, net::kEtherTypeIpv4, 46, tag};
      const auto want = frame_bytes(f);
      return eventually(
          [&] {
            rte_mbuf* m = build_frame(test_pool(), f);
            if (m != nullptr && rte_ring_enqueue(r_in, m) != 0) rte_pktmbuf_free(m);
            std::this_thread::sleep_for(20ms);
            for (const auto& got : drain(r_out))
              if (got == want) return true;
            return false;
          },
          10s);
    };
    ASSERT_TRUE(eventually(link_up, 20s)) << "connected to the peer (see " << log << ")";
    EXPECT_TRUE(echoed(1));
    EXPECT_GE(dp->port_stats("vm").value().link_up_events, 1u);

    peer.stop();
    EXPECT_TRUE(eventually([&] { return !link_up(); }, 10s));
    EXPECT_GE(dp->port_stats("vm").value().link_down_events, 1u);

    Peer again;
    ASSERT_TRUE(again.start(socket, prefix, log));
    EXPECT_TRUE(eventually(link_up, 30s)) << "reconnected (see " << log << ")";
    EXPECT_GE(dp->port_stats("vm").value().link_up_events, 2u);
    EXPECT_TRUE(echoed(2)) << "traffic after the reconnect";
    ASSERT_TRUE(dp->remove_port("vm").is_ok());
    again.stop();
    drain(r_out);
  }
  std::filesystem::remove_all(dir);
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path("/var/run/dpdk") / prefix, ec);
}

}  // namespace
}  // namespace vnet::dp::test
