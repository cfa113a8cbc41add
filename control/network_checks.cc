#include "control/network_checks.h"

#include <algorithm>

namespace vnet::ctl {

std::string Subnet::format() const { return network.format() + "/" + std::to_string(prefix); }

std::string uuid_string(const xml::NetworkDef& def) { return xml::format_uuid(def.uuid); }

std::string bridge_name(const xml::NetworkDef& def) { return def.bridge.name; }

std::vector<Subnet> subnets_of(const xml::NetworkDef& def) {
  std::vector<Subnet> out;
  for (const auto& ip : def.ips) {
    const unsigned prefix = xml::effective_prefix(ip);
    if (prefix == 0) continue;  // class D/E without netmask: no subnet to compare
    out.push_back(Subnet{xml::network_address(ip.address, prefix), prefix});
  }
  return out;
}

bool subnets_overlap(const Subnet& a, const Subnet& b) {
  if (a.network.family != b.network.family) return false;
  return xml::same_subnet(a.network, b.network, std::min(a.prefix, b.prefix));
}

xml::Status check_active_conflicts(const xml::NetworkDef& candidate,
                                   const std::vector<const xml::NetworkDef*>& active_others) {
  const std::string bridge = bridge_name(candidate);
  const std::vector<Subnet> mine = subnets_of(candidate);
  for (const xml::NetworkDef* other : active_others) {
    if (!bridge.empty() && bridge == bridge_name(*other)) {
      return xml::Status::error("bridge name '" + bridge + "' is already in use by active network '" +
                                other->name + "'");
    }
    for (const Subnet& theirs : subnets_of(*other)) {
      for (const Subnet& s : mine) {
        if (subnets_overlap(s, theirs)) {
          return xml::Status::error("IP subnet " + s.format() + " of network '" + candidate.name +
                                    "' overlaps with " + theirs.format() + " of active network '" +
                                    other->name + "'");
        }
      }
    }
  }
  return {};
}

}  // namespace vnet::ctl
