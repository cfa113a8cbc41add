// vnet::dhcp — BOOTP / DHCPv4 message codec (RFC 951, RFC 2131, RFC 2132).
//
// Theory of operation
//   parse_dhcp() turns the UDP payload of a BOOTP/DHCP message into a
//   DhcpMessage: the fixed 236-byte BOOTP header (RFC 2131 §2, figure 1), the
//   magic cookie 99.130.83.99 (RFC 2131 §3), and the options. Options are read
//   from the options field and, when option 52 "overload" says so, from the
//   `file` and then the `sname` fields (RFC 2131 §4.1, RFC 2132 §9.3). Pad (0)
//   is skipped, End (255) stops an area. An option that appears more than once
//   is concatenated in order (RFC 3396 §5), so every code appears once in
//   DhcpMessage::options. Every read is bounds-checked; a malformed message is
//   rejected with a named DhcpParseError that the caller counts (STYLE rule 6).
//   Options whose length is fixed by RFC 2132 (53, 50, 54, 51, 57, 52, 58, 59,
//   and the minimum of 61) are checked here so the server can trust the typed
//   accessors. A BOOTP request without the cookie parses with has_magic=false
//   and no options.
//
//   build_dhcp() is the inverse: it writes the fixed header and the options in
//   the order given, splits any option longer than 255 bytes into several
//   instances (RFC 3396), ends each area with End and pads the message to the
//   300-byte BOOTP minimum that old clients and dnsmasq use. Options that do
//   not fit into `max_size` are dropped and counted; when `allow_overload` is
//   true and the header's file/sname fields are empty they are used as extra
//   option space and option 52 is emitted. With dhcp-no-override (what libvirt
//   configures) the server passes allow_overload=false.
//
// Thread-safety
//   Pure functions over caller-owned buffers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dhcp/net_types.h"

namespace vnet::dhcp {

inline constexpr size_t kBootpFixedSize = 236;        // op .. file (RFC 2131 §2)
inline constexpr size_t kDhcpOptionsOffset = 240;     // after the magic cookie
inline constexpr uint32_t kDhcpMagicCookie = 0x63825363;
inline constexpr size_t kBootpMinMessageSize = 300;   // RFC 1542 §3.3 / dnsmasq MIN_PACKETSZ
inline constexpr size_t kDhcpDefaultMaxSize = 548;    // 576-byte datagram minus IP+UDP (RFC 2131 §2)
inline constexpr size_t kDhcpMaxMessageSize = 1472;   // 1500-byte MTU minus IP+UDP
inline constexpr uint16_t kDhcpServerPort = 67;
inline constexpr uint16_t kDhcpClientPort = 68;
inline constexpr uint8_t kBootRequest = 1;
inline constexpr uint8_t kBootReply = 2;
inline constexpr uint16_t kBroadcastFlag = 0x8000;    // RFC 2131 §2, figure 2

// DHCP message types, option 53 (RFC 2132 §9.6).
enum class MessageType : uint8_t {
  kDiscover = 1,
  kOffer = 2,
  kRequest = 3,
  kDecline = 4,
  kAck = 5,
  kNak = 6,
  kRelease = 7,
  kInform = 8,
};
const char* to_string(MessageType t);

// Option codes used by the server (RFC 2132 unless noted).
namespace opt {
inline constexpr uint8_t kPad = 0;
inline constexpr uint8_t kSubnetMask = 1;
inline constexpr uint8_t kRouter = 3;
inline constexpr uint8_t kDnsServer = 6;
inline constexpr uint8_t kHostName = 12;
inline constexpr uint8_t kDomainName = 15;
inline constexpr uint8_t kInterfaceMtu = 26;
inline constexpr uint8_t kBroadcastAddress = 28;
inline constexpr uint8_t kRequestedIp = 50;
inline constexpr uint8_t kLeaseTime = 51;
inline constexpr uint8_t kOverload = 52;
inline constexpr uint8_t kMessageType = 53;
inline constexpr uint8_t kServerId = 54;
inline constexpr uint8_t kParameterList = 55;
inline constexpr uint8_t kMessage = 56;
inline constexpr uint8_t kMaxMessageSize = 57;
inline constexpr uint8_t kRenewalTime = 58;    // T1
inline constexpr uint8_t kRebindingTime = 59;  // T2
inline constexpr uint8_t kVendorClass = 60;
inline constexpr uint8_t kClientId = 61;
inline constexpr uint8_t kTftpServerName = 66;
inline constexpr uint8_t kBootfileName = 67;
inline constexpr uint8_t kClientFqdn = 81;     // RFC 4702
inline constexpr uint8_t kEnd = 255;
}  // namespace opt

// Why a message was rejected. X(enumerator, counter name).
#define VNET_DHCP_PARSE_ERRORS(X)              \
  X(kTruncated, "truncated")                   \
  X(kBadMagic, "bad_magic")                    \
  X(kBadHlen, "bad_hlen")                      \
  X(kNotBootRequest, "not_bootrequest")        \
  X(kOptionOverflow, "option_overflow")        \
  X(kBadOptionLength, "bad_option_length")     \
  X(kBadOverload, "bad_overload")

enum class DhcpParseError : uint8_t {
  kOk = 0,
#define VNET_X(e, name) e,
  VNET_DHCP_PARSE_ERRORS(VNET_X)
#undef VNET_X
  kCount,
};
const char* to_string(DhcpParseError e);

struct DhcpOption {
  uint8_t code = 0;
  std::vector<std::byte> data;  // all instances concatenated (RFC 3396)
};

// Client FQDN option 81 (RFC 4702 §2).
struct ClientFqdn {
  uint8_t flags = 0;  // S=0x01 O=0x02 E=0x04 N=0x08
  std::string name;   // dotted; decoded from wire form when E is set
};

struct DhcpMessage {
  uint8_t op = kBootRequest;
  uint8_t htype = 1;  // Ethernet
  uint8_t hlen = 6;
  uint8_t hops = 0;
  uint32_t xid = 0;
  uint16_t secs = 0;
  uint16_t flags = 0;
  Ipv4 ciaddr;
  Ipv4 yiaddr;
  Ipv4 siaddr;
  Ipv4 giaddr;
  std::array<uint8_t, 16> chaddr{};
  std::string sname;  // up to 63 chars; empty when the field carries options
  std::string file;   // up to 127 chars; empty when the field carries options
  bool has_magic = true;
  std::vector<DhcpOption> options;  // one entry per code, first-appearance order

