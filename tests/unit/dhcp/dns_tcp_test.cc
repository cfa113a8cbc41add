// DNS over TCP on the gateway (dhcp/dns_tcp_server.h) driven through
// dhcp::Gateway with raw frames and an injected clock: handshake, queries
// split and pipelined, answers cut to the MSS and the window, retransmission,
// out-of-order and out-of-window segments, RST handling, the connection
// table limit, idle timeout, closed ports.
#include <gtest/gtest.h>

#include <string>

#include "dhcp/gateway.h"
#include "frame_test_util.h"

namespace vnet::dhcp {
namespace {

using namespace test;

const Ipv4 kGwIp = ip("192.168.122.1");
const Mac kClientMac = mac("52:54:00:00:00:01");
const Ipv4 kClientIp = ip("192.168.122.50");
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

GatewayConfig dns_config(DnsTcpConfig tcp = {}) {
  GatewayConfig c;
  c.network = "tcpnet";
  c.mac = kGwMac;
  c.ipv4 = {Ipv4Interface{kGwIp, 24}};
  c.dns.domain = "example.com";
  c.dns.domain_local_only = true;
  c.dns.no_resolv = true;
  DnsHostRecord h;
  h.ip = IpAddress::v4(ip("192.168.122.2"));
  h.hostnames = {"myhost"};
  c.dns.hosts.push_back(h);
  // A TXT answer of about 1.2 kB: more than one segment at MSS 500.
  std::string big;
  for (int i = 0; i < 6; ++i) big += (i ? "," : "") + std::string(200, static_cast<char>('a' + i));
  c.dns.txts.push_back(DnsTxtRecord{"big.example.com", big});
  c.dns_tcp = tcp;
  return c;
}

Bytes framed(const std::vector<std::byte>& msg) {
  Bytes b;
  w16(b, static_cast<uint16_t>(msg.size()));
  const std::span<const uint8_t> m = u8(msg);
  b.insert(b.end(), m.begin(), m.end());
  return b;
}

struct Tcp {
  explicit Tcp(GatewayConfig c = dns_config()) : gw(std::move(c), clock, rng) {}
  FakeClock clock;
  SeededRng rng{7};
  Gateway gw;
  CaptureSink out;
  uint16_t cport = 40000;
  uint32_t cseq = 1000;  // client's next sequence number
  uint32_t sseq = 0;     // next byte expected from the gateway

