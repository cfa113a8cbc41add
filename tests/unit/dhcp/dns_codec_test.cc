// Tests for dhcp/dns_codec: golden bytes, compression (and its abuse),
// limits, EDNS, the writer's truncation and reverse names.
#include "dhcp/dns_codec.h"

#include <gtest/gtest.h>

#include "dhcp/dns_tcp.h"
#include "test_support.h"

namespace vnet::dhcp {
namespace {

using test::bytes;

// "www.example.com IN A", id 0xabcd, RD.
std::vector<std::byte> golden_query() {
  return bytes({0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
                3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,  //
                0x00, 0x01, 0x00, 0x01});
}

TEST(DnsCodec, ParsesGoldenQuery) {
  DnsMessage m;
  ASSERT_EQ(parse_dns(golden_query(), m), DnsParseError::kOk);
  EXPECT_EQ(m.header.id, 0xabcd);
  EXPECT_TRUE(m.header.rd());
  EXPECT_FALSE(m.header.qr());
  EXPECT_EQ(m.header.opcode(), 0);
  ASSERT_EQ(m.questions.size(), 1u);
  EXPECT_EQ(m.questions[0].name, "www.example.com");
  EXPECT_EQ(m.questions[0].qtype, dns_type::kA);
  EXPECT_EQ(m.questions[0].qclass, dns_class::kIn);
  EXPECT_FALSE(m.edns);
}

TEST(DnsCodec, WriterReproducesGoldenQuery) {
  DnsWriter w(kDnsUdpMaxSize);
  DnsHeader h;
  h.id = 0xabcd;
  h.flags = DnsHeader::kRd;
  w.set_header(h);
  ASSERT_TRUE(w.add_question(DnsQuestion{"www.example.com", dns_type::kA, dns_class::kIn}));
  EXPECT_EQ(w.finish(), golden_query());
}

TEST(DnsCodec, GoldenResponseWithCompression) {
  auto wire = golden_query();
  wire[2] = std::byte{0x81};  // QR RD
  wire[3] = std::byte{0x80};  // RA
  wire[7] = std::byte{1};     // ancount
  const auto answer = bytes({0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 93, 184, 216, 34});
  wire.insert(wire.end(), answer.begin(), answer.end());
  DnsMessage m;
  ASSERT_EQ(parse_dns(wire, m), DnsParseError::kOk);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].name, "www.example.com");
  EXPECT_EQ(m.answers[0].ttl, 60u);
  EXPECT_EQ(test::rdata_ipv4(m.answers[0]), "93.184.216.34");

  // The writer produces the same bytes (owner compressed to the question).
  DnsWriter w(kDnsUdpMaxSize);
  DnsHeader h;
  h.id = 0xabcd;
  h.flags = DnsHeader::kQr | DnsHeader::kRd | DnsHeader::kRa;
  w.set_header(h);
  w.add_question(DnsQuestion{"www.example.com", dns_type::kA, dns_class::kIn});
  w.add_a(DnsWriter::Section::kAnswer, "WWW.example.COM", 60, test::ip("93.184.216.34"));
  EXPECT_EQ(w.finish(), wire);
}

TEST(DnsCodec, EveryTruncationIsRejected) {
  auto wire = golden_query();
  DnsMessage m;
  for (size_t n = 0; n < wire.size(); ++n)
    EXPECT_NE(parse_dns(std::span(wire).first(n), m), DnsParseError::kOk) << n;
}

TEST(DnsCodec, PointerMustPointBackwards) {
  // A name that points at itself, and one that points forward.
  auto self = bytes({0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1});
  DnsMessage m;
  EXPECT_EQ(parse_dns(self, m), DnsParseError::kPointerForward);
  auto fwd = bytes({0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x12, 0, 1, 0, 1, 1, 'a', 0});
  EXPECT_EQ(parse_dns(fwd, m), DnsParseError::kPointerForward);
  // Two labels pointing at each other: the second jump is not backwards.
  auto loop = bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 0x10, 1, 'b', 0xc0, 0x0c});
  size_t offset = 16;
  std::string name;
  EXPECT_EQ(read_dns_name(loop, offset, name), DnsParseError::kPointerForward);
}

TEST(DnsCodec, LongPointerChainsAreCut) {
  // A root label at 12, then 70 pointers each to the previous one.
  std::vector<std::byte> wire(13 + 2 * 70);
  wire.resize(12);
  wire.push_back(std::byte{0});
  for (int i = 0; i < 70; ++i) {
    const size_t prev = wire.size() == 13 ? 12 : wire.size() - 2;
    wire.push_back(std::byte(0xc0 | (prev >> 8)));
    wire.push_back(std::byte(prev & 0xff));
  }
  size_t offset = wire.size() - 2;
  std::string name;
  EXPECT_EQ(read_dns_name(wire, offset, name), DnsParseError::kPointerLoop);
  offset = 13 + 2 * 10;  // ten jumps are fine
  EXPECT_EQ(read_dns_name(wire, offset, name), DnsParseError::kOk);
  EXPECT_EQ(name, "");
}

