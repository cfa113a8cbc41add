// report.cc — see report.h.
#include "report.h"

#include <cinttypes>
#include <cstdio>
#include <sstream>

namespace vnet::perf {
namespace {

constexpr double kL1OverheadBytes = 20;  // preamble 7 + SFD 1 + IFG 12

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string list(const std::vector<unsigned>& v) {
  std::string s;
  for (unsigned x : v) {
    if (!s.empty()) s += ',';
    s += std::to_string(x);
  }
  return s;
}

std::string ports_with(const std::vector<PortPlan>& plans, bool tx) {
  std::vector<unsigned> v;
  for (unsigned i = 0; i < plans.size(); ++i) {
    if (tx ? plans[i].tx : plans[i].rx) v.push_back(i);
  }
  return list(v);
}

// Minimal JSON object writer: keys are fixed ASCII, strings are escaped.
class Json {
 public:
  Json& key(const char* k) {
    sep();
    out_ << '"' << k << "\":";
    fresh_ = true;
    return *this;
  }
  Json& str(const std::string& v) {
    out_ << '"';
    for (char ch : v) {
      if (ch == '"' || ch == '\\') {
        out_ << '\\' << ch;
      } else if (static_cast<unsigned char>(ch) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(ch));
        out_ << buf;
      } else {
        out_ << ch;
      }
    }
    out_ << '"';
    fresh_ = false;
    return *this;
  }
  Json& num(double v) {
    out_ << fmt("%.6g", v);
    fresh_ = false;
    return *this;
  }
  Json& num(uint64_t v) {
    out_ << v;
    fresh_ = false;
    return *this;
  }
  Json& boolean(bool v) {
    out_ << (v ? "true" : "false");
    fresh_ = false;
    return *this;
  }
  Json& null() {
    out_ << "null";
    fresh_ = false;
    return *this;
  }
  Json& open(char c) {
    sep();
    out_ << c;
    fresh_ = true;
    return *this;
  }
  Json& close(char c) {
    out_ << c;
    fresh_ = false;
    return *this;
  }
  Json& raw(const std::string& s) {
    sep();
    out_ << s;
    fresh_ = false;
    return *this;
  }
  std::string take() { return out_.str(); }

 private:
  void sep() {
    if (!fresh_) out_ << ',';
    fresh_ = true;
  }
  std::ostringstream out_;
  bool fresh_ = true;
};

void json_trial(Json& j, const TrialSummary& s) {
  j.open('{');
  j.key("requested_mpps");
  if (s.requested_mpps > 0) {
    j.num(s.requested_mpps);
  } else {
    j.str("max");
  }
  j.key("duration_s").num(s.duration_s);
  j.key("offered").num(s.offered);
  j.key("sent").num(s.sent);
  j.key("tx_full").num(s.tx_full);
  j.key("received").num(s.received);
  j.key("lost").num(s.lost);
  j.key("loss_ratio").num(s.loss_ratio);
  j.key("misdelivered").num(s.misdelivered);
  j.key("reordered").num(s.reordered);
  j.key("rx_other").num(s.rx_other);
  j.key("alloc_fail").num(s.alloc_fail);
  j.key("offered_mpps").num(s.offered_mpps);
  j.key("tx_mpps").num(s.tx_mpps);
  j.key("rx_mpps").num(s.rx_mpps);
  j.key("rx_gbps").num(s.rx_gbps_l2);
  j.key("rx_gbps_l1").num(s.rx_gbps_l1);
  j.key("bound");
  if (s.bound.empty()) {
    j.null();
  } else {
    j.str(s.bound);
  }
  j.key("latency_ns").open('{');
  j.key("samples").num(s.lat_samples);
  j.key("min").num(s.lat_min_ns);
  j.key("avg").num(s.lat_avg_ns);
  j.key("p50").num(s.lat_p50_ns);
  j.key("p99").num(s.lat_p99_ns);
  j.key("max").num(s.lat_max_ns);
  j.close('}');
  j.key("arp_answered").num(s.arp_answered);
  j.key("src_rewritten").num(s.src_rewritten);
  if (s.gw_enabled) {
    const GwCounters& g = s.gw;
    j.key("gateway").open('{');
    j.key("rate_pps").num(s.gw_rate_pps);
    j.key("dns_queries").num(g.dns_queries);
    j.key("dns_answers").num(g.dns_answers);
    j.key("dns_other").num(g.dns_other);
    j.key("dhcp_discovers").num(g.discovers);
    j.key("dhcp_offers").num(g.offers);
    j.key("dhcp_requests").num(g.requests);
    j.key("dhcp_acks").num(g.acks);
    j.key("dhcp_naks").num(g.naks);
    j.key("tx_full").num(g.tx_full);
    j.key("arp_answered").num(g.arp_answered);
    j.key("rx_other").num(g.rx_other);
    j.key("answers_per_s").num(s.gw_answers_per_s);
    j.key("dns_answers_per_s").num(s.gw_dns_answers_per_s);
    j.key("dora_per_s").num(s.gw_dora_per_s);
    j.close('}');
  }
  j.close('}');
}

}  // namespace

