// vnetctl: drive vnetd like `virsh net-*` drives libvirt's network driver.
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "control/ctl_client.h"
#include "control/vnetctl.h"

namespace {

namespace po = boost::program_options;
using vnet::ctl::CtlContext;
using vnet::ctl::VerbSpec;

constexpr const char* kVersion = "0.1.0";

void add_common_options(po::options_description& d) {
  d.add_options()("socket", po::value<std::string>(), "vnetd control socket (else $VNET_SOCKET, else /run/vnet/vnetd.sock)")(
      "json", po::bool_switch(), "print the raw JSON result")(
      "quiet,q", po::bool_switch(), "quiet mode: no informational messages")("help,h", po::bool_switch(),
                                                                             "print help");
}

void print_usage(std::ostream& out) {
  out << "Usage: vnetctl [--socket PATH] [--json] [--quiet] COMMAND [ARGS...]\n\n"
         " Commands (as virsh net-*):\n";
  for (const VerbSpec& v : vnet::ctl::vnetctl_verbs()) {
    std::string name = v.name;
    name.resize(16, ' ');
    out << "    " << name << v.summary << "\n";
  }
  out << "\n Run 'vnetctl COMMAND --help' for the options of one command.\n";
}

void print_verb_usage(std::ostream& out, const VerbSpec& v, const po::options_description& desc) {
  out << "  NAME\n    " << v.name << " - " << v.summary << "\n\n  SYNOPSIS\n    " << v.name;
  for (const char* p : v.positionals) out << " <" << p << ">";
  out << " [options]\n\n" << desc << "\n";
}

// First argument that is neither an option nor the value of --socket.
size_t find_verb_index(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--socket") {
      ++i;
      continue;
    }
    if (!a.empty() && a[0] == '-') continue;
    return i;
  }
  return args.size();
}

int run(const std::vector<std::string>& args) {
  const size_t verb_idx = find_verb_index(args);
  if (verb_idx == args.size()) {
    for (const std::string& a : args) {
      if (a == "--version" || a == "-V") {
        std::cout << kVersion << "\n";
        return 0;
      }
      if (a == "--help" || a == "-h") {
        print_usage(std::cout);
        return 0;
      }
    }
    std::cerr << "error: no command given\n";
    print_usage(std::cerr);
    return 1;
  }

  const VerbSpec* verb = vnet::ctl::find_verb(args[verb_idx]);
  if (verb == nullptr) {
    std::cerr << "error: unknown command: '" << args[verb_idx] << "'\n";
    return 1;
  }

  po::options_description desc("  OPTIONS");
  add_common_options(desc);
  verb->add_options(desc);
  po::options_description hidden;
  po::positional_options_description pos;
  for (const char* p : verb->positionals) {
    desc.add_options()(p, po::value<std::string>(), "");
    pos.add(p, 1);
  }
  hidden.add_options()("unexpected-data", po::value<std::vector<std::string>>(), "");
  pos.add("unexpected-data", -1);
  po::options_description all;
  all.add(desc).add(hidden);

  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i != verb_idx) rest.push_back(args[i]);
  }

  CtlContext ctx;
  ctx.verb = verb->name;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;

  po::variables_map vm;
  try {
    const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(rest).options(all).positional(pos).style(style).run(), vm);
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    return ctx.fail("command '" + std::string(verb->name) + "' doesn't support option " + e.get_option_name());
  } catch (const po::error& e) {
    return ctx.fail("command '" + std::string(verb->name) + "': " + e.what());
  }
  if (vm["help"].as<bool>()) {
    print_verb_usage(std::cout, *verb, desc);
    return 0;
  }
  if (vm.count("unexpected-data")) {
    return ctx.fail("unexpected data '" + vm["unexpected-data"].as<std::vector<std::string>>().front() + "'");
  }
  for (const char* p : verb->positionals) {
    if (!vm.count(p)) return ctx.fail("command '" + std::string(verb->name) + "' requires <" + p + "> option");
  }

  ctx.json = vm["json"].as<bool>();
  ctx.quiet = vm["quiet"].as<bool>();
  ctx.socket_path = vnet::ctl::resolve_socket_path(vm.count("socket") ? vm["socket"].as<std::string>() : "");

  const int rc = verb->run(ctx, vm);
  if (rc == 0 && !ctx.json && !ctx.quiet) std::cout << "\n";  // virsh's end-of-command blank line
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