TEST(DnsCodec, LabelTypesAndNameLength) {
  std::string name;
  auto ext = bytes({0x41, 'x', 0});
  size_t offset = 0;
  EXPECT_EQ(read_dns_name(ext, offset, name), DnsParseError::kBadLabelType);
  std::vector<std::byte> longname;
  for (int l = 0; l < 5; ++l) {
    longname.push_back(std::byte{63});
    for (int i = 0; i < 63; ++i) longname.push_back(std::byte{'a'});
  }
  longname.push_back(std::byte{0});
  offset = 0;
  EXPECT_EQ(read_dns_name(longname, offset, name), DnsParseError::kNameTooLong);
  EXPECT_FALSE(encode_dns_name(std::string(64, 'a') + ".com"));  // label > 63
  EXPECT_FALSE(encode_dns_name("a..b"));
  std::string ok_name;
  for (int i = 0; i < 3; ++i) ok_name += std::string(63, 'b') + ".";
  ok_name += std::string(61, 'c');  // 3*64 + 62 + 1 = 255 wire bytes
  EXPECT_TRUE(encode_dns_name(ok_name));
  EXPECT_FALSE(encode_dns_name(ok_name + "c"));
}

TEST(DnsCodec, EscapedLabelsRoundTrip) {
  const auto wire = bytes({3, 'a', '.', 'b', 2, 0x00, '\\', 0});
  size_t offset = 0;
  std::string name;
  ASSERT_EQ(read_dns_name(wire, offset, name), DnsParseError::kOk);
  EXPECT_EQ(name, "a\\.b.\\000\\\\");
  EXPECT_EQ(offset, wire.size());
  EXPECT_EQ(encode_dns_name(name), wire);
}

TEST(DnsCodec, ImpossibleCountsAreRejectedEarly) {
  auto wire = golden_query();
  wire[4] = std::byte{0xff};  // qdcount 65281
  DnsMessage m;
  EXPECT_EQ(parse_dns(wire, m), DnsParseError::kTruncated);
  wire = golden_query();
  wire[10] = std::byte{0xff};  // arcount
  EXPECT_EQ(parse_dns(wire, m), DnsParseError::kTruncated);
}

TEST(DnsCodec, Edns) {
  const auto q = test::dns_query("example.com", dns_type::kA, 1, 4096);
  DnsMessage m;
  ASSERT_EQ(parse_dns(q, m), DnsParseError::kOk);
  ASSERT_TRUE(m.edns);
  EXPECT_EQ(m.edns->udp_size, 4096);
  EXPECT_EQ(m.edns->version, 0);
  EXPECT_TRUE(m.additionals.empty());

  // Two OPT records.
  auto two = q;
  two[11] = std::byte{2};
  const auto opt = bytes({0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 0});
  two.insert(two.end(), opt.begin(), opt.end());
  EXPECT_EQ(parse_dns(two, m), DnsParseError::kMultipleOpt);
  // An OPT whose owner is not the root.
  auto bad = test::dns_query("example.com", dns_type::kA, 1);
  bad[11] = std::byte{1};
  const auto named_opt = bytes({1, 'x', 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0});
  bad.insert(bad.end(), named_opt.begin(), named_opt.end());
  EXPECT_EQ(parse_dns(bad, m), DnsParseError::kBadOpt);
  // DO bit and version.
  DnsWriter w(kDnsUdpMaxSize);
  w.add_question(DnsQuestion{"x", dns_type::kA, dns_class::kIn});
  w.add_opt(1232, 0, 1, true);
  ASSERT_EQ(parse_dns(w.finish(), m), DnsParseError::kOk);
  EXPECT_TRUE(m.edns->dnssec_ok);
  EXPECT_EQ(m.edns->version, 1);
  EXPECT_EQ(m.edns->udp_size, 1232);
}

TEST(DnsCodec, WriterRollsBackWhatDoesNotFit) {
  DnsWriter w(100, kDnsOptRecordSize);
  w.add_question(DnsQuestion{"host.example.com", dns_type::kA, dns_class::kIn});  // 12 + 22
  int added = 0;
  while (w.add_a(DnsWriter::Section::kAnswer, "host.example.com", 0, test::ip("10.0.0.1"))) ++added;
  EXPECT_EQ(added, 3);  // 34 + 3*16 = 82; a fourth would leave no room for OPT
  EXPECT_TRUE(w.add_opt(1232, 0, 0, false));
  const auto wire = w.finish();
  EXPECT_EQ(wire.size(), 93u);
  DnsMessage m;
  ASSERT_EQ(parse_dns(wire, m), DnsParseError::kOk);
  EXPECT_EQ(m.answers.size(), 3u);
  EXPECT_TRUE(m.edns);
}