  void send(uint8_t flags, const Bytes& payload = {}, uint32_t seq_delta = 0, uint16_t window = 65535,
            uint16_t dport = 53, uint16_t mss = 0) {
    TcpFields t{cport, dport, cseq + seq_delta, sseq, flags, window, mss};
    gw.on_frame(tcp_frame(kClientMac, kGwMac, kClientIp, kGwIp, t, payload), 0, out);
  }
  // Every segment sent since the last call, checksums and addressing checked.
  std::vector<Decoded> segments() {
    std::vector<Decoded> r;
    for (size_t i = 0; i < out.frames.size(); ++i) {
      Decoded d = out.take(i);
      EXPECT_EQ(d.proto, 6);
      EXPECT_TRUE(d.ip_checksum_ok);
      EXPECT_TRUE(d.tcp_checksum_ok);
      EXPECT_TRUE(d.dont_fragment);
      EXPECT_EQ(d.dst_mac, kClientMac);
      EXPECT_EQ(d.src_mac, kGwMac);
      EXPECT_EQ(d.src_ip, kGwIp);
      EXPECT_EQ(d.dst_ip, kClientIp);
      EXPECT_EQ(d.sport, 53);
      EXPECT_EQ(d.dport, cport);
      r.push_back(std::move(d));
    }
    out.clear();
    return r;
  }
  void connect(uint16_t mss = 1460, uint16_t window = 65535) {
    send(kSyn, {}, 0, window, 53, mss);
    const std::vector<Decoded> s = segments();
    ASSERT_EQ(s.size(), 1u);
    ASSERT_EQ(s[0].tcp.flags, kSyn | kAck);
    ASSERT_EQ(s[0].tcp.ack, cseq + 1);
    cseq += 1;
    sseq = s[0].tcp.seq + 1;
    send(kAck, {}, 0, window);
    ASSERT_TRUE(out.frames.empty());
  }
  void send_data(const Bytes& data, uint8_t flags = kAck | kPsh, uint16_t window = 65535) {
    send(flags, data, 0, window);
    cseq += static_cast<uint32_t>(data.size());
  }
  // In-order stream bytes of `segs` starting at sseq; advances sseq.
  Bytes stream(const std::vector<Decoded>& segs) {
    Bytes b;
    for (const Decoded& d : segs) {
      if (d.payload.empty() || d.tcp.seq != sseq) continue;
      b.insert(b.end(), d.payload.begin(), d.payload.end());
      sseq += static_cast<uint32_t>(d.payload.size());
    }
    return b;
  }
  DnsTcpCounters tcp() { return gw.stats().dns_tcp; }
};

// Splits a DNS-over-TCP byte stream into messages.
std::vector<DnsMessage> messages(const Bytes& stream) {
  std::vector<DnsMessage> r;
  size_t at = 0;
  while (at + 2 <= stream.size()) {
    const size_t len = r16(stream, at);
    EXPECT_LE(at + 2 + len, stream.size());
    if (at + 2 + len > stream.size()) break;
    r.push_back(parse_reply(to_bytes(std::span(stream).subspan(at + 2, len))));
    at += 2 + len;
  }
  EXPECT_EQ(at, stream.size());
  return r;
}

TEST(DnsTcp, HandshakeQueryAnswerAndOrderlyClose) {
  Tcp t;
  t.send(kSyn, {}, 0, 65535, 53, 1460);
  std::vector<Decoded> s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tcp.flags, kSyn | kAck);
  EXPECT_EQ(s[0].tcp.ack, 1001u);
  EXPECT_EQ(s[0].tcp.mss, 1460);  // MTU 1500 - 40
  EXPECT_TRUE(s[0].payload.empty());
  const uint32_t isn = s[0].tcp.seq;
  t.cseq = 1001;
  t.sseq = isn + 1;
  t.send(kAck);
  EXPECT_TRUE(t.out.frames.empty());
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kEstablished), 1u);

  t.send_data(framed(dns_query("myhost.example.com", dns_type::kA, 0x5151)));
  s = t.segments();
  ASSERT_EQ(s.size(), 1u);  // the answer carries the ACK
  EXPECT_EQ(s[0].tcp.flags, kAck | kPsh);
  EXPECT_EQ(s[0].tcp.ack, t.cseq);
  const std::vector<DnsMessage> m = messages(t.stream(s));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].header.id, 0x5151);
  ASSERT_EQ(m[0].answers.size(), 1u);
  EXPECT_EQ(rdata_ipv4(m[0].answers[0]), "192.168.122.2");

  // The client acknowledges and closes; the gateway acknowledges with its own FIN.
  t.send(kAck | kFin);
  t.cseq += 1;
  s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tcp.flags, kFin | kAck);
  EXPECT_EQ(s[0].tcp.ack, t.cseq);
  EXPECT_EQ(s[0].tcp.seq, t.sseq);
  t.sseq += 1;
  t.send(kAck);
  EXPECT_TRUE(t.out.frames.empty());
  const GatewayStats st = t.gw.stats();
  EXPECT_EQ(st.dns_tcp.of(DnsTcpCounter::kClosed), 1u);
  EXPECT_EQ(st.dns_tcp.of(DnsTcpCounter::kQueries), 1u);
  EXPECT_EQ(st.of(GatewayCounter::kDnsReceived), 1u);
  EXPECT_EQ(st.of(GatewayCounter::kDnsReplied), 1u);
  EXPECT_EQ(st.of(GatewayCounter::kTxFrames), 3u);
  // The connection is gone: a late segment is answered with RST.
  t.send(kAck);
  s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tcp.flags, kRst);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kNoConnection), 1u);
}

