#include "dataplane/slow_path.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <sys/prctl.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <thread>

#include "dataplane/net/arp.h"
#include "dataplane/net/packet_view.h"

namespace vnet::dp {

namespace {

uint64_t steady_ns() noexcept {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// FrameOut for one gateway during one handler call.
class Injector final : public FrameOut {
 public:
  Injector(SlowPath& sp, const GatewayBinding& gw) : sp_(sp), gw_(gw) {}
  bool send(std::span<const uint8_t> frame, uint16_t vlan) override {
    return sp_.inject(gw_, frame, vlan);
  }

 private:
  SlowPath& sp_;
  const GatewayBinding& gw_;
};

}  // namespace

SlowPath::SlowPath(SlowPathDeps deps)
    : deps_(std::move(deps)), gw_counters_(std::make_unique<GatewayCounters[]>(kMaxPorts)) {
  punt_buf_.resize(kMaxFrameSize + net::kVlanTagSize);
  inject_buf_.resize(kMaxFrameSize + net::kVlanTagSize);
}

bool SlowPath::inject(const GatewayBinding& gw, std::span<const uint8_t> frame,
                      uint16_t vlan) noexcept {
  GatewayCounters& c = gw_counters_[gw.port];
  if (frame.size() < net::kEtherHdrSize || frame.size() > kMaxFrameSize || vlan > net::kVlanIdMax) {
    c.drops.add(DropReason::kInjectInvalid);
    return false;
  }
  // The gateway port always carries one tag: VID 0 for the untagged domain.
  uint8_t* d = inject_buf_.data();
  std::memcpy(d, frame.data(), 12);
  d[12] = 0x81;
  d[13] = 0x00;
  d[14] = static_cast<uint8_t>(vlan >> 8);
  d[15] = static_cast<uint8_t>(vlan);
  std::memcpy(d + 16, frame.data() + 12, frame.size() - 12);
  const size_t total = frame.size() + net::kVlanTagSize;
  rte_mbuf* head = rte_pktmbuf_alloc(deps_.pool);
  if (head == nullptr) {
    c.drops.add(DropReason::kInjectNoMbuf);
    return false;
  }
  rte_mbuf* seg = head;
  size_t off = 0;
  while (true) {
    const size_t n = std::min<size_t>(rte_pktmbuf_tailroom(seg), total - off);
    std::memcpy(rte_pktmbuf_mtod_offset(seg, uint8_t*, seg->data_len), d + off, n);
    seg->data_len = static_cast<uint16_t>(seg->data_len + n);
    off += n;
    if (off == total) break;
    rte_mbuf* next = rte_pktmbuf_alloc(deps_.pool);
    if (next == nullptr) {
      rte_pktmbuf_free(head);
      c.drops.add(DropReason::kInjectNoMbuf);
      return false;
    }
    seg->next = next;
    head->nb_segs = static_cast<uint16_t>(head->nb_segs + 1);
    seg = next;
  }
  head->pkt_len = static_cast<uint32_t>(total);
  if (rte_ring_enqueue(gw.in, head) != 0) {
    rte_pktmbuf_free(head);
    c.drops.add(DropReason::kInjectRingFull);
    return false;
  }
  c.injected.add();
  return true;
}

uint32_t SlowPath::drain_gateway(GatewayBinding& gw, uint64_t now) noexcept {
  GatewayCounters& c = gw_counters_[gw.port];
  Injector out(*this, gw);
  uint32_t done = 0;
  std::array<rte_mbuf*, kBurst> pkts;
  // Bounded per pass so commands, learning and other gateways are not starved.
  while (done < 8 * kBurst) {
    const unsigned n = rte_ring_dequeue_burst(gw.out, reinterpret_cast<void**>(pkts.data()),
                                              kBurst, nullptr);
    if (n == 0) break;
    for (unsigned i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      const uint32_t len = m->pkt_len;
      if (len < net::kEtherHdrSize || len > kMaxFrameSize + net::kVlanTagSize) {
        c.drops.add(len < net::kEtherHdrSize ? DropReason::kRunt : DropReason::kMtuExceeded);
        rte_pktmbuf_free(m);
        continue;
      }
      uint8_t* buf = punt_buf_.data();
      const void* p = rte_pktmbuf_read(m, 0, len, buf);
      if (p != buf) std::memcpy(buf, p, len);
      rte_pktmbuf_free(m);
      std::span<const uint8_t> frame(buf, len);
      uint16_t vlan = kNoVlan;
      if (len >= net::kEtherHdrSize + net::kVlanTagSize && buf[12] == 0x81 && buf[13] == 0x00) {
        vlan = static_cast<uint16_t>(((buf[14] << 8) | buf[15]) & 0x0fff);
        std::memmove(buf + net::kVlanTagSize, buf, 12);
        frame = std::span<const uint8_t>(buf + net::kVlanTagSize, len - net::kVlanTagSize);
      }
      c.punted.add();
      if (vlan == kNoVlan) {
        if (L3Binding* l3 = l3_of(gw.network)) snoop_inside(*l3, frame, now);
      }
      try {
        gw.handler->on_frame(frame, vlan, now, out);
      } catch (...) {
        c.drops.add(DropReason::kPuntHandlerError);
      }
    }
    done += n;
  }
  return done;
}

bool SlowPath::conversing() const noexcept {
  for (const GatewayBinding* gw : gateways_)
    if (gw->handler->conversing()) return true;
  return false;
}

void SlowPath::tick_gateways(uint64_t now) noexcept {
  const uint64_t steady = steady_ns();
  if (steady < next_tick_steady_ns_) return;
  next_tick_steady_ns_ = steady + deps_.tick_interval_ns;
  for (GatewayBinding* gw : gateways_) {
    Injector out(*this, *gw);
    try {
      gw->handler->on_tick(now, out);
    } catch (...) {
      gw_counters_[gw->port].drops.add(DropReason::kPuntHandlerError);
    }
  }
}

void SlowPath::apply(const LearnEvent& ev, const ConfigSnapshot* snap, uint64_t now) noexcept {
  counters_.learn_events.add();
  const PortState* port = snap != nullptr ? snap->port(ev.port) : nullptr;
  const NetworkState* net = snap != nullptr ? snap->network(ev.key.network) : nullptr;
  if (port == nullptr || net == nullptr || port->network != ev.key.network) {
    counters_.learn_stale.add();
    return;
  }
  const bool gateway_mac = port->gateway && net->has_gateway && ev.key.mac == net->gateway_mac;
  switch (gateway_mac ? deps_.fdb->learn_static(ev.key, ev.port, now)
                      : deps_.fdb->learn(ev.key, ev.port, now, net->mac_limit)) {
    case LearnResult::kAdded: counters_.learned.add(); break;
    case LearnResult::kMoved: counters_.moved.add(); break;
    case LearnResult::kRefreshed: break;
    case LearnResult::kLimit:
    case LearnResult::kTableFull: counters_.drops.add(DropReason::kFdbFull); break;
    case LearnResult::kStatic: counters_.drops.add(DropReason::kGatewayMacSpoofed); break;
  }
}

void SlowPath::execute(const SlowPathCommand& cmd, uint64_t now) noexcept {
  Fdb& fdb = *deps_.fdb;
  switch (cmd.op) {
    case SlowPathOp::kFlushNetwork: fdb.flush_network(cmd.network); break;
    case SlowPathOp::kFlushPort: fdb.flush_port(cmd.port); break;
    case SlowPathOp::kFlushNetworkPort: fdb.flush_network_port(cmd.network, cmd.port); break;
    case SlowPathOp::kFlushAll: fdb.flush_all(); break;
    case SlowPathOp::kDump:
      if (cmd.dump_out != nullptr) {
        // The slow path may allocate; a bad_alloc here is fatal like anywhere else.
        fdb.dump(*cmd.dump_out, now,
                 cmd.all_networks != 0 ? std::nullopt : std::optional<uint16_t>(cmd.network));
      }
      break;
    case SlowPathOp::kAttachGateway:
      if (cmd.gateway != nullptr) {
        GatewayBinding* gw = cmd.gateway;
        std::erase_if(gateways_, [&](const GatewayBinding* g) { return g->network == gw->network; });
        gateways_.push_back(gw);
        fdb.learn_static(FdbKey{gw->network, kNoVlan, gw->mac, 0}, gw->port, now);
        next_tick_steady_ns_ = 0;
      }
      break;
    case SlowPathOp::kDetachGateway:
      std::erase_if(gateways_, [&](const GatewayBinding* g) { return g->network == cmd.network; });
      break;
    case SlowPathOp::kAttachL3:
      if (cmd.l3 != nullptr) {
        L3Binding* l3 = cmd.l3;
        std::erase_if(l3_, [&](const L3Binding* b) { return b->network == l3->network; });
        l3_.push_back(l3);
        l3->next_hop_refresh_ns = 0;  // resolve the next hop now
      }
      break;
    case SlowPathOp::kDetachL3:
      std::erase_if(l3_, [&](const L3Binding* b) { return b->network == cmd.network; });
      break;
  }
  counters_.commands.add();
  completed_seq_.store(cmd.seq, std::memory_order_release);
}

uint32_t SlowPath::poll_once() noexcept {
  const ConfigSnapshot* snap = deps_.publisher->load();
  const uint64_t now = deps_.clock->now_ns();
  uint32_t work = 0;
  std::array<LearnEvent, 64> events;
  for (TypedRing<LearnEvent>* ring : deps_.learn_rings) {
    unsigned n;
    while ((n = ring->pop_burst(events.data(), events.size())) > 0) {
      for (unsigned i = 0; i < n; ++i) apply(events[i], snap, now);
      work += n;
    }
  }
  if (deps_.commands != nullptr) {
    std::array<SlowPathCommand, 8> cmds;
    const unsigned n = deps_.commands->pop_burst(cmds.data(), cmds.size());
    for (unsigned i = 0; i < n; ++i) execute(cmds[i], now);
    work += n;
  }
  for (GatewayBinding* gw : gateways_) work += drain_gateway(*gw, now);
  if (!l3_.empty() || deps_.punt_ring != nullptr) work += drain_punt(now);
  if (!l3_.empty()) {
    std::array<ResolveRequest, 32> reqs;
    for (TypedRing<ResolveRequest>* ring : deps_.resolve_rings) {
      const unsigned n = ring->pop_burst(reqs.data(), reqs.size());
      for (unsigned i = 0; i < n; ++i)
        if (L3Binding* l3 = l3_of(reqs[i].network)) resolve(*l3, reqs[i].ip, now);
      work += n;
    }
    l3_timers(now);
  }
  if (!gateways_.empty()) tick_gateways(now);
  if (now >= next_sweep_ns_) {
    next_sweep_ns_ = now + deps_.sweep_interval_ns;
    if (snap != nullptr) {
      const uint32_t aged = deps_.fdb->age(now, snap->ageing_ns);
      counters_.aged.add(aged);
    }
  }
  deps_.fdb->reclaim();
  deps_.publisher->quiescent(deps_.reader_id);
  return work;
}

GatewayBinding* SlowPath::gateway_of(uint16_t network) noexcept {
  for (GatewayBinding* g : gateways_)
    if (g->network == network) return g;
  return nullptr;
}

L3Binding* SlowPath::l3_of(uint16_t network) noexcept {
  for (L3Binding* b : l3_)
    if (b->network == network) return b;
  return nullptr;
}

namespace {

constexpr size_t kArpFrameSize = net::kEtherHdrSize + sizeof(net::ArpHdr);
constexpr size_t kMinFrameSize = 60;  // IEEE 802.3 minimum without FCS

// An Ethernet + ARP frame (padded to the minimum frame size).
std::array<uint8_t, kMinFrameSize> arp_frame(const net::MacAddr& eth_dst, uint16_t op,
                                             const net::MacAddr& sha, uint32_t spa,
                                             const net::MacAddr& tha, uint32_t tpa) noexcept {
  std::array<uint8_t, kMinFrameSize> f{};
  net::PacketView v(reinterpret_cast<std::byte*>(f.data()), f.size());
  auto* eth = v.header<net::EtherHdr>(0);
  eth->dst = eth_dst;
  eth->src = sha;
  eth->ether_type = net::Be16{net::kEtherTypeArp};
  auto* arp = v.header<net::ArpHdr>(net::kEtherHdrSize);
  arp->htype = net::Be16{net::kArpHtypeEthernet};
  arp->ptype = net::Be16{net::kEtherTypeIpv4};
  arp->hlen = 6;
  arp->plen = 4;
  arp->oper = net::Be16{op};
  arp->sha = sha;
  arp->spa = net::Be32{spa};
  arp->tha = tha;
  arp->tpa = net::Be32{tpa};
  return f;
}

// The ARP header of an Ethernet/IPv4 ARP frame, or null.
const net::ArpHdr* parse_arp(std::span<const uint8_t> frame) noexcept {
  if (frame.size() < kArpFrameSize) return nullptr;
  net::PacketView v(reinterpret_cast<std::byte*>(const_cast<uint8_t*>(frame.data())), frame.size());
  const auto* eth = v.header<net::EtherHdr>(0);
  if (eth->ether_type != net::Be16{net::kEtherTypeArp}) return nullptr;
  const auto* arp = v.header<net::ArpHdr>(net::kEtherHdrSize);
  if (arp->htype != net::Be16{net::kArpHtypeEthernet} || arp->ptype != net::Be16{net::kEtherTypeIpv4} ||
      arp->hlen != 6 || arp->plen != 4)
    return nullptr;
  return arp;
}

void count_learn(L3Binding& l3, NeighborTable::Update u) noexcept {
  if (u == NeighborTable::Update::kAdded || u == NeighborTable::Update::kChanged)
    l3.counters.count(L3Event::kNeighborsLearned);
  else if (u == NeighborTable::Update::kFull)
    l3.counters.count(L3Event::kNeighborTableFull);
}

}  // namespace

void SlowPath::snoop_inside(L3Binding& l3, std::span<const uint8_t> frame, uint64_t now) noexcept {
  const net::ArpHdr* arp = parse_arp(frame);
  if (arp == nullptr) return;
  const uint32_t spa = arp->spa.to_host();
  // Probes (RFC 5227, sender 0.0.0.0) and senders outside the network teach nothing.
  if (spa == 0 || !l3.inside.contains(spa) || arp->sha.is_multicast() || arp->sha.is_zero()) return;
  for (uint32_t g : l3.gateway_ips)
    if (g == spa) return;
  count_learn(l3, l3.neighbors->learn(spa, arp->sha, now));
}

bool SlowPath::send_uplink(L3Binding& l3, std::span<const uint8_t> frame) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(deps_.pool);
  if (m == nullptr) {
    l3.counters.count(L3Event::kUplinkTxFailed);
    return false;
  }
  char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  if (d == nullptr) {
    rte_pktmbuf_free(m);
    l3.counters.count(L3Event::kUplinkTxFailed);
    return false;
  }
  std::memcpy(d, frame.data(), frame.size());
  m->port = l3.uplink_port;
  if (deps_.inject_ring == nullptr || rte_ring_sp_enqueue(deps_.inject_ring, m) != 0) {
    rte_pktmbuf_free(m);
    l3.counters.count(L3Event::kUplinkTxFailed);
    return false;
  }
  return true;
}

void SlowPath::uplink_arp(L3Binding& l3, std::span<const uint8_t> frame, uint64_t now) noexcept {
  const net::ArpHdr* arp = parse_arp(frame);
  if (arp == nullptr) {
    l3.counters.count(L3Event::kArpIgnored);
    return;
  }
  const uint32_t spa = arp->spa.to_host();
  const uint32_t tpa = arp->tpa.to_host();
  const bool for_us = l3.is_outside_address(tpa);
  const bool sender_ok = spa != 0 && !arp->sha.is_multicast() && !arp->sha.is_zero() &&
                         !l3.is_outside_address(spa) &&
                         (spa & l3.outside_mask) == (l3.outside_ip & l3.outside_mask);
  // RFC 826 merge: refresh what we know; add the sender when it talks to us.
  if (sender_ok && (for_us || l3.neighbors->updated_ns(spa) != 0 || spa == l3.next_hop))
    count_learn(l3, l3.neighbors->learn(spa, arp->sha, now));
  if (arp->oper == net::Be16{net::kArpOpRequest} && for_us && sender_ok) {
    const auto reply = arp_frame(arp->sha, net::kArpOpReply, l3.uplink_mac, tpa, arp->sha, spa);
    if (send_uplink(l3, reply)) l3.counters.count(L3Event::kArpRepliesSent);
    return;
  }
  if (!for_us) l3.counters.count(L3Event::kArpIgnored);
  else if (!sender_ok) l3.counters.count(L3Event::kArpIgnored);
}

uint32_t SlowPath::drain_punt(uint64_t now) noexcept {
  if (deps_.punt_ring == nullptr) return 0;
  std::array<rte_mbuf*, kBurst> pkts;
  const unsigned n =
      rte_ring_dequeue_burst(deps_.punt_ring, reinterpret_cast<void**>(pkts.data()), kBurst, nullptr);
  std::array<uint8_t, kArpFrameSize> buf;
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    L3Binding* l3 = nullptr;
    for (L3Binding* b : l3_)
      if (b->uplink_port == m->port) l3 = b;
    if (l3 != nullptr) {
      if (m->pkt_len >= kArpFrameSize) {
        const void* p = rte_pktmbuf_read(m, 0, kArpFrameSize, buf.data());
        if (p != buf.data()) std::memcpy(buf.data(), p, kArpFrameSize);
        uplink_arp(*l3, buf, now);
      } else {
        l3->counters.count(L3Event::kArpIgnored);
      }
    }
    rte_pktmbuf_free(m);
  }
  return n;
}

