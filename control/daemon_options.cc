#include "control/daemon_options.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <boost/program_options.hpp>

namespace vnet::ctl {

namespace po = boost::program_options;

xml::Result<DaemonOptions> parse_daemon_options(const std::vector<std::string>& args) {
  using R = xml::Result<DaemonOptions>;
  DaemonOptions o;

  po::options_description file_opts("Options (also valid as 'key = value' lines in --config FILE)");
  file_opts.add_options()("state-dir", po::value<std::string>(), "state directory (default /var/lib/vnet)")(
      "run-dir", po::value<std::string>(), "runtime directory (default /run/vnet)")(
      "socket", po::value<std::string>(), "control socket (default RUN-DIR/vnetd.sock)")(
      "socket-group", po::value<std::string>(), "group that owns the socket and may use it")(
      "log-level", po::value<std::string>(), "debug, info, warning or error (default info)")(
      "pmd-cores", po::value<std::string>(), "CPUs for the PMD threads, e.g. 1 or 2-3,5 (default: one CPU)")(
      "eal-args", po::value<std::string>(), "extra DPDK EAL arguments (one string, split at blanks)")(
      "pmd-idle-sleep-us", po::value<unsigned>(), "PMDs sleep this long when idle (default 0: busy poll)")(
      "fdb-capacity", po::value<unsigned>(), "MAC table entries across all networks (default 65536)")(
      "hugepages", po::value<std::string>(), "auto (default), yes or no")(
      "uplink", po::value<std::string>(),
      "default uplink interface of nat/route/open networks without <forward dev>")(
      "nat-sessions", po::value<unsigned>(),
      "NAT session capacity per PMD worker and nat network (default 262144)")(
      "no-flow-cache", po::bool_switch(), "switch every frame through the L2 stages (no per-PMD flow cache)")(
      "pci", po::bool_switch(), "start DPDK with the PCI bus, for NIC/VF uplinks bound to vfio-pci")(
      "sysfs-root", po::value<std::string>(), "sysfs mount used to bind PCI uplinks (default /sys)")(
      "no-dataplane", po::bool_switch(), "run without DPDK: networks and ports are recorded, no packets move");
  po::options_description cli_only("Command line only");
  cli_only.add_options()("config", po::value<std::string>(), "read options from FILE")(
      "help,h", po::bool_switch(), "print this help")("version", po::bool_switch(), "print the version");
  po::options_description all;
  all.add(file_opts).add(cli_only);

  std::ostringstream help;
  help << "Usage: vnetd [options]\n\n" << all;
  o.help_text = help.str();

  po::variables_map vm;
  try {
    const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(args).options(all).style(style).run(), vm);
    if (vm.count("config")) {
      o.config_file = vm["config"].as<std::string>();
      std::ifstream in(o.config_file);
      if (!in) return R::error("cannot read config file '" + o.config_file + "'");
      po::store(po::parse_config_file(in, file_opts), vm);  // command line values stay
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return R::error(e.what());
  }

  o.help = vm["help"].as<bool>();
  o.version = vm["version"].as<bool>();
  if (vm.count("state-dir")) o.state_dir = vm["state-dir"].as<std::string>();
  if (vm.count("run-dir")) o.run_dir = vm["run-dir"].as<std::string>();
  o.socket_path = vm.count("socket") ? std::filesystem::path(vm["socket"].as<std::string>())
                                     : o.run_dir / "vnetd.sock";
  if (vm.count("socket-group")) o.socket_group = vm["socket-group"].as<std::string>();
  if (vm.count("log-level")) {
    const std::string lvl = vm["log-level"].as<std::string>();
    std::optional<LogLevel> parsed = parse_log_level(lvl);
    if (!parsed) return R::error("invalid log level '" + lvl + "' (debug, info, warning, error)");
    o.log_level = *parsed;
  }
  if (vm.count("pmd-cores")) {
    xml::Result<std::vector<unsigned>> cores = parse_cpu_list(vm["pmd-cores"].as<std::string>());
    if (!cores.ok()) return R::error("--pmd-cores: " + cores.error());
    o.pmd_cores = std::move(*cores);
  }
  if (vm.count("eal-args")) {
    std::istringstream in(vm["eal-args"].as<std::string>());
    for (std::string a; in >> a;) o.eal_args.push_back(a);
  }
  if (vm.count("pmd-idle-sleep-us")) o.pmd_idle_sleep_us = vm["pmd-idle-sleep-us"].as<unsigned>();
  if (vm.count("fdb-capacity")) {
    o.fdb_capacity = vm["fdb-capacity"].as<unsigned>();
    if (o.fdb_capacity < kMinFdbCapacity || o.fdb_capacity > kMaxFdbCapacity)
      return R::error("--fdb-capacity must be in " + std::to_string(kMinFdbCapacity) + ".." +
                      std::to_string(kMaxFdbCapacity));
  }
  if (vm.count("uplink")) {
    o.default_uplink = vm["uplink"].as<std::string>();
    if (o.default_uplink.empty() || o.default_uplink.size() > 15 ||
        o.default_uplink.find_first_of("/ \t\n") != std::string::npos)
      return R::error("invalid --uplink '" + o.default_uplink + "' (an interface name)");
  }
  if (vm.count("nat-sessions")) {
    o.nat_sessions = vm["nat-sessions"].as<unsigned>();
    if (o.nat_sessions < kMinNatSessionsOption || o.nat_sessions > kMaxNatSessionsOption)
      return R::error("--nat-sessions must be in " + std::to_string(kMinNatSessionsOption) + ".." +
                      std::to_string(kMaxNatSessionsOption));
  }
  o.dataplane = !vm["no-dataplane"].as<bool>();
  o.pci = vm["pci"].as<bool>();
  o.flow_cache = !vm["no-flow-cache"].as<bool>();
  if (vm.count("sysfs-root")) {
    o.sysfs_root = vm["sysfs-root"].as<std::string>();
    if (o.sysfs_root.empty() || o.sysfs_root.front() != '/')
      return R::error("invalid --sysfs-root '" + o.sysfs_root + "' (an absolute path)");
  }
  if (vm.count("hugepages")) {
    const std::string h = vm["hugepages"].as<std::string>();
    if (h == "yes") {
      o.hugepages = true;
    } else if (h == "no") {
      o.hugepages = false;
    } else if (h != "auto") {
      return R::error("invalid --hugepages '" + h + "' (auto, yes, no)");
    }
  }
  if (o.state_dir.empty()) return R::error("--state-dir must not be empty");
  if (o.socket_path.empty()) return R::error("--socket must not be empty");
  return o;
}

xml::Result<std::vector<unsigned>> parse_cpu_list(const std::string& text) {
  using R = xml::Result<std::vector<unsigned>>;
  std::vector<unsigned> out;
  std::istringstream in(text);
  std::string item;
  auto number = [](const std::string& s, unsigned& v) {
    if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    v = static_cast<unsigned>(std::stoul(s));
    return v < 1024;
  };
  while (std::getline(in, item, ',')) {
    unsigned lo = 0;
    unsigned hi = 0;
    const size_t dash = item.find('-');
    const bool ok = dash == std::string::npos ? number(item, lo) && number(item, hi)
                                              : number(item.substr(0, dash), lo) && number(item.substr(dash + 1), hi);
    if (!ok || lo > hi) return R::error("invalid CPU list '" + text + "'");
    for (unsigned c = lo; c <= hi; ++c) {
      if (std::find(out.begin(), out.end(), c) != out.end()) return R::error("CPU " + std::to_string(c) + " listed twice");
      out.push_back(c);
    }
  }
  if (out.empty()) return R::error("invalid CPU list '" + text + "'");
  return out;
}

std::string eal_file_prefix(const std::filesystem::path& run_dir) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(run_dir, ec);
  std::filesystem::path norm = (ec ? run_dir : abs).lexically_normal();
  if (!norm.has_filename() && norm != norm.root_path()) norm = norm.parent_path();  // "/a/b/" -> "/a/b"
  const std::string s = norm.string();
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", h);
  return std::string("vnet-") + buf;
}

}  // namespace vnet::ctl
