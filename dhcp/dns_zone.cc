// vnet::dhcp — local DNS data and routing. See dns_zone.h.
#include "dhcp/dns_zone.h"

#include <algorithm>

namespace vnet::dhcp {

namespace {

bool has_dot(std::string_view name) { return name.find('.') != std::string_view::npos; }

void add_unique(std::vector<IpAddress>& v, const IpAddress& a) {
  if (std::find(v.begin(), v.end(), a) == v.end()) v.push_back(a);
}

}  // namespace

LocalZone::LocalZone(const DnsConfig& config, const DynamicHosts* leases)
    : domain_(to_lower(strip_root(config.domain))), leases_(leases) {
  add_hosts(config.hosts);
  add_hosts(config.system_hosts);

  for (const DnsTxtRecord& t : config.txts)
    txts_[to_lower(strip_root(t.name))].push_back(split_txt_value(t.value));

  for (const DnsSrvRecord& s : config.srvs) {
    std::string owner = "_" + s.service + "._" + s.protocol;
    const std::string domain = s.domain.empty() ? domain_ : std::string(strip_root(s.domain));
    if (!domain.empty()) owner += "." + domain;
    SrvData d;
    d.target = std::string(strip_root(s.target));
    if (d.target.empty()) {
      d.port = 0;  // "." : the service is decidedly not available (RFC 2782)
    } else {
      d.port = s.port.value_or(1);
      d.priority = s.priority.value_or(0);
      d.weight = s.weight.value_or(0);
    }
    srvs_[to_lower(owner)].push_back(std::move(d));
  }

  // Default upstreams (strict-order).
  bool any_plain_server = false;
  for (const DnsForwarderRule& f : config.forwarders) {
    if (f.addr && f.domain.empty()) {
      any_plain_server = true;
      const Upstream u{*f.addr, f.port};
      if (std::find(defaults_.begin(), defaults_.end(), u) == defaults_.end()) defaults_.push_back(u);
    }
  }
  if (!any_plain_server && !config.no_resolv) defaults_ = config.system_resolvers;

  // Domain rules: server=/D/..., local=/D/.
  const auto rule_for = [&](const std::string& domain) -> Rule& {
    for (Rule& r : rules_)
      if (r.domain == domain) return r;
    rules_.push_back(Rule{domain, false, false, {}});
    return rules_.back();
  };
  for (const DnsForwarderRule& f : config.forwarders) {
    if (f.domain.empty()) continue;
    Rule& r = rule_for(to_lower(strip_root(f.domain)));
    if (f.addr) {
      const Upstream u{*f.addr, f.port};
      if (std::find(r.upstreams.begin(), r.upstreams.end(), u) == r.upstreams.end()) r.upstreams.push_back(u);
    } else {
      r.use_defaults = true;
    }
  }
  if (config.domain_local_only && !domain_.empty()) rule_for(domain_).local = true;
  for (const std::string& zone : config.local_ptr_zones) rule_for(to_lower(strip_root(zone))).local = true;
  plain_names_local_ = !config.forward_plain_names;
}

std::string LocalZone::qualify(std::string_view name) const {
  if (domain_.empty() || has_dot(name)) return std::string(name);
  return std::string(name) + "." + domain_;
}

void LocalZone::add_hosts(const std::vector<DnsHostRecord>& records) {
  for (const DnsHostRecord& r : records) {
    for (const std::string& raw : r.hostnames) {
      const std::string name(strip_root(raw));
      if (name.empty()) continue;
      add_unique(addresses_[to_lower(name)], r.ip);
      if (!domain_.empty() && !has_dot(name)) add_unique(addresses_[to_lower(qualify(name))], r.ip);
    }
    if (!r.hostnames.empty() && !ptrs_.contains(r.ip)) {
      const std::string first(strip_root(r.hostnames.front()));
      if (!first.empty()) ptrs_.emplace(r.ip, qualify(first));
    }
  }
}

LocalData LocalZone::lookup(std::string_view raw_name) const {
  LocalData out;
  const std::string name = to_lower(strip_root(raw_name));
  if (auto it = addresses_.find(name); it != addresses_.end()) {
    out.known = true;
    for (const IpAddress& a : it->second) add_unique(out.addresses, a);
  }
  if (leases_ && !name.empty()) {
    std::string_view label;
    if (!has_dot(name)) {
      label = name;
    } else if (!domain_.empty() && after_first_label(name) == domain_) {
      label = first_label(name);
    }
    if (!label.empty()) {
      for (const IpAddress& a : leases_->named(label)) {
        out.known = true;
        add_unique(out.addresses, a);
      }
    }
  }
  if (auto it = txts_.find(name); it != txts_.end()) {
    out.known = true;
    out.txts = it->second;
  }
  if (auto it = srvs_.find(name); it != srvs_.end()) {
    out.known = true;
    out.srvs = it->second;
  }
  return out;
}

std::optional<std::string> LocalZone::ptr_for(const IpAddress& addr) const {
  if (auto it = ptrs_.find(addr); it != ptrs_.end()) return it->second;
  if (leases_) {
    if (auto name = leases_->name_of(addr)) return qualify(*name);
  }
  return std::nullopt;
}

Route LocalZone::route(std::string_view raw_name) const {
  const std::string name = to_lower(strip_root(raw_name));
  Route r;
  if (plain_names_local_ && !name.empty() && !has_dot(name)) {
    r.kind = Route::Kind::kLocal;
    return r;
  }
  const Rule* best = nullptr;
  for (const Rule& rule : rules_)
    if (is_subdomain(name, rule.domain) && (!best || rule.domain.size() > best->domain.size())) best = &rule;
  if (best && best->local) {
    r.kind = Route::Kind::kLocal;
    return r;
  }
  r.kind = Route::Kind::kForward;
  r.upstreams = (best && !best->use_defaults) ? best->upstreams : defaults_;
  return r;
}

}  // namespace vnet::dhcp
