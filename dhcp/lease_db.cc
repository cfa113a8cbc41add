// vnet::dhcp — lease database policy and state. See lease_db.h.
// Persistence (serialize/load) lives in lease_file.cc.
#include "dhcp/lease_db.h"

#include <algorithm>

namespace vnet::dhcp {

namespace {

uint64_t range_size(const DhcpRange& r) {
  return r.end.value >= r.start.value ? uint64_t{r.end.value} - r.start.value + 1 : 0;
}

// FNV-1a over the MAC: a stable starting point for the range scan.
uint64_t mac_hash(const Mac& mac) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : mac.bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

// History records kept beyond the active ones.
constexpr size_t kMaxHistory = 4096;

}  // namespace

uint32_t ServerConfig::effective_lease_max() const {
  if (lease_max != 0) return lease_max;
  uint64_t total = 0;
  for (const DhcpRange& r : ranges) total += range_size(r);
  if (total == 0) return kDefaultLeaseMax;  // static-only: libvirt writes no dhcp-lease-max
  return static_cast<uint32_t>(std::min<uint64_t>(total, UINT32_MAX));
}

bool same_client(const ClientKey& a, const ClientKey& b) {
  if (!a.client_id.empty() && !b.client_id.empty()) return a.client_id == b.client_id;
  return a.mac == b.mac;
}

LeaseDb::LeaseDb(const ServerConfig& config, const Clock& clock) : config_(config), clock_(clock) {}

// --- records and their indexes --------------------------------------------------

uint64_t LeaseDb::mac_key(const Mac& mac) {
  uint64_t k = 0;
  for (uint8_t b : mac.bytes) k = (k << 8) | b;
  return k;
}

void LeaseDb::add_record(Lease lease) {
  leases_.push_back(std::move(lease));
  const size_t i = leases_.size() - 1;
  by_ip_[leases_[i].ip.value] = i;
  by_mac_.emplace(mac_key(leases_[i].client.mac), i);
}

void LeaseDb::remove_record(size_t index) {
  const auto unindex = [&](size_t i) {
    if (auto it = by_ip_.find(leases_[i].ip.value); it != by_ip_.end() && it->second == i) by_ip_.erase(it);
    auto [b, e] = by_mac_.equal_range(mac_key(leases_[i].client.mac));
    for (auto it = b; it != e; ++it) {
      if (it->second == i) {
        by_mac_.erase(it);
        break;
      }
    }
  };
  unindex(index);
  const size_t last = leases_.size() - 1;
  if (index != last) {
    unindex(last);
    leases_[index] = std::move(leases_[last]);
    by_ip_[leases_[index].ip.value] = index;
    by_mac_.emplace(mac_key(leases_[index].client.mac), index);
  }
  leases_.pop_back();
}

void LeaseDb::clear_records() {
  leases_.clear();
  by_ip_.clear();
  by_mac_.clear();
}

const Lease* LeaseDb::record_at(Ipv4 ip) const {
  const auto it = by_ip_.find(ip.value);
  return it == by_ip_.end() ? nullptr : &leases_[it->second];
}

size_t LeaseDb::record_of(const ClientKey& client) const {
  if (!client.client_id.empty()) {
    for (size_t i = 0; i < leases_.size(); ++i)
      if (same_client(leases_[i].client, client)) return i;
    return SIZE_MAX;
  }
  size_t best = SIZE_MAX;
  auto [b, e] = by_mac_.equal_range(mac_key(client.mac));
  for (auto it = b; it != e; ++it) best = std::min(best, it->second);
  return best;
}

void LeaseDb::reconfigure(const ServerConfig& config) {
  config_ = config;
  ++generation_;
}

const Lease* LeaseDb::find_by_client(const ClientKey& client) const {
  // Client id first, then hardware address (dnsmasq lease_find_by_client).
  if (!client.client_id.empty()) {
    for (const Lease& l : leases_)
      if (!l.client.client_id.empty() && l.client.client_id == client.client_id) return &l;
  }
  size_t best = SIZE_MAX;
  auto [b, e] = by_mac_.equal_range(mac_key(client.mac));
  for (auto it = b; it != e; ++it)
    if (leases_[it->second].client.client_id.empty() || client.client_id.empty()) best = std::min(best, it->second);
  return best == SIZE_MAX ? nullptr : &leases_[best];
}

const Lease* LeaseDb::find_active_by_ip(Ipv4 ip) const {
  const Lease* l = record_at(ip);
  return l && l->active(now_s()) ? l : nullptr;
}

const StaticHost* LeaseDb::static_host_for(const Mac& mac, std::string_view client_hostname) const {
  for (const StaticHost& h : config_.hosts)
    if (h.mac && *h.mac == mac) return &h;
  if (client_hostname.empty()) return nullptr;
  const std::string_view label = first_label(client_hostname);
  for (const StaticHost& h : config_.hosts)
    if (!h.mac && !h.name.empty() && names_equal(first_label(h.name), label)) return &h;
  return nullptr;
}

const StaticHost* LeaseDb::static_host_by_ip(Ipv4 ip) const {
  for (const StaticHost& h : config_.hosts)
    if (h.ip == ip) return &h;
  return nullptr;
}

bool LeaseDb::in_dynamic_range(Ipv4 ip) const {
  for (const DhcpRange& r : config_.ranges)
    if (ip >= r.start && ip <= r.end) return true;
  return false;
}

bool LeaseDb::is_declined(Ipv4 ip) const {
  const int64_t now = now_s();
  for (const Declined& d : declined_)
    if (d.ip == ip && d.until_s > now) return true;
  return false;
}

bool LeaseDb::usable_address(Ipv4 ip) const {
  const unsigned p = config_.prefix_len;
  if (!ip.same_subnet(config_.server_ip, p)) return false;
  if (ip == config_.server_ip) return false;
  if (p < 31 && (ip == ip.network(p) || ip == ip.subnet_broadcast(p))) return false;
  return true;
}

bool LeaseDb::held_by_other(Ipv4 ip, const ClientKey& client) const {
  const int64_t now = now_s();
  if (const Lease* l = record_at(ip); l && l->active(now) && !same_client(l->client, client)) return true;
  for (const Hold& h : holds_)
    if (h.ip == ip && h.until_s > now && !same_client(h.client, client)) return true;
  return false;
}

bool LeaseDb::history_of_other(Ipv4 ip, const ClientKey& client) const {
  const Lease* l = record_at(ip);
  return l && !same_client(l->client, client);
}

bool LeaseDb::address_available(Ipv4 ip, const ClientKey& client, const StaticHost* own) const {
  if (!usable_address(ip) || is_declined(ip) || held_by_other(ip, client)) return false;
  if (own && own->ip == ip) return true;
  if (!in_dynamic_range(ip)) return false;
  return static_host_by_ip(ip) == nullptr;  // reserved for a static host
}

std::optional<Ipv4> LeaseDb::choose_address(const ClientKey& client, const StaticHost* own,
                                            std::optional<Ipv4> requested) const {
  if (own && address_available(own->ip, client, own)) return own->ip;
  if (const Lease* l = find_by_client(client)) {
    // Not the address of some other static host (it may have been added since).
    if (address_available(l->ip, client, nullptr)) return l->ip;
  }
  if (requested && address_available(*requested, client, nullptr) &&
      !history_of_other(*requested, client))
    return *requested;

  uint64_t total = 0;
  for (const DhcpRange& r : config_.ranges) total += range_size(r);
  if (total == 0) return std::nullopt;
  const uint64_t start = mac_hash(client.mac) % total;
  // Two passes: first skip other clients' history, then take anything free.
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t i = 0; i < total; ++i) {
      uint64_t index = (start + i) % total;
      Ipv4 ip;
      for (const DhcpRange& r : config_.ranges) {
        const uint64_t n = range_size(r);
        if (index < n) {
          ip = Ipv4(static_cast<uint32_t>(r.start.value + index));
          break;
        }
        index -= n;
      }
      if (!address_available(ip, client, nullptr)) continue;
      if (pass == 0 && history_of_other(ip, client)) continue;
      return ip;
    }
  }
  return std::nullopt;
}