void SlowPath::resolve(L3Binding& l3, uint32_t ip, uint64_t now) noexcept {
  if (ip == 0) return;
  auto [it, fresh] = l3.last_request_ns.try_emplace(ip, now);
  if (!fresh) {
    if (now - it->second < kResolveIntervalNs) {
      l3.counters.count(L3Event::kResolveRateLimited);
      return;
    }
    it->second = now;
  }
  if (l3.inside.contains(ip)) {
    GatewayBinding* gw = gateway_of(l3.network);
    if (gw == nullptr) return;
    uint32_t spa = l3.gateway_ips.empty() ? 0 : l3.gateway_ips[0];
    for (uint8_t k = 0; k < l3.inside.count && k < l3.gateway_ips.size(); ++k)
      if (l3.inside.items[k].contains(ip)) spa = l3.gateway_ips[k];
    const auto req = arp_frame(net::kBroadcastMac, net::kArpOpRequest, gw->mac, spa, net::MacAddr{}, ip);
    if (inject(*gw, std::span<const uint8_t>(req.data(), kArpFrameSize), kNoVlan))
      l3.counters.count(L3Event::kArpRequestsInside);
    return;
  }
  const auto req =
      arp_frame(net::kBroadcastMac, net::kArpOpRequest, l3.uplink_mac, l3.outside_ip, net::MacAddr{}, ip);
  if (send_uplink(l3, req)) l3.counters.count(L3Event::kArpRequestsUplink);
}

