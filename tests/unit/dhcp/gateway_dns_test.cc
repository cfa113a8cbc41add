// Frame-level DNS tests of dhcp::Gateway, with configurations built from
// libvirt network XML through dhcp/xml_config: every local record type,
// localOnly, forwardPlainNames, isolated networks, DNS disabled, and
// forwarding to stub resolvers on 127.0.0.1 (timeouts, retries, SERVFAIL).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "dhcp/gateway.h"
#include "dhcp/xml_config.h"
#include "frame_test_util.h"
#include "xml/network_xml.h"

namespace vnet::dhcp {
namespace {

using namespace test;

const Ipv4 kGwIp = ip("192.168.122.1");
const Mac kClientMac = mac("52:54:00:00:00:01");
const Ipv4 kClientIp = ip("192.168.122.50");

GatewayConfig from_xml(const std::string& text, XmlConfigOptions opts = {}) {
  auto def = xml::parse_network_xml(text, [](uint8_t* out, size_t n) { std::fill(out, out + n, 0x11); });
  EXPECT_TRUE(def.ok()) << (def.ok() ? "" : def.error());
  std::string error;
  auto c = gateway_config_from_xml(*def, opts, error);
  EXPECT_TRUE(c.has_value()) << error;
  return *c;
}

const char* kDnsNetwork = R"(<network>
  <name>dnsnet</name>
  <forward mode='nat'/>
  <mac address='52:54:00:ab:cd:ef'/>
  <domain name='example.com' localOnly='yes'/>
  <dns>
    <txt name='example' value='example value'/>
    <srv service='name' protocol='tcp' domain='test-domain-name.com' target='test.example.com'
         port='1111' priority='11' weight='111'/>
    <host ip='192.168.122.2'><hostname>myhost</hostname><hostname>myhostalias</hostname></host>
    <host ip='2001:db8:ac10:fd01::1:20'><hostname>v6host</hostname></host>
  </dns>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.122.100' end='192.168.122.254'/></dhcp>
  </ip>
</network>)";

struct Fixture {
  explicit Fixture(GatewayConfig c) : gw(std::move(c), clock, rng) {}
  FakeClock clock;
  SeededRng rng{9};
  Gateway gw;
  CaptureSink out;

  void query(const std::string& name, uint16_t qtype, uint16_t id = 0x4242, uint16_t vlan = 0) {
    const std::vector<std::byte> q = dns_query(name, qtype, id);
    gw.on_frame(udp_frame(kClientMac, kGwMac, kClientIp, kGwIp, 33333, 53, u8(q)), vlan, out);
  }
  // The DNS reply in the last frame sent, after checking its framing.
  DnsMessage reply(std::vector<std::byte>* wire = nullptr) {
    EXPECT_FALSE(out.frames.empty());
    if (out.frames.empty()) return {};
    const Decoded d = out.take(out.frames.size() - 1);
    EXPECT_TRUE(d.ip_checksum_ok);
    EXPECT_TRUE(d.udp_checksum_ok);
    EXPECT_EQ(d.dst_mac, kClientMac);
    EXPECT_EQ(d.src_ip, kGwIp);
    EXPECT_EQ(d.dst_ip, kClientIp);
    EXPECT_EQ(d.sport, 53);
    EXPECT_EQ(d.dport, 33333);
    const std::vector<std::byte> bytes = to_bytes(d.payload);
    if (wire) *wire = bytes;
    return parse_reply(bytes);
  }
};

uint8_t rcode_of(const DnsMessage& m) { return m.header.rcode(); }

TEST(GatewayDns, EveryLocalRecordType) {
  Fixture fx(from_xml(kDnsNetwork));
  std::vector<std::byte> wire;

  fx.query("myhost", dns_type::kA);
  DnsMessage a = fx.reply();
  ASSERT_EQ(a.answers.size(), 1u);
  EXPECT_EQ(a.header.id, 0x4242);
  EXPECT_EQ(rdata_ipv4(a.answers[0]), "192.168.122.2");
  fx.query("myhostalias.example.com", dns_type::kA);
  ASSERT_EQ(fx.reply().answers.size(), 1u);

  fx.query("v6host.example.com", dns_type::kAaaa);
  DnsMessage aaaa = fx.reply();
  ASSERT_EQ(aaaa.answers.size(), 1u);
  EXPECT_EQ(aaaa.answers[0].type, dns_type::kAaaa);
  EXPECT_EQ(aaaa.answers[0].rdata.size(), 16u);

  fx.query("2.122.168.192.in-addr.arpa", dns_type::kPtr);
  DnsMessage ptr = fx.reply(&wire);
  ASSERT_EQ(ptr.answers.size(), 1u);
  EXPECT_EQ(rdata_name(wire, ptr.answers[0]), "myhost.example.com");

  fx.query("example", dns_type::kTxt);
  DnsMessage txt = fx.reply();
  ASSERT_EQ(txt.answers.size(), 1u);
  const auto& rd = txt.answers[0].rdata;
  ASSERT_GE(rd.size(), 1u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(rd.data()) + 1, std::to_integer<size_t>(rd[0])), "example value");

