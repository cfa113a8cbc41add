// Frame-level tests of dhcp::Gateway: ARP, ICMP, DHCP over raw Ethernet
// frames, lease persistence and the thread-safe lease view. Frames are built
// and checked with the independent helpers of frame_test_util.h.
#include "dhcp/gateway.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "frame_test_util.h"

namespace vnet::dhcp {
namespace {

using namespace test;
namespace fs = std::filesystem;

const Ipv4 kGwIp = ip("192.168.122.1");
const Mac kClientMac = mac("52:54:00:00:00:01");

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "vnet-gw-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const char* name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The default NAT network: 192.168.122.1/24, range .2-.254.
GatewayConfig nat_config(const std::string& lease_file = "") {
  GatewayConfig c;
  c.network = "default";
  c.mac = kGwMac;
  c.ipv4 = {Ipv4Interface{kGwIp, 24}};
  ServerConfig s;
  s.server_ip = kGwIp;
  s.prefix_len = 24;
  s.ranges.push_back(DhcpRange{ip("192.168.122.2"), ip("192.168.122.254"), std::nullopt});
  s.lease_max = 253;
  c.dhcp = s;
  c.lease_file = lease_file;
  return c;
}

struct Fixture {
  explicit Fixture(GatewayConfig c) : gw(std::move(c), clock, rng) {}
  FakeClock clock;
  SeededRng rng{42};
  Gateway gw;
  CaptureSink out;

  void send(const Bytes& frame, uint16_t vlan = 0) { gw.on_frame(frame, vlan, out); }
  void tick() { gw.on_tick(out); }
  // The lease view is republished by the next tick.
  std::vector<LeaseInfo> leases(std::optional<Mac> m = std::nullopt) {
    tick();
    return gw.leases(m);
  }
};

// A DHCP client message as a broadcast frame from 0.0.0.0:68.
Bytes dhcp_frame(const ClientMsg& m, Ipv4 src = Ipv4::any(), Ipv4 dst = Ipv4::broadcast(),
                 Mac dst_mac = Mac::broadcast()) {
  const std::vector<std::byte> payload = m.build();
  return udp_frame(m.chaddr, dst_mac, src, dst, 68, 67, u8(payload));
}

// The DHCP reply in a frame, after checking its Ethernet/IP/UDP framing.
DhcpMessage dhcp_reply(const Decoded& d) {
  EXPECT_EQ(d.ethertype, 0x0800);
  EXPECT_EQ(d.src_mac, kGwMac);
  EXPECT_EQ(d.src_ip, kGwIp);
  EXPECT_TRUE(d.ip_checksum_ok);
  EXPECT_TRUE(d.udp_checksum_ok);
  EXPECT_EQ(d.proto, 17);
  EXPECT_EQ(d.sport, 67);
  EXPECT_EQ(d.dport, 68);
  DhcpMessage m;
  EXPECT_EQ(parse_dhcp(to_bytes(d.payload), m), DhcpParseError::kOk);
  return m;
}

// DISCOVER -> OFFER -> REQUEST -> ACK; returns the ACK.
DhcpMessage dora(Fixture& fx, ClientMsg m) {
  fx.out.clear();
  m.type = MessageType::kDiscover;
  fx.send(dhcp_frame(m));
  EXPECT_EQ(fx.out.frames.size(), 1u);
  if (fx.out.frames.empty()) return {};
  const DhcpMessage offer = dhcp_reply(fx.out.take());
  EXPECT_EQ(offer.message_type(), MessageType::kOffer);
  fx.out.clear();
  m.type = MessageType::kRequest;
  m.requested_ip = offer.yiaddr;
  m.server_id = kGwIp;
  fx.send(dhcp_frame(m));
  EXPECT_EQ(fx.out.frames.size(), 1u);
  if (fx.out.frames.empty()) return {};
  return dhcp_reply(fx.out.take());
}

bool has_option(const DhcpMessage& m, uint8_t code) { return m.find(code) != nullptr; }

// --- ARP -----------------------------------------------------------------------

TEST(Gateway, AnswersArpForItsAddressesOnly) {
  GatewayConfig c = nat_config();
  c.ipv4.push_back(Ipv4Interface{ip("10.0.0.1"), 8});
  Fixture fx(c);
  const Ipv4 guest = ip("192.168.122.50");

  fx.send(arp_frame(Mac::broadcast(), 1, kClientMac, guest, Mac{}, kGwIp), 5);
  ASSERT_EQ(fx.out.frames.size(), 1u);
  const Decoded r = fx.out.take();
  EXPECT_EQ(r.vlan, 5);
  EXPECT_EQ(r.ethertype, 0x0806);
  EXPECT_EQ(r.dst_mac, kClientMac);
  EXPECT_EQ(r.src_mac, kGwMac);
  EXPECT_EQ(r.arp_op, 2);
  EXPECT_EQ(r.arp_sha, kGwMac);
  EXPECT_EQ(r.arp_spa, kGwIp);
  EXPECT_EQ(r.arp_tha, kClientMac);
  EXPECT_EQ(r.arp_tpa, guest);

  // The second address answers too; other addresses and ARP replies do not.
  fx.out.clear();
  fx.send(arp_frame(Mac::broadcast(), 1, kClientMac, ip("10.0.0.9"), Mac{}, ip("10.0.0.1")));
  ASSERT_EQ(fx.out.frames.size(), 1u);
  EXPECT_EQ(fx.out.take().arp_spa, ip("10.0.0.1"));
  fx.out.clear();
  fx.send(arp_frame(Mac::broadcast(), 1, kClientMac, guest, Mac{}, ip("192.168.122.77")));
  fx.send(arp_frame(kGwMac, 2, kClientMac, guest, kGwMac, kGwIp));
  EXPECT_TRUE(fx.out.frames.empty());
  const GatewayStats s = fx.gw.stats();
  EXPECT_EQ(s.of(GatewayCounter::kArpReplied), 2u);
  EXPECT_EQ(s.of(GatewayCounter::kArpNotForUs), 1u);
  EXPECT_EQ(s.of(GatewayCounter::kArpNotRequest), 1u);

  // Someone else claiming our address is counted (and still answered).
  fx.send(arp_frame(Mac::broadcast(), 1, kClientMac, kGwIp, Mac{}, kGwIp));
  EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kArpConflict), 1u);
}