TEST(DnsTcp, InitialSequenceNumberComesFromTheRandomSource) {
  uint32_t isn[2] = {};
  for (int i = 0; i < 2; ++i) {
    Tcp t;
    t.send(kSyn);
    isn[i] = t.segments().at(0).tcp.seq;
  }
  EXPECT_EQ(isn[0], isn[1]);  // same seed, same ISN
  SeededRng r{7};
  EXPECT_EQ(isn[0], r.next_u32());
}

TEST(DnsTcp, SplitAndPipelinedQueries) {
  Tcp t;
  t.connect();
  const Bytes q1 = framed(dns_query("myhost.example.com", dns_type::kA, 1));
  const Bytes q2 = framed(dns_query("nosuch.example.com", dns_type::kA, 2));
  const Bytes q3 = framed(dns_query("myhost.example.com", dns_type::kA, 3));
  // q1 in three pieces: the length prefix split in the middle.
  t.send_data(Bytes(q1.begin(), q1.begin() + 1));
  EXPECT_EQ(t.stream(t.segments()).size(), 0u);  // only an ACK
  t.send_data(Bytes(q1.begin() + 1, q1.begin() + 10));
  t.segments();
  t.send_data(Bytes(q1.begin() + 10, q1.end()));
  std::vector<DnsMessage> m = messages(t.stream(t.segments()));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].header.id, 1);
  // q2 and q3 in one segment: two answers.
  t.send_data(concat(q2, q3));
  m = messages(t.stream(t.segments()));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].header.id, 2);
  EXPECT_EQ(m[0].header.rcode(), static_cast<uint8_t>(Rcode::kNxDomain));
  EXPECT_EQ(m[1].header.id, 3);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kQueries), 3u);
}

TEST(DnsTcp, AnswersRespectTheMssAndTheWindow) {
  Tcp t;
  t.connect(500, 700);  // MSS 500, window 700
  t.send_data(framed(dns_query("big.example.com", dns_type::kTxt, 9)), kAck | kPsh, 700);
  std::vector<Decoded> s = t.segments();
  ASSERT_EQ(s.size(), 2u);  // 500 + 200: the window is full
  EXPECT_EQ(s[0].payload.size(), 500u);
  EXPECT_EQ(s[1].payload.size(), 200u);
  Bytes got = t.stream(s);
  // Acknowledging opens the window for the rest.
  t.send(kAck, {}, 0, 700);
  s = t.segments();
  ASSERT_FALSE(s.empty());
  for (const Decoded& d : s) EXPECT_LE(d.payload.size(), 500u);
  got = concat(got, t.stream(s));
  while (!s.empty()) {
    t.send(kAck, {}, 0, 700);
    s = t.segments();
    got = concat(got, t.stream(s));
  }
  const std::vector<DnsMessage> m = messages(got);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_FALSE(m[0].header.flags & DnsHeader::kTc);  // TCP answers are never truncated
  ASSERT_EQ(m[0].answers.size(), 1u);
  EXPECT_GT(got.size(), 1200u);
}

TEST(DnsTcp, SmallMtuLimitsTheMss) {
  GatewayConfig c = dns_config();
  c.mtu = 600;
  Tcp t(c);
  t.send(kSyn, {}, 0, 65535, 53, 1460);
  const std::vector<Decoded> s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tcp.mss, 560);
  t.cseq += 1;
  t.sseq = s[0].tcp.seq + 1;
  t.send(kAck);
  t.send_data(framed(dns_query("big.example.com", dns_type::kTxt, 9)));
  for (const Decoded& d : t.segments()) EXPECT_LE(d.payload.size(), 560u);
}

