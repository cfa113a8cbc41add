// vnet::dhcp — DHCPv6 message codec (RFC 8415).
//
// Theory of operation
//   A client/server message is a type byte, a 3-byte transaction id and a
//   sequence of options, each a 16-bit code, a 16-bit length and that many
//   bytes; IA_NA, IA_TA and IAADDR carry options of their own after a fixed
//   part (RFC 8415 §21.4-21.6). parse_dhcpv6() reads the header and walks the
//   options as dnsmasq's opt6_first/opt6_next do: an option whose length runs
//   past the end ends the list (the options before it count, `truncated` is
//   set so the caller can count it). Dhcp6Options::find() answers the first
//   option of a code whose length is at least a minimum, again as dnsmasq's
//   opt6_find, so a short option is as good as absent.
//
//   Dhcp6Writer builds a reply: the header, then options; begin()/end()
//   bracket an option whose length is patched when it closes, so IA options
//   nest naturally. Replies are small (a few IAs and addresses); the writer
//   grows a vector and never fails.
//
// Thread-safety
//   Pure functions and plain values over caller-owned memory.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace vnet::dhcp {

inline constexpr uint16_t kDhcp6ClientPort = 546;
inline constexpr uint16_t kDhcp6ServerPort = 547;
inline constexpr size_t kDhcp6HeaderSize = 4;   // type + transaction id

// Message types (RFC 8415 §7.3).
enum class Dhcp6Type : uint8_t {
  kSolicit = 1,
  kAdvertise = 2,
  kRequest = 3,
  kConfirm = 4,
  kRenew = 5,
  kRebind = 6,
  kReply = 7,
  kRelease = 8,
  kDecline = 9,
  kReconfigure = 10,
  kInformationRequest = 11,
  kRelayForward = 12,
  kRelayReply = 13,
};
const char* to_string(Dhcp6Type t);

// Option codes (RFC 8415 §21, RFC 3646, RFC 4704, RFC 4242).
namespace opt6 {
inline constexpr uint16_t kClientId = 1;
inline constexpr uint16_t kServerId = 2;
inline constexpr uint16_t kIaNa = 3;
inline constexpr uint16_t kIaTa = 4;
inline constexpr uint16_t kIaAddr = 5;
inline constexpr uint16_t kOro = 6;
inline constexpr uint16_t kPreference = 7;
inline constexpr uint16_t kElapsedTime = 8;
inline constexpr uint16_t kStatusCode = 13;
inline constexpr uint16_t kRapidCommit = 14;
inline constexpr uint16_t kDnsServers = 23;
inline constexpr uint16_t kDomainList = 24;
inline constexpr uint16_t kRefreshTime = 32;
inline constexpr uint16_t kFqdn = 39;
}  // namespace opt6

// Status codes (RFC 8415 §21.13).
enum class Dhcp6Status : uint16_t {
  kSuccess = 0,
  kUnspecFail = 1,
  kNoAddrsAvail = 2,
  kNoBinding = 3,
  kNotOnLink = 4,
  kUseMulticast = 5,
};

inline constexpr size_t kIaNaFixed = 12;     // IAID, T1, T2
inline constexpr size_t kIaTaFixed = 4;      // IAID
inline constexpr size_t kIaAddrFixed = 24;   // address, preferred, valid

struct Dhcp6Option {
  uint16_t code = 0;
  std::span<const std::byte> data;
};

// The options of a message or of an option's payload, in order.
struct Dhcp6Options {
  std::vector<Dhcp6Option> list;
  bool truncated = false;  // an option ran past the end; it and what follows were dropped

  // The first option `code` whose length is at least `min_len`.
  const Dhcp6Option* find(uint16_t code, size_t min_len = 0) const;
};

// Walks `bytes` as a sequence of options.
Dhcp6Options parse_dhcpv6_options(std::span<const std::byte> bytes);

struct Dhcp6Message {
  uint8_t type = 0;             // a Dhcp6Type, or an unknown value
  uint32_t xid = 0;             // 24 bits
  Dhcp6Options options;
};

// Header and options; nullopt when shorter than the header.
std::optional<Dhcp6Message> parse_dhcpv6(std::span<const std::byte> payload);

// An IA_NA or IA_TA option taken apart.
struct Dhcp6Ia {
  uint16_t type = opt6::kIaNa;
  uint32_t iaid = 0;
  uint32_t t1 = 0, t2 = 0;      // IA_NA only
  struct Address {
    std::array<uint8_t, 16> address{};
    uint32_t preferred = 0, valid = 0;
  };
  std::vector<Address> addresses;  // its IAADDR options of full size, in order
};
// nullopt when the option is not an IA or is shorter than its fixed part
// (dnsmasq's check_ia).
std::optional<Dhcp6Ia> parse_ia(const Dhcp6Option& o);

// Reads an unsigned big-endian integer of `size` bytes at `offset`; 0 when short.
uint32_t dhcp6_uint(std::span<const std::byte> data, size_t offset, size_t size);

class Dhcp6Writer {
 public:
  Dhcp6Writer(uint8_t type, uint32_t xid);
  void set_type(uint8_t type) { out_[0] = std::byte{type}; }
  // An option with a payload written at once.
  void option(uint16_t code, std::span<const std::byte> data);
  void option_u8(uint16_t code, uint8_t v);
  void option_u32(uint16_t code, uint32_t v);
  // Open an option whose payload follows; returns its position for end().
  size_t begin(uint16_t code);
  void end(size_t at);
  void status(Dhcp6Status code, std::string_view text);
  void put_u16(uint16_t v);
  void put_u32(uint32_t v);
  void put_bytes(std::span<const std::byte> b);
  // Overwrites 4 bytes written earlier.
  void patch_u32(size_t at, uint32_t v);
  size_t size() const { return out_.size(); }
  // Drops everything after `at`.
  void truncate(size_t at) { out_.resize(at); }
  std::vector<std::byte> take() { return std::move(out_); }
  std::span<const std::byte> bytes() const { return out_; }

 private:
  std::vector<std::byte> out_;
};

}  // namespace vnet::dhcp
