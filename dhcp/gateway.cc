// vnet::dhcp — the gateway of one network. See gateway.h.
#include "dhcp/gateway.h"

#include <algorithm>
#include <stdexcept>

#include "dhcp/file_io.h"

namespace vnet::dhcp {

namespace {

constexpr size_t kDefaultMtu = 1500;
constexpr size_t kMinMtu = 576;         // RFC 791: every host accepts 576-byte datagrams
constexpr size_t kGiaddrOffset = 24;    // RFC 2131 §2, figure 1
constexpr size_t kLargeLeaseView = 1024;                   // leases
constexpr int64_t kLargeLeaseViewIntervalNs = 100'000'000; // 100 ms
constexpr int64_t kLargeLeaseFileIntervalNs = 1'000'000'000;  // 1 s

template <size_t N>
void add_into(std::array<uint64_t, N>& to, const std::array<uint64_t, N>& from) {
  for (size_t i = 0; i < N; ++i) to[i] += from[i];
}

DhcpCounters sum(const DhcpCounters& a, const DhcpCounters& b) {
  DhcpCounters r = a;
  add_into(r.outcome, b.outcome);
  add_into(r.parse_error, b.parse_error);
  r.dropped_options += b.dropped_options;
  return r;
}

DnsCounters sum(const DnsCounters& a, const DnsCounters& b) {
  DnsCounters r = a;
  add_into(r.outcome, b.outcome);
  add_into(r.parse_error, b.parse_error);
  r.truncated += b.truncated;
  return r;
}

TftpCounters sum(const TftpCounters& a, const TftpCounters& b) {
  TftpCounters r = a;
  add_into(r.value, b.value);
  return r;
}

Dhcp6Counters sum(const Dhcp6Counters& a, const Dhcp6Counters& b) {
  Dhcp6Counters r = a;
  add_into(r.outcome, b.outcome);
  return r;
}

std::span<const std::byte> as_bytes(std::span<const uint8_t> s) { return std::as_bytes(s); }
std::span<const uint8_t> as_u8(std::span<const std::byte> s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The header and question of `reply` with TC set: what a client gets when
// the full answer does not fit (RFC 2181 §9).
std::vector<std::byte> truncated_dns_reply(std::span<const std::byte> reply) {
  DnsMessage m;
  if (parse_dns(reply, m) != DnsParseError::kOk) {
    DnsHeader h;
    if (!parse_dns_header(reply, h)) return {};
    DnsWriter w(kDnsUdpMaxSize);
    h.flags |= DnsHeader::kTc;
    w.set_header(h);
    return w.finish();
  }
  DnsWriter w(kDnsUdpMaxSize, m.edns ? kDnsOptRecordSize : 0);
  DnsHeader h = m.header;
  h.flags |= DnsHeader::kTc;
  w.set_header(h);
  for (const DnsQuestion& q : m.questions) w.add_question(q);
  if (m.edns) w.add_opt(m.edns->udp_size, m.edns->ext_rcode, m.edns->version, m.edns->dnssec_ok);
  return w.finish();
}

}  // namespace

// A FrameSink that counts what the gateway's parts send, as Gateway::emit does.
class Gateway::CountingSink final : public FrameSink {
 public:
  CountingSink(Gateway& gw, FrameSink& out) : gw_(gw), out_(out) {}
  bool send(std::span<const uint8_t> frame, uint16_t vlan) override {
    const bool ok = out_.send(frame, vlan);
    gw_.count(ok ? GatewayCounter::kTxFrames : GatewayCounter::kTxDropped);
    return ok;
  }

 private:
  Gateway& gw_;
  FrameSink& out_;
};

// The TFTP server's datagrams, as UDP frames from the gateway.
class Gateway::TftpFrames final : public TftpOut {
 public:
  TftpFrames(Gateway& gw, FrameSink& out) : gw_(gw), out_(out) {}
  void send(Ipv4 local_ip, uint16_t local_port, const TftpPeer& to, std::span<const uint8_t> payload) override {
    const UdpEndpoints ep{gw_.config_.mac, to.mac, local_ip, to.ip, local_port, to.port};
    gw_.emit(out_, build_udp_frame(ep, payload, gw_.next_ip_id_++), to.vlan);
  }

 private:
  Gateway& gw_;
  FrameSink& out_;
};

// Complete DNS messages of TCP clients, answered like UDP queries.
class Gateway::TcpQueries final : public DnsTcpQueries {
 public:
  TcpQueries(Gateway& gw, const ParsedFrame& f, uint16_t vlan, FrameSink& out)
      : gw_(gw), client_{f.src_mac, f.src_ip, f.src_port, f.dst_ip, vlan, std::nullopt, std::nullopt, {}}, out_(out) {}
  void on_query(TcpConnRef conn, std::span<const std::byte> query) override {
    gw_.count(GatewayCounter::kDnsReceived);
    client_.tcp = conn;
    gw_.answer_dns(query, client_, out_);
  }