TEST(DnsTcp, UnacknowledgedDataIsRetransmittedThenAborted) {
  DnsTcpConfig cfg;
  cfg.max_retransmits = 2;
  Tcp t(dns_config(cfg));
  t.connect();
  t.send_data(framed(dns_query("myhost.example.com", dns_type::kA, 4)));
  std::vector<Decoded> first = t.segments();
  ASSERT_EQ(first.size(), 1u);
  t.gw.on_tick(t.out);
  EXPECT_TRUE(t.out.frames.empty());  // not yet
  t.clock.advance_ns(1'000'000'000);
  t.gw.on_tick(t.out);
  std::vector<Decoded> again = t.segments();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].tcp.seq, first[0].tcp.seq);
  EXPECT_EQ(again[0].payload, first[0].payload);
  t.clock.advance_ns(1'000'000'000);  // the timeout has doubled: nothing yet
  t.gw.on_tick(t.out);
  EXPECT_TRUE(t.out.frames.empty());
  t.clock.advance_ns(1'000'000'000);
  t.gw.on_tick(t.out);
  EXPECT_EQ(t.segments().size(), 1u);
  t.clock.advance_ns(4'000'000'000);
  t.gw.on_tick(t.out);
  std::vector<Decoded> rst = t.segments();
  ASSERT_EQ(rst.size(), 1u);
  EXPECT_TRUE(rst[0].tcp.flags & kRst);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kRetransmits), 2u);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kRetransmitAborted), 1u);
}

TEST(DnsTcp, SynAckIsRepeatedForADuplicateSynAndAfterTimeout) {
  Tcp t;
  t.send(kSyn);
  const uint32_t isn = t.segments().at(0).tcp.seq;
  t.send(kSyn);
  std::vector<Decoded> s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tcp.seq, isn);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kDuplicateSyn), 1u);
  t.clock.advance_ns(1'100'000'000);
  t.gw.on_tick(t.out);
  s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tcp.flags, kSyn | kAck);
  EXPECT_EQ(s[0].tcp.seq, isn);
}

TEST(DnsTcp, OutOfOrderSegmentIsDroppedWithADuplicateAck) {
  Tcp t;
  t.connect();
  const Bytes q = framed(dns_query("myhost.example.com", dns_type::kA, 5));
  // The second half first.
  t.send(kAck | kPsh, Bytes(q.begin() + 5, q.end()), 5);
  std::vector<Decoded> s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tcp.ack, t.cseq);  // still waiting for the first byte
  EXPECT_TRUE(s[0].payload.empty());
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kOutOfOrder), 1u);
  // A retransmission of the whole message is taken.
  t.send_data(q);
  EXPECT_EQ(messages(t.stream(t.segments())).size(), 1u);
  // Old data again (already received): ACK, no second answer.
  t.send(kAck | kPsh, q, static_cast<uint32_t>(-static_cast<int32_t>(q.size())));
  s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].payload.empty());
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kOldData), 1u);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kQueries), 1u);
}

TEST(DnsTcp, OutOfWindowAndBadSegments) {
  Tcp t;
  t.connect();
  // Far beyond the window: counted, answered with an ACK.
  t.send(kAck | kPsh, Bytes{0, 1, 2}, 1'000'000);
  std::vector<Decoded> s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tcp.flags, kAck);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kOutOfWindow), 1u);
  // Acknowledging data never sent.
  TcpFields f{t.cport, 53, t.cseq, t.sseq + 5000, kAck, 65535, 0};
  t.gw.on_frame(tcp_frame(kClientMac, kGwMac, kClientIp, kGwIp, f), 0, t.out);
  EXPECT_EQ(t.segments().size(), 1u);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kBadAck), 1u);
  // No ACK flag.
  t.send(kPsh, Bytes{0, 1});
  EXPECT_TRUE(t.out.frames.empty());
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kNoAck), 1u);
  // A bad checksum is rejected before the endpoint sees it.
  Bytes bad = tcp_frame(kClientMac, kGwMac, kClientIp, kGwIp, TcpFields{t.cport, 53, t.cseq, t.sseq, kAck, 100, 0},
                        Bytes{1, 2, 3});
  bad.back() ^= 0xff;
  t.gw.on_frame(bad, 0, t.out);
  EXPECT_TRUE(t.out.frames.empty());
  EXPECT_EQ(t.gw.stats().of(FrameError::kTcpBadChecksum), 1u);
  // A zero-length DNS message aborts the connection.
  t.send_data(Bytes{0, 0});
  s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].tcp.flags & kRst);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kFramingAborted), 1u);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kSegmentsIn), 6u);
}

