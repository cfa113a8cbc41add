// vnet-gw-bench — DHCP and DNS throughput of one network's gateway service
// (dhcp::Gateway) on one core, without DPDK.
//
// Theory of operation
//   The gateway is driven exactly as the dataplane's slow-path thread drives
//   it: whole Ethernet frames into Gateway::on_frame(), replies out through a
//   FrameSink, on_tick() about every 10 ms of work. Client frames are built
//   before the clock starts; what is timed is the gateway's own work (parse,
//   server logic, lease database, reply build, statistics publication) plus
//   the few bytes the client side patches per exchange.
//
//   dora  One full DISCOVER / OFFER / REQUEST / ACK per client, each client a
//         distinct MAC (a new lease every time) on a /16 with a 65 000-address
//         range. The REQUEST carries the address of the OFFER (patched into a
//         pre-built frame whose UDP checksum is 0, "none", RFC 768), and the
//         server ID. A DORA counts only when the ACK comes back for the
//         offered address. Rounds of up to 60 000 clients; between rounds the
//         gateway is rebuilt, so every round starts with an empty lease base.
//   dns   Queries over UDP to port 53: A of a <dns><host> name, PTR of its
//         address, and an unknown name in the local domain (NXDOMAIN), in
//         turn. Every query must produce one reply frame.
//
//   Leases are not persisted (no lease file): disk writes are not part of a
//   DORA. Each figure is given per second of wall time and per second of the
//   thread's CPU time (CLOCK_THREAD_CPUTIME_ID): on a shared machine the
//   second is what one dedicated service core would do. Pin the thread with
//   --core (or taskset) on a quiet core for stable wall-time numbers.
//
// Thread-safety
//   Single-threaded program.

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dhcp/dhcp_codec.h"
#include "dhcp/dns_codec.h"
#include "dhcp/frame.h"
#include "dhcp/gateway.h"
#include "perf/pin_cpu.h"

using namespace vnet::dhcp;

namespace {

using Steady = std::chrono::steady_clock;

const Mac kGwMac{{0x52, 0x54, 0x00, 0x00, 0x00, 0x01}};
const Ipv4 kGwIp = Ipv4::from_octets(10, 0, 0, 1);
const Ipv4 kClientIp = Ipv4::from_octets(10, 0, 200, 1);
const Mac kClientMac{{0x52, 0x54, 0x00, 0x10, 0x00, 0x01}};
constexpr size_t kDnsHosts = 100;
constexpr size_t kRoundClients = 60000;
constexpr size_t kTickEveryFrames = 1000;

// Keeps the last frame sent (copied, as a real port would) and counts them.
class LastFrameSink final : public FrameSink {
 public:
  LastFrameSink() { last.reserve(2048); }
  bool send(std::span<const uint8_t> frame, uint16_t) override {
    last.assign(frame.begin(), frame.end());
    ++frames;
    return true;
  }
  std::vector<uint8_t> last;
  uint64_t frames = 0;
};

GatewayConfig bench_config() {
  GatewayConfig c;
  c.network = "bench";
  c.mac = kGwMac;
  c.ipv4 = {Ipv4Interface{kGwIp, 16}};
  ServerConfig s;
  s.server_ip = kGwIp;
  s.prefix_len = 16;
  s.ranges.push_back(DhcpRange{Ipv4::from_octets(10, 0, 0, 10), Ipv4::from_octets(10, 0, 254, 254), std::nullopt});
  s.lease_max = 70000;
  s.domain = "bench.test";
  c.dhcp = s;
  c.dns.domain = "bench.test";
  c.dns.domain_local_only = true;
  c.dns.no_resolv = true;
  for (size_t i = 0; i < kDnsHosts; ++i) {
    DnsHostRecord h;
    h.ip = IpAddress::v4(Ipv4::from_octets(10, 0, 100, static_cast<uint8_t>(i + 1)));
    h.hostnames = {"host" + std::to_string(i)};
    c.dns.hosts.push_back(h);
  }
  return c;
}

Mac client_mac(size_t i) {
  return Mac{{0x02, 0x00, static_cast<uint8_t>(i >> 24), static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
              static_cast<uint8_t>(i)}};
}

std::span<const uint8_t> u8(const std::vector<std::byte>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size()};
}

// A client's broadcast DHCP frame from 0.0.0.0:68, UDP checksum 0 (none).
std::vector<uint8_t> dhcp_frame(const DhcpMessage& m) {
  const UdpEndpoints ep{m.client_mac(), Mac::broadcast(), Ipv4::any(), Ipv4::broadcast(), kDhcpClientPort,
                        kDhcpServerPort};
  std::vector<uint8_t> f = build_udp_frame(ep, u8(build_dhcp(m, kDhcpMaxMessageSize)), 1);
  f[kEthHeaderSize + kIpv4HeaderSize + 6] = 0;
  f[kEthHeaderSize + kIpv4HeaderSize + 7] = 0;
  return f;
}

