// l2_bench.cc — vnet-l2-bench: instructions and cycles per packet of vnetd's L2 path.
//
// Theory of operation
// -------------------
// The real fast path (Worker::poll_once: snapshot load, rx burst, pipeline,
// dispatch, tx flush, quiescent) runs on the main thread over two ring
// ethdevs of one network, with the slow path (learning) driven by hand.
// Port 0's stations A_i send unicast to port 1's stations B_i; both sides are
// learned before measuring, so every measured frame is a known-unicast
// lookup hit (what vnet does for guest-to-guest traffic).
//
// Each batch: build up to kBatch frames into port 0's rx ring (generator
// work, not measured), then measure_window() calls poll_once until the batch
// is switched (measured), then free what port 1 transmitted (not measured).
// Learning and warm-up batches go through switch_window() instead.
// measure_window() is the only function to count: run under
//   valgrind --tool=callgrind --toggle-collect='*measure_window*'
// and divide the collected instructions by the packet count printed here
// (perf/ipp does that). Natively, the TSC around measure_window gives
// cycles per packet (median over batches).
//
// NAT mode (--nat): the same harness on a <forward mode='nat'> network.
// Port 0 is a guest, port 1 the uplink, port 2 the network's gateway port.
// The L3 state the facade would build (Dataplane::set_l3) is built here by
// hand: inside 10.0.0.0/16 with gateway 10.0.0.1, masquerade to
// 198.51.100.2/24, next hop 198.51.100.1 (its neighbour entry written
// directly, as the slow path does after ARP), the handoff and resolve rings
// vnetd gives a worker, one nat::NatWorker with a fixed
// seed and a table of max(262144, 2 N) sessions (vnetd's --nat-sessions as
// perf/compare sets it). Flow f of N (--sessions N): UDP from
// 10.0.1.1 + a : 1024 + p to 203.0.113.1 : 5001 + a, a = f / P, p = f % P,
// P = ceil(N / ceil(N / 60000)) (perf/compare's scheme: one address per
// 60000 sessions), sent by one guest MAC to the gateway MAC. Warm-up sends
// every flow once in order (creates the sessions) and once more in the
// measured order; the measured frames visit the flows in a fixed
// permutation (stride coprime to N), so session and index accesses are
// scattered as with real traffic. --dir out2in measures the replies instead
// (from the next hop's MAC to the uplink MAC, to 198.51.100.2 : the
// session's outside port), after one warm-up pass of them. The NAT clock is
// virtual (30 ns per frame, advanced between batches), so no session expires
// whatever valgrind's speed. At the end every measured frame must have been
// translated (NAT event in2out / out2in), created no session, and left on the
// uplink (in2out) or on the guest port (out2in); otherwise the counters are
// printed and the exit status is 3.
//
// Usage: vnet-l2-bench [--macs N] [--packets N] [--size BYTES] [--warmup N] [--no-flow-cache]
//        vnet-l2-bench --nat [--sessions N] [--dir in2out|out2in] [--nat-capacity N] [--packets N]
//                      [--size BYTES]
//
// Thread-safety
// -------------
// Single-threaded: the EAL main lcore plays worker 0 and the slow path.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include "dataplane/clock.h"
#include "dataplane/eal.h"
#include "dataplane/fdb.h"
#include "dataplane/l3.h"
#include "dataplane/neighbor.h"
#include "dataplane/ports/ethdev_port.h"
#include "dataplane/rings.h"
#include "dataplane/slow_path.h"
#include "dataplane/snapshot.h"
#include "dataplane/snapshot_publisher.h"
#include "dataplane/worker.h"
#include "nat/bytes.h"
#include "nat/checksum.h"
#include "nat/nat.h"