TEST(Gateway, GratuitousArpOnStart) {
  GatewayConfig c = nat_config();
  c.ipv4.push_back(Ipv4Interface{ip("10.0.0.1"), 8});
  Fixture fx(c);
  fx.gw.start(fx.out);
  ASSERT_EQ(fx.out.frames.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const Decoded d = fx.out.take(i);
    EXPECT_EQ(d.dst_mac, Mac::broadcast());
    EXPECT_EQ(d.arp_op, 1);
    EXPECT_EQ(d.arp_sha, kGwMac);
    EXPECT_EQ(d.arp_spa, d.arp_tpa);
    EXPECT_EQ(d.arp_spa, c.ipv4[i].address);
  }
  EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kArpGratuitousSent), 2u);
}

// --- ICMP and other IP -----------------------------------------------------------

TEST(Gateway, IcmpEchoReplyWithCorrectChecksums) {
  Fixture fx(nat_config());
  const Ipv4 guest = ip("192.168.122.50");
  Bytes data;
  for (int i = 0; i < 56; ++i) data.push_back(static_cast<uint8_t>(i * 7));
  const Bytes echo = icmp_echo(0x77, 3, data);
  fx.send(concat(eth(kGwMac, kClientMac, 0x0800), ipv4(guest, kGwIp, 1, echo)));
  ASSERT_EQ(fx.out.frames.size(), 1u);
  const Decoded r = fx.out.take();
  EXPECT_EQ(r.dst_mac, kClientMac);
  EXPECT_EQ(r.src_mac, kGwMac);
  EXPECT_EQ(r.src_ip, kGwIp);
  EXPECT_EQ(r.dst_ip, guest);
  EXPECT_EQ(r.proto, 1);
  EXPECT_TRUE(r.ip_checksum_ok);
  EXPECT_TRUE(r.icmp_checksum_ok);
  ASSERT_EQ(r.payload.size(), echo.size());
  EXPECT_EQ(r.payload[0], 0);  // echo reply
  EXPECT_EQ(Bytes(r.payload.begin() + 4, r.payload.end()), Bytes(echo.begin() + 4, echo.end()));

  // Not to us, not an echo request: no reply.
  fx.out.clear();
  fx.send(concat(eth(kGwMac, kClientMac, 0x0800), ipv4(guest, ip("8.8.8.8"), 1, echo)));
  Bytes reply_msg = echo;
  reply_msg[0] = 0;  // an echo reply sent to us is not answered
  reply_msg[2] = reply_msg[3] = 0;
  const uint16_t cs = ref_checksum(reply_msg.data(), reply_msg.size());
  reply_msg[2] = static_cast<uint8_t>(cs >> 8);
  reply_msg[3] = static_cast<uint8_t>(cs);
  fx.send(concat(eth(kGwMac, kClientMac, 0x0800), ipv4(guest, kGwIp, 1, reply_msg)));
  EXPECT_TRUE(fx.out.frames.empty());
  const GatewayStats s = fx.gw.stats();
  EXPECT_EQ(s.of(GatewayCounter::kIcmpEchoReplied), 1u);
  EXPECT_EQ(s.of(GatewayCounter::kIpv4NotForUs), 1u);
  EXPECT_EQ(s.of(GatewayCounter::kIcmpIgnored), 1u);
}

TEST(Gateway, ClosedUdpPortGetsPortUnreachable) {
  Fixture fx(nat_config());
  const Ipv4 guest = ip("192.168.122.50");
  const Bytes payload = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const Bytes frame = udp_frame(kClientMac, kGwMac, guest, kGwIp, 40000, 9999, payload);
  fx.send(frame);
  ASSERT_EQ(fx.out.frames.size(), 1u);
  const Decoded r = fx.out.take();
  EXPECT_EQ(r.proto, 1);
  EXPECT_TRUE(r.icmp_checksum_ok);
  ASSERT_GE(r.payload.size(), 8u + 28u);
  EXPECT_EQ(r.payload[0], 3);
  EXPECT_EQ(r.payload[1], 3);
  // The quoted datagram is the original IP header + 8 bytes.
  EXPECT_EQ(Bytes(r.payload.begin() + 8, r.payload.end()), Bytes(frame.begin() + 14, frame.begin() + 14 + 28));
  EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kUdpPortUnreachable), 1u);

  // A TCP segment with a zero data offset is malformed and counted; IPv6 and
  // unknown EtherTypes are counted, not answered.
  fx.out.clear();
  fx.send(concat(eth(kGwMac, kClientMac, 0x0800), ipv4(guest, kGwIp, 6, Bytes(20, 0))));
  fx.send(concat(eth(kGwMac, kClientMac, 0x86dd), Bytes(60, 0)));
  fx.send(concat(eth(kGwMac, kClientMac, 0x88cc), Bytes(60, 0)));
  fx.send(concat(eth(mac("52:54:00:99:99:99"), kClientMac, 0x0800), Bytes(60, 0)));
  fx.send(concat(eth(mac("01:00:5e:00:00:fb"), kClientMac, 0x0800), Bytes(60, 0)));
  EXPECT_TRUE(fx.out.frames.empty());
  const GatewayStats s = fx.gw.stats();
  EXPECT_EQ(s.of(FrameError::kTcpBadOffset), 1u);
  EXPECT_EQ(s.of(GatewayCounter::kIpv6Frames), 1u);
  EXPECT_EQ(s.ipv6.of(Ipv6Counter::kMalformed), 1u);
  EXPECT_EQ(s.of(GatewayCounter::kEthOtherType), 1u);
  EXPECT_EQ(s.of(GatewayCounter::kEthNotForUs), 1u);
  EXPECT_EQ(s.of(GatewayCounter::kEthMulticast), 1u);
  EXPECT_EQ(s.of(GatewayCounter::kRxFrames), 6u);
}

