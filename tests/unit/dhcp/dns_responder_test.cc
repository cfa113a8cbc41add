// Tests for dhcp/dns_responder, driven by libvirt corpus networks
// (tests/networkxml2confdata/*.xml) translated by hand into DnsConfig.
#include "dhcp/dns_responder.h"

#include <gtest/gtest.h>

#include <map>

#include "test_support.h"

namespace vnet::dhcp {
namespace {

using test::dns_query;
using test::parse_reply;

IpAddress addr(const char* s) { return *IpAddress::parse(s); }
Upstream upstream(const char* s) { return Upstream{addr(s), kDnsPort}; }

class FakeLeases final : public DynamicHosts {
 public:
  void add(const std::string& name, const char* ip) { leases_[addr(ip)] = name; }
  std::vector<IpAddress> named(std::string_view label) const override {
    std::vector<IpAddress> out;
    for (const auto& [ip, name] : leases_)
      if (names_equal(name, label)) out.push_back(ip);
    return out;
  }
  std::optional<std::string> name_of(const IpAddress& a) const override {
    auto it = leases_.find(a);
    if (it == leases_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<IpAddress, std::string> leases_;
};

struct Reply {
  DnsAnswer answer;
  DnsMessage msg;
};

Reply ask(DnsResponder& r, const std::string& name, uint16_t qtype, std::optional<uint16_t> edns = std::nullopt,
          DnsTransport transport = DnsTransport::kUdp) {
  Reply out;
  out.answer = r.answer(dns_query(name, qtype, 0x4242, edns), transport);
  if (out.answer.action == DnsAnswer::Action::kReply) out.msg = parse_reply(out.answer.reply);
  return out;
}

uint8_t rcode(const Reply& r) { return r.msg.header.rcode(); }

std::vector<std::string> a_records(const Reply& r) {
  std::vector<std::string> out;
  for (const DnsRecord& rr : r.msg.answers)
    if (rr.type == dns_type::kA) out.push_back(test::rdata_ipv4(rr));
  return out;
}

// nat-network-dns-hosts.xml:
//   <domain name="example.com"/>
//   <dns forwardPlainNames='no'><host ip='192.168.122.1'><hostname>host</hostname>
//   <hostname>gateway</hostname></host></dns>
DnsConfig dns_hosts_network() {
  DnsConfig c;
  c.domain = "example.com";
  c.forward_plain_names = false;
  c.hosts.push_back(DnsHostRecord{addr("192.168.122.1"), {"host", "gateway"}});
  c.system_resolvers = {upstream("10.0.0.53")};
  return c;
}

TEST(DnsResponder, NatNetworkDnsHosts) {
  DnsResponder r(dns_hosts_network(), nullptr);

  Reply a = ask(r, "host", dns_type::kA);
  ASSERT_EQ(a.answer.action, DnsAnswer::Action::kReply);
  EXPECT_EQ(a.answer.outcome, DnsOutcome::kAnswered);
  EXPECT_EQ(rcode(a), 0);
  EXPECT_TRUE(a.msg.header.flags & DnsHeader::kAa);
  EXPECT_TRUE(a.msg.header.flags & DnsHeader::kRa);
  EXPECT_TRUE(a.msg.header.rd());
  EXPECT_EQ(a.msg.header.id, 0x4242);
  EXPECT_EQ(a_records(a), std::vector<std::string>{"192.168.122.1"});
  EXPECT_EQ(a.msg.answers[0].ttl, 0u);  // dnsmasq local-ttl

  // expand-hosts: plain names are also name.domain; the question's case is kept.
  Reply g = ask(r, "GateWay.Example.COM", dns_type::kA);
  EXPECT_EQ(a_records(g), std::vector<std::string>{"192.168.122.1"});
  EXPECT_EQ(g.msg.questions[0].name, "GateWay.Example.COM");
  EXPECT_EQ(g.msg.answers[0].name, "GateWay.Example.COM");

  // Known name, other type: NODATA.
  Reply aaaa = ask(r, "host", dns_type::kAaaa);
  EXPECT_EQ(aaaa.answer.outcome, DnsOutcome::kNoData);
  EXPECT_EQ(rcode(aaaa), 0);
  EXPECT_TRUE(aaaa.msg.answers.empty());

  // PTR gives the first name, qualified.
  Reply ptr = ask(r, "1.122.168.192.in-addr.arpa", dns_type::kPtr);
  ASSERT_EQ(ptr.msg.answers.size(), 1u);
  EXPECT_EQ(test::rdata_name(ptr.answer.reply, ptr.msg.answers[0]), "host.example.com");

  // domain-needed + local=//: unknown plain names are NXDOMAIN, never forwarded.
  Reply plain = ask(r, "nosuchhost", dns_type::kA);
  EXPECT_EQ(plain.answer.outcome, DnsOutcome::kNxDomain);
  EXPECT_EQ(rcode(plain), static_cast<uint8_t>(Rcode::kNxDomain));

  // Anything else goes to the host's resolvers (the domain is not localOnly).
  for (const char* name : {"www.google.com", "other.example.com"}) {
    Reply f = ask(r, name, dns_type::kA);
    EXPECT_EQ(f.answer.action, DnsAnswer::Action::kForward) << name;
    EXPECT_EQ(f.answer.upstreams, std::vector<Upstream>{upstream("10.0.0.53")});
  }
  EXPECT_EQ(r.counters().of(DnsOutcome::kForwarded), 2u);
  EXPECT_EQ(r.counters().of(DnsOutcome::kAnswered), 3u);
}

TEST(DnsResponder, SameAddressHostsAreMerged) {
  DnsConfig c;
  c.hosts.push_back(DnsHostRecord{addr("192.168.122.10"), {"one"}});
  c.hosts.push_back(DnsHostRecord{addr("192.168.122.10"), {"two"}});
  c.hosts.push_back(DnsHostRecord{addr("2001:db8::10"), {"one"}});
  DnsResponder r(c, nullptr);
  EXPECT_EQ(a_records(ask(r, "two", dns_type::kA)), std::vector<std::string>{"192.168.122.10"});
  Reply six = ask(r, "one", dns_type::kAaaa);
  ASSERT_EQ(six.msg.answers.size(), 1u);
  EXPECT_EQ(six.msg.answers[0].rdata.size(), 16u);
  Reply any = ask(r, "one", dns_type::kAny);
  EXPECT_EQ(any.msg.answers.size(), 2u);
  Reply ptr = ask(r, "10.122.168.192.in-addr.arpa", dns_type::kPtr);
  EXPECT_EQ(test::rdata_name(ptr.answer.reply, ptr.msg.answers[0]), "one");
  Reply ptr6 = ask(r, reverse_name(addr("2001:db8::10")), dns_type::kPtr);
  ASSERT_EQ(ptr6.msg.answers.size(), 1u);
  EXPECT_EQ(test::rdata_name(ptr6.answer.reply, ptr6.msg.answers[0]), "one");
}

// nat-network-dns-txt-record.xml: <txt name='example' value='example value'/>
TEST(DnsResponder, TxtRecord) {
  DnsConfig c;
  c.txts.push_back(DnsTxtRecord{"example", "example value"});
  c.txts.push_back(DnsTxtRecord{"multi", "a,b,\"c,d\""});
  DnsResponder r(c, nullptr);
  Reply t = ask(r, "example", dns_type::kTxt);
  ASSERT_EQ(t.msg.answers.size(), 1u);
  EXPECT_EQ(t.msg.answers[0].rdata, test::bytes_of("\x0d" "example value"));
  EXPECT_EQ(ask(r, "example", dns_type::kA).answer.outcome, DnsOutcome::kNoData);
  Reply m = ask(r, "multi", dns_type::kTxt);
  ASSERT_EQ(m.msg.answers.size(), 1u);
  EXPECT_EQ(m.msg.answers[0].rdata, test::bytes_of("\x01" "a" "\x01" "b" "\x03" "c,d"));
  EXPECT_EQ(split_txt_value(std::string(300, 'x')).size(), 1u);
}

// nat-network-dns-srv-record.xml
DnsConfig srv_network() {
  DnsConfig c;
  c.srvs = {
      {"name", "tcp", "test-domain-name.com", "test.example.com", 1111, 11, 111},
      {"name2", "udp", "", "test2.example.com", 2222, 22, 222},
      {"name3", "tcp", "test3.com", "test3.example.com", 3333, 33, std::nullopt},
      {"name4", "tcp", "test4.com", "test4.example.com", 4444, std::nullopt, std::nullopt},
      {"name5", "udp", "", "test5.example.com", std::nullopt, 55, 555},
      {"name6", "tcp", "test6.com", "test6.example.com", 6666, std::nullopt, 666},
      {"name7", "tcp", "test7.com", "test7.example.com", std::nullopt, std::nullopt, 777},
  };
  c.hosts.push_back(DnsHostRecord{addr("192.168.122.40"), {"test.example.com"}});
  return c;
}

struct Srv {
  uint16_t priority, weight, port;
  std::string target;
};

Srv srv_of(const Reply& r, size_t i = 0) {
  const DnsRecord& rr = r.msg.answers.at(i);
  const auto u16 = [&](size_t o) {
    return static_cast<uint16_t>((std::to_integer<int>(rr.rdata[o]) << 8) | std::to_integer<int>(rr.rdata[o + 1]));
  };
  return Srv{u16(0), u16(2), u16(4), test::rdata_name(r.answer.reply, rr, 6)};
}

TEST(DnsResponder, SrvRecords) {
  DnsResponder r(srv_network(), nullptr);
  Reply s = ask(r, "_name._tcp.test-domain-name.com", dns_type::kSrv);
  ASSERT_EQ(s.msg.answers.size(), 1u);
  Srv v = srv_of(s);
  EXPECT_EQ(v.priority, 11);
  EXPECT_EQ(v.weight, 111);
  EXPECT_EQ(v.port, 1111);
  EXPECT_EQ(v.target, "test.example.com");
  // The target is known locally: its address rides along.
  ASSERT_EQ(s.msg.additionals.size(), 1u);
  EXPECT_EQ(test::rdata_ipv4(s.msg.additionals[0]), "192.168.122.40");

  // No domain in the record and none on the network: "_name2._udp".
  v = srv_of(ask(r, "_name2._udp", dns_type::kSrv));
  EXPECT_EQ(v.port, 2222);
  // Defaults: port 1, priority 0, weight 0 (libvirt-format.md §2, dnsmasq).
  v = srv_of(ask(r, "_name5._udp", dns_type::kSrv));
  EXPECT_EQ(v.port, 1);
  EXPECT_EQ(v.priority, 55);
  EXPECT_EQ(v.weight, 555);
  v = srv_of(ask(r, "_name7._tcp.test7.com", dns_type::kSrv));
  EXPECT_EQ(v.port, 1);
  EXPECT_EQ(v.priority, 0);
  EXPECT_EQ(v.weight, 777);
  v = srv_of(ask(r, "_name4._tcp.test4.com", dns_type::kSrv));
  EXPECT_EQ(v.port, 4444);
  EXPECT_EQ(v.weight, 0);

  // With a network domain, a record without one is qualified with it.
  DnsConfig c = srv_network();
  c.domain = "example.org";
  DnsResponder qualified(c, nullptr);
  EXPECT_EQ(ask(qualified, "_name2._udp.example.org", dns_type::kSrv).msg.answers.size(), 1u);
}

// nat-network-dns-srv-record-minimal.xml: <srv service='name' protocol='tcp'/>
TEST(DnsResponder, SrvRecordMinimal) {
  DnsConfig c;
  c.srvs.push_back(DnsSrvRecord{"name", "tcp", "", "", std::nullopt, std::nullopt, std::nullopt});
  DnsResponder r(c, nullptr);
  Reply s = ask(r, "_name._tcp", dns_type::kSrv);
  ASSERT_EQ(s.msg.answers.size(), 1u);
  const Srv v = srv_of(s);
  EXPECT_EQ(v.target, "");  // "." : not available (RFC 2782)
  EXPECT_EQ(v.port, 0);
}

// nat-network-dns-forwarders.xml
DnsConfig forwarders_network() {
  DnsConfig c;
  c.forwarders = {
      {addr("8.8.8.8"), "", kDnsPort},
      {addr("8.8.4.4"), "", kDnsPort},
      {addr("192.168.1.1"), "example.com", kDnsPort},
      {std::nullopt, "www.example.com", kDnsPort},
  };
  c.system_resolvers = {upstream("10.0.0.53")};  // ignored: libvirt writes no-resolv
  return c;
}

TEST(DnsResponder, Forwarders) {
  DnsResponder r(forwarders_network(), nullptr);
  const std::vector<Upstream> google = {upstream("8.8.8.8"), upstream("8.8.4.4")};
  EXPECT_EQ(ask(r, "foo.org", dns_type::kA).answer.upstreams, google);
  EXPECT_EQ(ask(r, "plainname", dns_type::kA).answer.upstreams, google);  // forwardPlainNames unset
  EXPECT_EQ(ask(r, "example.com", dns_type::kMx).answer.upstreams, std::vector<Upstream>{upstream("192.168.1.1")});
  EXPECT_EQ(ask(r, "a.b.EXAMPLE.com", dns_type::kA).answer.upstreams,
            std::vector<Upstream>{upstream("192.168.1.1")});
  // server=/www.example.com/# : the usual upstreams, longest match wins.
  EXPECT_EQ(ask(r, "x.www.example.com", dns_type::kA).answer.upstreams, google);
  EXPECT_EQ(ask(r, "www.example.com", dns_type::kA).answer.upstreams, google);
  EXPECT_EQ(ask(r, "notexample.com", dns_type::kA).answer.upstreams, google);
}

TEST(DnsResponder, DomainOnlyForwarderUsesHostResolvers) {
  DnsConfig c;
  c.forwarders = {{std::nullopt, "corp", kDnsPort}};
  c.system_resolvers = {upstream("10.0.0.53"), upstream("10.0.0.54")};
  DnsResponder r(c, nullptr);
  EXPECT_EQ(ask(r, "x.corp", dns_type::kA).answer.upstreams, c.system_resolvers);
  EXPECT_EQ(ask(r, "x.org", dns_type::kA).answer.upstreams, c.system_resolvers);
}

// nat-network-dns-local-domain.xml: <domain name='example.com' localOnly='yes'/>
TEST(DnsResponder, LocalOnlyDomain) {
  DnsConfig c;
  c.domain = "example.com";
  c.domain_local_only = true;
  c.system_resolvers = {upstream("10.0.0.53")};
  FakeLeases leases;
  leases.add("vm1", "192.168.122.45");
  DnsResponder r(c, &leases);
  Reply nx = ask(r, "nothere.example.com", dns_type::kA);
  EXPECT_EQ(nx.answer.outcome, DnsOutcome::kNxDomain);
  EXPECT_TRUE(nx.msg.header.flags & DnsHeader::kAa);
  EXPECT_EQ(ask(r, "deep.nothere.example.com", dns_type::kTxt).answer.outcome, DnsOutcome::kNxDomain);
  EXPECT_EQ(ask(r, "example.com", dns_type::kSoa).answer.outcome, DnsOutcome::kNxDomain);
  EXPECT_EQ(a_records(ask(r, "vm1.example.com", dns_type::kA)), std::vector<std::string>{"192.168.122.45"});
  EXPECT_EQ(ask(r, "www.google.com", dns_type::kA).answer.action, DnsAnswer::Action::kForward);

  // No resolvers on the host at all: REFUSED, as dnsmasq with no servers.
  c.system_resolvers.clear();
  r.reconfigure(c);
  Reply refused = ask(r, "www.google.com", dns_type::kA);
  EXPECT_EQ(refused.answer.outcome, DnsOutcome::kRefused);
  EXPECT_EQ(rcode(refused), static_cast<uint8_t>(Rcode::kRefused));
  EXPECT_FALSE(refused.msg.header.flags & DnsHeader::kAa);
}

// ptr-domains-auto.xml: localPtr='yes' on 192.168.122.1/24 and 2001:db8:ac10:fe01::1/64.
TEST(DnsResponder, PtrDomainsAuto) {
  DnsConfig c;
  c.local_ptr_zones = {*reverse_zone(addr("192.168.122.0"), 24),
                       *reverse_zone(addr("2001:db8:ac10:fe01::"), 64)};
  c.system_resolvers = {upstream("10.0.0.53")};
  FakeLeases leases;
  leases.add("vm1", "192.168.122.45");
  DnsResponder r(c, &leases);
  Reply lease_ptr = ask(r, "45.122.168.192.in-addr.arpa", dns_type::kPtr);
  ASSERT_EQ(lease_ptr.msg.answers.size(), 1u);
  EXPECT_EQ(test::rdata_name(lease_ptr.answer.reply, lease_ptr.msg.answers[0]), "vm1");
  EXPECT_EQ(ask(r, "46.122.168.192.in-addr.arpa", dns_type::kPtr).answer.outcome, DnsOutcome::kNxDomain);
  EXPECT_EQ(ask(r, "122.168.192.in-addr.arpa", dns_type::kNs).answer.outcome, DnsOutcome::kNxDomain);
  EXPECT_EQ(ask(r, reverse_name(addr("2001:db8:ac10:fe01::99")), dns_type::kPtr).answer.outcome,
            DnsOutcome::kNxDomain);
  // Outside the local zones: forwarded (192.168.123.0/24 has localPtr='no').
  EXPECT_EQ(ask(r, "5.123.168.192.in-addr.arpa", dns_type::kPtr).answer.action, DnsAnswer::Action::kForward);
  EXPECT_EQ(ask(r, reverse_name(addr("2001:db8:ac10:fd01::1")), dns_type::kPtr).answer.action,
            DnsAnswer::Action::kForward);
}

TEST(DnsResponder, LeaseNamesWithDomain) {
  DnsConfig c;
  c.domain = "example.com";
  c.system_resolvers = {upstream("10.0.0.53")};
  FakeLeases leases;
  leases.add("vm1", "192.168.122.45");
  DnsResponder r(c, &leases);
  EXPECT_EQ(a_records(ask(r, "vm1", dns_type::kA)), std::vector<std::string>{"192.168.122.45"});
  EXPECT_EQ(a_records(ask(r, "VM1.example.com", dns_type::kA)), std::vector<std::string>{"192.168.122.45"});
  EXPECT_EQ(ask(r, "vm1", dns_type::kAaaa).answer.outcome, DnsOutcome::kNoData);
  EXPECT_EQ(ask(r, "vm1.other.com", dns_type::kA).answer.action, DnsAnswer::Action::kForward);
  Reply ptr = ask(r, "45.122.168.192.in-addr.arpa", dns_type::kPtr);
  EXPECT_EQ(test::rdata_name(ptr.answer.reply, ptr.msg.answers.at(0)), "vm1.example.com");
}

TEST(DnsResponder, IsolatedNetworkNeverForwards) {
  DnsConfig c;
  c.no_resolv = true;
  c.system_resolvers = {upstream("10.0.0.53")};
  c.hosts.push_back(DnsHostRecord{addr("192.168.152.1"), {"gw"}});
  DnsResponder r(c, nullptr);
  EXPECT_EQ(ask(r, "www.google.com", dns_type::kA).answer.outcome, DnsOutcome::kRefused);
  EXPECT_EQ(a_records(ask(r, "gw", dns_type::kA)), std::vector<std::string>{"192.168.152.1"});
  // An explicit forwarder still works there (libvirt keeps server= lines).
  c.forwarders = {{addr("9.9.9.9"), "", kDnsPort}};
  r.reconfigure(c);
  EXPECT_EQ(ask(r, "www.google.com", dns_type::kA).answer.upstreams, std::vector<Upstream>{upstream("9.9.9.9")});
}

TEST(DnsResponder, ProtocolErrors) {
  DnsResponder r(dns_hosts_network(), nullptr);
  auto q = dns_query("host", dns_type::kA);
  q[2] = std::byte(q[2] | std::byte{0x10});  // opcode 2 (STATUS)
  DnsAnswer a = r.answer(q, DnsTransport::kUdp);
  EXPECT_EQ(a.outcome, DnsOutcome::kNotImp);
  EXPECT_EQ(parse_reply(a.reply).header.rcode(), static_cast<uint8_t>(Rcode::kNotImp));

  q = dns_query("host", dns_type::kA);
  q[5] = std::byte{2};  // qdcount 2, only one present
  a = r.answer(q, DnsTransport::kUdp);
  EXPECT_EQ(a.outcome, DnsOutcome::kFormErr);
  EXPECT_EQ(r.counters().of(DnsParseError::kTruncated), 1u);

  q = dns_query("host", dns_type::kA);
  q[2] = std::byte(q[2] | std::byte{0x80});  // a response: ignore it
  EXPECT_EQ(r.answer(q, DnsTransport::kUdp).action, DnsAnswer::Action::kDrop);
  EXPECT_EQ(r.answer(test::bytes({1, 2, 3}), DnsTransport::kUdp).action, DnsAnswer::Action::kDrop);

  // EDNS version 1: BADVERS (extended RCODE 1 in the OPT record).
  DnsWriter w(kDnsUdpMaxSize);
  w.add_question(DnsQuestion{"host", dns_type::kA, dns_class::kIn});
  w.add_opt(4096, 0, 1, false);
  a = r.answer(w.finish(), DnsTransport::kUdp);
  EXPECT_EQ(a.outcome, DnsOutcome::kBadVers);
  const DnsMessage m = parse_reply(a.reply);
  ASSERT_TRUE(m.edns);
  EXPECT_EQ(m.edns->ext_rcode, 1);
  EXPECT_STREQ(to_string(DnsOutcome::kNxDomain), "nxdomain");
}

TEST(DnsResponder, EdnsEchoAndTruncation) {
  DnsConfig c;
  DnsHostRecord big{addr("10.0.0.1"), {"big"}};
  c.hosts.push_back(big);
  for (int i = 2; i <= 40; ++i) c.hosts.push_back(DnsHostRecord{*IpAddress::parse("10.0.0." + std::to_string(i)), {"big"}});
  DnsResponder r(c, nullptr);

  // 12 + 9 + 40 * 16 = 661 bytes: too big for plain UDP.
  Reply udp = ask(r, "big", dns_type::kA);
  EXPECT_TRUE(udp.msg.header.tc());
  EXPECT_TRUE(udp.msg.answers.empty());
  EXPECT_LE(udp.answer.reply.size(), kDnsUdpMaxSize);
  EXPECT_EQ(r.counters().truncated, 1u);

  Reply edns = ask(r, "big", dns_type::kA, 4096);
  EXPECT_FALSE(edns.msg.header.tc());
  EXPECT_EQ(edns.msg.answers.size(), 40u);
  ASSERT_TRUE(edns.msg.edns);
  EXPECT_EQ(edns.msg.edns->udp_size, 1232);  // ours, not the client's

  Reply small_edns = ask(r, "big", dns_type::kA, 600);
  EXPECT_TRUE(small_edns.msg.header.tc());
  EXPECT_TRUE(small_edns.msg.edns);

  Reply tcp = ask(r, "big", dns_type::kA, std::nullopt, DnsTransport::kTcp);
  EXPECT_FALSE(tcp.msg.header.tc());
  EXPECT_EQ(tcp.msg.answers.size(), 40u);
}

TEST(DnsResponder, HostFileHelpers) {
  const auto resolvers = parse_resolv_conf(
      "# generated\nsearch example.com\nnameserver 10.0.0.53\nnameserver fe80::1%eth0\n"
      "nameserver 2001:db8::53 ; comment\nnameserver 10.0.0.53\noptions edns0\n");
  EXPECT_EQ(resolvers, (std::vector<Upstream>{upstream("10.0.0.53"), upstream("2001:db8::53")}));
  const auto hosts = parse_hosts_file("127.0.0.1 localhost\n::1 localhost ip6-localhost\n# x\n127.0.0.1 me\nbad line\n");
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].hostnames, (std::vector<std::string>{"localhost", "me"}));

  DnsConfig c;
  c.system_hosts = hosts;
  c.domain = "lan";
  DnsResponder r(c, nullptr);
  EXPECT_EQ(a_records(ask(r, "me.lan", dns_type::kA)), std::vector<std::string>{"127.0.0.1"});
}

}  // namespace
}  // namespace vnet::dhcp
