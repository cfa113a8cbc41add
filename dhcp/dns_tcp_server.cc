// vnet::dhcp — DNS over TCP on the gateway's port 53. See dns_tcp_server.h.
#include "dhcp/dns_tcp_server.h"

#include <algorithm>

namespace vnet::dhcp {

namespace {

constexpr uint16_t kDefaultPeerMss = 536;          // RFC 9293 §3.7.1
constexpr size_t kIpTcpHeadersSize = kIpv4HeaderSize + kTcpHeaderSize;
constexpr int64_t kMaxRtoNs = 60'000'000'000;      // RFC 6298 §2.5

// Sequence-number comparisons modulo 2^32 (RFC 9293 §3.4).
bool seq_lt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
bool seq_le(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) <= 0; }

std::span<const uint8_t> as_u8(std::span<const std::byte> s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

const char* to_string(DnsTcpCounter c) {
  switch (c) {
#define VNET_X(e, name) \
  case DnsTcpCounter::e: return name;
    VNET_DNS_TCP_COUNTERS(VNET_X)
#undef VNET_X
    case DnsTcpCounter::kCount: break;
  }
  return "?";
}

DnsTcpServer::DnsTcpServer(const DnsTcpConfig& config, const Clock& clock, Rng& rng)
    : config_(config), clock_(clock), rng_(rng), conns_(std::max<size_t>(config.max_connections, 1)) {
  if (config_.initial_rto_ns <= 0) config_.initial_rto_ns = 1'000'000'000;
}

void DnsTcpServer::set_local(const Mac& mac, size_t mtu) {
  mac_ = mac;
  our_mss_ = mtu > kIpTcpHeadersSize ? mtu - kIpTcpHeadersSize : kDefaultPeerMss;
}

size_t DnsTcpServer::send_mss(const Conn& c) const {
  return std::max<size_t>(1, std::min<size_t>(c.peer_mss, our_mss_));
}

// --- lookup and life cycle -----------------------------------------------------

DnsTcpServer::Conn* DnsTcpServer::find(const ParsedFrame& f, uint16_t vlan) {
  for (Conn& c : conns_) {
    if (c.state != State::kFree && c.peer.src_ip == f.src_ip && c.peer.src_port == f.src_port &&
        c.peer.dst_ip == f.dst_ip && c.vlan == vlan)
      return &c;
  }
  return nullptr;
}

DnsTcpServer::Conn* DnsTcpServer::lookup(TcpConnRef ref) {
  if (ref.slot >= conns_.size()) return nullptr;
  Conn& c = conns_[ref.slot];
  return c.state != State::kFree && c.generation == ref.generation ? &c : nullptr;
}

void DnsTcpServer::open(const ParsedFrame& f, uint16_t vlan, FrameSink& out) {
  const auto it = std::find_if(conns_.begin(), conns_.end(), [](const Conn& c) { return c.state == State::kFree; });
  if (it == conns_.end()) {
    bump(DnsTcpCounter::kRefusedFull);
    reset(f, vlan, out);
    return;
  }
  Conn& c = *it;
  c.state = State::kSynReceived;
  c.peer = UdpEndpoints{f.src_mac, f.dst_mac, f.src_ip, f.dst_ip, f.src_port, f.dst_port};
  c.vlan = vlan;
  c.iss = rng_.next_u32();
  c.snd_una = c.iss;
  c.snd_nxt = c.iss + 1;  // the SYN
  c.snd_wnd = f.tcp_window;
  c.peer_mss = f.tcp_mss != 0 ? f.tcp_mss : kDefaultPeerMss;
  c.irs = f.tcp_seq;
  c.rcv_nxt = f.tcp_seq + 1;  // data on a SYN is not taken; the client sends it again
  c.fin_wanted = false;
  c.fin_sent = false;
  c.deferred = 0;
  c.send_buffer.clear();
  c.reader = DnsTcpReader{};
  c.last_activity_ns = clock_.now_ns();
  c.rto_deadline_ns = 0;
  c.rto_ns = config_.initial_rto_ns;
  c.retransmits = 0;
  c.ack_pending = false;
  ++open_;
  bump(DnsTcpCounter::kOpened);
  send_syn_ack(c, out);
}

void DnsTcpServer::free_conn(Conn& c) {
  c.state = State::kFree;
  ++c.generation;
  std::vector<std::byte>().swap(c.send_buffer);
  c.reader = DnsTcpReader{};
  c.rto_deadline_ns = 0;
  --open_;
}

void DnsTcpServer::abort(Conn& c, FrameSink& out) {
  send_segment(c, c.snd_nxt, kTcpRst, {}, out);  // RFC 9293 §3.10.5: <SEQ=SND.NXT><CTL=RST>
  bump(DnsTcpCounter::kRstSent);
  free_conn(c);
}

void DnsTcpServer::abort_all(FrameSink& out) {
  for (Conn& c : conns_)
    if (c.state != State::kFree) abort(c, out);
}

// --- sending --------------------------------------------------------------------

void DnsTcpServer::send_segment(Conn& c, uint32_t seq, uint8_t flags, std::span<const std::byte> payload,
                                FrameSink& out, uint16_t mss_option) {
  const UdpEndpoints ep{mac_, c.peer.src_mac, c.peer.dst_ip, c.peer.src_ip, c.peer.dst_port, c.peer.src_port};
  TcpSegment s;
  s.seq = seq;
  s.flags = flags;
  if ((flags & kTcpAck) != 0) {
    s.ack = c.rcv_nxt;
    c.ack_pending = false;
  }
  s.window = config_.receive_window;
  s.mss = mss_option;
  out.send(build_tcp_frame(ep, s, as_u8(payload), next_ip_id_++), c.vlan);
  bump(DnsTcpCounter::kSegmentsOut);
}

void DnsTcpServer::send_syn_ack(Conn& c, FrameSink& out) {
  send_segment(c, c.iss, kTcpSyn | kTcpAck, {}, out, static_cast<uint16_t>(std::min<size_t>(our_mss_, 0xffff)));
  arm_timer(c);
}

void DnsTcpServer::arm_timer(Conn& c) {
  if (c.rto_deadline_ns == 0) c.rto_deadline_ns = clock_.now_ns() + c.rto_ns;
}

size_t DnsTcpServer::transmit(Conn& c, FrameSink& out, bool probe) {
  if (c.state == State::kFree || c.state == State::kSynReceived) return 0;
  size_t segments = 0;
  const size_t mss = send_mss(c);
  for (;;) {
    const size_t in_flight = c.snd_nxt - c.snd_una - (c.fin_sent ? 1 : 0);  // data bytes sent, not acked
    if (in_flight >= c.send_buffer.size()) break;
    const size_t unsent = c.send_buffer.size() - in_flight;
    int64_t room = int64_t{c.snd_wnd} - int64_t{c.snd_nxt - c.snd_una};
    if (room <= 0) {
      if (!probe) break;
      room = 1;  // one byte into a zero window (RFC 9293 §3.8.6.1)
      bump(DnsTcpCounter::kWindowProbes);
    }
    probe = false;
    const size_t n = std::min({mss, unsent, static_cast<size_t>(room)});
    const uint8_t flags = static_cast<uint8_t>(kTcpAck | (n == unsent ? kTcpPsh : 0));
    send_segment(c, c.snd_nxt, flags, std::span<const std::byte>(c.send_buffer).subspan(in_flight, n), out);
    c.snd_nxt += static_cast<uint32_t>(n);
    ++segments;
  }
  const bool all_sent = c.snd_nxt - c.snd_una - (c.fin_sent ? 1 : 0) == c.send_buffer.size();
  if (c.fin_wanted && !c.fin_sent && c.deferred == 0 && all_sent) {
    send_segment(c, c.snd_nxt, kTcpFin | kTcpAck, {}, out);
    c.snd_nxt += 1;
    c.fin_sent = true;
    ++segments;
    if (c.state == State::kEstablished) c.state = State::kFinWait1;
    if (c.state == State::kCloseWait) c.state = State::kLastAck;
  }
  if (c.snd_nxt != c.snd_una || !all_sent) arm_timer(c);
  return segments;
}

void DnsTcpServer::retransmit(Conn& c, FrameSink& out) {
  if (c.state == State::kSynReceived) {
    send_syn_ack(c, out);
    return;
  }
  c.snd_nxt = c.snd_una;  // go back to the oldest unacknowledged byte
  c.fin_sent = false;
  transmit(c, out, true);
}

bool DnsTcpServer::answer(TcpConnRef ref, std::span<const std::byte> message, bool deferred, FrameSink& out) {
  Conn* c = lookup(ref);
  if (c == nullptr) {
    bump(DnsTcpCounter::kAnswersLost);
    return false;
  }
  if (deferred && c->deferred > 0) --c->deferred;
  const std::vector<std::byte> framed = frame_dns_tcp(message);
  if (framed.empty() || c->fin_sent) {
    bump(DnsTcpCounter::kAnswersLost);
    transmit(*c, out);  // the FIN may be due now
    return false;
  }
  if (c->send_buffer.size() + framed.size() > config_.max_send_buffer_size) {
    bump(DnsTcpCounter::kSendBufferAborted);
    abort(*c, out);
    return false;
  }
  c->send_buffer.insert(c->send_buffer.end(), framed.begin(), framed.end());
  c->last_activity_ns = clock_.now_ns();
  bump(DnsTcpCounter::kAnswers);
  transmit(*c, out);
  return true;
}

void DnsTcpServer::defer(TcpConnRef ref) {
  if (Conn* c = lookup(ref)) ++c->deferred;
}

// --- receiving ------------------------------------------------------------------

void DnsTcpServer::reset(const ParsedFrame& f, uint16_t vlan, FrameSink& out) {
  if ((f.tcp_flags & kTcpRst) != 0) return;  // never answer a RST
  const UdpEndpoints ep{mac_, f.src_mac, f.dst_ip, f.src_ip, f.dst_port, f.src_port};
  TcpSegment s;
  if ((f.tcp_flags & kTcpAck) != 0) {
    s.seq = f.tcp_ack;
    s.flags = kTcpRst;
  } else {
    const uint32_t len = static_cast<uint32_t>(f.tcp_payload.size()) + ((f.tcp_flags & kTcpSyn) ? 1 : 0) +
                         ((f.tcp_flags & kTcpFin) ? 1 : 0);
    s.ack = f.tcp_seq + len;
    s.flags = kTcpRst | kTcpAck;
  }
  out.send(build_tcp_frame(ep, s, {}, next_ip_id_++), vlan);
  bump(DnsTcpCounter::kRstSent);
  bump(DnsTcpCounter::kSegmentsOut);
}

void DnsTcpServer::on_segment(const ParsedFrame& f, uint16_t vlan, DnsTcpQueries& queries, FrameSink& out) {
  bump(DnsTcpCounter::kSegmentsIn);
  const bool syn = (f.tcp_flags & kTcpSyn) != 0;
  const bool ack = (f.tcp_flags & kTcpAck) != 0;
  const bool rst = (f.tcp_flags & kTcpRst) != 0;
  bool fin = (f.tcp_flags & kTcpFin) != 0;

  Conn* c = find(f, vlan);
  if (c == nullptr) {
    if (rst) {
      bump(DnsTcpCounter::kRstIgnored);
    } else if (syn && !ack) {
      open(f, vlan, out);
    } else {
      bump(DnsTcpCounter::kNoConnection);
      reset(f, vlan, out);
    }
    return;
  }
  const int64_t now = clock_.now_ns();
  if (c->state == State::kSynReceived && syn && !ack && !rst) {
    if (f.tcp_seq == c->irs) {
      bump(DnsTcpCounter::kDuplicateSyn);
      send_segment(*c, c->iss, kTcpSyn | kTcpAck, {}, out, static_cast<uint16_t>(std::min<size_t>(our_mss_, 0xffff)));
    } else {
      free_conn(*c);  // the client started over from the same port
      open(f, vlan, out);
    }
    return;
  }

  // RFC 9293 §3.10.7.4: is the segment inside the receive window?
  const uint32_t seg_len = static_cast<uint32_t>(f.tcp_payload.size()) + (syn ? 1 : 0) + (fin ? 1 : 0);
  const uint32_t wnd = config_.receive_window;
  const uint32_t ahead = f.tcp_seq - c->rcv_nxt;
  bool acceptable = false;
  bool old = false;
  if (seg_len == 0) {
    acceptable = wnd == 0 ? ahead == 0 : ahead < wnd;
    old = seq_lt(f.tcp_seq, c->rcv_nxt);
  } else {
    const uint32_t last_ahead = f.tcp_seq + seg_len - 1 - c->rcv_nxt;
    acceptable = wnd != 0 && (ahead < wnd || last_ahead < wnd);
    old = seq_lt(f.tcp_seq + seg_len - 1, c->rcv_nxt);
  }
  if (!acceptable) {
    bump(old ? DnsTcpCounter::kOldData : DnsTcpCounter::kOutOfWindow);
    if (!rst) send_ack(*c, out);
    return;
  }
  if (rst) {
    if (f.tcp_seq == c->rcv_nxt) {
      bump(DnsTcpCounter::kResetByPeer);
      free_conn(*c);
    } else {
      bump(DnsTcpCounter::kChallengeAcks);  // RFC 5961 §3.2
      send_ack(*c, out);
    }
    return;
  }
  if (syn) {
    bump(DnsTcpCounter::kChallengeAcks);  // RFC 5961 §4.2
    send_ack(*c, out);
    return;
  }
  if (!ack) {
    bump(DnsTcpCounter::kNoAck);
    return;
  }

  // Acknowledgment.
  if (c->state == State::kSynReceived && f.tcp_ack != c->snd_nxt) {
    bump(DnsTcpCounter::kBadAck);
    reset(f, vlan, out);  // RFC 9293 §3.10.7.4: <SEQ=SEG.ACK><CTL=RST>, the connection stays
    return;
  }
  if (seq_lt(c->snd_nxt, f.tcp_ack)) {
    bump(DnsTcpCounter::kBadAck);
    send_ack(*c, out);
    return;
  }
  c->last_activity_ns = now;
  if (seq_lt(c->snd_una, f.tcp_ack)) {
    uint32_t acked = f.tcp_ack - c->snd_una;
    if (c->state == State::kSynReceived) {
      acked -= 1;  // our SYN
      c->state = State::kEstablished;
      bump(DnsTcpCounter::kEstablished);
    }
    bool fin_acked = false;
    if (c->fin_sent && f.tcp_ack == c->snd_nxt) {
      acked -= 1;
      fin_acked = true;
    }
    const size_t drop = std::min<size_t>(acked, c->send_buffer.size());
    c->send_buffer.erase(c->send_buffer.begin(), c->send_buffer.begin() + static_cast<ptrdiff_t>(drop));
    c->snd_una = f.tcp_ack;
    c->retransmits = 0;
    c->rto_ns = config_.initial_rto_ns;
    c->rto_deadline_ns = 0;
    if (fin_acked) {
      if (c->state == State::kLastAck) {
        bump(DnsTcpCounter::kClosed);
        free_conn(*c);
        return;
      }
      if (c->state == State::kFinWait1) c->state = State::kFinWait2;
    }
  }
  if (seq_le(c->snd_una, f.tcp_ack)) c->snd_wnd = f.tcp_window;

  // Data, strictly in order.
  std::span<const uint8_t> data = f.tcp_payload;
  uint32_t seq = f.tcp_seq;
  const uint32_t fin_seq = f.tcp_seq + static_cast<uint32_t>(f.tcp_payload.size());
  if (seq_lt(seq, c->rcv_nxt)) {
    const uint32_t dup = c->rcv_nxt - seq;
    data = dup >= data.size() ? std::span<const uint8_t>{} : data.subspan(dup);
    seq = c->rcv_nxt;
  }
  if ((!data.empty() || fin) && seq != c->rcv_nxt) {
    bump(DnsTcpCounter::kOutOfOrder);
    send_ack(*c, out);  // duplicate ACK: the client resends from rcv_nxt
    transmit(*c, out);
    return;
  }
  if (data.size() > wnd) {
    data = data.first(wnd);  // beyond the window: not taken, nor the FIN after it
    fin = false;
  }
  if (fin && fin_seq != c->rcv_nxt + data.size()) fin = false;

  if (!data.empty()) {
    c->rcv_nxt += static_cast<uint32_t>(data.size());
    c->ack_pending = true;
    if (c->state != State::kEstablished) {
      bump(DnsTcpCounter::kDataAfterClose);
    } else if (!c->reader.feed(std::as_bytes(data))) {
      bump(DnsTcpCounter::kFramingAborted);
      abort(*c, out);
      return;
    } else {
      const TcpConnRef ref{static_cast<uint32_t>(c - conns_.data()), c->generation};
      while (std::optional<std::vector<std::byte>> m = c->reader.next()) {
        bump(DnsTcpCounter::kQueries);
        queries.on_query(ref, *m);
        c = lookup(ref);
        if (c == nullptr) return;  // aborted while answering
      }
    }
  }
  if (fin) {
    c->rcv_nxt += 1;
    c->ack_pending = true;
    switch (c->state) {
      case State::kEstablished:
        c->state = State::kCloseWait;
        c->fin_wanted = true;
        break;
      case State::kFinWait1:
        c->state = State::kLastAck;  // simultaneous close: wait for the ACK of our FIN
        break;
      case State::kFinWait2:
        send_ack(*c, out);
        bump(DnsTcpCounter::kClosed);
        free_conn(*c);
        return;
      default: break;
    }
  }
  transmit(*c, out);
  if (c->ack_pending) send_ack(*c, out);
}

// --- timers ---------------------------------------------------------------------

void DnsTcpServer::on_tick(FrameSink& out) {
  if (open_ == 0) return;
  const int64_t now = clock_.now_ns();
  for (Conn& c : conns_) {
    if (c.state == State::kFree) continue;
    if (c.rto_deadline_ns != 0 && now >= c.rto_deadline_ns) {
      if (c.retransmits >= config_.max_retransmits) {
        bump(DnsTcpCounter::kRetransmitAborted);
        abort(c, out);
        continue;
      }
      ++c.retransmits;
      bump(DnsTcpCounter::kRetransmits);
      c.rto_ns = std::min(c.rto_ns * 2, kMaxRtoNs);
      c.rto_deadline_ns = 0;
      retransmit(c, out);
    }
    if (now - c.last_activity_ns < config_.idle_timeout_ns) continue;
    if (c.state == State::kEstablished && c.deferred == 0 && c.send_buffer.empty()) {
      bump(DnsTcpCounter::kIdleClosed);
      c.fin_wanted = true;
      c.last_activity_ns = now;  // one more idle period for the client to answer our FIN
      transmit(c, out);
    } else {
      bump(DnsTcpCounter::kIdleAborted);
      abort(c, out);
    }
  }
}

}  // namespace vnet::dhcp