// --- DHCP ------------------------------------------------------------------------

TEST(Gateway, FullDoraFromRawFrames) {
  Fixture fx(nat_config());
  ClientMsg m;
  m.hostname = "vm1";
  m.client_id = bytes({1, 0x52, 0x54, 0, 0, 0, 1});
  const DhcpMessage ack = dora(fx, m);
  ASSERT_EQ(ack.message_type(), MessageType::kAck);
  const Ipv4 yiaddr = ack.yiaddr;
  EXPECT_TRUE(yiaddr.same_subnet(kGwIp, 24));
  EXPECT_NE(yiaddr, kGwIp);

  // No broadcast flag: unicast to yiaddr at chaddr (RFC 2131 §4.1).
  const Decoded d = fx.out.take();
  EXPECT_EQ(d.dst_mac, kClientMac);
  EXPECT_EQ(d.dst_ip, yiaddr);
  EXPECT_EQ(ack.server_id(), kGwIp);
  EXPECT_EQ(ack.lease_time_s(), 3600u);
  EXPECT_TRUE(has_option(ack, opt::kRouter));
  EXPECT_TRUE(has_option(ack, opt::kSubnetMask));
  EXPECT_TRUE(has_option(ack, opt::kDnsServer));

  EXPECT_TRUE(fx.gw.leases().empty());  // the view is republished by the next tick
  const std::vector<LeaseInfo> leases = fx.leases();
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0].mac, kClientMac);
  EXPECT_EQ(leases[0].ip, IpAddress::v4(yiaddr));
  EXPECT_EQ(leases[0].prefix_len, 24u);
  EXPECT_EQ(leases[0].hostname, "vm1");
  EXPECT_EQ(leases[0].client_id, "01:52:54:00:00:00:01");
  EXPECT_EQ(leases[0].expiry_s, fx.clock.now_s() + 3600);
  EXPECT_STREQ(leases[0].protocol(), "ipv4");
  EXPECT_EQ(fx.leases(mac("52:54:00:00:00:02")).size(), 0u);

  // Renewal: unicast from ciaddr to the server, reply unicast to ciaddr.
  fx.out.clear();
  fx.clock.advance_s(1800);
  ClientMsg renew = m;
  renew.type = MessageType::kRequest;
  renew.ciaddr = yiaddr;
  fx.send(dhcp_frame(renew, yiaddr, kGwIp, kGwMac));
  ASSERT_EQ(fx.out.frames.size(), 1u);
  const Decoded rd = fx.out.take();
  const DhcpMessage rack = dhcp_reply(rd);
  EXPECT_EQ(rack.message_type(), MessageType::kAck);
  EXPECT_EQ(rd.dst_ip, yiaddr);
  EXPECT_EQ(rack.ciaddr, yiaddr);
  EXPECT_EQ(fx.leases()[0].expiry_s, fx.clock.now_s() + 3600);

  const GatewayStats s = fx.gw.stats();
  EXPECT_EQ(s.of(GatewayCounter::kDhcpReceived), 3u);
  EXPECT_EQ(s.of(GatewayCounter::kDhcpReplied), 3u);
  EXPECT_EQ(s.dhcp.of(DhcpOutcome::kOffer), 1u);
  EXPECT_EQ(s.dhcp.of(DhcpOutcome::kAck), 2u);
}

TEST(Gateway, BroadcastFlagMeansBroadcastReply) {
  Fixture fx(nat_config());
  ClientMsg m;
  m.flags = kBroadcastFlag;
  fx.send(dhcp_frame(m));
  ASSERT_EQ(fx.out.frames.size(), 1u);
  const Decoded d = fx.out.take();
  EXPECT_EQ(d.dst_mac, Mac::broadcast());
  EXPECT_EQ(d.dst_ip, Ipv4::broadcast());
  EXPECT_EQ(dhcp_reply(d).message_type(), MessageType::kOffer);
}

TEST(Gateway, StaticHostGetsItsAddressAndName) {
  GatewayConfig c = nat_config();
  c.dhcp->hosts.push_back(StaticHost{kClientMac, "a.example.com", ip("192.168.122.10"), std::nullopt});
  Fixture fx(c);
  ClientMsg m;
  const DhcpMessage ack = dora(fx, m);
  EXPECT_EQ(ack.yiaddr, ip("192.168.122.10"));
  ASSERT_EQ(fx.leases().size(), 1u);
  EXPECT_EQ(fx.leases()[0].hostname, "a");

  // Another client never gets the static address, even when asking for it.
  ClientMsg other;
  other.chaddr = mac("52:54:00:00:00:02");
  other.requested_ip = ip("192.168.122.10");
  fx.out.clear();
  fx.send(dhcp_frame(other));
  ASSERT_EQ(fx.out.frames.size(), 1u);
  EXPECT_NE(dhcp_reply(fx.out.take()).yiaddr, ip("192.168.122.10"));
}

