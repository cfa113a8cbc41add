#include "control/dispatcher.h"

#include <unistd.h>

#include <exception>
#include <stdexcept>

#include "control/network_checks.h"
#include "xml/addr.h"

namespace vnet::ctl {
namespace {

using nlohmann::json;

// A request that cannot be served; its what() is the one-line error.
class RequestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string require_string(const json& args, const char* key) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) throw RequestError(std::string("missing argument '") + key + "'");
  if (!it->is_string()) throw RequestError(std::string("argument '") + key + "' must be a string");
  return it->get<std::string>();
}

bool opt_bool(const json& args, const char* key, bool dflt = false) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return dflt;
  if (!it->is_boolean()) throw RequestError(std::string("argument '") + key + "' must be a boolean");
  return it->get<bool>();
}

int opt_int(const json& args, const char* key, int dflt) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return dflt;
  if (!it->is_number_integer()) throw RequestError(std::string("argument '") + key + "' must be an integer");
  const auto v = it->get<long long>();
  if (v < -1 || v > 1000000) throw RequestError(std::string("argument '") + key + "' is out of range");
  return static_cast<int>(v);
}

template <typename T>
T take(xml::Result<T> r) {
  if (!r.ok()) throw RequestError(r.error());
  return std::move(*r);
}

json info_json(xml::Result<NetworkInfo> r) { return to_json(take(std::move(r))); }


std::string opt_string(const json& args, const char* key) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return {};
  if (!it->is_string()) throw RequestError(std::string("argument '") + key + "' must be a string");
  return it->get<std::string>();
}

long long require_int(const json& args, const char* key) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) throw RequestError(std::string("missing argument '") + key + "'");
  if (!it->is_number_integer()) throw RequestError(std::string("argument '") + key + "' must be an integer");
  return it->get<long long>();
}

json port_added_json(const PortAdded& a) {
  json j = json::object();
  j["network"] = a.network;
  j["port"] = to_json(a.port);
  if (a.port.type == PortType::kVhostUser) {
    j["qemu"] = qemu_args(a.port);
    j["libvirt"] = libvirt_interface_xml(a.port);
  }
  return j;
}

}  // namespace

CommandDispatcher::CommandDispatcher(NetworkRegistry& registry, PortService* ports)
    : registry_(registry), ports_(ports) {}

json CommandDispatcher::net_info(const std::string& ref, LookupBy by) {
  NetworkInfo info = take(registry_.info(ref, by));
  json j = to_json(info);
  if (ports_ != nullptr && info.active) j["ports"] = ports_->port_count(info.name);
  return j;
}

void CommandDispatcher::forget_if_gone(const std::string& name) {
  if (ports_ != nullptr && !registry_.info(name, LookupBy::kName).ok()) ports_->network_gone(name);
}

