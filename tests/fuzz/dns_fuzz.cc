// libFuzzer target: the DNS codec and responder (dns_codec, dns_zone,
// dns_responder, dns_tcp) and the gateway's TCP endpoint (dns_tcp_server).
// Every input is parsed and answered over UDP and TCP; a reply the responder
// builds must itself parse, and a UDP reply must fit 512 bytes or the
// client's EDNS size. The input also drives one TCP client through a Gateway
// as a sequence of segments; every frame the gateway sends must parse.
#include <algorithm>
#include <cstdlib>

#include "dhcp/dns_responder.h"
#include "dhcp/dns_tcp.h"
#include "fuzz_support.h"

using namespace vnet::dhcp;

namespace {

class SteppedClock final : public Clock {
 public:
  int64_t now_ns() const override { return ns_; }
  int64_t now_s() const override { return 1'700'000'000 + ns_ / 1'000'000'000; }
  void advance_ns(int64_t ns) { ns_ += ns; }

 private:
  int64_t ns_ = 1'000'000'000;
};

class CheckingSink final : public FrameSink {
 public:
  bool send(std::span<const uint8_t> frame, uint16_t) override {
    ParsedFrame f;
    if (parse_frame(frame, f) != FrameError::kOk) std::abort();
    if (f.kind == ParsedFrame::Kind::kTcp) last_seq = f.tcp_seq + static_cast<uint32_t>(f.tcp_payload.size());
    return true;
  }
  uint32_t last_seq = 0;  // next sequence number the gateway would send, roughly
};

// Records of [flags][sequence offset][time step][length][payload...] become
// segments of one client connection to port 53.
void drive_tcp(std::span<const uint8_t> in) {
  SteppedClock clock;
  SeededRng rng(1);
  GatewayConfig config = fuzz::network();
  config.dns_tcp.max_connections = 2;
  Gateway gw(config, clock, rng);
  CheckingSink out;
  const Mac client_mac = *Mac::parse("52:54:00:00:00:02");
  const UdpEndpoints ep{client_mac, config.mac, *Ipv4::parse("192.168.122.50"), config.ipv4[0].address, 40000, 53};
  uint32_t seq = 7;
  size_t at = 0;
  while (at + 4 <= in.size()) {
    TcpSegment s;
    s.flags = in[at];
    s.seq = seq + static_cast<uint32_t>(static_cast<int8_t>(in[at + 1]));
    s.ack = out.last_seq;
    s.window = static_cast<uint16_t>(in[at + 1] * 257);
    s.mss = (s.flags & kTcpSyn) ? static_cast<uint16_t>(in[at + 2] + 1) : 0;
    clock.advance_ns(int64_t{in[at + 2]} * 100'000'000);
    const size_t len = std::min<size_t>(in[at + 3], in.size() - at - 4);
    const std::span<const uint8_t> payload = in.subspan(at + 4, len);
    at += 4 + len;
    gw.on_frame(build_tcp_frame(ep, s, payload, 1), 0, out);
    seq = s.seq + static_cast<uint32_t>(len) + ((s.flags & (kTcpSyn | kTcpFin)) ? 1 : 0);
    gw.on_tick(out);
  }
  clock.advance_ns(100'000'000'000);
  gw.on_tick(out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> in = fuzz::input(data, size);
  DnsMessage m;
  if (parse_dns(in, m) == DnsParseError::kOk) {
    for (const DnsQuestion& q : m.questions) {
      (void)encode_dns_name(q.name);
      (void)parse_reverse_name(q.name);
    }
  }
  (void)make_dns_error_reply(in, Rcode::kServFail);

  static DnsResponder responder(fuzz::network().dns, nullptr);
  for (const DnsTransport t : {DnsTransport::kUdp, DnsTransport::kTcp}) {
    const DnsAnswer a = responder.answer(in, t);
    if (a.action != DnsAnswer::Action::kReply) continue;
    DnsMessage reply;
    if (parse_dns(a.reply, reply) != DnsParseError::kOk) std::abort();
    if (t == DnsTransport::kUdp && a.reply.size() > 1232) std::abort();
  }

  DnsTcpReader reader;
  if (reader.feed(in)) {
    while (reader.next()) {
    }
  }
  drive_tcp(std::span<const uint8_t>(data, size));
  return 0;
}