namespace {

using namespace vnet::dp;
namespace nat = vnet::nat;

constexpr unsigned kBatch = 992;  // 31 bursts of 32; fits the 1024-slot rings
constexpr unsigned kRingSlots = 1024;

struct Options {
  uint32_t macs = 10;         // stations per port (the flow count)
  uint64_t packets = 200000;  // measured packets
  uint64_t warmup = 0;        // packets switched before measuring; 0 = max(20000, 2 * macs)
  uint32_t size_bytes = 64;   // frame size including FCS
  bool flow_cache = true;     // the worker's microflow cache (dataplane/flow_cache.h)
  bool nat = false;           // NAT mode (see the header)
  uint32_t sessions = 1000;   // NAT mode: established sessions (flows)
  bool out2in = false;        // NAT mode: measure uplink -> guest
  uint32_t nat_capacity = 0;  // NAT mode: session table capacity; 0 = max(262144, 2 * sessions)
};

bool parse_u64(std::string_view s, uint64_t lo, uint64_t hi, uint64_t& out) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty() || v < lo || v > hi) return false;
  out = v;
  return true;
}

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    uint64_t v = 0;
    auto value = [&](uint64_t lo, uint64_t hi) { return i + 1 < argc && parse_u64(argv[++i], lo, hi, v); };
    if (a == "--macs" && value(1, 1u << 20)) {
      o.macs = static_cast<uint32_t>(v);
    } else if (a == "--packets" && value(kBatch, 1ull << 40)) {
      o.packets = v;
    } else if (a == "--warmup" && value(0, 1ull << 40)) {
      o.warmup = v;
    } else if (a == "--size" && value(64, 1518)) {
      o.size_bytes = static_cast<uint32_t>(v);
    } else if (a == "--no-flow-cache") {
      o.flow_cache = false;
    } else if (a == "--nat") {
      o.nat = true;
    } else if (a == "--sessions" && value(1, 1u << 22)) {
      o.sessions = static_cast<uint32_t>(v);
    } else if (a == "--nat-capacity" && value(1, 1u << 24)) {
      o.nat_capacity = static_cast<uint32_t>(v);
    } else if (a == "--dir" && i + 1 < argc &&
               (std::string_view(argv[i + 1]) == "in2out" || std::string_view(argv[i + 1]) == "out2in")) {
      o.out2in = std::string_view(argv[++i]) == "out2in";
    } else {
      std::fprintf(stderr,
                   "usage: vnet-l2-bench [EAL options --] [--macs N] [--packets N] [--warmup N] [--size 64..1518] "
                   "[--no-flow-cache]\n"
                   "       vnet-l2-bench [EAL options --] --nat [--sessions N] [--dir in2out|out2in] "
                   "[--nat-capacity N] [--packets N] [--warmup N] [--size 64..1518]\n");
      return false;
    }
  }
  return true;
}

// Station k of port p: 02:00:0p:kk:kk:kk.
void station_mac(uint8_t* out, uint32_t port, uint32_t k) {
  const uint8_t b[6] = {0x02, 0x00, static_cast<uint8_t>(port), static_cast<uint8_t>(k >> 16),
                        static_cast<uint8_t>(k >> 8), static_cast<uint8_t>(k)};
  std::memcpy(out, b, 6);
}

// An untagged IPv4/UDP frame of `len` bytes (FCS excluded).
rte_mbuf* build_frame(rte_mempool* pool, const uint8_t* dst, const uint8_t* src, uint16_t len) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  auto* d = static_cast<uint8_t*>(static_cast<void*>(rte_pktmbuf_append(m, len)));
  if (d == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memset(d, 0, len);
  std::memcpy(d, dst, 6);
  std::memcpy(d + 6, src, 6);
  d[12] = 0x08;  // IPv4
  d[13] = 0x00;
  d[14] = 0x45;
  const uint16_t ip_len = static_cast<uint16_t>(len - 14);
  d[16] = static_cast<uint8_t>(ip_len >> 8);
  d[17] = static_cast<uint8_t>(ip_len);
  d[22] = 64;  // TTL
  d[23] = 17;  // UDP
  return m;
}

// Polls until `expected` frames went through (or the worker sees none).
inline uint64_t poll_until(Worker& worker, uint64_t expected) {
  uint64_t got = 0;
  while (got < expected) {
    const uint32_t n = worker.poll_once();
    if (n == 0) break;
    got += n;
  }
  return got;
}

// The measured code (callgrind --toggle-collect target); learning and
// warm-up go through switch_window so they are not counted.
[[gnu::noipa]] uint64_t measure_window(Worker& worker, uint64_t expected) {
  return poll_until(worker, expected);
}
[[gnu::noipa]] uint64_t switch_window(Worker& worker, uint64_t expected) {
  return poll_until(worker, expected);
}

// What both modes run on, wired as vnetd wires one worker: ring ethdevs,
// the snapshot publisher (reader 0 the worker, 1 the slow path), an FDB,
// the learn and command rings, and the dependencies of the Worker and the
// SlowPath the modes create (after these members, so destroyed before them).
class Rig {
 protected:
  static constexpr int kMaxRigPorts = 3;

  // A measured batch of n frames that took t1 - t0 TSC cycles.
  void note_batch(uint64_t t0, uint64_t t1, unsigned n) {
    tsc_per_pkt_.push_back(static_cast<double>(t1 - t0) / n);
    measured_ += n;
  }
  // Median and 10th percentile of the batches' cycles per frame.
  struct CyclesPerFrame {
    double median = 0;
    double p10 = 0;
  };
  CyclesPerFrame cycles_per_frame() const {
    std::vector<double> v = tsc_per_pkt_;
    std::sort(v.begin(), v.end());
    if (v.empty()) return {};
    return {v[v.size() / 2], v[v.size() / 10]};
  }

  uint64_t measured_ = 0;              // frames in measured batches
  std::vector<double> tsc_per_pkt_;    // per measured batch

