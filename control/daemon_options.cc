#include "control/daemon_options.h"

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
      "log-level", po::value<std::string>(), "debug, info, warning or error (default info)");
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
  if (o.state_dir.empty()) return R::error("--state-dir must not be empty");
  if (o.socket_path.empty()) return R::error("--socket must not be empty");
  return o;
}

}  // namespace vnet::ctl
