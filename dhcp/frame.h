// vnet::dhcp — Ethernet, ARP, IPv4, ICMP and UDP at the byte level, for the
// gateway service.
//
// Theory of operation
//   The dataplane hands the gateway whole Ethernet frames (any 802.1Q tag
//   already removed, the VLAN id passed apart). parse_frame() walks the
//   headers of one frame with explicit bounds checks and fills a ParsedFrame
//   of plain values plus spans into the caller's buffer; it never reads past
//   the frame, and a frame it cannot use is rejected with a named FrameError
//   the caller counts. Checks, in order:
//     Ethernet: 14 bytes;
//     ARP (RFC 826): Ethernet/IPv4 hardware and protocol types, lengths 6/4;
//     IPv4 (RFC 791): version 4, IHL >= 5, total length inside the frame
//       (Ethernet padding after it is ignored), a correct header checksum,
//       not a fragment (the gateway serves single-datagram protocols only);
//     ICMP (RFC 792): 8-byte header, correct checksum;
//     UDP (RFC 768): length consistent with the IPv4 payload, checksum
//       correct when present (0 = none);
//     TCP (RFC 9293 §3.1): data offset >= 5 and inside the packet, a correct
//       checksum (always present in TCP), well-formed options (only MSS is
//       kept; a bad option length is an error).
//   Other EtherTypes and IP protocols parse successfully with their kind set
//   so the caller can count them as ignored.
//
//   The builders write complete frames (headers, checksums, padding to the
//   60-byte Ethernet minimum) into a std::vector; checksums follow RFC 1071.
//
// Thread-safety
//   Pure functions over caller-owned buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dhcp/net_types.h"