  // Option access.
  const DhcpOption* find(uint8_t code) const;
  void set_option(uint8_t code, std::span<const std::byte> data);  // replaces
  void set_u8(uint8_t code, uint8_t v);
  void set_u16(uint8_t code, uint16_t v);
  void set_u32(uint8_t code, uint32_t v);
  void set_ip(uint8_t code, Ipv4 v);
  void set_string(uint8_t code, std::string_view s);

  // Typed accessors; nullopt when absent (lengths were checked by parse_dhcp).
  std::optional<uint8_t> message_type_raw() const;
  std::optional<MessageType> message_type() const;  // nullopt also for codes outside 1..8
  std::optional<Ipv4> requested_ip() const;
  std::optional<Ipv4> server_id() const;
  std::optional<uint32_t> lease_time_s() const;
  std::optional<uint16_t> max_message_size() const;
  std::optional<std::span<const std::byte>> client_id() const;
  std::optional<std::string> host_name() const;  // raw bytes, trailing NULs stripped
  std::optional<ClientFqdn> client_fqdn() const;  // nullopt when absent or malformed
  std::span<const std::byte> parameter_list() const;  // empty when absent
  bool requested(uint8_t code) const;  // in the parameter request list

  Mac client_mac() const;  // chaddr[0..5]
  bool broadcast() const { return (flags & kBroadcastFlag) != 0; }
};

// Parse any BOOTP/DHCP message (either direction).
DhcpParseError parse_dhcp(std::span<const std::byte> wire, DhcpMessage& out);
// parse_dhcp, then require op == BOOTREQUEST (RFC 2131 §4.1).
DhcpParseError parse_dhcp_request(std::span<const std::byte> wire, DhcpMessage& out);

struct DhcpBuildInfo {
  size_t dropped_options = 0;  // options that did not fit
  bool overloaded = false;     // file and/or sname carry options
};

// Serialise `msg`. `max_size` is clamped to [kBootpMinMessageSize, kDhcpMaxMessageSize].
std::vector<std::byte> build_dhcp(const DhcpMessage& msg, size_t max_size = kDhcpDefaultMaxSize,
                                  bool allow_overload = false, DhcpBuildInfo* info = nullptr);

}  // namespace vnet::dhcp
