// vnet::xml — IP and MAC address helpers (see addr.h).
#include "xml/addr.h"

#include <arpa/inet.h>

#include <cstring>

namespace vnet::xml {

IpAddr IpAddr::v4(uint32_t host_order) {
  IpAddr a;
  a.family = Family::kIpv4;
  a.bytes[0] = static_cast<uint8_t>(host_order >> 24);
  a.bytes[1] = static_cast<uint8_t>(host_order >> 16);
  a.bytes[2] = static_cast<uint8_t>(host_order >> 8);
  a.bytes[3] = static_cast<uint8_t>(host_order);
  return a;
}

uint32_t IpAddr::v4_host_order() const {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

std::string IpAddr::format() const {
  char buf[INET6_ADDRSTRLEN] = {};
  const int af = is_v4() ? AF_INET : AF_INET6;
  if (inet_ntop(af, bytes.data(), buf, sizeof(buf)) == nullptr) return {};
  return buf;
}

std::optional<IpAddr> parse_ipv4(std::string_view s) {
  if (s.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  std::memcpy(buf, s.data(), s.size());
  IpAddr a;
  a.family = Family::kIpv4;
  if (inet_pton(AF_INET, buf, a.bytes.data()) != 1) return std::nullopt;
  return a;
}

std::optional<IpAddr> parse_ip(std::string_view s) {
  if (s.size() >= INET6_ADDRSTRLEN + 8) return std::nullopt;
  if (s.find('\0') != std::string_view::npos) return std::nullopt;
  if (auto v4 = parse_ipv4(s)) return v4;
  char buf[INET6_ADDRSTRLEN + 8] = {};
  std::memcpy(buf, s.data(), s.size());
  IpAddr a;
  a.family = Family::kIpv6;
  if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
  return a;
}

std::optional<unsigned> netmask_to_prefix(const IpAddr& mask) {
  const size_t n = mask.is_v4() ? 4 : 16;
  unsigned bits = 0;
  size_t i = 0;
  for (; i < n && mask.bytes[i] == 0xff; ++i) bits += 8;
  if (i < n) {
    uint8_t b = mask.bytes[i];
    while (b & 0x80) {
      ++bits;
      b = static_cast<uint8_t>(b << 1);
    }
    if (b != 0) return std::nullopt;
    for (++i; i < n; ++i) {
      if (mask.bytes[i] != 0) return std::nullopt;
    }
  }
  return bits;
}

IpAddr prefix_to_netmask_v4(unsigned prefix) {
  if (prefix >= 32) return IpAddr::v4(0xffffffffu);
  if (prefix == 0) return IpAddr::v4(0);
  return IpAddr::v4(~((uint32_t{1} << (32 - prefix)) - 1));
}

std::optional<unsigned> classful_prefix(const IpAddr& a) {
  if (!a.is_v4()) return std::nullopt;
  const uint8_t octet = a.bytes[0];
  if ((octet & 0x80) == 0) return 8;
  if ((octet & 0xc0) == 0x80) return 16;
  if ((octet & 0xe0) == 0xc0) return 24;
  return std::nullopt;
}

namespace {

// Sets (set_bits) or clears the host bits beyond `prefix`.
IpAddr apply_prefix(const IpAddr& a, unsigned prefix, bool set_bits) {
  IpAddr r = a;
  const unsigned total = a.is_v4() ? 32 : 128;
  if (prefix > total) prefix = total;
  for (unsigned bit = prefix; bit < total; ++bit) {
    const uint8_t m = static_cast<uint8_t>(0x80u >> (bit % 8));
    if (set_bits) {
      r.bytes[bit / 8] |= m;
    } else {
      r.bytes[bit / 8] &= static_cast<uint8_t>(~m);
    }
  }
  return r;
}

}  // namespace

IpAddr network_address(const IpAddr& a, unsigned prefix) { return apply_prefix(a, prefix, false); }

IpAddr broadcast_address(const IpAddr& a, unsigned prefix) { return apply_prefix(a, prefix, true); }

bool same_subnet(const IpAddr& a, const IpAddr& b, unsigned prefix) {
  if (a.family != b.family) return false;
  return network_address(a, prefix) == network_address(b, prefix);
}

std::optional<uint64_t> range_size(const IpAddr& start, const IpAddr& end) {
  if (start.family != end.family) return std::nullopt;
  const size_t n = start.is_v4() ? 4 : 16;
  const size_t high = start.is_v4() ? 0 : 8;  // bytes that must be equal
  for (size_t i = 0; i < high; ++i) {
    if (start.bytes[i] != end.bytes[i]) return std::nullopt;
  }
  uint64_t s = 0, e = 0;
  for (size_t i = high; i < n; ++i) {
    s = (s << 8) | start.bytes[i];
    e = (e << 8) | end.bytes[i];
  }
  if (s > e) return std::nullopt;
  if (e - s == UINT64_MAX) return std::nullopt;  // 2^64 does not fit
  return e - s + 1;
}

std::string MacAddr::format() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(17);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i) out.push_back(':');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xf]);
  }
  return out;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<MacAddr> parse_mac(std::string_view s) {
  // virMacAddrParse: six groups of one or two hex digits separated by ':'; after
  // the last group the string ends (or continues with a character <= ' ').
  MacAddr mac;
  size_t pos = 0;
  for (size_t i = 0; i < 6; ++i) {
    unsigned value = 0;
    size_t digits = 0;
    while (pos < s.size() && hex_value(s[pos]) >= 0) {
      value = value * 16 + static_cast<unsigned>(hex_value(s[pos]));
      ++pos;
      if (++digits > 2) return std::nullopt;
    }
    if (digits == 0) return std::nullopt;
    mac.bytes[i] = static_cast<uint8_t>(value);
    if (i == 5) {
      if (pos == s.size() || static_cast<unsigned char>(s[pos]) <= ' ') return mac;
      return std::nullopt;
    }
    if (pos >= s.size() || s[pos] != ':') return std::nullopt;
    ++pos;
  }
  return std::nullopt;
}

}  // namespace vnet::xml