TEST(Gateway, NakForWrongAddressIsBroadcast) {
  Fixture fx(nat_config());
  ClientMsg m;
  m.type = MessageType::kRequest;  // INIT-REBOOT with an address from another network
  m.requested_ip = ip("10.1.2.3");
  fx.send(dhcp_frame(m));
  ASSERT_EQ(fx.out.frames.size(), 1u);
  const Decoded d = fx.out.take();
  EXPECT_EQ(d.dst_mac, Mac::broadcast());
  EXPECT_EQ(d.dst_ip, Ipv4::broadcast());
  const DhcpMessage nak = dhcp_reply(d);
  EXPECT_EQ(nak.message_type(), MessageType::kNak);
  EXPECT_TRUE(nak.yiaddr.is_zero());
  EXPECT_TRUE(fx.leases().empty());
}

TEST(Gateway, LeaseMaxNaksTheNextClient) {
  GatewayConfig c = nat_config();
  c.dhcp->lease_max = 1;
  Fixture fx(c);
  ClientMsg a;
  EXPECT_EQ(dora(fx, a).message_type(), MessageType::kAck);
  ClientMsg b;
  b.chaddr = mac("52:54:00:00:00:02");
  EXPECT_EQ(dora(fx, b).message_type(), MessageType::kNak);
  EXPECT_EQ(fx.leases().size(), 1u);
}

TEST(Gateway, RouterOptionAbsentWhenIsolated) {
  GatewayConfig c = nat_config();
  c.dhcp->send_router = false;
  Fixture fx(c);
  ClientMsg m;
  const DhcpMessage ack = dora(fx, m);
  ASSERT_EQ(ack.message_type(), MessageType::kAck);
  EXPECT_FALSE(has_option(ack, opt::kRouter));
  EXPECT_TRUE(has_option(ack, opt::kSubnetMask));
}

TEST(Gateway, RelayedAndDisabledDhcpAreIgnored) {
  Fixture fx(nat_config());
  ClientMsg m;
  m.giaddr = ip("10.9.9.1");
  fx.send(dhcp_frame(m));
  EXPECT_TRUE(fx.out.frames.empty());
  EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kDhcpRelayed), 1u);

  GatewayConfig c = nat_config();
  c.dhcp.reset();
  Fixture none(c);
  none.send(dhcp_frame(ClientMsg{}));
  EXPECT_TRUE(none.out.frames.empty());
  EXPECT_EQ(none.gw.stats().of(GatewayCounter::kDhcpDisabled), 1u);
}

TEST(Gateway, ReturningClientGetsItsAddressAcrossRestart) {
  TempDir dir;
  const std::string file = dir.file("default.leases");
  Ipv4 first;
  {
    Fixture fx(nat_config(file));
    ClientMsg m;
    m.hostname = "vm1";
    first = dora(fx, m).yiaddr;
    // Another client in between, then a RELEASE and a new DISCOVER.
    ClientMsg other;
    other.chaddr = mac("52:54:00:00:00:02");
    dora(fx, other);
    ClientMsg rel = m;
    rel.type = MessageType::kRelease;
    rel.ciaddr = first;
    rel.server_id = kGwIp;
    fx.out.clear();
    fx.send(dhcp_frame(rel, first, kGwIp, kGwMac));
    EXPECT_TRUE(fx.out.frames.empty());
    EXPECT_EQ(fx.leases().size(), 1u);  // this tick writes the file once
    EXPECT_EQ(dora(fx, m).yiaddr, first);
    fx.tick();
    EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kLeaseWrites), 2u);
    const std::string text = slurp(file);
    EXPECT_NE(text.find("52:54:00:00:00:01 " + first.to_string() + " vm1 *"), std::string::npos) << text;
    EXPECT_FALSE(fs::exists(file + ".tmp"));
  }
  // A new gateway reloads the file.
  Fixture fx(nat_config(file));
  const GatewayStats s = fx.gw.stats();
  EXPECT_EQ(s.lease_load.loaded, 2u);
  ASSERT_EQ(fx.gw.leases().size(), 2u);
  ClientMsg m;
  EXPECT_EQ(dora(fx, m).yiaddr, first);
}

TEST(Gateway, LeasesExpireByTimeAndLeaveTheFile) {
  TempDir dir;
  const std::string file = dir.file("net.leases");
  GatewayConfig c = nat_config(file);
  c.dhcp->ranges[0].lease_s = 120;
  Fixture fx(c);
  dora(fx, ClientMsg{});
  fx.tick();
  EXPECT_EQ(fx.gw.leases().size(), 1u);
  EXPECT_NE(slurp(file), "");
  fx.clock.advance_s(121);
  EXPECT_TRUE(fx.gw.leases().empty());  // the view filters by time at once
  fx.tick();
  EXPECT_EQ(slurp(file), "");
  EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kLeaseWrites), 2u);
}

