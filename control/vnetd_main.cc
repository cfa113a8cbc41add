// vnetd: the vnet daemon. Owns the network registry and serves the control
// socket; see control/registry.h and control/control_server.h.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "control/atomic_file.h"
#include "control/control_server.h"
#include "control/daemon_options.h"
#include "control/dispatcher.h"
#include "control/log.h"
#include "control/network_runtime.h"
#include "control/registry.h"
#include "control/state_store.h"

namespace {

using namespace vnet::ctl;
namespace xml = vnet::xml;

constexpr const char* kVersion = "0.1.0";

// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET.
void notify_systemd(const char* state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || (path[0] != '/' && path[0] != '@')) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t len = std::strlen(path);
  if (len >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  ::sendto(fd, state, std::strlen(state), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), addr_len);
  ::close(fd);
}

// SIGTERM/SIGINT arrive on a signalfd the control loop polls.
int make_signal_fd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return -1;
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  return ::signalfd(-1, &set, SFD_CLOEXEC);
}

int run(const std::vector<std::string>& args) {
  xml::Result<DaemonOptions> parsed = parse_daemon_options(args);
  if (!parsed.ok()) {
    std::cerr << "vnetd: error: " << parsed.error() << "\n";
    return 1;
  }
  const DaemonOptions& opts = *parsed;
  if (opts.help) {
    std::cout << opts.help_text;
    return 0;
  }
  if (opts.version) {
    std::cout << kVersion << "\n";
    return 0;
  }

  Logger log(opts.log_level);
  const int sig_fd = make_signal_fd();
  if (sig_fd < 0) {
    log.error(std::string("cannot set up signal handling: ") + std::strerror(errno));
    return 1;
  }

  ServerConfig server_cfg;
  server_cfg.socket_path = opts.socket_path;
  if (!opts.socket_group.empty()) {
    xml::Result<gid_t> gid = lookup_group(opts.socket_group);
    if (!gid.ok()) {
      log.error(gid.error());
      return 1;
    }
    server_cfg.socket_group = *gid;
  }
  if (xml::Status st = ensure_dir(opts.run_dir, 0755); !st.ok()) {
    log.error(st.error());
    return 1;
  }

  StateStore store(opts.state_dir);
  RecordingRuntime runtime;
  NetworkRegistry registry(store, runtime, log);
  CommandDispatcher dispatcher(registry);
  ControlServer server(server_cfg, dispatcher, log);

  // The socket first: a second vnetd must fail before it touches any state.
  if (xml::Status st = server.open(); !st.ok()) {
    log.error(st.error());
    return 1;
  }
  if (xml::Status st = store.open(); !st.ok()) {
    log.error(st.error());
    return 1;
  }
  registry.load_from_disk();
  const size_t started = registry.autostart_all();
  log.info("vnetd " + std::string(kVersion) + " ready: " + std::to_string(registry.size()) + " network(s), " +
           std::to_string(started) + " autostarted; state in '" + opts.state_dir.string() + "'");
  notify_systemd("READY=1");

  xml::Status served = server.run(sig_fd);
  signalfd_siginfo si{};
  if (::read(sig_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    log.info(std::string("received ") + (si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
  }
  notify_systemd("STOPPING=1");
  registry.shutdown();
  server.close();
  ::close(sig_fd);
  if (!served.ok()) {
    log.error(served.error());
    return 1;
  }
  log.info("vnetd stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "vnetd: error: " << e.what() << "\n";
    return 1;
  }
}
