// vnet::dhcp — address values, SystemClock, SystemRng.
#include "dhcp/net_types.h"

#include <arpa/inet.h>
#include <sys/random.h>

#include <cstdio>
#include <ctime>

namespace vnet::dhcp {

std::string Ipv4::to_string() const {
  const auto o = octets();
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", o[0], o[1], o[2], o[3]);
  return buf;
}

std::optional<Ipv4> Ipv4::parse(std::string_view s) {
  uint32_t value = 0;
  size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= s.size() || s[pos] != '.') return std::nullopt;
      ++pos;
    }
    size_t digits = 0;
    uint32_t octet = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && digits < 3) {
      octet = octet * 10 + static_cast<uint32_t>(s[pos] - '0');
      ++pos;
      ++digits;
    }
    if (digits == 0 || octet > 255) return std::nullopt;
    value = (value << 8) | octet;
  }
  if (pos != s.size()) return std::nullopt;
  return Ipv4(value);
}

IpAddress IpAddress::v4(Ipv4 a) {
  IpAddress r;
  r.family = Family::kV4;
  const auto o = a.octets();
  for (size_t i = 0; i < 4; ++i) r.bytes[i] = o[i];
  return r;
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& b) {
  IpAddress r;
  r.family = Family::kV6;
  r.bytes = b;
  return r;
}

Ipv4 IpAddress::to_ipv4() const {
  return Ipv4::from_octets(bytes[0], bytes[1], bytes[2], bytes[3]);
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpAddress> IpAddress::parse(std::string_view s) {
  const std::string str(s);
  IpAddress r;
  if (inet_pton(AF_INET, str.c_str(), r.bytes.data()) == 1) {
    r.family = Family::kV4;
    return r;
  }
  if (inet_pton(AF_INET6, str.c_str(), r.bytes.data()) == 1) {
    r.family = Family::kV6;
    return r;
  }
  return std::nullopt;
}

std::string Mac::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<Mac> Mac::parse(std::string_view s) {
  Mac m;
  size_t pos = 0;
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0) {
      if (pos >= s.size() || s[pos] != ':') return std::nullopt;
      ++pos;
    }
    int value = 0;
    size_t digits = 0;
    while (pos < s.size() && digits < 2 && hex_value(s[pos]) >= 0) {
      value = value * 16 + hex_value(s[pos]);
      ++pos;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    m.bytes[i] = static_cast<uint8_t>(value);
  }
  if (pos != s.size()) return std::nullopt;
  return m;
}

int64_t SystemClock::now_ns() const {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int64_t SystemClock::now_s() const {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec;
}

SystemRng::SystemRng() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
    seed = static_cast<uint64_t>(SystemClock().now_ns()) ^ 0x9e3779b97f4a7c15ull;
  }
  engine_.seed(seed);
}

uint64_t SeededRng::next_u64() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace vnet::dhcp
