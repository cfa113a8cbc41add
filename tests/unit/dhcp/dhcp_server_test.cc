// Tests for dhcp/dhcp_server: the DHCP exchanges a guest on a libvirt
// network goes through, checked against what libvirt's dnsmasq sends.
#include "dhcp/dhcp_server.h"

#include <gtest/gtest.h>

#include <memory>

#include "test_support.h"

namespace vnet::dhcp {
namespace {

using test::ClientMsg;
using test::FakeClock;
using test::ip;
using test::mac;

// <ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='.2' end='.254'/>
ServerConfig nat_network() {
  ServerConfig c;
  c.server_ip = ip("192.168.122.1");
  c.prefix_len = 24;
  c.ranges.push_back(DhcpRange{ip("192.168.122.2"), ip("192.168.122.254"), std::nullopt});
  return c;
}

// Option codes in the order they appear in the options field.
std::vector<int> option_order(const std::vector<std::byte>& wire) {
  std::vector<int> codes;
  size_t pos = kDhcpOptionsOffset;
  while (pos < wire.size()) {
    const int code = std::to_integer<int>(wire[pos]);
    if (code == 0) {
      ++pos;
      continue;
    }
    if (code == 255) break;
    codes.push_back(code);
    pos += 2 + std::to_integer<size_t>(wire[pos + 1]);
  }
  return codes;
}

uint32_t u32_option(const DhcpMessage& m, uint8_t code) {
  const DhcpOption* o = m.find(code);
  if (!o || o->data.size() != 4) return 0xdeadbeef;
  uint32_t v = 0;
  for (std::byte b : o->data) v = (v << 8) | std::to_integer<uint32_t>(b);
  return v;
}

std::string string_option(const DhcpMessage& m, uint8_t code) {
  const DhcpOption* o = m.find(code);
  if (!o) return "<absent>";
  std::string s;
  for (std::byte b : o->data) s.push_back(static_cast<char>(b));
  return s;
}

class DhcpServerTest : public ::testing::Test {
 protected:
  void start(const ServerConfig& c) {
    db_ = std::make_unique<LeaseDb>(c, clock_);
    server_ = std::make_unique<DhcpServer>(*db_, clock_, rng_);
  }

  DhcpResult send(const ClientMsg& m, std::optional<RxMeta> meta = std::nullopt) {
    RxMeta rx = meta.value_or(RxMeta{m.chaddr, m.ciaddr, Ipv4::broadcast()});
    return server_->handle(m.build(), rx);
  }

  static DhcpMessage reply_of(const DhcpResult& r) {
    DhcpMessage m;
    EXPECT_TRUE(r.reply.has_value());
    if (r.reply) {
      EXPECT_EQ(parse_dhcp(r.reply->payload, m), DhcpParseError::kOk);
    }
    return m;
  }

  // DISCOVER + REQUEST (selecting); returns the ACK.
  DhcpMessage dora(ClientMsg m) {
    m.type = MessageType::kDiscover;
    const DhcpMessage offer = reply_of(send(m));
    EXPECT_EQ(offer.message_type(), MessageType::kOffer);
    m.type = MessageType::kRequest;
    m.requested_ip = offer.yiaddr;
    m.server_id = offer.server_id();
    const DhcpResult r = send(m);
    EXPECT_EQ(r.outcome, DhcpOutcome::kAck);
    EXPECT_TRUE(r.leases_changed);
    return reply_of(r);
  }

