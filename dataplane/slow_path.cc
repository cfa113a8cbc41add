#include "dataplane/slow_path.h"

#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <thread>

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

void SlowPath::run(const std::atomic<bool>& stop) noexcept {
  deps_.publisher->online(deps_.reader_id);
  while (!stop.load(std::memory_order_relaxed)) {
    if (poll_once() == 0 && deps_.idle_sleep_us > 0) {
      // Blocking: go offline so grace periods do not wait for our sleep.
      deps_.publisher->offline(deps_.reader_id);
      std::this_thread::sleep_for(std::chrono::microseconds(deps_.idle_sleep_us));
      deps_.publisher->online(deps_.reader_id);
    }
  }
  deps_.publisher->offline(deps_.reader_id);
}

}  // namespace vnet::dp
