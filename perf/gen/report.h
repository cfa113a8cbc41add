// report.h — derived figures and the text / JSON reports of vnet-pktgen (no DPDK).
//
// Theory of operation
// -------------------
// TrialReport holds raw counters; summarize() turns one into rates:
//   Mpps  = frames / sending time;  Gbps (L2) counts the frame with FCS,
//   Gbps (L1) adds preamble + SFD + inter-frame gap (20 bytes), RFC 2544 style.
//   lost  = offered - received for rate-limited trials (refused frames are
//           lost), sent - received for unlimited ones (refusals are only
//           backpressure); never negative.
//   bound = "dut" when more than 1 % of the unlimited trial's tx attempts
//           were refused by a full ring, else "generator".
// The JSON schema is documented in perf/README.md ("vnet-pktgen --json").
//
// Thread-safety
// -------------
// Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "options.h"
#include "rfc2544.h"
#include "traffic.h"

namespace vnet::perf {

struct RunInfo {
  const GenOptions* opts = nullptr;
  const std::vector<PortPlan>* plans = nullptr;
  uint64_t tsc_hz = 0;
  uint64_t flows_per_tx_port = 0;  // distinct flows
  std::string mode;                // "max", "rate", "count" or "rfc2544"
};

struct TrialSummary {
  double requested_mpps = 0;  // 0 = max
  double duration_s = 0;
  uint64_t offered = 0, sent = 0, tx_full = 0, received = 0, lost = 0;
  uint64_t misdelivered = 0, reordered = 0, rx_other = 0, alloc_fail = 0;
  double loss_ratio = 0;
  double offered_mpps = 0, tx_mpps = 0, rx_mpps = 0;
  double rx_gbps_l2 = 0, rx_gbps_l1 = 0;
  std::string bound;  // "dut", "generator" or "" (rate-limited)
  uint64_t lat_samples = 0, lat_min_ns = 0, lat_p50_ns = 0, lat_p99_ns = 0, lat_max_ns = 0;
  double lat_avg_ns = 0;
  uint64_t arp_answered = 0;
  uint64_t src_rewritten = 0;  // received with an IPv4 source outside the sent range (SNAT)
  bool gw_enabled = false;   // --gw-port: the gateway load figures below are meaningful
  double gw_rate_pps = 0;    // requested
  GwCounters gw;
  double gw_answers_per_s = 0;      // DNS answers + OFFERs + ACKs per second of the trial
  double gw_dns_answers_per_s = 0;
  double gw_dora_per_s = 0;         // ACKs per second
};

TrialSummary summarize(const TrialReport& r, std::size_t size_bytes, const GwLoadSpec* gw = nullptr);
TrialOutcome to_outcome(const TrialSummary& s);

std::string text_trial(const RunInfo& info, const TrialSummary& s);
std::string text_rfc2544(const RunInfo& info, const SearchResult& search,
                         const std::vector<TrialSummary>& trials, const TrialSummary* best);
std::string json_report(const RunInfo& info, const std::vector<TrialSummary>& trials,
                        const SearchResult* search, const TrialSummary* best);

}  // namespace vnet::perf
