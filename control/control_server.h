// vnet::ctl — the vnetd control socket: a unix stream socket speaking the
// line protocol of protocol.h to local clients (vnetctl, scripts).
//
// Theory of operation
//   open():
//     1. takes an flock() on "<socket>.lock" so two daemons never race for
//        the same path;
//     2. if the socket path exists and something accepts connections on it,
//        refuses ("another vnetd is already running ..."); a socket file
//        nobody listens on is stale and is removed; a non-socket file is left
//        alone and reported;
//     3. binds with umask 0117, then sets mode 0660 and, if configured, the
//        group (--socket-group), and listens.
//   run() is a poll() loop on the listening socket, the clients and a stop
//   descriptor (vnetd passes a signalfd for SIGTERM/SIGINT); it returns when
//   the stop descriptor becomes readable. Each accepted peer is checked with
//   SO_PEERCRED: root, the daemon's own uid, and members of the socket group
//   (primary or supplementary) are served; anyone else is logged and
//   disconnected. Requests are read as lines, handed to the dispatcher one at
//   a time, and the responses queued and written without blocking, so one
//   slow client cannot stall the others.
//   close() (also run by the destructor) drops the clients, removes the
//   socket file and releases the lock.
//
// Thread-safety
//   Owned by the control thread; the dispatcher (and so the registry) is
//   called from that thread only.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <list>
#include <optional>
#include <string>

#include "control/dispatcher.h"
#include "control/log.h"
#include "xml/network_xml.h"

namespace vnet::ctl {

struct ServerConfig {
  std::filesystem::path socket_path;   // e.g. /run/vnet/vnetd.sock
  std::optional<gid_t> socket_group;   // owner group of the socket, members allowed
  size_t max_clients = 64;             // further connections are closed at once
};

// True if something accepts connections on the unix socket at `path`.
bool unix_socket_answers(const std::filesystem::path& path);

// Resolve a group name (or a numeric gid) for --socket-group.
xml::Result<gid_t> lookup_group(const std::string& name);

class ControlServer {
 public:
  ControlServer(ServerConfig cfg, CommandDispatcher& dispatcher, Logger& log);
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  ~ControlServer();

  xml::Status open();
  // Serve until `stop_fd` is readable (it is not read). Returns an error only
  // if polling itself fails.
  xml::Status run(int stop_fd);
  void close();

  const std::filesystem::path& socket_path() const { return cfg_.socket_path; }

 private:
  struct Client {
    int fd = -1;
    ucred cred{};              // peer credentials at accept time
    std::string in;            // bytes received, not yet a full line
    std::string out;           // responses not yet written
    bool peer_closed = false;  // EOF seen: close once `out` is flushed
    bool broken = false;       // I/O error or protocol abuse: close now
  };

  bool peer_allowed(const ucred& cred) const;
  void accept_clients();
  void read_from(Client& c);
  void write_to(Client& c);

  ServerConfig cfg_;
  CommandDispatcher& dispatcher_;
  Logger& log_;
  int listen_fd_ = -1;
  int lock_fd_ = -1;
  bool socket_created_ = false;  // we bound the path and must remove it
  std::list<Client> clients_;
};

}  // namespace vnet::ctl