// With more than 1024 leases the file is rewritten at most once a second
// (a DHCP storm would otherwise rewrite and fsync it every tick), and still
// at destruction.
TEST(Gateway, LargeLeaseFileIsWrittenAtMostOnceASecond) {
  TempDir dir;
  const std::string file = dir.file("big.leases");
  GatewayConfig c = nat_config(file);
  c.ipv4 = {Ipv4Interface{kGwIp, 16}};
  c.dhcp->prefix_len = 16;
  c.dhcp->ranges[0] = DhcpRange{ip("192.168.122.2"), ip("192.168.130.254"), std::nullopt};
  c.dhcp->lease_max = 4000;
  {
    Fixture fx(c);
    auto client = [](uint32_t i) {
      ClientMsg m;
      m.chaddr = Mac{{0x52, 0x54, 0x01, 0x00, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}};
      return m;
    };
    uint32_t i = 0;
    for (; i < 1100; ++i) dora(fx, client(i));
    fx.tick();  // the view becomes large (1100 leases)
    const uint64_t writes = fx.gw.stats().of(GatewayCounter::kLeaseWrites);
    EXPECT_GE(writes, 1u);
    dora(fx, client(i++));
    fx.tick();
    dora(fx, client(i++));
    fx.tick();
    EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kLeaseWrites), writes) << "within the second: not rewritten";
    fx.clock.advance_ns(1'000'000'000);
    fx.tick();
    EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kLeaseWrites), writes + 1);
    EXPECT_NE(slurp(file).find("52:54:01:00:04:4d"), std::string::npos) << "client 1101 written";
    dora(fx, client(i++));
    fx.tick();
    EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kLeaseWrites), writes + 1);
  }
  EXPECT_NE(slurp(file).find("52:54:01:00:04:4e"), std::string::npos) << "the last client, written at destruction";
}

TEST(Gateway, LeaseWriteFailureIsCountedAndRetried) {
  TempDir dir;
  Fixture fx(nat_config(dir.file("missing-dir/net.leases")));
  dora(fx, ClientMsg{});
  fx.tick();
  GatewayStats s = fx.gw.stats();
  EXPECT_EQ(s.of(GatewayCounter::kLeaseWriteFailed), 1u);
  EXPECT_NE(s.last_lease_error.find("open"), std::string::npos);
  fx.tick();  // not retried within the same second
  EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kLeaseWriteFailed), 1u);
  fs::create_directory(dir.file("missing-dir"));
  fx.clock.advance_s(1);
  fx.tick();
  EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kLeaseWrites), 1u);
}

