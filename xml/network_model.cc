// vnet::xml — small helpers over the network model (see network_model.h).
#include "xml/network_model.h"

#include <cctype>
#include <cstdio>

namespace vnet::xml {

namespace {
constexpr const char* kForwardModeNames[] = {
    "none", "nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev",
};
}  // namespace

const char* forward_mode_name(ForwardMode m) {
  const auto i = static_cast<size_t>(m);
  return i < std::size(kForwardModeNames) ? kForwardModeNames[i] : "unknown";
}

std::optional<ForwardMode> parse_forward_mode(std::string_view s) {
  for (size_t i = 0; i < std::size(kForwardModeNames); ++i) {
    if (s == kForwardModeNames[i]) return static_cast<ForwardMode>(i);
  }
  return std::nullopt;
}

bool is_l3_mode(ForwardMode m) {
  switch (m) {
    case ForwardMode::kNone:
    case ForwardMode::kNat:
    case ForwardMode::kRoute:
    case ForwardMode::kOpen:
      return true;
    default:
      return false;
  }
}

std::string format_uuid(const Uuid& u) {
  char buf[37];
  std::snprintf(buf, sizeof(buf),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
                u[15]);
  return buf;
}

std::optional<Uuid> parse_uuid(std::string_view s) {
  // virUUIDParse: leading/trailing blanks allowed, '-' and ' ' allowed between
  // digit pairs, exactly 32 hex digits.
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  Uuid u{};
  for (size_t n = 0; n < u.size();) {
    if (i >= s.size()) return std::nullopt;
    if (s[i] == '-' || s[i] == ' ') {
      ++i;
      continue;
    }
    const int hi = hex(s[i]);
    if (hi < 0 || i + 1 >= s.size()) return std::nullopt;
    const int lo = hex(s[i + 1]);
    if (lo < 0) return std::nullopt;
    u[n++] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
  }
  for (; i < s.size(); ++i) {
    if (!std::isspace(static_cast<unsigned char>(s[i]))) return std::nullopt;
  }
  return u;
}

const char* tristate_name(TriState t) {
  switch (t) {
    case TriState::kYes: return "yes";
    case TriState::kNo: return "no";
    default: return nullptr;
  }
}

std::string PciAddress::format() const {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%x", domain, bus, slot, function);
  return buf;
}

uint64_t Lease::seconds() const {
  switch (unit) {
    case Unit::kSeconds: return expiry;
    case Unit::kMinutes: return expiry * 60;
    case Unit::kHours: return expiry * 3600;
  }
  return expiry;
}

const char* lease_unit_name(Lease::Unit u) {
  switch (u) {
    case Lease::Unit::kSeconds: return "seconds";
    case Lease::Unit::kMinutes: return "minutes";
    case Lease::Unit::kHours: return "hours";
  }
  return "minutes";
}

unsigned effective_prefix(const IpDef& ip) {
  if (ip.prefix > 0) return ip.prefix;
  if (ip.netmask) return netmask_to_prefix(*ip.netmask).value_or(0);
  if (ip.address.is_v4()) return classful_prefix(ip.address).value_or(0);
  return 64;
}

bool has_dhcp(const IpDef& ip) { return ip.dhcp && ip.dhcp->active(); }

}  // namespace vnet::xml
