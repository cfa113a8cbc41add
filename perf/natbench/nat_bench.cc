// vnet-nat-bench — the NAT library (nat::NatWorker and its session table) on
// one core, in-process, without DPDK: new sessions per second, translation
// rate of established flows, and memory per session (issue #5 targets:
// >= 1M new sessions/s per core, 1M sessions in <= 256 MB).
//
// Theory of operation
//   One NatWorker is built as the dataplane builds it for a masquerading
//   network (one worker, inside 10.0.0.0/8, outside 198.51.100.2, ports
//   1024-65535) with a session table of `capacity` = the largest flow count.
//   Flows are distinct UDP 4-tuples: inside address 10.x.y.z (65 536 hosts),
//   source port, and a remote address out of 4 096 (port 53), so one
//   masquerade address carries 1M sessions (the mapping is unique per peer,
//   endpoint-dependent, as in Linux conntrack). Packets are IPv4 + UDP with
//   8 bytes of payload and complete checksums (nat/ updates them
//   incrementally), built before the clock starts.
//   Each packet is copied from its pristine template into a working buffer
//   (as a NIC would write it into an mbuf) and translated in place; the copy
//   is part of the timed loop and of the figures. The NAT's clock (now_ns)
//   is read once per burst of 32, as a PMD does; it is virtual (1 us per
//   burst) so that sessions never expire during the benchmark.
//   new      every packet of a fresh table is a new flow: in2out creates the
//            session (port preserved when free, else searched). Timed over
//            all flows of the largest size; also reported for the first
//            1k / 100k of them.
//   est      established flows: for each size N, a table holding the first N
//            flows (capacity N); packets come from a stream of up to 1M
//            templates of flows picked at random (xorshift; random order
//            defeats the caches as many flows do in real traffic), read in
//            order as from a NIC ring; in2out and, with reply templates
//            built from the translated packets, out2in.
//   memory   SessionTable::memory_bytes() (the table's own preallocation) and
//            the process's RSS growth (VmRSS) from before the NatWorker is
//            built to after the largest table is full; packet templates are
//            built earlier and are not part of it.
//   Each rate is given per second of wall time and per second of the
//   thread's CPU time (CLOCK_THREAD_CPUTIME_ID): on a shared machine the
//   second is what one dedicated core would do. --core pins the thread.
//
// Thread-safety
//   Single-threaded program.
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nat/checksum.h"
#include "nat/nat.h"
#include "perf/pin_cpu.h"

using namespace vnet::nat;

namespace {

constexpr size_t kBurst = 32;
constexpr size_t kPktSize = 20 + 8 + 8;  // IPv4 + UDP + payload
constexpr uint32_t kInsideNet = 0x0a000000;   // 10.0.0.0/8
constexpr uint32_t kOutside = 0xc6336402;     // 198.51.100.2
constexpr uint32_t kRemoteNet = 0xcb007100;   // 203.0.113.0 .. (4096 addresses from here)
constexpr uint32_t kRemotes = 4096;
constexpr uint32_t kHosts = 65536;

struct Pkt {
  std::byte b[kPktSize];
};

void put16(std::byte* p, uint16_t v) {
  p[0] = std::byte(v >> 8);
  p[1] = std::byte(v & 0xff);
}
void put32(std::byte* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}
uint16_t get16(const std::byte* p) { return static_cast<uint16_t>(uint16_t(p[0]) << 8 | uint16_t(p[1])); }
uint32_t get32(const std::byte* p) { return uint32_t{get16(p)} << 16 | get16(p + 2); }

Pkt make_udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint32_t seq) {
  Pkt k{};
  std::byte* ip = k.b;
  ip[0] = std::byte{0x45};
  put16(ip + 2, kPktSize);
  put16(ip + 4, static_cast<uint16_t>(seq));
  ip[8] = std::byte{64};
  ip[9] = std::byte{17};
  put32(ip + 12, src);
  put32(ip + 16, dst);
  put16(ip + 10, ipv4_header_checksum(std::span<const std::byte>(ip, 20)));
  std::byte* udp = ip + 20;
  put16(udp, sport);
  put16(udp + 2, dport);
  put16(udp + 4, 16);
  put32(udp + 8, seq);
  put16(udp + 6, l4_checksum(src, dst, 17, std::span<const std::byte>(udp, 16), 6));
  return k;
}

