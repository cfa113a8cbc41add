// gwload_test.cc — vnet-pktgen's ARP, router and gateway-load pieces (no EAL).
// The gateway-load frames are checked against the real gateway service
// (dhcp::Gateway), the code vnetd runs behind every network's gateway.
#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>
#include <vector>

#include "arp.h"
#include "dhcp/gateway.h"
#include "frame.h"
#include "gwload.h"
#include "options.h"

namespace vnet::perf {
namespace {

std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> v;
  for (auto& a : args) v.push_back(a.data());
  return v;
}

ParseResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "vnet-pktgen");
  auto v = argv_of(args);
  return parse_options(static_cast<int>(v.size()), v.data());
}

TEST(Arp, RequestIsAnsweredInPlaceOnlyForOurAddress) {
  std::array<uint8_t, kArpFrameSize> f{};
  ASSERT_EQ(build_arp_request(f, 0x525400000001ULL, 0xc6336402, 0xc6336401), kArpFrameSize);
  auto req = parse_arp(f);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->op, 1);
  EXPECT_EQ(req->sender_mac, 0x525400000001ULL);
  EXPECT_EQ(req->target_ip, 0xc6336401u);
  for (int b = 0; b < 6; ++b) EXPECT_EQ(f[b], 0xff);

  auto other = f;
  EXPECT_FALSE(arp_reply_in_place(other, 0xc6336409, 0x020001000000ULL));
  EXPECT_EQ(other, f) << "a who-has for another address is left alone";

  ASSERT_TRUE(arp_reply_in_place(f, 0xc6336401, 0x020001000000ULL));
  auto rep = parse_arp(f);
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->op, 2);
  EXPECT_EQ(rep->sender_mac, 0x020001000000ULL);
  EXPECT_EQ(rep->sender_ip, 0xc6336401u);
  EXPECT_EQ(rep->target_mac, 0x525400000001ULL);
  EXPECT_EQ(rep->target_ip, 0xc6336402u);
  EXPECT_EQ(f[0], 0x52) << "the reply goes to the requester";
  EXPECT_EQ(f[6], 0x02) << "from the answering MAC";
  EXPECT_FALSE(arp_reply_in_place(f, 0xc6336402, 1)) << "a reply is never answered";
  std::array<uint8_t, 20> short_frame{};
  EXPECT_FALSE(parse_arp(short_frame));
}

TEST(Router, DstMacOverrideKeepsTheStampedRxPort) {
  FlowSpec spec;
  spec.dst_mac = 0x525400aa0001ULL;
  spec.src_port.count = 4;
  spec.dst_mac_count = 3;
  const std::array<unsigned, 1> dests = {1};
  FlowCursor cursor(spec, 0, dests, 64);
  std::array<uint8_t, 60> frame{};
  std::set<uint16_t> ports;
  for (uint64_t i = 0; i < 8; ++i) {
    cursor.build_next(frame, i, 0);
    uint64_t dst = 0;
    for (int b = 0; b < 6; ++b) dst = dst << 8 | frame[b];
    EXPECT_EQ(dst, spec.dst_mac);
    ports.insert(static_cast<uint16_t>(frame[34] << 8 | frame[35]));
    const auto stamp = read_stamp(frame);
    ASSERT_TRUE(stamp);
    EXPECT_EQ(stamp->rx_index, 1u);
  }
  EXPECT_EQ(ports.size(), 4u);
}

