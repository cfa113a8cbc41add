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
// Usage: vnet-l2-bench [--macs N] [--packets N] [--size BYTES] [--warmup N] [--no-flow-cache]
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
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include "dataplane/clock.h"
#include "dataplane/eal.h"
#include "dataplane/fdb.h"
#include "dataplane/ports/ethdev_port.h"
#include "dataplane/rings.h"
#include "dataplane/slow_path.h"
#include "dataplane/snapshot.h"
#include "dataplane/snapshot_publisher.h"
#include "dataplane/worker.h"

namespace {

using namespace vnet::dp;

constexpr unsigned kBatch = 992;  // 31 bursts of 32; fits the 1024-slot rings
constexpr unsigned kRingSlots = 1024;

struct Options {
  uint32_t macs = 10;         // stations per port (the flow count)
  uint64_t packets = 200000;  // measured packets
  uint64_t warmup = 0;        // packets switched before measuring; 0 = max(20000, 2 * macs)
  uint32_t size_bytes = 64;   // frame size including FCS
  bool flow_cache = true;     // the worker's microflow cache (dataplane/flow_cache.h)
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
    } else {
      std::fprintf(stderr,
                   "usage: vnet-l2-bench [EAL options --] [--macs N] [--packets N] [--warmup N] [--size 64..1518] "
                   "[--no-flow-cache]\n");
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

class Bench {
 public:
  explicit Bench(const Options& o) : opts_(o) {}

  bool setup() {
    pool_ = rte_pktmbuf_pool_create("l2b_pool", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (pool_ == nullptr) return fail("mbuf pool");
    for (int i = 0; i < 2; ++i) {
      const std::string n = "l2b" + std::to_string(i);
      rx_[i] = rte_ring_create((n + "_rx").c_str(), kRingSlots, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      tx_[i] = rte_ring_create((n + "_tx").c_str(), kRingSlots, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (rx_[i] == nullptr || tx_[i] == nullptr) return fail("rings");
      const int id = rte_eth_from_rings(n.c_str(), &rx_[i], 1, &tx_[i], 1, SOCKET_ID_ANY);
      if (id < 0) return fail("rte_eth_from_rings");
      ids_[i] = static_cast<uint16_t>(id);
      PortSetup ps;
      ps.pool = pool_;
      if (Status st = configure_and_start(ids_[i], ps); !st.is_ok()) return fail(st.to_string());
    }
    auto pub = SnapshotPublisher::create(2);
    if (!pub.is_ok()) return fail(pub.status().to_string());
    publisher_ = std::move(pub).value();
    if (!publisher_->register_reader(0).is_ok() || !publisher_->register_reader(1).is_ok())
      return fail("qsbr readers");
    publisher_->online(0);
    publisher_->online(1);
    FdbOptions fo;
    fo.name = "l2b_fdb";
    fo.capacity = std::max<uint32_t>(1024, 2 * opts_.macs + 1024);
    fo.qsbr = publisher_->qsbr();
    auto fdb = Fdb::create(fo);
    if (!fdb.is_ok()) return fail(fdb.status().to_string());
    fdb_ = std::move(fdb).value();
    auto learn = TypedRing<LearnEvent>::create("l2b_learn", 4096);
    auto cmds = TypedRing<WorkerCommand>::create("l2b_cmd", 64);
    if (!learn.is_ok() || !cmds.is_ok()) return fail("typed rings");
    learn_ = std::move(learn).value();
    cmds_ = std::move(cmds).value();

    WorkerDeps wd;
    wd.publisher = publisher_.get();
    wd.fdb = fdb_.get();
    wd.learn_ring = learn_.get();
    wd.commands = cmds_.get();
    wd.pool = pool_;
    wd.clock = &clock_;
    wd.flow_cache = opts_.flow_cache;
    worker_ = std::make_unique<Worker>(wd);
    SlowPathDeps sd;
    sd.publisher = publisher_.get();
    sd.fdb = fdb_.get();
    sd.learn_rings = {learn_.get()};
    sd.clock = &clock_;
    sd.reader_id = 1;
    sd.pool = pool_;
    slow_ = std::make_unique<SlowPath>(sd);

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
      if (measured) {
        tsc_per_pkt_.push_back(static_cast<double>(t1 - t0) / n);
        measured_ += n;
      }
      done += n;
    }
    return true;
  }

  void report() const {
    std::vector<double> v = tsc_per_pkt_;
    std::sort(v.begin(), v.end());
    const double median = v.empty() ? 0 : v[v.size() / 2];
    const double p10 = v.empty() ? 0 : v[v.size() / 10];
    std::printf("{\"macs_per_port\":%u,\"size_bytes\":%u,\"packets\":%llu,\"batches\":%zu,"
                "\"tsc_hz\":%llu,\"cycles_per_packet_median\":%.1f,\"cycles_per_packet_p10\":%.1f,"
                "\"flow_cache_hits\":%llu}\n",
                opts_.macs, opts_.size_bytes, static_cast<unsigned long long>(measured_), v.size(),
                static_cast<unsigned long long>(rte_get_tsc_hz()), median, p10,
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
  rte_mempool* pool_ = nullptr;
  rte_ring* rx_[2] = {};
  rte_ring* tx_[2] = {};
  uint16_t ids_[2] = {};
  std::unique_ptr<SnapshotPublisher> publisher_;
  std::unique_ptr<Fdb> fdb_;
  std::unique_ptr<TypedRing<LearnEvent>> learn_;
  std::unique_ptr<TypedRing<WorkerCommand>> cmds_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<SlowPath> slow_;
  uint32_t flow_ = 0;
  uint64_t measured_ = 0;
  std::vector<double> tsc_per_pkt_;
  uint64_t hits_before_ = 0;  // port 0's flow cache hits before the measured run
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
  {
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
