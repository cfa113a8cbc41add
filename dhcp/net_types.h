// vnet::dhcp — plain address values, and the injected clock and randomness.
//
// Theory of operation
//   The gateway's protocol logic (DHCP server, lease database, DNS responder)
//   is pure: it sees packets as byte spans, addresses as the value types
//   below, and time and randomness only through the Clock and Rng interfaces
//   (STYLE rule 8). The dataplane adapter and vnetd pass SystemClock and
//   SystemRng; tests pass a fake clock they advance by hand and a seeded Rng.
//
//   * Ipv4 holds an address in host byte order (192.168.122.1 == 0xc0a87a01)
//     and knows prefixes, masks and subnet membership.
//   * IpAddress holds an IPv4 or IPv6 address in network byte order for the
//     DNS side (AAAA records, ip6.arpa names, upstream servers).
//   * Mac is a 48-bit Ethernet address.
//   * Clock has two readings: now_ns() is monotonic and used for timeouts;
//     now_s() is wall-clock seconds since the Unix epoch and used for lease
//     expiry, because lease files outlive the process (dnsmasq does the same).
//
// Thread-safety
//   Values are plain and freely copyable. SystemClock is stateless and safe
//   from any thread. An Rng instance is not thread-safe: each owner thread
//   keeps its own.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace vnet::dhcp {

// An IPv4 address in host byte order.
struct Ipv4 {
  uint32_t value = 0;  // host order

  constexpr Ipv4() = default;
  constexpr explicit Ipv4(uint32_t host_order) : value(host_order) {}
  static constexpr Ipv4 from_octets(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return Ipv4((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | uint32_t{d});
  }
  static constexpr Ipv4 any() { return Ipv4(0); }
  static constexpr Ipv4 broadcast() { return Ipv4(0xffffffffu); }
  // The netmask of a prefix length (0..32); 24 -> 255.255.255.0.
  static constexpr Ipv4 netmask(unsigned prefix_len) {
    return Ipv4(prefix_len == 0 ? 0u : prefix_len >= 32 ? 0xffffffffu : ~((1u << (32 - prefix_len)) - 1));
  }

  constexpr bool is_zero() const { return value == 0; }
  constexpr std::array<uint8_t, 4> octets() const {
    return {uint8_t(value >> 24), uint8_t(value >> 16), uint8_t(value >> 8), uint8_t(value)};
  }
  constexpr Ipv4 network(unsigned prefix_len) const { return Ipv4(value & netmask(prefix_len).value); }
  constexpr Ipv4 subnet_broadcast(unsigned prefix_len) const {
    return Ipv4(value | ~netmask(prefix_len).value);
  }
  constexpr bool same_subnet(Ipv4 other, unsigned prefix_len) const {
    return network(prefix_len) == other.network(prefix_len);
  }
  std::string to_string() const;  // dotted quad
  static std::optional<Ipv4> parse(std::string_view s);  // strict dotted quad

  friend constexpr bool operator==(Ipv4, Ipv4) = default;
  friend constexpr auto operator<=>(Ipv4, Ipv4) = default;
};

// An IPv4 or IPv6 address in network byte order.
struct IpAddress {
  enum class Family : uint8_t { kV4, kV6 };
  Family family = Family::kV4;
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses bytes[0..3]

  static IpAddress v4(Ipv4 a);
  static IpAddress v6(const std::array<uint8_t, 16>& b);
  bool is_v4() const { return family == Family::kV4; }
  bool is_v6() const { return family == Family::kV6; }
  Ipv4 to_ipv4() const;  // only meaningful for kV4
  std::string to_string() const;  // inet_ntop form
  static std::optional<IpAddress> parse(std::string_view s);  // inet_pton, v4 or v6

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

// A 48-bit Ethernet MAC address.
struct Mac {
  std::array<uint8_t, 6> bytes{};

  static constexpr Mac broadcast() { return Mac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  bool is_zero() const { return bytes == std::array<uint8_t, 6>{}; }
  std::string to_string() const;  // lower case xx:xx:xx:xx:xx:xx
  // Six groups of one or two hex digits separated by ':' (virMacAddrParse).
  static std::optional<Mac> parse(std::string_view s);

  friend bool operator==(const Mac&, const Mac&) = default;
  friend auto operator<=>(const Mac&, const Mac&) = default;
};

// Time source. See "Theory of operation" for the meaning of the two readings.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ns() const = 0;  // monotonic nanoseconds; for timeouts
  virtual int64_t now_s() const = 0;   // wall-clock seconds since the epoch; for leases
};

// CLOCK_MONOTONIC for now_ns(), CLOCK_REALTIME for now_s().
class SystemClock final : public Clock {
 public:
  int64_t now_ns() const override;
  int64_t now_s() const override;
};

// Randomness source.
class Rng {
 public:
  virtual ~Rng() = default;
  virtual uint64_t next_u64() = 0;
  uint32_t next_u32() { return static_cast<uint32_t>(next_u64() >> 32); }
  uint16_t next_u16() { return static_cast<uint16_t>(next_u64() >> 48); }
};

// A 64-bit Mersenne twister seeded from the kernel (getrandom). Good enough for
// DNS query ids and DHCP renewal fuzz; not a cryptographic generator.
class SystemRng final : public Rng {
 public:
  SystemRng();
  uint64_t next_u64() override { return engine_(); }

 private:
  std::mt19937_64 engine_;  // owner thread only
};

// A deterministic generator for tests and fuzzing (splitmix64).
class SeededRng final : public Rng {
 public:
  explicit SeededRng(uint64_t seed) : state_(seed) {}
  uint64_t next_u64() override;

 private:
  uint64_t state_;
};

}  // namespace vnet::dhcp
