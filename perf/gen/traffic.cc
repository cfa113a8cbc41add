// traffic.cc — see traffic.h.
#include "traffic.h"

#include "arp.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>

namespace vnet::perf {
namespace {

constexpr unsigned kMaxBurst = 64;
constexpr unsigned kRxRoundsPerLoop = 4;
constexpr unsigned kMaxPortsTracked = 16;

uint64_t realtime_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

struct TrafficEngine::PortState {
  uint16_t port_id = 0;                     // ethdev id
  unsigned index = 0;                       // generator port index (== port_id here)
  PortPlan plan;
  std::optional<FlowCursor> cursor;         // tx ports only
  uint64_t seq = 0;                         // next sequence number (48 bits)
  std::array<rte_mbuf*, kMaxBurst> pending{};  // unlimited mode: refused, to retry
  unsigned pending_count = 0;
  std::array<uint64_t, kMaxPortsTracked> next_seq_from{};  // per tx index: highest seq + 1
  uint32_t arp_ip = 0;                      // answers who-has for this address (0 = none)
  uint64_t arp_mac = 0;                     // ... with this MAC
};

TrafficEngine::TrafficEngine(const GenOptions& opts, std::vector<PortPlan> plans)
    : opts_(opts), plans_(std::move(plans)) {}

TrafficEngine::~TrafficEngine() { stop(); }

std::string TrafficEngine::setup() {
  tsc_hz_ = rte_get_tsc_hz();
  const unsigned n_ports = static_cast<unsigned>(plans_.size());
  const std::size_t data_size = frame_data_size(opts_.size_bytes);
  const uint16_t data_room = static_cast<uint16_t>(
      std::max<std::size_t>(RTE_MBUF_DEFAULT_BUF_SIZE, data_size + RTE_PKTMBUF_HEADROOM));
  const unsigned per_port = data_room > RTE_MBUF_DEFAULT_BUF_SIZE ? 4096 : 8192;
  const unsigned n_mbufs = per_port * n_ports + 4096 - 1;
  pool_ = rte_pktmbuf_pool_create("vnet_pktgen", n_mbufs, 256, 0, data_room,
                                  static_cast<int>(rte_socket_id()));
  if (pool_ == nullptr) {
    return std::string("mbuf pool: ") + rte_strerror(rte_errno) +
           " (give the EAL more memory: -m 512, or hugepages)";
  }
  for (unsigned i = 0; i < n_ports; ++i) {
    auto ps = std::make_unique<PortState>();
    ps->port_id = static_cast<uint16_t>(i);
    ps->index = i;
    ps->plan = plans_[i];
    if (!rte_eth_dev_is_valid_port(ps->port_id)) return "port " + std::to_string(i) + " is not valid";
    rte_eth_conf conf{};
    int rc = rte_eth_dev_configure(ps->port_id, 1, 1, &conf);
    if (rc < 0) return "port " + std::to_string(i) + " configure: " + rte_strerror(-rc);
    if (opts_.size_bytes > RTE_ETHER_MAX_LEN) {
      rc = rte_eth_dev_set_mtu(ps->port_id,
                               static_cast<uint16_t>(opts_.size_bytes - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN));
      if (rc < 0) return "port " + std::to_string(i) + " mtu: " + rte_strerror(-rc);
    }
    const int socket = rte_eth_dev_socket_id(ps->port_id);
    const unsigned sock = socket < 0 ? 0u : static_cast<unsigned>(socket);
    // 0 descriptors = the driver's ring size (virtio: the vring size, see queue_size=).
    rc = rte_eth_rx_queue_setup(ps->port_id, 0, 0, sock, nullptr, pool_);
    if (rc < 0) return "port " + std::to_string(i) + " rx queue: " + rte_strerror(-rc);
    rc = rte_eth_tx_queue_setup(ps->port_id, 0, 0, sock, nullptr);
    if (rc < 0) return "port " + std::to_string(i) + " tx queue: " + rte_strerror(-rc);
    rc = rte_eth_dev_start(ps->port_id);
    if (rc < 0) return "port " + std::to_string(i) + " start: " + rte_strerror(-rc);
    (void)rte_eth_promiscuous_enable(ps->port_id);  // not all PMDs support it; frames are ours anyway
    if (ps->plan.tx) ps->cursor.emplace(opts_.flows, i, ps->plan.dests, opts_.size_bytes);
    if (ps->plan.rx && opts_.arp_reply_ip != 0) {
      ps->arp_ip = opts_.arp_reply_ip;
      ps->arp_mac = station_mac(opts_.flows.mac_base, i, 0);
    }
    if (ps->plan.gw) {
      ps->arp_ip = opts_.gw.client_ip;
      ps->arp_mac = station_mac(opts_.flows.mac_base, i, 0);
    }
    ports_.push_back(std::move(ps));
  }
  started_ = true;
  return {};
}

bool TrafficEngine::wait_links(double timeout_s, std::string& down) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  for (;;) {
    down.clear();
    for (const auto& ps : ports_) {
      rte_eth_link link{};
      if (rte_eth_link_get_nowait(ps->port_id, &link) != 0 || link.link_status != RTE_ETH_LINK_UP) {
        if (!down.empty()) down += ',';
        down += std::to_string(ps->index);
      }
    }
    if (down.empty()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

uint64_t TrafficEngine::drain_rx(uint64_t until_tsc, bool stop_when_idle) {
  std::array<rte_mbuf*, kMaxBurst> pkts{};
  const uint64_t idle_tsc = tsc_hz_ / 50;  // 20 ms without a frame = drained
  uint64_t last_rx = rte_rdtsc();
  uint64_t total = 0;
  for (;;) {
    const uint64_t now = rte_rdtsc();
    if (now >= until_tsc) break;
    if (stop_when_idle && now - last_rx > idle_tsc) break;
    for (const auto& ps : ports_) {
      const uint16_t n = rte_eth_rx_burst(ps->port_id, 0, pkts.data(), kMaxBurst);
      if (n == 0) continue;
      last_rx = now;
      total += n;
      unsigned keep = 0;
      for (uint16_t i = 0; i < n; ++i) {
        if (!answer_arp(*ps, pkts[i])) pkts[keep++] = pkts[i];
      }
      if (keep > 0) rte_pktmbuf_free_bulk(pkts.data(), keep);
    }
  }
  return total;
}

bool TrafficEngine::answer_arp(PortState& ps, rte_mbuf* m) {
  if (ps.arp_ip == 0) return false;
  if (!arp_reply_in_place({rte_pktmbuf_mtod(m, uint8_t*), m->data_len}, ps.arp_ip, ps.arp_mac)) return false;
  if (rte_eth_tx_burst(ps.port_id, 0, &m, 1) == 0) rte_pktmbuf_free(m);
  ++arp_answered_;
  return true;
}

std::optional<uint64_t> TrafficEngine::resolve_mac(unsigned port_index, uint64_t src_mac, uint32_t src_ip,
                                                   uint32_t target_ip, double timeout_s) {
  if (port_index >= ports_.size()) return std::nullopt;
  PortState& asker = *ports_[port_index];
  const uint64_t end = rte_rdtsc() + static_cast<uint64_t>(timeout_s * static_cast<double>(tsc_hz_));
  uint64_t next_ask = 0;
  std::array<rte_mbuf*, kMaxBurst> pkts{};
  while (rte_rdtsc() < end) {
    if (stop_flag_ != nullptr && stop_flag_->load(std::memory_order_relaxed)) break;
    const uint64_t now = rte_rdtsc();
    if (now >= next_ask) {
      next_ask = now + tsc_hz_ / 10;
      rte_mbuf* m = rte_pktmbuf_alloc(pool_);
      if (m != nullptr) {
        const std::size_t len = build_arp_request({rte_pktmbuf_mtod(m, uint8_t*), kArpFrameSize}, src_mac,
                                                  src_ip, target_ip);
        m->data_len = static_cast<uint16_t>(len);
        m->pkt_len = static_cast<uint32_t>(len);
        if (rte_eth_tx_burst(asker.port_id, 0, &m, 1) == 0) rte_pktmbuf_free(m);
      }
    }
    for (const auto& ps : ports_) {
      const uint16_t n = rte_eth_rx_burst(ps->port_id, 0, pkts.data(), kMaxBurst);
      std::optional<uint64_t> found;
      for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (answer_arp(*ps, m)) continue;
        if (ps.get() == &asker && !found) {
          const auto arp = parse_arp({rte_pktmbuf_mtod(m, const uint8_t*), m->data_len});
          if (arp && arp->op == 2 && arp->sender_ip == target_ip) found = arp->sender_mac;
        }
        rte_pktmbuf_free(m);
      }
      if (found) return found;
    }
  }
  return std::nullopt;
}

void TrafficEngine::set_dst_mac(uint64_t mac) {
  opts_.flows.dst_mac = mac;
  for (auto& ps : ports_) {
    if (ps->plan.tx) ps->cursor.emplace(opts_.flows, ps->index, ps->plan.dests, opts_.size_bytes);
  }
}

std::string TrafficEngine::prepare_gateway(double timeout_s) {
  const GwLoadSpec& g = opts_.gw;
  if (!g.enabled) return {};
  if (g.port >= ports_.size()) return "gateway-load port " + std::to_string(g.port) + " does not exist";
  PortState& ps = *ports_[g.port];
  const auto mac = resolve_mac(g.port, ps.arp_mac, g.client_ip, g.gw_ip, timeout_s);
  if (!mac) {
    return "the gateway " + format_ipv4(g.gw_ip) + " did not answer ARP on port " + std::to_string(g.port) +
           " within " + std::to_string(static_cast<int>(timeout_s)) + " s";
  }
  gw_frames_.emplace(g, opts_.flows.mac_base, *mac);
  gw_port_ = &ps;
  return {};
}

void TrafficEngine::gw_send(uint64_t now, TokenBucket& bucket, GwCounters& c) {
  const GwLoadSpec& g = opts_.gw;
  if (g.rate_pps <= 0) return;
  std::array<rte_mbuf*, kMaxBurst> pkts{};
  const unsigned n = std::min(bucket.available(now), std::min(opts_.burst, kMaxBurst));
  if (n == 0) return;
  if (rte_pktmbuf_alloc_bulk(pool_, pkts.data(), n) != 0) return;
  std::array<bool, kMaxBurst> is_dhcp{};
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const std::span<uint8_t> out(rte_pktmbuf_mtod(m, uint8_t*), kGwMaxFrameSize);
    dhcp_credit_ += g.dhcp_share;
    std::size_t len = 0;
    if (dhcp_credit_ >= 1.0) {
      dhcp_credit_ -= 1.0;
      len = gw_frames_->dhcp_discover(out, next_client_);
      next_client_ = next_client_ + 1 >= g.dhcp_clients ? 0 : next_client_ + 1;
      is_dhcp[i] = true;
    } else {
      len = gw_frames_->dns_query(out, dns_id_++);
    }
    m->data_len = static_cast<uint16_t>(len);
    m->pkt_len = static_cast<uint32_t>(len);
  }
  const uint16_t sent = rte_eth_tx_burst(gw_port_->port_id, 0, pkts.data(), static_cast<uint16_t>(n));
  for (unsigned i = 0; i < sent; ++i) ++(is_dhcp[i] ? c.discovers : c.dns_queries);
  c.tx_full += n - sent;
  if (sent < n) rte_pktmbuf_free_bulk(pkts.data() + sent, n - sent);
  bucket.take(n);
}

void TrafficEngine::gw_poll(GwCounters& c) {
  std::array<rte_mbuf*, kMaxBurst> pkts{};
  std::array<rte_mbuf*, kMaxBurst> requests{};
  for (unsigned round = 0; round < kRxRoundsPerLoop; ++round) {
    const uint16_t n = rte_eth_rx_burst(gw_port_->port_id, 0, pkts.data(), kMaxBurst);
    if (n == 0) break;
    unsigned n_req = 0;
    unsigned keep = 0;
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      if (answer_arp(*gw_port_, m)) {
        ++c.arp_answered;
        continue;
      }
      pkts[keep++] = m;
      const GwReply r = classify_gw_reply({rte_pktmbuf_mtod(m, const uint8_t*), m->data_len});
      switch (r.kind) {
        case GwReplyKind::kDnsAnswer: ++c.dns_answers; break;
        case GwReplyKind::kDnsOther: ++c.dns_other; break;
        case GwReplyKind::kDhcpAck: ++c.acks; break;
        case GwReplyKind::kDhcpNak: ++c.naks; break;
        case GwReplyKind::kDhcpOffer: {
          ++c.offers;
          rte_mbuf* q = rte_pktmbuf_alloc(pool_);
          if (q == nullptr) break;
          const std::size_t len = gw_frames_->dhcp_request({rte_pktmbuf_mtod(q, uint8_t*), kGwMaxFrameSize},
                                                           r.client, r.yiaddr,
                                                           r.server_id != 0 ? r.server_id : opts_.gw.gw_ip);
          q->data_len = static_cast<uint16_t>(len);
          q->pkt_len = static_cast<uint32_t>(len);
          requests[n_req++] = q;
          break;
        }
        default: ++c.rx_other; break;
      }
    }
    if (keep > 0) rte_pktmbuf_free_bulk(pkts.data(), keep);
    if (n_req > 0) {
      const uint16_t sent = rte_eth_tx_burst(gw_port_->port_id, 0, requests.data(), static_cast<uint16_t>(n_req));
      c.requests += sent;
      c.tx_full += n_req - sent;
      if (sent < n_req) rte_pktmbuf_free_bulk(requests.data() + sent, n_req - sent);
    }
    if (n < kMaxBurst) break;
  }
}

void TrafficEngine::warmup() {
  if (opts_.warmup_rounds == 0) return;
  std::array<rte_mbuf*, kMaxBurst> pkts{};
  const std::size_t data_size = frame_data_size(kMinFrameSize);
  const unsigned burst = std::min(opts_.burst, kMaxBurst);
  for (unsigned round = 0; round < opts_.warmup_rounds; ++round) {
    TokenBucket bucket(opts_.warmup_rate_pps, tsc_hz_, rte_rdtsc(), burst);
    for (const auto& ps : ports_) {
      const uint32_t n_macs = ps->plan.station_macs;
      uint32_t k = 0;
      const uint64_t give_up = rte_rdtsc() + tsc_hz_ * 10;  // a stuck DUT must not hang us
      while (k < n_macs && rte_rdtsc() < give_up) {
        const unsigned n = std::min<unsigned>(bucket.available(rte_rdtsc()), n_macs - k);
        if (n == 0) {
          drain_rx(rte_rdtsc() + tsc_hz_ / 100000, false);  // 10 us
          continue;
        }
        if (rte_pktmbuf_alloc_bulk(pool_, pkts.data(), n) != 0) {
          drain_rx(rte_rdtsc() + tsc_hz_ / 10000, false);
          continue;
        }
        for (unsigned i = 0; i < n; ++i) {
          rte_mbuf* m = pkts[i];
          auto* data = rte_pktmbuf_mtod(m, uint8_t*);
          FlowCursor::build_learning({data, data_size}, opts_.flows.mac_base, ps->index, k + i,
                                     static_cast<uint32_t>(opts_.flows.src_ip.base));
          m->data_len = static_cast<uint16_t>(data_size);
          m->pkt_len = static_cast<uint32_t>(data_size);
        }
        unsigned sent = 0;
        while (sent < n && rte_rdtsc() < give_up) {
          sent += rte_eth_tx_burst(ps->port_id, 0, pkts.data() + sent, static_cast<uint16_t>(n - sent));
          if (sent < n) drain_rx(rte_rdtsc() + tsc_hz_ / 100000, false);
        }
        if (sent < n) rte_pktmbuf_free_bulk(pkts.data() + sent, n - sent);
        bucket.take(n);
        k += n;
      }
    }
    drain_rx(rte_rdtsc() + tsc_hz_ / 10, false);  // 100 ms between rounds
  }
  drain_rx(rte_rdtsc() + static_cast<uint64_t>(opts_.warmup_wait_s * static_cast<double>(tsc_hz_)), false);
}

const TrialReport& TrafficEngine::run_trial(double rate_pps, double duration_s, uint64_t count) {
  report_.requested_pps = rate_pps;
  report_.counters = {};
  report_.latency.clear();
  report_.gw = {};
  TrialCounters& c = report_.counters;
  GwCounters& gwc = report_.gw;
  LatencyHistogram& lat = report_.latency;

  const bool limited = rate_pps > 0;
  const unsigned burst = std::min(opts_.burst, kMaxBurst);
  const double ns_per_tsc = 1e9 / static_cast<double>(tsc_hz_);
  unsigned n_tx = 0;
  for (const auto& ps : ports_) n_tx += ps->plan.tx ? 1 : 0;
  for (auto& ps : ports_) ps->next_seq_from.fill(0);

  std::FILE* progress = nullptr;
  if (!opts_.progress_file.empty()) progress = std::fopen(opts_.progress_file.c_str(), "a");

  const uint64_t start = rte_rdtsc();
  const uint64_t end = start + static_cast<uint64_t>(duration_s * static_cast<double>(tsc_hz_));
  const uint64_t progress_step =
      std::max<uint64_t>(1, static_cast<uint64_t>(opts_.progress_interval_s * static_cast<double>(tsc_hz_)));
  uint64_t next_progress = start + progress_step;
  uint64_t remaining = count;
  std::vector<TokenBucket> buckets;
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    buckets.emplace_back(limited ? rate_pps / std::max(n_tx, 1u) : 0.0, tsc_hz_, start, burst);
  }
  std::array<rte_mbuf*, kMaxBurst> pkts{};
  const std::size_t data_size = frame_data_size(opts_.size_bytes);
  TokenBucket gw_bucket(opts_.gw.rate_pps, tsc_hz_, start, std::min(opts_.burst, kMaxBurst));
  const uint32_t src_first = static_cast<uint32_t>(opts_.flows.src_ip.base);
  const uint32_t src_count = std::max<uint32_t>(opts_.flows.src_ip.count, 1);

