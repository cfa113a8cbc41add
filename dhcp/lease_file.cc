// vnet::dhcp — lease-file persistence in dnsmasq's format. See lease_db.h.
//
// One line per lease (dnsmasq lease.c, lease_update_file):
//   <expiry-epoch-s> <mac> <ip> <hostname|*> <client-id|*>
// expiry 0 means an infinite lease. A "duid" line starts the DHCPv6 section,
// which Dhcp6Server reads; anything else that does not parse is skipped and
// counted.
#include <algorithm>
#include <charconv>

#include "dhcp/lease_db.h"

namespace vnet::dhcp {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t' || line[pos] == '\r')) ++pos;
    const size_t start = pos;
    while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t' && line[pos] != '\r') ++pos;
    if (pos > start) out.push_back(line.substr(start, pos - start));
  }
  return out;
}

std::optional<int64_t> parse_expiry(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::string format_hex_colon(std::span<const std::byte> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i) s.push_back(':');
    const auto b = std::to_integer<uint8_t>(bytes[i]);
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

std::optional<std::vector<std::byte>> parse_hex_colon(std::string_view s) {
  std::vector<std::byte> out;
  size_t pos = 0;
  while (pos < s.size()) {
    if (!out.empty()) {
      if (s[pos] != ':') return std::nullopt;
      ++pos;
    }
    int value = 0;
    size_t digits = 0;
    while (pos < s.size() && digits < 2 && hex_digit(s[pos]) >= 0) {
      value = value * 16 + hex_digit(s[pos]);
      ++pos;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    out.push_back(std::byte(value));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::string LeaseDb::serialize() const {
  std::string text;
  for (const Lease& l : active_leases()) {
    text += std::to_string(l.expires_s == kLeaseNever ? 0 : l.expires_s);
    text += ' ';
    text += l.client.mac.to_string();
    text += ' ';
    text += l.ip.to_string();
    text += ' ';
    text += l.hostname.empty() ? std::string("*") : l.hostname;
    text += ' ';
    text += l.client.client_id.empty() ? std::string("*") : format_hex_colon(l.client.client_id);
    text += '\n';
  }
  return text;
}

LeaseLoadStats LeaseDb::load(std::string_view text) {
  LeaseLoadStats stats;
  const int64_t now = now_s();
  clear_records();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;

    const std::vector<std::string_view> f = split_ws(line);
    if (!f.empty() && f[0] == "duid") break;  // the DHCPv6 section (Dhcp6Server::load)
    if (f.empty()) continue;
    if (f.size() != 5) {
      ++stats.corrupt;
      continue;
    }
    const auto expiry = parse_expiry(f[0]);
    const auto mac = Mac::parse(f[1]);
    const auto ip = Ipv4::parse(f[2]);
    const bool name_ok = f[3] == "*" || is_legal_hostname(f[3]);
    std::optional<std::vector<std::byte>> clid;
    if (f[4] != "*") clid = parse_hex_colon(f[4]);
    if (!expiry || !mac || !ip || !name_ok || (f[4] != "*" && !clid)) {
      ++stats.corrupt;
      continue;
    }
    Lease l;
    l.ip = *ip;
    l.client.mac = *mac;
    if (clid) l.client.client_id = std::move(*clid);
    if (f[3] != "*") l.hostname = std::string(first_label(f[3]));
    l.expires_s = *expiry == 0 ? kLeaseNever : *expiry;
    const bool duplicate = record_at(l.ip) != nullptr || record_of(l.client) != SIZE_MAX;
    if (!l.ip.same_subnet(config_.server_ip, config_.prefix_len) || duplicate) {
      ++stats.foreign;
      continue;
    }
    if (l.active(now)) {
      ++stats.loaded;
    } else {
      ++stats.expired;
    }
    add_record(std::move(l));
  }
  last_trim_s_ = INT64_MIN;
  trim_history();
  ++generation_;
  return stats;
}

}  // namespace vnet::dhcp
