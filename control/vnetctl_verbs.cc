// The vnetctl verbs: one function per virsh net-* command.
#include <ctime>
#include <functional>
#include <iostream>
#include <optional>
#include <string>

#include "control/atomic_file.h"
#include "control/ctl_output.h"
#include "control/network_checks.h"
#include "control/registry.h"
#include "control/vnetctl.h"

namespace vnet::ctl {
namespace {

namespace po = boost::program_options;
using nlohmann::json;

// Calls `cmd`. Returns its result when the verb still has to print it as
// text; nullopt when there is nothing left to do: the error was reported or
// --json printed the result (`rc` is the exit status then).
std::optional<json> call_for_text(CtlContext& ctx, std::string_view cmd, const json& args, int& rc) {
  xml::Result<json> r = ctx.call(cmd, args);
  if (!r.ok()) {
    rc = ctx.fail(r.error());
    return std::nullopt;
  }
  if (ctx.json) {
    ctx.print_json(*r);
    return std::nullopt;
  }
  return std::move(*r);
}

std::string arg(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::string>() : std::string();
}

bool flag(const po::variables_map& vm, const char* name) { return vm.count(name) && vm[name].as<bool>(); }

std::string str_member(const json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

void no_options(po::options_description&) {}

// ---------------------------------------------------------------- define / create

int define_or_create(CtlContext& ctx, const po::variables_map& vm, const char* cmd, const char* done) {
  const std::string file = arg(vm, "file");
  xml::Result<std::string> content = read_file(file);
  if (!content.ok()) return ctx.fail(content.error());
  json args = json::object();
  args["xml"] = std::move(*content);
  xml::Result<json> r = ctx.call(cmd, args);
  if (!r.ok()) return ctx.fail(r.error());
  if (ctx.json) {
    ctx.print_json(*r);
  } else {
    ctx.message("Network " + str_member(*r, "name") + " " + done + " from " + file + "\n");
  }
  return 0;
}

int run_define(CtlContext& ctx, const po::variables_map& vm) {
  return define_or_create(ctx, vm, "net-define", "defined");
}

int run_create(CtlContext& ctx, const po::variables_map& vm) {
  return define_or_create(ctx, vm, "net-create", "created");
}

// ---------------------------------------------------------------- simple lifecycle verbs

// Calls `cmd` with {"network": <arg>} and prints "Network <arg> <done>".
int simple_verb(CtlContext& ctx, const po::variables_map& vm, const char* cmd, const char* done,
                json extra_args = json::object()) {
  const std::string network = arg(vm, "network");
  json args = std::move(extra_args);
  args["network"] = network;
  xml::Result<json> r = ctx.call(cmd, args);
  if (!r.ok()) return ctx.fail(r.error());
  if (ctx.json) {
    ctx.print_json(*r);
  } else {
    ctx.message("Network " + network + " " + done + "\n");
  }
  return 0;
}

int run_undefine(CtlContext& ctx, const po::variables_map& vm) {
  return simple_verb(ctx, vm, "net-undefine", "has been undefined");
}
int run_start(CtlContext& ctx, const po::variables_map& vm) { return simple_verb(ctx, vm, "net-start", "started"); }
int run_destroy(CtlContext& ctx, const po::variables_map& vm) {
  return simple_verb(ctx, vm, "net-destroy", "destroyed");
}

void autostart_options(po::options_description& d) {
  d.add_options()("disable", po::bool_switch(), "disable autostarting");
}
int run_autostart(CtlContext& ctx, const po::variables_map& vm) {
  const bool disable = flag(vm, "disable");
  json extra = json::object();
  extra["disable"] = disable;
  return simple_verb(ctx, vm, "net-autostart", disable ? "unmarked as autostarted" : "marked as autostarted",
                     extra);
}

// ---------------------------------------------------------------- queries

// Calls `cmd` with {"network": <arg>} and prints the member `key` (or all with --json).
int query_verb(CtlContext& ctx, const po::variables_map& vm, const char* cmd, const char* key,
               json extra_args = json::object()) {
  json args = std::move(extra_args);
  args["network"] = arg(vm, "network");
  xml::Result<json> r = ctx.call(cmd, args);
  if (!r.ok()) return ctx.fail(r.error());
  if (ctx.json) {
    ctx.print_json(*r);
  } else if (key == nullptr) {
    *ctx.out << format_network_info(*r);
  } else {
    std::string text = str_member(*r, key);
    if (text.empty() || text.back() != '\n') text += '\n';
    *ctx.out << text;
  }
  return 0;
}

int run_info(CtlContext& ctx, const po::variables_map& vm) { return query_verb(ctx, vm, "net-info", nullptr); }
int run_uuid(CtlContext& ctx, const po::variables_map& vm) { return query_verb(ctx, vm, "net-uuid", "uuid"); }
int run_name(CtlContext& ctx, const po::variables_map& vm) { return query_verb(ctx, vm, "net-name", "name"); }

void dumpxml_options(po::options_description& d) {
  d.add_options()("inactive", po::bool_switch(), "show inactive defined XML");
}
int run_dumpxml(CtlContext& ctx, const po::variables_map& vm) {
  json extra = json::object();
  extra["inactive"] = flag(vm, "inactive");
  return query_verb(ctx, vm, "net-dumpxml", "xml", extra);
}

void list_options(po::options_description& d) {
  d.add_options()("inactive", po::bool_switch(), "list inactive networks")(
      "all", po::bool_switch(), "list inactive & active networks")(
      "persistent", po::bool_switch(), "list persistent networks")(
      "transient", po::bool_switch(), "list transient networks")(
      "autostart", po::bool_switch(), "list networks with autostart enabled")(
      "no-autostart", po::bool_switch(), "list networks with autostart disabled")(
      "uuid", po::bool_switch(), "list uuid's only")("name", po::bool_switch(), "list network names only")(
      "table", po::bool_switch(), "list table (default)");
}
int run_list(CtlContext& ctx, const po::variables_map& vm) {
  const bool opt_name = flag(vm, "name");
  const bool opt_uuid = flag(vm, "uuid");
  const bool opt_table = flag(vm, "table");
  if (int(opt_name) + int(opt_uuid) + int(opt_table) > 1) {
    return ctx.fail("Only one argument from --table, --name and --uuid may be specified.");
  }
  json args = json::object();
  args["active"] = true;
  args["inactive"] = false;
  if (flag(vm, "inactive")) {
    args["active"] = false;
    args["inactive"] = true;
  }
  if (flag(vm, "all")) {
    args["active"] = true;
    args["inactive"] = true;
  }
  args["persistent"] = flag(vm, "persistent");
  args["transient"] = flag(vm, "transient");
  args["autostart"] = flag(vm, "autostart");
  args["no_autostart"] = flag(vm, "no-autostart");
  int rc = 0;
  std::optional<json> r = call_for_text(ctx, "net-list", args, rc);
  if (!r) return rc;
  const ListStyle style = opt_name ? ListStyle::kName : opt_uuid ? ListStyle::kUuid : ListStyle::kTable;
  *ctx.out << format_network_list(*r, style, !ctx.quiet);
  return 0;
}

// ---------------------------------------------------------------- net-update

void update_options(po::options_description& d) {
  d.add_options()("parent-index", po::value<int>(), "which parent object to search through")(
      "config", po::bool_switch(), "affect next network startup")(
      "live", po::bool_switch(), "affect running network")(
      "current", po::bool_switch(), "affect current state of network");
}
int run_update(CtlContext& ctx, const po::variables_map& vm) {
  const bool live = flag(vm, "live");
  const bool config = flag(vm, "config");
  if (flag(vm, "current") && live) return ctx.fail("Options --current and --live are mutually exclusive");
  if (flag(vm, "current") && config) return ctx.fail("Options --current and --config are mutually exclusive");
  std::string xml_text = arg(vm, "xml");
  if (xml_text.empty() || xml_text[0] != '<') {
    xml::Result<std::string> content = read_file(xml_text);
    if (!content.ok()) return ctx.fail(content.error());
    xml_text = std::move(*content);
  }
  json args = json::object();
  args["network"] = arg(vm, "network");
  args["command"] = arg(vm, "command");
  args["section"] = arg(vm, "section");
  args["xml"] = xml_text;
  args["parent_index"] = vm.count("parent-index") ? vm["parent-index"].as<int>() : -1;
  args["live"] = live;
  args["config"] = config;
  int rc = 0;
  std::optional<json> r = call_for_text(ctx, "net-update", args, rc);
  if (!r) return rc;
  const bool did_live = r->value("live", false);
  const bool did_config = r->value("config", false);
  const std::string what = did_config && did_live ? "persistent config and live state"
                           : did_config           ? "persistent config"
                                                  : "live state";
  // virsh prints this without a newline; the end-of-command newline ends it.
  ctx.message("Updated network " + str_member(*r, "name") + " " + what);
  return 0;
}

// ---------------------------------------------------------------- net-validate (offline)

void validate_options(po::options_description& d) {
  d.add_options()("print", po::bool_switch(), "print the canonical XML (parse, then format)")(
      "inactive", po::bool_switch(), "with --print: format as inactive XML");
}
int run_validate(CtlContext& ctx, const po::variables_map& vm) {
  const std::string file = arg(vm, "file");
  xml::Result<std::string> content = read_file(file);
  if (!content.ok()) return ctx.fail(content.error());
  xml::Result<xml::NetworkDef> def = parse_and_validate(*content);
  if (!def.ok()) return ctx.fail(def.error());
  const bool print = flag(vm, "print");
  const unsigned fmt = flag(vm, "inactive") ? xml::kFormatInactive : xml::kFormatDefault;
  if (ctx.json) {
    json j = json::object();
    j["valid"] = true;
    j["name"] = def->name;
    j["uuid"] = uuid_string(*def);
    if (print) j["xml"] = xml::format_network_xml(*def, fmt);
    ctx.print_json(j);
  } else if (print) {
    *ctx.out << xml::format_network_xml(*def, fmt);
  } else {
    ctx.message(file + " validates\n");
  }
  return 0;
}

// ---------------------------------------------------------------- ports

uint64_t u64_member(const json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_number_unsigned()) ? it->get<uint64_t>() : 0;
}

void port_add_options(po::options_description& d) {
  d.add_options()("name", po::value<std::string>(), "port name (default vhostN, or the interface name)")(
      "type", po::value<std::string>(), "vhostuser (default), tap, afpacket or afxdp")(
      "mode", po::value<std::string>(), "vhostuser: server (default: vnetd creates the socket) or client")(
      "path", po::value<std::string>(), "vhostuser: socket path (default RUN-DIR/NETWORK/NAME.sock)")(
      "queues", po::value<int>(), "vhostuser: queue pairs (default 1)")(
      "owner", po::value<std::string>(), "vhostuser server: user owning the socket")(
      "group", po::value<std::string>(), "vhostuser server: group owning the socket")(
      "ifname", po::value<std::string>(), "tap / afpacket / afxdp: kernel interface name")(
      "portgroup", po::value<std::string>(), "the network's <portgroup> whose <vlan> applies (default: the "
                                             "default portgroup)")(
      "vlan", po::value<std::string>(), "the port's own VLANs, e.g. 42 (access), 10,20 or 10:untagged,20 (trunk "
                                        "with a native VLAN)")(
      "trunk", po::bool_switch(), "with --vlan: a trunk even with one tag")(
      "isolated", po::value<std::string>(), "yes or no: override the network's <port isolated>");
}

int run_port_add(CtlContext& ctx, const po::variables_map& vm) {
  json args = json::object();
  args["network"] = arg(vm, "network");
  for (const char* k : {"name", "type", "mode", "path", "owner", "group", "ifname", "portgroup", "vlan", "isolated"}) {
    if (vm.count(k)) args[k] = arg(vm, k);
  }
  if (vm["trunk"].as<bool>()) args["trunk"] = true;
  if (vm.count("queues")) args["queues"] = vm["queues"].as<int>();
  int rc = 0;
  std::optional<json> r = call_for_text(ctx, "port-add", args, rc);
  if (!r) return rc;
  const json& port = (*r)["port"];
  const std::string name = str_member(port, "name");
  ctx.message("Port " + name + " added to network " + str_member(*r, "network") + "\n");
  if (str_member(port, "type") != "vhostuser") {
    *ctx.out << "Type:      " << str_member(port, "type") << "\nInterface: " << str_member(port, "ifname") << "\n";
    return 0;
  }
  const bool server = str_member(port, "mode") == "server";
  *ctx.out << "Socket:    " << str_member(port, "path") << (server ? " (vnetd listens, QEMU connects)\n"
                                                                    : " (QEMU listens, vnetd connects)\n");
  *ctx.out << "MAC:       " << str_member(port, "mac") << "\n\nQEMU arguments:\n";
  const json& q = (*r)["qemu"];
  for (size_t i = 0; i + 1 < q.size(); i += 2) {
    *ctx.out << "  " << q[i].get<std::string>() << " " << q[i + 1].get<std::string>()
             << (i + 2 < q.size() ? " \\\n" : "\n");
  }
  *ctx.out << "  (guest RAM must be shared: -object memory-backend-memfd,id=mem0,size=RAM,share=on"
              " -machine memory-backend=mem0)\n\nlibvirt <devices> snippet (needs <memoryBacking><access mode='shared'/>):\n"
           << str_member(*r, "libvirt");
  return 0;
}

int run_port_remove(CtlContext& ctx, const po::variables_map& vm) {
  json args = json::object();
  args["network"] = arg(vm, "network");
  args["port"] = arg(vm, "port");
  xml::Result<json> r = ctx.call("port-remove", args);
  if (!r.ok()) return ctx.fail(r.error());
  if (ctx.json) {
    ctx.print_json(*r);
  } else {
    ctx.message("Port " + arg(vm, "port") + " removed from network " + str_member(*r, "network") + "\n");
  }
  return 0;
}

int run_port_list(CtlContext& ctx, const po::variables_map& vm) {
  json args = json::object();
  args["network"] = arg(vm, "network");
  int rc = 0;
  std::optional<json> r = call_for_text(ctx, "port-list", args, rc);
  if (!r) return rc;
  std::vector<std::vector<std::string>> rows;
  for (const json& p : (*r)["ports"]) {
    const bool vhost = str_member(p, "type") == "vhostuser";
    rows.push_back({str_member(p, "name"), str_member(p, "type"),
                    vhost ? str_member(p, "path") : str_member(p, "ifname"), vhost ? str_member(p, "mode") : "-",
                    str_member(p, "link"), std::to_string(u64_member(p, "macs")),
                    vhost ? std::to_string(u64_member(p, "queues")) : "-"});
  }
  *ctx.out << format_table({"Name", "Type", "Socket/Interface", "Mode", "Link", "MACs", "Queues"}, rows, !ctx.quiet);
  return 0;
}

void port_stats_options(po::options_description& d) {
  d.add_options()("port", po::value<std::string>(), "only this port");
}
int run_port_stats(CtlContext& ctx, const po::variables_map& vm) {
  json args = json::object();
  args["network"] = arg(vm, "network");
  if (vm.count("port")) args["port"] = arg(vm, "port");
  int rc = 0;
  std::optional<json> r = call_for_text(ctx, "port-stats", args, rc);
  if (!r) return rc;
  std::vector<std::vector<std::string>> rows;
  for (const json& p : (*r)["ports"]) {
    std::string drops;
    for (const auto& [reason, n] : p["drops"].items()) {
      if (!n.is_number_unsigned() || n.get<uint64_t>() == 0) continue;
      drops += (drops.empty() ? "" : " ") + reason + "=" + std::to_string(n.get<uint64_t>());
    }
    rows.push_back({str_member(p, "name"), std::to_string(u64_member(p, "rx_packets")),
                    std::to_string(u64_member(p, "rx_bytes")), std::to_string(u64_member(p, "tx_packets")),
                    std::to_string(u64_member(p, "tx_bytes")), drops.empty() ? "-" : drops});
  }
  *ctx.out << format_table({"Port", "RX packets", "RX bytes", "TX packets", "TX bytes", "Drops"}, rows, !ctx.quiet);
  return 0;
}

// ---------------------------------------------------------------- DHCP leases

void dhcp_leases_options(po::options_description& d) {
  d.add_options()("mac", po::value<std::string>(), "only the lease of this MAC address");
}
int run_dhcp_leases(CtlContext& ctx, const po::variables_map& vm) {
  json args = json::object();
  args["network"] = arg(vm, "network");
  if (vm.count("mac")) args["mac"] = arg(vm, "mac");
  int rc = 0;
  std::optional<json> r = call_for_text(ctx, "net-dhcp-leases", args, rc);
  if (!r) return rc;
  std::vector<std::vector<std::string>> rows;
  for (const json& l : (*r)["leases"]) {
    const int64_t expiry = l.value("expiry_time", int64_t{0});
    std::string when = "never";
    if (expiry > 0) {
      const std::time_t t = static_cast<std::time_t>(expiry);
      std::tm tm{};
      localtime_r(&t, &tm);
      char buf[32];
      std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
      when = buf;
    }
    const std::string host = str_member(l, "hostname");
    const std::string cid = str_member(l, "clientid");
    const std::string mac = str_member(l, "mac");
    rows.push_back({when, mac.empty() ? "-" : mac, str_member(l, "protocol"), str_member(l, "ipaddr"),
                    host.empty() ? "-" : host, cid.empty() ? "-" : cid});
  }
  *ctx.out << format_table({"Expiry Time", "MAC address", "Protocol", "IP address", "Hostname", "Client ID or DUID"},
                           rows, !ctx.quiet);
  return 0;
}

// ---------------------------------------------------------------- FDB

int run_fdb_show(CtlContext& ctx, const po::variables_map& vm) {
  json args = json::object();
  args["network"] = arg(vm, "network");
  int rc = 0;
  std::optional<json> r = call_for_text(ctx, "fdb-show", args, rc);
  if (!r) return rc;
  std::vector<std::vector<std::string>> rows;
  for (const json& e : (*r)["entries"]) {
    const bool local = e.value("local", false);
    const uint64_t vlan = u64_member(e, "vlan");
    rows.push_back({str_member(e, "port"), str_member(e, "mac"), vlan == 0 ? "-" : std::to_string(vlan),
                    local ? "yes" : "no", std::to_string(u64_member(e, "age_s")) + ".00"});
  }
  *ctx.out << format_table({"Port", "MAC addr", "VLAN", "Is local?", "Ageing timer"}, rows, !ctx.quiet);
  return 0;
}

int run_fdb_stats(CtlContext& ctx, const po::variables_map& vm) {
  json args = json::object();
  args["network"] = arg(vm, "network");
  int rc = 0;
  std::optional<json> r = call_for_text(ctx, "fdb-stats", args, rc);
  if (!r) return rc;
  const json& j = *r;
  *ctx.out << "Statistics for network '" << str_member(j, "network") << "':\n"
           << "  Current/maximum MAC entries in the table: " << u64_member(j, "entries") << "/"
           << u64_member(j, "mac_limit") << "\n"
           << "  Total number of learned MAC entries     : " << u64_member(j, "learned") << "\n"
           << "  Total number of expired MAC entries     : " << u64_member(j, "aged") << "\n"
           << "  Total number of port moved MAC entries  : " << u64_member(j, "moved") << "\n"
           << "  Stations not learned (limit or full)    : " << u64_member(j, "limit_hits") << "\n"
           << "  Ageing time                             : " << u64_member(j, "ageing_s") << " s\n";
  return 0;
}

void fdb_flush_options(po::options_description& d) {
  d.add_options()("port", po::value<std::string>(), "only the entries learned on this port");
}
int run_fdb_flush(CtlContext& ctx, const po::variables_map& vm) {
  json args = json::object();
  args["network"] = arg(vm, "network");
  if (vm.count("port")) args["port"] = arg(vm, "port");
  xml::Result<json> r = ctx.call("fdb-flush", args);
  if (!r.ok()) return ctx.fail(r.error());
  if (ctx.json) {
    ctx.print_json(*r);
  } else if (vm.count("port")) {
    ctx.message("Flushed the FDB entries of port " + arg(vm, "port") + " in network " + str_member(*r, "network") +
                "\n");
  } else {
    ctx.message("Flushed the FDB of network " + str_member(*r, "network") + "\n");
  }
  return 0;
}

int run_fdb_setageing(CtlContext& ctx, const po::variables_map& vm) {
  const std::string secs = arg(vm, "seconds");
  long long n = -1;
  if (secs.empty() || secs.size() > 12 || secs.find_first_not_of("0123456789") != std::string::npos) {
    return ctx.fail("invalid ageing time '" + secs + "' (seconds, 0..1000000)");
  }
  n = std::stoll(secs);
  json args = json::object();
  args["network"] = arg(vm, "network");
  args["seconds"] = n;
  xml::Result<json> r = ctx.call("fdb-setageing", args);
  if (!r.ok()) return ctx.fail(r.error());
  if (ctx.json) {
    ctx.print_json(*r);
  } else {
    ctx.message("Ageing time of network " + str_member(*r, "network") + " set to " +
                std::to_string(u64_member(*r, "ageing_s")) + " seconds\n");
  }
  return 0;
}

int run_fdb_setlimit(CtlContext& ctx, const po::variables_map& vm) {
  const std::string text = arg(vm, "limit");
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
    return ctx.fail("invalid MAC limit '" + text + "' (1..67108864)");
  json args = json::object();
  args["network"] = arg(vm, "network");
  args["limit"] = std::stoll(text);
  xml::Result<json> r = ctx.call("fdb-setlimit", args);
  if (!r.ok()) return ctx.fail(r.error());
  if (ctx.json) {
    ctx.print_json(*r);
  } else {
    ctx.message("MAC limit of network " + str_member(*r, "network") + " set to " +
                std::to_string(u64_member(*r, "mac_limit")) + "\n");
  }
  return 0;
}

// ---------------------------------------------------------------- NAT / routing

void nat_sessions_options(po::options_description& d) {
  d.add_options()("limit", po::value<unsigned>()->default_value(1000), "print at most this many sessions");
}
int run_nat_sessions(CtlContext& ctx, const po::variables_map& vm) {
  json args = json::object();
  args["network"] = arg(vm, "network");
  args["limit"] = vm["limit"].as<unsigned>();
  int rc = 0;
  std::optional<json> r = call_for_text(ctx, "nat-sessions", args, rc);
  if (!r) return rc;
  std::vector<std::vector<std::string>> rows;
  for (const json& e : (*r)["sessions"]) {
    rows.push_back({str_member(e, "proto"), str_member(e, "inside"), str_member(e, "outside"), str_member(e, "peer"),
                    str_member(e, "state"), std::to_string(u64_member(e, "expires_in_s")),
                    std::to_string(u64_member(e, "worker"))});
  }
  *ctx.out << format_table({"Proto", "Inside", "Outside", "Peer", "State", "Expires (s)", "Worker"}, rows, !ctx.quiet);
  if (!ctx.quiet && r->value("truncated", false))
    *ctx.out << "(" << u64_member(*r, "total") << " sessions, first " << rows.size() << " shown)\n";
  return 0;
}

int run_nat_stats(CtlContext& ctx, const po::variables_map& vm) {
  json args = json::object();
  args["network"] = arg(vm, "network");
  int rc = 0;
  std::optional<json> r = call_for_text(ctx, "nat-stats", args, rc);
  if (!r) return rc;
  std::vector<std::vector<std::string>> rows;
  auto row = [&rows](const std::string& k, const std::string& v) { rows.push_back({k + ":", v}); };
  row("Network", str_member(*r, "network"));
  row("Mode", str_member(*r, "mode"));
  row("Uplink", str_member(*r, "uplink"));
  row("Outside address", str_member(*r, "outside"));
  row("Next hop", str_member(*r, "next_hop") + " " +
                      (str_member(*r, "next_hop_mac").empty() ? "(unresolved)" : str_member(*r, "next_hop_mac")));
  row("Sessions", std::to_string(u64_member(*r, "sessions")));
  for (const char* k : {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes"})
    if (r->contains("uplink_stats")) row(std::string("Uplink ") + k, std::to_string(u64_member((*r)["uplink_stats"], k)));
  if (r->contains("counters")) {
    for (const auto& [reason, n] : (*r)["counters"].items()) {
      if (!n.is_number_unsigned() || n.get<uint64_t>() == 0) continue;
      row(reason, std::to_string(n.get<uint64_t>()));
    }
  }
  *ctx.out << format_table({"Key", "Value"}, rows, false);
  return 0;
}

// pmd-stats: where each PMD worker's time goes, as OVS's pmd-stats-show.
int run_pmd_stats(CtlContext& ctx, const po::variables_map&) {
  int rc = 0;
  std::optional<json> r = call_for_text(ctx, "pmd-stats", json::object(), rc);
  if (!r) return rc;
  auto pct = [](uint64_t part, uint64_t whole) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f %%", whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole));
    return std::string(b);
  };
  auto per = [](uint64_t a, uint64_t b) {
    char s[32];
    std::snprintf(s, sizeof s, "%.1f", b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b));
    return std::string(s);
  };
  for (const json& p : r->value("pmds", json::array())) {
    const uint64_t busy = u64_member(p, "busy_cycles");
    const uint64_t idle = u64_member(p, "idle_cycles");
    const uint64_t frames = u64_member(p, "frames");
    const uint64_t busy_loops = u64_member(p, "busy_loops");
    const int cpu = p.value("cpu", -1);
    *ctx.out << "pmd " << u64_member(p, "worker") << " (lcore " << u64_member(p, "lcore")
             << (cpu >= 0 ? ", cpu " + std::to_string(cpu) : std::string()) << "):\n";
    std::vector<std::vector<std::string>> rows;
    rows.push_back({" iterations:", std::to_string(u64_member(p, "loops"))});
    rows.push_back({" busy iterations:", std::to_string(busy_loops)});
    rows.push_back({" frames:", std::to_string(frames)});
    rows.push_back({" frames per busy iteration:", per(frames, busy_loops)});
    rows.push_back({" busy cycles:", std::to_string(busy) + " (" + pct(busy, busy + idle) + ")"});
    rows.push_back({" idle cycles:", std::to_string(idle) + " (" + pct(idle, busy + idle) + ")"});
    rows.push_back({" busy cycles per frame:", per(busy, frames)});
    rows.push_back({" TSC:", std::to_string(u64_member(p, "tsc_hz")) + " Hz"});
    const json fc = p.value("flow_cache", json::object());
    const uint64_t lookups = u64_member(fc, "lookups");
    rows.push_back({" flow cache lookups:", std::to_string(lookups)});
    rows.push_back({" flow cache hits:", std::to_string(u64_member(fc, "hits")) + " (" +
                                             pct(u64_member(fc, "hits"), lookups) + " of lookups)"});
    rows.push_back({" flow cache inserts:", std::to_string(u64_member(fc, "inserts"))});
    rows.push_back({" flow cache inserts declined:", std::to_string(u64_member(fc, "declined")) +
                                                         " (every way of the set in use)"});
    rows.push_back({" flow cache invalidations:", std::to_string(u64_member(fc, "invalidations"))});
    rows.push_back({" flow cache bypasses:", std::to_string(u64_member(fc, "bypasses")) + " (" +
                                                 std::to_string(u64_member(fc, "bypassed_frames")) +
                                                 " frames received while bypassed)"});
    *ctx.out << format_table({"Counter", "Value"}, rows, false);
  }
  return 0;
}

// gateway-stats: the non-zero counters, one "group.name: n" per line.
int run_gateway_stats(CtlContext& ctx, const po::variables_map& vm) {
  json args = json::object();
  args["network"] = arg(vm, "network");
  int rc = 0;
  std::optional<json> r = call_for_text(ctx, "gateway-stats", args, rc);
  if (!r) return rc;
  std::vector<std::vector<std::string>> rows;
  std::function<void(const std::string&, const json&)> walk = [&](const std::string& prefix, const json& j) {
    for (const auto& [k, v] : j.items()) {
      const std::string name = prefix.empty() ? k : prefix + "." + k;
      if (v.is_object()) {
        walk(name, v);
      } else if (v.is_number_unsigned() && v.get<uint64_t>() != 0) {
        rows.push_back({name + ":", std::to_string(v.get<uint64_t>())});
      } else if (v.is_string() && !v.get<std::string>().empty() && k != "network") {
        rows.push_back({name + ":", v.get<std::string>()});
      }
    }
  };
  walk("", *r);
  ctx.message("Gateway of network " + str_member(*r, "network") + " (non-zero counters):\n");
  *ctx.out << format_table({"Counter", "Value"}, rows, false);
  return 0;
}

}  // namespace

const std::vector<VerbSpec>& vnetctl_verbs() {
  static const std::vector<VerbSpec> verbs = {
      {"net-autostart", "autostart a network", {"network"}, autostart_options, run_autostart},
      {"net-create", "create a network from an XML file", {"file"}, no_options, run_create},
      {"net-dhcp-leases", "print lease info for a given network", {"network"}, dhcp_leases_options,
       run_dhcp_leases},
      {"net-define", "define an inactive persistent virtual network or modify an existing persistent one from an XML file",
       {"file"}, no_options, run_define},
      {"net-destroy", "destroy (stop) a network", {"network"}, no_options, run_destroy},
      {"net-dumpxml", "network information in XML", {"network"}, dumpxml_options, run_dumpxml},
      {"net-info", "network information", {"network"}, no_options, run_info},
      {"net-list", "list networks", {}, list_options, run_list},
      {"net-name", "convert a network UUID to network name", {"network"}, no_options, run_name},
      {"net-start", "start a (previously defined) inactive network", {"network"}, no_options, run_start},
      {"net-undefine", "undefine a persistent network", {"network"}, no_options, run_undefine},
      {"net-update", "update parts of an existing network's configuration",
       {"network", "command", "section", "xml"}, update_options, run_update},
      {"net-uuid", "convert a network name to network UUID", {"network"}, no_options, run_uuid},
      {"net-validate", "validate a network XML file offline (exit 0 when valid)", {"file"}, validate_options,
       run_validate},
      {"port-add", "add a port (vhost-user socket, TAP or AF_PACKET interface) to an active network",
       {"network"}, port_add_options, run_port_add},
      {"port-remove", "remove a port from a network", {"network", "port"}, no_options, run_port_remove},
      {"port-list", "list the ports of a network", {"network"}, no_options, run_port_list},
      {"port-stats", "packet, byte and drop counters of a network's ports", {"network"}, port_stats_options,
       run_port_stats},
      {"fdb-show", "show the learned MAC addresses of a network (brctl showmacs)", {"network"}, no_options,
       run_fdb_show},
      {"fdb-stats", "FDB counters of a network: entries, learned, aged, moved, not learned (fdb/stats-show)",
       {"network"}, no_options, run_fdb_stats},
      {"fdb-flush", "forget the learned MAC addresses of a network or one port", {"network"}, fdb_flush_options,
       run_fdb_flush},
      {"fdb-setageing", "set the MAC ageing time of a network, in seconds (0: never)", {"network", "seconds"},
       no_options, run_fdb_setageing},
      {"fdb-setlimit", "set how many MAC addresses a network learns (default 8192)", {"network", "limit"},
       no_options, run_fdb_setlimit},
      {"gateway-stats", "counters of a network's gateway: ARP/ICMP, DHCP, DNS and TFTP outcomes, drops by reason",
       {"network"}, no_options, run_gateway_stats},
      {"nat-sessions", "list the NAT sessions (connection tracking) of a nat network", {"network"},
       nat_sessions_options, run_nat_sessions},
      {"nat-stats", "routing state of a nat/route/open network: uplink, next hop, sessions, counters by reason",
       {"network"}, no_options, run_nat_stats},
      {"pmd-stats", "where each PMD worker's time goes: frames, busy and idle cycles, cycles per frame", {},
       no_options, run_pmd_stats},
  };
  return verbs;
}

const VerbSpec* find_verb(std::string_view name) {
  for (const VerbSpec& v : vnetctl_verbs()) {
    if (name == v.name) return &v;
  }
  return nullptr;
}

xml::Result<nlohmann::json> CtlContext::call(std::string_view cmd, const nlohmann::json& args) {
  if (!client) client = std::make_unique<CtlClient>(socket_path);
  return client->call(cmd, args);
}

int CtlContext::fail(std::string_view msg) {
  *err << "error: " << msg << "\n";
  return 1;
}

void CtlContext::message(std::string_view text) {
  if (!quiet) *out << text;
}

void CtlContext::print_json(const nlohmann::json& j) {
  *out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace vnet::ctl
