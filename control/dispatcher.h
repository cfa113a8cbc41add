// vnet::ctl — turns control-socket requests into registry calls.
//
// Theory of operation
//   handle_line() parses one request line (protocol.h), checks its arguments,
//   calls the NetworkRegistry and returns one response line. Every failure -
//   malformed JSON, an unknown command, a missing or mistyped argument, a
//   refused operation, even an unexpected exception - becomes
//   {"ok":false,"error":"..."}; the dispatcher never throws and never leaves
//   the registry half-changed (the registry guarantees the latter).
//   The command set and each command's arguments and result are listed in
//   control/PROTOCOL.md; keep the two in sync.
//
// Thread-safety
//   Control thread only (it drives the registry).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/protocol.h"
#include "control/registry.h"

namespace vnet::ctl {

class CommandDispatcher {
 public:
  explicit CommandDispatcher(NetworkRegistry& registry);

  // One request line in, one response line (ending in '\n') out.
  std::string handle_line(std::string_view line);
  // The same for an already parsed request; returns the response line.
  std::string handle(const Request& req);

 private:
  nlohmann::json run(const Request& req);  // throws on error; handle() catches

  NetworkRegistry& registry_;
};

}  // namespace vnet::ctl
