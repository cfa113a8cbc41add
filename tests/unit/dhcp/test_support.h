// Test helpers for vnet::dhcp: a clock tests move by hand, and builders for
// client-side DHCP and DNS messages.
//
// Theory of operation
//   FakeClock starts at a fixed wall-clock time and only moves when a test
//   calls advance_s()/advance_ns(); both readings move together. The builders
//   produce what a DHCP client (dhclient-like) or stub resolver would send,
//   through the library's own encoders so the tests read like protocol
//   transcripts; the codec tests separately check those encoders against
//   hand-written byte arrays.
//
// Thread-safety
//   Test-local objects.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dhcp/dhcp_codec.h"
#include "dhcp/dns_codec.h"
#include "dhcp/net_types.h"

namespace vnet::dhcp::test {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_s = 1'700'000'000) : start_s_(start_s) {}
  int64_t now_ns() const override { return 1'000'000'000 + elapsed_ns_; }
  int64_t now_s() const override { return start_s_ + elapsed_ns_ / 1'000'000'000; }
  void advance_s(int64_t s) { elapsed_ns_ += s * 1'000'000'000; }
  void advance_ns(int64_t ns) { elapsed_ns_ += ns; }

 private:
  int64_t start_s_;         // wall-clock seconds at construction
  int64_t elapsed_ns_ = 0;  // time moved by the test
};

inline std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(std::byte(b));
  return out;
}

inline std::vector<std::byte> bytes_of(std::string_view s) {
  std::vector<std::byte> out;
  for (char c : s) out.push_back(std::byte(c));
  return out;
}

inline Mac mac(const char* s) { return *Mac::parse(s); }
inline Ipv4 ip(const char* s) { return *Ipv4::parse(s); }

// A DHCP client message.
struct ClientMsg {
  MessageType type = MessageType::kDiscover;
  Mac chaddr = mac("52:54:00:00:00:01");
  uint32_t xid = 0x11223344;
  uint16_t flags = 0;
  Ipv4 ciaddr;
  Ipv4 giaddr;
  std::optional<Ipv4> requested_ip;
  std::optional<Ipv4> server_id;
  std::optional<std::string> hostname;
  std::optional<std::vector<std::byte>> client_id;
  std::optional<std::vector<uint8_t>> params = std::vector<uint8_t>{1, 3, 6, 12, 15, 26, 28, 51, 54, 58, 59};
  std::optional<uint32_t> lease_time;
  std::optional<uint16_t> max_size;
  std::vector<DhcpOption> extra;

  std::vector<std::byte> build() const {
    DhcpMessage m;
    m.op = kBootRequest;
    m.xid = xid;
    m.flags = flags;
    m.ciaddr = ciaddr;
    m.giaddr = giaddr;
    for (size_t i = 0; i < 6; ++i) m.chaddr[i] = chaddr.bytes[i];
    m.set_u8(opt::kMessageType, static_cast<uint8_t>(type));
    if (client_id) m.set_option(opt::kClientId, *client_id);
    if (requested_ip) m.set_ip(opt::kRequestedIp, *requested_ip);
    if (server_id) m.set_ip(opt::kServerId, *server_id);
    if (hostname) m.set_string(opt::kHostName, *hostname);
    if (lease_time) m.set_u32(opt::kLeaseTime, *lease_time);
    if (max_size) m.set_u16(opt::kMaxMessageSize, *max_size);
    if (params) {
      std::vector<std::byte> p;
      for (uint8_t c : *params) p.push_back(std::byte{c});
      m.set_option(opt::kParameterList, p);
    }
    for (const DhcpOption& o : extra) m.set_option(o.code, o.data);
    return build_dhcp(m, kDhcpMaxMessageSize);
  }
};

// A DNS query, optionally with EDNS.
inline std::vector<std::byte> dns_query(const std::string& name, uint16_t qtype, uint16_t id = 0x1234,
                                        std::optional<uint16_t> edns_size = std::nullopt,
                                        uint16_t qclass = dns_class::kIn) {
  DnsWriter w(kDnsTcpMaxSize);
  DnsHeader h;
  h.id = id;
  h.flags = DnsHeader::kRd;
  w.set_header(h);
  w.add_question(DnsQuestion{name, qtype, qclass});
  if (edns_size) w.add_opt(*edns_size, 0, 0, false);
  return w.finish();
}

inline DnsMessage parse_reply(std::span<const std::byte> wire) {
  DnsMessage m;
  const DnsParseError e = parse_dns(wire, m);
  if (e != DnsParseError::kOk) m.header.id = 0xdead;
  return m;
}

inline std::string rdata_ipv4(const DnsRecord& rr) {
  if (rr.rdata.size() != 4) return "?";
  return Ipv4::from_octets(std::to_integer<uint8_t>(rr.rdata[0]), std::to_integer<uint8_t>(rr.rdata[1]),
                           std::to_integer<uint8_t>(rr.rdata[2]), std::to_integer<uint8_t>(rr.rdata[3]))
      .to_string();
}

// Decodes a name inside the rdata of a record of `wire` (PTR, SRV target).
inline std::string rdata_name(std::span<const std::byte> wire, const DnsRecord& rr, size_t skip = 0) {
  size_t offset = rr.rdata_offset + skip;
  std::string name;
  if (read_dns_name(wire, offset, name) != DnsParseError::kOk) return "?";
  return name;
}

}  // namespace vnet::dhcp::test
