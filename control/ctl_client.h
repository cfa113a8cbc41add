// vnet::ctl — the client side of the control socket, used by vnetctl.
//
// Theory of operation
//   CtlClient connects to vnetd's unix socket, writes one request line and
//   reads one response line per call() (protocol.h); the connection is kept
//   for further calls. The socket path is chosen by resolve_socket_path():
//   --socket, else $VNET_SOCKET, else /run/vnet/vnetd.sock. Failures come
//   back as one-line messages in virsh's wording where virsh has one
//   ("Failed to connect socket to 'PATH': No such file or directory").
//
// Thread-safety
//   One CtlClient per thread; it owns its socket.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/protocol.h"
#include "xml/network_xml.h"

namespace vnet::ctl {

inline constexpr const char* kDefaultSocketPath = "/run/vnet/vnetd.sock";
inline constexpr const char* kSocketEnvVar = "VNET_SOCKET";

// explicit_path (from --socket) if non-empty, else $VNET_SOCKET, else the default.
std::string resolve_socket_path(const std::string& explicit_path);

class CtlClient {
 public:
  // max_response: longer response lines are refused (protocol.h).
  explicit CtlClient(std::string socket_path,
                     std::chrono::milliseconds timeout = std::chrono::minutes(2),
                     size_t max_response = kMaxResponseBytes);
  CtlClient(const CtlClient&) = delete;
  CtlClient& operator=(const CtlClient&) = delete;
  ~CtlClient();

  xml::Status connect();
  // Sends {"cmd":cmd,"args":args}; returns "result" or the daemon's error.
  xml::Result<nlohmann::json> call(std::string_view cmd, const nlohmann::json& args);

 private:
  xml::Result<std::string> read_line();

  std::string socket_path_;
  std::chrono::milliseconds timeout_;  // per send/receive
  size_t max_response_;
  int fd_ = -1;
  std::string pending_;  // bytes read past the last line
};

}  // namespace vnet::ctl