json CommandDispatcher::run_port_command(const Request& req) {
  const std::string& cmd = req.cmd;
  const json& a = req.args;
  if (ports_ == nullptr) throw RequestError("ports are not supported by this daemon");
  const std::string net = require_string(a, "network");
  if (cmd == "port-add") {
    PortRequest r;
    r.name = opt_string(a, "name");
    r.type = opt_string(a, "type");
    r.mode = opt_string(a, "mode");
    r.path = opt_string(a, "path");
    r.queues = opt_int(a, "queues", -1);
    r.owner = opt_string(a, "owner");
    r.group = opt_string(a, "group");
    r.ifname = opt_string(a, "ifname");
    r.portgroup = opt_string(a, "portgroup");
    r.vlan = opt_string(a, "vlan");
    r.trunk = opt_bool(a, "trunk");
    r.isolated = opt_string(a, "isolated");
    return port_added_json(take(ports_->add(net, r)));
  }
  if (cmd == "port-remove") return port_added_json(take(ports_->remove(net, require_string(a, "port"))));
  if (cmd == "port-list") {
    json arr = json::array();
    for (const PortStatus& s : take(ports_->list(net))) arr.push_back(to_json(s));
    json j = json::object();
    j["network"] = take(registry_.info(net)).name;
    j["ports"] = arr;
    return j;
  }
  if (cmd == "port-stats") {
    json arr = json::array();
    for (const PortCounters& c : take(ports_->stats(net, opt_string(a, "port")))) arr.push_back(to_json(c));
    json j = json::object();
    j["network"] = take(registry_.info(net)).name;
    j["ports"] = arr;
    return j;
  }
  if (cmd == "fdb-show") {
    json arr = json::array();
    json j = json::object();
    for (const FdbRecord& r : take(ports_->fdb_show(net))) arr.push_back(to_json(r));
    j["network"] = take(registry_.info(net)).name;
    j["entries"] = arr;
    const FdbSettings fs = ports_->fdb_settings(j["network"].get<std::string>());
    j["ageing_s"] = fs.ageing_s;
    j["mac_limit"] = fs.mac_limit;
    return j;
  }
  if (cmd == "fdb-stats") {
    std::string name;
    const FdbCounts c = take(ports_->fdb_counts(net, &name));
    const FdbSettings fs = ports_->fdb_settings(name);
    json j = json::object();
    j["network"] = name;
    j["entries"] = c.entries;
    j["mac_limit"] = fs.mac_limit;
    j["ageing_s"] = fs.ageing_s;
    j["learned"] = c.learned;
    j["moved"] = c.moved;
    j["aged"] = c.aged;
    j["limit_hits"] = c.limit_hits;
    return j;
  }
  if (cmd == "fdb-flush") {
    const std::string port = opt_string(a, "port");
    xml::Status st = ports_->fdb_flush(net, port);
    if (!st.ok()) throw RequestError(st.error());
    json j = json::object();
    j["network"] = take(registry_.info(net)).name;
    if (!port.empty()) j["port"] = port;
    return j;
  }
  if (cmd == "fdb-setageing") {
    AgeingSet s = take(ports_->set_ageing(net, require_int(a, "seconds")));
    json j = json::object();
    j["network"] = s.network;
    j["ageing_s"] = s.ageing_s;
    return j;
  }
  if (cmd == "fdb-setlimit") {
    MacLimitSet s = take(ports_->set_mac_limit(net, require_int(a, "limit")));
    json j = json::object();
    j["network"] = s.network;
    j["mac_limit"] = s.mac_limit;
    return j;
  }
  throw RequestError("unknown command '" + cmd + "'");
}

std::string CommandDispatcher::handle_line(std::string_view line) {
  xml::Result<Request> req = parse_request(line);
  if (!req.ok()) return format_error(req.error());
  return handle(*req);
}

std::string CommandDispatcher::handle(const Request& req) {
  try {
    return format_ok(run(req));
  } catch (const RequestError& e) {
    return format_error(e.what());
  } catch (const std::exception& e) {
    return format_error(std::string("internal error: ") + e.what());
  }
}