  fx.query("_name._tcp.test-domain-name.com", dns_type::kSrv);
  DnsMessage srv = fx.reply(&wire);
  ASSERT_EQ(srv.answers.size(), 1u);
  const auto& s = srv.answers[0].rdata;
  ASSERT_GE(s.size(), 7u);
  const auto u16 = [&](size_t i) { return (std::to_integer<int>(s[i]) << 8) | std::to_integer<int>(s[i + 1]); };
  EXPECT_EQ(u16(0), 11);
  EXPECT_EQ(u16(2), 111);
  EXPECT_EQ(u16(4), 1111);
  EXPECT_EQ(rdata_name(wire, srv.answers[0], 6), "test.example.com");

  // localOnly: unknown names in the domain are NXDOMAIN; with no upstream at
  // all, everything else is REFUSED.
  fx.query("nosuch.example.com", dns_type::kA);
  EXPECT_EQ(rcode_of(fx.reply()), static_cast<uint8_t>(Rcode::kNxDomain));
  fx.query("www.example.org", dns_type::kA);
  EXPECT_EQ(rcode_of(fx.reply()), static_cast<uint8_t>(Rcode::kRefused));

  const GatewayStats st = fx.gw.stats();
  EXPECT_EQ(st.of(GatewayCounter::kDnsReceived), 8u);
  EXPECT_EQ(st.of(GatewayCounter::kDnsReplied), 8u);
  EXPECT_EQ(st.dns.of(DnsOutcome::kAnswered), 6u);
  EXPECT_EQ(st.dns.of(DnsOutcome::kNxDomain), 1u);
  EXPECT_EQ(st.dns.of(DnsOutcome::kRefused), 1u);
}

TEST(GatewayDns, LeaseNamesResolveUnderTheDomain) {
  Fixture fx(from_xml(kDnsNetwork));
  ClientMsg m;
  m.hostname = "vm1";
  fx.gw.on_frame(udp_frame(kClientMac, Mac::broadcast(), Ipv4::any(), Ipv4::broadcast(), 68, 67, u8(m.build())), 0,
                 fx.out);
  ASSERT_EQ(fx.out.frames.size(), 1u);
  DhcpMessage offer;
  ASSERT_EQ(parse_dhcp(to_bytes(fx.out.take().payload), offer), DhcpParseError::kOk);
  m.type = MessageType::kRequest;
  m.requested_ip = offer.yiaddr;
  m.server_id = kGwIp;
  fx.gw.on_frame(udp_frame(kClientMac, Mac::broadcast(), Ipv4::any(), Ipv4::broadcast(), 68, 67, u8(m.build())), 0,
                 fx.out);
  ASSERT_EQ((fx.gw.on_tick(fx.out), fx.gw.leases()).size(), 1u);

  fx.query("vm1.example.com", dns_type::kA);
  DnsMessage a = fx.reply();
  ASSERT_EQ(a.answers.size(), 1u);
  EXPECT_EQ(rdata_ipv4(a.answers[0]), offer.yiaddr.to_string());
  std::vector<std::byte> wire;
  fx.query(reverse_name(IpAddress::v4(offer.yiaddr)), dns_type::kPtr);
  DnsMessage ptr = fx.reply(&wire);
  ASSERT_EQ(ptr.answers.size(), 1u);
  EXPECT_EQ(rdata_name(wire, ptr.answers[0]), "vm1.example.com");
}

TEST(GatewayDns, PlainNamesAndIsolatedNetworks) {
  // nat-network-dns-hosts.xml: forwardPlainNames='no'.
  XmlConfigOptions opts;
  opts.system_resolvers = {Upstream{*IpAddress::parse("127.0.0.1"), 9}};
  Fixture fx(from_xml(R"(<network><name>default</name><forward mode='nat'/><mac address='52:54:00:ab:cd:ef'/>
    <domain name="example.com"/>
    <dns forwardPlainNames='no'><host ip='192.168.122.1'><hostname>host</hostname><hostname>gateway</hostname></host></dns>
    <ip address='192.168.122.1' netmask='255.255.255.0'/></network>)",
                      opts));
  fx.query("nosuchhost", dns_type::kA);
  EXPECT_EQ(rcode_of(fx.reply()), static_cast<uint8_t>(Rcode::kNxDomain));
  fx.query("gateway", dns_type::kA);
  EXPECT_EQ(fx.reply().answers.size(), 1u);

  // isolated-network.xml: no-resolv, so even with host resolvers nothing is forwarded.
  Fixture iso(from_xml(R"(<network><name>private</name><mac address='52:54:00:ab:cd:ef'/>
    <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>)",
                       opts));
  iso.query("www.example.org", dns_type::kA);
  EXPECT_EQ(rcode_of(iso.reply()), static_cast<uint8_t>(Rcode::kRefused));
  EXPECT_EQ(iso.gw.stats().of(GatewayCounter::kDnsForwarded), 0u);
}

