// Shared pieces of the dhcp/ fuzz targets: a clock that never moves and a
// small network configuration with every kind of local DNS data.
//
// Thread-safety
//   libFuzzer runs one input at a time; the objects here are per process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dhcp/gateway.h"

namespace vnet::dhcp::fuzz {

class FixedClock final : public Clock {
 public:
  int64_t now_ns() const override { return 1'000'000'000; }
  int64_t now_s() const override { return 1'700'000'000; }
};

inline std::span<const std::byte> input(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

inline GatewayConfig network() {
  GatewayConfig c;
  c.network = "fuzz";
  c.mac = *Mac::parse("52:54:00:ab:cd:ef");
  const Ipv4 gw = *Ipv4::parse("192.168.122.1");
  c.ipv4 = {Ipv4Interface{gw, 24}};
  c.ipv6 = {Ipv6Interface{*IpAddress::parse("2001:db8::1"), 64}};
  c.routed = true;
  ServerConfig s;
  s.server_ip = gw;
  s.prefix_len = 24;
  s.ranges.push_back(DhcpRange{*Ipv4::parse("192.168.122.2"), *Ipv4::parse("192.168.122.254"), std::nullopt});
  s.hosts.push_back(StaticHost{*Mac::parse("52:54:00:00:00:01"), "fixed", *Ipv4::parse("192.168.122.10"), 600});
  s.hosts.push_back(StaticHost{std::nullopt, "byname", *Ipv4::parse("192.168.122.11"), std::nullopt});
  s.domain = "example.com";
  s.mtu = 9000;
  s.bootp = BootpConfig{"pxelinux.0", std::nullopt};
  c.dhcp = s;
  DnsConfig& d = c.dns;
  d.domain = "example.com";
  d.forward_plain_names = false;
  d.no_resolv = true;
  d.hosts.push_back(DnsHostRecord{*IpAddress::parse("192.168.122.2"), {"host", "alias"}});
  d.hosts.push_back(DnsHostRecord{*IpAddress::parse("2001:db8::2"), {"host6"}});
  d.txts.push_back(DnsTxtRecord{"example", "a,\"b,c\",d"});
  d.srvs.push_back(DnsSrvRecord{"ldap", "tcp", "", "host.example.com", 389, 1, 2});
  d.local_ptr_zones.push_back("122.168.192.in-addr.arpa");
  return c;
}

}  // namespace vnet::dhcp::fuzz