 private:
  Gateway& gw_;
  DnsClient client_;
  FrameSink& out_;
};

const char* to_string(GatewayCounter c) {
  switch (c) {
#define VNET_X(e, name) \
  case GatewayCounter::e: return name;
    VNET_GATEWAY_COUNTERS(VNET_X)
#undef VNET_X
    case GatewayCounter::kCount: break;
  }
  return "?";
}

std::string validate(const GatewayConfig& c) {
  if (c.mac.is_zero() || (c.mac.bytes[0] & 1) != 0) return "gateway MAC must be a unicast address";
  for (const Ipv4Interface& i : c.ipv4) {
    if (i.address.is_zero()) return "gateway IPv4 address 0.0.0.0";
    if (i.prefix_len == 0 || i.prefix_len > 32) return "bad IPv4 prefix length for " + i.address.to_string();
  }
  if (c.dhcp) {
    const ServerConfig& d = *c.dhcp;
    const auto it = std::find_if(c.ipv4.begin(), c.ipv4.end(),
                                 [&](const Ipv4Interface& i) { return i.address == d.server_ip; });
    if (it == c.ipv4.end()) return "DHCP server address " + d.server_ip.to_string() + " is not a gateway address";
    if (it->prefix_len != d.prefix_len) return "DHCP prefix differs from the <ip> prefix";
    for (const DhcpRange& r : d.ranges) {
      if (r.end < r.start) return "DHCP range " + r.start.to_string() + " - " + r.end.to_string() + " is reversed";
      if (!r.start.same_subnet(d.server_ip, d.prefix_len) || !r.end.same_subnet(d.server_ip, d.prefix_len))
        return "DHCP range " + r.start.to_string() + " - " + r.end.to_string() + " is not within the network";
    }
  }
  if (c.dhcp6) {
    const Dhcp6Config& d = *c.dhcp6;
    const IpAddress server = IpAddress::v6(d.server_ip);
    const auto it = std::find_if(c.ipv6.begin(), c.ipv6.end(),
                                 [&](const Ipv6Interface& i) { return i.address == server; });
    if (it == c.ipv6.end()) return "DHCPv6 server address " + server.to_string() + " is not a gateway address";
    if (it->prefix_len != d.prefix_len) return "DHCPv6 prefix differs from the <ip> prefix";
    for (const Dhcp6Range& r : d.ranges) {
      const std::string name = IpAddress::v6(r.start).to_string() + " - " + IpAddress::v6(r.end).to_string();
      // libvirt: both ends in the subnet, the first 112 bits equal, start <= end.
      if (!std::equal(r.start.begin(), r.start.begin() + 14, r.end.begin()) || r.end < r.start)
        return "DHCPv6 range " + name + " is reversed or larger than 65536 addresses";
      const auto in_net = [&](const Ipv6Bytes& a) {
        for (unsigned bit = 0; bit < d.prefix_len; ++bit)
          if (((a[bit / 8] ^ d.server_ip[bit / 8]) >> (7 - bit % 8)) & 1) return false;
        return true;
      };
      if (!in_net(r.start) || !in_net(r.end)) return "DHCPv6 range " + name + " is not within the network";
    }
  }
  return {};
}

// The names the DNS responder answers from leases: DHCPv4 and DHCPv6 alike.
class Gateway::LeaseNames final : public DynamicHosts {
 public:
  explicit LeaseNames(const Gateway& g) : g_(g) {}
  std::vector<IpAddress> named(std::string_view label) const override {
    std::vector<IpAddress> out;
    if (g_.leases_) out = g_.leases_->named(label);
    if (g_.dhcp6_)
      for (const Ipv6Bytes& a : g_.dhcp6_->addresses_named(label)) out.push_back(IpAddress::v6(a));
    return out;
  }
  std::optional<std::string> name_of(const IpAddress& a) const override {
    if (a.is_v4()) return g_.leases_ ? g_.leases_->name_of(a) : std::nullopt;
    return g_.dhcp6_ ? g_.dhcp6_->name_of(a.bytes) : std::nullopt;
  }

