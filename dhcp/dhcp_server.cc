// vnet::dhcp — DHCPv4 server state machine. See dhcp_server.h.
#include "dhcp/dhcp_server.h"

#include <algorithm>

#include "dhcp/host_names.h"

namespace vnet::dhcp {

const char* to_string(DhcpOutcome o) {
  switch (o) {
#define VNET_X(e, name) \
  case DhcpOutcome::e: return name;
    VNET_DHCP_OUTCOMES(VNET_X)
#undef VNET_X
    case DhcpOutcome::kCount: break;
  }
  return "?";
}

struct DhcpServer::Request {
  DhcpMessage msg;
  RxMeta meta;
  MessageType type = MessageType::kDiscover;
  ClientKey client;
  std::string client_hostname;     // legal, first label only; empty: none
  std::optional<ClientFqdn> fqdn;  // the client sent option 81
  bool null_term = false;          // the client NUL-terminates strings (dnsmasq "borken_opt")
  const StaticHost* own = nullptr; // the client's static <host>
  size_t max_reply_size = kDhcpDefaultMaxSize;
};

DhcpServer::DhcpServer(LeaseDb& leases, const Clock& clock, Rng& rng)
    : leases_(leases), clock_(clock), rng_(rng) {}

DhcpResult DhcpServer::count(DhcpOutcome outcome) {
  ++counters_.outcome[static_cast<size_t>(outcome)];
  DhcpResult r;
  r.outcome = outcome;
  return r;
}

DhcpResult DhcpServer::handle(std::span<const std::byte> payload, const RxMeta& meta) {
  Request rq;
  rq.meta = meta;
  const DhcpParseError err = parse_dhcp_request(payload, rq.msg);
  if (err != DhcpParseError::kOk) {
    ++counters_.parse_error[static_cast<size_t>(err)];
    return count(DhcpOutcome::kParseError);
  }
  if (!rq.msg.has_magic || !rq.msg.message_type_raw()) return count(DhcpOutcome::kBootpIgnored);
  const auto type = rq.msg.message_type();
  if (!type || *type == MessageType::kOffer || *type == MessageType::kAck || *type == MessageType::kNak)
    return count(DhcpOutcome::kUnexpectedType);
  rq.type = *type;

  const ServerConfig& cfg = config();
  if (!rq.msg.giaddr.is_zero() && !rq.msg.giaddr.same_subnet(cfg.server_ip, cfg.prefix_len))
    return count(DhcpOutcome::kWrongNetwork);

  rq.client.mac = rq.msg.client_mac();
  if (const auto clid = rq.msg.client_id()) rq.client.client_id.assign(clid->begin(), clid->end());

  // Client-supplied name: option 81 wins over option 12 (dnsmasq).
  if (const auto fqdn = rq.msg.client_fqdn()) {
    rq.fqdn = fqdn;
    const std::string_view name = strip_root(fqdn->name);
    if (is_legal_hostname(name)) rq.client_hostname = std::string(first_label(name));
  } else if (const DhcpOption* o = rq.msg.find(opt::kHostName)) {
    rq.null_term = !o->data.empty() && o->data.back() == std::byte{0};
    if (const auto name = rq.msg.host_name(); name && is_legal_hostname(*name))
      rq.client_hostname = std::string(first_label(*name));
  }
  rq.own = leases_.static_host_for(rq.client.mac, rq.client_hostname);
  if (const auto mms = rq.msg.max_message_size()) {
    // Clients count the IP and UDP headers in option 57 (dnsmasq subtracts 28).
    const size_t size = *mms > 28 ? size_t{*mms} - 28 : 0;
    rq.max_reply_size = std::clamp(size, kDhcpDefaultMaxSize, kDhcpMaxMessageSize);
  }
  leases_.expire();

  switch (rq.type) {
    case MessageType::kDiscover: return on_discover(rq);
    case MessageType::kRequest: return on_request(rq, meta);
    case MessageType::kRelease: return on_release(rq);
    case MessageType::kDecline: return on_decline(rq);
    case MessageType::kInform: return on_inform(rq);
    default: break;
  }
  return count(DhcpOutcome::kUnexpectedType);
}

DhcpResult DhcpServer::on_discover(const Request& rq) {
  const auto ip = leases_.choose_address(rq.client, rq.own, rq.msg.requested_ip());
  if (!ip) return count(DhcpOutcome::kNoAddress);
  const uint32_t lease_s = leases_.lease_time_for(*ip, rq.own, rq.msg.lease_time_s());
  leases_.hold_offer(*ip, rq.client);

  // Never offer a name that contradicts the one in the DISCOVER (dnsmasq).
  std::string hostname;
  if (rq.own && !rq.own->name.empty()) {
    const std::string_view configured = first_label(rq.own->name);
    if (rq.fqdn || rq.client_hostname.empty() || names_equal(configured, rq.client_hostname))
      hostname = std::string(configured);
  } else if (rq.fqdn) {
    hostname = rq.client_hostname;
  }
  DhcpMessage m = reply_base(rq, MessageType::kOffer);
  m.yiaddr = *ip;
  add_common_options(m, rq, lease_s, 0, hostname);
  return finish(DhcpOutcome::kOffer, rq, std::move(m));
}

DhcpResult DhcpServer::on_request(const Request& rq, const RxMeta& meta) {
  const ServerConfig& cfg = config();
  const int64_t now = clock_.now_s();
  const Lease* lease = leases_.find_by_client(rq.client);
  const bool have_lease = lease && lease->active(now);
  const auto requested = rq.msg.requested_ip();
  const auto server_id = rq.msg.server_id();

  Ipv4 yiaddr;
  bool selecting = false;
  uint16_t fuzz = 0;
  if (requested) {
    yiaddr = *requested;
    if (server_id) {
      // SELECTING (RFC 2131 §4.3.2).
      selecting = true;
      if (*server_id != cfg.server_ip) {
        if (!cfg.authoritative) return count(DhcpOutcome::kNotForUs);
        return nak(rq, "wrong server-ID");
      }
    } else {
      // INIT-REBOOT.
      if (!have_lease && !cfg.authoritative) return count(DhcpOutcome::kNotForUs);
      if (have_lease && lease->ip != yiaddr) return nak(rq, "wrong address");
    }
  } else {
    // RENEWING (unicast) or REBINDING (broadcast).
    yiaddr = rq.msg.ciaddr;
    if ((have_lease && rq.msg.ciaddr != lease->ip) || (!have_lease && !cfg.authoritative)) {
      // A broadcast rebind may be meant for another server: stay quiet.
      if (meta.dst_ip != cfg.server_ip) return count(DhcpOutcome::kRequestIgnored);
      return nak(rq, "lease not found");
    }
    fuzz = rng_.next_u16();  // desynchronise renewals
  }

  const unsigned p = cfg.prefix_len;
  const bool own_address = rq.own && rq.own->ip == yiaddr;
  if (yiaddr.is_zero() || !yiaddr.same_subnet(cfg.server_ip, p)) return nak(rq, "wrong network");
  if (yiaddr == cfg.server_ip || (p < 31 && (yiaddr == yiaddr.network(p) || yiaddr == yiaddr.subnet_broadcast(p))))
    return nak(rq, "address not available");
  if (!own_address && !leases_.in_dynamic_range(yiaddr)) return nak(rq, "address not available");
  // The client has a static address and asks for another one: make it
  // DISCOVER again so it gets the static one (dnsmasq "static lease available").
  if (!selecting && rq.own && !own_address && leases_.address_available(rq.own->ip, rq.client, rq.own))
    return nak(rq, "static lease available");
  if (const StaticHost* h = leases_.static_host_by_ip(yiaddr); h && h != rq.own)
    return nak(rq, "address reserved");
  if (!leases_.address_available(yiaddr, rq.client, rq.own)) return nak(rq, "address in use");

  const uint32_t lease_s = leases_.lease_time_for(yiaddr, rq.own, rq.msg.lease_time_s());
  Lease* committed = nullptr;
  switch (leases_.commit(yiaddr, rq.client, lease_s, &committed)) {
    case CommitResult::kOk: break;
    case CommitResult::kLeaseMax: return nak(rq, "no leases left");
    case CommitResult::kUnavailable: return nak(rq, "address in use");
  }
  std::string hostname;
  if (rq.own && !rq.own->name.empty()) {
    hostname = std::string(first_label(rq.own->name));
    leases_.set_hostname(*committed, hostname, true);
  } else if (!rq.client_hostname.empty()) {
    hostname = rq.client_hostname;
    leases_.set_hostname(*committed, hostname, false);
  }
  // Otherwise the lease keeps the name it had (for DNS), but the reply carries
  // none: dnsmasq sends option 12 only for a configured or client-given name.

  DhcpMessage m = reply_base(rq, MessageType::kAck);
  m.yiaddr = yiaddr;
  add_common_options(m, rq, lease_s, fuzz, hostname);
  DhcpResult r = finish(DhcpOutcome::kAck, rq, std::move(m));
  r.leases_changed = true;
  return r;
}

DhcpResult DhcpServer::on_release(const Request& rq) {
  const auto sid = rq.msg.server_id();
  if (!sid || *sid != config().server_ip) return count(DhcpOutcome::kNotForUs);
  if (!leases_.release(rq.msg.ciaddr, rq.client)) return count(DhcpOutcome::kReleaseUnknown);
  DhcpResult r = count(DhcpOutcome::kReleased);
  r.leases_changed = true;
  return r;
}

DhcpResult DhcpServer::on_decline(const Request& rq) {
  const auto sid = rq.msg.server_id();
  if (!sid || *sid != config().server_ip) return count(DhcpOutcome::kNotForUs);
  const auto ip = rq.msg.requested_ip();
  if (!ip) return count(DhcpOutcome::kMissingOption);
  leases_.decline(*ip, rq.client);
  DhcpResult r = count(DhcpOutcome::kDeclined);
  r.leases_changed = true;
  return r;
}

DhcpResult DhcpServer::on_inform(const Request& rq) {
  if (rq.msg.ciaddr.is_zero()) return count(DhcpOutcome::kInformNoCiaddr);
  const int64_t now = clock_.now_s();
  const Lease* lease = leases_.find_by_client(rq.client);
  if (lease && !lease->active(now)) lease = nullptr;
  std::string hostname;
  if (lease && !lease->hostname.empty()) {
    hostname = lease->hostname;
  } else if (const auto name = leases_.lease_hostname(rq.msg.ciaddr)) {
    hostname = *name;
  }
  DhcpMessage m = reply_base(rq, MessageType::kAck);
  m.yiaddr = Ipv4::any();
  // RFC 2131 §4.3.5: no lease time. dnsmasq includes the remaining time only
  // when explicitly asked for (its dhcp_lease_time utility does).
  std::optional<uint32_t> remaining;
  if (lease && rq.msg.requested(opt::kLeaseTime)) {
    remaining = lease->expires_s == kLeaseNever
                    ? kInfiniteLease
                    : static_cast<uint32_t>(std::clamp<int64_t>(lease->expires_s - now, 0, kInfiniteLease - 1));
    m.set_u32(opt::kLeaseTime, *remaining);
  }
  add_common_options(m, rq, std::nullopt, 0, hostname);
  return finish(DhcpOutcome::kInformAck, rq, std::move(m));
}

DhcpMessage DhcpServer::reply_base(const Request& rq, MessageType type) const {
  const ServerConfig& cfg = config();
  DhcpMessage m;
  m.op = kBootReply;
  m.htype = rq.msg.htype;
  m.hlen = rq.msg.hlen;
  m.xid = rq.msg.xid;
  m.flags = rq.msg.flags;
  m.giaddr = rq.msg.giaddr;
  m.chaddr = rq.msg.chaddr;
  // RFC 2131 Table 3: ciaddr is echoed in ACKs (renewals, INFORM), 0 otherwise.
  if (type == MessageType::kAck) m.ciaddr = rq.msg.ciaddr;
  if (type != MessageType::kNak) {
    m.siaddr = cfg.server_ip;  // dnsmasq: siaddr is the server's own address
    if (cfg.bootp) {
      if (cfg.bootp->server) m.siaddr = *cfg.bootp->server;
      if (cfg.no_override || !rq.msg.requested(opt::kBootfileName)) m.file = cfg.bootp->file;
    }
  }
  m.set_u8(opt::kMessageType, static_cast<uint8_t>(type));
  m.set_ip(opt::kServerId, cfg.server_ip);
  return m;
}

void DhcpServer::add_common_options(DhcpMessage& m, const Request& rq, std::optional<uint32_t> lease_s,
                                    uint16_t fuzz, const std::string& hostname) const {
  const ServerConfig& cfg = config();
  // No parameter request list means "send everything" (dnsmasq in_list).
  const bool send_all = rq.msg.parameter_list().empty();
  const auto wants = [&](uint8_t code) { return send_all || rq.msg.requested(code); };
  const auto put_text = [&](uint8_t code, std::string text) {
    if (rq.null_term) text.push_back('\0');
    m.set_string(code, text);
  };

  if (lease_s) {
    m.set_u32(opt::kLeaseTime, *lease_s);
    if (*lease_s != kInfiniteLease) {
      // RFC 2131 §4.4.5 defaults: T1 = 0.5, T2 = 0.875 of the lease.
      uint64_t t1 = *lease_s / 2;
      uint64_t t2 = (uint64_t{*lease_s} * 7) / 8;
      if (t2 <= t1 && t2 > 0) t1 = t2 - 1;
      uint64_t f = fuzz;
      while (f > t1 / 8) f /= 2;
      m.set_u32(opt::kRenewalTime, static_cast<uint32_t>(t1 - f));
      m.set_u32(opt::kRebindingTime, static_cast<uint32_t>(t2 - f));
    }
  }
  m.set_ip(opt::kSubnetMask, cfg.netmask());
  m.set_ip(opt::kBroadcastAddress, cfg.broadcast_address());
  if (cfg.send_router && wants(opt::kRouter)) m.set_ip(opt::kRouter, cfg.server_ip);
  if (cfg.send_dns && wants(opt::kDnsServer)) m.set_ip(opt::kDnsServer, cfg.server_ip);
  if (!cfg.domain.empty() && wants(opt::kDomainName)) put_text(opt::kDomainName, cfg.domain);
  if (!hostname.empty()) {
    if (wants(opt::kHostName)) put_text(opt::kHostName, hostname);
    if (rq.fqdn) {
      // RFC 4702 §4: we do the A-record update (S=1, O if the client asked
      // otherwise), never N; RCODE1/2 are 255 (deprecated fields).
      uint8_t flags = rq.fqdn->flags;
      if (!(flags & 0x01)) flags |= 0x03;
      flags = static_cast<uint8_t>(flags & ~0x08 & 0x0f);
      std::vector<std::byte> data = {std::byte{flags}, std::byte{255}, std::byte{255}};
      if (flags & 0x04) {
        const auto put_labels = [&](std::string_view name) {
          while (!name.empty()) {
            const std::string_view label = first_label(name);
            data.push_back(std::byte(label.size()));
            for (char c : label) data.push_back(std::byte(c));
            name = after_first_label(name);
          }
        };
        put_labels(hostname);
        if (!cfg.domain.empty()) {
          put_labels(cfg.domain);
          data.push_back(std::byte{0});
        }
      } else {
        std::string fq = hostname;
        if (!cfg.domain.empty()) fq += "." + cfg.domain;
        if (rq.null_term) fq.push_back('\0');
        for (char c : fq) data.push_back(std::byte(c));
      }
      m.set_option(opt::kClientFqdn, data);
    }
  }
  if (cfg.mtu != 0 && wants(opt::kInterfaceMtu)) m.set_u16(opt::kInterfaceMtu, cfg.mtu);
  if (cfg.bootp && !cfg.no_override && rq.msg.requested(opt::kBootfileName))
    m.set_string(opt::kBootfileName, cfg.bootp->file);
}

DhcpResult DhcpServer::nak(const Request& rq, const char* message) {
  DhcpMessage m = reply_base(rq, MessageType::kNak);
  m.flags |= kBroadcastFlag;  // RFC 2131 §4.1: NAKs through a relay are broadcast by it
  m.set_string(opt::kMessage, message);
  return finish(DhcpOutcome::kNak, rq, std::move(m));
}

DhcpResult DhcpServer::finish(DhcpOutcome outcome, const Request& rq, DhcpMessage m) {
  const ServerConfig& cfg = config();
  DhcpResult r = count(outcome);
  DhcpReply reply;
  DhcpBuildInfo info;
  reply.payload = build_dhcp(m, rq.max_reply_size, !cfg.no_override, &info);
  counters_.dropped_options += info.dropped_options;
  reply.type = *m.message_type();
  reply.src_ip = cfg.server_ip;
  // RFC 2131 §4.1, "If the 'giaddr' field ... is nonzero".
  if (!m.giaddr.is_zero()) {
    reply.dst_ip = m.giaddr;
    reply.dst_port = kDhcpServerPort;
    reply.dst_mac = rq.meta.src_mac;  // the relay
  } else if (reply.type == MessageType::kNak) {
    reply.broadcast = true;
  } else if (!m.ciaddr.is_zero()) {
    reply.dst_ip = m.ciaddr;
    reply.dst_mac = m.client_mac();
  } else if (m.broadcast()) {
    reply.broadcast = true;
  } else {
    reply.dst_ip = m.yiaddr;
    reply.dst_mac = m.client_mac();
  }
  if (reply.broadcast) {
    reply.dst_ip = Ipv4::broadcast();
    reply.dst_mac = Mac::broadcast();
  }
  r.reply = std::move(reply);
  return r;
}

}  // namespace vnet::dhcp