  auto poll_rx = [&] {
    for (auto& ps : ports_) {
      if (!ps->plan.rx) continue;
      for (unsigned round = 0; round < kRxRoundsPerLoop; ++round) {
        const uint16_t n = rte_eth_rx_burst(ps->port_id, 0, pkts.data(), static_cast<uint16_t>(burst));
        if (n == 0) break;
        const uint64_t now = rte_rdtsc();
        unsigned keep = 0;
        for (uint16_t i = 0; i < n; ++i) {
          rte_mbuf* m = pkts[i];
          const auto stamp = read_stamp({rte_pktmbuf_mtod(m, const uint8_t*), m->data_len});
          if (!stamp || stamp->tx_index == kWarmupTxIndex) {
            if (!stamp && answer_arp(*ps, m)) continue;
            pkts[keep++] = m;
            ++c.rx_other;
            continue;
          }
          pkts[keep++] = m;
          if (stamp->rx_index != ps->index) {
            ++c.misdelivered;
            continue;
          }
          ++c.received;
          c.rx_bytes += m->pkt_len;
          const uint8_t* sip = rte_pktmbuf_mtod_offset(m, const uint8_t*, kEthHeaderSize + 12);
          const uint32_t src = (uint32_t{sip[0]} << 24) | (uint32_t{sip[1]} << 16) | (uint32_t{sip[2]} << 8) | sip[3];
          if (src - src_first >= src_count) ++c.src_rewritten;
          if (now > stamp->tsc) lat.record(static_cast<uint64_t>(static_cast<double>(now - stamp->tsc) * ns_per_tsc));
          uint64_t& next = ps->next_seq_from[stamp->tx_index % kMaxPortsTracked];
          if (stamp->seq < next) {
            ++c.reordered;
          } else {
            next = stamp->seq + 1;
          }
        }
        if (keep > 0) rte_pktmbuf_free_bulk(pkts.data(), keep);
        if (n < burst) break;
      }
    }
    if (gw_port_ != nullptr) gw_poll(gwc);
  };