  FakeClock clock_;
  SeededRng rng_{42};
  std::unique_ptr<LeaseDb> db_;
  std::unique_ptr<DhcpServer> server_;
};

TEST_F(DhcpServerTest, FullDoraLikeDnsmasq) {
  start(nat_network());
  ClientMsg m;
  const DhcpResult offer_result = send(m);
  ASSERT_EQ(offer_result.outcome, DhcpOutcome::kOffer);
  const DhcpMessage offer = reply_of(offer_result);
  EXPECT_EQ(offer.op, kBootReply);
  EXPECT_EQ(offer.xid, m.xid);
  EXPECT_TRUE(offer.yiaddr.same_subnet(ip("192.168.122.0"), 24));
  EXPECT_EQ(offer.siaddr, ip("192.168.122.1"));  // dnsmasq: its own address
  EXPECT_EQ(offer.server_id(), ip("192.168.122.1"));
  EXPECT_EQ(u32_option(offer, opt::kLeaseTime), 3600u);
  EXPECT_EQ(u32_option(offer, opt::kRenewalTime), 1800u);    // T1 = 0.5
  EXPECT_EQ(u32_option(offer, opt::kRebindingTime), 3150u);  // T2 = 0.875
  EXPECT_EQ(u32_option(offer, opt::kSubnetMask), ip("255.255.255.0").value);
  EXPECT_EQ(u32_option(offer, opt::kBroadcastAddress), ip("192.168.122.255").value);
  EXPECT_EQ(u32_option(offer, opt::kRouter), ip("192.168.122.1").value);
  EXPECT_EQ(u32_option(offer, opt::kDnsServer), ip("192.168.122.1").value);
  EXPECT_FALSE(offer.find(opt::kDomainName));
  EXPECT_FALSE(offer.find(opt::kInterfaceMtu));
  EXPECT_EQ(option_order(offer_result.reply->payload), (std::vector<int>{53, 54, 51, 58, 59, 1, 28, 3, 6}));
  EXPECT_EQ(offer_result.reply->payload.size(), kBootpMinMessageSize);
  // No broadcast flag: unicast to yiaddr at chaddr.
  EXPECT_FALSE(offer_result.reply->broadcast);
  EXPECT_EQ(offer_result.reply->dst_ip, offer.yiaddr);
  EXPECT_EQ(offer_result.reply->dst_mac, m.chaddr);
  EXPECT_EQ(offer_result.reply->dst_port, kDhcpClientPort);
  EXPECT_EQ(offer_result.reply->src_ip, ip("192.168.122.1"));
  EXPECT_EQ(db_->active_count(), 0u);  // an OFFER creates no lease

  m.type = MessageType::kRequest;
  m.requested_ip = offer.yiaddr;
  m.server_id = ip("192.168.122.1");
  const DhcpResult ack_result = send(m);
  ASSERT_EQ(ack_result.outcome, DhcpOutcome::kAck);
  const DhcpMessage ack = reply_of(ack_result);
  EXPECT_EQ(ack.yiaddr, offer.yiaddr);
  EXPECT_TRUE(ack.ciaddr.is_zero());
  EXPECT_EQ(u32_option(ack, opt::kLeaseTime), 3600u);
  ASSERT_EQ(db_->active_count(), 1u);
  EXPECT_EQ(db_->active_leases()[0].ip, offer.yiaddr);
  EXPECT_EQ(db_->active_leases()[0].expires_s, clock_.now_s() + 3600);
  EXPECT_EQ(server_->counters().of(DhcpOutcome::kOffer), 1u);
  EXPECT_EQ(server_->counters().of(DhcpOutcome::kAck), 1u);
}

TEST_F(DhcpServerTest, BroadcastFlagMeansBroadcastReply) {
  start(nat_network());
  ClientMsg m;
  m.flags = kBroadcastFlag;
  const DhcpResult r = send(m);
  ASSERT_TRUE(r.reply);
  EXPECT_TRUE(r.reply->broadcast);
  EXPECT_EQ(r.reply->dst_ip, Ipv4::broadcast());
  EXPECT_EQ(r.reply->dst_mac, Mac::broadcast());
}

TEST_F(DhcpServerTest, RenewUnicastWithFuzzedTimers) {
  start(nat_network());
  ClientMsg m;
  const DhcpMessage ack = dora(m);
  clock_.advance_s(1800);
  ClientMsg renew;
  renew.type = MessageType::kRequest;
  renew.ciaddr = ack.yiaddr;
  const DhcpResult r = send(renew, RxMeta{renew.chaddr, ack.yiaddr, ip("192.168.122.1")});
  ASSERT_EQ(r.outcome, DhcpOutcome::kAck);
  const DhcpMessage re = reply_of(r);
  EXPECT_EQ(re.yiaddr, ack.yiaddr);
  EXPECT_EQ(re.ciaddr, ack.yiaddr);
  EXPECT_EQ(r.reply->dst_ip, ack.yiaddr);  // unicast to ciaddr
  EXPECT_FALSE(r.reply->broadcast);
  const uint32_t t1 = u32_option(re, opt::kRenewalTime);
  const uint32_t t2 = u32_option(re, opt::kRebindingTime);
  EXPECT_LE(t1, 1800u);
  EXPECT_GE(t1, 1800u - 1800u / 8);
  EXPECT_EQ(t2 - t1, 3150u - 1800u);  // the same fuzz comes off both
  EXPECT_EQ(db_->active_leases()[0].expires_s, clock_.now_s() + 3600);
}

TEST_F(DhcpServerTest, RebindAndLostLeaseRecovery) {
  start(nat_network());
  const DhcpMessage ack = dora(ClientMsg{});
  ClientMsg rebind;
  rebind.type = MessageType::kRequest;
  rebind.ciaddr = ack.yiaddr;
  EXPECT_EQ(send(rebind).outcome, DhcpOutcome::kAck);  // broadcast, our lease

  // Authoritative: a rebinding client unknown to us gets its address back
  // (dnsmasq's smooth recovery from a lost lease database).
  ClientMsg stranger;
  stranger.type = MessageType::kRequest;
  stranger.chaddr = mac("52:54:00:00:00:77");
  stranger.ciaddr = ip("192.168.122.77");
  const DhcpResult r = send(stranger);
  ASSERT_EQ(r.outcome, DhcpOutcome::kAck);
  EXPECT_EQ(reply_of(r).yiaddr, ip("192.168.122.77"));

  // Not authoritative: broadcast is ignored, unicast is NAKed.
  ServerConfig c = nat_network();
  c.authoritative = false;
  start(c);
  EXPECT_EQ(send(stranger).outcome, DhcpOutcome::kRequestIgnored);
  const DhcpResult nak = send(stranger, RxMeta{stranger.chaddr, stranger.ciaddr, ip("192.168.122.1")});
  EXPECT_EQ(nak.outcome, DhcpOutcome::kNak);
}

TEST_F(DhcpServerTest, NakCases) {
  ServerConfig c = nat_network();
  c.hosts.push_back(StaticHost{mac("00:16:3e:77:e2:ed"), "a", ip("192.168.122.10"), std::nullopt});
  start(c);
  const DhcpMessage ack = dora(ClientMsg{});

  const auto nak_message = [&](const ClientMsg& m) {
    const DhcpResult r = send(m);
    EXPECT_EQ(r.outcome, DhcpOutcome::kNak);
    if (!r.reply) return std::string("<no reply>");
    EXPECT_TRUE(r.reply->broadcast);
    const DhcpMessage nak = reply_of(r);
    EXPECT_EQ(nak.message_type(), MessageType::kNak);
    EXPECT_TRUE(nak.yiaddr.is_zero());
    EXPECT_TRUE(nak.siaddr.is_zero());
    EXPECT_FALSE(nak.find(opt::kLeaseTime));
    return string_option(nak, opt::kMessage);
  };

  ClientMsg reboot;  // INIT-REBOOT asking for another address than its lease
  reboot.type = MessageType::kRequest;
  reboot.requested_ip = Ipv4(ack.yiaddr.value + 1);
  EXPECT_EQ(nak_message(reboot), "wrong address");

  ClientMsg other;
  other.type = MessageType::kRequest;
  other.chaddr = mac("52:54:00:00:00:02");
  other.requested_ip = ip("10.0.0.5");
  EXPECT_EQ(nak_message(other), "wrong network");
  other.requested_ip = ip("192.168.122.1");
  EXPECT_EQ(nak_message(other), "address not available");
  other.requested_ip = ip("192.168.122.255");
  EXPECT_EQ(nak_message(other), "address not available");
  other.requested_ip = ack.yiaddr;
  EXPECT_EQ(nak_message(other), "address in use");
  other.requested_ip = ip("192.168.122.10");
  EXPECT_EQ(nak_message(other), "address reserved");
  other.requested_ip = ip("192.168.122.50");
  other.server_id = ip("192.168.122.99");
  EXPECT_EQ(nak_message(other), "wrong server-ID");

  // The static host asking for a dynamic address is sent back to DISCOVER.
  ClientMsg host;
  host.type = MessageType::kRequest;
  host.chaddr = mac("00:16:3e:77:e2:ed");
  host.requested_ip = ip("192.168.122.60");
  EXPECT_EQ(nak_message(host), "static lease available");
  EXPECT_EQ(server_->counters().of(DhcpOutcome::kNak), 8u);
}

TEST_F(DhcpServerTest, PoolExhaustionAndLeaseMax) {
  ServerConfig c = nat_network();
  c.ranges = {DhcpRange{ip("192.168.122.10"), ip("192.168.122.11"), std::nullopt}};
  start(c);
  ClientMsg a;
  a.chaddr = mac("52:54:00:00:00:0a");
  dora(a);
  ClientMsg b;
  b.chaddr = mac("52:54:00:00:00:0b");
  dora(b);
  ClientMsg d;
  d.chaddr = mac("52:54:00:00:00:0d");
  EXPECT_EQ(send(d).outcome, DhcpOutcome::kNoAddress);
  EXPECT_FALSE(send(d).reply);
  EXPECT_EQ(server_->counters().of(DhcpOutcome::kNoAddress), 2u);

  c = nat_network();
  c.lease_max = 1;
  start(c);
  dora(a);
  const DhcpMessage offer = reply_of(send(b));
  b.type = MessageType::kRequest;
  b.requested_ip = offer.yiaddr;
  b.server_id = ip("192.168.122.1");
  const DhcpResult r = send(b);
  EXPECT_EQ(r.outcome, DhcpOutcome::kNak);
  EXPECT_EQ(string_option(reply_of(r), opt::kMessage), "no leases left");
}

TEST_F(DhcpServerTest, ReleaseEndsTheLease) {
  start(nat_network());
  ClientMsg m;
  const DhcpMessage ack = dora(m);
  ClientMsg rel;
  rel.type = MessageType::kRelease;
  rel.ciaddr = ack.yiaddr;
  rel.params.reset();
  rel.server_id = ip("192.168.122.99");
  EXPECT_EQ(send(rel).outcome, DhcpOutcome::kNotForUs);
  rel.server_id = ip("192.168.122.1");
  const DhcpResult r = send(rel);
  EXPECT_EQ(r.outcome, DhcpOutcome::kReleased);
  EXPECT_FALSE(r.reply);
  EXPECT_TRUE(r.leases_changed);
  EXPECT_EQ(db_->active_count(), 0u);
  EXPECT_EQ(send(rel).outcome, DhcpOutcome::kReleaseUnknown);
  // Coming back, it gets the same address.
  EXPECT_EQ(reply_of(send(ClientMsg{})).yiaddr, ack.yiaddr);
}

TEST_F(DhcpServerTest, DeclineMovesTheClientElsewhere) {
  start(nat_network());
  const DhcpMessage ack = dora(ClientMsg{});
  ClientMsg dec;
  dec.type = MessageType::kDecline;
  dec.requested_ip = ack.yiaddr;
  dec.server_id = ip("192.168.122.1");
  const DhcpResult r = send(dec);
  EXPECT_EQ(r.outcome, DhcpOutcome::kDeclined);
  EXPECT_FALSE(r.reply);
  EXPECT_EQ(db_->active_count(), 0u);
  const DhcpMessage offer = reply_of(send(ClientMsg{}));
  EXPECT_NE(offer.yiaddr, ack.yiaddr);
  dec.requested_ip.reset();
  EXPECT_EQ(send(dec).outcome, DhcpOutcome::kMissingOption);
}

TEST_F(DhcpServerTest, InformGetsConfigurationWithoutLease) {
  ServerConfig c = nat_network();
  c.domain = "example.com";
  start(c);
  ClientMsg inf;
  inf.type = MessageType::kInform;
  inf.ciaddr = ip("192.168.122.50");
  const DhcpResult r = send(inf, RxMeta{inf.chaddr, inf.ciaddr, ip("192.168.122.1")});
  ASSERT_EQ(r.outcome, DhcpOutcome::kInformAck);
  const DhcpMessage ack = reply_of(r);
  EXPECT_EQ(ack.message_type(), MessageType::kAck);
  EXPECT_TRUE(ack.yiaddr.is_zero());
  EXPECT_EQ(ack.ciaddr, ip("192.168.122.50"));
  EXPECT_FALSE(ack.find(opt::kLeaseTime));
  EXPECT_FALSE(ack.find(opt::kRenewalTime));
  EXPECT_EQ(u32_option(ack, opt::kRouter), ip("192.168.122.1").value);
  EXPECT_EQ(string_option(ack, opt::kDomainName), "example.com");
  EXPECT_EQ(r.reply->dst_ip, ip("192.168.122.50"));
  EXPECT_EQ(db_->active_count(), 0u);
  inf.ciaddr = Ipv4::any();
  EXPECT_EQ(send(inf).outcome, DhcpOutcome::kInformNoCiaddr);
}

TEST_F(DhcpServerTest, IsolatedNetworkHasNoRouterAndDisabledDnsNoServer) {
  ServerConfig c = nat_network();
  c.send_router = false;  // libvirt: dhcp-option=3 on isolated networks
  c.send_dns = false;     // <dns enable='no'>: port=0
  start(c);
  const DhcpMessage ack = dora(ClientMsg{});
  EXPECT_FALSE(ack.find(opt::kRouter));
  EXPECT_FALSE(ack.find(opt::kDnsServer));
  EXPECT_TRUE(ack.find(opt::kSubnetMask));
}

TEST_F(DhcpServerTest, DomainHostnameAndMtuOnlyWhenRequested) {
  ServerConfig c = nat_network();
  c.domain = "example.com";
  c.mtu = 7000;
  c.hosts.push_back(StaticHost{mac("00:16:3e:77:e2:ed"), "a.example.com", ip("192.168.122.10"), std::nullopt});
  start(c);
  ClientMsg m;
  m.chaddr = mac("00:16:3e:77:e2:ed");
  const DhcpMessage ack = dora(m);
  EXPECT_EQ(ack.yiaddr, ip("192.168.122.10"));
  EXPECT_EQ(string_option(ack, opt::kDomainName), "example.com");
  EXPECT_EQ(string_option(ack, opt::kHostName), "a");
  const DhcpOption* mtu = ack.find(opt::kInterfaceMtu);
  ASSERT_TRUE(mtu);
  EXPECT_EQ(mtu->data, test::bytes({0x1b, 0x58}));
  EXPECT_EQ(db_->lease_hostname(ip("192.168.122.10")), "a");

  m.params = std::vector<uint8_t>{1, 3};
  const DhcpMessage narrow = dora(m);
  EXPECT_FALSE(narrow.find(opt::kInterfaceMtu));
  EXPECT_FALSE(narrow.find(opt::kDomainName));
  EXPECT_FALSE(narrow.find(opt::kHostName));
  EXPECT_FALSE(narrow.find(opt::kDnsServer));
  EXPECT_TRUE(narrow.find(opt::kRouter));
  EXPECT_TRUE(narrow.find(opt::kBroadcastAddress));  // always, as dnsmasq

  m.params.reset();  // no list: everything
  const DhcpMessage all = dora(m);
  EXPECT_TRUE(all.find(opt::kInterfaceMtu));
  EXPECT_TRUE(all.find(opt::kHostName));
}

TEST_F(DhcpServerTest, BootpFileAndNextServer) {
  ServerConfig c = nat_network();
  c.bootp = BootpConfig{"pxeboot.img", std::nullopt};
  start(c);
  ClientMsg m;
  m.params = std::vector<uint8_t>{1, 3, 6, 66, 67};
  DhcpMessage ack = dora(m);
  EXPECT_EQ(ack.file, "pxeboot.img");
  EXPECT_EQ(ack.siaddr, ip("192.168.122.1"));
  EXPECT_FALSE(ack.find(opt::kBootfileName));  // dhcp-no-override

  c.bootp->server = ip("192.168.122.5");
  start(c);
  ack = dora(m);
  EXPECT_EQ(ack.siaddr, ip("192.168.122.5"));
  EXPECT_EQ(ack.file, "pxeboot.img");

  c.no_override = false;
  start(c);
  ack = dora(m);
  EXPECT_EQ(string_option(ack, opt::kBootfileName), "pxeboot.img");
  EXPECT_TRUE(ack.file.empty());
}

TEST_F(DhcpServerTest, StaticHostByNameAndClientNames) {
  ServerConfig c = nat_network();
  c.hosts.push_back(StaticHost{std::nullopt, "vm7", ip("192.168.122.77"), std::nullopt});
  start(c);
  ClientMsg m;
  m.hostname = "vm7";
  const DhcpMessage ack = dora(m);
  EXPECT_EQ(ack.yiaddr, ip("192.168.122.77"));

  ClientMsg g;
  g.chaddr = mac("52:54:00:00:00:33");
  g.hostname = "guest1.some.where";
  const DhcpMessage ack2 = dora(g);
  EXPECT_EQ(db_->lease_hostname(ack2.yiaddr), "guest1");
  EXPECT_EQ(string_option(ack2, opt::kHostName), "guest1");

  // A later REQUEST without a name keeps the lease's name for DNS, but the
  // ACK carries no host name (dnsmasq).
  ClientMsg again;
  again.type = MessageType::kRequest;
  again.chaddr = g.chaddr;
  again.requested_ip = ack2.yiaddr;
  const DhcpResult r = send(again);
  ASSERT_EQ(r.outcome, DhcpOutcome::kAck);
  EXPECT_EQ(reply_of(r).find(opt::kHostName), nullptr);
  EXPECT_EQ(db_->lease_hostname(ack2.yiaddr), "guest1");

  ClientMsg bad;
  bad.chaddr = mac("52:54:00:00:00:34");
  bad.hostname = "bad name!";
  const DhcpMessage ack3 = dora(bad);
  EXPECT_FALSE(db_->lease_hostname(ack3.yiaddr));
}

TEST_F(DhcpServerTest, ClientFqdnAndNulTerminatedNames) {
  ServerConfig c = nat_network();
  c.domain = "lan";
  start(c);
  ClientMsg m;
  m.extra.push_back(DhcpOption{opt::kClientFqdn, test::bytes({0x04, 0, 0, 2, 'v', 'm', 0})});
  const DhcpMessage ack = dora(m);
  const DhcpOption* f = ack.find(opt::kClientFqdn);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->data, test::bytes({0x07, 255, 255, 2, 'v', 'm', 3, 'l', 'a', 'n', 0}));
  EXPECT_EQ(db_->lease_hostname(ack.yiaddr), "vm");