// Flow i: inside host 10.0.x.y + (i mod 65536), source port 10000 + i / 65536
// (<= 10015 for 1M), remote 203.0.113.0 + (i * 2654435761 mod 4096), port 53.
Pkt flow_packet(uint32_t i) {
  const uint32_t host = kInsideNet + 1 + (i % kHosts);
  const auto sport = static_cast<uint16_t>(10000 + i / kHosts);
  const uint32_t remote = kRemoteNet + ((i * 2654435761u) >> 20) % kRemotes;
  return make_udp(host, sport, remote, 53, i);
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
// The NAT's clock: virtual, advanced 1 us per burst of 32 (32 Mpps), so that
// a slow or shared machine does not let UDP sessions (30 s unreplied) expire
// between the runs; it is read once per burst as a PMD reads its TSC.
uint64_t g_now_ns = 1'000'000'000ull;
uint64_t now_ns() { return g_now_ns += 1000; }

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t c = line.find(':');
      return c == std::string::npos ? line : line.substr(c + 2);
    }
  }
  return "unknown";
}

struct Timed {
  double wall = 0, cpu = 0;
  uint64_t pkts = 0, ok = 0;
  double rate_wall() const { return wall > 0 ? static_cast<double>(pkts) / wall : 0; }
  double rate_cpu() const { return cpu > 0 ? static_cast<double>(pkts) / cpu : 0; }
};

// Creates sessions for flows [from, to): every packet a new flow. Stores the
// reply template of each flow (remote -> outside address:port) in replies.
Timed create(NatWorker& nat, const std::vector<Pkt>& flows, std::vector<Pkt>& replies, uint32_t from, uint32_t to) {
  Timed t;
  std::array<Pkt, kBurst> work;
  const double w0 = now_s(), c0 = cpu_s();
  for (uint32_t base = from; base < to; base += kBurst) {
    const uint32_t n = std::min<uint32_t>(kBurst, to - base);
    const uint64_t now = now_ns();
    for (uint32_t j = 0; j < n; ++j) {
      work[j] = flows[base + j];
      const Result r = nat.in2out(std::span<std::byte>(work[j].b, kPktSize), now);
      t.ok += r.verdict == Verdict::kForward;
    }
    for (uint32_t j = 0; j < n; ++j) {
      // Not timed in a real PMD either way: keep the translated header for the reply.
      std::memcpy(replies[base + j].b, work[j].b, kPktSize);
    }
  }
  t.wall = now_s() - w0;
  t.cpu = cpu_s() - c0;
  t.pkts = to - from;
  // Reply templates: swap addresses and ports of the translated packets
  // (done after the clock stopped).
  for (uint32_t i = from; i < to; ++i) {
    const std::byte* p = replies[i].b;
    replies[i] = make_udp(get32(p + 16), get16(p + 22), get32(p + 12), get16(p + 20), i);
  }
  return t;
}

// A stream of `length` packet templates of random flows among the first
// `flows_n` (xorshift), laid out in order as a NIC ring would hold them.
std::vector<Pkt> random_stream(const std::vector<Pkt>& tmpl, uint32_t flows_n, size_t length) {
  std::vector<Pkt> out(length);
  uint64_t x = 0x9e3779b97f4a7c15ull ^ flows_n;
  for (Pkt& p : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p = tmpl[static_cast<uint32_t>((x >> 32) * flows_n >> 32)];
  }
  return out;
}