TEST(Gateway, CorruptLeaseFileLinesAreSkipped) {
  TempDir dir;
  const std::string file = dir.file("net.leases");
  {
    std::ofstream f(file);
    f << "garbage line\n"
      << (1'700'000'000 + 600) << " 52:54:00:00:00:07 192.168.122.77 vm7 *\n"
      << "1 2 3 4 5\n";
  }
  Fixture fx(nat_config(file));
  const GatewayStats s = fx.gw.stats();
  EXPECT_EQ(s.lease_load.loaded, 1u);
  EXPECT_EQ(s.lease_load.corrupt, 2u);
  ASSERT_EQ(fx.gw.leases().size(), 1u);
  EXPECT_EQ(fx.gw.leases()[0].hostname, "vm7");
}

TEST(Gateway, UpdateConfigAddsStaticHostLive) {
  Fixture fx(nat_config());
  GatewayConfig bad = nat_config();
  bad.dhcp->ranges[0].start = ip("10.0.0.1");
  EXPECT_NE(fx.gw.update_config(bad), "");

  GatewayConfig c = nat_config();
  c.dhcp->hosts.push_back(StaticHost{kClientMac, "fixed", ip("192.168.122.99"), std::nullopt});
  EXPECT_EQ(fx.gw.update_config(c), "");
  fx.tick();
  EXPECT_EQ(fx.gw.stats().of(GatewayCounter::kConfigApplied), 1u);
  EXPECT_EQ(dora(fx, ClientMsg{}).yiaddr, ip("192.168.122.99"));
}

TEST(Gateway, LeasesCanBeReadFromAnotherThread) {
  Fixture fx(nat_config());
  std::atomic<bool> stop{false};
  std::atomic<size_t> max_seen{0};
  std::thread reader([&] {
    while (!stop.load()) {
      const size_t n = fx.gw.leases().size();
      if (n > max_seen.load()) max_seen = n;
      (void)fx.gw.stats();
    }
  });
  for (int i = 0; i < 100; ++i) {
    ClientMsg m;
    m.chaddr.bytes[5] = static_cast<uint8_t>(i + 1);
    m.chaddr.bytes[4] = 0x10;
    EXPECT_EQ(dora(fx, m).message_type(), MessageType::kAck);
    if (i % 10 == 9) fx.tick();  // republishes the view the reader polls
  }
  stop = true;
  reader.join();
  EXPECT_EQ(fx.leases().size(), 100u);
  EXPECT_LE(max_seen.load(), 100u);
}

// --- malformed input -------------------------------------------------------------

TEST(Gateway, MalformedFramesAreCountedByReason) {
  Fixture fx(nat_config());
  const Ipv4 guest = ip("192.168.122.50");
  const Bytes good = udp_frame(kClientMac, kGwMac, guest, kGwIp, 1000, 9999, Bytes{1, 2, 3, 4});

  fx.send(Bytes(10, 0xff));  // runt
  Bytes bad_ck = good;
  bad_ck[24] ^= 0x55;  // IPv4 header checksum
  fx.send(bad_ck);
  Bytes bad_ver = good;
  bad_ver[14] = 0x65;
  fx.send(bad_ver);
  Bytes too_long = good;
  too_long[16] = 0x05;  // total length > frame
  fx.send(too_long);
  fx.send(Bytes(good.begin(), good.begin() + 30));  // truncated IPv4
  Bytes udp_ck = good;
  udp_ck[good.size() - 1] ^= 0xff;  // payload change breaks the UDP checksum
  fx.send(udp_ck);
  // A fragment (MF set) with a correct header checksum.
  Bytes frag = concat(eth(kGwMac, kClientMac, 0x0800), ipv4(guest, kGwIp, 17, udp(guest, kGwIp, 1, 53, Bytes(8, 0))));
  frag[20] = 0x20;
  frag[24] = frag[25] = 0;
  const uint16_t c = ref_checksum(&frag[14], 20);
  frag[24] = static_cast<uint8_t>(c >> 8);
  frag[25] = static_cast<uint8_t>(c);
  fx.send(frag);
  fx.send(concat(eth(kGwMac, kClientMac, 0x0806), Bytes(20, 0)));  // short ARP
  Bytes icmp = icmp_echo(1, 1, Bytes(8, 1));
  icmp[9] ^= 1;
  fx.send(concat(eth(kGwMac, kClientMac, 0x0800), ipv4(guest, kGwIp, 1, icmp)));

  EXPECT_TRUE(fx.out.frames.empty());
  const GatewayStats s = fx.gw.stats();
  EXPECT_EQ(s.of(FrameError::kEthTruncated), 1u);
  EXPECT_EQ(s.of(FrameError::kIpv4BadChecksum), 1u);
  EXPECT_EQ(s.of(FrameError::kIpv4BadVersion), 1u);
  EXPECT_EQ(s.of(FrameError::kIpv4BadLength), 1u);
  EXPECT_EQ(s.of(FrameError::kIpv4Truncated), 1u);
  EXPECT_EQ(s.of(FrameError::kUdpBadChecksum), 1u);
  EXPECT_EQ(s.of(FrameError::kIpv4Fragment), 1u);
  EXPECT_EQ(s.of(FrameError::kArpMalformed), 1u);
  EXPECT_EQ(s.of(FrameError::kIcmpBadChecksum), 1u);
  EXPECT_EQ(s.of(GatewayCounter::kMalformed), 9u);
}

TEST(Gateway, BadDhcpPayloadsNeverChangeLeases) {
  Fixture fx(nat_config());
  const std::vector<Bytes> payloads = {
      Bytes{},
      Bytes(100, 0),
      [] {
        Bytes b(300, 0);
        b[0] = 2;  // BOOTREPLY
        return b;
      }(),
  };
  for (const Bytes& p : payloads) fx.send(udp_frame(kClientMac, Mac::broadcast(), Ipv4::any(), Ipv4::broadcast(), 68, 67, p));
  // An option running past the end of the message.
  std::vector<std::byte> valid = ClientMsg{}.build();
  Bytes overflow(u8(valid).begin(), u8(valid).end());
  overflow.resize(kDhcpOptionsOffset + 3);
  overflow[kDhcpOptionsOffset] = 53;
  overflow[kDhcpOptionsOffset + 1] = 200;
  fx.send(udp_frame(kClientMac, Mac::broadcast(), Ipv4::any(), Ipv4::broadcast(), 68, 67, overflow));
  EXPECT_TRUE(fx.out.frames.empty());
  EXPECT_TRUE(fx.leases().empty());
  const GatewayStats s = fx.gw.stats();
  EXPECT_EQ(s.dhcp.of(DhcpOutcome::kParseError), 4u);
  EXPECT_GE(s.dhcp.of(DhcpParseError::kTruncated), 2u);
}

TEST(Gateway, RandomlyMutatedFramesNeverCrash) {
  Fixture fx(nat_config());
  std::vector<Bytes> seeds;
  seeds.push_back(dhcp_frame(ClientMsg{}));
  seeds.push_back(arp_frame(Mac::broadcast(), 1, kClientMac, ip("192.168.122.50"), Mac{}, kGwIp));
  seeds.push_back(concat(eth(kGwMac, kClientMac, 0x0800),
                         ipv4(ip("192.168.122.50"), kGwIp, 1, icmp_echo(1, 2, Bytes(16, 3)))));
  const std::vector<std::byte> q = dns_query("host.example.com", dns_type::kA);
  seeds.push_back(udp_frame(kClientMac, kGwMac, ip("192.168.122.50"), kGwIp, 5353, 53, u8(q)));
  SeededRng rng(7);
  for (int i = 0; i < 20000; ++i) {
    Bytes f = seeds[rng.next_u64() % seeds.size()];
    const int flips = 1 + static_cast<int>(rng.next_u64() % 4);
    if (i % 2 == 0 && f.size() > 42 && f[23] == 17) {
      // Mutate only the UDP payload and drop the UDP checksum (0 = none) so
      // the DHCP and DNS parsers see the damage.
      for (int k = 0; k < flips; ++k) f[42 + rng.next_u64() % (f.size() - 42)] ^= static_cast<uint8_t>(rng.next_u64());
      f[40] = f[41] = 0;
    } else {
      for (int k = 0; k < flips; ++k) f[rng.next_u64() % f.size()] ^= static_cast<uint8_t>(rng.next_u64());
      if (rng.next_u64() % 4 == 0) f.resize(rng.next_u64() % (f.size() + 1));
    }
    fx.send(f);
    if (i % 1000 == 0) fx.tick();
  }
  const GatewayStats s = fx.gw.stats();
  EXPECT_EQ(s.of(GatewayCounter::kRxFrames), 20000u);
  EXPECT_GT(s.of(GatewayCounter::kDhcpReceived), 1000u);
  EXPECT_GT(s.of(GatewayCounter::kDnsReceived), 1000u);
  EXPECT_GT(s.dhcp.of(DhcpOutcome::kParseError) + s.dhcp.of(DhcpOutcome::kBootpIgnored), 0u);
  EXPECT_GT(s.dns.of(DnsOutcome::kFormErr) + s.dns.of(DnsOutcome::kDropped), 0u);
}

}  // namespace
}  // namespace vnet::dhcp