  ClientMsg win;
  win.chaddr = mac("52:54:00:00:00:44");
  win.extra.push_back(DhcpOption{opt::kHostName, test::bytes({'w', 'i', 'n', 0})});
  const DhcpMessage wack = dora(win);
  EXPECT_EQ(wack.find(opt::kHostName)->data, test::bytes({'w', 'i', 'n', 0}));
  EXPECT_EQ(wack.find(opt::kDomainName)->data, test::bytes({'l', 'a', 'n', 0}));
}

TEST_F(DhcpServerTest, InfiniteAndRequestedLeaseTimes) {
  ServerConfig c = nat_network();
  c.ranges[0].lease_s = kInfiniteLease;
  start(c);
  const DhcpMessage ack = dora(ClientMsg{});
  EXPECT_EQ(u32_option(ack, opt::kLeaseTime), kInfiniteLease);
  EXPECT_FALSE(ack.find(opt::kRenewalTime));
  EXPECT_FALSE(ack.find(opt::kRebindingTime));
  EXPECT_EQ(db_->serialize().substr(0, 2), "0 ");

  c.ranges[0].lease_s = 600;
  start(c);
  ClientMsg m;
  m.lease_time = 300;
  EXPECT_EQ(u32_option(dora(m), opt::kLeaseTime), 300u);
}

TEST_F(DhcpServerTest, RelayedRequests) {
  start(nat_network());
  ClientMsg m;
  m.giaddr = ip("192.168.122.250");
  const DhcpResult r = send(m, RxMeta{mac("52:54:00:99:99:99"), ip("192.168.122.250"), ip("192.168.122.1")});
  ASSERT_EQ(r.outcome, DhcpOutcome::kOffer);
  EXPECT_EQ(r.reply->dst_ip, ip("192.168.122.250"));
  EXPECT_EQ(r.reply->dst_port, kDhcpServerPort);
  EXPECT_EQ(r.reply->dst_mac, mac("52:54:00:99:99:99"));
  m.giaddr = ip("10.1.1.1");
  EXPECT_EQ(send(m).outcome, DhcpOutcome::kWrongNetwork);
}

TEST_F(DhcpServerTest, MalformedAndBootpAreCounted) {
  start(nat_network());
  const std::vector<std::byte> junk(100, std::byte{1});
  EXPECT_EQ(server_->handle(junk, RxMeta{}).outcome, DhcpOutcome::kParseError);
  EXPECT_EQ(server_->counters().of(DhcpParseError::kTruncated), 1u);

  DhcpMessage bootp;  // no option 53
  bootp.set_option(opt::kHostName, test::bytes({'x'}));
  EXPECT_EQ(server_->handle(build_dhcp(bootp), RxMeta{}).outcome, DhcpOutcome::kBootpIgnored);

  ClientMsg offer_from_client;
  offer_from_client.type = MessageType::kOffer;
  EXPECT_EQ(send(offer_from_client).outcome, DhcpOutcome::kUnexpectedType);
  EXPECT_STREQ(to_string(DhcpOutcome::kBootpIgnored), "bootp_ignored");
}

TEST_F(DhcpServerTest, MaxMessageSizeAllowsLargerReplies) {
  ServerConfig c = nat_network();
  c.domain = std::string(200, 'd');
  start(c);
  ClientMsg m;
  m.hostname = std::string(60, 'h');
  m.extra.push_back(DhcpOption{opt::kClientFqdn, test::bytes({0x00, 0, 0, 'x'})});
  m.max_size = 1500;
  m.type = MessageType::kDiscover;
  const DhcpResult r = send(m);
  ASSERT_TRUE(r.reply);
  EXPECT_EQ(server_->counters().dropped_options, 0u);
  m.max_size.reset();
  send(m);  // 548 bytes: the FQDN echo no longer fits
  EXPECT_GT(server_->counters().dropped_options, 0u);
}

}  // namespace
}  // namespace vnet::dhcp