// `count` packets taken round-robin from `stream`, in2out or out2in; with
// `prefetch`, NatWorker::prefetch() stages 1 and 2 over the burst first.
Timed established(NatWorker& nat, const std::vector<Pkt>& stream, uint64_t count, bool out2in, bool prefetch) {
  Timed t;
  std::array<Pkt, kBurst> work;
  const size_t len = stream.size() / kBurst * kBurst;
  size_t at = 0;
  const double w0 = now_s(), c0 = cpu_s();
  for (uint64_t done = 0; done < count; done += kBurst) {
    const uint64_t now = now_ns();
    std::memcpy(work.data(), &stream[at], sizeof work);
    at = at + kBurst == len ? 0 : at + kBurst;
    if (prefetch) {
      const Dir d = out2in ? Dir::kOut2In : Dir::kIn2Out;
      for (size_t j = 0; j < kBurst; ++j) nat.prefetch(std::span<const std::byte>(work[j].b, kPktSize), d, 1);
      for (size_t j = 0; j < kBurst; ++j) nat.prefetch(std::span<const std::byte>(work[j].b, kPktSize), d, 2);
    }
    for (size_t j = 0; j < kBurst; ++j) {
      const std::span<std::byte> s(work[j].b, kPktSize);
      const Result r = out2in ? nat.out2in(s, now) : nat.in2out(s, now);
      t.ok += r.verdict == Verdict::kForward;
    }
  }
  t.wall = now_s() - w0;
  t.cpu = cpu_s() - c0;
  t.pkts = (count + kBurst - 1) / kBurst * kBurst;
  return t;
}

