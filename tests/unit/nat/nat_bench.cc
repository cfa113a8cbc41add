// Micro-benchmarks of nat/ (google-benchmark; built, never run as a test):
// in2out/out2in translation of 64-byte UDP with N established sessions, and
// the new-session rate. Run: build/tests/unit/nat/nat_bench
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "nat/nat.h"
#include "tests/unit/nat/packet.h"

namespace vnet::nat {
namespace {

using test::Bytes;
using test::ip;

constexpr uint32_t kExt = ip(198, 51, 100, 2);

NatConfig config() {
  NatConfig c;
  c.inside.add(ip(10, 0, 0, 0), 8);
  c.addr_first = c.addr_last = kExt;
  return c;
}

// Flow i: guest 10.x.y.z (from i), port 1024 + i % 60000, peer 203.0.113.(i % 200).
Bytes flow_packet(uint32_t i) {
  return test::udp(ip(10, 0, 0, 1) + i / 64, static_cast<uint16_t>(1024 + i % 64),
                   ip(203, 0, 113, static_cast<uint8_t>(1 + i % 200)), 9, 64 - 14 - 28 - 4);
}

void BM_In2OutEstablished(benchmark::State& state) {
  const auto sessions = static_cast<uint32_t>(state.range(0));
  NatWorker w(config(), 0, sessions, 1);
  std::vector<Bytes> pkts;
  for (uint32_t i = 0; i < sessions; ++i) {
    Bytes p = flow_packet(i);
    w.in2out(p, 0);
  }
  constexpr uint32_t kRing = 4096;
  for (uint32_t i = 0; i < kRing; ++i) pkts.push_back(flow_packet(static_cast<uint32_t>((uint64_t{i} * 2654435761u) % sessions)));
  std::vector<Bytes> work = pkts;
  uint32_t k = 0;
  for (auto _ : state) {
    Bytes& p = work[k];
    std::copy(pkts[k].begin(), pkts[k].end(), p.begin());
    benchmark::DoNotOptimize(w.in2out(p, 1));
    k = (k + 1) % kRing;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_In2OutEstablished)->Arg(1000)->Arg(100000)->Arg(1000000);

void BM_Out2InEstablished(benchmark::State& state) {
  const auto sessions = static_cast<uint32_t>(state.range(0));
  NatWorker w(config(), 0, sessions, 2);
  std::vector<Bytes> replies;
  constexpr uint32_t kRing = 4096;
  std::vector<Bytes> all;
  for (uint32_t i = 0; i < sessions; ++i) {
    Bytes p = flow_packet(i);
    w.in2out(p, 0);
    if (i % (sessions / kRing + 1) == 0 && replies.size() < kRing)
      replies.push_back(test::udp(test::get32(p, 16), 9, kExt, test::get16(p, 20), 18));
  }
  std::vector<Bytes> work = replies;
  size_t k = 0;
  for (auto _ : state) {
    std::copy(replies[k].begin(), replies[k].end(), work[k].begin());
    benchmark::DoNotOptimize(w.out2in(work[k], 1));
    k = (k + 1) % replies.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Out2InEstablished)->Arg(1000)->Arg(100000)->Arg(1000000);

void BM_NewSessions(benchmark::State& state) {
  constexpr uint32_t kCap = 1 << 20;
  auto w = std::make_unique<NatWorker>(config(), 0, kCap, 3);
  Bytes p = flow_packet(0);
  uint32_t i = 0;
  uint64_t now = 0;
  for (auto _ : state) {
    if (w->table().size() + 1 >= kCap) {
      state.PauseTiming();
      w->table().clear();
      state.ResumeTiming();
    }
    test::put32(p, 12, ip(10, 0, 0, 1) + i / 64);
    test::put16(p, 20, static_cast<uint16_t>(1024 + i % 64));
    test::put32(p, 16, ip(100, 64, 0, 0) + i % 4096);  // many peers: ports never run out
    test::fill_ip_checksum(p);
    benchmark::DoNotOptimize(w->in2out(p, now));
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NewSessions);

}  // namespace
}  // namespace vnet::nat

BENCHMARK_MAIN();
