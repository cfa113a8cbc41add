#include "control/dispatcher.h"

#include <unistd.h>

#include <exception>
#include <stdexcept>

#include "control/network_checks.h"

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

}  // namespace

CommandDispatcher::CommandDispatcher(NetworkRegistry& registry) : registry_(registry) {}

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
  if (cmd == "net-undefine") return info_json(registry_.undefine(require_string(a, "network")));
  if (cmd == "net-start") return info_json(registry_.start(require_string(a, "network")));
  if (cmd == "net-destroy") return info_json(registry_.destroy(require_string(a, "network")));
  if (cmd == "net-info") return info_json(registry_.info(require_string(a, "network")));
  if (cmd == "net-uuid") return info_json(registry_.info(require_string(a, "network"), LookupBy::kName));
  if (cmd == "net-name") return info_json(registry_.info(require_string(a, "network"), LookupBy::kUuid));
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
