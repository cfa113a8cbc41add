// vnet::xml — parse_network_xml(): virNetworkDefParseXML() (libvirt-format.md 0–1).
#include <libxml/tree.h>

#include <cstring>
#include <fstream>
#include <random>

#include "xml/network_xml.h"
#include "xml/parse_internal.h"
#include "xml/xml_doc.h"

namespace vnet::xml {

using namespace detail;  // NOLINT: internal helpers of this library

RandomBytes system_random_bytes() {
  return [](uint8_t* out, size_t n) {
    std::ifstream urandom("/dev/urandom", std::ios::binary);
    if (urandom && urandom.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n))) {
      return;
    }
    std::random_device rd;
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(rd());
  };
}

namespace {

std::string q(const std::string& s) { return "'" + s + "'"; }

// virXMLNodeSanitizeNamespaces: drop children without a namespace, and later
// children that repeat an earlier child's namespace.
void sanitize_metadata(xmlNode* metadata) {
  xmlNode* child = metadata->children;
  while (child) {
    if (!child->ns || !child->ns->href) {
      xmlNode* dead = child;
      child = child->next;
      xmlUnlinkNode(dead);
      xmlFreeNode(dead);
      continue;
    }
    xmlNode* next = child->next;
    while (next) {
      xmlNode* dup = nullptr;
      if (next->ns && next->ns->href &&
          std::strcmp(reinterpret_cast<const char*>(child->ns->href),
                      reinterpret_cast<const char*>(next->ns->href)) == 0) {
        dup = next;
      }
      next = next->next;
      if (dup) {
        xmlUnlinkNode(dup);
        xmlFreeNode(dup);
      }
    }
    child = child->next;
  }
}

std::string parse_metadata(xmlNode* root) {
  xmlNode* meta = xpath_child(root, "metadata");
  if (!meta || !xmlFirstElementChild(meta)) return {};
  xmlNode* copy = xmlCopyNode(meta, 1);
  if (!copy) return {};
  sanitize_metadata(copy);
  std::string out = dump_node(copy, 1);
  xmlFreeNode(copy);
  return out;
}

Status parse_dnsmasq_options(xmlNode* root, std::vector<std::string>* out) {
  auto in_ns = [](const xmlNode* n, const char* name) {
    return is_element(n, name) && n->ns && n->ns->href &&
           std::strcmp(reinterpret_cast<const char*>(n->ns->href), kDnsmasqNamespace) == 0;
  };
  for (xmlNode* opts = root->children; opts; opts = opts->next) {
    if (!in_ns(opts, "options")) continue;
    for (xmlNode* o = opts->children; o; o = o->next) {
      if (!in_ns(o, "option")) continue;
      auto value = prop(o, "value");
      if (!value) return Status::error("No dnsmasq options value specified");
      out->push_back(*value);
    }
  }
  return {};
}

Status parse_bridge(const std::string& net, xmlNode* root, BridgeDef* out) {
  xmlNode* b = xpath_child(root, "bridge");
  BridgeDef bridge;
  if (!b) {
    *out = bridge;
    return {};
  }
  bridge.name = xpath_prop(b, "name").value_or("");
  bridge.zone = xpath_prop(b, "zone").value_or("");
  if (auto stp = xpath_prop(b, "stp")) bridge.stp = *stp == "off" ? TriState::kNo : TriState::kYes;
  if (auto delay = xpath_prop(b, "delay")) {
    auto v = str_to_ulp(*delay);
    if (!v) return Status::error("Invalid delay value in network " + q(net));
    bridge.delay = static_cast<unsigned long>(*v);
  }
  if (auto mtm = xpath_prop(b, "macTableManager")) {
    if (*mtm == "kernel") {
      bridge.mac_table_manager = MacTableManager::kKernel;
    } else if (*mtm == "libvirt") {
      bridge.mac_table_manager = MacTableManager::kLibvirt;
    } else {
      return Status::error("Invalid macTableManager setting " + q(*mtm) + " in network " + q(net));
    }
  }
  *out = std::move(bridge);
  return {};
}

Status parse_network_root(xmlNode* root, const RandomBytes& rng, NetworkDef* out) {
  NetworkDef def;
  auto name = xpath_child_text(root, "name");
  if (!name) return Status::error("missing name information: <network> has no <name> element");
  if (name->find('/') != std::string::npos) return Status::error("invalid char in name: /");
  def.name = *name;
  const std::string& net = def.name;

  if (auto uuid = xpath_child_text(root, "uuid")) {
    auto u = parse_uuid(*uuid);
    if (!u) return Status::error("malformed uuid element");
    def.uuid = *u;
  } else {
    rng(def.uuid.data(), def.uuid.size());
    def.uuid[6] = static_cast<uint8_t>((def.uuid[6] & 0x0f) | 0x40);  // RFC 4122 version 4
    def.uuid[8] = static_cast<uint8_t>((def.uuid[8] & 0x3f) | 0x80);  // RFC 4122 variant
  }
  def.title = xpath_child_text(root, "title").value_or("");
  if (def.title.find('\n') != std::string::npos) {
    return Status::error("Network title can't contain newlines");
  }
  def.description = xpath_child_text(root, "description").value_or("");

  if (auto ipv6 = xpath_prop(root, "ipv6")) {
    if (*ipv6 == "yes") {
      def.ipv6 = true;
    } else if (*ipv6 != "no") {
      return Status::error("Invalid ipv6 setting " + q(*ipv6) + " in network " + q(net));
    }
  }
  if (auto st = parse_tristate(root, "trustGuestRxFilters", &def.trust_guest_rx_filters); !st) {
    return st;
  }

  if (xmlNode* d = xpath_child(root, "domain")) {
    DomainDef domain;
    auto dname = prop(d, "name");
    if (auto st = parse_tristate(d, "localOnly", &domain.local_only); !st) return st;
    if (auto st = parse_tristate(d, "register", &domain.register_); !st) return st;
    if (domain.register_ == TriState::kYes && domain.local_only != TriState::kYes) {
      return Status::error(
          "attribute 'register=yes' in <domain> element requires 'localOnly=yes' in network " + net);
    }
    if (dname) {
      domain.name = *dname;
      def.domain = std::move(domain);
    }
  }
  if (xmlNode* bw = xpath_child(root, "bandwidth")) {
    if (auto st = parse_bandwidth(bw, &def.bandwidth); !st) return st;
  }
  if (xmlNode* vlan = xpath_child(root, "vlan")) {
    if (auto st = parse_vlan(vlan, &def.vlan); !st) return st;
  }
  if (xmlNode* port = xpath_child(root, "port")) {
    if (auto st = parse_tristate(port, "isolated", &def.port_isolated); !st) return st;
  }
  if (auto st = parse_bridge(net, root, &def.bridge); !st) return st;

  if (auto mac = xpath_prop(xpath_child(root, "mac"), "address")) {
    auto m = parse_mac(*mac);
    if (!m) return Status::error("Invalid bridge mac address " + q(*mac) + " in network " + q(net));
    if (m->is_multicast()) {
      return Status::error("Invalid multicast bridge mac address " + q(*mac) + " in network " +
                           q(net));
    }
    def.mac = *m;
  }
  if (auto mtu = xpath_prop(xpath_child(root, "mtu"), "size")) {
    auto v = str_to_ui(*mtu);
    if (!v) return Status::error("Invalid mtu size " + q(*mtu) + " in network " + q(net));
    def.mtu = *v;
  }
  if (xmlNode* dns = xpath_child(root, "dns")) {
    if (auto st = parse_dns(net, dns, &def.dns); !st) return st;
  }
  if (xmlNode* vp = xpath_child(root, "virtualport")) {
    VirtualPortDef v;
    if (auto st = parse_virtualport(vp, true, &v); !st) return st;
    def.virtualport = std::move(v);
  }
  for (xmlNode* pg : xpath_children(root, "portgroup")) {
    PortgroupDef p;
    if (auto st = parse_portgroup(pg, &p); !st) return st;
    def.portgroups.push_back(std::move(p));
  }
  for (xmlNode* ipn : xpath_children(root, "ip")) {
    IpDef ip;
    if (auto st = parse_ip_element(net, ipn, &ip); !st) return st;
    def.ips.push_back(std::move(ip));
  }
  for (xmlNode* rn : xpath_children(root, "route")) {
    RouteDef r;
    if (auto st = parse_route(net, rn, &r); !st) return st;
    def.routes.push_back(std::move(r));
  }
  if (auto st = check_route_gateways(def); !st) return st;
  if (xmlNode* fwd = xpath_child(root, "forward")) {
    if (auto st = parse_forward(net, fwd, &def.forward); !st) return st;
  }
  if (auto st = check_forward_mode_rules(def); !st) return st;
  def.metadata = parse_metadata(root);
  if (auto st = parse_dnsmasq_options(root, &def.dnsmasq_options); !st) return st;
  if (auto st = parse_vnet_uplink(net, root, &def.uplink); !st) return st;
  *out = std::move(def);
  return {};
}

}  // namespace

Result<NetworkDef> parse_network_xml(std::string_view xml, const RandomBytes& rng) {
  std::string error;
  XmlDocPtr doc = parse_xml_document(xml, "(network_definition)", &error);
  if (!doc) return Result<NetworkDef>::error(error);
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (node_name(root) != "network") {
    return Result<NetworkDef>::error("expecting root element of 'network', not '" +
                                     std::string(node_name(root)) + "'");
  }
  NetworkDef def;
  const RandomBytes& source = rng ? rng : system_random_bytes();
  if (auto st = parse_network_root(root, source, &def); !st) return Result<NetworkDef>::error(st.error());
  return def;
}

}  // namespace vnet::xml
