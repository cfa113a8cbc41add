// vnetd: the vnet daemon. Owns the network registry, the ports and the DPDK
// dataplane, and serves the control socket; see control/registry.h,
// control/port_service.h, control/dataplane_runtime.h and
// control/control_server.h.
// Start-up order: control socket (a second vnetd fails before touching
// anything), state lock, DPDK EAL + dataplane, stored networks and ports,
// autostart. Shutdown: networks stop, then the dataplane and the EAL.
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
#include <memory>
#include <string>
#include <vector>

#include "control/atomic_file.h"
#include "control/control_server.h"
#include "control/daemon_options.h"
#include "control/dispatcher.h"
#include "control/dataplane_runtime.h"
#include "control/gateway_adapter.h"
#include "control/log.h"
#include "control/network_runtime.h"
#include "control/port_service.h"
#include "control/port_store.h"
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
  PortStore port_store(opts.state_dir / "ports", [&log](const std::string& m) { log.warning(m); });
  RecordingRuntime recording_runtime;
  DataplaneRuntime dataplane_runtime(log);
  auto gateways = std::make_shared<GatewayDirectory>();
  NetworkRuntime& runtime = opts.dataplane ? static_cast<NetworkRuntime&>(dataplane_runtime)
                                           : static_cast<NetworkRuntime&>(recording_runtime);
  runtime.set_port_store(&port_store);
  NetworkRegistry registry(store, runtime, log);
  PortService ports(registry, port_store, runtime, opts.run_dir.string(), log);
  CommandDispatcher dispatcher(registry, &ports);
  dispatcher.set_lease_source([gateways](const std::string& network, const std::string& mac) {
    return leases_json(*gateways, network, mac);
  });
  dispatcher.set_gateway_stats_source(
      [gateways](const std::string& network) { return gateway_stats_json(*gateways, network); });
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
  if (xml::Status st = port_store.open(); !st.ok()) {
    log.error(st.error());
    return 1;
  }
  std::unique_ptr<vnet::dp::Dataplane> dataplane;
  if (opts.dataplane) {
    vnet::dp::EalOptions eal;
    eal.program = "vnetd";
    eal.file_prefix = eal_file_prefix(opts.run_dir);
    eal.pmd_cores = opts.pmd_cores;
    eal.extra_args = opts.eal_args;
    eal.hugepages = opts.hugepages;
    eal.pci = opts.pci;
    eal.log = [&log](std::string_view line) { log.info(line); };
    vnet::dp::DataplaneOptions dpo;
    dpo.run_dir = opts.run_dir.string();
    dpo.worker_idle_sleep_us = opts.pmd_idle_sleep_us;
    dpo.fdb_capacity = opts.fdb_capacity;
    dpo.flow_cache = opts.flow_cache;
    auto made = vnet::dp::Dataplane::init(eal, dpo);
    if (!made) {
      log.error("cannot start the dataplane: " + made.status().message());
      return 1;
    }
    dataplane = std::move(made).value();
    dataplane_runtime.attach(dataplane.get());
    dataplane_runtime.set_gateway_factory(make_gateway_factory(opts.state_dir, log, gateways));
    dataplane_runtime.set_default_uplink(opts.default_uplink);
    dataplane_runtime.set_l3_options(
        L3Options{std::filesystem::absolute(opts.run_dir).lexically_normal().string(), opts.nat_sessions, opts.pci,
                  opts.sysfs_root});
    dispatcher.set_pmd_stats_source([dp = dataplane.get()] {
      nlohmann::json arr = nlohmann::json::array();
      for (const vnet::dp::PmdStats& s : dp->pmd_stats()) {
        nlohmann::json j = nlohmann::json::object();
        j["worker"] = s.worker;
        j["lcore"] = s.lcore;
        j["cpu"] = s.cpu;
        j["loops"] = s.loops;
        j["busy_loops"] = s.busy_loops;
        j["frames"] = s.frames;
        j["busy_cycles"] = s.busy_cycles;
        j["idle_cycles"] = s.idle_cycles;
        j["tsc_hz"] = s.tsc_hz;
        j["flow_cache"] = {{"lookups", s.fc_lookups},           {"hits", s.fc_hits},
                           {"inserts", s.fc_inserts},           {"declined", s.fc_declined},
                           {"invalidations", s.fc_invalidations},
                           {"bypasses", s.fc_bypasses},         {"bypassed_frames", s.fc_bypassed}};
        arr.push_back(std::move(j));
      }
      return arr;
    });
    dispatcher.set_l3_source([&dataplane_runtime](const std::string& cmd, const std::string& network,
                                                  const nlohmann::json& args) {
      return dataplane_runtime.l3_query(cmd, network, args);
    });
    log.info("dataplane running with " + std::to_string(dataplane->worker_count()) + " PMD worker(s)");
  } else {
    log.info("running without a dataplane (--no-dataplane): no packets move");
  }
  registry.load_from_disk();
  ports.prune_unknown();
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
  dataplane_runtime.attach(nullptr);
  dataplane.reset();
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