  // "" or what failed. `prefix` names the DPDK objects.
  std::string open_rig(const std::string& prefix, int ports, uint32_t fdb_capacity) {
    pool_ = rte_pktmbuf_pool_create((prefix + "_pool").c_str(), 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    SOCKET_ID_ANY);
    if (pool_ == nullptr) return "mbuf pool";
    for (int i = 0; i < ports; ++i) {
      const std::string n = prefix + std::to_string(i);
      rx_[i] = rte_ring_create((n + "_rx").c_str(), kRingSlots, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      tx_[i] = rte_ring_create((n + "_tx").c_str(), kRingSlots, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (rx_[i] == nullptr || tx_[i] == nullptr) return "rings";
      const int id = rte_eth_from_rings(n.c_str(), &rx_[i], 1, &tx_[i], 1, SOCKET_ID_ANY);
      if (id < 0) return "rte_eth_from_rings";
      ids_[i] = static_cast<uint16_t>(id);
      PortSetup ps;
      ps.pool = pool_;
      if (Status st = configure_and_start(ids_[i], ps); !st.is_ok()) return st.to_string();
    }
    auto pub = SnapshotPublisher::create(2);
    if (!pub.is_ok()) return pub.status().to_string();
    publisher_ = std::move(pub).value();
    if (!publisher_->register_reader(0).is_ok() || !publisher_->register_reader(1).is_ok()) return "qsbr readers";
    publisher_->online(0);
    publisher_->online(1);
    FdbOptions fo;
    fo.name = prefix + "_fdb";
    fo.capacity = fdb_capacity;
    fo.qsbr = publisher_->qsbr();
    auto fdb = Fdb::create(fo);
    if (!fdb.is_ok()) return fdb.status().to_string();
    fdb_ = std::move(fdb).value();
    auto learn = TypedRing<LearnEvent>::create(prefix + "_learn", 4096);
    auto cmds = TypedRing<WorkerCommand>::create(prefix + "_cmd", 64);
    if (!learn.is_ok() || !cmds.is_ok()) return "typed rings";
    learn_ = std::move(learn).value();
    cmds_ = std::move(cmds).value();
    return {};
  }
  WorkerDeps worker_deps(Clock* clock, bool flow_cache) const {
    WorkerDeps wd;
    wd.publisher = publisher_.get();
    wd.fdb = fdb_.get();
    wd.learn_ring = learn_.get();
    wd.commands = cmds_.get();
    wd.pool = pool_;
    wd.clock = clock;
    wd.flow_cache = flow_cache;
    return wd;
  }
  SlowPathDeps slow_path_deps(Clock* clock) const {
    SlowPathDeps sd;
    sd.publisher = publisher_.get();
    sd.fdb = fdb_.get();
    sd.learn_rings = {learn_.get()};
    sd.clock = clock;
    sd.reader_id = 1;
    sd.pool = pool_;
    return sd;
  }

  rte_mempool* pool_ = nullptr;
  rte_ring* rx_[kMaxRigPorts] = {};
  rte_ring* tx_[kMaxRigPorts] = {};
  uint16_t ids_[kMaxRigPorts] = {};
  std::unique_ptr<SnapshotPublisher> publisher_;
  std::unique_ptr<Fdb> fdb_;
  std::unique_ptr<TypedRing<LearnEvent>> learn_;
  std::unique_ptr<TypedRing<WorkerCommand>> cmds_;
};

class Bench : private Rig {
 public:
  explicit Bench(const Options& o) : opts_(o) {}

  bool setup() {
    if (const std::string e = open_rig("l2b", 2, std::max<uint32_t>(1024, 2 * opts_.macs + 1024)); !e.empty())
      return fail(e);
    WorkerDeps wd = worker_deps(&clock_, opts_.flow_cache);
    wd.clock_refresh_cycles = rte_get_tsc_hz() * kClockRefreshUs / 1'000'000;  // as vnetd's steady clock
    worker_ = std::make_unique<Worker>(wd);
    slow_ = std::make_unique<SlowPath>(slow_path_deps(&clock_));

    NetworkConfig nc;
    nc.name = "bench";
    nc.mac_limit = 2 * opts_.macs + 16;
    std::vector<SnapshotNetworkInput> nets{{1, nc}};
    std::vector<SnapshotPortInput> ports(2);
    for (int i = 0; i < 2; ++i) {
      ports[i].port_id = ids_[i];
      ports[i].name = "p" + std::to_string(i);
      ports[i].network = 1;
    }
    auto snap = build_snapshot(1, 1, nets, ports);
    if (!snap.is_ok()) return fail(snap.status().to_string());
    publisher_->publish(std::move(snap).value());
    return true;
  }

  // Every station sends one broadcast so the FDB knows all of them.
  bool learn_all() {
    uint8_t bcast[6];
    std::memset(bcast, 0xff, 6);
    for (uint32_t port = 0; port < 2; ++port) {
      for (uint32_t k = 0; k < opts_.macs;) {
        unsigned n = 0;
        for (; n < kBatch && k < opts_.macs; ++n, ++k) {
          uint8_t src[6];
          station_mac(src, port, k);
          rte_mbuf* m = build_frame(pool_, bcast, src, frame_len());
          if (m == nullptr || rte_ring_enqueue(rx_[port], m) != 0) return fail("learning frames");
        }
        switch_window(*worker_, n);
        settle();
      }
    }
    const uint64_t entries = fdb_->size();
    if (entries != 2ull * opts_.macs) {
      std::fprintf(stderr, "vnet-l2-bench: FDB holds %llu MACs, expected %llu\n",
                   static_cast<unsigned long long>(entries), 2ull * opts_.macs);
      return false;
    }
    return true;
  }

  // Switches `packets` known-unicast frames A_i -> B_i; returns false on loss.
  bool run(uint64_t packets, bool measured) {
    uint8_t src[6];
    uint8_t dst[6];
    for (uint64_t done = 0; done < packets;) {
      const unsigned n = static_cast<unsigned>(std::min<uint64_t>(kBatch, packets - done));
      for (unsigned i = 0; i < n; ++i) {
        station_mac(src, 0, flow_);
        station_mac(dst, 1, flow_);
        if (++flow_ == opts_.macs) flow_ = 0;
        rte_mbuf* m = build_frame(pool_, dst, src, frame_len());
        if (m == nullptr || rte_ring_enqueue(rx_[0], m) != 0) return fail("traffic frames");
      }
      if (measured && measured_ == 0) hits_before_ = worker_->counters().ports[ids_[0]].flow_cache_hits.read();
      const uint64_t t0 = rte_rdtsc_precise();
      const uint64_t got = measured ? measure_window(*worker_, n) : switch_window(*worker_, n);
      const uint64_t t1 = rte_rdtsc_precise();
      if (got != n) return fail("worker stopped receiving");
      const unsigned out = settle();
      if (out != n) {
        std::fprintf(stderr, "vnet-l2-bench: %u of %u frames reached port 1; drops:", out, n);
        for (uint16_t id : ids_)
          for (size_t r = 0; r < kDropReasonCount; ++r)
            if (const uint64_t d = worker_->counters().ports[id].drops.by_reason[r].read(); d != 0)
              std::fprintf(stderr, " port %u %s %llu", id, std::string(reason_name(static_cast<DropReason>(r))).c_str(),
                           static_cast<unsigned long long>(d));
        std::fprintf(stderr, "\n");
        return false;
      }
      if (measured) note_batch(t0, t1, n);
      done += n;
    }
    return true;
  }

  void report() const {
    const CyclesPerFrame c = cycles_per_frame();
    std::printf("{\"macs_per_port\":%u,\"size_bytes\":%u,\"packets\":%llu,\"batches\":%zu,"
                "\"tsc_hz\":%llu,\"cycles_per_packet_median\":%.1f,\"cycles_per_packet_p10\":%.1f,"
                "\"flow_cache_hits\":%llu}\n",
                opts_.macs, opts_.size_bytes, static_cast<unsigned long long>(measured_), tsc_per_pkt_.size(),
                static_cast<unsigned long long>(rte_get_tsc_hz()), c.median, c.p10,
                static_cast<unsigned long long>(worker_->counters().ports[ids_[0]].flow_cache_hits.read() -
                                                hits_before_));
  }

 private:
  uint16_t frame_len() const { return static_cast<uint16_t>(opts_.size_bytes - 4); }

  // Slow path learns, port 1's output is freed; returns the frames port 1 sent.
  unsigned settle() {
    while (slow_->poll_once() != 0) {
    }
    unsigned out = 0;
    void* objs[64];
    for (int i = 0; i < 2; ++i) {
      unsigned k = 0;
      while ((k = rte_ring_dequeue_burst(tx_[i], objs, 64, nullptr)) != 0) {
        for (unsigned j = 0; j < k; ++j) rte_pktmbuf_free(static_cast<rte_mbuf*>(objs[j]));
        if (i == 1) out += k;
      }
    }
    return out;
  }

  bool fail(const std::string& what) {
    std::fprintf(stderr, "vnet-l2-bench: %s failed\n", what.c_str());
    return false;
  }

  Options opts_;
  SteadyClock clock_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<SlowPath> slow_;
  uint32_t flow_ = 0;
  uint64_t hits_before_ = 0;  // port 0's flow cache hits before the measured run
};

// ---- NAT mode (see the header) ----

constexpr uint32_t ipv4_addr(uint32_t a, uint32_t b, uint32_t c, uint32_t d) { return a << 24 | b << 16 | c << 8 | d; }
constexpr uint32_t kInsideNet = ipv4_addr(10, 0, 0, 0);      // /16
constexpr uint32_t kGatewayIp = ipv4_addr(10, 0, 0, 1);
constexpr uint32_t kFirstGuestIp = ipv4_addr(10, 0, 1, 1);   // + a
constexpr uint32_t kOutsideIp = ipv4_addr(198, 51, 100, 2);  // /24, masquerade
constexpr uint32_t kNextHop = ipv4_addr(198, 51, 100, 1);
constexpr uint32_t kRemoteIp = ipv4_addr(203, 0, 113, 1);
constexpr uint16_t kFirstSrcPort = 1024;   // + p
constexpr uint16_t kFirstDstPort = 5001;   // + a
constexpr uint32_t kPortsPerAddress = 60000;
constexpr uint64_t kVirtualNsPerFrame = 30;
const net::MacAddr kGuestMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const net::MacAddr kGatewayMac{{0x52, 0x54, 0x00, 0xaa, 0x00, 0x01}};
const net::MacAddr kRouterMac{{0x02, 0x00, 0x00, 0x00, 0x01, 0x01}};

// Time for the NAT mode: virtual, moved forward by the bench between batches.
class VirtualClock final : public Clock {
 public:
  uint64_t now_ns() const noexcept override { return now_ns_; }
  void advance_ns(uint64_t d) noexcept { now_ns_ += d; }

 private:
  uint64_t now_ns_ = kNsPerSec;
};

class NatBench : private Rig {
 public:
  explicit NatBench(const Options& o) : opts_(o) {
    addresses_ = (o.sessions + kPortsPerAddress - 1) / kPortsPerAddress;
    ports_per_address_ = (o.sessions + addresses_ - 1) / addresses_;
    stride_ = std::max<uint32_t>(1, static_cast<uint32_t>(o.sessions * 0.6180339887));
    while (std::gcd(stride_, o.sessions) != 1) ++stride_;
    capacity_ = o.nat_capacity != 0 ? o.nat_capacity : std::max<uint32_t>(262144, 2 * o.sessions);
  }

  bool setup() {
    if (const std::string e = open_rig("natb", kPorts, 1024); !e.empty()) return fail(e);
    rte_ether_addr ea{};
    if (rte_eth_macaddr_get(ids_[kUplink], &ea) != 0) return fail("uplink MAC");
    std::copy(std::begin(ea.addr_bytes), std::end(ea.addr_bytes), uplink_mac_.b.begin());

    // As in vnetd: a handoff ring per worker (drained every loop; return
    // traffic checks its owner) and a resolve ring.
    handoff_[0] = rte_ring_create("natb_hof0", 1024, SOCKET_ID_ANY, RING_F_SC_DEQ);
    auto resolve = TypedRing<ResolveRequest>::create("natb_rsv0", 1024);
    if (handoff_[0] == nullptr || !resolve.is_ok()) return fail("handoff/resolve rings");
    resolve_ = std::move(resolve).value();

    // What Dataplane::set_l3 builds for a nat network, with the next hop's
    // and the guests' neighbour entries already resolved.
    neighbors_ = std::make_unique<NeighborTable>(4096);
    if (neighbors_->learn(kNextHop, kRouterMac, clock_.now_ns()) != NeighborTable::Update::kAdded)
      return fail("next hop neighbour");
    for (uint32_t a = 0; a < addresses_; ++a)
      if (neighbors_->learn(kFirstGuestIp + a, kGuestMac, clock_.now_ns()) != NeighborTable::Update::kAdded)
        return fail("guest neighbour");
    nat::NatConfig nc;
    (void)nc.inside.add(kInsideNet, 16);
    nc.addr_first = nc.addr_last = kOutsideIp;
    nc.workers = 1;
    if (const std::string err = nat::validate(nc); !err.empty()) return fail("NAT config: " + err);
    nat_ = std::make_unique<nat::NatWorker>(nc, 0, capacity_, 0x6e617469707021ull);
    l3_counters_ = std::make_unique<L3Counters>();

    WorkerDeps wd = worker_deps(&clock_, opts_.flow_cache);
    wd.handoff_rings = handoff_.data();
    wd.resolve_ring = resolve_.get();
    worker_ = std::make_unique<Worker>(wd);
    slow_ = std::make_unique<SlowPath>(slow_path_deps(&clock_));

    SnapshotNetworkInput net;
    net.id = 1;
    net.config.name = "natbench";
    net.config.mac_limit = 64;
    L3State& st = net.l3;
    st.enabled = true;
    st.mode = L3Mode::kNat;
    st.policy.mode = nat::L3Mode::kNat;
    st.policy.subnets = nc.inside;
    st.gateway_ips[0] = kGatewayIp;
    st.gateway_ip_count = 1;
    st.outside_ip = kOutsideIp;
    st.outside_mask = 0xffffff00u;
    st.next_hop = kNextHop;
    st.nat_first = st.nat_last = kOutsideIp;
    st.uplink_port = ids_[kUplink];
    st.uplink_mac = uplink_mac_;
    st.neighbors = neighbors_.get();
    st.nat[0] = nat_.get();
    st.counters[0] = l3_counters_.get();
    std::vector<SnapshotNetworkInput> nets{net};
    std::vector<SnapshotPortInput> ports(kPorts);
    const char* names[kPorts] = {"guest", "uplink", "gateway"};
    for (int i = 0; i < kPorts; ++i) {
      ports[i].port_id = ids_[i];
      ports[i].name = names[i];
      ports[i].network = 1;
    }
    ports[kUplink].uplink = true;
    ports[kGateway].gateway = true;
    ports[kGateway].gateway_mac = kGatewayMac;
    auto snap = build_snapshot(1, 1, nets, ports);
    if (!snap.is_ok()) return fail(snap.status().to_string());
    publisher_->publish(std::move(snap).value());
    return true;
  }

  // Creates every session (flows in order), then sends `warmup` frames in
  // the measured order (replies for out2in).
  bool warm_up(uint64_t warmup) {
    uint32_t f = 0;
    if (!run(opts_.sessions, false, false, [&] { return f++; })) return false;
    if (nat_->table().size() != opts_.sessions) {
      std::fprintf(stderr, "vnet-l2-bench: %u NAT sessions after the first pass, expected %u\n",
                   nat_->table().size(), opts_.sessions);
      print_counters();
      return false;
    }
    if (!opts_.out2in) return run(warmup, false, false, [&] { return next_flow(); });
    ext_ports_.resize(opts_.sessions);
    for (uint32_t g = 0; g < opts_.sessions; ++g) {
      const nat::Session* s = nat_->table().find_in(in_key(g));
      if (s == nullptr) return fail("session lookup");
      ext_ports_[g] = s->ext_port;
    }
    return run(warmup, true, false, [&] { return next_flow(); });
  }

  bool measure(uint64_t packets) {
    const nat::NatCounters& nc = nat_->counters();
    before_ = totals(nc);
    const bool ok = run(packets, opts_.out2in, true, [&] { return next_flow(); });
    after_ = totals(nc);
    const Totals d = after_ - before_;
    const uint64_t routed = opts_.out2in ? d.routed_in : d.routed_out;
    const uint64_t translated = opts_.out2in ? d.out2in : d.in2out;
    if (!ok || translated != measured_ || routed != measured_ || d.created != 0 || d.nat_reasons != 0 ||
        d.route_reasons != 0 || d.port_drops != 0 || nat_->table().size() != opts_.sessions) {
      std::fprintf(stderr,
                   "vnet-l2-bench: of %llu measured frames %llu were translated and %llu routed; %llu sessions "
                   "created, %llu NAT refusals/drops, %llu L3 drops, %llu port drops, %u sessions in the table\n",
                   static_cast<unsigned long long>(measured_), static_cast<unsigned long long>(translated),
                   static_cast<unsigned long long>(routed), static_cast<unsigned long long>(d.created),
                   static_cast<unsigned long long>(d.nat_reasons), static_cast<unsigned long long>(d.route_reasons),
                   static_cast<unsigned long long>(d.port_drops), nat_->table().size());
      print_counters();
      return false;
    }
    return true;
  }

  void report() const {
    const CyclesPerFrame c = cycles_per_frame();
    const Totals d = after_ - before_;
    std::printf("{\"mode\":\"nat\",\"dir\":\"%s\",\"sessions\":%u,\"nat_capacity\":%u,\"size_bytes\":%u,"
                "\"packets\":%llu,\"batches\":%zu,\"tsc_hz\":%llu,\"cycles_per_packet_median\":%.1f,"
                "\"cycles_per_packet_p10\":%.1f,\"translated\":%llu,\"sessions_created\":%llu,"
                "\"table_sessions\":%u}\n",
                opts_.out2in ? "out2in" : "in2out", opts_.sessions, capacity_, opts_.size_bytes,
                static_cast<unsigned long long>(measured_), tsc_per_pkt_.size(),
                static_cast<unsigned long long>(rte_get_tsc_hz()), c.median, c.p10,
                static_cast<unsigned long long>(opts_.out2in ? d.out2in : d.in2out),
                static_cast<unsigned long long>(d.created), nat_->table().size());
  }

 private:
  static constexpr int kPorts = 3;
  static_assert(kPorts <= kMaxRigPorts);
  static constexpr int kGuest = 0;
  static constexpr int kUplink = 1;
  static constexpr int kGateway = 2;

  struct Totals {
    uint64_t in2out = 0, out2in = 0, created = 0, nat_reasons = 0, route_reasons = 0, routed_out = 0,
             routed_in = 0, port_drops = 0;
    Totals operator-(const Totals& o) const {
      return {in2out - o.in2out,         out2in - o.out2in,       created - o.created,
              nat_reasons - o.nat_reasons, route_reasons - o.route_reasons, routed_out - o.routed_out,
              routed_in - o.routed_in,   port_drops - o.port_drops};
    }
  };

  Totals totals(const nat::NatCounters& nc) const {
    Totals t;
    t.in2out = nc.read(nat::NatEvent::kIn2Out);
    t.out2in = nc.read(nat::NatEvent::kOut2In);
    t.created = nc.read(nat::NatEvent::kSessionsCreated);
    for (size_t r = 1; r < nat::kNatReasonCount; ++r) {
      t.nat_reasons += nc.reasons[r].read();
      t.route_reasons += l3_counters_->route.reasons[r].read();
    }
    t.routed_out = l3_counters_->read(L3Event::kRoutedOut);
    t.routed_in = l3_counters_->read(L3Event::kRoutedIn);
    for (uint16_t id : ids_)
      for (size_t r = 0; r < kDropReasonCount; ++r)
        t.port_drops += worker_->counters().ports[id].drops.by_reason[r].read();
    return t;
  }

  void print_counters() const {
    const nat::NatCounters& nc = nat_->counters();
    std::fprintf(stderr, "NAT events:");
    for (size_t e = 0; e < nat::kNatEventCount; ++e)
      std::fprintf(stderr, " %s=%llu", std::string(nat::kNatEventNames[e]).c_str(),
                   static_cast<unsigned long long>(nc.events[e].read()));
    std::fprintf(stderr, "\nNAT reasons:");
    for (size_t r = 1; r < nat::kNatReasonCount; ++r)
      if (const uint64_t n = nc.reasons[r].read() + l3_counters_->route.reasons[r].read(); n != 0)
        std::fprintf(stderr, " %s=%llu", std::string(nat::kNatReasonNames[r]).c_str(),
                     static_cast<unsigned long long>(n));
    std::fprintf(stderr, "\nL3 events:");
    for (size_t e = 0; e < kL3EventCount; ++e)
      if (const uint64_t n = l3_counters_->events[e].read(); n != 0)
        std::fprintf(stderr, " %s=%llu", std::string(kL3EventNames[e]).c_str(), static_cast<unsigned long long>(n));
    std::fprintf(stderr, "\nport drops:");
    for (uint16_t id : ids_)
      for (size_t r = 0; r < kDropReasonCount; ++r)
        if (const uint64_t d = worker_->counters().ports[id].drops.by_reason[r].read(); d != 0)
          std::fprintf(stderr, " port %u %s=%llu", id, std::string(reason_name(static_cast<DropReason>(r))).c_str(),
                       static_cast<unsigned long long>(d));
    std::fprintf(stderr, "\n");
  }

  uint32_t next_flow() noexcept {
    const uint32_t f = pos_;
    pos_ = static_cast<uint32_t>((uint64_t{pos_} + stride_) % opts_.sessions);
    return f;
  }
  uint32_t guest_ip(uint32_t f) const noexcept { return kFirstGuestIp + f / ports_per_address_; }
  uint16_t src_port(uint32_t f) const noexcept { return static_cast<uint16_t>(kFirstSrcPort + f % ports_per_address_); }
  uint16_t dst_port(uint32_t f) const noexcept { return static_cast<uint16_t>(kFirstDstPort + f / ports_per_address_); }
  nat::FlowKey in_key(uint32_t f) const noexcept {
    return nat::FlowKey{guest_ip(f), kRemoteIp, src_port(f), dst_port(f), nat::kProtoUdp};
  }

  // Flow f's frame: guest -> remote (to the gateway MAC), or its reply from
  // the next hop to the outside address and port.
  rte_mbuf* build(uint32_t f, bool reply) {
    const uint16_t len = static_cast<uint16_t>(opts_.size_bytes - 4);
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) return nullptr;
    auto* d = static_cast<std::byte*>(static_cast<void*>(rte_pktmbuf_append(m, len)));
    if (d == nullptr) {
      rte_pktmbuf_free(m);
      return nullptr;
    }
    std::memset(d, 0, len);
    const net::MacAddr& dst_mac = reply ? uplink_mac_ : kGatewayMac;
    const net::MacAddr& src_mac = reply ? kRouterMac : kGuestMac;
    std::memcpy(d, dst_mac.b.data(), 6);
    std::memcpy(d + 6, src_mac.b.data(), 6);
    d[12] = std::byte{0x08};
    const std::span<std::byte> ip(d + 14, len - 14u);
    const uint16_t ip_len = static_cast<uint16_t>(len - 14);
    nat::store8(ip, nat::ip4::kVersionIhl, 0x45);
    nat::store16(ip, nat::ip4::kTotalLength, ip_len);
    nat::store8(ip, nat::ip4::kTtl, 64);
    nat::store8(ip, nat::ip4::kProto, nat::kProtoUdp);
    nat::store32(ip, nat::ip4::kSrc, reply ? kRemoteIp : guest_ip(f));
    nat::store32(ip, nat::ip4::kDst, reply ? kOutsideIp : kRemoteIp);
    nat::store16(ip, nat::ip4::kChecksum, nat::ipv4_header_checksum(ip.first(20)));
    const std::span<std::byte> udp = ip.subspan(20);
    nat::store16(udp, nat::l4::kSrcPort, reply ? dst_port(f) : src_port(f));
    nat::store16(udp, nat::l4::kDstPort, reply ? ext_ports_[f] : dst_port(f));
    nat::store16(udp, 4, static_cast<uint16_t>(ip_len - 20));
    uint16_t sum = nat::l4_checksum(nat::load32(ip, nat::ip4::kSrc), nat::load32(ip, nat::ip4::kDst),
                                    nat::kProtoUdp, udp, nat::l4::kUdpChecksum);
    nat::store16(udp, nat::l4::kUdpChecksum, sum == 0 ? 0xffff : sum);
    return m;
  }

  // Sends `packets` frames of the flows `flow()` yields, in batches; every
  // frame must come out translated on the uplink (in2out) or the guest port.
  template <class NextFlow>
  bool run(uint64_t packets, bool reply, bool measured, NextFlow&& flow) {
    const int in = reply ? kUplink : kGuest;
    for (uint64_t done = 0; done < packets;) {
      const unsigned n = static_cast<unsigned>(std::min<uint64_t>(kBatch, packets - done));
      for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* m = build(flow(), reply);
        if (m == nullptr || rte_ring_enqueue(rx_[in], m) != 0) return fail("traffic frames");
      }
      const uint64_t t0 = rte_rdtsc_precise();
      const uint64_t got = measured ? measure_window(*worker_, n) : switch_window(*worker_, n);
      const uint64_t t1 = rte_rdtsc_precise();
      clock_.advance_ns(kVirtualNsPerFrame * n);
      if (got != n) return fail("worker stopped receiving");
      const unsigned out = settle(reply);
      if (out != n) {
        std::fprintf(stderr, "vnet-l2-bench: %u of %u frames came out translated on the %s port\n", out, n,
                     reply ? "guest" : "uplink");
        print_counters();
        return false;
      }
      if (measured) note_batch(t0, t1, n);
      done += n;
    }
    return true;
  }