namespace vnet::dhcp {
namespace {

// <tftp root>: port 69 and the transfer ports reach the TFTP server, whose
// datagrams leave as UDP frames from the gateway; without it port 69 is
// closed. conversing() holds while a transfer runs.
TEST(Gateway, TftpIsServedOnPort69AndTheTransferPort) {
  using namespace test;
  TempDir dir;
  std::ofstream(dir.file("boot.img"), std::ios::binary) << std::string(700, 'b');
  ::chmod(dir.file("boot.img").c_str(), 0644);
  GatewayConfig c = nat_config();
  Fixture plain(c);
  const Ipv4 client = ip("192.168.122.50");
  const std::vector<uint8_t> rrq{0, 1, 'b', 'o', 'o', 't', '.', 'i', 'm', 'g', 0, 'o', 'c', 't', 'e', 't', 0};
  plain.send(udp_frame(kClientMac, kGwMac, client, kGwIp, 3000, 69, rrq));
  ASSERT_EQ(plain.out.frames.size(), 1u);
  EXPECT_EQ(plain.out.take().proto, 1);  // ICMP port unreachable
  EXPECT_EQ(plain.gw.stats().of(GatewayCounter::kUdpPortUnreachable), 1u);

  c.tftp_root = fs::path(dir.file("boot.img")).parent_path().string();
  Fixture fx(c);
  EXPECT_FALSE(fx.gw.conversing());
  fx.send(udp_frame(kClientMac, kGwMac, client, kGwIp, 3000, 69, rrq), 5);
  ASSERT_EQ(fx.out.frames.size(), 1u);
  const Decoded d1 = fx.out.take();
  EXPECT_EQ(fx.out.vlans[0], 5);
  EXPECT_EQ(d1.dst_mac, kClientMac);
  EXPECT_EQ(d1.src_ip, kGwIp);
  EXPECT_EQ(d1.dst_ip, client);
  EXPECT_EQ(d1.dport, 3000);
  EXPECT_NE(d1.sport, 69);
  EXPECT_TRUE(d1.udp_checksum_ok);
  ASSERT_EQ(d1.payload.size(), 4u + 512);
  EXPECT_EQ(d1.payload[1], 3);  // DATA 1
  EXPECT_TRUE(fx.gw.conversing());
  fx.out.clear();
  const std::vector<uint8_t> ack1{0, 4, 0, 1};
  fx.send(udp_frame(kClientMac, kGwMac, client, kGwIp, 3000, d1.sport, ack1), 5);
  ASSERT_EQ(fx.out.frames.size(), 1u);
  EXPECT_EQ(fx.out.take().payload.size(), 4u + 188);
  fx.out.clear();
  const std::vector<uint8_t> ack2{0, 4, 0, 2};
  fx.send(udp_frame(kClientMac, kGwMac, client, kGwIp, 3000, d1.sport, ack2), 5);
  EXPECT_TRUE(fx.out.frames.empty());
  EXPECT_FALSE(fx.gw.conversing());
  // The transfer's port is closed again.
  fx.send(udp_frame(kClientMac, kGwMac, client, kGwIp, 3000, d1.sport, ack2), 5);
  ASSERT_EQ(fx.out.frames.size(), 1u);
  EXPECT_EQ(fx.out.take().proto, 1);
  fx.tick();
  const GatewayStats st = fx.gw.stats();
  EXPECT_EQ(st.tftp.of(TftpCounter::kCompleted), 1u);
  EXPECT_EQ(st.of(GatewayCounter::kTftpDatagrams), 3u);
  // A configuration without <tftp> closes port 69 and keeps the counts.
  c.tftp_root.reset();
  ASSERT_EQ(fx.gw.update_config(c), "");
  fx.tick();
  fx.out.clear();
  fx.send(udp_frame(kClientMac, kGwMac, client, kGwIp, 3001, 69, rrq));
  ASSERT_EQ(fx.out.frames.size(), 1u);
  EXPECT_EQ(fx.out.take().proto, 1);
  fx.tick();
  EXPECT_EQ(fx.gw.stats().tftp.of(TftpCounter::kCompleted), 1u);
}

}  // namespace
}  // namespace vnet::dhcp

