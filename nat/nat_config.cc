#include "nat/nat_config.h"

#include <cstdio>

namespace vnet::nat {

bool SubnetSet::add(uint32_t addr, uint8_t prefix) noexcept {
  if (count >= kMaxSubnets || prefix > 32) return false;
  Ipv4Subnet s{addr, prefix};
  s.network = addr & s.mask();
  masks[count] = s.mask();
  items[count++] = s;
  return true;
}

std::string validate(const NatConfig& c) {
  if (c.inside.count == 0) return "nat: the network has no IPv4 subnet";
  if (c.addr_first == 0 || c.addr_last < c.addr_first)
    return "nat: invalid outside address range " + format_ipv4(c.addr_first) + "-" +
           format_ipv4(c.addr_last);
  if (uint64_t{c.addr_last} - c.addr_first + 1 > 65536)
    return "nat: outside address range larger than 65536 addresses";
  if (c.port_first >= c.port_last)
    return "Invalid port range '" + std::to_string(c.port_first) + "-" +
           std::to_string(c.port_last) + "'";
  if (c.workers == 0 || c.workers > kMaxWorkers)
    return "nat: worker count must be 1.." + std::to_string(kMaxWorkers);
  if (uint32_t{c.port_last} - c.port_first + 1 < c.workers)
    return "nat: port range " + std::to_string(c.port_first) + "-" +
           std::to_string(c.port_last) + " has fewer ports than workers (" +
           std::to_string(c.workers) + ")";
  return {};
}

std::string format_ipv4(uint32_t a) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xffu, (a >> 8) & 0xffu,
                a & 0xffu);
  return buf;
}

bool parse_ipv4(const std::string& text, uint32_t* addr) {
  uint32_t out = 0;
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
    uint32_t v = 0;
    size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      v = v * 10 + static_cast<uint32_t>(text[i] - '0');
      if (++digits > 3 || v > 255) return false;
      ++i;
    }
    out = (out << 8) | v;
    ++parts;
    if (parts < 4) {
      if (i >= text.size() || text[i] != '.') return false;
      ++i;
    }
  }
  if (i != text.size()) return false;
  *addr = out;
  return true;
}

}  // namespace vnet::nat