  // Runs the slow path, frees every transmitted frame; returns the frames
  // that left the expected port translated.
  unsigned settle(bool reply) {
    while (slow_->poll_once() != 0) {
    }
    const int expect = reply ? kGuest : kUplink;
    unsigned out = 0;
    void* objs[64];
    for (int i = 0; i < kPorts; ++i) {
      unsigned k = 0;
      while ((k = rte_ring_dequeue_burst(tx_[i], objs, 64, nullptr)) != 0) {
        for (unsigned j = 0; j < k; ++j) {
          auto* m = static_cast<rte_mbuf*>(objs[j]);
          if (i == expect && translated(m, reply)) ++out;
          rte_pktmbuf_free(m);
        }
      }
    }
    return out;
  }

  bool translated(rte_mbuf* m, bool reply) const {
    if (m->data_len < 14 + 28) return false;
    const auto* d = rte_pktmbuf_mtod(m, const std::byte*);
    const std::span<const std::byte> ip(d + 14, m->data_len - 14u);
    const net::MacAddr& to = reply ? kGuestMac : kRouterMac;
    if (std::memcmp(d, to.b.data(), 6) != 0) return false;
    if (reply) {
      const uint32_t dst = nat::load32(ip, nat::ip4::kDst);
      return dst >= kFirstGuestIp && dst < kFirstGuestIp + addresses_;
    }
    return nat::load32(ip, nat::ip4::kSrc) == kOutsideIp;
  }

