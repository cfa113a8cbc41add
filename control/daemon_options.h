// vnet::ctl — vnetd's command line and configuration file.
//
// Theory of operation
//   Options come from the command line and, with --config FILE, from a
//   Boost.Program_options config file using the same long names as keys
//   ("state-dir = /var/lib/vnet"). The command line wins over the file.
//     --state-dir DIR     default /var/lib/vnet
//     --run-dir DIR       default /run/vnet
//     --socket PATH       default RUN-DIR/vnetd.sock
//     --socket-group G    group owning the socket; its members may connect
//     --log-level L       debug | info | warning | error (default info)
//   Dataplane (DPDK) options:
//     --pmd-cores LIST    CPUs of the PMD threads, e.g. "1" or "2-3,5"
//                         (default: one CPU other than the control thread's)
//     --eal-args "ARGS"   extra EAL arguments, split at blanks, appended last
//     --pmd-idle-sleep-us N  PMDs sleep N us when a poll finds nothing
//                         (default 0: busy polling; for shared test machines)
//     --fdb-capacity N    MAC table entries across all networks (default
//                         65536, 1024..67108864); a network learns at most
//                         its fdb-setlimit (default 8192) of them
//     --hugepages W       auto (default: when the kernel has free 2 MiB pages),
//                         yes, or no (--no-huge, e.g. for tests)
//     --uplink IF         the uplink of nat/route/open networks that name no
//                         <forward dev> (control/uplink/UPLINK.md); default none
//     --nat-sessions N    NAT session table capacity per PMD worker and nat
//                         network (default 262144, 1024..16777216; ~92 bytes
//                         per session, preallocated at net-start)
//     --no-dataplane      run the registry only; no packets move (RecordingRuntime)
//   The EAL file prefix is derived from the run dir ("vnet-" + a hash of its
//   absolute path), so every vnetd with its own run dir has its own DPDK
//   runtime files; hugepages are used when the kernel has free 2 MiB pages,
//   else --no-huge (logged).
//   parse_daemon_options() never exits the process; main() decides.
//
// Thread-safety
//   Plain values and a pure function.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "control/log.h"
#include "xml/network_xml.h"

namespace vnet::ctl {

struct DaemonOptions {
  std::filesystem::path state_dir = "/var/lib/vnet";
  std::filesystem::path run_dir = "/run/vnet";
  std::filesystem::path socket_path;  // resolved: --socket or RUN-DIR/vnetd.sock
  std::string socket_group;           // "" = the daemon's own group, no extra members
  LogLevel log_level = LogLevel::kInfo;
  std::string config_file;            // --config, "" if none
  bool help = false;                  // --help: print help_text and exit 0
  bool version = false;               // --version
  std::string help_text;              // filled by parse_daemon_options
  std::vector<unsigned> pmd_cores;    // --pmd-cores; empty = default (one core)
  std::vector<std::string> eal_args;  // --eal-args, split at blanks
  unsigned pmd_idle_sleep_us = 0;     // --pmd-idle-sleep-us
  unsigned fdb_capacity = 65536;      // --fdb-capacity
  std::string default_uplink;         // --uplink; "" = none
  unsigned nat_sessions = 262144;     // --nat-sessions (per worker and nat network)
  bool dataplane = true;              // false with --no-dataplane
  bool flow_cache = true;             // --no-flow-cache: every frame through the L2 stages
  bool pci = false;                   // --pci: DPDK with the PCI bus, for PCI (vfio-pci) uplinks
  std::string sysfs_root = "/sys";    // --sysfs-root: where PCI devices are bound (tests: a fake tree)
  std::optional<bool> hugepages;      // --hugepages yes|no; unset = auto
};

inline constexpr unsigned kMinFdbCapacity = 1024;
inline constexpr unsigned kMaxFdbCapacity = 67108864;  // dp::Fdb::kMaxCapacity
inline constexpr unsigned kMinNatSessionsOption = 1024;      // = ctl::kMinNatSessions (l3_setup.h)
inline constexpr unsigned kMaxNatSessionsOption = 16777216;  // = ctl::kMaxNatSessions

// "1", "2-3,5" -> {1} / {2,3,5}; no duplicates, each < 1024.
xml::Result<std::vector<unsigned>> parse_cpu_list(const std::string& text);
// The EAL --file-prefix of a vnetd with this run dir.
std::string eal_file_prefix(const std::filesystem::path& run_dir);

xml::Result<DaemonOptions> parse_daemon_options(const std::vector<std::string>& args);

}  // namespace vnet::ctl
