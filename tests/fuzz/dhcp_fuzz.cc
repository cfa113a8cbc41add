// libFuzzer target: the DHCPv4 codec and server (dhcp_codec, dhcp_server,
// lease_db). Every input is parsed, re-encoded, and handed to a fresh server;
// a reply the server builds must parse back as a BOOTREPLY.
#include <cstdlib>

#include "dhcp/dhcp_server.h"
#include "fuzz_support.h"

using namespace vnet::dhcp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> in = fuzz::input(data, size);
  DhcpMessage m;
  if (parse_dhcp(in, m) == DhcpParseError::kOk) {
    (void)m.client_fqdn();
    (void)m.host_name();
    (void)m.client_id();
    (void)m.parameter_list();
    DhcpMessage again;
    (void)parse_dhcp(build_dhcp(m, kDhcpMaxMessageSize, true), again);
  }

  static const fuzz::FixedClock clock;
  static SeededRng rng(1);
  static const ServerConfig config = *fuzz::network().dhcp;
  LeaseDb leases(config, clock);
  DhcpServer server(leases, clock, rng);
  const RxMeta meta{*Mac::parse("52:54:00:00:00:09"), Ipv4::any(), Ipv4::broadcast()};
  const DhcpResult r = server.handle(in, meta);
  if (r.reply) {
    DhcpMessage reply;
    if (parse_dhcp(r.reply->payload, reply) != DhcpParseError::kOk || reply.op != kBootReply) std::abort();
  }
  (void)leases.load(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