uint32_t LeaseDb::lease_time_for(Ipv4 ip, const StaticHost* own,
                                 std::optional<uint32_t> requested_s) const {
  std::optional<uint32_t> configured;
  if (own && own->ip == ip && own->lease_s) configured = own->lease_s;
  if (!configured) {
    for (const DhcpRange& r : config_.ranges) {
      if (ip >= r.start && ip <= r.end) {
        configured = r.lease_s.value_or(kDefaultLeaseS);
        break;
      }
    }
  }
  if (!configured && !config_.ranges.empty()) configured = config_.ranges.front().lease_s.value_or(kDefaultLeaseS);
  uint32_t t = configured.value_or(kDefaultLeaseS);
  if (requested_s) {
    const uint32_t req = std::max(*requested_s, kMinLeaseS);
    if (t == kInfiniteLease || (req != kInfiniteLease && req < t)) t = req;
  }
  return t;
}

void LeaseDb::hold_offer(Ipv4 ip, const ClientKey& client) {
  const int64_t until = now_s() + kOfferHoldS;
  for (Hold& h : holds_) {
    if (same_client(h.client, client)) {
      h = Hold{ip, client, until};
      return;
    }
  }
  holds_.push_back(Hold{ip, client, until});
}

CommitResult LeaseDb::commit(Ipv4 ip, const ClientKey& client, uint32_t lease_s, Lease** out) {
  const int64_t now = now_s();
  if (held_by_other(ip, client)) return CommitResult::kUnavailable;
  const Lease* existing = find_by_client(client);
  const bool was_active = existing && existing->active(now);
  const size_t lease_max = config_.effective_lease_max();
  if (!was_active && leases_.size() >= lease_max && active_count() >= lease_max) return CommitResult::kLeaseMax;

  Lease fresh;
  fresh.ip = ip;
  fresh.client = client;
  fresh.expires_s = lease_s == kInfiniteLease ? kLeaseNever : now + lease_s;
  if (existing && existing->ip == ip) {  // a renewal keeps the name
    fresh.hostname = existing->hostname;
    fresh.hostname_from_config = existing->hostname_from_config;
  }
  // One record per client and per address.
  if (const auto it = by_ip_.find(ip.value); it != by_ip_.end()) remove_record(it->second);
  for (;;) {
    size_t i = SIZE_MAX;
    if (!client.client_id.empty()) {
      i = record_of(client);
    } else {
      auto [b, e] = by_mac_.equal_range(mac_key(client.mac));
      for (auto it = b; it != e; ++it)
        if (same_client(leases_[it->second].client, client)) i = it->second;
    }
    if (i == SIZE_MAX) break;
    remove_record(i);
  }
  add_record(std::move(fresh));
  std::erase_if(holds_, [&](const Hold& h) { return same_client(h.client, client) || h.ip == ip; });
  ++generation_;
  if (out) *out = &leases_.back();
  return CommitResult::kOk;
}

