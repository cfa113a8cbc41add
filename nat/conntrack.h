// vnet::nat — connection tracking states and timeouts.
//
// Theory of operation
//   Timeouts are Linux nf_conntrack's defaults (net/netfilter/
//   nf_conntrack_proto_{tcp,udp,icmp,generic}.c and the sysctls in
//   Documentation/networking/nf_conntrack-sysctl.rst), so a guest sees the
//   same idle behaviour as behind libvirt's iptables NAT:
//
//     TCP  SYN_SENT      120 s   nf_conntrack_tcp_timeout_syn_sent
//          SYN_RECV       60 s   nf_conntrack_tcp_timeout_syn_recv
//          ESTABLISHED  432000 s (5 days) nf_conntrack_tcp_timeout_established
//          FIN_WAIT      120 s   nf_conntrack_tcp_timeout_fin_wait
//          CLOSE_WAIT     60 s   nf_conntrack_tcp_timeout_close_wait
//          LAST_ACK       30 s   nf_conntrack_tcp_timeout_last_ack
//          TIME_WAIT     120 s   nf_conntrack_tcp_timeout_time_wait
//          CLOSE          10 s   nf_conntrack_tcp_timeout_close
//     UDP  unreplied      30 s   nf_conntrack_udp_timeout
//          replied       120 s   nf_conntrack_udp_timeout_stream
//     ICMP                30 s   nf_conntrack_icmp_timeout
//     other protocols    600 s   nf_conntrack_generic_timeout
//
//   The TCP tracker follows the state sequence of Linux's tcp_conntracks
//   table without its sequence-window checks (a NAT in front of guests does
//   not need them to be correct, and Linux itself picks up mid-stream flows
//   with nf_conntrack_tcp_loose=1):
//     in2out SYN                          -> SYN_SENT (new or reopened)
//     SYN_SENT  + out2in SYN+ACK          -> SYN_RECV
//     SYN_SENT  + out2in SYN (simultaneous open) -> SYN_RECV
//     SYN_RECV  + in2out ACK              -> ESTABLISHED
//     ESTABLISHED + FIN from side d       -> FIN_WAIT
//     FIN_WAIT  + ACK from the other side -> CLOSE_WAIT
//     FIN_WAIT/CLOSE_WAIT + FIN from the other side -> LAST_ACK
//     LAST_ACK  + ACK from side d         -> TIME_WAIT
//     any state + RST                     -> CLOSE
//     TIME_WAIT/CLOSE + in2out SYN        -> SYN_SENT (port reuse)
//   A new in2out TCP session needs a SYN, or is picked up as ESTABLISHED
//   when it carries ACK without SYN/RST (loose pickup, as Linux does);
//   anything else (a lone RST or FIN) opens nothing (reason tcp_invalid).
//
// Thread-safety
//   Pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace vnet::nat {

inline constexpr uint64_t kNsPerSec = 1'000'000'000ull;

enum class TcpState : uint8_t {
  kNone,  // not TCP
  kSynSent,
  kSynRecv,
  kEstablished,
  kFinWait,
  kCloseWait,
  kLastAck,
  kTimeWait,
  kClose,
};

std::string_view tcp_state_name(TcpState s) noexcept;

struct Timeouts {
  uint64_t tcp_syn_sent_ns = 120 * kNsPerSec;
  uint64_t tcp_syn_recv_ns = 60 * kNsPerSec;
  uint64_t tcp_established_ns = 432000 * kNsPerSec;
  uint64_t tcp_fin_wait_ns = 120 * kNsPerSec;
  uint64_t tcp_close_wait_ns = 60 * kNsPerSec;
  uint64_t tcp_last_ack_ns = 30 * kNsPerSec;
  uint64_t tcp_time_wait_ns = 120 * kNsPerSec;
  uint64_t tcp_close_ns = 10 * kNsPerSec;
  uint64_t udp_unreplied_ns = 30 * kNsPerSec;
  uint64_t udp_replied_ns = 120 * kNsPerSec;
  uint64_t icmp_ns = 30 * kNsPerSec;
  uint64_t generic_ns = 600 * kNsPerSec;

  uint64_t tcp(TcpState s) const noexcept;
};

// Direction of a packet relative to the session.
enum class Dir : uint8_t { kIn2Out = 0, kOut2In = 1 };

// Per-session TCP tracking bits (kept in Session::flags).
inline constexpr uint8_t kFlagSeenReply = 0x01;  // a packet went out2in
inline constexpr uint8_t kFlagFinIn2Out = 0x02;  // a FIN went in2out
inline constexpr uint8_t kFlagFinOut2In = 0x04;  // a FIN went out2in

// The next TCP state after a packet with tcp_flags (RFC 9293 flag bits)
// travelling in dir; *flags carries the FIN bits between calls.
TcpState tcp_next(TcpState s, Dir dir, uint8_t tcp_flags, uint8_t* flags) noexcept;

// The state a new in2out TCP session starts in, or kNone when the packet
// cannot open one (see the table above).
TcpState tcp_open(uint8_t tcp_flags) noexcept;

}  // namespace vnet::nat
