// vnet::dhcp — helpers that turn host files into DnsConfig inputs.
#include "dhcp/dns_config.h"

#include <algorithm>

namespace vnet::dhcp {

namespace {

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (pos < line.size()) {
    while (pos < line.size() && is_space(line[pos])) ++pos;
    const size_t start = pos;
    while (pos < line.size() && !is_space(line[pos])) ++pos;
    if (pos > start) out.push_back(line.substr(start, pos - start));
  }
  return out;
}

template <typename F>
void for_each_line(std::string_view text, F&& f) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (const size_t hash = line.find_first_of("#;"); hash != std::string_view::npos) line = line.substr(0, hash);
    f(line);
    pos = eol + 1;
  }
}

}  // namespace

std::vector<Upstream> parse_resolv_conf(std::string_view text) {
  std::vector<Upstream> out;
  for_each_line(text, [&](std::string_view line) {
    const auto w = words(line);
    if (w.size() < 2 || w[0] != "nameserver") return;
    if (w[1].find('%') != std::string_view::npos) return;  // scoped link-local
    if (const auto addr = IpAddress::parse(w[1])) {
      Upstream u{*addr, kDnsPort};
      if (std::find(out.begin(), out.end(), u) == out.end()) out.push_back(u);
    }
  });
  return out;
}

std::vector<DnsHostRecord> parse_hosts_file(std::string_view text) {
  std::vector<DnsHostRecord> out;
  for_each_line(text, [&](std::string_view line) {
    const auto w = words(line);
    if (w.size() < 2) return;
    const auto addr = IpAddress::parse(w[0]);
    if (!addr) return;
    auto it = std::find_if(out.begin(), out.end(), [&](const DnsHostRecord& r) { return r.ip == *addr; });
    if (it == out.end()) {
      out.push_back(DnsHostRecord{*addr, {}});
      it = out.end() - 1;
    }
    for (size_t i = 1; i < w.size(); ++i) it->hostnames.emplace_back(w[i]);
  });
  return out;
}

std::vector<std::string> split_txt_value(std::string_view value) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : value) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(std::move(cur));
  return out;
}

}  // namespace vnet::dhcp