  bool fail(const std::string& what) {
    std::fprintf(stderr, "vnet-l2-bench: %s failed\n", what.c_str());
    return false;
  }

  Options opts_;
  uint32_t addresses_ = 1;          // guest source addresses
  uint32_t ports_per_address_ = 1;  // source ports per address
  uint32_t stride_ = 1;             // measured order: flow += stride (mod sessions)
  uint32_t capacity_ = 0;           // NAT table capacity
  uint32_t pos_ = 0;
  VirtualClock clock_;
  net::MacAddr uplink_mac_;
  std::array<rte_ring*, 1> handoff_{};
  std::unique_ptr<TypedRing<ResolveRequest>> resolve_;
  std::unique_ptr<NeighborTable> neighbors_;
  std::unique_ptr<nat::NatWorker> nat_;
  std::unique_ptr<L3Counters> l3_counters_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<SlowPath> slow_;
  std::vector<uint16_t> ext_ports_;  // out2in: each flow's outside port
  Totals before_, after_;
};

}  // namespace

int main(int argc, char** argv) {
  // EAL arguments, if any, come before "--"; defaults suit valgrind and a busy host.
  int sep = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      sep = i;
      break;
    }
  }
  const std::string prefix = "--file-prefix=vnet-l2-bench-" + std::to_string(getpid());
  std::vector<std::string> eal = {argv[0]};
  if (sep > 0) {
    for (int i = 1; i < sep; ++i) eal.emplace_back(argv[i]);
  } else {
    eal.insert(eal.end(), {"-l", "0", "--no-huge", "-m", "128", "--no-pci", "--no-shconf", prefix,
                           "--log-level=lib.eal:error"});
  }
  std::vector<char*> eal_argv;
  for (auto& s : eal) eal_argv.push_back(s.data());
  eal_argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(eal.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "vnet-l2-bench: EAL init failed\n");
    return 2;
  }
  Options o;
  const int first = sep > 0 ? sep : 0;
  if (!parse_options(argc - first, argv + first, o)) {
    vnet::dp::eal_cleanup();
    return 1;
  }
  int status = 0;
  if (o.nat) {
    NatBench b(o);
    if (o.warmup == 0) o.warmup = std::max<uint64_t>(20000, o.sessions);
    if (!b.setup() || !b.warm_up(o.warmup) || !b.measure(o.packets)) {
      status = 3;
    } else {
      b.report();
    }
  } else {
    Bench b(o);
    // Steady state: every conversation seen twice (the flow cache holds it).
    if (o.warmup == 0) o.warmup = std::max<uint64_t>(20000, 2ull * o.macs);
    if (!b.setup() || !b.learn_all() || !b.run(o.warmup, false) || !b.run(o.packets, true)) {
      status = 3;
    } else {
      b.report();
    }
  }
  vnet::dp::eal_cleanup();
  return status;
}