TrialSummary summarize(const TrialReport& r, std::size_t size_bytes, const GwLoadSpec* gw) {
  const TrialCounters& c = r.counters;
  TrialSummary s;
  const bool limited = r.requested_pps > 0;
  s.requested_mpps = r.requested_pps / 1e6;
  s.duration_s = r.duration_s;
  s.offered = c.offered;
  s.sent = c.sent;
  s.tx_full = c.tx_full;
  s.received = c.received;
  s.misdelivered = c.misdelivered;
  s.reordered = c.reordered;
  s.rx_other = c.rx_other;
  s.alloc_fail = c.alloc_fail;
  const uint64_t base = limited ? c.offered : c.sent;
  s.lost = base > c.received ? base - c.received : 0;
  s.loss_ratio = base ? static_cast<double>(s.lost) / static_cast<double>(base) : 0.0;
  const double d = r.duration_s > 0 ? r.duration_s : 1e-9;
  s.offered_mpps = static_cast<double>(c.offered) / d / 1e6;
  s.tx_mpps = static_cast<double>(c.sent) / d / 1e6;
  s.rx_mpps = static_cast<double>(c.received) / d / 1e6;
  s.rx_gbps_l2 = static_cast<double>(c.received) * static_cast<double>(size_bytes) * 8 / d / 1e9;
  s.rx_gbps_l1 = static_cast<double>(c.received) * (static_cast<double>(size_bytes) + kL1OverheadBytes) * 8 / d / 1e9;
  if (!limited) {
    const uint64_t attempts = c.sent + c.tx_full;
    s.bound = (attempts > 0 && static_cast<double>(c.tx_full) > 0.01 * static_cast<double>(attempts))
                  ? "dut"
                  : "generator";
  }
  s.lat_samples = r.latency.count();
  s.lat_min_ns = r.latency.min();
  s.lat_avg_ns = r.latency.mean();
  s.lat_p50_ns = r.latency.percentile(0.50);
  s.lat_p99_ns = r.latency.percentile(0.99);
  s.lat_max_ns = r.latency.max();
  s.arp_answered = c.arp_answered;
  s.src_rewritten = c.src_rewritten;
  if (gw != nullptr && gw->enabled) {
    s.gw_enabled = true;
    s.gw_rate_pps = gw->rate_pps;
    s.gw = r.gw;
    s.gw_answers_per_s = static_cast<double>(r.gw.dns_answers + r.gw.offers + r.gw.acks) / d;
    s.gw_dns_answers_per_s = static_cast<double>(r.gw.dns_answers) / d;
    s.gw_dora_per_s = static_cast<double>(r.gw.acks) / d;
  }
  return s;
}

TrialOutcome to_outcome(const TrialSummary& s) {
  TrialOutcome t;
  t.requested_pps = s.requested_mpps * 1e6;
  t.offered_pps = s.offered_mpps * 1e6;
  t.accepted_pps = s.tx_mpps * 1e6;
  t.received_pps = s.rx_mpps * 1e6;
  t.offered = s.requested_mpps > 0 ? s.offered : s.sent;
  t.received = s.received;
  return t;
}

std::string text_trial(const RunInfo& info, const TrialSummary& s) {
  std::ostringstream o;
  o << "vnet-pktgen: " << info.opts->size_bytes << " B frames, " << info.flows_per_tx_port
    << " flow(s) per tx port, tx ports " << ports_with(*info.plans, true) << " -> rx ports "
    << ports_with(*info.plans, false) << ", rate "
    << (s.requested_mpps > 0 ? fmt("%.3f Mpps", s.requested_mpps) : std::string("max")) << ", "
    << fmt("%.2f s", s.duration_s) << "\n";
  o << "  offered  " << s.offered << "  sent " << s.sent << "  tx-full " << s.tx_full << "  received "
    << s.received << "  lost " << s.lost << fmt(" (%.6f %%)", s.loss_ratio * 100) << "\n";
  o << "  tx " << fmt("%.3f Mpps", s.tx_mpps) << "  rx " << fmt("%.3f Mpps", s.rx_mpps) << "  "
    << fmt("%.3f Gbps", s.rx_gbps_l2) << " (L1 " << fmt("%.3f Gbps", s.rx_gbps_l1) << ")";
  if (!s.bound.empty()) o << "  bound: " << s.bound;
  o << "\n";
  o << "  latency ns  min " << s.lat_min_ns << "  avg " << fmt("%.0f", s.lat_avg_ns) << "  p50 "
    << s.lat_p50_ns << "  p99 " << s.lat_p99_ns << "  max " << s.lat_max_ns << "  (" << s.lat_samples
    << " samples)\n";
  if (s.misdelivered || s.reordered || s.rx_other || s.alloc_fail) {
    o << "  misdelivered " << s.misdelivered << "  reordered " << s.reordered << "  other rx "
      << s.rx_other << "  alloc-fail " << s.alloc_fail << "\n";
  }
  if (s.arp_answered) o << "  ARP who-has answered " << s.arp_answered << "\n";
  if (s.src_rewritten) o << "  source address rewritten (SNAT) in " << s.src_rewritten << " received frames\n";
  if (s.gw_enabled) {
    const GwCounters& g = s.gw;
    o << "  gateway load " << fmt("%.0f", s.gw_rate_pps) << " req/s: DNS " << g.dns_queries << " -> "
      << g.dns_answers << " answers (" << g.dns_other << " other), DHCP " << g.discovers << " DISCOVER -> "
      << g.offers << " OFFER, " << g.requests << " REQUEST -> " << g.acks << " ACK (" << g.naks
      << " NAK); refused " << g.tx_full << "\n";
    o << "  gateway answers " << fmt("%.0f/s", s.gw_answers_per_s) << " (DNS " << fmt("%.0f/s", s.gw_dns_answers_per_s)
      << ", DORA " << fmt("%.0f/s", s.gw_dora_per_s) << ")\n";
  }
  return o.str();
}

