// vnet::dhcp — the DHCPv6 server. See dhcpv6_server.h.
#include "dhcp/dhcpv6_server.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "dhcp/dhcp_config.h"
#include "dhcp/host_names.h"
#include "dhcp/lease_db.h"

namespace vnet::dhcp {

namespace {

constexpr int64_t kNever = INT64_MAX;
constexpr uint32_t kInfinite = 0xffffffffu;
constexpr int64_t kDuidEpoch = 946684800;  // 2000-01-01, DUID-LLT's time base (RFC 8415 §11.2)

uint64_t low64(const Ipv6Bytes& a) {
  uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = (v << 8) | a[i];
  return v;
}

Ipv6Bytes with_low64(Ipv6Bytes a, uint64_t v) {
  for (int i = 15; i >= 8; --i) {
    a[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
  return a;
}

bool same_net(const Ipv6Bytes& a, const Ipv6Bytes& b, unsigned prefix) {
  for (unsigned bit = 0; bit < prefix && bit < 128; bit += 8) {
    const unsigned left = prefix - bit;
    const uint8_t mask = left >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - left));
    if ((a[bit / 8] & mask) != (b[bit / 8] & mask)) return false;
  }
  return true;
}

bool bytes_equal(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::span<const std::byte> as_span(const Ipv6Bytes& a) { return std::as_bytes(std::span(a)); }

std::string ip_text(const Ipv6Bytes& a) { return IpAddress::v6(a).to_string(); }

// The Client FQDN option's name (RFC 4704 §4.2): labels until a zero or the end.
std::string fqdn_name(std::span<const std::byte> data) {
  std::string out;
  const size_t len = data.size() - 1;  // after the flags
  if (len == 0 || len >= 255) return out;
  size_t p = 1;
  while (p < data.size()) {
    const size_t l = std::to_integer<uint8_t>(data[p]);
    if (l == 0 || p - 1 + l >= len) break;  // dnsmasq: the label must end inside the option
    if (!out.empty()) out.push_back('.');
    for (size_t i = 0; i < l; ++i) out.push_back(static_cast<char>(std::to_integer<uint8_t>(data[p + 1 + i])));
    p += l + 1;
  }
  return out;
}

void put_name(std::vector<std::byte>& out, std::string_view name) {
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t dot = name.find('.', pos);
    if (dot == std::string_view::npos) dot = name.size();
    const std::string_view label = name.substr(pos, dot - pos);
    if (!label.empty()) {
      out.push_back(std::byte(label.size()));
      for (char c : label) out.push_back(std::byte(static_cast<uint8_t>(c)));
    }
    pos = dot + 1;
  }
}

}  // namespace

const char* to_string(Dhcp6Outcome o) {
  switch (o) {
#define VNET_X(e, name) \
  case Dhcp6Outcome::e: return name;
    VNET_DHCP6_OUTCOMES(VNET_X)
#undef VNET_X
    case Dhcp6Outcome::kCount: break;
  }
  return "?";
}

// What one message has established about its client, and the reply so far.
struct Dhcp6Server::State {
  State(uint8_t type, uint32_t xid) : out(type, xid) {}
  const Dhcp6Message* msg = nullptr;
  Dhcp6Writer out;
  Mac mac;
  std::span<const std::byte> clid;
  const Dhcp6Host* host = nullptr;  // dnsmasq's `config`
  std::string hostname;             // "" = none
  bool hostname_auth = false;       // from a <host> found by DUID
  bool send_domain = false;         // qualify the FQDN answer with the domain
  uint8_t fqdn_flags = 0x01;
  bool lease_allocate = false;
  uint16_t ia_type = opt6::kIaNa;
  uint32_t iaid = 0;
  bool host_address_used = false;   // dnsmasq CONTEXT_CONF_USED, once per message
  bool changed = false;
};

Dhcp6Server::Dhcp6Server(Dhcp6Config config, const Clock& clock, Rng& rng)
    : config_(std::move(config)), clock_(clock), rng_(rng) {
  make_duid();
}

void Dhcp6Server::reconfigure(Dhcp6Config config) { config_ = std::move(config); }

void Dhcp6Server::make_duid() {
  const int64_t t = std::max<int64_t>(clock_.now_s() - kDuidEpoch, 0);
  duid_.clear();
  for (uint8_t b : {0, 1, 0, 1}) duid_.push_back(std::byte{b});  // DUID-LLT, Ethernet
  for (int shift = 24; shift >= 0; shift -= 8) duid_.push_back(std::byte((t >> shift) & 0xff));
  for (uint8_t b : config_.server_mac.bytes) duid_.push_back(std::byte{b});
}

Dhcp6Result Dhcp6Server::count(Dhcp6Outcome o) {
  ++counters_.outcome[static_cast<size_t>(o)];
  Dhcp6Result r;
  r.outcome = o;
  return r;
}

bool Dhcp6Server::in_subnet(const Ipv6Bytes& a) const { return same_net(a, config_.server_ip, config_.prefix_len); }

const Dhcp6Range* Dhcp6Server::range_of(const Ipv6Bytes& a) const {
  for (const Dhcp6Range& r : config_.ranges)
    if (in_subnet(a) && same_net(a, r.start, 64) && low64(a) >= low64(r.start) && low64(a) <= low64(r.end))
      return &r;
  return nullptr;
}

uint32_t Dhcp6Server::range_lease(const Dhcp6Range* r) const {
  // An address on the link but in no range: the first range's time (dnsmasq's
  // address6_valid returns the first context of the prefix).
  if (!r && !config_.ranges.empty()) r = &config_.ranges.front();
  return r && r->lease_s ? *r->lease_s : kDefaultLease6S;
}

const Dhcp6Host* Dhcp6Server::host_by_ip(const Ipv6Bytes& a) const {
  for (const Dhcp6Host& h : config_.hosts)
    if (h.ip == a) return &h;
  return nullptr;
}

bool Dhcp6Server::free_for(const State& s, const Ipv6Bytes& a) const {
  const auto it = leases_.find(a);
  if (it == leases_.end() || !(it->second.expires_s > clock_.now_s())) return true;
  const Lease6& l = it->second;
  return bytes_equal(l.duid, s.clid) && l.iaid == s.iaid;
}

bool Dhcp6Server::host_address_free(const State& s, Ipv6Bytes& out) const {
  if (!s.host || !in_subnet(s.host->ip)) return false;
  if (const auto d = declined_.find(s.host->ip); d != declined_.end() && d->second > clock_.now_s()) return false;
  if (!free_for(s, s.host->ip)) return false;
  out = s.host->ip;
  return true;
}

std::optional<Ipv6Bytes> Dhcp6Server::allocate(const State& s, uint32_t iaid, bool temporary, unsigned) {
  uint64_t j = 0;
  if (temporary) {
    j = rng_.next_u64();
  } else {
    j = iaid;
    for (std::byte b : s.clid) j = std::to_integer<uint8_t>(b) + (j << 6) + (j << 16) - j;
  }
  const int64_t now = clock_.now_s();
  for (const Dhcp6Range& r : config_.ranges) {
    const uint64_t first = low64(r.start), last = low64(r.end);
    const uint64_t size = last - first + 1;
    const uint64_t offset = size == 0 ? j + addr_epoch_ : (j + addr_epoch_) % size;
    const uint64_t start = first + offset;
    uint64_t addr = start;
    do {
      const Ipv6Bytes a = with_low64(r.start, addr);
      const auto leased = leases_.find(a);
      const bool in_use = leased != leases_.end() && leased->second.expires_s > now;
      if (addr != low64(config_.server_ip) && !in_use && !host_by_ip(a)) return a;
      ++addr;
      if (addr == last + 1) addr = first;
    } while (addr != start);
  }
  return std::nullopt;
}

Lease6* Dhcp6Server::find_lease(const State& s, bool temporary, uint32_t iaid, const Ipv6Bytes& a) {
  const auto it = leases_.find(a);
  if (it == leases_.end()) return nullptr;
  Lease6& l = it->second;
  if (l.expires_s <= clock_.now_s() || l.temporary != temporary || l.iaid != iaid || !bytes_equal(l.duid, s.clid))
    return nullptr;
  return &l;
}

// dnsmasq calculate_times(): the client's wishes shorten the lease time (to
// no less than 120 s) unless it asks for a preferred time above the valid one.
static void calculate_times(uint32_t lease_s, const Dhcp6Ia::Address* asked, uint32_t& min_time, uint32_t& valid,
                            uint32_t& preferred) {
  valid = preferred = lease_s;
  const uint32_t rp = asked ? asked->preferred : 0, rv = asked ? asked->valid : 0;
  if (rp <= rv) {
    if (rp != 0) preferred = std::min(preferred, std::max(rp, kMinLeaseS));
    if (rv != 0) valid = std::min(valid, std::max(rv, kMinLeaseS));
  }
  // A client asking only for a shorter valid lifetime would get a preferred
  // lifetime above it from dnsmasq, and must then discard the address (RFC
  // 8415 §21.6): the preferred lifetime never exceeds the valid one here.
  preferred = std::min(preferred, valid);
  if (preferred != 0 && preferred < min_time) min_time = preferred;
  if (valid != 0 && valid < min_time) min_time = valid;
}

void Dhcp6Server::add_address(State& s, const Ipv6Bytes& a, uint32_t lease_s, const Dhcp6Ia::Address* asked,
                              uint32_t& min_time) {
  uint32_t valid = 0, preferred = 0;
  calculate_times(lease_s, asked, min_time, valid, preferred);
  const size_t at = s.out.begin(opt6::kIaAddr);
  s.out.put_bytes(as_span(a));
  s.out.put_u32(preferred);
  s.out.put_u32(valid);
  s.out.end(at);
  if (s.lease_allocate) update_lease(s, a, valid);
}

void Dhcp6Server::set_name(State& s, Lease6& l) {
  if (s.hostname.empty() || s.ia_type != opt6::kIaNa) return;
  if (!config_.domain.empty()) s.send_domain = true;
  if (names_equal(l.hostname, s.hostname) && (l.hostname_from_config || !s.hostname_auth)) return;
  // A name is one lease's (per family, as dnsmasq's lease_set_hostname): a
  // configured name takes it from a client-chosen one, not the other way.
  const int64_t now = clock_.now_s();
  for (auto& [ip, other] : leases_) {
    if (&other == &l || other.expires_s <= now || !names_equal(other.hostname, s.hostname)) continue;
    if (other.hostname_from_config && !s.hostname_auth) return;
    other.hostname.clear();
    other.hostname_from_config = false;
  }
  l.hostname = s.hostname;
  l.hostname_from_config = s.hostname_auth;
}

void Dhcp6Server::update_lease(State& s, const Ipv6Bytes& a, uint32_t valid_s) {
  Lease6& l = leases_[a];
  l.ip = a;
  l.duid.assign(s.clid.begin(), s.clid.end());
  l.iaid = s.iaid;
  l.temporary = s.ia_type == opt6::kIaTa;
  l.expires_s = valid_s == kInfinite ? kNever : clock_.now_s() + valid_s;
  l.mac = s.mac;
  set_name(s, l);
  s.changed = true;
}

void Dhcp6Server::end_ia(State& s, size_t t1_at, uint32_t min_time, bool fuzz) {
  if (t1_at == 0) return;
  uint32_t f = 0;
  if (fuzz) {
    f = rng_.next_u16();
    while (f > min_time / 16) f /= 2;
  }
  const uint32_t t1 = min_time == kInfinite ? kInfinite : min_time / 2 - f;
  const uint32_t t2 = min_time == kInfinite ? kInfinite : (min_time / 8) * 7 - f;
  s.out.patch_u32(t1_at, t1);
  s.out.patch_u32(t1_at + 4, t2);
}

// Opens the reply's copy of the IA; returns where T1 goes (0 for IA_TA).
static size_t build_ia(Dhcp6Writer& out, uint16_t type, uint32_t iaid, size_t& ia_at) {
  ia_at = out.begin(type);
  out.put_u32(iaid);
  if (type != opt6::kIaNa) return 0;
  const size_t t1 = out.size();
  out.put_u32(0);
  out.put_u32(0);
  return t1;
}

// Solicit (and a Request without addresses): see the header.
void Dhcp6Server::solicit_ias(State& s, bool commit) {
  s.lease_allocate = commit;
  bool assigned_any = false;
  const int64_t now = clock_.now_s();
  unsigned ia_counter = 0;
  for (const Dhcp6Option& o : s.msg->options.list) {
    const std::optional<Dhcp6Ia> ia = parse_ia(o);
    if (!ia) continue;
    s.ia_type = ia->type;
    s.iaid = ia->iaid;
    size_t ia_at = 0;
    const size_t t1_at = build_ia(s.out, ia->type, ia->iaid, ia_at);
    uint32_t min_time = kInfinite;
    bool assigned = false;
    for (const Dhcp6Ia::Address& asked : ia->addresses) {
      ++ia_counter;
      if (!in_subnet(asked.address)) continue;
      Ipv6Bytes a = asked.address;
      uint32_t lease_s = range_lease(range_of(a));
      Ipv6Bytes host_ip;
      if (!s.host_address_used && host_address_free(s, host_ip)) {
        a = host_ip;
        s.host_address_used = true;
        if (s.host->lease_s) lease_s = *s.host->lease_s;
      } else if (!range_of(a) || !free_for(s, a)) {
        continue;
      }
      add_address(s, a, lease_s, &asked, min_time);
      assigned = true;
    }
    Ipv6Bytes host_ip;
    if (!s.host_address_used && host_address_free(s, host_ip)) {
      s.host_address_used = true;
      add_address(s, host_ip, s.host->lease_s ? *s.host->lease_s : range_lease(range_of(host_ip)), nullptr,
                  min_time);
      assigned = true;
    }
    std::vector<Ipv6Bytes> mine;
    for (const auto& [ip, l] : leases_)
      if (l.expires_s > now && l.temporary == (ia->type == opt6::kIaTa) && l.iaid == ia->iaid &&
          bytes_equal(l.duid, s.clid) && range_of(ip))
        mine.push_back(ip);
    for (const Ipv6Bytes& a : mine) {
      add_address(s, a, range_lease(range_of(a)), nullptr, min_time);
      assigned = true;
    }
    if (!assigned) {
      if (const auto a = allocate(s, ia->iaid, ia->type == opt6::kIaTa, ia_counter)) {
        add_address(s, *a, range_lease(range_of(*a)), nullptr, min_time);
        assigned = true;
      }
    }
    if (!assigned) s.out.status(Dhcp6Status::kNoAddrsAvail, "address unavailable");
    end_ia(s, t1_at, min_time, false);
    s.out.end(ia_at);
    assigned_any = assigned_any || assigned;
  }
  if (assigned_any) {
    s.out.status(Dhcp6Status::kSuccess, "success");
    s.out.option_u8(opt6::kPreference, config_.authoritative ? 255 : 0);
  } else {
    s.out.status(Dhcp6Status::kNoAddrsAvail, "no addresses available");
  }
}

void Dhcp6Server::add_options(State& s, bool refresh) {
  if (config_.send_dns) s.out.option(opt6::kDnsServers, as_span(config_.server_ip));
  if (refresh) {
    uint32_t t = kInfinite;
    for (const Dhcp6Range& r : config_.ranges) {
      const uint32_t l = r.lease_s ? *r.lease_s : kDefaultLease6S;
      if (l < t) t = std::max(l, kMinRefreshS);
    }
    if (config_.ranges.empty()) t = kDefaultLease6S;  // the static context's default time
    s.out.option_u32(opt6::kRefreshTime, t);
  }
  if (!s.hostname.empty()) {
    std::vector<std::byte> v;
    v.push_back(std::byte{s.fqdn_flags});
    put_name(v, s.hostname);
    if (s.send_domain) {
      put_name(v, config_.domain);
      v.push_back(std::byte{0});
    }
    s.out.option(opt6::kFqdn, v);
  }
}

Dhcp6Result Dhcp6Server::handle(std::span<const std::byte> payload, const Mac& client_mac, bool multicast) {
  const std::optional<Dhcp6Message> parsed = parse_dhcpv6(payload);
  if (!parsed) return count(Dhcp6Outcome::kMalformed);
  const Dhcp6Message& m = *parsed;
  if (m.options.truncated) ++counters_.outcome[static_cast<size_t>(Dhcp6Outcome::kTruncatedOptions)];
  const auto type = static_cast<Dhcp6Type>(m.type);
  switch (type) {
    case Dhcp6Type::kSolicit: case Dhcp6Type::kRequest: case Dhcp6Type::kConfirm: case Dhcp6Type::kRenew:
    case Dhcp6Type::kRebind: case Dhcp6Type::kRelease: case Dhcp6Type::kDecline:
    case Dhcp6Type::kInformationRequest:
      break;
    case Dhcp6Type::kRelayForward: return count(Dhcp6Outcome::kRelayIgnored);
    default: return count(Dhcp6Outcome::kUnexpectedType);
  }
  if (!multicast) return count(Dhcp6Outcome::kUnicastIgnored);

  State s(m.type, m.xid);
  s.msg = &m;
  s.mac = client_mac;
  if (const Dhcp6Option* c = m.options.find(opt6::kClientId, 1)) {
    s.clid = c->data;
    s.out.option(opt6::kClientId, c->data);
  } else if (type != Dhcp6Type::kInformationRequest) {
    return count(Dhcp6Outcome::kNoClientId);
  }
  const Dhcp6Option* sid = m.options.find(opt6::kServerId, 1);
  const bool ours = sid && bytes_equal(sid->data, duid_);
  if (type == Dhcp6Type::kSolicit || type == Dhcp6Type::kConfirm || type == Dhcp6Type::kRebind) {
    if (sid) return count(Dhcp6Outcome::kServerIdMismatch);
  } else if (type == Dhcp6Type::kInformationRequest) {
    if (sid && !ours) return count(Dhcp6Outcome::kServerIdMismatch);
  } else if (!ours) {
    return count(Dhcp6Outcome::kServerIdMismatch);
  }
  s.out.option(opt6::kServerId, duid_);

  // The client's name and host (dnsmasq: find_config by DUID, then by name).
  std::string client_name;
  if (const Dhcp6Option* f = m.options.find(opt6::kFqdn, 1)) {
    s.fqdn_flags = std::to_integer<uint8_t>(f->data[0]);
    if (!(s.fqdn_flags & 0x01)) s.fqdn_flags |= 0x03;  // the server updates AAAA (and overrides)
    s.fqdn_flags &= static_cast<uint8_t>(~0x04);
    const std::string n = fqdn_name(f->data);
    if (!n.empty() && is_legal_hostname(n)) client_name = n;
  }
  if (!s.clid.empty())
    for (const Dhcp6Host& h : config_.hosts)
      if (!h.duid.empty() && bytes_equal(h.duid, s.clid)) {
        s.host = &h;
        break;
      }
  if (s.host && !s.host->name.empty()) {
    s.hostname = std::string(first_label(s.host->name));
    s.hostname_auth = true;
  } else if (!client_name.empty()) {
    s.hostname = std::string(first_label(client_name));
    if (!s.host)
      for (const Dhcp6Host& h : config_.hosts)
        if (h.duid.empty() && names_equal(first_label(h.name), s.hostname)) {
          s.host = &h;
          break;
        }
  }

  Dhcp6Result result;
  const int64_t now = clock_.now_s();
  switch (type) {
    case Dhcp6Type::kSolicit: {
      const bool rapid = m.options.find(opt6::kRapidCommit) != nullptr;
      if (rapid) {
        s.out.set_type(static_cast<uint8_t>(Dhcp6Type::kReply));
        s.out.option(opt6::kRapidCommit, {});
      } else {
        s.out.set_type(static_cast<uint8_t>(Dhcp6Type::kAdvertise));
      }
      solicit_ias(s, rapid);
      add_options(s, false);
      result = count(rapid ? Dhcp6Outcome::kRapidCommit : Dhcp6Outcome::kAdvertised);
      break;
    }
    case Dhcp6Type::kRequest: {
      s.out.set_type(static_cast<uint8_t>(Dhcp6Type::kReply));
      s.lease_allocate = true;
      const size_t start = s.out.size();
      bool assigned = false, as_solicit = false;
      for (const Dhcp6Option& o : m.options.list) {
        const std::optional<Dhcp6Ia> ia = parse_ia(o);
        if (!ia) continue;
        if (ia->addresses.empty()) {
          as_solicit = true;
          break;
        }
        s.ia_type = ia->type;
        s.iaid = ia->iaid;
        size_t ia_at = 0;
        const size_t t1_at = build_ia(s.out, ia->type, ia->iaid, ia_at);
        uint32_t min_time = kInfinite;
        for (const Dhcp6Ia::Address& asked : ia->addresses) {
          const Ipv6Bytes& a = asked.address;
          if (!in_subnet(a)) {
            s.out.status(Dhcp6Status::kNotOnLink, "not on link");
            continue;
          }
          const Dhcp6Range* dynamic = range_of(a);
          const bool host_ok = s.host && s.host->ip == a;
          if (!dynamic && !host_ok) {
            s.out.status(Dhcp6Status::kNoAddrsAvail, "address unavailable");
          } else if (!free_for(s, a)) {
            s.out.status(Dhcp6Status::kUnspecFail, "address in use");
          } else {
            uint32_t lease_s = range_lease(dynamic);
            if (host_ok && s.host->lease_s) lease_s = *s.host->lease_s;
            add_address(s, a, lease_s, &asked, min_time);
            assigned = true;
          }
        }
        end_ia(s, t1_at, min_time, false);
        s.out.end(ia_at);
      }
      if (as_solicit) {
        s.out.truncate(start);
        solicit_ias(s, true);
      } else if (assigned) {
        s.out.status(Dhcp6Status::kSuccess, "success");
      } else {
        s.out.status(Dhcp6Status::kNoAddrsAvail, "no addresses available");
      }
      add_options(s, false);
      result = count(Dhcp6Outcome::kReplied);
      break;
    }
    case Dhcp6Type::kRenew:
    case Dhcp6Type::kRebind: {
      s.out.set_type(static_cast<uint8_t>(Dhcp6Type::kReply));
      bool assigned = false;
      for (const Dhcp6Option& o : m.options.list) {
        const std::optional<Dhcp6Ia> ia = parse_ia(o);
        if (!ia) continue;
        s.ia_type = ia->type;
        s.iaid = ia->iaid;
        size_t ia_at = 0;
        size_t t1_at = build_ia(s.out, ia->type, ia->iaid, ia_at);
        const size_t body = s.out.size();
        uint32_t min_time = kInfinite;
        for (const Dhcp6Ia::Address& asked : ia->addresses) {
          const Ipv6Bytes& a = asked.address;
          const bool temporary = ia->type == opt6::kIaTa;
          Lease6* lease = find_lease(s, temporary, ia->iaid, a);
          if (!lease) {
            if (type == Dhcp6Type::kRebind) {
              // Authoritative: the lease is made again if the address is free.
              if (!config_.authoritative || !in_subnet(a) || !free_for(s, a)) break;
              Lease6& l = leases_[a];
              l = Lease6{};
              l.ip = a;
              l.duid.assign(s.clid.begin(), s.clid.end());
              l.iaid = ia->iaid;
              l.temporary = temporary;
              l.expires_s = now + 1;
              lease = &l;
              s.changed = true;
            } else {
              s.out.truncate(body);
              t1_at = 0;
              s.out.status(Dhcp6Status::kNoBinding, "no binding found");
              break;
            }
          }
          uint32_t preferred = 0, valid = 0;
          if (in_subnet(a)) {
            const Dhcp6Range* r = range_of(a);
            uint32_t lease_s = range_lease(r);
            if (s.host && s.host->ip == a && s.host->lease_s) lease_s = *s.host->lease_s;
            calculate_times(lease_s, &asked, min_time, valid, preferred);
            lease->expires_s = valid == kInfinite ? kNever : now + valid;
            lease->mac = s.mac;
            set_name(s, *lease);
            s.changed = true;
            assigned = true;
          }
          const size_t at = s.out.begin(opt6::kIaAddr);
          s.out.put_bytes(as_span(a));
          s.out.put_u32(preferred);
          s.out.put_u32(valid);
          s.out.end(at);
        }
        end_ia(s, t1_at, min_time, true);
        s.out.end(ia_at);
      }
      if (!assigned && type == Dhcp6Type::kRebind)
        s.out.status(Dhcp6Status::kNoAddrsAvail, "no addresses available");
      add_options(s, false);
      result = count(Dhcp6Outcome::kReplied);
      break;
    }
    case Dhcp6Type::kConfirm: {
      bool good = false, bad = false;
      for (const Dhcp6Option& o : m.options.list)
        if (const std::optional<Dhcp6Ia> ia = parse_ia(o))
          for (const Dhcp6Ia::Address& a : ia->addresses) (in_subnet(a.address) ? good : bad) = true;
      if (!good && !bad) return count(Dhcp6Outcome::kConfirmEmpty);
      s.out.set_type(static_cast<uint8_t>(Dhcp6Type::kReply));
      if (bad)
        s.out.status(Dhcp6Status::kNotOnLink, "confirm failed");
      else
        s.out.status(Dhcp6Status::kSuccess, "all addresses still on link");
      result = count(bad ? Dhcp6Outcome::kNotOnLink : Dhcp6Outcome::kConfirmed);
      break;
    }
    case Dhcp6Type::kInformationRequest: {
      if (m.options.find(opt6::kIaNa, 1) || m.options.find(opt6::kIaTa, 1))
        return count(Dhcp6Outcome::kIaInInformation);
      s.out.set_type(static_cast<uint8_t>(Dhcp6Type::kReply));
      // dnsmasq: the domain of a <host> name found by DUID, else the network's.
      s.send_domain = s.hostname_auth ? after_first_label(s.host->name) == config_.domain && !config_.domain.empty()
                                      : !config_.domain.empty();
      add_options(s, true);
      result = count(Dhcp6Outcome::kInformed);
      break;
    }
    case Dhcp6Type::kRelease:
    case Dhcp6Type::kDecline: {
      const bool decline = type == Dhcp6Type::kDecline;
      s.out.set_type(static_cast<uint8_t>(Dhcp6Type::kReply));
      for (const Dhcp6Option& o : m.options.list) {
        const std::optional<Dhcp6Ia> ia = parse_ia(o);
        if (!ia) continue;
        size_t ia_at = 0;
        bool made_ia = false;
        for (const Dhcp6Ia::Address& asked : ia->addresses) {
          const Ipv6Bytes& a = asked.address;
          if (decline) {
            if (s.host && s.host->ip == a)
              declined_[a] = now + kDeclineBackoffS;
            else
              ++addr_epoch_;
          }
          if (find_lease(s, ia->type == opt6::kIaTa, ia->iaid, a)) {
            leases_.erase(a);
            s.changed = true;
            continue;
          }
          if (!made_ia) {
            ia_at = s.out.begin(ia->type);
            s.out.put_u32(ia->iaid);
            if (ia->type == opt6::kIaNa) {
              s.out.put_u32(0);
              s.out.put_u32(0);
            }
            made_ia = true;
          }
          const size_t at = s.out.begin(opt6::kIaAddr);
          s.out.put_bytes(as_span(a));
          s.out.put_u32(0);
          s.out.put_u32(0);
          s.out.end(at);
        }
        if (made_ia) {
          s.out.status(Dhcp6Status::kNoBinding, "no binding found");
          s.out.end(ia_at);
        }
      }
      s.out.status(Dhcp6Status::kSuccess, decline ? "success" : "release received");
      result = count(decline ? Dhcp6Outcome::kDeclined : Dhcp6Outcome::kReleased);
      break;
    }
    default:
      return count(Dhcp6Outcome::kUnexpectedType);
  }
  if (s.out.bytes().size() > kDhcp6HeaderSize) {
    // NoAddrsAvail at the message level is counted besides the reply.
    const std::span<const std::byte> b = s.out.bytes();
    const Dhcp6Options top = parse_dhcpv6_options(b.subspan(kDhcp6HeaderSize));
    if (const Dhcp6Option* st = top.find(opt6::kStatusCode, 2);
        st && dhcp6_uint(st->data, 0, 2) == static_cast<uint16_t>(Dhcp6Status::kNoAddrsAvail))
      ++counters_.outcome[static_cast<size_t>(Dhcp6Outcome::kNoAddrs)];
  }
  result.reply = s.out.take();
  result.leases_changed = s.changed;
  if (s.changed) ++generation_;
  return result;
}

bool Dhcp6Server::expire() {
  const int64_t now = clock_.now_s();
  bool gone = false;
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (it->second.expires_s <= now) {
      it = leases_.erase(it);
      gone = true;
    } else {
      ++it;
    }
  }
  std::erase_if(declined_, [now](const auto& d) { return d.second <= now; });
  if (gone) ++generation_;
  return gone;
}