DhcpMessage client_message(size_t i, MessageType type) {
  DhcpMessage m;
  m.op = kBootRequest;
  m.xid = static_cast<uint32_t>(0x5000000u + i);
  const Mac mac = client_mac(i);
  std::copy(mac.bytes.begin(), mac.bytes.end(), m.chaddr.begin());
  m.set_u8(opt::kMessageType, static_cast<uint8_t>(type));
  const uint8_t params[] = {1, 3, 6, 12, 15, 26, 28, 51, 54, 58, 59};
  m.set_option(opt::kParameterList, std::as_bytes(std::span(params)));
  return m;
}

// Offset of the 4 data bytes of option `code` inside a DHCP frame built by dhcp_frame().
size_t option_data_offset(const std::vector<uint8_t>& f, uint8_t code) {
  size_t at = kEthHeaderSize + kIpv4HeaderSize + kUdpHeaderSize + kDhcpOptionsOffset;
  while (at + 1 < f.size() && f[at] != 255) {
    if (f[at] == 0) {
      ++at;
      continue;
    }
    if (f[at] == code) return at + 2;
    at += 2 + f[at + 1];
  }
  std::fprintf(stderr, "option %u not found\n", code);
  std::exit(2);
}

struct DhcpReplyView {
  uint8_t type = 0;
  Ipv4 yiaddr;
};

// The message type and yiaddr of the DHCP reply in `f` (no full parse: the bench client is minimal).
DhcpReplyView read_reply(const std::vector<uint8_t>& f) {
  DhcpReplyView r;
  ParsedFrame p;
  if (parse_frame(f, p) != FrameError::kOk || p.kind != ParsedFrame::Kind::kUdp) return r;
  const std::span<const uint8_t> d = p.udp_payload;
  if (d.size() < kDhcpOptionsOffset) return r;
  r.yiaddr = Ipv4((uint32_t{d[16]} << 24) | (uint32_t{d[17]} << 16) | (uint32_t{d[18]} << 8) | d[19]);
  for (size_t at = kDhcpOptionsOffset; at + 2 < d.size() && d[at] != 255;) {
    if (d[at] == 0) {
      ++at;
      continue;
    }
    if (d[at] == opt::kMessageType) {
      r.type = d[at + 2];
      break;
    }
    at += 2 + d[at + 1];
  }
  return r;
}

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Result {
  uint64_t done = 0;
  double seconds = 0;      // wall time
  double cpu_seconds = 0;  // this thread's CPU time
  double rate() const { return seconds > 0 ? static_cast<double>(done) / seconds : 0; }
  double cpu_rate() const { return cpu_seconds > 0 ? static_cast<double>(done) / cpu_seconds : 0; }
};

Result bench_dora(size_t clients) {
  Result total;
  for (size_t base = 0; base < clients; base += kRoundClients) {
    const size_t n = std::min(kRoundClients, clients - base);
    std::vector<std::vector<uint8_t>> discovers, requests;
    std::vector<size_t> req_ip_at;
    discovers.reserve(n);
    requests.reserve(n);
    req_ip_at.reserve(n);
    for (size_t i = base; i < base + n; ++i) {
      discovers.push_back(dhcp_frame(client_message(i, MessageType::kDiscover)));
      DhcpMessage r = client_message(i, MessageType::kRequest);
      r.set_ip(opt::kRequestedIp, Ipv4::any());
      r.set_ip(opt::kServerId, kGwIp);
      requests.push_back(dhcp_frame(r));
      req_ip_at.push_back(option_data_offset(requests.back(), opt::kRequestedIp));
    }
    vnet::dhcp::SystemClock clock;
    SeededRng rng(1);
    Gateway gw(bench_config(), clock, rng);
    LastFrameSink out;
    gw.start(out);

    const auto t0 = Steady::now();
    const double c0 = thread_cpu_s();
    for (size_t k = 0; k < n; ++k) {
      gw.on_frame(discovers[k], 0, out);
      const DhcpReplyView offer = read_reply(out.last);
      if (offer.type != static_cast<uint8_t>(MessageType::kOffer)) continue;
      std::vector<uint8_t>& req = requests[k];
      const uint32_t a = offer.yiaddr.value;
      uint8_t* p = req.data() + req_ip_at[k];
      p[0] = static_cast<uint8_t>(a >> 24);
      p[1] = static_cast<uint8_t>(a >> 16);
      p[2] = static_cast<uint8_t>(a >> 8);
      p[3] = static_cast<uint8_t>(a);
      gw.on_frame(req, 0, out);
      const DhcpReplyView ack = read_reply(out.last);
      if (ack.type == static_cast<uint8_t>(MessageType::kAck) && ack.yiaddr == offer.yiaddr) ++total.done;
      if (k % (kTickEveryFrames / 2) == 0) gw.on_tick(out);
    }
    total.seconds += std::chrono::duration<double>(Steady::now() - t0).count();
    total.cpu_seconds += thread_cpu_s() - c0;
  }
  return total;
}