std::string text_rfc2544(const RunInfo& info, const SearchResult& search,
                         const std::vector<TrialSummary>& trials, const TrialSummary* best) {
  std::ostringstream o;
  o << "RFC 2544 throughput, " << info.opts->size_bytes << " B, loss tolerance "
    << fmt("%.6g %%", info.opts->loss_tolerance * 100) << ", " << fmt("%.1f s", info.opts->duration_s)
    << " trials\n";
  o << "  trial  requested_Mpps  offered_Mpps  rx_Mpps  loss_%      result\n";
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const auto& t = trials[i];
    char line[160];
    std::snprintf(line, sizeof line, "  %5zu  %14s  %12.3f  %7.3f  %-10.6f  %s\n", i + 1,
                  t.requested_mpps > 0 ? fmt("%.3f", t.requested_mpps).c_str() : "max", t.offered_mpps,
                  t.rx_mpps, t.loss_ratio * 100,
                  trial_passes(to_outcome(t), info.opts->loss_tolerance) ? "pass" : "fail");
    o << line;
  }
  if (best != nullptr) {
    o << "  throughput: " << fmt("%.3f Mpps", best->rx_mpps) << " = " << fmt("%.3f Gbps", best->rx_gbps_l2)
      << " (L1 " << fmt("%.3f Gbps", best->rx_gbps_l1) << ")"
      << (search.generator_bound ? "  [generator-bound: the DUT was not the limit]" : "") << "\n";
    o << "  latency at that rate, ns: min " << best->lat_min_ns << "  avg " << fmt("%.0f", best->lat_avg_ns)
      << "  p99 " << best->lat_p99_ns << "  max " << best->lat_max_ns << "\n";
  } else {
    o << "  throughput: none found (every trial lost frames)\n";
  }
  return o.str();
}

std::string json_report(const RunInfo& info, const std::vector<TrialSummary>& trials,
                        const SearchResult* search, const TrialSummary* best) {
  const GenOptions& op = *info.opts;
  Json j;
  j.open('{');
  j.key("tool").str("vnet-pktgen");
  j.key("schema").num(uint64_t{1});
  j.key("mode").str(info.mode);
  j.key("tsc_hz").num(info.tsc_hz);
  j.key("config").open('{');
  j.key("size_bytes").num(uint64_t{op.size_bytes});
  j.key("rate_mpps");
  if (op.rate_pps > 0) {
    j.num(op.rate_pps / 1e6);
  } else {
    j.str("max");
  }
  j.key("duration_s").num(op.duration_s);
  j.key("count").num(op.count);
  j.key("burst").num(uint64_t{op.burst});
  j.key("tx_ports").str(ports_with(*info.plans, true));
  j.key("rx_ports").str(ports_with(*info.plans, false));
  j.key("flows_per_tx_port").num(info.flows_per_tx_port);
  j.key("src_macs").num(uint64_t{op.flows.src_mac_count});
  j.key("dst_macs").num(uint64_t{op.flows.dst_mac_count});
  j.key("src_ips").num(uint64_t{op.flows.src_ip.count});
  j.key("dst_ips").num(uint64_t{op.flows.dst_ip.count});
  j.key("src_ports").num(uint64_t{op.flows.src_port.count});
  j.key("dst_ports").num(uint64_t{op.flows.dst_port.count});
  j.key("loss_tolerance").num(op.loss_tolerance);
  j.close('}');
  j.key("trials").open('[');
  for (const auto& t : trials) json_trial(j, t);
  j.close(']');
  j.key("result");
  if (search != nullptr) {
    j.open('{');
    j.key("found").boolean(search->found);
    j.key("generator_bound").boolean(search->generator_bound);
    j.key("throughput_mpps").num(best ? best->rx_mpps : 0.0);
    j.key("throughput_gbps").num(best ? best->rx_gbps_l2 : 0.0);
    j.key("best");
    if (best) {
      json_trial(j, *best);
    } else {
      j.null();
    }
    j.close('}');
  } else if (!trials.empty()) {
    json_trial(j, trials.back());
  } else {
    j.null();
  }
  j.close('}');
  return j.take() + "\n";
}

}  // namespace vnet::perf