namespace vnet::dhcp {
namespace {

std::optional<Ipv6Addr> ipv6_of(const char* s) {
  const auto a = IpAddress::parse(s);
  if (!a) return std::nullopt;
  return a->bytes;
}

// Router advertisements from the gateway: the ra-only <ip>s, last first (as
// dnsmasq lists the bridge's addresses); with DHCPv6, the managed form.
TEST(Gateway, RouterAdvertisementsListTheIpv6Prefixes) {
  using namespace test;
  GatewayConfig c = nat_config();
  c.routed = true;
  c.ipv6 = {Ipv6Interface{*IpAddress::parse("fd00:80::1"), 64}, Ipv6Interface{*IpAddress::parse("fd00:81::1"), 64}};
  Fixture fx(c);
  fx.tick();
  ASSERT_EQ(fx.out.frames.size(), 1u);
  const Bytes& f = fx.out.frames[0];
  ASSERT_GE(f.size(), 14u + 40u + 16u + 64u);
  EXPECT_EQ(f[54], 134);
  const size_t p1 = 14 + 40 + 16, p2 = p1 + 32;
  EXPECT_EQ(f[p1], 3);
  EXPECT_EQ(f[p1 + 16 + 3], 0x81);  // fd00:81::/64 first
  EXPECT_EQ(f[p2], 3);
  EXPECT_EQ(f[p2 + 16 + 3], 0x80);
  EXPECT_EQ(fx.gw.stats().ipv6.of(Ipv6Counter::kRaSent), 1u);
  // With DHCPv6 on the second <ip>: dnsmasq's enable-ra, managed (M and O),
  // that prefix alone, on-link but not autonomous, the lease time as lifetimes.
  c.ipv6[1].dhcp = true;
  Dhcp6Config d6;
  d6.server_ip = c.ipv6[1].address.bytes;
  d6.ranges.push_back(Dhcp6Range{*ipv6_of("fd00:81::100"), *ipv6_of("fd00:81::1ff"), 7200});
  c.dhcp6 = d6;
  Fixture dhcp6(c);
  dhcp6.tick();
  ASSERT_EQ(dhcp6.out.frames.size(), 1u);
  const Bytes& m = dhcp6.out.frames[0];
  EXPECT_EQ(m[54 + 5], 0xc0);  // M, O
  const size_t p = 14 + 40 + 16;
  EXPECT_EQ(m[p], 3);
  EXPECT_EQ(m[p + 3], 0x80);   // L only
  EXPECT_EQ((m[p + 4] << 24) | (m[p + 5] << 16) | (m[p + 6] << 8) | m[p + 7], 7200);  // valid
  EXPECT_EQ((m[p + 8] << 24) | (m[p + 9] << 16) | (m[p + 10] << 8) | m[p + 11], 7200);  // preferred
  EXPECT_EQ(m[p + 16 + 3], 0x81);
  EXPECT_EQ(m[p + 32], 5);     // the MTU option follows: one prefix only
}

// DHCPv6: a Solicit to ff02::1:2 from a client's link-local address is
// answered from the gateway's link-local address to the client's, port 546;
// without DHCPv6 the group is not ours.
TEST(Gateway, Dhcp6SolicitIsAnsweredFromTheLinkLocalAddress) {
  using namespace test;
  GatewayConfig c = nat_config();
  c.routed = true;
  c.ipv6 = {Ipv6Interface{*IpAddress::parse("fd00:81::1"), 64, true}};
  Dhcp6Config d6;
  d6.server_ip = c.ipv6[0].address.bytes;
  d6.ranges.push_back(Dhcp6Range{*ipv6_of("fd00:81::100"), *ipv6_of("fd00:81::1ff"), std::nullopt});
  d6.server_mac = c.mac;
  c.dhcp6 = d6;
  const Ipv6Addr client_ll = link_local_of(kClientMac);
  const Ipv6Addr group = Ipv6Host::dhcp6_group();
  // Solicit: client id (DUID-LL of the client MAC), an IA_NA, elapsed time.
  std::vector<uint8_t> solicit = {1, 0x12, 0x34, 0x56, 0, 1, 0, 10, 0, 3, 0, 1};
  solicit.insert(solicit.end(), kClientMac.bytes.begin(), kClientMac.bytes.end());
  solicit.insert(solicit.end(), {0, 3, 0, 12, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 2, 0, 0});
  const std::vector<uint8_t> frame =
      build_udp6_frame(kClientMac, multicast_mac_of(group), client_ll, group, 546, 547, solicit);
  Fixture fx(c);
  fx.out.clear();
  fx.send(Bytes(frame.begin(), frame.end()));
  ASSERT_EQ(fx.out.frames.size(), 1u);
  const Bytes& r = fx.out.frames[0];
  ASSERT_GT(r.size(), 14u + 40u + 8u + 4u);
  EXPECT_TRUE(std::equal(r.begin(), r.begin() + 6, kClientMac.bytes.begin()));
  EXPECT_TRUE(std::equal(r.begin() + 6, r.begin() + 12, kGwMac.bytes.begin()));
  const Ipv6Addr gw_ll = link_local_of(kGwMac);
  EXPECT_TRUE(std::equal(r.begin() + 22, r.begin() + 38, gw_ll.begin()));
  EXPECT_TRUE(std::equal(r.begin() + 38, r.begin() + 54, client_ll.begin()));
  EXPECT_EQ((r[54] << 8) | r[55], 547);
  EXPECT_EQ((r[56] << 8) | r[57], 546);
  EXPECT_EQ(r[62], 2);  // Advertise
  EXPECT_TRUE(std::equal(r.begin() + 63, r.begin() + 66, solicit.begin() + 1));
  const GatewayStats st = fx.gw.stats();
  EXPECT_EQ(st.of(GatewayCounter::kDhcp6Received), 1u);
  EXPECT_EQ(st.of(GatewayCounter::kDhcp6Replied), 1u);
  EXPECT_EQ(st.dhcp6.of(Dhcp6Outcome::kAdvertised), 1u);

  // Without DHCPv6 the group's frames are not for the gateway.
  GatewayConfig plain = nat_config();
  plain.ipv6 = {Ipv6Interface{*IpAddress::parse("fd00:81::1"), 64}};
  Fixture no6(plain);
  no6.out.clear();
  no6.send(Bytes(frame.begin(), frame.end()));
  EXPECT_TRUE(no6.out.frames.empty());
  EXPECT_EQ(no6.gw.stats().of(GatewayCounter::kDhcp6Received), 0u);
  EXPECT_EQ(no6.gw.stats().of(GatewayCounter::kEthMulticast), 1u);
}

}  // namespace
}  // namespace vnet::dhcp
