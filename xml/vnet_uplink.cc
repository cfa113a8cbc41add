// vnet::xml — <vnet:uplink/>: vnet's namespaced element for the uplink's outside
// address, prefix and gateway (model and rules: UplinkDef in network_model.h).
//
// Theory of operation
//   The element is found by its namespace URI (kVnetNamespace), whatever prefix the
//   document binds to it, as libvirt finds <dnsmasq:options> through the XPath
//   namespace it registers. Elements of other namespaces, and un-namespaced
//   <uplink>, are ignored like any unknown element. On output the prefix is always
//   "vnet", the declaration is written on <network> after xmlns:dnsmasq, and the
//   element comes last, after <dnsmasq:options> (where libvirt writes namespace data).
//   The optional type, path and mode attributes are written back only when given,
//   after gateway, in that order.
#include <cstring>

#include "xml/format_internal.h"
#include "xml/parse_internal.h"
#include "xml/xml_doc.h"

namespace vnet::xml {

const char* uplink_type_name(UplinkType t) {
  switch (t) {
    case UplinkType::kVhostUser: return "vhostuser";
    case UplinkType::kAfXdp: return "afxdp";
    case UplinkType::kPci: return "pci";
    case UplinkType::kKernel: break;
  }
  return "kernel";
}

const char* uplink_vhost_mode_name(UplinkVhostMode m) {
  return m == UplinkVhostMode::kClient ? "client" : "server";
}

}  // namespace vnet::xml

