// options.h — vnet-pktgen command line (the part after the EAL arguments).
//
// Theory of operation
// -------------------
// `vnet-pktgen [EAL args] -- [generator options]`: rte_eal_init() consumes
// everything up to "--"; parse_options() gets the rest. Parsing is pure (no
// DPDK) so the port plan can be checked only once the ports are known:
// make_port_plans() turns tx/rx lists into per-port roles and destinations.
//
// Thread-safety
// -------------
// Parsed once on the main thread before traffic starts; read-only after.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "frame.h"
#include "gwload.h"

namespace vnet::perf {

struct GenOptions {
  std::vector<unsigned> tx_ports;  // generator port indexes (= ethdev ids in --vdev order)
  std::vector<unsigned> rx_ports;
  bool bidir = false;              // every port sends to the next one and receives
  std::size_t size_bytes = 64;     // frame size incl. FCS
  double rate_pps = 0;             // total offered rate; 0 = as fast as possible
  double duration_s = 10;          // one trial
  uint64_t count = 0;              // stop after this many frames offered (0 = use duration)
  unsigned burst = 32;
  FlowSpec flows;
  unsigned warmup_rounds = 2;
  double warmup_rate_pps = 1e6;
  double warmup_wait_s = 0.5;
  double link_timeout_s = 30;
  double drain_s = 0.1;             // keep receiving this long after the last frame
  bool rfc2544 = false;
  double loss_tolerance = 0;        // fraction (1e-4 = 0.01 %)
  double resolution = 0.005;        // of the first upper bound
  unsigned max_trials = 16;
  bool relearn = true;              // warm-up before every RFC 2544 trial
  bool json = false;                // JSON on stdout, text on stderr
  std::string json_file;            // also write JSON here
  std::string progress_file;        // cumulative counters every progress_interval_s
  double progress_interval_s = 1;
  bool quiet = false;
  uint32_t dst_mac_arp_ip = 0;      // resolve FlowSpec::dst_mac by ARP for this address (0 = no)
  uint32_t arp_reply_ip = 0;        // rx ports answer who-has for this address (0 = no)
  GwLoadSpec gw;                    // DHCP/DNS load on a port of its own (gwload.h)
};

struct ParseResult {
  std::optional<GenOptions> options;  // empty on error or --help
  std::string message;                // error text, or usage for --help
  bool help = false;
};

ParseResult parse_options(int argc, char** argv);
std::string usage();

// Role of one generator port in a run.
struct PortPlan {
  bool tx = false;
  bool rx = false;
  bool gw = false;              // the gateway-load port (neither tx nor rx of the measured traffic)
  std::vector<unsigned> dests;  // ports a tx port sends to
  uint32_t station_macs = 1;    // MACs it announces during warm-up
};

// Builds per-port plans for `port_count` ports; error text on failure.
std::optional<std::vector<PortPlan>> make_port_plans(const GenOptions& opts, unsigned port_count,
                                                     std::string& error);

}  // namespace vnet::perf