 private:
  const Gateway& g_;
};

Gateway::Gateway(GatewayConfig config, const Clock& clock, Rng& rng)
    : clock_(clock), rng_(rng), forwarder_(config.forwarder, clock, rng), tcp_(config.dns_tcp, clock, rng) {
  if (const std::string err = validate(config); !err.empty()) throw std::invalid_argument(err);
  lease_names_ = std::make_unique<LeaseNames>(*this);
  apply_config(std::move(config), true);
  publish_leases();
  publish_stats();
}

Gateway::~Gateway() {
  if (leases_dirty_) persist_leases();
}

// --- configuration -----------------------------------------------------------

std::string Gateway::update_config(GatewayConfig config) {
  if (std::string err = validate(config); !err.empty()) return err;
  std::lock_guard lock(mutex_);
  pending_config_ = std::move(config);
  return {};
}

void Gateway::apply_pending_and_announce(FrameSink& out) {
  std::optional<GatewayConfig> next;
  {
    std::lock_guard lock(mutex_);
    next.swap(pending_config_);
  }
  if (!next) return;
  const bool readdress = next->mac != config_.mac || next->ipv4 != config_.ipv4;
  apply_config(std::move(*next), false);
  count(GatewayCounter::kConfigApplied);
  if (!config_.dns.enabled && tcp_.connections() != 0) {
    CountingSink sink(*this, out);
    tcp_.abort_all(sink);  // port 53 is closed now
  }
  publish_leases();
  if (readdress) send_garp(out);
}

void Gateway::apply_config(GatewayConfig config, bool initial) {
  const std::string old_lease_file = config_.lease_file;
  const LeaseDb* old_leases = leases_.get();
  config_ = std::move(config);
  tcp_.set_local(config_.mac, mtu());
  // RAs as libvirt's dnsmasq sends them for ra-only ranges: every IPv6 <ip>,
  // unless one has DHCP (then libvirt writes enable-ra alone). dnsmasq lists
  // the prefixes in the order the kernel lists the bridge's addresses, the
  // newest first, and libvirt adds them in document order: last <ip> first.
  std::vector<Ipv6Addr> v6;
  RaConfig ra;
  const bool dhcp6 = std::any_of(config_.ipv6.begin(), config_.ipv6.end(), [](const Ipv6Interface& i) { return i.dhcp; });
  for (const Ipv6Interface& i : config_.ipv6) v6.push_back(i.address.bytes);
  if (!dhcp6) {
    for (auto i = config_.ipv6.rbegin(); i != config_.ipv6.rend(); ++i)
      ra.prefixes.push_back(RaConfig::Prefix{i->address.bytes, i->prefix_len});
  } else if (config_.dhcp6) {
    // enable-ra with a DHCPv6 range: managed, the prefix on-link only, its
    // lifetimes the range's lease time (dnsmasq radv.c caps them so).
    const Dhcp6Config& d = *config_.dhcp6;
    RaConfig::Prefix p{d.server_ip, d.prefix_len, false};
    const uint32_t lease = d.ranges.empty() || !d.ranges.front().lease_s ? kDefaultLease6S : *d.ranges.front().lease_s;
    p.valid_s = p.preferred_s = lease;
    ra.prefixes.push_back(p);
    ra.managed = true;
  }
  ra.router_lifetime_s = config_.routed ? 1800 : 0;  // isolated: libvirt's ra-param=*,0,0
  ra.mtu = static_cast<uint32_t>(mtu());
  ra.rdnss = config_.dns.enabled;
  ipv6_.configure(config_.mac, v6, config_.routed, std::move(ra));
  ipv6_.set_dhcp6(config_.dhcp6.has_value());

  if (leases_dirty_ && ((!config_.dhcp && leases_) || (!config_.dhcp6 && dhcp6_))) persist_leases();
  bool load_v4 = false, load_v6 = false;
  if (config_.dhcp) {
    if (!leases_) {
      leases_ = std::make_unique<LeaseDb>(*config_.dhcp, clock_);
      load_v4 = true;
      dhcp_ = std::make_unique<DhcpServer>(*leases_, clock_, rng_);
    } else {
      leases_->reconfigure(*config_.dhcp);
      if (config_.lease_file != old_lease_file) leases_dirty_ = true;
    }
  } else if (leases_) {
    dhcp_base_ = sum(dhcp_base_, dhcp_->counters());
    dhcp_.reset();
    leases_.reset();
  }
  if (config_.dhcp6) {
    if (!dhcp6_) {
      dhcp6_ = std::make_unique<Dhcp6Server>(*config_.dhcp6, clock_, rng_);
      load_v6 = true;
    } else {
      dhcp6_->reconfigure(*config_.dhcp6);
      if (config_.lease_file != old_lease_file) leases_dirty_ = true;
    }
  } else if (dhcp6_) {
    dhcp6_base_ = sum(dhcp6_base_, dhcp6_->counters());
    dhcp6_.reset();
  }
  if (load_v4 || load_v6) load_leases(load_v4, load_v6);
  if (!leases_ && !dhcp6_) leases_dirty_ = false;

  // TFTP: a new root or MTU starts a new server (running transfers end).
  TftpConfig tftp;
  if (config_.tftp_root) {
    tftp.root = *config_.tftp_root;
    tftp.mtu = mtu();
  }
  if (tftp_ && (!config_.tftp_root || tftp.root != tftp_config_.root || tftp.mtu != tftp_config_.mtu)) {
    tftp_base_ = sum(tftp_base_, tftp_->counters());
    tftp_.reset();
  }
  if (config_.tftp_root && !tftp_) {
    tftp_config_ = tftp;
    tftp_ = std::make_unique<TftpServer>(tftp, clock_, rng_);
  }

  if (!dns_ || initial || leases_.get() != old_leases) {
    if (dns_) dns_base_ = sum(dns_base_, dns_->counters());
    dns_ = std::make_unique<DnsResponder>(config_.dns, lease_names_.get());
  } else {
    dns_->reconfigure(config_.dns);
  }
}

void Gateway::load_leases(bool v4, bool v6) {
  if (v6) {
    // A new server DUID is written at once, so it survives a restart.
    dhcp6_saved_generation_ = dhcp6_->generation() - 1;
  }
  if (config_.lease_file.empty()) return;
  std::string text, error;
  switch (read_whole_file(config_.lease_file, text, &error)) {
    case ReadStatus::kMissing: return;
    case ReadStatus::kError:
      count(GatewayCounter::kLeaseLoadFailed);
      counters_.last_lease_error = config_.lease_file + ": " + error;
      return;
    case ReadStatus::kOk: break;
  }
  if (v4) counters_.lease_load = leases_->load(text);
  if (v6) {
    size_t corrupt = 0;
    const std::vector<std::byte> before = dhcp6_->duid();
    counters_.lease_load.loaded += dhcp6_->load(text, corrupt);
    counters_.lease_load.corrupt += corrupt;
    if (dhcp6_->duid() != before) dhcp6_saved_generation_ = dhcp6_->generation();
  }
}

void Gateway::persist_leases() {
  if ((!leases_ && !dhcp6_) || config_.lease_file.empty()) {
    leases_dirty_ = false;
    return;
  }
  std::string error;
  // dnsmasq's layout: the DHCPv4 leases, then the DHCPv6 section.
  std::string text = leases_ ? leases_->serialize() : std::string();
  if (dhcp6_) text += dhcp6_->serialize();
  if (write_file_atomic(config_.lease_file, text, &error)) {
    count(GatewayCounter::kLeaseWrites);
    leases_dirty_ = false;
    if (dhcp6_) dhcp6_saved_generation_ = dhcp6_->generation();
    last_write_ns_ = clock_.now_ns();
  } else {
    count(GatewayCounter::kLeaseWriteFailed);
    counters_.last_lease_error = config_.lease_file + ": " + error;
    next_write_attempt_s_ = clock_.now_s() + 1;
  }
}

void Gateway::publish_leases() {
  lease_view_stale_ = false;
  last_publish_ns_ = clock_.now_ns();
  std::vector<LeaseInfo> rows;
  next_expiry_s_ = kLeaseNever;
  if (leases_) {
    for (const Lease& l : leases_->active_leases()) {
      LeaseInfo row;
      row.expiry_s = l.expires_s == kLeaseNever ? 0 : l.expires_s;
      row.mac = l.client.mac;
      row.ip = IpAddress::v4(l.ip);
      row.prefix_len = config_.dhcp->prefix_len;
      row.hostname = l.hostname;
      if (!l.client.client_id.empty()) row.client_id = format_hex_colon(l.client.client_id);
      if (l.expires_s != kLeaseNever) next_expiry_s_ = std::min(next_expiry_s_, l.expires_s);
      rows.push_back(std::move(row));
    }
  }
  if (dhcp6_) {
    for (const Lease6& l : dhcp6_->active_leases()) {
      LeaseInfo row;
      row.expiry_s = l.expires_s == INT64_MAX ? 0 : l.expires_s;
      if (l.mac) row.mac = *l.mac;
      row.ip = IpAddress::v6(l.ip);
      row.prefix_len = dhcp6_->config().prefix_len;
      row.hostname = l.hostname;
      row.client_id = format_hex_colon(l.duid);
      row.iaid = l.iaid;
      if (l.expires_s != INT64_MAX) next_expiry_s_ = std::min(next_expiry_s_, l.expires_s);
      rows.push_back(std::move(row));
    }
  }
  published_count_ = rows.size();
  std::lock_guard lock(mutex_);
  published_leases_.swap(rows);
}

void Gateway::publish_stats() {
  counters_.dhcp = dhcp_ ? sum(dhcp_base_, dhcp_->counters()) : dhcp_base_;
  counters_.dns = dns_ ? sum(dns_base_, dns_->counters()) : dns_base_;
  counters_.forwarder = forwarder_.counters();
  counters_.dns_tcp = tcp_.counters();
  counters_.tftp = tftp_ ? sum(tftp_base_, tftp_->counters()) : tftp_base_;
  counters_.ipv6 = ipv6_.counters();
  counters_.dhcp6 = dhcp6_ ? sum(dhcp6_base_, dhcp6_->counters()) : dhcp6_base_;
  std::lock_guard lock(mutex_);
  published_stats_ = counters_;
}

std::vector<LeaseInfo> Gateway::leases(std::optional<Mac> mac) const {
  const int64_t now = clock_.now_s();
  std::lock_guard lock(mutex_);
  std::vector<LeaseInfo> out;
  for (const LeaseInfo& l : published_leases_) {
    if (l.expiry_s != 0 && l.expiry_s <= now) continue;
    if (mac && l.mac != *mac) continue;
    out.push_back(l);
  }
  return out;
}

GatewayStats Gateway::stats() const {
  std::lock_guard lock(mutex_);
  return published_stats_;
}

// --- frames ------------------------------------------------------------------

size_t Gateway::mtu() const {
  return config_.mtu == 0 ? kDefaultMtu : std::max<size_t>(config_.mtu, kMinMtu);
}

bool Gateway::is_our_ip(Ipv4 ip) const {
  return std::any_of(config_.ipv4.begin(), config_.ipv4.end(), [&](const Ipv4Interface& i) { return i.address == ip; });
}

void Gateway::emit(FrameSink& out, std::span<const uint8_t> frame, uint16_t vlan) {
  count(out.send(frame, vlan) ? GatewayCounter::kTxFrames : GatewayCounter::kTxDropped);
}

void Gateway::send_garp(FrameSink& out) {
  for (const Ipv4Interface& i : config_.ipv4) {
    // RFC 5227 §3: an ARP request with sender and target IP both ours.
    const ArpPacket garp{kArpOpRequest, config_.mac, i.address, Mac{}, i.address};
    emit(out, build_arp_frame(Mac::broadcast(), garp, config_.mac), 0);
    count(GatewayCounter::kArpGratuitousSent);
  }
}

void Gateway::start(FrameSink& out) {
  apply_pending_and_announce(out);
  send_garp(out);
  publish_stats();
}

void Gateway::on_frame(std::span<const uint8_t> frame, uint16_t vlan, FrameSink& out) {
  apply_pending_and_announce(out);
  count(GatewayCounter::kRxFrames);
  if (frame.size() >= kEthHeaderSize) {
    Mac dst;
    std::copy_n(frame.begin(), 6, dst.bytes.begin());
    if (dst != config_.mac && dst != Mac::broadcast() && !ipv6_.accepts_multicast(dst)) {
      count((dst.bytes[0] & 1) ? GatewayCounter::kEthMulticast : GatewayCounter::kEthNotForUs);
      publish_stats();
      return;
    }
  }
  ParsedFrame f;
  const FrameError err = parse_frame(frame, f);
  if (err != FrameError::kOk) {
    count(GatewayCounter::kMalformed);
    ++counters_.frame_error[static_cast<size_t>(err)];
    publish_stats();
    return;
  }
  switch (f.kind) {
    case ParsedFrame::Kind::kArp: on_arp(f, vlan, out); break;
    case ParsedFrame::Kind::kIcmp: on_icmp(f, vlan, out); break;
    case ParsedFrame::Kind::kUdp: on_udp(f, vlan, out); break;
    case ParsedFrame::Kind::kTcp: on_tcp(f, vlan, out); break;
    case ParsedFrame::Kind::kOtherIpv4:
      count(is_our_ip(f.dst_ip) ? GatewayCounter::kIpv4OtherProto : GatewayCounter::kIpv4NotForUs);
      break;
    case ParsedFrame::Kind::kIpv6:
      count(GatewayCounter::kIpv6Frames);
      on_ipv6(frame, vlan, out);
      break;
    case ParsedFrame::Kind::kOther: count(GatewayCounter::kEthOtherType); break;
  }
  publish_stats();
}

void Gateway::on_arp(const ParsedFrame& f, uint16_t vlan, FrameSink& out) {
  const ArpPacket& a = f.arp;
  if (is_our_ip(a.sender_ip) && a.sender_mac != config_.mac) count(GatewayCounter::kArpConflict);
  if (a.op != kArpOpRequest) {
    count(GatewayCounter::kArpNotRequest);
    return;
  }
  if (!is_our_ip(a.target_ip) || a.sender_mac == config_.mac) {
    count(GatewayCounter::kArpNotForUs);
    return;
  }
  const ArpPacket reply{kArpOpReply, config_.mac, a.target_ip, a.sender_mac, a.sender_ip};
  emit(out, build_arp_frame(f.src_mac, reply, config_.mac), vlan);
  count(GatewayCounter::kArpReplied);
}

void Gateway::on_icmp(const ParsedFrame& f, uint16_t vlan, FrameSink& out) {
  // Echo requests to a broadcast address are ignored, as Linux does by default.
  if (!is_our_ip(f.dst_ip)) {
    count(GatewayCounter::kIpv4NotForUs);
    return;
  }
  if (f.icmp_type != kIcmpEchoRequest || f.icmp_code != 0) {
    count(GatewayCounter::kIcmpIgnored);
    return;
  }
  std::vector<uint8_t> reply(f.icmp_message.begin(), f.icmp_message.end());
  reply[0] = kIcmpEchoReply;  // identifier, sequence and data are echoed (RFC 792)
  emit(out, build_icmp_frame(config_.mac, f.src_mac, f.dst_ip, f.src_ip, reply, next_ip_id_++), vlan);
  count(GatewayCounter::kIcmpEchoReplied);
}

void Gateway::send_port_unreachable(const ParsedFrame& f, uint16_t vlan, FrameSink& out) {
  count(GatewayCounter::kUdpPortUnreachable);
  // RFC 1122 §3.2.2: no ICMP error about a datagram without a single-host source.
  if (f.src_ip.is_zero() || f.src_ip == Ipv4::broadcast()) return;
  const size_t ihl = size_t{f.ip_packet[0] & 0x0fu} * 4;
  const size_t quoted = std::min(f.ip_packet.size(), ihl + 8);  // RFC 792: header + 64 bits
  std::vector<uint8_t> icmp(kIcmpHeaderSize, 0);
  icmp[0] = kIcmpDestUnreachable;
  icmp[1] = kIcmpPortUnreachable;
  icmp.insert(icmp.end(), f.ip_packet.begin(), f.ip_packet.begin() + static_cast<ptrdiff_t>(quoted));
  emit(out, build_icmp_frame(config_.mac, f.src_mac, f.dst_ip, f.src_ip, icmp, next_ip_id_++), vlan);
}

void Gateway::on_udp(const ParsedFrame& f, uint16_t vlan, FrameSink& out) {
  const bool to_us = is_our_ip(f.dst_ip);
  bool broadcast = f.dst_ip == Ipv4::broadcast();
  for (const Ipv4Interface& i : config_.ipv4)
    if (i.prefix_len < 31 && f.dst_ip == i.address.subnet_broadcast(i.prefix_len)) broadcast = true;

  if (f.dst_port == kDhcpServerPort && (to_us || broadcast)) {
    on_dhcp(f, vlan, out);
    return;
  }
  if (!to_us) {
    count(broadcast ? GatewayCounter::kUdpBroadcastIgnored : GatewayCounter::kIpv4NotForUs);
    return;
  }
  if (tftp_ && (f.dst_port == kTftpPort || tftp_->owns(f.dst_port))) {
    on_tftp(f, vlan, out);
    return;
  }
  if (f.dst_port == kDnsPort) {
    if (config_.dns.enabled) {
      on_dns(f, vlan, out);
      return;
    }
    count(GatewayCounter::kDnsDisabled);  // dnsmasq port=0: nobody listens
  }
  send_port_unreachable(f, vlan, out);
}

void Gateway::on_ipv6(std::span<const uint8_t> frame, uint16_t vlan, FrameSink& out) {
  CountingSink sink(*this, out);
  Ipv6Packet p;
  if (!parse_ipv6(frame.subspan(kEthHeaderSize), p)) {
    ipv6_.on_frame(frame, vlan, sink);  // counted malformed there
    return;
  }
  const bool dhcp6_group = p.dst == Ipv6Host::dhcp6_group();
  if (p.next_header != kIpProtoUdp || (!ipv6_.is_ours(p.dst) && !(dhcp6_group && dhcp6_))) {
    ipv6_.on_packet(frame, p, vlan, sink);
    return;
  }
  const std::optional<Ipv6Host::Udp> u = ipv6_.udp_of(p);
  if (!u) return;
  if (u->dst_port == kDhcp6ServerPort) {
    on_dhcp6(frame, p, *u, vlan, out);
    return;
  }
  if (dhcp6_group) return;  // not a DHCPv6 message: nothing of ours listens there
  if (u->dst_port == kDnsPort && config_.dns.enabled) {
    count(GatewayCounter::kDnsReceived);
    DnsClient client;
    std::copy_n(frame.begin() + 6, 6, client.mac.bytes.begin());
    client.port = u->src_port;
    client.vlan = vlan;
    client.ip6 = p.src;
    client.server_ip6 = p.dst;
    answer_dns(as_bytes(u->payload), client, out);
    return;
  }
  if (u->dst_port == kDnsPort) count(GatewayCounter::kDnsDisabled);
  ipv6_.send_port_unreachable(frame, p, vlan, sink);
}

void Gateway::on_dhcp6(std::span<const uint8_t> frame, const Ipv6Packet& p, const Ipv6Host::Udp& u, uint16_t vlan,
                        FrameSink& out) {
  count(GatewayCounter::kDhcp6Received);
  CountingSink sink(*this, out);
  if (!dhcp6_) {
    count(GatewayCounter::kDhcp6Disabled);
    ipv6_.send_port_unreachable(frame, p, vlan, sink);
    return;
  }
  Mac client;
  std::copy_n(frame.begin() + 6, 6, client.bytes.begin());
  Dhcp6Result r = dhcp6_->handle(as_bytes(u.payload), client, p.dst == Ipv6Host::dhcp6_group());
  if (r.leases_changed) {
    leases_dirty_ = true;
    lease_view_stale_ = true;
  }
  if (r.reply.empty()) return;
  // From our link-local address to the client's, port 546 (RFC 8415 §18.3).
  emit(out, build_udp6_frame(config_.mac, client, link_local_of(config_.mac), p.src, kDhcp6ServerPort, u.src_port,
                             as_u8(r.reply)),
       vlan);
  count(GatewayCounter::kDhcp6Replied);
}

void Gateway::on_tftp(const ParsedFrame& f, uint16_t vlan, FrameSink& out) {
  count(GatewayCounter::kTftpDatagrams);
  TftpFrames frames(*this, out);
  const TftpPeer from{f.src_mac, f.src_ip, f.src_port, vlan};
  if (f.dst_port == kTftpPort) {
    tftp_->on_request(f.dst_ip, from, f.udp_payload, frames);
  } else {
    tftp_->on_datagram(f.dst_port, from, f.udp_payload, frames);
  }
}

void Gateway::on_dhcp(const ParsedFrame& f, uint16_t vlan, FrameSink& out) {
  count(GatewayCounter::kDhcpReceived);
  if (!dhcp_) {
    count(GatewayCounter::kDhcpDisabled);
    if (is_our_ip(f.dst_ip)) send_port_unreachable(f, vlan, out);
    return;
  }
  const std::span<const uint8_t> p = f.udp_payload;
  if (p.size() >= kGiaddrOffset + 4 && std::any_of(p.begin() + kGiaddrOffset, p.begin() + kGiaddrOffset + 4,
                                                   [](uint8_t b) { return b != 0; })) {
    count(GatewayCounter::kDhcpRelayed);
    return;
  }
  const RxMeta meta{f.src_mac, f.src_ip, f.dst_ip};
  DhcpResult r = dhcp_->handle(as_bytes(p), meta);
  if (r.leases_changed) {
    leases_dirty_ = true;
    lease_view_stale_ = true;
  }
  if (!r.reply) return;
  const DhcpReply& reply = *r.reply;
  const UdpEndpoints ep{config_.mac, reply.dst_mac, reply.src_ip, reply.dst_ip, kDhcpServerPort, reply.dst_port};
  emit(out, build_udp_frame(ep, as_u8(reply.payload), next_ip_id_++), vlan);
  count(GatewayCounter::kDhcpReplied);
}

void Gateway::send_dns(const DnsClient& c, std::vector<std::byte> reply, FrameSink& out) {
  const size_t ip_header = c.ip6 ? kIpv6HeaderSize : kIpv4HeaderSize;
  if (reply.size() > mtu() - ip_header - kUdpHeaderSize) {
    reply = truncated_dns_reply(reply);
    count(GatewayCounter::kDnsTruncatedToMtu);
    if (reply.empty()) return;
  }
  if (c.ip6) {
    emit(out, build_udp6_frame(config_.mac, c.mac, c.server_ip6, *c.ip6, kDnsPort, c.port, as_u8(reply)), c.vlan);
    return;
  }
  const UdpEndpoints ep{config_.mac, c.mac, c.server_ip, c.ip, kDnsPort, c.port};
  emit(out, build_udp_frame(ep, as_u8(reply), next_ip_id_++), c.vlan);
}

void Gateway::deliver_dns(const DnsClient& client, std::vector<std::byte> reply, bool deferred, FrameSink& out) {
  if (client.tcp) {
    CountingSink sink(*this, out);
    tcp_.answer(*client.tcp, reply, deferred, sink);
    return;
  }
  send_dns(client, std::move(reply), out);
}

void Gateway::on_dns(const ParsedFrame& f, uint16_t vlan, FrameSink& out) {
  count(GatewayCounter::kDnsReceived);
  const DnsClient client{f.src_mac, f.src_ip, f.src_port, f.dst_ip, vlan, std::nullopt, std::nullopt, {}};
  answer_dns(as_bytes(f.udp_payload), client, out);
}

void Gateway::on_tcp(const ParsedFrame& f, uint16_t vlan, FrameSink& out) {
  if (!is_our_ip(f.dst_ip)) {
    count(GatewayCounter::kIpv4NotForUs);
    return;
  }
  CountingSink sink(*this, out);
  if (f.dst_port == kDnsPort && config_.dns.enabled) {
    count(GatewayCounter::kDnsTcpSegments);
    TcpQueries queries(*this, f, vlan, out);
    tcp_.on_segment(f, vlan, queries, sink);
    return;
  }
  if (f.dst_port == kDnsPort) count(GatewayCounter::kDnsDisabled);
  count(GatewayCounter::kTcpPortClosed);
  tcp_.reset(f, vlan, sink);
}

void Gateway::answer_dns(std::span<const std::byte> query, const DnsClient& client, FrameSink& out) {
  const DnsTransport transport = client.tcp ? DnsTransport::kTcp : DnsTransport::kUdp;
  DnsAnswer a = dns_->answer(query, transport);
  switch (a.action) {
    case DnsAnswer::Action::kDrop: count(GatewayCounter::kDnsNoReply); return;
    case DnsAnswer::Action::kReply:
      deliver_dns(client, std::move(a.reply), false, out);
      count(GatewayCounter::kDnsReplied);
      return;
    case DnsAnswer::Action::kForward: break;
  }
  const uint64_t cookie = next_cookie_++;
  switch (forwarder_.submit(cookie, query, std::move(a.upstreams), transport)) {
    case DnsForwarder::SubmitResult::kQueued:
      dns_clients_.emplace(cookie, client);
      if (client.tcp) tcp_.defer(*client.tcp);
      count(GatewayCounter::kDnsForwarded);
      return;
    case DnsForwarder::SubmitResult::kFull:
      count(GatewayCounter::kDnsForwardFull);  // dnsmasq drops beyond dns-forward-max
      if (client.tcp) {
        deliver_dns(client, make_dns_error_reply(query, Rcode::kServFail), false, out);
        count(GatewayCounter::kDnsReplied);
      }
      return;
    case DnsForwarder::SubmitResult::kBadQuery:
    case DnsForwarder::SubmitResult::kNoUpstream:
      deliver_dns(client, make_dns_error_reply(query, Rcode::kServFail), false, out);
      count(GatewayCounter::kDnsReplied);
      return;
  }
}

void Gateway::on_tick(FrameSink& out) {
  apply_pending_and_announce(out);

  forward_results_.clear();
  forwarder_.process(forward_results_);
  for (ForwardResult& r : forward_results_) {
    const auto it = dns_clients_.find(r.cookie);
    if (it == dns_clients_.end()) continue;
    deliver_dns(it->second, std::move(r.reply), true, out);
    count(GatewayCounter::kDnsForwardReplied);
    dns_clients_.erase(it);
  }
  {
    CountingSink sink(*this, out);
    tcp_.on_tick(sink);
  }
  if (tftp_) {
    TftpFrames frames(*this, out);
    tftp_->on_tick(frames);
  }
  {
    CountingSink sink(*this, out);
    ipv6_.on_tick(clock_.now_ns(), rng_, sink);
  }

  const int64_t now = clock_.now_s();
  if ((leases_ || dhcp6_) && now != last_expire_s_) {
    last_expire_s_ = now;
    if (leases_) leases_->expire();
    if (dhcp6_) dhcp6_->expire();
    if (dhcp6_ && dhcp6_->generation() != dhcp6_saved_generation_) leases_dirty_ = true;
    if (now >= next_expiry_s_) {
      lease_view_stale_ = true;
      leases_dirty_ = true;  // the file drops expired leases, as dnsmasq's does
    }
  }
  // A large lease view is rebuilt at most every kLargeLeaseViewIntervalNs:
  // copying and sorting tens of thousands of leases every tick would take
  // the service thread's time from DHCP itself.
  if (lease_view_stale_ && (published_count_ <= kLargeLeaseView ||
                            clock_.now_ns() - last_publish_ns_ >= kLargeLeaseViewIntervalNs))
    publish_leases();
  // The same for the lease file (write-temp + fsync + rename of every lease):
  // under a DHCP storm, rewriting a large file every tick would keep the
  // service thread and the disk busy for nothing. A crash loses at most the
  // last second of changes, which clients recover by renewing.
  if (leases_dirty_ && now >= next_write_attempt_s_ &&
      (published_count_ <= kLargeLeaseView || clock_.now_ns() - last_write_ns_ >= kLargeLeaseFileIntervalNs))
    persist_leases();
  publish_stats();
}

}  // namespace vnet::dhcp