TEST(Options, RouterAndGatewayLoad) {
  auto r = parse({"--dst-mac", "52:54:00:aa:00:01", "--arp-reply-ip", "198.51.100.1"});
  ASSERT_TRUE(r.options) << r.message;
  EXPECT_EQ(r.options->flows.dst_mac, 0x525400aa0001ULL);
  EXPECT_EQ(r.options->arp_reply_ip, 0xc6336401u);
  EXPECT_FALSE(parse({"--dst-mac", "00:00:00:00:00:00"}).options);
  EXPECT_FALSE(parse({"--dst-mac", "52:54:00:aa:00:01", "--dst-mac-arp", "10.0.0.1"}).options);

  r = parse({"--tx-ports", "0", "--rx-ports", "1", "--gw-port", "2", "--gw-ip", "10.0.0.1", "--gw-rate", "20000",
             "--gw-dhcp-share", "0.25", "--gw-dhcp-clients", "500", "--gw-dns-name", "www"});
  ASSERT_TRUE(r.options) << r.message;
  const GwLoadSpec& g = r.options->gw;
  EXPECT_TRUE(g.enabled);
  EXPECT_EQ(g.port, 2u);
  EXPECT_EQ(g.gw_ip, 0x0a000001u);
  EXPECT_EQ(g.client_ip, 0x0a000002u) << "default: gateway + 1";
  EXPECT_DOUBLE_EQ(g.rate_pps, 20000);
  EXPECT_DOUBLE_EQ(g.dhcp_share, 0.25);
  EXPECT_EQ(g.dhcp_clients, 500u);
  EXPECT_EQ(g.dns_name, "www");
  EXPECT_FALSE(parse({"--gw-port", "2"}).options) << "needs --gw-ip";
  EXPECT_FALSE(parse({"--gw-rate", "10"}).options) << "needs --gw-port";
  EXPECT_FALSE(parse({"--gw-port", "1", "--gw-ip", "10.0.0.1", "--gw-dhcp-share", "2"}).options);

  // The load port is neither sending nor receiving measured traffic.
  std::string error;
  auto plans = make_port_plans(*r.options, 3, error);
  ASSERT_TRUE(plans) << error;
  EXPECT_TRUE((*plans)[2].gw);
  EXPECT_FALSE((*plans)[2].tx);
  EXPECT_FALSE((*plans)[2].rx);
  auto defaults = parse({"--gw-port", "2", "--gw-ip", "10.0.0.1"});
  ASSERT_TRUE(defaults.options);
  plans = make_port_plans(*defaults.options, 3, error);
  ASSERT_TRUE(plans) << error;
  EXPECT_TRUE((*plans)[1].rx);
  EXPECT_FALSE((*plans)[2].rx) << "default rx ports leave the load port out";
  EXPECT_FALSE(make_port_plans(*defaults.options, 2, error)) << "port 2 does not exist";
  auto clash = parse({"--rx-ports", "2", "--gw-port", "2", "--gw-ip", "10.0.0.1"});
  ASSERT_TRUE(clash.options);
  EXPECT_FALSE(make_port_plans(*clash.options, 3, error));
}

// Collects the gateway's replies.
class Sink final : public dhcp::FrameSink {
 public:
  bool send(std::span<const uint8_t> frame, uint16_t) override {
    frames.emplace_back(frame.begin(), frame.end());
    return true;
  }
  std::vector<std::vector<uint8_t>> frames;
};

dhcp::GatewayConfig gateway_config() {
  using namespace vnet::dhcp;
  GatewayConfig c;
  c.network = "gwload";
  c.mac = Mac{{0x52, 0x54, 0x00, 0xaa, 0x00, 0x01}};
  c.ipv4 = {Ipv4Interface{Ipv4::from_octets(10, 0, 0, 1), 16}};
  ServerConfig s;
  s.server_ip = Ipv4::from_octets(10, 0, 0, 1);
  s.prefix_len = 16;
  s.ranges.push_back(DhcpRange{Ipv4::from_octets(10, 0, 1, 0), Ipv4::from_octets(10, 0, 1, 255), std::nullopt});
  s.lease_max = 1000;
  c.dhcp = s;
  DnsHostRecord h;
  h.ip = IpAddress::v4(Ipv4::from_octets(10, 0, 0, 9));
  h.hostnames = {"gwload"};
  c.dns.hosts.push_back(h);
  return c;
}

