#include "nat/conntrack.h"

#include "nat/bytes.h"

namespace vnet::nat {

std::string_view tcp_state_name(TcpState s) noexcept {
  switch (s) {
    case TcpState::kNone:
      return "-";
    case TcpState::kSynSent:
      return "SYN_SENT";
    case TcpState::kSynRecv:
      return "SYN_RECV";
    case TcpState::kEstablished:
      return "ESTABLISHED";
    case TcpState::kFinWait:
      return "FIN_WAIT";
    case TcpState::kCloseWait:
      return "CLOSE_WAIT";
    case TcpState::kLastAck:
      return "LAST_ACK";
    case TcpState::kTimeWait:
      return "TIME_WAIT";
    case TcpState::kClose:
      return "CLOSE";
  }
  return "?";
}

uint64_t Timeouts::tcp(TcpState s) const noexcept {
  switch (s) {
    case TcpState::kSynSent:
      return tcp_syn_sent_ns;
    case TcpState::kSynRecv:
      return tcp_syn_recv_ns;
    case TcpState::kEstablished:
      return tcp_established_ns;
    case TcpState::kFinWait:
      return tcp_fin_wait_ns;
    case TcpState::kCloseWait:
      return tcp_close_wait_ns;
    case TcpState::kLastAck:
      return tcp_last_ack_ns;
    case TcpState::kTimeWait:
      return tcp_time_wait_ns;
    case TcpState::kClose:
    case TcpState::kNone:
      return tcp_close_ns;
  }
  return tcp_close_ns;
}

TcpState tcp_open(uint8_t f) noexcept {
  if (f & l4::kTcpRst) return TcpState::kNone;
  if (f & l4::kTcpSyn) return (f & (l4::kTcpAck | l4::kTcpFin)) ? TcpState::kNone : TcpState::kSynSent;
  if (f & l4::kTcpFin) return TcpState::kNone;
  if (f & l4::kTcpAck) return TcpState::kEstablished;
  return TcpState::kNone;
}

TcpState tcp_next(TcpState s, Dir dir, uint8_t f, uint8_t* flags) noexcept {
  const bool in2out = dir == Dir::kIn2Out;
  const uint8_t my_fin = in2out ? kFlagFinIn2Out : kFlagFinOut2In;
  if (f & l4::kTcpRst) return TcpState::kClose;
  const bool syn = f & l4::kTcpSyn;
  const bool ack = f & l4::kTcpAck;
  const bool fin = f & l4::kTcpFin;
  switch (s) {
    case TcpState::kNone:
      return s;
    case TcpState::kSynSent:
      if (!in2out && syn) return TcpState::kSynRecv;
      return s;
    case TcpState::kSynRecv:
      if (in2out && ack && !syn) {
        if (fin) {
          *flags |= my_fin;
          return TcpState::kFinWait;
        }
        return TcpState::kEstablished;
      }
      return s;
    case TcpState::kEstablished:
      if (fin) {
        *flags |= my_fin;
        return TcpState::kFinWait;
      }
      return s;
    case TcpState::kFinWait:
      if (*flags & my_fin) return s;  // the closing side again
      if (fin) {
        *flags |= my_fin;
        return TcpState::kLastAck;
      }
      return ack ? TcpState::kCloseWait : s;
    case TcpState::kCloseWait:
      if (fin && !(*flags & my_fin)) {
        *flags |= my_fin;
        return TcpState::kLastAck;
      }
      return s;
    case TcpState::kLastAck:
      // Both sides sent FIN: the ACK of the last FIN ends it (Linux: any
      // ACK in LAST_ACK moves to TIME_WAIT).
      if (ack && !fin) return TcpState::kTimeWait;
      return s;
    case TcpState::kTimeWait:
    case TcpState::kClose:
      if (in2out && syn && !ack) {
        *flags &= static_cast<uint8_t>(~(kFlagFinIn2Out | kFlagFinOut2In));
        return TcpState::kSynSent;
      }
      return s;
  }
  return s;
}

}  // namespace vnet::nat
