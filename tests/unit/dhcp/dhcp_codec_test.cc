// Tests for dhcp/dhcp_codec: golden bytes, malformed input, overload, RFC 3396.
#include "dhcp/dhcp_codec.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace vnet::dhcp {
namespace {

using test::bytes;

// A DHCPDISCOVER written out byte by byte (RFC 2131 §2 layout).
std::vector<std::byte> golden_discover() {
  std::vector<std::byte> m = bytes({
      0x01, 0x01, 0x06, 0x00,  // op=BOOTREQUEST htype=Ethernet hlen=6 hops=0
      0x39, 0x03, 0xf3, 0x26,  // xid
      0x00, 0x00, 0x80, 0x00,  // secs=0 flags=broadcast
      0, 0, 0, 0,              // ciaddr
      0, 0, 0, 0,              // yiaddr
      0, 0, 0, 0,              // siaddr
      0, 0, 0, 0,              // giaddr
      0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // chaddr
  });
  m.resize(236);  // sname (64) + file (128), all zero
  const auto opts = bytes({
      0x63, 0x82, 0x53, 0x63,                                // magic cookie
      0x35, 0x01, 0x01,                                      // 53: DISCOVER
      0x3d, 0x07, 0x01, 0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42,  // 61: client id
      0x32, 0x04, 0xc0, 0xa8, 0x00, 0x0a,                    // 50: 192.168.0.10
      0x37, 0x04, 0x01, 0x03, 0x06, 0x2a,                    // 55: 1 3 6 42
      0xff,                                                  // end
  });
  m.insert(m.end(), opts.begin(), opts.end());
  return m;
}

TEST(DhcpCodec, ParsesGoldenDiscover) {
  DhcpMessage m;
  ASSERT_EQ(parse_dhcp_request(golden_discover(), m), DhcpParseError::kOk);
  EXPECT_EQ(m.op, kBootRequest);
  EXPECT_EQ(m.xid, 0x3903f326u);
  EXPECT_TRUE(m.broadcast());
  EXPECT_EQ(m.client_mac().to_string(), "00:0b:82:01:fc:42");
  EXPECT_EQ(m.message_type(), MessageType::kDiscover);
  EXPECT_EQ(m.requested_ip(), test::ip("192.168.0.10"));
  ASSERT_TRUE(m.client_id());
  EXPECT_EQ(m.client_id()->size(), 7u);
  EXPECT_TRUE(m.requested(opt::kRouter));
  EXPECT_TRUE(m.requested(42));
  EXPECT_FALSE(m.requested(opt::kDomainName));
  EXPECT_FALSE(m.server_id());
  EXPECT_TRUE(m.has_magic);
  EXPECT_TRUE(m.sname.empty());
  EXPECT_TRUE(m.file.empty());
}

TEST(DhcpCodec, BuildReproducesGoldenBytes) {
  DhcpMessage m;
  m.xid = 0x3903f326;
  m.flags = kBroadcastFlag;
  const uint8_t chaddr[6] = {0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42};
  std::copy(chaddr, chaddr + 6, m.chaddr.begin());
  m.set_u8(opt::kMessageType, 1);
  m.set_option(opt::kClientId, bytes({0x01, 0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42}));
  m.set_ip(opt::kRequestedIp, test::ip("192.168.0.10"));
  m.set_option(opt::kParameterList, bytes({1, 3, 6, 42}));
  const auto wire = build_dhcp(m);
  auto golden = golden_discover();
  ASSERT_EQ(wire.size(), kBootpMinMessageSize);  // padded to the BOOTP minimum
  golden.resize(kBootpMinMessageSize);
  EXPECT_EQ(wire, golden);
}

TEST(DhcpCodec, TruncatedHeader) {
  const auto g = golden_discover();
  DhcpMessage m;
  for (size_t n = 0; n < kBootpFixedSize; ++n)
    EXPECT_EQ(parse_dhcp(std::span(g).first(n), m), DhcpParseError::kTruncated) << n;
  // A fixed header without the cookie is plain BOOTP.
  ASSERT_EQ(parse_dhcp(std::span(g).first(kBootpFixedSize + 2), m), DhcpParseError::kOk);
  EXPECT_FALSE(m.has_magic);
  EXPECT_TRUE(m.options.empty());
}

TEST(DhcpCodec, BadMagic) {
  auto g = golden_discover();
  g[236] = std::byte{0x64};
  DhcpMessage m;
  EXPECT_EQ(parse_dhcp(g, m), DhcpParseError::kBadMagic);
}

TEST(DhcpCodec, OptionOverflow) {
  auto g = golden_discover();
  g.pop_back();                    // drop End
  g.push_back(std::byte{12});      // host name ...
  g.push_back(std::byte{10});      // ... claiming 10 bytes
  g.push_back(std::byte{'a'});     // but only one follows
  DhcpMessage m;
  EXPECT_EQ(parse_dhcp(g, m), DhcpParseError::kOptionOverflow);
  g.resize(g.size() - 2);          // a code without a length byte
  EXPECT_EQ(parse_dhcp(g, m), DhcpParseError::kOptionOverflow);
}

TEST(DhcpCodec, BadOptionLengths) {
  const auto with_option = [](std::initializer_list<int> opt_bytes) {
    auto g = golden_discover();
    g.pop_back();
    const auto o = bytes(opt_bytes);
    g.insert(g.end(), o.begin(), o.end());
    g.push_back(std::byte{0xff});
    return g;
  };
  DhcpMessage m;
  EXPECT_EQ(parse_dhcp(with_option({54, 3, 1, 2, 3}), m), DhcpParseError::kBadOptionLength);  // server id
  EXPECT_EQ(parse_dhcp(with_option({51, 2, 1, 2}), m), DhcpParseError::kBadOptionLength);     // lease time
  EXPECT_EQ(parse_dhcp(with_option({57, 1, 2}), m), DhcpParseError::kBadOptionLength);        // max size
  // A second 53 is concatenated (RFC 3396) and then has length 2.
  EXPECT_EQ(parse_dhcp(with_option({53, 1, 3}), m), DhcpParseError::kBadOptionLength);
  EXPECT_EQ(parse_dhcp(with_option({52, 1, 4}), m), DhcpParseError::kBadOverload);
}

TEST(DhcpCodec, NotBootRequestAndBadHlen) {
  auto g = golden_discover();
  g[0] = std::byte{2};
  DhcpMessage m;
  EXPECT_EQ(parse_dhcp(g, m), DhcpParseError::kOk);
  EXPECT_EQ(parse_dhcp_request(g, m), DhcpParseError::kNotBootRequest);
  g = golden_discover();
  g[2] = std::byte{17};
  EXPECT_EQ(parse_dhcp(g, m), DhcpParseError::kBadHlen);
}

TEST(DhcpCodec, PadsAndMissingEndAreTolerated) {
  auto g = golden_discover();
  g.pop_back();  // no End
  g.insert(g.begin() + 240, {std::byte{0}, std::byte{0}});  // Pads before the first option
  DhcpMessage m;
  ASSERT_EQ(parse_dhcp(g, m), DhcpParseError::kOk);
  EXPECT_EQ(m.message_type(), MessageType::kDiscover);
}

TEST(DhcpCodec, RepeatedOptionsAreConcatenated) {
  auto g = golden_discover();
  g.pop_back();
  const auto o = bytes({12, 3, 'a', 'b', 'c', 12, 2, 'd', 'e', 0xff});
  g.insert(g.end(), o.begin(), o.end());
  DhcpMessage m;
  ASSERT_EQ(parse_dhcp(g, m), DhcpParseError::kOk);
  EXPECT_EQ(m.host_name(), "abcde");
}

TEST(DhcpCodec, OverloadedFileAndSname) {
  auto g = golden_discover();
  g.pop_back();
  const auto o = bytes({52, 1, 3, 0xff});
  g.insert(g.end(), o.begin(), o.end());
  // file field (offset 108) carries option 12, sname (offset 44) option 15.
  const auto file_opts = bytes({12, 2, 'v', 'm', 0xff});
  const auto sname_opts = bytes({15, 3, 'l', 'a', 'n', 0xff});
  std::copy(file_opts.begin(), file_opts.end(), g.begin() + 108);
  std::copy(sname_opts.begin(), sname_opts.end(), g.begin() + 44);
  DhcpMessage m;
  ASSERT_EQ(parse_dhcp(g, m), DhcpParseError::kOk);
  EXPECT_EQ(m.host_name(), "vm");
  ASSERT_TRUE(m.find(opt::kDomainName));
  EXPECT_TRUE(m.file.empty());
  EXPECT_TRUE(m.sname.empty());

  // Option 52 inside an overloaded field is an error.
  const auto nested = bytes({52, 1, 1, 0xff});
  std::copy(nested.begin(), nested.end(), g.begin() + 108);
  EXPECT_EQ(parse_dhcp(g, m), DhcpParseError::kBadOverload);
}

TEST(DhcpCodec, FileAndSnameStrings) {
  auto g = golden_discover();
  const std::string file = "pxelinux.0";
  std::copy(file.begin(), file.end(), reinterpret_cast<char*>(g.data()) + 108);
  DhcpMessage m;
  ASSERT_EQ(parse_dhcp(g, m), DhcpParseError::kOk);
  EXPECT_EQ(m.file, "pxelinux.0");
}

TEST(DhcpCodec, BuildSplitsLongOptions) {
  DhcpMessage m;
  m.set_u8(opt::kMessageType, 2);
  std::vector<std::byte> big(300, std::byte{'x'});
  m.set_option(224, big);
  const auto wire = build_dhcp(m, kDhcpMaxMessageSize);
  // 224 appears twice: 255 + 45 bytes.
  EXPECT_EQ(std::to_integer<int>(wire[243]), 224);
  EXPECT_EQ(std::to_integer<int>(wire[244]), 255);
  DhcpMessage back;
  ASSERT_EQ(parse_dhcp(wire, back), DhcpParseError::kOk);
  ASSERT_TRUE(back.find(224));
  EXPECT_EQ(back.find(224)->data, big);
}

TEST(DhcpCodec, BuildDropsOrOverloads) {
  DhcpMessage m;
  m.set_u8(opt::kMessageType, 5);
  for (uint8_t code = 200; code < 208; ++code) m.set_option(code, std::vector<std::byte>(50, std::byte{code}));
  DhcpBuildInfo info;
  // 548 - 240 - 1 = 307 bytes of options: type (3) + 5 * 52 fit, 3 are dropped.
  auto wire = build_dhcp(m, kDhcpDefaultMaxSize, false, &info);
  EXPECT_LE(wire.size(), kDhcpDefaultMaxSize);
  EXPECT_EQ(info.dropped_options, 3u);
  EXPECT_FALSE(info.overloaded);

  // With overload: two more go to `file`, the last one to `sname`.
  wire = build_dhcp(m, kDhcpDefaultMaxSize, true, &info);
  EXPECT_LE(wire.size(), kDhcpDefaultMaxSize);
  EXPECT_EQ(info.dropped_options, 0u);
  EXPECT_TRUE(info.overloaded);
  DhcpMessage back;
  ASSERT_EQ(parse_dhcp(wire, back), DhcpParseError::kOk);
  ASSERT_TRUE(back.find(opt::kOverload));
  EXPECT_EQ(std::to_integer<int>(back.find(opt::kOverload)->data[0]), 3);
  for (uint8_t code = 200; code < 208; ++code) {
    ASSERT_TRUE(back.find(code)) << int(code);
    EXPECT_EQ(back.find(code)->data, std::vector<std::byte>(50, std::byte{code}));
  }
}

TEST(DhcpCodec, RoundTripHeaderFields) {
  DhcpMessage m;
  m.op = kBootReply;
  m.xid = 0xdeadbeef;
  m.secs = 7;
  m.ciaddr = test::ip("10.0.0.1");
  m.yiaddr = test::ip("10.0.0.2");
  m.siaddr = test::ip("10.0.0.3");
  m.giaddr = test::ip("10.0.0.4");
  m.sname = "server";
  m.file = "boot.img";
  m.set_u8(opt::kMessageType, 5);
  DhcpMessage back;
  ASSERT_EQ(parse_dhcp(build_dhcp(m), back), DhcpParseError::kOk);
  EXPECT_EQ(back.xid, m.xid);
  EXPECT_EQ(back.secs, 7);
  EXPECT_EQ(back.ciaddr, m.ciaddr);
  EXPECT_EQ(back.yiaddr, m.yiaddr);
  EXPECT_EQ(back.siaddr, m.siaddr);
  EXPECT_EQ(back.giaddr, m.giaddr);
  EXPECT_EQ(back.sname, "server");
  EXPECT_EQ(back.file, "boot.img");
  EXPECT_EQ(back.message_type(), MessageType::kAck);
}

TEST(DhcpCodec, ClientFqdn) {
  DhcpMessage m;
  m.set_option(opt::kClientFqdn, bytes({0x04, 0, 0, 2, 'v', 'm', 3, 'l', 'a', 'n', 0}));
  ASSERT_TRUE(m.client_fqdn());
  EXPECT_EQ(m.client_fqdn()->name, "vm.lan");
  EXPECT_EQ(m.client_fqdn()->flags, 0x04);
  m.set_option(opt::kClientFqdn, bytes({0x00, 0, 0, 'v', 'm', '.', 'l', 'a', 'n'}));
  EXPECT_EQ(m.client_fqdn()->name, "vm.lan");
  m.set_option(opt::kClientFqdn, bytes({0x04, 0, 0, 9, 'v'}));  // label runs off the end
  EXPECT_FALSE(m.client_fqdn());
}

TEST(DhcpCodec, ErrorNames) {
  EXPECT_STREQ(to_string(DhcpParseError::kTruncated), "truncated");
  EXPECT_STREQ(to_string(DhcpParseError::kBadMagic), "bad_magic");
  EXPECT_STREQ(to_string(DhcpParseError::kOptionOverflow), "option_overflow");
  EXPECT_STREQ(to_string(DhcpParseError::kBadOptionLength), "bad_option_length");
  EXPECT_STREQ(to_string(DhcpParseError::kNotBootRequest), "not_bootrequest");
  EXPECT_STREQ(to_string(MessageType::kInform), "DHCPINFORM");
}

}  // namespace
}  // namespace vnet::dhcp