TEST(GwLoad, DoraAndDnsAgainstTheGatewayService) {
  GwLoadSpec spec;
  spec.enabled = true;
  spec.port = 2;
  spec.gw_ip = 0x0a000001;
  spec.client_ip = 0x0a000002;
  spec.dhcp_clients = 3;
  const uint64_t gw_mac = 0x525400aa0001ULL;
  GwFrames frames(spec, 0x020000000000ULL, gw_mac);
  EXPECT_EQ(frames.dns_client_mac(), station_mac(0x020000000000ULL, 2, 0));
  EXPECT_NE(frames.client_mac(0), frames.client_mac(1));

  dhcp::SystemClock clock;
  dhcp::SeededRng rng(7);
  dhcp::Gateway gw(gateway_config(), clock, rng);
  Sink out;
  gw.start(out);
  out.frames.clear();

  std::array<uint8_t, kGwMaxFrameSize> buf{};
  std::set<uint32_t> addresses;
  for (uint32_t client = 0; client < 3; ++client) {
    std::size_t len = frames.dhcp_discover(buf, client);
    ASSERT_GT(len, 300u);
    EXPECT_EQ(ipv4_header_checksum({buf.data() + 14, 20}), 0);
    gw.on_frame({buf.data(), len}, 0, out);
    ASSERT_EQ(out.frames.size(), 1u) << "one OFFER per DISCOVER";
    const GwReply offer = classify_gw_reply(out.frames.back());
    ASSERT_EQ(offer.kind, GwReplyKind::kDhcpOffer);
    EXPECT_EQ(offer.client, client);
    EXPECT_EQ(offer.server_id, spec.gw_ip);
    EXPECT_EQ(offer.yiaddr >> 8, 0x0a0001u) << "inside the range";
    out.frames.clear();
    len = frames.dhcp_request(buf, client, offer.yiaddr, offer.server_id);
    gw.on_frame({buf.data(), len}, 0, out);
    ASSERT_EQ(out.frames.size(), 1u);
    const GwReply ack = classify_gw_reply(out.frames.back());
    EXPECT_EQ(ack.kind, GwReplyKind::kDhcpAck);
    EXPECT_EQ(ack.yiaddr, offer.yiaddr);
    addresses.insert(ack.yiaddr);
    out.frames.clear();
  }
  EXPECT_EQ(addresses.size(), 3u) << "distinct clients get distinct addresses";

  // A REQUEST for an address outside the network is refused.
  std::size_t len = frames.dhcp_request(buf, 0, 0xc0a80001, spec.gw_ip);
  gw.on_frame({buf.data(), len}, 0, out);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(classify_gw_reply(out.frames.back()).kind, GwReplyKind::kDhcpNak);
  out.frames.clear();

  len = frames.dns_query(buf, 0x1234);
  gw.on_frame({buf.data(), len}, 0, out);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(classify_gw_reply(out.frames.back()).kind, GwReplyKind::kDnsAnswer);
  out.frames.clear();

  GwLoadSpec unknown = spec;
  unknown.dns_name = "nosuchhost";
  GwFrames other(unknown, 0x020000000000ULL, gw_mac);
  len = other.dns_query(buf, 1);
  gw.on_frame({buf.data(), len}, 0, out);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(classify_gw_reply(out.frames.back()).kind, GwReplyKind::kDnsOther);

  // Not replies to the load: our own query, an ARP frame, a runt.
  len = frames.dns_query(buf, 1);
  EXPECT_EQ(classify_gw_reply({buf.data(), len}).kind, GwReplyKind::kNone);
  len = frames.dhcp_discover(buf, 1);
  EXPECT_EQ(classify_gw_reply({buf.data(), len}).kind, GwReplyKind::kNone);
  std::array<uint8_t, kArpFrameSize> arp{};
  build_arp_request(arp, 1, 2, 3);
  EXPECT_EQ(classify_gw_reply(arp).kind, GwReplyKind::kNone);
  EXPECT_EQ(classify_gw_reply({buf.data(), 30}).kind, GwReplyKind::kNone);
}

}  // namespace
}  // namespace vnet::perf
