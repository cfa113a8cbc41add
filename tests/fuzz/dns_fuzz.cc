// libFuzzer target: the DNS codec and responder (dns_codec, dns_zone,
// dns_responder, dns_tcp). Every input is parsed and answered over UDP and
// TCP; a reply the responder builds must itself parse, and a UDP reply must
// fit 512 bytes or the client's EDNS size.
#include <cstdlib>

#include "dhcp/dns_responder.h"
#include "dhcp/dns_tcp.h"
#include "fuzz_support.h"

using namespace vnet::dhcp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> in = fuzz::input(data, size);
  DnsMessage m;
  if (parse_dns(in, m) == DnsParseError::kOk) {
    for (const DnsQuestion& q : m.questions) {
      (void)encode_dns_name(q.name);
      (void)parse_reverse_name(q.name);
    }
  }
  (void)make_dns_error_reply(in, Rcode::kServFail);

  static DnsResponder responder(fuzz::network().dns, nullptr);
  for (const DnsTransport t : {DnsTransport::kUdp, DnsTransport::kTcp}) {
    const DnsAnswer a = responder.answer(in, t);
    if (a.action != DnsAnswer::Action::kReply) continue;
    DnsMessage reply;
    if (parse_dns(a.reply, reply) != DnsParseError::kOk) std::abort();
    if (t == DnsTransport::kUdp && a.reply.size() > 1232) std::abort();
  }

  DnsTcpReader reader;
  if (reader.feed(in)) {
    while (reader.next()) {
    }
  }
  return 0;
}