TEST(DnsTcp, ResetHandling) {
  Tcp t;
  t.connect();
  // RST inside the window but not at rcv_nxt: challenge ACK, connection kept.
  t.send(kRst, {}, 10);
  std::vector<Decoded> s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tcp.flags, kAck);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kChallengeAcks), 1u);
  // SYN on an open connection: challenge ACK too.
  t.send(kSyn);
  EXPECT_EQ(t.segments().size(), 1u);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kChallengeAcks), 2u);
  // RST at rcv_nxt: the connection is gone, nothing is sent.
  t.send(kRst);
  EXPECT_TRUE(t.out.frames.empty());
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kResetByPeer), 1u);
  // A RST for no connection is never answered.
  t.send(kRst);
  EXPECT_TRUE(t.out.frames.empty());
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kRstIgnored), 1u);
}

TEST(DnsTcp, ConnectionTableIsBounded) {
  DnsTcpConfig cfg;
  cfg.max_connections = 2;
  Tcp t(dns_config(cfg));
  for (uint16_t port : {40001, 40002, 40003}) {
    t.cport = port;
    t.send(kSyn);
  }
  ASSERT_EQ(t.out.frames.size(), 3u);
  EXPECT_EQ(t.out.take(0).tcp.flags, kSyn | kAck);
  EXPECT_EQ(t.out.take(1).tcp.flags, kSyn | kAck);
  const Decoded refused = t.out.take(2);
  EXPECT_EQ(refused.tcp.flags, kRst | kAck);
  EXPECT_EQ(refused.tcp.ack, t.cseq + 1);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kRefusedFull), 1u);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kOpened), 2u);
  // Half-open connections give up after their retransmissions; then there is room.
  for (int i = 0; i < 8; ++i) {
    t.clock.advance_s(20);
    t.gw.on_tick(t.out);
  }
  t.out.clear();
  t.cport = 40004;
  t.send(kSyn);
  ASSERT_EQ(t.out.frames.size(), 1u);
  EXPECT_EQ(t.out.take(0).tcp.flags, kSyn | kAck);
}

TEST(DnsTcp, IdleConnectionIsClosedWithFin) {
  Tcp t;
  t.connect();
  t.clock.advance_s(5);
  t.gw.on_tick(t.out);
  EXPECT_TRUE(t.out.frames.empty());
  t.clock.advance_s(6);  // past the 10 s idle timeout
  t.gw.on_tick(t.out);
  std::vector<Decoded> s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tcp.flags, kFin | kAck);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kIdleClosed), 1u);
  t.sseq += 1;
  // The client acknowledges and closes too.
  t.send(kAck);
  t.send(kAck | kFin);
  t.cseq += 1;
  s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tcp.flags, kAck);
  EXPECT_EQ(s[0].tcp.ack, t.cseq);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kClosed), 1u);
}