int usage() {
  std::fprintf(stderr,
               "usage: vnet-nat-bench [--sizes 1000,100000,1000000] [--packets N] [--core C]\n"
               "  --sizes LIST  established-flow table sizes; the largest is also the new-session run\n"
               "  --packets N   packets per established run and direction (default 10000000)\n"
               "  --core C      pin this thread to CPU C first\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<uint32_t> sizes{1000, 100000, 1000000};
  uint64_t packets = 10'000'000;
  int core = -1;
  std::string command = "vnet-nat-bench";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string v = argv[++i];
    if (a == "--sizes") {
      sizes.clear();
      std::stringstream ss(v);
      for (std::string item; std::getline(ss, item, ',');) {
        const long n = std::atol(item.c_str());
        if (n < 1 || n > 16'000'000) return usage();
        sizes.push_back(static_cast<uint32_t>(n));
      }
      if (sizes.empty()) return usage();
    } else if (a == "--packets") {
      packets = std::strtoull(v.c_str(), nullptr, 10);
      if (packets == 0) return usage();
    } else if (a == "--core") {
      core = std::atoi(v.c_str());
    } else {
      return usage();
    }
  }
  std::sort(sizes.begin(), sizes.end());
  if (core >= 0 && !vnet::perf::pin_to_cpu(core)) return 1;
  const uint32_t max_flows = sizes.back();
  std::printf("command: %s\n", command.c_str());
  std::printf("machine: nproc %u, %s\n", std::thread::hardware_concurrency(), cpu_model().c_str());

  std::vector<Pkt> flows(max_flows);
  for (uint32_t i = 0; i < max_flows; ++i) flows[i] = flow_packet(i);
  std::vector<Pkt> replies(max_flows);
  for (Pkt& r : replies) std::memset(r.b, 0, kPktSize);  // touch the pages before measuring RSS

  NatConfig cfg;
  (void)cfg.inside.add(kInsideNet, 8);
  cfg.addr_first = cfg.addr_last = kOutside;
  cfg.workers = 1;
  if (std::string err = validate(cfg); !err.empty()) {
    std::fprintf(stderr, "config: %s\n", err.c_str());
    return 1;
  }

  const long rss0 = rss_kb();
  NatWorker nat(cfg, 0, max_flows, 0x5eed);
  const long rss_built = rss_kb();

  // New sessions, reported for the first 1k / 100k and for all.
  std::vector<uint32_t> marks;
  for (uint32_t m : {1000u, 100000u})
    if (m < max_flows) marks.push_back(m);
  marks.push_back(max_flows);
  Timed all;
  uint32_t from = 0;
  std::printf("new sessions (each packet a new UDP flow, empty table of capacity %u):\n", max_flows);
  for (uint32_t m : marks) {
    const Timed t = create(nat, flows, replies, from, m);
    all.wall += t.wall;
    all.cpu += t.cpu;
    all.pkts += t.pkts;
    all.ok += t.ok;
    std::printf("  flows %7u..%-7u %.3f s (%.3f s CPU): %.2f M sessions/s wall, %.2f M per CPU-second\n", from + 1, m,
                t.wall, t.cpu, t.rate_wall() / 1e6, t.rate_cpu() / 1e6);
    from = m;
  }
  const long rss_full = rss_kb();
  std::printf("new: %.2f M sessions/s wall, %.2f M per CPU-second over %u flows (%llu created; target >= 1 M/s)\n",
              all.rate_wall() / 1e6, all.rate_cpu() / 1e6, max_flows, static_cast<unsigned long long>(all.ok));
  if (all.ok != max_flows || nat.table().size() != max_flows) {
    std::printf("error: %u sessions in the table, %llu created\n", nat.table().size(),
                static_cast<unsigned long long>(all.ok));
    return 1;
  }
  std::printf("     (%llu of %u kept their source port)\n",
              static_cast<unsigned long long>(nat.counters().read(NatEvent::kPortPreserved)), max_flows);

  const double table_mb = static_cast<double>(nat.table().memory_bytes()) / 1e6;
  std::printf("memory: table %.1f MB for capacity %u = %.1f bytes/session; RSS +%.1f MB after construction, "
              "+%.1f MB with %u sessions (%.1f bytes/session; target <= 256 MB for 1M)\n",
              table_mb, max_flows, static_cast<double>(nat.table().memory_bytes()) / max_flows,
              static_cast<double>(rss_built - rss0) / 1024, static_cast<double>(rss_full - rss0) / 1024, max_flows,
              static_cast<double>(rss_full - rss0) * 1024 / max_flows);

  // Established flows: a table holding exactly N sessions (the largest is the
  // one filled above), packets of random flows among them.
  std::printf("established (random flow order, %llu packets per run and direction):\n",
              static_cast<unsigned long long>(packets));
  for (uint32_t n : sizes) {
    std::unique_ptr<NatWorker> own;
    NatWorker* w = &nat;
    if (n != max_flows) {
      own = std::make_unique<NatWorker>(cfg, 0, n, 0x5eed);
      w = own.get();
      (void)create(*w, flows, replies, 0, n);
    }
    const size_t stream_len = std::min<size_t>(packets, 1u << 20);
    const std::vector<Pkt> in_stream = random_stream(flows, n, stream_len);
    const std::vector<Pkt> out_stream = random_stream(replies, n, stream_len);
    for (bool pf : {false, true}) {
      const Timed in = established(*w, in_stream, packets, false, pf);
      const Timed out = established(*w, out_stream, packets, true, pf);
      std::printf("  %7u sessions%s: in2out %.2f Mpps wall, %.2f Mpps per CPU-second (%.1f ns/pkt); "
                  "out2in %.2f Mpps wall, %.2f Mpps per CPU-second (%.1f ns/pkt)\n",
                  n, pf ? ", prefetch" : "", in.rate_wall() / 1e6, in.rate_cpu() / 1e6,
                  in.cpu * 1e9 / static_cast<double>(in.pkts), out.rate_wall() / 1e6, out.rate_cpu() / 1e6,
                  out.cpu * 1e9 / static_cast<double>(out.pkts));
      if (in.ok != in.pkts || out.ok != out.pkts) {
        std::printf("error: %llu/%llu in2out and %llu/%llu out2in forwarded\n",
                    static_cast<unsigned long long>(in.ok), static_cast<unsigned long long>(in.pkts),
                    static_cast<unsigned long long>(out.ok), static_cast<unsigned long long>(out.pkts));
        return 1;
      }
    }
  }
  return 0;
}
