#include "control/port_config.h"

#include <algorithm>
#include <cstdio>

namespace vnet::ctl {

using nlohmann::json;

const char* port_type_name(PortType t) {
  switch (t) {
    case PortType::kVhostUser: return "vhostuser";
    case PortType::kTap: return "tap";
    case PortType::kAfPacket: return "afpacket";
    case PortType::kAfXdp: return "afxdp";
  }
  return "?";
}

const char* vhost_mode_name(VhostMode m) { return m == VhostMode::kServer ? "server" : "client"; }

bool is_valid_port_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxPortNameLength || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

namespace {

bool is_valid_ifname(const std::string& n) {
  // Linux IFNAMSIZ is 16 with the NUL; no '/', no whitespace, no ','.
  if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
  return std::none_of(n.begin(), n.end(), [](char c) {
    return c == '/' || c == ',' || c == ':' || c == '=' || c <= ' ' || c == 0x7f;
  });
}

std::string default_name(const char* prefix, const std::vector<std::string>& taken) {
  for (unsigned i = 0;; ++i) {
    std::string n = prefix + std::to_string(i);
    if (std::find(taken.begin(), taken.end(), n) == taken.end()) return n;
  }
}

}  // namespace

xml::Result<PortConfig> complete_port(const PortRequest& req, const std::string& network,
                                      const std::string& run_dir, const std::vector<std::string>& taken_names) {
  using R = xml::Result<PortConfig>;
  PortConfig p;
  if (req.type.empty() || req.type == "vhostuser") {
    p.type = PortType::kVhostUser;
  } else if (req.type == "tap") {
    p.type = PortType::kTap;
  } else if (req.type == "afpacket") {
    p.type = PortType::kAfPacket;
  } else if (req.type == "afxdp") {
    p.type = PortType::kAfXdp;
  } else {
    return R::error("invalid port type '" + req.type + "' (vhostuser, tap, afpacket, afxdp)");
  }
  const bool vhost = p.type == PortType::kVhostUser;
  if (!vhost) {
    const std::string t = port_type_name(p.type);
    if (!req.mode.empty()) return R::error("--mode applies to vhostuser ports only, not " + t);
    if (!req.path.empty()) return R::error("--path applies to vhostuser ports only, not " + t);
    if (req.queues != -1) return R::error("--queues applies to vhostuser ports only, not " + t);
    if (!req.owner.empty() || !req.group.empty())
      return R::error("--owner/--group apply to vhostuser server ports only, not " + t);
    if (req.ifname.empty()) return R::error(std::string(p.type == PortType::kAfXdp ? "an " : "a ") + t + " port needs --ifname");
    if (!is_valid_ifname(req.ifname)) return R::error("invalid interface name '" + req.ifname + "'");
    p.ifname = req.ifname;
  } else {
    if (!req.ifname.empty()) return R::error("--ifname applies to tap, afpacket and afxdp ports only");
    if (req.mode.empty() || req.mode == "server") {
      p.mode = VhostMode::kServer;
    } else if (req.mode == "client") {
      p.mode = VhostMode::kClient;
    } else {
      return R::error("invalid vhost-user mode '" + req.mode + "' (server, client)");
    }
    if (p.mode == VhostMode::kClient && (!req.owner.empty() || !req.group.empty()))
      return R::error("--owner/--group apply to server mode only: in client mode QEMU creates the socket");
    if (p.mode == VhostMode::kClient && req.path.empty())
      return R::error("a client-mode vhostuser port needs --path (the socket QEMU listens on)");
    if (req.queues != -1 && (req.queues < 1 || req.queues > static_cast<int>(kMaxPortQueues)))
      return R::error("--queues must be in 1.." + std::to_string(kMaxPortQueues));
    p.queues = req.queues == -1 ? 1 : static_cast<unsigned>(req.queues);
    p.owner = req.owner;
    p.group = req.group;
  }

  if (req.name.empty()) {
    p.name = vhost ? default_name("vhost", taken_names) : req.ifname;
  } else {
    p.name = req.name;
  }
  if (!is_valid_port_name(p.name))
    return R::error("invalid port name '" + p.name + "' (1.." + std::to_string(kMaxPortNameLength) +
                    " of A-Z a-z 0-9 _ - .)");
  if (std::find(taken_names.begin(), taken_names.end(), p.name) != taken_names.end())
    return R::error("port '" + p.name + "' already exists in network '" + network + "'");

  if (vhost) {
    p.path = req.path.empty() ? run_dir + "/" + network + "/" + p.name + ".sock" : req.path;
    if (p.path.front() != '/') return R::error("socket path '" + p.path + "' is not absolute");
    if (p.path.find(',') != std::string::npos) return R::error("socket path '" + p.path + "' contains ','");
    if (p.path.back() == '/') return R::error("socket path '" + p.path + "' names a directory");
    if (p.path.size() >= 108) return R::error("socket path '" + p.path + "' is longer than 107 bytes");
  }
  p.mac = derive_guest_mac(network, p.name);
  p.portgroup = req.portgroup;
  if (!p.portgroup.empty() && (p.portgroup.size() > 256 || p.portgroup.find_first_of("\n/'\"") != std::string::npos))
    return R::error("invalid portgroup name '" + p.portgroup + "'");
  if (!req.vlan.empty()) {
    xml::Result<xml::VlanDef> v = parse_vlan_spec(req.vlan, req.trunk);
    if (!v.ok()) return R::error(v.error());
    p.vlan = *v;
  } else if (req.trunk) {
    return R::error("--trunk needs --vlan");
  }
  if (req.isolated == "yes") {
    p.isolated = xml::TriState::kYes;
  } else if (req.isolated == "no") {
    p.isolated = xml::TriState::kNo;
  } else if (!req.isolated.empty()) {
    return R::error("invalid --isolated '" + req.isolated + "' (yes, no)");
  }
  return p;
}

xml::Result<xml::VlanDef> parse_vlan_spec(const std::string& spec, bool trunk) {
  using R = xml::Result<xml::VlanDef>;
  xml::VlanDef v;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    std::string item = spec.substr(start, comma - start);
    start = comma + 1;
    std::string mode;
    if (size_t colon = item.find(':'); colon != std::string::npos) {
      mode = item.substr(colon + 1);
      item.resize(colon);
    }
    if (item.empty() || item.size() > 4 || item.find_first_not_of("0123456789") != std::string::npos)
      return R::error("invalid VLAN id '" + item + "' in --vlan '" + spec + "' (1..4094)");
    const unsigned id = static_cast<unsigned>(std::stoul(item));
    if (id < 1 || id > 4094) return R::error("invalid VLAN id '" + item + "' in --vlan '" + spec + "' (1..4094)");
    if (std::find(v.tags.begin(), v.tags.end(), id) != v.tags.end())
      return R::error("VLAN " + item + " given twice in --vlan '" + spec + "'");
    if (!mode.empty()) {
      if (v.native_mode != xml::NativeVlanMode::kDefault)
        return R::error("--vlan '" + spec + "' has more than one native VLAN");
      if (mode == "untagged") {
        v.native_mode = xml::NativeVlanMode::kUntagged;
      } else if (mode == "tagged") {
        v.native_mode = xml::NativeVlanMode::kTagged;
      } else {
        return R::error("invalid native mode '" + mode + "' in --vlan '" + spec + "' (tagged, untagged)");
      }
      v.native_tag = id;
    }
    v.tags.push_back(id);
    if (comma == spec.size()) break;
  }
  v.trunk = trunk || v.tags.size() > 1 || v.native_mode != xml::NativeVlanMode::kDefault;
  return v;
}