TEST(DnsTcp, ClosedPortsAnswerLikeAKernel) {
  Tcp t;
  // SYN to port 80: RST+ACK acknowledging the SYN.
  t.send(kSyn, {}, 0, 65535, 80);
  ASSERT_EQ(t.out.frames.size(), 1u);
  const Decoded syn_rst = t.out.take(0);
  t.out.clear();
  EXPECT_TRUE(syn_rst.tcp_checksum_ok);
  EXPECT_EQ(syn_rst.sport, 80);
  EXPECT_EQ(syn_rst.dport, t.cport);
  EXPECT_EQ(syn_rst.tcp.flags, kRst | kAck);
  EXPECT_EQ(syn_rst.tcp.seq, 0u);
  EXPECT_EQ(syn_rst.tcp.ack, t.cseq + 1);
  // A segment with ACK: RST with seq = its ack.
  t.sseq = 777;
  TcpFields f{t.cport, 22, t.cseq, 777, kAck, 65535, 0};
  t.gw.on_frame(tcp_frame(kClientMac, kGwMac, kClientIp, kGwIp, f, Bytes{1, 2}), 0, t.out);
  ASSERT_EQ(t.out.frames.size(), 1u);
  const Decoded r = t.out.take(0);
  EXPECT_EQ(r.sport, 22);
  EXPECT_EQ(r.tcp.flags, kRst);
  EXPECT_EQ(r.tcp.seq, 777u);
  t.out.clear();
  // Never a RST for a RST; nothing for a TCP segment to another host.
  t.send(kRst, {}, 0, 0, 80);
  const Ipv4 other = ip("192.168.122.9");
  t.gw.on_frame(tcp_frame(kClientMac, kGwMac, kClientIp, other, TcpFields{1, 53, 1, 0, kSyn, 100, 0}), 0, t.out);
  EXPECT_TRUE(t.out.frames.empty());
  const GatewayStats st = t.gw.stats();
  EXPECT_EQ(st.of(GatewayCounter::kTcpPortClosed), 3u);
  EXPECT_EQ(st.of(GatewayCounter::kIpv4NotForUs), 1u);
}

TEST(DnsTcp, PortIsClosedWhenDnsIsDisabled) {
  GatewayConfig c = dns_config();
  c.dns.enabled = false;
  Tcp t(c);
  t.send(kSyn);
  std::vector<Decoded> s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tcp.flags, kRst | kAck);
  EXPECT_EQ(t.gw.stats().of(GatewayCounter::kDnsDisabled), 1u);
}

TEST(DnsTcp, DisablingDnsAbortsOpenConnections) {
  Tcp t;
  t.connect();
  GatewayConfig c = dns_config();
  c.dns.enabled = false;
  ASSERT_EQ(t.gw.update_config(c), "");
  t.gw.on_tick(t.out);
  std::vector<Decoded> s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].tcp.flags & kRst);
}

TEST(DnsTcp, ClientThatDoesNotReadIsAborted) {
  DnsTcpConfig cfg;
  cfg.max_send_buffer_size = 3000;
  Tcp t(dns_config(cfg));
  t.connect(1460, 0);  // zero window: nothing can be sent
  const Bytes q = framed(dns_query("big.example.com", dns_type::kTxt, 1));
  t.send_data(q, kAck | kPsh, 0);
  std::vector<Decoded> s = t.segments();
  ASSERT_EQ(s.size(), 1u);  // the ACK only
  EXPECT_TRUE(s[0].payload.empty());
  // A window probe of one byte after the retransmission timeout.
  t.clock.advance_ns(1'000'000'000);
  t.gw.on_tick(t.out);
  s = t.segments();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].payload.size(), 1u);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kWindowProbes), 1u);
  t.send_data(q, kAck | kPsh, 0);  // the second answer still fits in 3000 bytes
  t.send_data(q, kAck | kPsh, 0);  // the third does not
  s = t.segments();
  ASSERT_FALSE(s.empty());
  EXPECT_TRUE(s.back().tcp.flags & kRst);
  EXPECT_EQ(t.tcp().of(DnsTcpCounter::kSendBufferAborted), 1u);
}

}  // namespace
}  // namespace vnet::dhcp