TEST(DnsCodec, SrvTargetIsNotCompressedPtrTargetIs) {
  DnsWriter w(kDnsUdpMaxSize);
  w.add_question(DnsQuestion{"_ldap._tcp.example.com", dns_type::kSrv, dns_class::kIn});
  w.add_srv(DnsWriter::Section::kAnswer, "_ldap._tcp.example.com", 0, 1, 2, 389, "example.com");
  const size_t before = w.size();
  w.add_ptr(DnsWriter::Section::kAnswer, "_ldap._tcp.example.com", 0, "example.com");
  // PTR: owner pointer (2) + 10 + target pointer (2).
  EXPECT_EQ(w.size() - before, 14u);
  const auto wire = w.finish();
  DnsMessage m;
  ASSERT_EQ(parse_dns(wire, m), DnsParseError::kOk);
  ASSERT_EQ(m.answers.size(), 2u);
  // SRV rdata: 6 bytes of numbers + the full name (13 bytes).
  EXPECT_EQ(m.answers[0].rdata.size(), 6u + 13u);
  EXPECT_EQ(test::rdata_name(wire, m.answers[0], 6), "example.com");
  EXPECT_EQ(test::rdata_name(wire, m.answers[1]), "example.com");
}

TEST(DnsCodec, ReverseNames) {
  const IpAddress v4 = *IpAddress::parse("192.168.122.1");
  EXPECT_EQ(reverse_name(v4), "1.122.168.192.in-addr.arpa");
  EXPECT_EQ(parse_reverse_name("1.122.168.192.IN-ADDR.ARPA."), v4);
  const IpAddress v6 = *IpAddress::parse("2001:db8::1");
  const std::string r6 = reverse_name(v6);
  EXPECT_EQ(r6, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  EXPECT_EQ(parse_reverse_name(r6), v6);
  EXPECT_FALSE(parse_reverse_name("122.168.192.in-addr.arpa"));
  EXPECT_FALSE(parse_reverse_name("256.1.1.1.in-addr.arpa"));
  EXPECT_FALSE(parse_reverse_name("01.1.1.1.in-addr.arpa"));
  EXPECT_FALSE(parse_reverse_name("www.example.com"));

  // ptr-domains-auto: the zones libvirt writes as local=/.../.
  EXPECT_EQ(reverse_zone(*IpAddress::parse("192.168.122.0"), 24), "122.168.192.in-addr.arpa");
  EXPECT_EQ(reverse_zone(*IpAddress::parse("2001:db8:ac10:fe01::"), 64), "1.0.e.f.0.1.c.a.8.b.d.0.1.0.0.2.ip6.arpa");
  EXPECT_EQ(reverse_zone(*IpAddress::parse("10.0.0.0"), 8), "10.in-addr.arpa");
  EXPECT_FALSE(reverse_zone(*IpAddress::parse("192.168.122.0"), 25));
  EXPECT_FALSE(reverse_zone(*IpAddress::parse("192.168.122.1"), 32));
  EXPECT_FALSE(reverse_zone(*IpAddress::parse("2001:db8::"), 66));
}

TEST(DnsCodec, ErrorReply) {
  const auto reply = make_dns_error_reply(golden_query(), Rcode::kServFail);
  DnsMessage m;
  ASSERT_EQ(parse_dns(reply, m), DnsParseError::kOk);
  EXPECT_EQ(m.header.id, 0xabcd);
  EXPECT_TRUE(m.header.qr());
  EXPECT_TRUE(m.header.rd());
  EXPECT_EQ(m.header.rcode(), static_cast<uint8_t>(Rcode::kServFail));
  ASSERT_EQ(m.questions.size(), 1u);
  EXPECT_EQ(m.questions[0].name, "www.example.com");
  EXPECT_TRUE(make_dns_error_reply(bytes({1, 2, 3}), Rcode::kFormErr).empty());
}

TEST(DnsTcp, FramingInAnyChunking) {
  const auto q = golden_query();
  const auto framed = frame_dns_tcp(q);
  ASSERT_EQ(framed.size(), q.size() + 2);
  EXPECT_EQ(std::to_integer<int>(framed[1]), static_cast<int>(q.size()));
  std::vector<std::byte> stream = framed;
  stream.insert(stream.end(), framed.begin(), framed.end());
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    DnsTcpReader r;
    for (size_t pos = 0; pos < stream.size(); pos += chunk)
      ASSERT_TRUE(r.feed(std::span(stream).subspan(pos, std::min(chunk, stream.size() - pos))));
    EXPECT_EQ(r.next(), q);
    EXPECT_EQ(r.next(), q);
    EXPECT_FALSE(r.next());
    EXPECT_FALSE(r.mid_message());
  }
  DnsTcpReader r;
  EXPECT_TRUE(r.feed(std::span(framed).first(5)));
  EXPECT_TRUE(r.mid_message());
  EXPECT_FALSE(r.next());
  DnsTcpReader zero;
  EXPECT_FALSE(zero.feed(bytes({0, 0})));
  EXPECT_TRUE(frame_dns_tcp(std::vector<std::byte>(70000)).empty());
}

}  // namespace
}  // namespace vnet::dhcp