namespace vnet::dhcp {

inline constexpr size_t kEthHeaderSize = 14;
inline constexpr size_t kEthMinFrameSize = 60;  // without FCS
inline constexpr size_t kArpSize = 28;
inline constexpr size_t kIpv4HeaderSize = 20;
inline constexpr size_t kUdpHeaderSize = 8;
inline constexpr size_t kIcmpHeaderSize = 8;
inline constexpr size_t kTcpHeaderSize = 20;    // without options
inline constexpr size_t kTcpMssOptionSize = 4;  // kind 2, length 4 (RFC 9293 §3.2)
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint16_t kArpOpRequest = 1;
inline constexpr uint16_t kArpOpReply = 2;
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpDestUnreachable = 3;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpPortUnreachable = 3;  // code of type 3
inline constexpr uint8_t kDefaultTtl = 64;
// TCP flags (RFC 9293 §3.1), in the low byte of the flags field.
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;

// Why a frame was not usable. X(enumerator, counter name).
#define VNET_FRAME_ERRORS(X)                              \
  X(kEthTruncated, "eth_truncated")                       \
  X(kArpMalformed, "arp_malformed")                       \
  X(kIpv4Truncated, "ipv4_truncated")                     \
  X(kIpv4BadVersion, "ipv4_bad_version")                  \
  X(kIpv4BadLength, "ipv4_bad_length")                    \
  X(kIpv4BadChecksum, "ipv4_bad_checksum")                \
  X(kIpv4Fragment, "ipv4_fragment")                       \
  X(kIcmpTruncated, "icmp_truncated")                     \
  X(kIcmpBadChecksum, "icmp_bad_checksum")                \
  X(kUdpTruncated, "udp_truncated")                       \
  X(kUdpBadLength, "udp_bad_length")                      \
  X(kUdpBadChecksum, "udp_bad_checksum")                  \
  X(kTcpTruncated, "tcp_truncated")                       \
  X(kTcpBadOffset, "tcp_bad_offset")                      \
  X(kTcpBadOption, "tcp_bad_option")                      \
  X(kTcpBadChecksum, "tcp_bad_checksum")

enum class FrameError : uint8_t {
  kOk = 0,
#define VNET_X(e, name) e,
  VNET_FRAME_ERRORS(VNET_X)
#undef VNET_X
  kCount,
};
const char* to_string(FrameError e);

struct ArpPacket {
  uint16_t op = 0;
  Mac sender_mac;
  Ipv4 sender_ip;
  Mac target_mac;
  Ipv4 target_ip;
};

struct ParsedFrame {
  enum class Kind : uint8_t { kArp, kIcmp, kUdp, kTcp, kOtherIpv4, kIpv6, kOther };
  Kind kind = Kind::kOther;
  Mac dst_mac;
  Mac src_mac;
  uint16_t ethertype = 0;
  ArpPacket arp;                           // kArp
  Ipv4 src_ip;                             // IPv4 kinds
  Ipv4 dst_ip;
  uint8_t ip_proto = 0;
  uint8_t ttl = 0;
  std::span<const uint8_t> ip_packet;      // the whole IPv4 packet (header + payload)
  uint8_t icmp_type = 0;                   // kIcmp
  uint8_t icmp_code = 0;
  std::span<const uint8_t> icmp_message;   // kIcmp: ICMP header + data
  uint16_t src_port = 0;                   // kUdp, kTcp
  uint16_t dst_port = 0;
  std::span<const uint8_t> udp_payload;    // kUdp
  uint32_t tcp_seq = 0;                    // kTcp: sequence number
  uint32_t tcp_ack = 0;                    // kTcp: acknowledgment number
  uint8_t tcp_flags = 0;                   // kTcp: kTcpFin..kTcpAck (and the rest of the low byte)
  uint16_t tcp_window = 0;                 // kTcp: unscaled window, bytes
  uint16_t tcp_mss = 0;                    // kTcp: MSS option, bytes; 0 = absent
  std::span<const uint8_t> tcp_payload;    // kTcp: segment data
};

FrameError parse_frame(std::span<const uint8_t> frame, ParsedFrame& out);

// RFC 1071 one's complement sum, folded and complemented. `initial` is a
// partial (unfolded) sum to continue from, e.g. a pseudo-header.
uint16_t inet_checksum(std::span<const uint8_t> data, uint32_t initial = 0);
// The unfolded sum of the UDP/TCP pseudo-header (RFC 768).
uint32_t pseudo_header_sum(Ipv4 src, Ipv4 dst, uint8_t proto, uint16_t length);

// Where the gateway's frames go. Same contract as dp::FrameOut::send: a frame
// without VLAN tag, vlan 0 = untagged; false when the frame was dropped.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual bool send(std::span<const uint8_t> frame, uint16_t vlan) = 0;
};

struct UdpEndpoints {
  Mac src_mac;
  Mac dst_mac;
  Ipv4 src_ip;
  Ipv4 dst_ip;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
};

// Ethernet + IPv4 (TTL 64, DF clear, identification `ip_id`) + UDP with its checksum.
std::vector<uint8_t> build_udp_frame(const UdpEndpoints& ep, std::span<const uint8_t> payload, uint16_t ip_id);
// Ethernet + IPv4 + the ICMP message `icmp` (its checksum field is computed here).
std::vector<uint8_t> build_icmp_frame(const Mac& src_mac, const Mac& dst_mac, Ipv4 src_ip, Ipv4 dst_ip,
                                      std::span<const uint8_t> icmp, uint16_t ip_id);
struct TcpSegment {
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
  uint16_t mss = 0;  // adds the MSS option when non-zero (SYN segments)
};
// Ethernet + IPv4 (DF set, as Linux sends TCP) + TCP with its checksum;
// `ep` gives the MACs, addresses and ports.
std::vector<uint8_t> build_tcp_frame(const UdpEndpoints& ep, const TcpSegment& seg, std::span<const uint8_t> payload,
                                     uint16_t ip_id);
// An ARP packet in an Ethernet frame to `eth_dst`.
std::vector<uint8_t> build_arp_frame(const Mac& eth_dst, const ArpPacket& arp, const Mac& eth_src);

}  // namespace vnet::dhcp