void LeaseDb::set_hostname(Lease& lease, std::string_view name, bool from_config) {
  const std::string label(first_label(name));
  if (names_equal(lease.hostname, label)) {
    lease.hostname_from_config = lease.hostname_from_config || from_config;
    return;
  }
  const int64_t now = now_s();
  if (!label.empty()) {
    for (Lease& other : leases_) {
      if (&other == &lease || !other.active(now) || !names_equal(other.hostname, label)) continue;
      if (other.hostname_from_config && !from_config) {
        // A client may not take a name that configuration gives to another host.
        lease.hostname.clear();
        lease.hostname_from_config = false;
        ++generation_;
        return;
      }
      other.hostname.clear();
      other.hostname_from_config = false;
    }
  }
  lease.hostname = label;
  lease.hostname_from_config = from_config && !label.empty();
  ++generation_;
}

bool LeaseDb::release(Ipv4 ip, const ClientKey& client) {
  const int64_t now = now_s();
  const auto it = by_ip_.find(ip.value);
  if (it == by_ip_.end()) return false;
  Lease& l = leases_[it->second];
  if (!same_client(l.client, client) || !l.active(now)) return false;
  l.expires_s = now;  // keep as history: the client gets it back next time
  ++generation_;
  return true;
}

void LeaseDb::decline(Ipv4 ip, const ClientKey& client) {
  if (const auto it = by_ip_.find(ip.value); it != by_ip_.end() && same_client(leases_[it->second].client, client))
    remove_record(it->second);
  std::erase_if(holds_, [&](const Hold& h) { return h.ip == ip; });
  std::erase_if(declined_, [&](const Declined& d) { return d.ip == ip; });
  declined_.push_back(Declined{ip, now_s() + kDeclineBackoffS});
  ++generation_;
}

