// pktgen_test.cc — unit tests of vnet-pktgen's DPDK-free parts (no EAL).
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <set>
#include <vector>

#include "frame.h"
#include "options.h"
#include "rfc2544.h"
#include "stats.h"

namespace vnet::perf {
namespace {

std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> v;
  for (auto& a : args) v.push_back(a.data());
  return v;
}

TEST(Frame, MacAndIpv4RoundTrip) {
  EXPECT_EQ(parse_mac("02:00:00:00:00:01"), 0x020000000001ULL);
  EXPECT_EQ(format_mac(0x0a0b0c0d0e0fULL), "0a:0b:0c:0d:0e:0f");
  EXPECT_FALSE(parse_mac("02:00:00:00:00"));
  EXPECT_FALSE(parse_mac("02:00:00:00:00:01:02"));
  EXPECT_EQ(parse_ipv4("10.1.2.3"), 0x0a010203u);
  EXPECT_FALSE(parse_ipv4("10.1.2.256"));
  EXPECT_EQ(format_ipv4(0xc0a87a01), "192.168.122.1");
  EXPECT_EQ(station_mac(0x020000000000ULL, 1, 5), 0x020001000005ULL);
}

TEST(Frame, Ipv4ChecksumMatchesRfc1071Example) {
  // Header from a captured packet; its checksum is 0xb1e6.
  std::array<uint8_t, 20> h = {0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06,
                               0x00, 0x00, 0xac, 0x10, 0x0a, 0x63, 0xac, 0x10, 0x0a, 0x0c};
  EXPECT_EQ(ipv4_header_checksum(h), 0xb1e6);
}

TEST(Frame, BuildsStampedFramesThatStepThroughTheFlowSet) {
  FlowSpec spec;
  spec.src_mac_count = 3;
  spec.dst_mac_count = 3;
  spec.src_ip.count = 2;
  const std::array<unsigned, 1> dests = {1};
  FlowCursor cursor(spec, 0, dests, 64);
  std::array<uint8_t, 60> frame{};
  std::set<std::pair<uint64_t, uint64_t>> pairs;
  std::set<uint32_t> src_ips;
  for (uint64_t i = 0; i < 6; ++i) {
    EXPECT_EQ(cursor.build_next(frame, i, 1000 + i), 1u);
    uint64_t dst = 0, src = 0;
    for (int b = 0; b < 6; ++b) {
      dst = dst << 8 | frame[b];
      src = src << 8 | frame[6 + b];
    }
    pairs.insert({src, dst});
    EXPECT_EQ(dst, station_mac(spec.mac_base, 1, static_cast<uint32_t>(i % 3)));
    EXPECT_EQ(src, station_mac(spec.mac_base, 0, static_cast<uint32_t>(i % 3)));
    src_ips.insert(static_cast<uint32_t>(frame[26] << 24 | frame[27] << 16 | frame[28] << 8 | frame[29]));
    EXPECT_EQ(ipv4_header_checksum({frame.data() + 14, 20}), 0) << "checksum must verify";
    EXPECT_EQ(frame[16] << 8 | frame[17], 46) << "IPv4 total length of a 64 B frame";
    const auto stamp = read_stamp(frame);
    ASSERT_TRUE(stamp);
    EXPECT_EQ(stamp->tx_index, 0u);
    EXPECT_EQ(stamp->rx_index, 1u);
    EXPECT_EQ(stamp->seq, i);
    EXPECT_EQ(stamp->tsc, 1000 + i);
  }
  EXPECT_EQ(pairs.size(), 3u);
  EXPECT_EQ(src_ips.size(), 2u);
  EXPECT_EQ(distinct_flows(spec, 1), 6u);
}

TEST(Frame, LearningFramesAreBroadcastAndIgnored) {
  std::array<uint8_t, 60> frame{};
  FlowCursor::build_learning(frame, 0x020000000000ULL, 2, 7, 0x0a000001);
  for (int b = 0; b < 6; ++b) EXPECT_EQ(frame[b], 0xff);
  const auto stamp = read_stamp(frame);
  ASSERT_TRUE(stamp);
  EXPECT_EQ(stamp->tx_index, kWarmupTxIndex);
}

TEST(Frame, ForeignFramesHaveNoStamp) {
  std::array<uint8_t, 60> frame{};
  EXPECT_FALSE(read_stamp(frame));
  EXPECT_FALSE(read_stamp(std::span<const uint8_t>(frame.data(), 40)));
}

TEST(Latency, PercentilesWithinBucketError) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 10000; ++v) h.record(v);
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 10000u);
  EXPECT_NEAR(h.mean(), 5000.5, 0.01);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.99)), 9900.0, 9900.0 * 0.02);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.5)), 5000.0, 5000.0 * 0.02);
  EXPECT_EQ(h.percentile(1.0), 10000u);
  LatencyHistogram empty;
  EXPECT_EQ(empty.percentile(0.99), 0u);
  EXPECT_EQ(empty.min(), 0u);
}