std::string format_vlan_spec(const xml::VlanDef& vlan) {
  std::string out;
  for (unsigned t : vlan.tags) {
    if (!out.empty()) out += ',';
    out += std::to_string(t);
    if (vlan.native_mode != xml::NativeVlanMode::kDefault && t == vlan.native_tag)
      out += vlan.native_mode == xml::NativeVlanMode::kUntagged ? ":untagged" : ":tagged";
  }
  return out;
}

const xml::VlanDef& effective_vlan(const PortConfig& port, const xml::NetworkDef& def) {
  if (!port.vlan.empty()) return port.vlan;
  for (const xml::PortgroupDef& pg : def.portgroups) {
    const bool chosen = port.portgroup.empty() ? pg.is_default : pg.name == port.portgroup;
    if (chosen && !pg.vlan.empty()) return pg.vlan;
  }
  return def.vlan;
}

bool effective_isolated(const PortConfig& port, const xml::NetworkDef& def) {
  if (port.isolated != xml::TriState::kAbsent) return port.isolated == xml::TriState::kYes;
  return def.port_isolated == xml::TriState::kYes;
}

std::string derive_guest_mac(const std::string& network, const std::string& port, unsigned salt) {
  // FNV-1a over "network/port#salt".
  uint32_t h = 2166136261u;
  auto mix = [&h](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 16777619u;
    }
  };
  mix(network);
  mix("/");
  mix(port);
  if (salt != 0) mix("#" + std::to_string(salt));
  char buf[18];
  std::snprintf(buf, sizeof buf, "52:54:00:%02x:%02x:%02x", (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
  return buf;
}

json to_json(const PortConfig& p) {
  json j = json::object();
  j["name"] = p.name;
  j["type"] = port_type_name(p.type);
  if (p.type == PortType::kVhostUser) {
    j["mode"] = vhost_mode_name(p.mode);
    j["path"] = p.path;
    j["queues"] = p.queues;
    if (!p.owner.empty()) j["owner"] = p.owner;
    if (!p.group.empty()) j["group"] = p.group;
  } else {
    j["ifname"] = p.ifname;
  }
  j["mac"] = p.mac;
  if (!p.portgroup.empty()) j["portgroup"] = p.portgroup;
  if (!p.vlan.empty()) {
    j["vlan"] = format_vlan_spec(p.vlan);
    j["trunk"] = p.vlan.trunk;
  }
  if (p.isolated != xml::TriState::kAbsent) j["isolated"] = p.isolated == xml::TriState::kYes ? "yes" : "no";
  return j;
}

xml::Result<PortConfig> port_from_json(const json& j) {
  using R = xml::Result<PortConfig>;
  if (!j.is_object()) return R::error("port entry is not an object");
  auto str = [&j](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  PortRequest req;
  req.name = str("name");
  req.type = str("type");
  req.mode = str("mode");
  req.path = str("path");
  req.owner = str("owner");
  req.group = str("group");
  req.ifname = str("ifname");
  req.portgroup = str("portgroup");
  req.vlan = str("vlan");
  req.isolated = str("isolated");
  if (auto it = j.find("trunk"); it != j.end() && it->is_boolean()) req.trunk = it->get<bool>();
  if (auto it = j.find("queues"); it != j.end() && it->is_number_integer()) req.queues = it->get<int>();
  if (req.name.empty()) return R::error("port entry without a name");
  // The network and run dir only shape defaults, and every default was stored.
  xml::Result<PortConfig> p = complete_port(req, "", "", {});
  if (!p.ok()) return R::error("port '" + req.name + "': " + p.error());
  const std::string mac = str("mac");
  if (!mac.empty()) p->mac = mac;
  return p;
}

std::vector<std::string> qemu_args(const PortConfig& p) {
  if (p.type != PortType::kVhostUser) return {};
  const std::string chr = "chr-" + p.name;
  const std::string net = "net-" + p.name;
  std::string chardev = "socket,id=" + chr + ",path=" + p.path;
  // Our client mode means QEMU listens.
  if (p.mode == VhostMode::kClient) chardev += ",server=on,wait=off";
  std::string netdev = "vhost-user,id=" + net + ",chardev=" + chr;
  if (p.queues > 1) netdev += ",queues=" + std::to_string(p.queues);
  std::string device = "virtio-net-pci,netdev=" + net + ",mac=" + p.mac;
  if (p.queues > 1) device += ",mq=on,vectors=" + std::to_string(2 * p.queues + 2);
  return {"-chardev", chardev, "-netdev", netdev, "-device", device};
}

std::string libvirt_interface_xml(const PortConfig& p) {
  if (p.type != PortType::kVhostUser) return {};
  const char* qemu_mode = p.mode == VhostMode::kServer ? "client" : "server";
  std::string x = "<interface type='vhostuser'>\n";
  x += "  <mac address='" + p.mac + "'/>\n";
  x += "  <source type='unix' path='" + p.path + "' mode='" + qemu_mode + "'/>\n";
  x += "  <model type='virtio'/>\n";
  if (p.queues > 1) x += "  <driver queues='" + std::to_string(p.queues) + "'/>\n";
  x += "</interface>\n";
  return x;
}

json to_json(const PortStatus& s) {
  json j = to_json(s.config);
  j["running"] = s.running;
  j["link"] = s.running ? (s.link_up ? "up" : "down") : "inactive";
  j["macs"] = s.macs;
  if (!s.device.empty()) j["device"] = s.device;
  return j;
}

json to_json(const PortCounters& c) {
  json j = json::object();
  j["name"] = c.name;
  j["rx_packets"] = c.rx_packets;
  j["rx_bytes"] = c.rx_bytes;
  j["tx_packets"] = c.tx_packets;
  j["tx_bytes"] = c.tx_bytes;
  j["flow_cache_hits"] = c.flow_cache_hits;
  json d = json::object();
  for (const auto& [reason, n] : c.drops) d[reason] = n;
  j["drops"] = d;
  return j;
}

json to_json(const FdbRecord& r) {
  json j = json::object();
  j["port"] = r.port;
  j["mac"] = r.mac;
  j["vlan"] = r.vlan;
  j["local"] = r.local;
  j["age_s"] = r.age_s;
  return j;
}

}  // namespace vnet::ctl