void LeaseDb::expire() {
  const int64_t now = now_s();
  std::erase_if(holds_, [&](const Hold& h) { return h.until_s <= now; });
  std::erase_if(declined_, [&](const Declined& d) { return d.until_s <= now; });
  trim_history();
}

void LeaseDb::trim_history() {
  const int64_t now = now_s();
  // A scan of every record: at most once per second (expire() runs per DHCP message).
  if (now == last_trim_s_) return;
  last_trim_s_ = now;
  size_t history = 0;
  for (const Lease& l : leases_) history += l.active(now) ? 0 : 1;
  if (history <= kMaxHistory) return;
  // Drop the oldest expired records first.
  std::vector<int64_t> expiries;
  for (const Lease& l : leases_)
    if (!l.active(now)) expiries.push_back(l.expires_s);
  std::nth_element(expiries.begin(), expiries.begin() + static_cast<ptrdiff_t>(history - kMaxHistory),
                   expiries.end());
  const int64_t cutoff = expiries[history - kMaxHistory];
  size_t to_drop = history - kMaxHistory;
  remove_records_if([&](const Lease& l) {
    if (to_drop == 0 || l.active(now) || l.expires_s > cutoff) return false;
    --to_drop;
    return true;
  });
}

size_t LeaseDb::active_count() const {
  const int64_t now = now_s();
  return static_cast<size_t>(std::count_if(leases_.begin(), leases_.end(), [&](const Lease& l) { return l.active(now); }));
}

std::vector<Lease> LeaseDb::active_leases() const {
  const int64_t now = now_s();
  std::vector<Lease> out;
  for (const Lease& l : leases_)
    if (l.active(now)) out.push_back(l);
  std::sort(out.begin(), out.end(), [](const Lease& a, const Lease& b) { return a.ip < b.ip; });
  return out;
}

std::vector<Ipv4> LeaseDb::lease_addresses(std::string_view label) const {
  const int64_t now = now_s();
  std::vector<Ipv4> out;
  for (const Lease& l : leases_)
    if (l.active(now) && !l.hostname.empty() && names_equal(l.hostname, label)) out.push_back(l.ip);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> LeaseDb::lease_hostname(Ipv4 addr) const {
  const Lease* l = find_active_by_ip(addr);
  if (!l || l->hostname.empty()) return std::nullopt;
  return l->hostname;
}

std::vector<IpAddress> LeaseDb::named(std::string_view label) const {
  std::vector<IpAddress> out;
  for (Ipv4 a : lease_addresses(label)) out.push_back(IpAddress::v4(a));
  return out;
}

std::optional<std::string> LeaseDb::name_of(const IpAddress& addr) const {
  if (!addr.is_v4()) return std::nullopt;
  return lease_hostname(addr.to_ipv4());
}

}  // namespace vnet::dhcp
