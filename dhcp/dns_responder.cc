// vnet::dhcp — DNS responder. See dns_responder.h.
#include "dhcp/dns_responder.h"

#include <algorithm>

namespace vnet::dhcp {

namespace {

// One record to render.
struct Rr {
  uint16_t type = 0;
  std::string owner;
  IpAddress addr;                     // A, AAAA
  std::string target;                 // PTR
  std::vector<std::string> strings;   // TXT
  SrvData srv;                        // SRV
};

bool put_rr(DnsWriter& w, DnsWriter::Section s, const Rr& rr, uint32_t ttl) {
  switch (rr.type) {
    case dns_type::kA: return w.add_a(s, rr.owner, ttl, rr.addr.to_ipv4());
    case dns_type::kAaaa: return w.add_aaaa(s, rr.owner, ttl, rr.addr);
    case dns_type::kPtr: return w.add_ptr(s, rr.owner, ttl, rr.target);
    case dns_type::kTxt: return w.add_txt(s, rr.owner, ttl, rr.strings);
    case dns_type::kSrv:
      return w.add_srv(s, rr.owner, ttl, rr.srv.priority, rr.srv.weight, rr.srv.port, rr.srv.target);
    default: return false;
  }
}

Rr address_rr(std::string owner, const IpAddress& a) {
  Rr rr;
  rr.type = a.is_v4() ? dns_type::kA : dns_type::kAaaa;
  rr.owner = std::move(owner);
  rr.addr = a;
  return rr;
}

bool wants(uint16_t qtype, uint16_t type) { return qtype == type || qtype == dns_type::kAny; }

}  // namespace

const char* to_string(DnsOutcome o) {
  switch (o) {
#define VNET_X(e, name) \
  case DnsOutcome::e: return name;
    VNET_DNS_OUTCOMES(VNET_X)
#undef VNET_X
    case DnsOutcome::kCount: break;
  }
  return "?";
}

DnsResponder::DnsResponder(const DnsConfig& config, const DynamicHosts* leases)
    : config_(config), leases_(leases), zone_(std::make_unique<LocalZone>(config_, leases_)) {}

void DnsResponder::reconfigure(const DnsConfig& config) {
  config_ = config;
  zone_ = std::make_unique<LocalZone>(config_, leases_);
}

DnsAnswer DnsResponder::finish(DnsOutcome outcome, std::vector<std::byte> reply) {
  ++counters_.outcome[static_cast<size_t>(outcome)];
  DnsAnswer a;
  a.outcome = outcome;
  a.action = DnsAnswer::Action::kReply;
  a.reply = std::move(reply);
  return a;
}

DnsAnswer DnsResponder::answer(std::span<const std::byte> query, DnsTransport transport) {
  DnsHeader qh;
  if (!parse_dns_header(query, qh) || qh.qr()) {
    ++counters_.outcome[static_cast<size_t>(DnsOutcome::kDropped)];
    return DnsAnswer{};
  }
  DnsMessage m;
  if (const DnsParseError e = parse_dns(query, m); e != DnsParseError::kOk) {
    ++counters_.parse_error[static_cast<size_t>(e)];
    return finish(DnsOutcome::kFormErr, make_dns_error_reply(query, Rcode::kFormErr));
  }
  if (qh.opcode() != static_cast<uint8_t>(DnsOpcode::kQuery))
    return finish(DnsOutcome::kNotImp, make_dns_error_reply(query, Rcode::kNotImp));
  if (m.questions.size() != 1) return finish(DnsOutcome::kFormErr, make_dns_error_reply(query, Rcode::kFormErr));
  const DnsQuestion& q = m.questions.front();

  size_t limit = kDnsUdpMaxSize;
  if (transport == DnsTransport::kTcp) {
    limit = kDnsTcpMaxSize;
  } else if (m.edns) {
    const size_t ours = std::max<size_t>(kDnsUdpMaxSize, config_.edns_udp_size);
    limit = std::clamp<size_t>(m.edns->udp_size, kDnsUdpMaxSize, ours);
  }
  const uint32_t ttl = config_.local_ttl_s;

  const auto render = [&](Rcode rcode, bool aa, const std::vector<Rr>& answers, const std::vector<Rr>& additional,
                          uint8_t ext_rcode) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool with_answers = attempt == 0;
      DnsWriter w(limit, m.edns ? kDnsOptRecordSize : 0);
      DnsHeader h;
      h.id = qh.id;
      h.flags = static_cast<uint16_t>(DnsHeader::kQr | (qh.flags & (0x7800 | DnsHeader::kRd | DnsHeader::kCd)) |
                                      DnsHeader::kRa | (aa ? DnsHeader::kAa : 0));
      h.set_rcode(rcode);
      w.set_header(h);
      w.add_question(q);
      bool fitted = true;
      if (with_answers) {
        for (const Rr& rr : answers) {
          if (!put_rr(w, DnsWriter::Section::kAnswer, rr, ttl)) {
            fitted = false;
            break;
          }
        }
        if (!fitted) continue;
        for (const Rr& rr : additional) put_rr(w, DnsWriter::Section::kAdditional, rr, ttl);
      } else {
        w.header().flags |= DnsHeader::kTc;
        ++counters_.truncated;
      }
      if (m.edns) w.add_opt(config_.edns_udp_size, ext_rcode, 0, false);
      return w.finish();
    }
    return std::vector<std::byte>{};
  };

  if (m.edns && m.edns->version != 0)  // RFC 6891 §6.1.3: BADVERS = 16
    return finish(DnsOutcome::kBadVers, render(Rcode::kNoError, false, {}, {}, 1));

  // Local data.
  std::vector<Rr> answers, additional;
  bool known = false;
  if (q.qclass == dns_class::kIn || q.qclass == dns_class::kAny) {
    if (wants(q.qtype, dns_type::kPtr)) {
      if (const auto addr = parse_reverse_name(q.name)) {
        if (auto target = zone_->ptr_for(*addr)) {
          known = true;
          Rr rr;
          rr.type = dns_type::kPtr;
          rr.owner = q.name;
          rr.target = std::move(*target);
          answers.push_back(std::move(rr));
        }
      }
    }
    const LocalData d = zone_->lookup(q.name);
    if (d.known) {
      known = true;
      for (const IpAddress& a : d.addresses)
        if (wants(q.qtype, a.is_v4() ? dns_type::kA : dns_type::kAaaa)) answers.push_back(address_rr(q.name, a));
      if (wants(q.qtype, dns_type::kTxt)) {
        for (const auto& strings : d.txts) {
          Rr rr;
          rr.type = dns_type::kTxt;
          rr.owner = q.name;
          rr.strings = strings;
          answers.push_back(std::move(rr));
        }
      }
      if (wants(q.qtype, dns_type::kSrv)) {
        for (const SrvData& s : d.srvs) {
          Rr rr;
          rr.type = dns_type::kSrv;
          rr.owner = q.name;
          rr.srv = s;
          answers.push_back(std::move(rr));
          if (s.target.empty()) continue;
          for (const IpAddress& a : zone_->lookup(s.target).addresses) {
            const bool dup = std::any_of(additional.begin(), additional.end(), [&](const Rr& x) {
              return x.addr == a && names_equal(x.owner, s.target);
            });
            if (!dup) additional.push_back(address_rr(s.target, a));
          }
        }
      }
    }
  }
  if (known) {
    const DnsOutcome outcome = answers.empty() ? DnsOutcome::kNoData : DnsOutcome::kAnswered;
    return finish(outcome, render(Rcode::kNoError, true, answers, additional, 0));
  }

  const Route route = zone_->route(q.name);
  if (route.kind == Route::Kind::kLocal)
    return finish(DnsOutcome::kNxDomain, render(Rcode::kNxDomain, true, {}, {}, 0));
  if (route.upstreams.empty()) return finish(DnsOutcome::kRefused, render(Rcode::kRefused, false, {}, {}, 0));

  ++counters_.outcome[static_cast<size_t>(DnsOutcome::kForwarded)];
  DnsAnswer a;
  a.action = DnsAnswer::Action::kForward;
  a.outcome = DnsOutcome::kForwarded;
  a.upstreams = route.upstreams;
  return a;
}

}  // namespace vnet::dhcp