TEST(GatewayDns, DisabledDnsClosesPort53) {
  Fixture fx(from_xml(R"(<network><name>local</name><forward mode='route'/><mac address='52:54:00:ab:cd:ef'/>
    <dns enable='no'/><ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>)"));
  fx.query("anything", dns_type::kA);
  ASSERT_EQ(fx.out.frames.size(), 1u);
  const Decoded d = fx.out.take();
  EXPECT_EQ(d.proto, 1);  // ICMP port unreachable
  EXPECT_EQ(d.payload[0], 3);
  EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kDnsDisabled), 1u);
}

TEST(GatewayDns, RepliesKeepTheVlan) {
  Fixture fx(from_xml(kDnsNetwork));
  fx.query("myhost", dns_type::kA, 7, 100);
  ASSERT_EQ(fx.out.vlans.size(), 1u);
  EXPECT_EQ(fx.out.vlans[0], 100);
}

TEST(GatewayDns, CompressionLoopIsFormErr) {
  Fixture fx(from_xml(kDnsNetwork));
  // Header with one question whose name is a pointer to itself.
  const Bytes q = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1};
  fx.gw.on_frame(udp_frame(kClientMac, kGwMac, kClientIp, kGwIp, 33333, 53, q), 0, fx.out);
  EXPECT_EQ(rcode_of(fx.reply()), static_cast<uint8_t>(Rcode::kFormErr));
  const GatewayStats s = fx.gw.stats();
  EXPECT_EQ(s.dns.of(DnsOutcome::kFormErr), 1u);
  EXPECT_EQ(s.dns.of(DnsParseError::kPointerForward) + s.dns.of(DnsParseError::kPointerLoop), 1u);
}

// --- forwarding ----------------------------------------------------------------

// A DNS server on 127.0.0.1 that answers when told to.
class StubResolver {
 public:
  StubResolver() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    socklen_t len = sizeof sin;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len);
    port_ = ntohs(sin.sin_port);
  }
  ~StubResolver() { ::close(fd_); }
  uint16_t port() const { return port_; }

  // Waits for one query; false on timeout.
  bool receive(int timeout_ms = 3000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return false;
    std::vector<std::byte> buf(4096);
    socklen_t len = sizeof peer_;
    const ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&peer_), &len);
    if (n <= 0) return false;
    buf.resize(static_cast<size_t>(n));
    last_ = buf;
    return true;
  }
  // Answers the last query with one A record.
  void answer(Ipv4 addr) {
    DnsMessage q;
    ASSERT_EQ(parse_dns(last_, q), DnsParseError::kOk);
    DnsWriter w(kDnsUdpMaxSize);
    DnsHeader h = q.header;
    h.flags = static_cast<uint16_t>(h.flags | DnsHeader::kQr | DnsHeader::kRa);
    w.set_header(h);
    w.add_question(q.questions.at(0));
    w.add_a(DnsWriter::Section::kAnswer, q.questions[0].name, 300, addr);
    const std::vector<std::byte> r = w.finish();
    ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&peer_), sizeof peer_);
  }
  const std::vector<std::byte>& last() const { return last_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  sockaddr_in peer_{};
  std::vector<std::byte> last_;
};

GatewayConfig forwarding_config(std::initializer_list<uint16_t> ports) {
  std::string xml = "<network><name>fwd</name><forward mode='nat'/><mac address='52:54:00:ab:cd:ef'/><dns>";
  for (size_t i = 0; i < ports.size(); ++i) xml += "<forwarder addr='127.0.0.1'/>";
  xml += "</dns><ip address='192.168.122.1' netmask='255.255.255.0'/></network>";
  GatewayConfig c = from_xml(xml);
  size_t i = 0;
  for (uint16_t p : ports) c.dns.forwarders.at(i++).port = p;
  return c;
}

