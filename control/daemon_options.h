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
//   parse_daemon_options() never exits the process; main() decides.
//
// Thread-safety
//   Plain values and a pure function.
#pragma once

#include <filesystem>
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
};

xml::Result<DaemonOptions> parse_daemon_options(const std::vector<std::string>& args);

}  // namespace vnet::ctl
