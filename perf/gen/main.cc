// main.cc — vnet-pktgen: one-core DPDK traffic generator for vhost-user switches.
//
// Theory of operation
// -------------------
// rte_eal_init() takes the EAL arguments (vdevs, lcores, memory); the rest are
// generator options (options.h). main() wires the pieces in plain code: port
// plans -> TrafficEngine -> wait for links -> warm-up -> one trial, or an
// RFC 2544 search over trials -> text and/or JSON report. It always exits by
// itself (duration, count, or SIGINT/SIGTERM, which end the current trial and
// still print the report). Every exit after rte_eal_init() goes through
// vnet::dp::eal_cleanup(), which also removes the EAL's runtime directory.
//
// Exit status: 0 success, 1 usage error, 2 EAL/port setup failure, 3 links
// did not come up.
//
// Thread-safety
// -------------
// Everything runs on the EAL main lcore; the signal handler only sets an atomic.
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "dataplane/eal.h"
#include "frame.h"
#include "options.h"
#include "report.h"
#include "rfc2544.h"
#include "traffic.h"

namespace {

// The one piece of global state: set from the signal handler, read by the loop.
std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

}  // namespace

int main(int argc, char** argv) {
  using namespace vnet::perf;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage();
      return 0;
    }
    if (a == "--") break;
  }
  const int eal_argc = rte_eal_init(argc, argv);
  if (eal_argc < 0) {
    std::fprintf(stderr, "vnet-pktgen: EAL init failed: %s\n", rte_strerror(rte_errno));
    return 2;
  }
  // argv[eal_argc] is "--" (or the first non-EAL argument); shift so the parser sees argv[0].
  const int app_argc = argc - eal_argc;
  char** app_argv = argv + eal_argc;
  ParseResult parsed = parse_options(app_argc, app_argv);
  if (parsed.help) {
    std::cout << parsed.message;
    vnet::dp::eal_cleanup();
    return 0;
  }
  if (!parsed.options) {
    std::fprintf(stderr, "vnet-pktgen: %s\n", parsed.message.c_str());
    vnet::dp::eal_cleanup();
    return 1;
  }
  const GenOptions opts = *parsed.options;
  std::ostream& text = opts.json ? std::cerr : std::cout;

  std::string error;
  const unsigned n_ports = rte_eth_dev_count_avail();
  auto plans = make_port_plans(opts, n_ports, error);
  if (!plans) {
    std::fprintf(stderr, "vnet-pktgen: %s\n", error.c_str());
    vnet::dp::eal_cleanup();
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  int status = 0;
  {
    TrafficEngine engine(opts, *plans);
    engine.set_stop_flag(&g_stop);
    error = engine.setup();
    if (!error.empty()) {
      std::fprintf(stderr, "vnet-pktgen: %s\n", error.c_str());
      status = 2;
    }
    std::string down;
    if (status == 0 && !engine.wait_links(opts.link_timeout_s, down)) {
      std::fprintf(stderr, "vnet-pktgen: link(s) %s still down after %.0f s (is the switch up?)\n",
                   down.c_str(), opts.link_timeout_s);
      status = 3;
    }
    if (status == 0) {
      RunInfo info;
      info.opts = &opts;
      info.plans = &*plans;
      info.tsc_hz = engine.tsc_hz();
      uint32_t n_dests = 1;
      for (const auto& p : *plans) {
        if (p.tx) n_dests = static_cast<uint32_t>(p.dests.size());
      }
      info.flows_per_tx_port = distinct_flows(opts.flows, n_dests);
      if (!opts.quiet) {
        text << "vnet-pktgen: " << n_ports << " port(s), links up, TSC " << engine.tsc_hz() / 1000000
             << " MHz; warm-up " << opts.warmup_rounds << " round(s)\n";
      }
      if (opts.dst_mac_arp_ip != 0) {
        unsigned first_tx = 0;
        while (first_tx < plans->size() && !(*plans)[first_tx].tx) ++first_tx;
        const auto mac = engine.resolve_mac(first_tx, station_mac(opts.flows.mac_base, first_tx, 0),
                                            static_cast<uint32_t>(opts.flows.src_ip.base), opts.dst_mac_arp_ip,
                                            opts.link_timeout_s);
        if (!mac) {
          std::fprintf(stderr, "vnet-pktgen: no ARP reply for %s on port %u\n",
                       format_ipv4(opts.dst_mac_arp_ip).c_str(), first_tx);
          engine.stop();
          vnet::dp::eal_cleanup();
          return 3;
        }
        engine.set_dst_mac(*mac);
        if (!opts.quiet) {
          text << "vnet-pktgen: " << format_ipv4(opts.dst_mac_arp_ip) << " is at " << format_mac(*mac) << "\n";
        }
      }
      if (opts.gw.enabled) {
        error = engine.prepare_gateway(opts.link_timeout_s);
        if (!error.empty()) {
          std::fprintf(stderr, "vnet-pktgen: %s\n", error.c_str());
          engine.stop();
          vnet::dp::eal_cleanup();
          return 3;
        }
      }
      engine.warmup();

      std::vector<TrialSummary> trials;
      std::string json;
      if (opts.rfc2544) {
        info.mode = "rfc2544";
        SearchConfig cfg;
        cfg.loss_tolerance = opts.loss_tolerance;
        cfg.resolution = opts.resolution;
        cfg.max_trials = opts.max_trials;
        bool first = true;
        auto run = [&](double rate_pps) {
          if (!first && opts.relearn) engine.warmup();
          first = false;
          if (g_stop.load()) return TrialOutcome{};
          const TrialSummary s =
              summarize(engine.run_trial(rate_pps, opts.duration_s, 0), opts.size_bytes, &opts.gw);
          trials.push_back(s);
          if (!opts.quiet) {
            char line[200];
            std::snprintf(line, sizeof line,
                          "  trial %zu: requested %s Mpps, offered %.3f, rx %.3f Mpps, loss %.6f %%\n",
                          trials.size(), rate_pps > 0 ? std::to_string(rate_pps / 1e6).c_str() : "max",
                          s.offered_mpps, s.rx_mpps, s.loss_ratio * 100);
            text << line << std::flush;
          }
          return to_outcome(s);
        };
        const SearchResult search = rfc2544_search(cfg, run);
        const TrialSummary* best = nullptr;
        for (const auto& t : trials) {
          if (search.found && to_outcome(t).offered == search.best.offered &&
              to_outcome(t).received == search.best.received) {
            best = &t;
          }
        }
        if (!opts.quiet) text << text_rfc2544(info, search, trials, best);
        json = json_report(info, trials, &search, best);
      } else {
        info.mode = opts.count ? "count" : (opts.rate_pps > 0 ? "rate" : "max");
        trials.push_back(
            summarize(engine.run_trial(opts.rate_pps, opts.duration_s, opts.count), opts.size_bytes, &opts.gw));
        if (!opts.quiet) text << text_trial(info, trials.back());
        json = json_report(info, trials, nullptr, nullptr);
      }
      if (opts.json) std::cout << json << std::flush;
      if (!opts.json_file.empty()) {
        std::ofstream f(opts.json_file);
        f << json;
        if (!f) {
          std::fprintf(stderr, "vnet-pktgen: cannot write %s\n", opts.json_file.c_str());
          status = 2;
        }
      }
    }
    engine.stop();
  }
  vnet::dp::eal_cleanup();
  return status;
}
