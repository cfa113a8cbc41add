// options.cc — see options.h.
#include "options.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

namespace vnet::perf {
namespace {

constexpr unsigned kMaxPorts = 16;

std::optional<double> to_double(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string tmp(s);
  char* end = nullptr;
  const double v = std::strtod(tmp.c_str(), &end);
  if (end == nullptr || *end != '\0' || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<uint64_t> to_u64(std::string_view s) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<std::vector<unsigned>> to_list(std::string_view s) {
  std::vector<unsigned> out;
  while (!s.empty()) {
    const auto comma = s.find(',');
    const auto item = s.substr(0, comma);
    const auto v = to_u64(item);
    if (!v || *v >= kMaxPorts) return std::nullopt;
    out.push_back(static_cast<unsigned>(*v));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace

std::string usage() {
  return R"(usage: vnet-pktgen [EAL options] -- [options]

A one-core DPDK traffic generator: sends and receives in one loop, stamps every
frame with a sequence number and the TSC, reports loss and latency.
Ports are ethdevs in --vdev order, e.g.
  --vdev=net_virtio_user0,path=/run/sw0.sock,queue_size=1024
  --vdev=net_virtio_user1,path=/run/sw1.sock,queue_size=1024[,server=1]

Ports
  --tx-ports LIST        sending ports (default 0)
  --rx-ports LIST        receiving ports (default: all others; 0 if only one port)
  --bidir                every port sends to the next one and receives
Traffic
  --size BYTES           frame size including FCS, 64..9018 (default 64)
  --rate MPPS|max        total offered rate over all tx ports (default max)
  --duration SEC         trial length (default 10)
  --count N              offer exactly N frames, then stop (instead of --duration)
  --burst N              frames per tx/rx burst, 1..64 (default 32)
  --drain SEC            keep receiving after the last frame (default 0.1)
Flows (each field steps independently; distinct flows = lcm of the counts)
  --flows N              N values in each field named by --flow-fields (default 1)
  --flow-fields LIST     mac,ip,udp (default mac: N source and N destination MACs)
  --src-macs N  --dst-macs N  --src-ips N  --dst-ips N  --src-ports N  --dst-ports N
  --mac-base MAC         station MAC of port p, index k = MAC + p<<24 + k
                         (default 02:00:00:00:00:00)
  --src-ip A.B.C.D  --dst-ip A.B.C.D  --src-port P  --dst-port P
                         first values (default 10.0.0.1, 10.1.0.1, 1024, 1024)
Warm-up (learning frames: broadcast from every station MAC of every port)
  --warmup-rounds N      (default 2; 0 = none)   --no-warmup
  --warmup-rate MPPS     (default 1)
  --warmup-wait SEC      drain after warm-up (default 0.5)
  --link-timeout SEC     wait for links up (default 30)
RFC 2544 throughput (binary search for the highest rate within the loss tolerance)
  --rfc2544
  --loss-tolerance FRAC  e.g. 0.0001 for 0.01 % (default 0: zero loss)
  --resolution FRAC      stop when the interval is below FRAC of the maximum (default 0.005)
  --max-trials N         including the first, unlimited trial (default 16)
  --no-relearn           warm up once, not before every trial
Routers (NAT through vnet: frames go to a gateway MAC, come out of an uplink)
  --dst-mac MAC          every frame to this destination MAC (e.g. the network's gateway)
  --dst-mac-arp A.B.C.D  the same, resolved by ARP from the first tx port (asked from
                         its station MAC and --src-ip) once the links are up
  --arp-reply-ip A.B.C.D rx ports answer who-has A.B.C.D with their station MAC
                         (stand in for the next hop a NAT or router resolves)
Gateway load (DHCP and DNS to a network's gateway on a port of its own, during the trial)
  --gw-port P            the load port (excluded from tx/rx; its MAC block is its clients)
  --gw-ip A.B.C.D        the gateway's address (required with --gw-port); its MAC by ARP
  --gw-client-ip A.B.C.D source of the DNS queries (default gateway + 1)
  --gw-rate PPS          DNS queries + DHCP DISCOVERs per second (default 0: port idle)
  --gw-dhcp-share FRAC   fraction of --gw-rate that are DISCOVERs (default 0.5); every
                         OFFER is answered with a REQUEST at once
  --gw-dhcp-clients N    distinct DHCP client MACs, used in turn (default 10000)
  --gw-dns-name NAME     name queried for A (default gwload)
Output
  --json                 JSON on stdout (the text report goes to stderr)
  --json-file FILE       also write the JSON to FILE
  --progress FILE        append "realtime_ns elapsed_s offered sent received" lines
  --progress-interval SEC (default 1)
  --quiet                no text report
  --help
)";
}

ParseResult parse_options(int argc, char** argv) {
  ParseResult result;
  GenOptions o;
  bool tx_given = false;
  bool rx_given = false;
  std::optional<uint64_t> flows;
  std::string flow_fields = "mac";
  std::string error;

  auto need_u64 = [&](std::string_view v, uint64_t lo, uint64_t hi, uint64_t& out) {
    const auto x = to_u64(v);
    if (!x || *x < lo || *x > hi) return false;
    out = *x;
    return true;
  };
  auto need_double = [&](std::string_view v, double lo, double hi, double& out) {
    const auto x = to_double(v);
    if (!x || *x < lo || *x > hi) return false;
    out = *x;
    return true;
  };
  auto u32_setter = [&](uint32_t& field, uint64_t lo, uint64_t hi) {
    return [&field, lo, hi, &need_u64](std::string_view v) {
      uint64_t x = 0;
      if (!need_u64(v, lo, hi, x)) return false;
      field = static_cast<uint32_t>(x);
      return true;
    };
  };

  using Handler = std::function<bool(std::string_view)>;
  const std::map<std::string, Handler, std::less<>> with_value = {
      {"--tx-ports", [&](std::string_view v) { auto l = to_list(v); if (!l) return false; o.tx_ports = *l; tx_given = true; return true; }},
      {"--rx-ports", [&](std::string_view v) { auto l = to_list(v); if (!l) return false; o.rx_ports = *l; rx_given = true; return true; }},
      {"--size", [&](std::string_view v) { uint64_t x = 0; if (!need_u64(v, kMinFrameSize, kMaxFrameSize, x)) return false; o.size_bytes = x; return true; }},
      {"--rate", [&](std::string_view v) {
         if (v == "max") { o.rate_pps = 0; return true; }
         double mpps = 0; if (!need_double(v, 1e-6, 1e4, mpps)) return false; o.rate_pps = mpps * 1e6; return true; }},
      {"--duration", [&](std::string_view v) { return need_double(v, 0.01, 86400, o.duration_s); }},
      {"--count", [&](std::string_view v) { return need_u64(v, 1, UINT64_MAX, o.count); }},
      {"--burst", [&](std::string_view v) { uint64_t x = 0; if (!need_u64(v, 1, 64, x)) return false; o.burst = static_cast<unsigned>(x); return true; }},
      {"--drain", [&](std::string_view v) { return need_double(v, 0, 600, o.drain_s); }},
      {"--flows", [&](std::string_view v) { uint64_t x = 0; if (!need_u64(v, 1, kMaxStationMacs, x)) return false; flows = x; return true; }},
      {"--flow-fields", [&](std::string_view v) { flow_fields = std::string(v); return true; }},
      {"--src-macs", u32_setter(o.flows.src_mac_count, 1, kMaxStationMacs)},
      {"--dst-macs", u32_setter(o.flows.dst_mac_count, 1, kMaxStationMacs)},
      {"--src-ips", u32_setter(o.flows.src_ip.count, 1, kMaxStationMacs)},
      {"--dst-ips", u32_setter(o.flows.dst_ip.count, 1, kMaxStationMacs)},
      {"--src-ports", u32_setter(o.flows.src_port.count, 1, 65535)},
      {"--dst-ports", u32_setter(o.flows.dst_port.count, 1, 65535)},
      {"--mac-base", [&](std::string_view v) { auto m = parse_mac(v); if (!m) return false; o.flows.mac_base = *m; return true; }},
      {"--src-ip", [&](std::string_view v) { auto a = parse_ipv4(v); if (!a) return false; o.flows.src_ip.base = *a; return true; }},
      {"--dst-ip", [&](std::string_view v) { auto a = parse_ipv4(v); if (!a) return false; o.flows.dst_ip.base = *a; return true; }},
      {"--src-port", [&](std::string_view v) { uint64_t x = 0; if (!need_u64(v, 0, 65535, x)) return false; o.flows.src_port.base = x; return true; }},
      {"--dst-port", [&](std::string_view v) { uint64_t x = 0; if (!need_u64(v, 0, 65535, x)) return false; o.flows.dst_port.base = x; return true; }},
      {"--warmup-rounds", [&](std::string_view v) { uint64_t x = 0; if (!need_u64(v, 0, 100, x)) return false; o.warmup_rounds = static_cast<unsigned>(x); return true; }},
      {"--warmup-rate", [&](std::string_view v) { double m = 0; if (!need_double(v, 1e-6, 1e4, m)) return false; o.warmup_rate_pps = m * 1e6; return true; }},
      {"--warmup-wait", [&](std::string_view v) { return need_double(v, 0, 600, o.warmup_wait_s); }},
      {"--link-timeout", [&](std::string_view v) { return need_double(v, 0, 3600, o.link_timeout_s); }},
      {"--loss-tolerance", [&](std::string_view v) { return need_double(v, 0, 1, o.loss_tolerance); }},
      {"--resolution", [&](std::string_view v) { return need_double(v, 1e-6, 1, o.resolution); }},
      {"--max-trials", [&](std::string_view v) { uint64_t x = 0; if (!need_u64(v, 1, 1000, x)) return false; o.max_trials = static_cast<unsigned>(x); return true; }},
      {"--json-file", [&](std::string_view v) { o.json_file = std::string(v); return !v.empty(); }},
      {"--progress", [&](std::string_view v) { o.progress_file = std::string(v); return !v.empty(); }},
      {"--dst-mac", [&](std::string_view v) { auto m = parse_mac(v); if (!m || *m == 0) return false; o.flows.dst_mac = *m; return true; }},
      {"--dst-mac-arp", [&](std::string_view v) { auto a = parse_ipv4(v); if (!a || *a == 0) return false; o.dst_mac_arp_ip = *a; return true; }},
      {"--arp-reply-ip", [&](std::string_view v) { auto a = parse_ipv4(v); if (!a || *a == 0) return false; o.arp_reply_ip = *a; return true; }},
      {"--gw-port", [&](std::string_view v) { uint64_t x = 0; if (!need_u64(v, 0, kMaxPorts - 1, x)) return false; o.gw.port = static_cast<unsigned>(x); o.gw.enabled = true; return true; }},
      {"--gw-ip", [&](std::string_view v) { auto a = parse_ipv4(v); if (!a || *a == 0) return false; o.gw.gw_ip = *a; return true; }},
      {"--gw-client-ip", [&](std::string_view v) { auto a = parse_ipv4(v); if (!a || *a == 0) return false; o.gw.client_ip = *a; return true; }},
      {"--gw-rate", [&](std::string_view v) { return need_double(v, 0, 1e8, o.gw.rate_pps); }},
      {"--gw-dhcp-share", [&](std::string_view v) { return need_double(v, 0, 1, o.gw.dhcp_share); }},
      {"--gw-dhcp-clients", [&](std::string_view v) { uint64_t x = 0; if (!need_u64(v, 1, kGwMaxClients - 2, x)) return false; o.gw.dhcp_clients = static_cast<uint32_t>(x); return true; }},
      {"--gw-dns-name", [&](std::string_view v) { if (v.empty() || v.size() > 200) return false; o.gw.dns_name = std::string(v); return true; }},
      {"--progress-interval", [&](std::string_view v) { return need_double(v, 0.001, 3600, o.progress_interval_s); }},
  };
  const std::map<std::string, std::function<void()>, std::less<>> flags = {
      {"--bidir", [&] { o.bidir = true; }},
      {"--no-warmup", [&] { o.warmup_rounds = 0; }},
      {"--rfc2544", [&] { o.rfc2544 = true; }},
      {"--no-relearn", [&] { o.relearn = false; }},
      {"--json", [&] { o.json = true; }},
      {"--quiet", [&] { o.quiet = true; }},
  };

  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      result.help = true;
      result.message = usage();
      return result;
    }
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos && arg.starts_with("--")) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (auto f = flags.find(name); f != flags.end() && !value) {
      f->second();
      continue;
    }
    auto h = with_value.find(name);
    if (h == with_value.end()) {
      result.message = "unknown option '" + std::string(arg) + "' (see --help)";
      return result;
    }
    if (!value) {
      if (i + 1 >= argc) {
        result.message = "option " + std::string(name) + " needs a value";
        return result;
      }
      value = argv[++i];
    }
    if (!h->second(*value)) {
      result.message = "bad value '" + std::string(*value) + "' for " + std::string(name);
      return result;
    }
  }

  if (flows) {
    const auto n = static_cast<uint32_t>(*flows);
    std::string_view rest = flow_fields;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto f = rest.substr(0, comma);
      if (f == "mac") {
        o.flows.src_mac_count = n;
        o.flows.dst_mac_count = n;
      } else if (f == "ip") {
        o.flows.src_ip.count = n;
      } else if (f == "udp") {
        if (n > 65536 - o.flows.src_port.base) {
          result.message = "--flows " + std::to_string(n) + " does not fit in UDP source ports";
          return result;
        }
        o.flows.src_port.count = n;
      } else {
        result.message = "bad --flow-fields entry '" + std::string(f) + "' (mac, ip, udp)";
        return result;
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (o.flows.src_port.base + o.flows.src_port.count > 65536 ||
      o.flows.dst_port.base + o.flows.dst_port.count > 65536) {
    result.message = "UDP port range runs past 65535";
    return result;
  }
  if (o.gw.enabled && o.gw.gw_ip == 0) {
    result.message = "--gw-port needs --gw-ip";
    return result;
  }
  if (!o.gw.enabled && (o.gw.gw_ip != 0 || o.gw.rate_pps > 0)) {
    result.message = "--gw-ip/--gw-rate need --gw-port";
    return result;
  }
  if (o.gw.enabled && o.gw.client_ip == 0) o.gw.client_ip = o.gw.gw_ip + 1;
  if (o.flows.dst_mac != 0 && o.dst_mac_arp_ip != 0) {
    result.message = "--dst-mac and --dst-mac-arp exclude each other";
    return result;
  }
  if (o.gw.enabled && o.bidir) {
    result.message = "--gw-port does not combine with --bidir";
    return result;
  }
  if (!tx_given) o.tx_ports = {0};
  if (!rx_given) o.rx_ports.clear();  // filled in by make_port_plans
  result.options = o;
  return result;
}

std::optional<std::vector<PortPlan>> make_port_plans(const GenOptions& opts, unsigned port_count,
                                                     std::string& error) {
  if (port_count == 0) {
    error = "no ethdev ports: give at least one --vdev=net_virtio_user0,path=SOCK";
    return std::nullopt;
  }
  if (port_count > kMaxPorts) {
    error = "at most " + std::to_string(kMaxPorts) + " ports";
    return std::nullopt;
  }
  std::vector<PortPlan> plans(port_count);
  if (opts.bidir) {
    for (unsigned p = 0; p < port_count; ++p) {
      plans[p].tx = plans[p].rx = true;
      plans[p].dests = {(p + 1) % port_count};
    }
  } else {
    std::set<unsigned> tx(opts.tx_ports.begin(), opts.tx_ports.end());
    std::set<unsigned> rx(opts.rx_ports.begin(), opts.rx_ports.end());
    if (opts.gw.enabled) {
      if (opts.gw.port >= port_count) {
        error = "gateway-load port " + std::to_string(opts.gw.port) + " does not exist (" +
                std::to_string(port_count) + " ports)";
        return std::nullopt;
      }
      if (tx.contains(opts.gw.port) || rx.contains(opts.gw.port)) {
        error = "gateway-load port " + std::to_string(opts.gw.port) + " is also a tx or rx port";
        return std::nullopt;
      }
      plans[opts.gw.port].gw = true;
    }
    for (unsigned p : tx) {
      if (p >= port_count) {
        error = "tx port " + std::to_string(p) + " does not exist (" + std::to_string(port_count) + " ports)";
        return std::nullopt;
      }
    }
    if (rx.empty()) {
      for (unsigned p = 0; p < port_count; ++p) {
        if (!tx.contains(p) && !plans[p].gw) rx.insert(p);
      }
      if (rx.empty()) rx = tx;  // one port: loopback
    }
    for (unsigned p : rx) {
      if (p >= port_count) {
        error = "rx port " + std::to_string(p) + " does not exist (" + std::to_string(port_count) + " ports)";
        return std::nullopt;
      }
      plans[p].rx = true;
    }
    for (unsigned p : tx) {
      plans[p].tx = true;
      for (unsigned q : rx) {
        if (q != p) plans[p].dests.push_back(q);
      }
      if (plans[p].dests.empty()) plans[p].dests.push_back(p);
    }
  }
  for (unsigned p = 0; p < port_count; ++p) {
    if (plans[p].dests.size() > 32) {
      error = "a tx port can send to at most 32 ports";
      return std::nullopt;
    }
    uint32_t n = 1;
    if (plans[p].tx) n = std::max(n, opts.flows.src_mac_count);
    for (const auto& other : plans) {
      if (std::find(other.dests.begin(), other.dests.end(), p) != other.dests.end()) {
        n = std::max(n, opts.flows.dst_mac_count);
      }
    }
    plans[p].station_macs = n;
  }
  return plans;
}

}  // namespace vnet::perf