std::vector<Lease6> Dhcp6Server::active_leases() const {
  std::vector<Lease6> out;
  const int64_t now = clock_.now_s();
  for (const auto& [ip, l] : leases_)
    if (l.expires_s > now) out.push_back(l);
  return out;
}

std::vector<Ipv6Bytes> Dhcp6Server::addresses_named(std::string_view label) const {
  std::vector<Ipv6Bytes> out;
  const int64_t now = clock_.now_s();
  for (const auto& [ip, l] : leases_)
    if (l.expires_s > now && !l.hostname.empty() && names_equal(l.hostname, label)) out.push_back(ip);
  return out;
}

std::optional<std::string> Dhcp6Server::name_of(const Ipv6Bytes& ip) const {
  const auto it = leases_.find(ip);
  if (it == leases_.end() || it->second.expires_s <= clock_.now_s() || it->second.hostname.empty())
    return std::nullopt;
  return it->second.hostname;
}

std::string Dhcp6Server::serialize() const {
  std::string text = "duid " + format_hex_colon(duid_) + "\n";
  for (const Lease6& l : active_leases()) {
    text += std::to_string(l.expires_s == kNever ? 0 : l.expires_s);
    text += l.temporary ? " T" : " ";
    text += std::to_string(l.iaid);
    text += ' ';
    text += ip_text(l.ip);
    text += ' ';
    text += l.hostname.empty() ? std::string("*") : l.hostname;
    text += ' ';
    text += format_hex_colon(l.duid);
    text += '\n';
  }
  return text;
}

