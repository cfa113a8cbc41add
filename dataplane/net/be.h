// vnet::dp — big-endian (network byte order) integers in the type system.
//
// Theory of operation
//   Be16/Be32 hold the wire bytes, most significant first, in a byte array,
//   so they have alignment 1 and can sit at any offset in a header struct
//   (IPv4 addresses after a 14-byte Ethernet header are only 2-aligned).
//   There are no implicit conversions: Be16{host} converts from host order,
//   .to_host() converts back, .raw_bytes() exposes the wire bytes. Equality
//   compares wire bytes.
//
// Thread-safety
//   Plain values.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace vnet::dp::net {

class Be16 {
 public:
  constexpr Be16() = default;
  constexpr explicit Be16(uint16_t host)
      : b_{static_cast<uint8_t>(host >> 8), static_cast<uint8_t>(host)} {}
  constexpr uint16_t to_host() const noexcept {
    return static_cast<uint16_t>((b_[0] << 8) | b_[1]);
  }
  constexpr const std::array<uint8_t, 2>& raw_bytes() const noexcept { return b_; }
  // One integer compare (a defaulted == becomes an out-of-line memcmp call).
  friend constexpr bool operator==(const Be16& x, const Be16& y) noexcept {
    if (std::is_constant_evaluated()) return x.b_ == y.b_;
    uint16_t a, b;
    std::memcpy(&a, x.b_.data(), 2);
    std::memcpy(&b, y.b_.data(), 2);
    return a == b;
  }

 private:
  std::array<uint8_t, 2> b_{};
};

class Be32 {
 public:
  constexpr Be32() = default;
  constexpr explicit Be32(uint32_t host)
      : b_{static_cast<uint8_t>(host >> 24), static_cast<uint8_t>(host >> 16),
           static_cast<uint8_t>(host >> 8), static_cast<uint8_t>(host)} {}
  constexpr uint32_t to_host() const noexcept {
    return (uint32_t{b_[0]} << 24) | (uint32_t{b_[1]} << 16) | (uint32_t{b_[2]} << 8) |
           uint32_t{b_[3]};
  }
  constexpr const std::array<uint8_t, 4>& raw_bytes() const noexcept { return b_; }
  friend constexpr bool operator==(const Be32& x, const Be32& y) noexcept {
    if (std::is_constant_evaluated()) return x.b_ == y.b_;
    uint32_t a, b;
    std::memcpy(&a, x.b_.data(), 4);
    std::memcpy(&b, y.b_.data(), 4);
    return a == b;
  }

 private:
  std::array<uint8_t, 4> b_{};
};

static_assert(sizeof(Be16) == 2 && alignof(Be16) == 1);
static_assert(sizeof(Be32) == 4 && alignof(Be32) == 1);

}  // namespace vnet::dp::net