namespace vnet::xml::detail {

namespace {

// sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
constexpr size_t kMaxSocketPath = 107;

constexpr const char* kElem = "<vnet:uplink>";

std::string where(const std::string& net) {
  return std::string(kElem) + " of network '" + net + "'";
}

std::string bad_attr(const std::string& net, const char* attr, const std::string& why) {
  return "Invalid attribute '" + std::string(attr) + "' in " + where(net) + ": " + why;
}

bool in_vnet_ns(const xmlNode* n, const char* name) {
  return is_element(n, name) && n->ns && n->ns->href &&
         std::strcmp(reinterpret_cast<const char*>(n->ns->href), kVnetNamespace) == 0;
}

// A strict decimal number: digits only, no sign, blanks or base prefix.
std::optional<unsigned> decimal(const std::string& s) {
  if (s.empty() || s.size() > 3) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

// Why `a` cannot be a host address on a link, or "" when it can.
std::string not_unicast_reason(const IpAddr& a) {
  const uint32_t v = a.v4_host_order();
  if ((v >> 24) == 0) return "is in 0.0.0.0/8";
  if ((v >> 24) == 127) return "is a loopback address";
  if ((v >> 28) == 0xe) return "is a multicast address";
  if (v == 0xffffffffu) return "is the limited broadcast address";
  if ((v >> 28) == 0xf) return "is in the reserved range 240.0.0.0/4";
  return {};
}

std::string cidr(const IpAddr& a, unsigned prefix) {
  return network_address(a, prefix).format() + "/" + std::to_string(prefix);
}

}  // namespace

Status check_uplink(const std::string& net, const UplinkDef& up) {
  if (!up.address.is_v4()) {
    return Status::error(bad_attr(net, "address", "'" + up.address.format() + "' is not an IPv4 address"));
  }
  if (up.prefix < 1 || up.prefix > 32) {
    return Status::error(bad_attr(net, "prefix", "'" + std::to_string(up.prefix) +
                                                     "' is not between 1 and 32"));
  }
  if (!up.gateway.is_v4()) {
    return Status::error(bad_attr(net, "gateway", "'" + up.gateway.format() + "' is not an IPv4 address"));
  }
  if (auto why = not_unicast_reason(up.address); !why.empty()) {
    return Status::error(bad_attr(net, "address", "'" + up.address.format() + "' " + why));
  }
  if (auto why = not_unicast_reason(up.gateway); !why.empty()) {
    return Status::error(bad_attr(net, "gateway", "'" + up.gateway.format() + "' " + why));
  }
  const std::string subnet = cidr(up.address, up.prefix);
  const bool has_ends = up.prefix <= 30;  // /31 (RFC 3021) and /32 have no network/broadcast
  auto is_end = [&](const IpAddr& a) {
    return a == network_address(a, up.prefix) || a == broadcast_address(a, up.prefix);
  };
  if (has_ends && is_end(up.address)) {
    return Status::error(bad_attr(net, "address", "'" + up.address.format() +
                                                      "' is the network or broadcast address of " +
                                                      subnet));
  }
  if (up.gateway == up.address) {
    return Status::error(bad_attr(net, "gateway", "'" + up.gateway.format() +
                                                      "' is the uplink address itself"));
  }
  if (up.prefix < 32 && !same_subnet(up.address, up.gateway, up.prefix)) {
    return Status::error(bad_attr(net, "gateway", "'" + up.gateway.format() +
                                                      "' is not inside " + subnet));
  }
  if (has_ends && is_end(up.gateway)) {
    return Status::error(bad_attr(net, "gateway", "'" + up.gateway.format() +
                                                      "' is the network or broadcast address of " +
                                                      subnet));
  }
  if (up.effective_type() != UplinkType::kVhostUser) {
    if (!up.path.empty()) {
      return Status::error(bad_attr(net, "path", "'" + up.path +
                                                     "' is only allowed with type='vhostuser'"));
    }
    if (up.mode) {
      return Status::error(bad_attr(net, "mode", std::string("'") + uplink_vhost_mode_name(*up.mode) +
                                                     "' is only allowed with type='vhostuser'"));
    }
    return {};
  }
  if (!up.path.empty()) {
    if (up.path.front() != '/') {
      return Status::error(bad_attr(net, "path", "'" + up.path + "' is not an absolute path"));
    }
    if (up.path.find(',') != std::string::npos) {
      return Status::error(bad_attr(net, "path", "'" + up.path + "' contains ','"));
    }
    if (up.path.size() > kMaxSocketPath) {
      return Status::error(bad_attr(net, "path", "'" + up.path + "' is longer than " +
                                                     std::to_string(kMaxSocketPath) +
                                                     " bytes (a unix socket path)"));
    }
  }
  return {};
}

Status parse_vnet_uplink(const std::string& net, xmlNode* root, std::optional<UplinkDef>* out) {
  xmlNode* found = nullptr;
  for (xmlNode* n = root->children; n; n = n->next) {
    if (!in_vnet_ns(n, "uplink")) continue;
    if (found) return Status::error("Only one " + std::string(kElem) + " element is allowed in network '" + net + "'");
    found = n;
  }
  if (!found) return {};
  UplinkDef up;
  auto required = [&](const char* attr) -> Result<std::string> {
    auto v = prop(found, attr);
    if (!v) {
      return Result<std::string>::error("Missing required attribute '" + std::string(attr) + "' in " +
                                        where(net));
    }
    return *v;
  };
  auto address = required("address");
  if (!address) return Status::error(address.error());
  auto prefix = required("prefix");
  if (!prefix) return Status::error(prefix.error());
  auto gateway = required("gateway");
  if (!gateway) return Status::error(gateway.error());

  auto a = parse_ipv4(*address);
  if (!a) return Status::error(bad_attr(net, "address", "'" + *address + "' is not an IPv4 address"));
  auto p = decimal(*prefix);
  if (!p || *p < 1 || *p > 32) {
    return Status::error(bad_attr(net, "prefix", "'" + *prefix + "' is not a number between 1 and 32"));
  }
  auto g = parse_ipv4(*gateway);
  if (!g) return Status::error(bad_attr(net, "gateway", "'" + *gateway + "' is not an IPv4 address"));
  up.address = *a;
  up.prefix = *p;
  up.gateway = *g;
  if (auto t = prop(found, "type")) {
    if (*t == "kernel") {
      up.type = UplinkType::kKernel;
    } else if (*t == "vhostuser") {
      up.type = UplinkType::kVhostUser;
    } else if (*t == "afxdp") {
      up.type = UplinkType::kAfXdp;
    } else if (*t == "pci") {
      up.type = UplinkType::kPci;
    } else {
      return Status::error(bad_attr(net, "type", "'" + *t + "' is not 'kernel', 'afxdp', 'pci' or 'vhostuser'"));
    }
  }
  if (auto path = prop(found, "path")) {
    if (path->empty()) return Status::error(bad_attr(net, "path", "'' is not an absolute path"));
    up.path = *path;
  }
  if (auto m = prop(found, "mode")) {
    if (*m == "server") {
      up.mode = UplinkVhostMode::kServer;
    } else if (*m == "client") {
      up.mode = UplinkVhostMode::kClient;
    } else {
      return Status::error(bad_attr(net, "mode", "'" + *m + "' is not 'server' or 'client'"));
    }
  }
  if (auto st = check_uplink(net, up); !st) return st;
  *out = up;
  return {};
}

void format_vnet_uplink(Writer& w, const std::optional<UplinkDef>& up) {
  if (!up) return;
  std::string line = "<vnet:uplink address='" + up->address.format() + "' prefix='" +
                     std::to_string(up->prefix) + "' gateway='" + up->gateway.format() + "'";
  if (up->type) line += std::string(" type='") + uplink_type_name(*up->type) + "'";
  if (!up->path.empty()) line += " path='" + escaped(up->path) + "'";
  if (up->mode) line += std::string(" mode='") + uplink_vhost_mode_name(*up->mode) + "'";
  w.add(line + "/>\n");
}

}  // namespace vnet::xml::detail
