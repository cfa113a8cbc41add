// gwload.cc — see gwload.h.
#include "gwload.h"

#include <algorithm>
#include <cstring>

#include "bytes.h"
#include "frame.h"

namespace vnet::perf {
namespace {

constexpr std::size_t kIp = kEthHeaderSize;
constexpr std::size_t kPayload = kHeadersSize;
constexpr std::size_t kDhcpFixed = 236;             // op .. file (RFC 2131 §2)
constexpr std::size_t kDhcpMinSize = 300;           // BOOTP minimum (RFC 1542 §2.1)
constexpr uint32_t kMagicCookie = 0x63825363;       // RFC 2132 §2
constexpr uint16_t kDhcpServerPort = 67;
constexpr uint16_t kDhcpClientPort = 68;
constexpr uint8_t kOptMessageType = 53, kOptRequestedIp = 50, kOptServerId = 54, kOptParams = 55, kOptEnd = 255;
constexpr uint8_t kDiscover = 1, kOffer = 2, kRequest = 3, kAck = 5, kNak = 6;

// Ethernet + IPv4 + UDP headers for a UDP payload of `payload_size` bytes; returns the frame length.
std::size_t udp_headers(uint8_t* f, uint64_t dst_mac, uint64_t src_mac, uint32_t src_ip, uint32_t dst_ip,
                        uint16_t src_port, uint16_t dst_port, std::size_t payload_size) {
  write_udp_headers(f, dst_mac, src_mac, src_ip, dst_ip, src_port, dst_port, kPayload + payload_size,
                    /*dont_fragment=*/false);
  return kPayload + payload_size;
}

}  // namespace

GwFrames::GwFrames(const GwLoadSpec& spec, uint64_t mac_base, uint64_t gw_mac)
    : spec_(spec), mac_base_(mac_base), gw_mac_(gw_mac), dns_mac_(station_mac(mac_base, spec.port, 0)) {
  // DNS query (RFC 1035 §4.1): header, one question A/IN for dns_name.
  std::vector<uint8_t> q(12, 0);
  q[2] = 0x01;  // RD
  q[5] = 1;     // QDCOUNT
  std::string_view name = spec.dns_name;
  while (!name.empty()) {
    const auto dot = name.find('.');
    const auto label = name.substr(0, dot);
    const std::size_t len = std::min<std::size_t>(label.size(), 63);
    q.push_back(static_cast<uint8_t>(len));
    q.insert(q.end(), label.begin(), label.begin() + static_cast<std::ptrdiff_t>(len));
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  q.push_back(0);
  q.insert(q.end(), {0, 1, 0, 1});  // QTYPE A, QCLASS IN
  dns_template_.assign(kPayload + q.size(), 0);
  udp_headers(dns_template_.data(), gw_mac_, dns_mac_, spec.client_ip, spec.gw_ip, kGwDnsClientPort, 53, q.size());
  std::copy(q.begin(), q.end(), dns_template_.begin() + kPayload);
}

uint64_t GwFrames::client_mac(uint32_t client) const {
  return station_mac(mac_base_, spec_.port, 1 + (client % (kGwMaxClients - 1)));
}

std::size_t GwFrames::dns_query(std::span<uint8_t> out, uint16_t id) const noexcept {
  if (out.size() < dns_template_.size()) return 0;
  std::memcpy(out.data(), dns_template_.data(), dns_template_.size());
  put16(out.data() + kPayload, id);
  return dns_template_.size();
}

std::size_t GwFrames::dhcp_discover(std::span<uint8_t> out, uint32_t client) const noexcept {
  return dhcp_frame(out, client, kDiscover, 0, 0);
}

std::size_t GwFrames::dhcp_request(std::span<uint8_t> out, uint32_t client, uint32_t requested_ip,
                                   uint32_t server_id) const noexcept {
  return dhcp_frame(out, client, kRequest, requested_ip, server_id);
}

std::size_t GwFrames::dhcp_frame(std::span<uint8_t> out, uint32_t client, uint8_t type, uint32_t requested_ip,
                                 uint32_t server_id) const noexcept {
  if (out.size() < kPayload + kDhcpMinSize) return 0;
  uint8_t* d = out.data() + kPayload;
  std::memset(d, 0, kDhcpMinSize);
  const uint64_t mac = client_mac(client);
  d[0] = 1;  // BOOTREQUEST
  d[1] = 1;  // Ethernet
  d[2] = 6;
  put32(d + 4, kGwXidTag | (client & (kGwMaxClients - 1)));
  put_mac48(d + 28, mac);  // chaddr
  put32(d + kDhcpFixed, kMagicCookie);
  uint8_t* o = d + kDhcpFixed + 4;
  *o++ = kOptMessageType;
  *o++ = 1;
  *o++ = type;
  if (requested_ip != 0) {
    *o++ = kOptRequestedIp;
    *o++ = 4;
    put32(o, requested_ip);
    o += 4;
  }
  if (server_id != 0) {
    *o++ = kOptServerId;
    *o++ = 4;
    put32(o, server_id);
    o += 4;
  }
  static constexpr uint8_t kParams[] = {1, 3, 6, 15, 28, 51};
  *o++ = kOptParams;
  *o++ = sizeof kParams;
  std::memcpy(o, kParams, sizeof kParams);
  o += sizeof kParams;
  *o = kOptEnd;
  return udp_headers(out.data(), 0xffffffffffffULL, mac, 0, 0xffffffffu, kDhcpClientPort, kDhcpServerPort,
                     kDhcpMinSize);
}

GwReply classify_gw_reply(std::span<const uint8_t> frame) noexcept {
  GwReply r;
  if (frame.size() < kPayload || be16(frame.data() + 12) != 0x0800) return r;
  const uint8_t* ip = frame.data() + kIp;
  if ((ip[0] >> 4) != 4 || ip[9] != 17) return r;
  const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
  if (ihl < kIpv4HeaderSize || kIp + ihl + kUdpHeaderSize > frame.size()) return r;
  const uint8_t* udp = ip + ihl;
  const uint16_t sport = be16(udp);
  const uint16_t dport = be16(udp + 2);
  const uint8_t* p = udp + kUdpHeaderSize;
  const std::size_t len = frame.size() - static_cast<std::size_t>(p - frame.data());
  if (sport == 53 && dport == kGwDnsClientPort) {
    if (len < 12 || (p[2] & 0x80) == 0) return r;  // not a response
    const unsigned rcode = p[3] & 0x0fu;
    r.kind = (rcode == 0 && be16(p + 6) > 0) ? GwReplyKind::kDnsAnswer : GwReplyKind::kDnsOther;
    return r;
  }
  if (sport != kDhcpServerPort || dport != kDhcpClientPort) return r;
  if (len < kDhcpFixed + 4 || p[0] != 2 || be32(p + kDhcpFixed) != kMagicCookie) return r;
  const uint32_t xid = be32(p + 4);
  if ((xid & ~(kGwMaxClients - 1)) != kGwXidTag) return r;
  r.client = xid & (kGwMaxClients - 1);
  r.yiaddr = be32(p + 16);
  r.kind = GwReplyKind::kDhcpOther;
  for (std::size_t at = kDhcpFixed + 4; at < len;) {
    const uint8_t code = p[at];
    if (code == kOptEnd) break;
    if (code == 0) {
      ++at;
      continue;
    }
    if (at + 1 >= len || at + 2 + p[at + 1] > len) break;
    const uint8_t olen = p[at + 1];
    if (code == kOptMessageType && olen == 1) {
      const uint8_t t = p[at + 2];
      r.kind = t == kOffer ? GwReplyKind::kDhcpOffer
               : t == kAck ? GwReplyKind::kDhcpAck
               : t == kNak ? GwReplyKind::kDhcpNak
                           : GwReplyKind::kDhcpOther;
    } else if (code == kOptServerId && olen == 4) {
      r.server_id = be32(p + at + 2);
    }
    at += 2u + olen;
  }
  return r;
}

}  // namespace vnet::perf