Result bench_dns(size_t queries, uint64_t& nxdomain, uint64_t& answered) {
  std::vector<std::vector<uint8_t>> frames;
  const size_t kinds = 3 * kDnsHosts;
  for (size_t i = 0; i < kinds; ++i) {
    const size_t h = i / 3;
    DnsWriter w(kDnsUdpMaxSize);
    DnsHeader hd;
    hd.id = static_cast<uint16_t>(i);
    hd.flags = DnsHeader::kRd;
    w.set_header(hd);
    switch (i % 3) {
      case 0: w.add_question(DnsQuestion{"host" + std::to_string(h) + ".bench.test", dns_type::kA, dns_class::kIn}); break;
      case 1:
        w.add_question(DnsQuestion{std::to_string(h + 1) + ".100.0.10.in-addr.arpa", dns_type::kPtr, dns_class::kIn});
        break;
      default:
        w.add_question(DnsQuestion{"nosuch" + std::to_string(h) + ".bench.test", dns_type::kA, dns_class::kIn});
        break;
    }
    const UdpEndpoints ep{kClientMac, kGwMac, kClientIp, kGwIp, static_cast<uint16_t>(30000 + i), kDnsPort};
    frames.push_back(build_udp_frame(ep, u8(w.finish()), 1));
  }
  vnet::dhcp::SystemClock clock;
  SeededRng rng(1);
  Gateway gw(bench_config(), clock, rng);
  LastFrameSink out;
  gw.start(out);
  const uint64_t before = out.frames;
  const auto t0 = Steady::now();
  const double c0 = thread_cpu_s();
  for (size_t k = 0; k < queries; ++k) {
    gw.on_frame(frames[k % kinds], 0, out);
    if (k % kTickEveryFrames == 0) gw.on_tick(out);
  }
  Result r;
  r.seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  r.cpu_seconds = thread_cpu_s() - c0;
  r.done = out.frames - before;
  const GatewayStats s = gw.stats();
  nxdomain = s.dns.of(DnsOutcome::kNxDomain);
  answered = s.dns.of(DnsOutcome::kAnswered);
  return r;
}

void usage() {
  std::printf(
      "usage: vnet-gw-bench [--dora N] [--dns N] [--repeat R] [--core C]\n"
      "  --dora N    DHCP clients (full DORA each, distinct MACs); default 60000, 0 = skip\n"
      "  --dns N     DNS queries (A / PTR / NXDOMAIN in turn); default 1000000, 0 = skip\n"
      "  --repeat R  runs of each; the median is reported; default 3\n"
      "  --core C    pin this thread to CPU C first\n");
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  size_t dora = 60000, dns = 1000000, repeat = 3;
  int core = -1;
  std::string command = argv[0];
  for (int i = 1; i < argc; ++i) {
    command += std::string(" ") + argv[i];
    const std::string a = argv[i];
    const auto value = [&]() -> unsigned long {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      command += std::string(" ") + argv[i + 1];
      return std::strtoul(argv[++i], nullptr, 10);
    };
    if (a == "--dora") dora = value();
    else if (a == "--dns") dns = value();
    else if (a == "--repeat") repeat = std::max<unsigned long>(1, value());
    else if (a == "--core") core = static_cast<int>(value());
    else {
      usage();
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (core >= 0 && !vnet::perf::pin_to_cpu(core)) return 1;
  std::printf("command: %s\n", command.c_str());
  int rc = 0;
  if (dora > 0) {
    std::vector<double> rates, cpu_rates;
    for (size_t r = 0; r < repeat; ++r) {
      const Result res = bench_dora(dora);
      if (res.done != dora) {
        std::printf("dhcp: only %llu of %zu DORAs completed\n", static_cast<unsigned long long>(res.done), dora);
        rc = 1;
      }
      rates.push_back(res.rate());
      cpu_rates.push_back(res.cpu_rate());
      std::printf("  run %zu: %zu DORAs in %.3f s (%.3f s CPU) = %.0f DORA/s, %.0f per CPU-second\n", r + 1, dora,
                  res.seconds, res.cpu_seconds, res.rate(), res.cpu_rate());
    }
    std::printf("dhcp: %.0f DORA/s wall, %.0f DORA/s per CPU-second (medians of %zu; target >= 10000)\n",
                median(rates), median(cpu_rates), repeat);
  }
  if (dns > 0) {
    std::vector<double> rates, cpu_rates;
    for (size_t r = 0; r < repeat; ++r) {
      uint64_t nx = 0, answered = 0;
      const Result res = bench_dns(dns, nx, answered);
      if (res.done != dns) {
        std::printf("dns: only %llu replies to %zu queries\n", static_cast<unsigned long long>(res.done), dns);
        rc = 1;
      }
      rates.push_back(res.rate());
      cpu_rates.push_back(res.cpu_rate());
      std::printf("  run %zu: %zu queries in %.3f s (%.3f s CPU) = %.0f answers/s, %.0f per CPU-second "
                  "(%llu with data, %llu NXDOMAIN)\n",
                  r + 1, dns, res.seconds, res.cpu_seconds, res.rate(), res.cpu_rate(),
                  static_cast<unsigned long long>(answered), static_cast<unsigned long long>(nx));
    }
    std::printf("dns: %.0f answers/s wall, %.0f answers/s per CPU-second (medians of %zu; target >= 100000)\n",
                median(rates), median(cpu_rates), repeat);
  }
  return rc;
}
