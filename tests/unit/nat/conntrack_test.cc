// TCP state tracking and the documented (Linux default) timeouts.
#include "nat/conntrack.h"

#include <gtest/gtest.h>

#include "nat/bytes.h"

namespace vnet::nat {
namespace {

constexpr uint8_t SYN = l4::kTcpSyn, ACK = l4::kTcpAck, FIN = l4::kTcpFin, RST = l4::kTcpRst;
constexpr Dir OUT = Dir::kIn2Out, IN = Dir::kOut2In;

struct Step {
  Dir dir;
  uint8_t flags;
  TcpState expect;
};

void run(TcpState start, std::initializer_list<Step> steps) {
  TcpState s = start;
  uint8_t flags = 0;
  int i = 0;
  for (const Step& st : steps) {
    s = tcp_next(s, st.dir, st.flags, &flags);
    EXPECT_EQ(tcp_state_name(s), tcp_state_name(st.expect)) << "step " << i;
    ++i;
  }
}

TEST(Conntrack, LinuxDefaultTimeouts) {
  const Timeouts t;
  EXPECT_EQ(t.tcp(TcpState::kSynSent), 120 * kNsPerSec);
  EXPECT_EQ(t.tcp(TcpState::kSynRecv), 60 * kNsPerSec);
  EXPECT_EQ(t.tcp(TcpState::kEstablished), 432000 * kNsPerSec);
  EXPECT_EQ(t.tcp(TcpState::kFinWait), 120 * kNsPerSec);
  EXPECT_EQ(t.tcp(TcpState::kCloseWait), 60 * kNsPerSec);
  EXPECT_EQ(t.tcp(TcpState::kLastAck), 30 * kNsPerSec);
  EXPECT_EQ(t.tcp(TcpState::kTimeWait), 120 * kNsPerSec);
  EXPECT_EQ(t.tcp(TcpState::kClose), 10 * kNsPerSec);
  EXPECT_EQ(t.udp_unreplied_ns, 30 * kNsPerSec);
  EXPECT_EQ(t.udp_replied_ns, 120 * kNsPerSec);
  EXPECT_EQ(t.icmp_ns, 30 * kNsPerSec);
  EXPECT_EQ(t.generic_ns, 600 * kNsPerSec);
}

TEST(Conntrack, OpenNeedsSynOrLoosePickup) {
  EXPECT_EQ(tcp_open(SYN), TcpState::kSynSent);
  EXPECT_EQ(tcp_open(ACK), TcpState::kEstablished);
  EXPECT_EQ(tcp_open(ACK | 0x08), TcpState::kEstablished);  // PSH|ACK
  EXPECT_EQ(tcp_open(RST), TcpState::kNone);
  EXPECT_EQ(tcp_open(RST | ACK), TcpState::kNone);
  EXPECT_EQ(tcp_open(FIN), TcpState::kNone);
  EXPECT_EQ(tcp_open(SYN | ACK), TcpState::kNone);
  EXPECT_EQ(tcp_open(0), TcpState::kNone);
}

TEST(Conntrack, HandshakeAndActiveClose) {
  run(TcpState::kSynSent, {{OUT, SYN, TcpState::kSynSent},
                           {IN, SYN | ACK, TcpState::kSynRecv},
                           {OUT, ACK, TcpState::kEstablished},
                           {IN, ACK, TcpState::kEstablished},
                           {OUT, FIN | ACK, TcpState::kFinWait},
                           {OUT, ACK, TcpState::kFinWait},
                           {IN, ACK, TcpState::kCloseWait},
                           {IN, FIN | ACK, TcpState::kLastAck},
                           {OUT, ACK, TcpState::kTimeWait}});
}

TEST(Conntrack, PassiveCloseAndSimultaneousFin) {
  run(TcpState::kEstablished, {{IN, FIN | ACK, TcpState::kFinWait},
                               {OUT, FIN | ACK, TcpState::kLastAck},
                               {IN, ACK, TcpState::kTimeWait}});
}

TEST(Conntrack, ResetClosesFromAnyState) {
  for (TcpState s : {TcpState::kSynSent, TcpState::kSynRecv, TcpState::kEstablished,
                     TcpState::kFinWait, TcpState::kLastAck}) {
    uint8_t flags = 0;
    EXPECT_EQ(tcp_next(s, IN, RST, &flags), TcpState::kClose);
    flags = 0;
    EXPECT_EQ(tcp_next(s, OUT, RST | ACK, &flags), TcpState::kClose);
  }
}

TEST(Conntrack, ReopenFromTimeWaitAndClose) {
  run(TcpState::kTimeWait, {{IN, ACK, TcpState::kTimeWait},
                            {OUT, SYN, TcpState::kSynSent},
                            {IN, SYN | ACK, TcpState::kSynRecv}});
  run(TcpState::kClose, {{OUT, SYN, TcpState::kSynSent}});
}

TEST(Conntrack, SimultaneousOpen) {
  run(TcpState::kSynSent, {{IN, SYN, TcpState::kSynRecv}, {OUT, ACK, TcpState::kEstablished}});
}

TEST(Conntrack, SynRecvNeedsAckFromInside) {
  run(TcpState::kSynRecv, {{IN, ACK, TcpState::kSynRecv},
                           {OUT, SYN | ACK, TcpState::kSynRecv},
                           {OUT, ACK, TcpState::kEstablished}});
}

TEST(Conntrack, StateNames) {
  EXPECT_EQ(tcp_state_name(TcpState::kEstablished), "ESTABLISHED");
  EXPECT_EQ(tcp_state_name(TcpState::kTimeWait), "TIME_WAIT");
  EXPECT_EQ(tcp_state_name(TcpState::kNone), "-");
}

}  // namespace
}  // namespace vnet::nat