// The client's link-layer address when its DUID carries one (DUID-LLT or
// DUID-LL of Ethernet, RFC 8415 §11.2/11.4); dnsmasq's file has no MAC.
static std::optional<Mac> mac_of_duid(std::span<const std::byte> d) {
  const uint32_t type = dhcp6_uint(d, 0, 2), hw = dhcp6_uint(d, 2, 2);
  const size_t at = type == 1 ? 8 : type == 3 ? 4 : 0;
  if (at == 0 || hw != 1 || d.size() != at + 6) return std::nullopt;
  Mac m;
  for (size_t i = 0; i < 6; ++i) m.bytes[i] = std::to_integer<uint8_t>(d[at + i]);
  return m;
}

size_t Dhcp6Server::load(std::string_view text, size_t& corrupt) {
  size_t loaded = 0;
  bool in_v6 = false;
  const int64_t now = clock_.now_s();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    std::vector<std::string_view> f;
    for (size_t p = 0; p < line.size();) {
      while (p < line.size() && line[p] == ' ') ++p;
      const size_t b = p;
      while (p < line.size() && line[p] != ' ') ++p;
      if (p > b) f.push_back(line.substr(b, p - b));
    }
    if (f.size() == 2 && f[0] == "duid") {
      if (auto d = parse_hex_colon(f[1])) {
        duid_ = std::move(*d);
        in_v6 = true;
      } else {
        ++corrupt;
      }
      continue;
    }
    if (!in_v6 || f.empty()) continue;
    int64_t expiry = 0;
    uint32_t iaid = 0;
    std::string_view iaid_text = f.size() == 5 ? f[1] : std::string_view{};
    const bool temporary = !iaid_text.empty() && iaid_text[0] == 'T';
    if (temporary) iaid_text.remove_prefix(1);
    const auto ip = f.size() == 5 ? IpAddress::parse(f[2]) : std::nullopt;
    const auto duid = f.size() == 5 ? parse_hex_colon(f[4]) : std::nullopt;
    const bool ok = f.size() == 5 &&
                    std::from_chars(f[0].data(), f[0].data() + f[0].size(), expiry).ec == std::errc{} &&
                    std::from_chars(iaid_text.data(), iaid_text.data() + iaid_text.size(), iaid).ec == std::errc{} &&
                    ip && !ip->is_v4() && duid && (f[3] == "*" || is_legal_hostname(f[3])) && expiry >= 0;
    if (!ok) {
      ++corrupt;
      continue;
    }
    Lease6 l;
    l.ip = ip->bytes;
    l.duid = std::move(*duid);
    l.iaid = iaid;
    l.temporary = temporary;
    if (f[3] != "*") l.hostname = std::string(first_label(f[3]));
    l.expires_s = expiry == 0 ? kNever : expiry;
    l.mac = mac_of_duid(l.duid);
    if (l.expires_s <= now || !in_subnet(l.ip) || leases_.count(l.ip)) continue;
    leases_[l.ip] = std::move(l);
    ++loaded;
  }
  ++generation_;
  return loaded;
}

}  // namespace vnet::dhcp