TEST(TokenBucket, PacesAndCapsCredit) {
  const uint64_t hz = 1'000'000'000;
  TokenBucket tb(1e6, hz, 0, 32);  // 1 Mpps: one packet per 1000 cycles
  EXPECT_EQ(tb.available(0), 0u);
  EXPECT_EQ(tb.available(5000), 5u);
  tb.take(5);
  EXPECT_EQ(tb.available(5000), 0u);
  EXPECT_EQ(tb.available(10'000'000), 32u) << "credit capped at one burst";
  tb.take(32);
  EXPECT_EQ(tb.available(10'000'000), 0u);
  EXPECT_EQ(tb.available(10'010'000), 10u);
  TokenBucket unlimited(0, hz, 0, 32);
  EXPECT_EQ(unlimited.available(0), 32u);
}

// A fake DUT that forwards everything up to `capacity` pps and drops the rest.
TrialOutcome fake_dut(double rate, double capacity, double generator_max) {
  TrialOutcome t;
  const double offered = rate > 0 ? rate : generator_max;
  t.requested_pps = rate;
  t.offered_pps = offered;
  t.accepted_pps = std::min(offered, capacity);
  t.received_pps = std::min(offered, capacity);
  t.offered = static_cast<uint64_t>(offered);
  t.received = static_cast<uint64_t>(t.received_pps);
  return t;
}

TEST(Rfc2544, FindsTheCapacityWithinResolution) {
  SearchConfig cfg;
  cfg.resolution = 0.001;
  cfg.max_trials = 40;
  const auto r = rfc2544_search(cfg, [](double rate) { return fake_dut(rate, 7.3e6, 12e6); });
  ASSERT_TRUE(r.found);
  EXPECT_FALSE(r.generator_bound);
  EXPECT_LE(r.best.offered_pps, 7.3e6);
  EXPECT_GE(r.best.offered_pps, 7.3e6 * 0.99);
}

TEST(Rfc2544, GeneratorBoundWhenMaxPasses) {
  const auto r = rfc2544_search(SearchConfig{}, [](double rate) { return fake_dut(rate, 20e6, 12e6); });
  ASSERT_TRUE(r.found);
  EXPECT_TRUE(r.generator_bound);
  EXPECT_EQ(r.trials.size(), 1u);
}

TEST(Rfc2544, LossToleranceAcceptsSmallLoss) {
  TrialOutcome t;
  t.offered = 1'000'000;
  t.received = 999'950;  // 0.005 % loss
  EXPECT_FALSE(trial_passes(t, 0.0));
  EXPECT_TRUE(trial_passes(t, 1e-4));
  EXPECT_FALSE(trial_passes(t, 1e-5));
}

TEST(Rfc2544, RespectsTheTrialBudget) {
  SearchConfig cfg;
  cfg.max_trials = 5;
  cfg.resolution = 1e-6;
  const auto r = rfc2544_search(cfg, [](double rate) { return fake_dut(rate, 3e6, 12e6); });
  EXPECT_EQ(r.trials.size(), 5u);
}

TEST(Options, ParsesFlowsAndRates) {
  std::vector<std::string> args = {"vnet-pktgen", "--size", "1518", "--rate", "2.5", "--flows=1000",
                                   "--loss-tolerance", "0.0001", "--rfc2544", "--json"};
  auto argv = argv_of(args);
  const auto r = parse_options(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(r.options) << r.message;
  EXPECT_EQ(r.options->size_bytes, 1518u);
  EXPECT_DOUBLE_EQ(r.options->rate_pps, 2.5e6);
  EXPECT_EQ(r.options->flows.src_mac_count, 1000u);
  EXPECT_EQ(r.options->flows.dst_mac_count, 1000u);
  EXPECT_TRUE(r.options->rfc2544);
  EXPECT_TRUE(r.options->json);
  EXPECT_DOUBLE_EQ(r.options->loss_tolerance, 1e-4);
}

TEST(Options, RejectsBadValues) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"g", "--size", "63"}, {"g", "--rate"}, {"g", "--bogus"}, {"g", "--flow-fields", "vlan", "--flows", "2"},
           {"g", "--src-port", "65535", "--src-ports", "2"}}) {
    auto argv = argv_of(args);
    EXPECT_FALSE(parse_options(static_cast<int>(argv.size()), argv.data()).options) << args[1];
  }
}

TEST(Options, PortPlans) {
  std::vector<std::string> args = {"g", "--flows", "4"};
  auto argv = argv_of(args);
  const auto opts = *parse_options(static_cast<int>(argv.size()), argv.data()).options;
  std::string error;
  auto plans = make_port_plans(opts, 3, error);
  ASSERT_TRUE(plans) << error;
  EXPECT_TRUE((*plans)[0].tx);
  EXPECT_FALSE((*plans)[0].rx);
  EXPECT_EQ((*plans)[0].dests, (std::vector<unsigned>{1, 2}));
  EXPECT_TRUE((*plans)[2].rx);
  EXPECT_EQ((*plans)[1].station_macs, 4u);
  auto one = make_port_plans(opts, 1, error);
  ASSERT_TRUE(one);
  EXPECT_EQ((*one)[0].dests, (std::vector<unsigned>{0}));
  EXPECT_FALSE(make_port_plans(opts, 0, error));

  GenOptions bidir = opts;
  bidir.bidir = true;
  auto b = make_port_plans(bidir, 2, error);
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)[0].dests, (std::vector<unsigned>{1}));
  EXPECT_EQ((*b)[1].dests, (std::vector<unsigned>{0}));
}

}  // namespace
}  // namespace vnet::perf
