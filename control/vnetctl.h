// vnet::ctl — vnetctl's verbs (virsh net-* look-alikes) and their context.
//
// Theory of operation
//   vnetctl_main.cc finds the verb on the command line, builds a
//   Boost.Program_options description from the verb's VerbSpec (its own
//   options and positional arguments plus the common --socket/--json/--quiet),
//   parses, and calls VerbSpec::run with a CtlContext. A verb reads its
//   arguments, calls vnetd through CtlContext::call (net-validate runs
//   offline), and prints either virsh's text (ctl_output.h) or, with --json,
//   the raw "result" JSON. Errors print "error: <reason>" on stderr and the
//   verb returns 1. As virsh does, a successful command is followed by one
//   blank line unless --quiet; virsh's informational messages ("Network X
//   started") are also dropped by --quiet.
//
// Thread-safety
//   Single-threaded program.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "control/ctl_client.h"
#include "xml/network_xml.h"

namespace vnet::ctl {

struct CtlContext {
  std::string verb;         // e.g. "net-start"
  std::string socket_path;  // resolved (--socket / $VNET_SOCKET / default)
  bool json = false;        // --json: print the raw result
  bool quiet = false;       // --quiet: no informational messages, no blank line
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  std::unique_ptr<CtlClient> client;  // connected on first call()

  xml::Result<nlohmann::json> call(std::string_view cmd, const nlohmann::json& args);
  int fail(std::string_view msg);            // "error: msg" on stderr; returns 1
  void message(std::string_view text);       // informational (suppressed by --quiet)
  void print_json(const nlohmann::json& j);  // --json output
};

struct VerbSpec {
  const char* name;
  const char* summary;
  // Positional arguments, in order; each is also a named option (--network).
  std::vector<const char*> positionals;
  void (*add_options)(boost::program_options::options_description& desc);
  int (*run)(CtlContext& ctx, const boost::program_options::variables_map& vm);
};

const std::vector<VerbSpec>& vnetctl_verbs();
const VerbSpec* find_verb(std::string_view name);

}  // namespace vnet::ctl