json CommandDispatcher::run(const Request& req) {
  const std::string& cmd = req.cmd;
  const json& a = req.args;

  if (cmd == "ping") {
    json j = json::object();
    j["pid"] = static_cast<long>(::getpid());
    j["networks"] = registry_.size();
    return j;
  }
  if (cmd == "net-define") return info_json(registry_.define(require_string(a, "xml")));
  if (cmd == "net-create") return info_json(registry_.create(require_string(a, "xml")));
  if (cmd == "net-undefine" || cmd == "net-destroy") {
    NetworkInfo info = take(cmd == "net-undefine" ? registry_.undefine(require_string(a, "network"))
                                                  : registry_.destroy(require_string(a, "network")));
    forget_if_gone(info.name);
    return to_json(info);
  }
  if (cmd == "net-start") return info_json(registry_.start(require_string(a, "network")));
  if (cmd == "net-info") return net_info(require_string(a, "network"), LookupBy::kNameOrUuid);
  if (cmd == "net-uuid") return info_json(registry_.info(require_string(a, "network"), LookupBy::kName));
  if (cmd == "net-name") return info_json(registry_.info(require_string(a, "network"), LookupBy::kUuid));
  if (cmd.starts_with("port-") || cmd.starts_with("fdb-")) return run_port_command(req);
  if (cmd == "net-dhcp-leases") {
    const NetworkInfo info = take(registry_.info(require_string(a, "network")));
    if (!info.active) throw RequestError("network '" + info.name + "' is not active");
    json j = json::object();
    j["network"] = info.name;
    std::string mac = opt_string(a, "mac");
    if (!mac.empty()) {
      std::optional<xml::MacAddr> m = xml::parse_mac(mac);
      if (!m) throw RequestError("invalid MAC address '" + mac + "'");
      mac = m->format();
    }
    j["leases"] = leases_ ? leases_(info.name, mac) : json::array();
    return j;
  }
  if (cmd == "pmd-stats") {
    if (!pmd_stats_) throw RequestError("vnetd runs without a dataplane: no PMD workers");
    json j = json::object();
    j["pmds"] = pmd_stats_();
    return j;
  }
  if (cmd == "gateway-stats") {
    const NetworkInfo info = take(registry_.info(require_string(a, "network")));
    if (!info.active) throw RequestError("network '" + info.name + "' is not active");
    std::optional<json> st = gateway_stats_ ? gateway_stats_(info.name) : std::nullopt;
    if (!st) throw RequestError("network '" + info.name + "' has no gateway (no IPv4 <ip>)");
    (*st)["network"] = info.name;
    return *st;
  }
  if (cmd == "nat-sessions" || cmd == "nat-stats") {
    const NetworkInfo info = take(registry_.info(require_string(a, "network")));
    if (!info.active) throw RequestError("network '" + info.name + "' is not active");
    if (!l3_) throw RequestError("vnetd runs without a dataplane: no routing state");
    json j = take(l3_(cmd, info.name, a));
    j["network"] = info.name;
    return j;
  }
  if (cmd == "net-autostart") {
    return info_json(registry_.set_autostart(require_string(a, "network"), !opt_bool(a, "disable")));
  }
  if (cmd == "net-dumpxml") {
    const std::string ref = require_string(a, "network");
    const bool inactive = opt_bool(a, "inactive");
    json j = to_json(take(registry_.info(ref)));
    j["xml"] = take(registry_.dump_xml(ref, inactive));
    return j;
  }
  if (cmd == "net-list") {
    ListFilter f;
    const bool want_active = opt_bool(a, "active");
    const bool want_inactive = opt_bool(a, "inactive");
    if (want_active || want_inactive) {
      f.active = want_active;
      f.inactive = want_inactive;
    }
    f.persistent = opt_bool(a, "persistent");
    f.transient = opt_bool(a, "transient");
    f.autostart = opt_bool(a, "autostart");
    f.no_autostart = opt_bool(a, "no_autostart");
    json arr = json::array();
    for (const NetworkInfo& info : registry_.list(f)) arr.push_back(to_json(info));
    return arr;
  }
  if (cmd == "net-update") {
    UpdateRequest u;
    const std::string ref = require_string(a, "network");
    u.command = require_string(a, "command");
    u.section = require_string(a, "section");
    u.xml = require_string(a, "xml");
    u.parent_index = opt_int(a, "parent_index", -1);
    u.live = opt_bool(a, "live");
    u.config = opt_bool(a, "config");
    if (opt_bool(a, "current") && (u.live || u.config)) {
      throw RequestError("Options --current and --live/--config are mutually exclusive");
    }
    UpdateOutcome out = take(registry_.update(ref, u));
    json j = to_json(out.info);
    j["live"] = out.live;
    j["config"] = out.config;
    return j;
  }
  if (cmd == "net-validate") {
    xml::NetworkDef def = take(parse_and_validate(require_string(a, "xml")));
    json j = json::object();
    j["valid"] = true;
    j["name"] = def.name;
    j["uuid"] = uuid_string(def);
    if (opt_bool(a, "print")) {
      j["xml"] = xml::format_network_xml(def, opt_bool(a, "inactive") ? xml::kFormatInactive : xml::kFormatDefault);
    }
    return j;
  }
  throw RequestError("unknown command '" + cmd + "'");
}

}  // namespace vnet::ctl