void SlowPath::l3_timers(uint64_t now) noexcept {
  for (L3Binding* l3 : l3_) {
    if (l3->next_hop != 0 && now >= l3->next_hop_refresh_ns) {
      // Unresolved: retry every second; resolved: refresh before it ages out.
      net::MacAddr mac;
      const bool known = l3->neighbors->lookup(l3->next_hop, &mac);
      l3->next_hop_refresh_ns = now + (known ? kNextHopRefreshNs : kResolveIntervalNs);
      l3->last_request_ns.erase(l3->next_hop);
      resolve(*l3, l3->next_hop, now);
    }
  }
  if (now >= next_neighbor_sweep_ns_) {
    next_neighbor_sweep_ns_ = now + deps_.sweep_interval_ns;
    for (L3Binding* l3 : l3_) {
      const uint32_t aged = l3->neighbors->age(now, kNeighborAgeingNs);
      if (aged != 0) l3->counters.count(L3Event::kNeighborsAged, aged);
      std::erase_if(l3->last_request_ns, [&](const auto& kv) { return now - kv.second > kResolveIntervalNs; });
    }
  }
}

void SlowPath::run(const std::atomic<bool>& stop) noexcept {
  deps_.publisher->online(deps_.reader_id);
  IdleBackoff backoff(deps_.idle_sleep_us, deps_.idle_sleep_max_us);
  (void)::prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);  // short sleeps stay short (ns)
  while (!stop.load(std::memory_order_relaxed)) {
    if (poll_once() != 0) {
      backoff.busy();
    } else if (deps_.idle_sleep_us > 0) {
      uint32_t sleep_us;
      if (conversing()) {
        backoff.busy();
        sleep_us = std::min(deps_.converse_sleep_us, deps_.idle_sleep_us);
      } else {
        sleep_us = backoff.idle();
      }
      // Blocking: go offline so grace periods do not wait for our sleep.
      deps_.publisher->offline(deps_.reader_id);
      std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
      deps_.publisher->online(deps_.reader_id);
    }
  }
  deps_.publisher->offline(deps_.reader_id);
}

}  // namespace vnet::dp