// Ticks until the gateway sends something (the forwarder polls sockets).
bool tick_until_sent(Fixture& fx) {
  for (int i = 0; i < 300 && fx.out.frames.empty(); ++i) {
    fx.gw.on_tick(fx.out);
    if (fx.out.frames.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return !fx.out.frames.empty();
}

TEST(GatewayDns, ForwardsToUpstreamAndRelaysTheAnswer) {
  StubResolver up;
  Fixture fx(forwarding_config({up.port()}));
  fx.query("www.example.org", dns_type::kA, 0x7777);
  EXPECT_TRUE(fx.out.frames.empty());
  ASSERT_TRUE(up.receive());
  DnsMessage fq = parse_reply(up.last());
  EXPECT_EQ(fq.questions.at(0).name, "www.example.org");
  up.answer(ip("93.184.216.34"));
  ASSERT_TRUE(tick_until_sent(fx));
  DnsMessage r = fx.reply();
  EXPECT_EQ(r.header.id, 0x7777);  // the client's id, not the upstream one
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(rdata_ipv4(r.answers[0]), "93.184.216.34");
  const GatewayStats s = fx.gw.stats();
  EXPECT_EQ(s.of(GatewayCounter::kDnsForwarded), 1u);
  EXPECT_EQ(s.of(GatewayCounter::kDnsForwardReplied), 1u);
  EXPECT_EQ(s.forwarder.of(ForwardCounter::kReplied), 1u);
}

TEST(GatewayDns, SilentUpstreamTimesOutAndTheNextOneAnswers) {
  StubResolver dead, live;
  Fixture fx(forwarding_config({dead.port(), live.port()}));
  fx.query("www.example.org", dns_type::kA, 0x1111);
  ASSERT_TRUE(dead.receive());
  fx.gw.on_tick(fx.out);
  EXPECT_TRUE(fx.out.frames.empty());
  fx.clock.advance_s(3);  // past the 2 s attempt timeout
  fx.gw.on_tick(fx.out);
  ASSERT_TRUE(live.receive());
  live.answer(ip("10.1.1.1"));
  ASSERT_TRUE(tick_until_sent(fx));
  DnsMessage r = fx.reply();
  EXPECT_EQ(r.header.id, 0x1111);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(fx.gw.stats().forwarder.of(ForwardCounter::kTimeouts), 1u);
}

TEST(GatewayDns, AllUpstreamsFailingGivesServfail) {
  StubResolver dead;
  Fixture fx(forwarding_config({dead.port()}));
  fx.query("www.example.org", dns_type::kA, 0x2222);
  ASSERT_TRUE(dead.receive());
  fx.clock.advance_s(3);
  ASSERT_TRUE(tick_until_sent(fx));
  DnsMessage r = fx.reply();
  EXPECT_EQ(r.header.id, 0x2222);
  EXPECT_EQ(rcode_of(r), static_cast<uint8_t>(Rcode::kServFail));
  EXPECT_EQ(fx.gw.stats().forwarder.of(ForwardCounter::kServFail), 1u);
}

TEST(GatewayDns, TcpClientQueryIsForwardedAndAnsweredOnItsConnection) {
  StubResolver up;
  Fixture fx(forwarding_config({up.port()}));
  const auto seg = [&](uint32_t seq, uint32_t ack, uint8_t flags, const Bytes& data = {}) {
    fx.gw.on_frame(tcp_frame(kClientMac, kGwMac, kClientIp, kGwIp, TcpFields{41000, 53, seq, ack, flags, 65535, 0}, data),
                   0, fx.out);
  };
  seg(100, 0, 0x02);  // SYN
  ASSERT_EQ(fx.out.frames.size(), 1u);
  const uint32_t s0 = fx.out.take(0).tcp.seq + 1;
  fx.out.clear();
  seg(101, s0, 0x10);  // ACK
  const std::vector<std::byte> q = dns_query("www.example.org", dns_type::kA, 0x3333);
  Bytes data;
  w16(data, static_cast<uint16_t>(q.size()));
  const std::span<const uint8_t> qs = u8(q);
  data.insert(data.end(), qs.begin(), qs.end());
  seg(101, s0, 0x18, data);
  ASSERT_EQ(fx.out.frames.size(), 1u);  // the ACK of the query
  EXPECT_TRUE(fx.out.take(0).payload.empty());
  fx.out.clear();
  ASSERT_TRUE(up.receive());
  up.answer(ip("93.184.216.34"));
  ASSERT_TRUE(tick_until_sent(fx));
  const Decoded d = fx.out.take(0);
  EXPECT_EQ(d.proto, 6);
  EXPECT_TRUE(d.tcp_checksum_ok);
  EXPECT_EQ(d.tcp.seq, s0);
  EXPECT_EQ(d.tcp.ack, 101u + data.size());
  ASSERT_GE(d.payload.size(), 2u);
  EXPECT_EQ(size_t{r16(d.payload, 0)}, d.payload.size() - 2);
  const DnsMessage r = parse_reply(to_bytes(std::span(d.payload).subspan(2)));
  EXPECT_EQ(r.header.id, 0x3333);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(rdata_ipv4(r.answers[0]), "93.184.216.34");
  EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kDnsForwardReplied), 1u);
  EXPECT_EQ(fx.gw.stats().dns_tcp.of(DnsTcpCounter::kAnswers), 1u);
}

}  // namespace
}  // namespace vnet::dhcp