  uint64_t stop_tsc = start;
  for (;;) {
    const uint64_t now = rte_rdtsc();
    if (stop_flag_ != nullptr && stop_flag_->load(std::memory_order_relaxed)) {
      stop_tsc = now;
      break;
    }
    if (count == 0 ? now >= end : remaining == 0) {
      stop_tsc = now;
      break;
    }
    for (std::size_t pi = 0; pi < ports_.size(); ++pi) {
      PortState& ps = *ports_[pi];
      if (!ps.plan.tx) continue;
      if (!limited && ps.pending_count > 0) {
        // Backpressure: retry what the ring refused, with a fresh timestamp.
        for (unsigned i = 0; i < ps.pending_count; ++i) {
          std::memcpy(rte_pktmbuf_mtod(ps.pending[i], uint8_t*) + kStampOffset + 10, &now, 8);
        }
        const uint16_t sent = rte_eth_tx_burst(ps.port_id, 0, ps.pending.data(),
                                               static_cast<uint16_t>(ps.pending_count));
        c.sent += sent;
        c.offered += sent;
        c.tx_full += ps.pending_count - sent;
        if (count != 0) remaining -= sent;
        std::memmove(ps.pending.data(), ps.pending.data() + sent,
                     (ps.pending_count - sent) * sizeof(rte_mbuf*));
        ps.pending_count -= sent;
        continue;
      }
      unsigned n = buckets[pi].available(now);
      if (count != 0) n = static_cast<unsigned>(std::min<uint64_t>(n, remaining));
      if (n == 0) continue;
      if (rte_pktmbuf_alloc_bulk(pool_, pkts.data(), n) != 0) {
        c.alloc_fail += n;
        continue;
      }
      for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        ps.cursor->build_next({rte_pktmbuf_mtod(m, uint8_t*), data_size}, ps.seq++, now);
        m->data_len = static_cast<uint16_t>(data_size);
        m->pkt_len = static_cast<uint32_t>(data_size);
      }
      const uint16_t sent = rte_eth_tx_burst(ps.port_id, 0, pkts.data(), static_cast<uint16_t>(n));
      c.sent += sent;
      c.tx_full += n - sent;
      if (limited) {
        c.offered += n;
        buckets[pi].take(n);
        if (count != 0) remaining -= n;
        if (sent < n) rte_pktmbuf_free_bulk(pkts.data() + sent, n - sent);
      } else {
        c.offered += sent;
        if (count != 0) remaining -= sent;
        std::copy(pkts.begin() + sent, pkts.begin() + n, ps.pending.begin());
        ps.pending_count = n - sent;
      }
    }
    if (gw_port_ != nullptr) gw_send(now, gw_bucket, gwc);
    poll_rx();
    if (progress != nullptr && now >= next_progress) {
      next_progress += progress_step;
      std::fprintf(progress, "%llu %.3f %llu %llu %llu\n", static_cast<unsigned long long>(realtime_ns()),
                   static_cast<double>(now - start) / static_cast<double>(tsc_hz_),
                   static_cast<unsigned long long>(c.offered), static_cast<unsigned long long>(c.sent),
                   static_cast<unsigned long long>(c.received));
      std::fflush(progress);
    }
  }
  for (auto& ps : ports_) {
    if (ps->pending_count > 0) rte_pktmbuf_free_bulk(ps->pending.data(), ps->pending_count);
    ps->pending_count = 0;
  }
  report_.duration_s = static_cast<double>(stop_tsc - start) / static_cast<double>(tsc_hz_);
  c.arp_answered = arp_answered_;
  // Drain: frames still in the DUT count; stop early once nothing arrives for a while.
  const uint64_t drain_end = rte_rdtsc() + static_cast<uint64_t>(opts_.drain_s * static_cast<double>(tsc_hz_));
  const uint64_t idle_tsc = tsc_hz_ / 50;
  uint64_t last_received = c.received + c.misdelivered + c.rx_other;
  uint64_t last_change = rte_rdtsc();
  for (uint64_t now = rte_rdtsc(); now < drain_end; now = rte_rdtsc()) {
    poll_rx();
    const uint64_t total = c.received + c.misdelivered + c.rx_other;
    if (total != last_received) {
      last_received = total;
      last_change = now;
    } else if (now - last_change > idle_tsc && c.received + c.misdelivered >= c.sent) {
      break;
    }
  }
  if (progress != nullptr) {
    std::fprintf(progress, "%llu %.3f %llu %llu %llu end\n", static_cast<unsigned long long>(realtime_ns()),
                 report_.duration_s, static_cast<unsigned long long>(c.offered),
                 static_cast<unsigned long long>(c.sent), static_cast<unsigned long long>(c.received));
    std::fclose(progress);
  }
  return report_;
}

void TrafficEngine::stop() {
  if (!started_) return;
  for (const auto& ps : ports_) {
    (void)rte_eth_dev_stop(ps->port_id);
    (void)rte_eth_dev_close(ps->port_id);
  }
  ports_.clear();
  gw_port_ = nullptr;
  rte_mempool_free(pool_);
  pool_ = nullptr;
  started_ = false;
}

}  // namespace vnet::perf
