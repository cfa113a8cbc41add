// Dataplane facade: lifecycle, networks, ports.
#include "dataplane/dataplane.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "dataplane/fdb.h"
#include "dataplane/l3.h"
#include "dataplane/slow_path.h"
#include "dataplane/snapshot.h"
#include "dataplane/snapshot_publisher.h"
#include "dataplane/worker.h"

namespace vnet::dp {

int Dataplane::worker_main(void* arg) {
  auto* a = static_cast<LaunchArg*>(arg);
  a->worker->run(*a->stop);
  return 0;
}

Result<std::unique_ptr<Dataplane>> Dataplane::init(const EalOptions& eal, DataplaneOptions dp) {
  auto lcores = eal_init(eal);
  if (!lcores) return lcores.status();
  if (dp.workers == 0) dp.workers = static_cast<uint16_t>(lcores.value());
  auto r = create(std::move(dp));
  if (!r) {
    eal_cleanup();
    return r;
  }
  r.value()->owns_eal_ = true;
  return r;
}

Result<std::unique_ptr<Dataplane>> Dataplane::create(DataplaneOptions options) {
  std::unique_ptr<Dataplane> d(new Dataplane(std::move(options)));
  if (Status st = d->start(); !st) return st;
  return d;
}

Dataplane::Dataplane(DataplaneOptions options) : options_(std::move(options)) {
  clock_ = options_.clock != nullptr ? options_.clock : &steady_clock_;
  network_ids_used_.assign(kMaxNetworks, false);
}

Dataplane::~Dataplane() {
  stop();
  if (owns_eal_) eal_cleanup();
}

Status Dataplane::start() {
  // Worker lcores.
  if (!options_.worker_lcores.empty()) {
    lcores_ = options_.worker_lcores;
  } else {
    for (unsigned l = rte_get_next_lcore(-1, 1, 0); l < RTE_MAX_LCORE; l = rte_get_next_lcore(l, 1, 0))
      lcores_.push_back(l);
    if (options_.workers != 0 && lcores_.size() > options_.workers) lcores_.resize(options_.workers);
  }
  if (lcores_.empty()) return Status{StatusCode::kInvalidArgument, "no EAL worker lcore for a PMD"};
  if (options_.workers != 0 && lcores_.size() < options_.workers)
    return Status{StatusCode::kInvalidArgument, "fewer worker lcores than workers"};
  if (lcores_.size() > kMaxWorkers) return Status{StatusCode::kInvalidArgument, "too many workers"};
  for (unsigned l : lcores_)
    if (!rte_lcore_is_enabled(l) || l == rte_get_main_lcore() || rte_eal_get_lcore_state(l) != WAIT)
      return Status{StatusCode::kInvalidArgument, "lcore " + std::to_string(l) + " is not an idle worker lcore"};
  worker_count_ = static_cast<uint16_t>(lcores_.size());
  const std::string& n = options_.name;

  pool_ = rte_pktmbuf_pool_create((n + "_pool").c_str(), options_.mbufs,
                                  std::min<unsigned>(256, options_.mbufs / 2), 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
  if (pool_ == nullptr)
    return Status{StatusCode::kResourceExhausted, std::string("mbuf pool: ") + rte_strerror(rte_errno)};
  auto pub = SnapshotPublisher::create(worker_count_ + 1u);
  if (!pub) return pub.status();
  publisher_ = std::move(pub).value();
  FdbOptions fo;
  fo.name = n + "_fdb";
  fo.capacity = options_.fdb_capacity;
  fo.max_workers = worker_count_;
  fo.qsbr = publisher_->qsbr();
  fo.socket_id = static_cast<int>(rte_socket_id());
  auto fdb = Fdb::create(fo);
  if (!fdb) return fdb.status();
  fdb_ = std::move(fdb).value();

  for (uint16_t w = 0; w < worker_count_; ++w) {
    auto lr = TypedRing<LearnEvent>::create(n + "_lrn" + std::to_string(w), 4096);
    if (!lr) return lr.status();
    learn_rings_.push_back(std::move(lr).value());
    auto cr = TypedRing<WorkerCommand>::create(n + "_wcmd" + std::to_string(w), 256);
    if (!cr) return cr.status();
    worker_cmds_.push_back(std::move(cr).value());
  }
  auto sc = TypedRing<SlowPathCommand>::create(n + "_scmd", 256);
  if (!sc) return sc.status();
  slow_cmds_ = std::move(sc).value();
  auto pe = TypedRing<PortEvent>::create(n + "_pevt", 1024, Producers::kMulti);
  if (!pe) return pe.status();
  port_events_ = std::move(pe).value();
  event_sink_ = std::make_unique<PortEventSink>();
  event_sink_->ring = port_events_.get();
  // L3: handoff rings (any worker -> owner), uplink ARP punt ring, resolve requests.
  for (uint16_t w = 0; w < worker_count_; ++w) {
    rte_ring* r = rte_ring_create((n + "_hof" + std::to_string(w)).c_str(), 1024,
                                  static_cast<int>(rte_socket_id()), RING_F_SC_DEQ);
    if (r == nullptr) return Status{StatusCode::kResourceExhausted, "handoff ring: " + std::string(rte_strerror(rte_errno))};
    handoff_rings_.push_back(r);
    auto rr = TypedRing<ResolveRequest>::create(n + "_rsv" + std::to_string(w), 1024);
    if (!rr) return rr.status();
    resolve_rings_.push_back(std::move(rr).value());
  }
  punt_ring_ = rte_ring_create((n + "_punt").c_str(), 1024, static_cast<int>(rte_socket_id()), RING_F_SC_DEQ);
  if (punt_ring_ == nullptr) return Status{StatusCode::kResourceExhausted, "punt ring: " + std::string(rte_strerror(rte_errno))};
  inject_ring_ = rte_ring_create((n + "_inj").c_str(), 1024, static_cast<int>(rte_socket_id()),
                                 RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (inject_ring_ == nullptr)
    return Status{StatusCode::kResourceExhausted, "inject ring: " + std::string(rte_strerror(rte_errno))};

  for (uint16_t w = 0; w < worker_count_; ++w) {
    WorkerDeps wd;
    wd.index = w;
    wd.publisher = publisher_.get();
    wd.fdb = fdb_.get();
    wd.learn_ring = learn_rings_[w].get();
    wd.commands = worker_cmds_[w].get();
    wd.pool = pool_;
    wd.clock = clock_;
    wd.idle_sleep_us = options_.worker_idle_sleep_us;
    wd.punt_ring = punt_ring_;
    wd.resolve_ring = resolve_rings_[w].get();
    wd.handoff_rings = handoff_rings_.data();
    if (w == 0) wd.inject_ring = inject_ring_;
    wd.flow_cache = options_.flow_cache;
    // An injected clock is read every iteration (tests step it).
    wd.clock_refresh_cycles = options_.clock != nullptr ? 0 : rte_get_tsc_hz() * kClockRefreshUs / 1'000'000;
    workers_.push_back(std::make_unique<Worker>(wd));
  }
  SlowPathDeps sd;
  sd.publisher = publisher_.get();
  sd.fdb = fdb_.get();
  for (auto& r : learn_rings_) sd.learn_rings.push_back(r.get());
  sd.commands = slow_cmds_.get();
  sd.clock = clock_;
  sd.reader_id = worker_count_;
  sd.sweep_interval_ns = options_.ageing_sweep_ns;
  sd.pool = pool_;
  for (auto& r : resolve_rings_) sd.resolve_rings.push_back(r.get());
  sd.punt_ring = punt_ring_;
  sd.inject_ring = inject_ring_;
  slow_path_ = std::make_unique<SlowPath>(sd);

  if (Status st = publish_locked(); !st) return st;
  for (uint32_t r = 0; r <= worker_count_; ++r)
    if (Status st = publisher_->register_reader(r); !st) return st;

  launch_args_.clear();
  for (uint16_t w = 0; w < worker_count_; ++w) launch_args_.push_back({workers_[w].get(), &stop_});
  for (uint16_t w = 0; w < worker_count_; ++w) {
    if (rte_eal_remote_launch(worker_main, &launch_args_[w], lcores_[w]) != 0) {
      stop_ = true;
      for (uint16_t k = 0; k < w; ++k) rte_eal_wait_lcore(lcores_[k]);
      return Status{StatusCode::kInternal, "rte_eal_remote_launch failed"};
    }
  }
  slow_thread_ = std::thread([this] { slow_path_->run(stop_); });
  running_ = true;
  return {};
}

void Dataplane::stop() {
  std::lock_guard lock(mu_);
  if (running_) {
    stop_ = true;
    for (unsigned l : lcores_) rte_eal_wait_lcore(l);
    if (slow_thread_.joinable()) slow_thread_.join();
    for (uint32_t r = 0; r <= worker_count_; ++r) publisher_->unregister_reader(r);
    running_ = false;
  }
  for (auto& [name, rec] : ports_) close_port(rec.opened, port_events_.get());
  ports_.clear();
  for (auto& [name, gw] : gateways_) close_port(gw.port.opened, port_events_.get());
  gateways_.clear();
  for (auto& [name, l3] : l3_) close_port(l3.uplink.opened, port_events_.get());
  l3_.clear();
  for (rte_ring* r : handoff_rings_) {
    void* obj = nullptr;
    while (rte_ring_dequeue(r, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
    rte_ring_free(r);
  }
  handoff_rings_.clear();
  if (punt_ring_ != nullptr) {
    void* obj = nullptr;
    while (rte_ring_dequeue(punt_ring_, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
    rte_ring_free(punt_ring_);
    punt_ring_ = nullptr;
  }
  if (inject_ring_ != nullptr) {
    void* obj = nullptr;
    while (rte_ring_dequeue(inject_ring_, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
    rte_ring_free(inject_ring_);
    inject_ring_ = nullptr;
  }
  resolve_rings_.clear();
  abandoned_queries_.clear();
  slow_path_.reset();
  workers_.clear();
  launch_args_.clear();
  fdb_.reset();
  publisher_.reset();
  learn_rings_.clear();
  worker_cmds_.clear();
  slow_cmds_.reset();
  port_events_.reset();
  if (pool_ != nullptr) rte_mempool_free(pool_);
  pool_ = nullptr;
}

Status Dataplane::publish_locked() {
  std::vector<SnapshotNetworkInput> nets;
  for (const auto& [name, rec] : networks_) {
    SnapshotNetworkInput in{rec.id, rec.config, {}};
    if (auto l = l3_.find(name); l != l3_.end()) {
      const L3Config& c = l->second.config;
      L3Runtime& rt = *l->second.rt;
      L3State& st = in.l3;
      // Without its gateway (being replaced) the network does not route; the uplink stays.
      st.enabled = gateways_.count(name) != 0;
      st.mode = c.mode;
      st.policy.mode = c.mode == L3Mode::kNat     ? nat::L3Mode::kNat
                       : c.mode == L3Mode::kRoute ? nat::L3Mode::kRoute
                                                  : nat::L3Mode::kOpen;
      st.policy.subnets = rt.binding.inside;
      for (size_t k = 0; k < rt.binding.gateway_ips.size() && k < st.gateway_ips.size(); ++k)
        st.gateway_ips[st.gateway_ip_count++] = rt.binding.gateway_ips[k];
      st.outside_ip = c.outside_ip;
      st.outside_mask = rt.binding.outside_mask;
      st.next_hop = c.next_hop;
      st.nat_first = rt.binding.nat_first;
      st.nat_last = rt.binding.nat_last;
      st.uplink_port = l->second.uplink.opened.port_id;
      st.uplink_mac = rt.binding.uplink_mac;
      st.neighbors = rt.neighbors.get();
      for (uint16_t w = 0; w < worker_count_; ++w) {
        st.counters[w] = rt.counters[w].get();
        st.nat[w] = w < rt.nat.size() ? rt.nat[w].get() : nullptr;
      }
    }
    nets.push_back(std::move(in));
  }
  std::vector<SnapshotPortInput> ports;
  for (const auto& [name, rec] : ports_) {
    SnapshotPortInput p;
    p.port_id = rec.opened.port_id;
    p.name = name;
    p.network = networks_.find(rec.network)->second.id;
    p.worker = rec.worker;
    p.rx_queues = rec.opened.rx_queues;
    p.isolated = rec.spec.isolated;
    p.vlan = rec.spec.vlan;
    ports.push_back(std::move(p));
  }
  for (const auto& [net, gw] : gateways_) {
    SnapshotPortInput p;
    p.port_id = gw.port.opened.port_id;
    p.name = std::string(kGatewayPortName);
    p.network = networks_.find(net)->second.id;
    p.worker = gw.port.worker;
    p.rx_queues = 1;
    p.gateway = true;
    p.gateway_mac = gw.binding->mac;
    ports.push_back(std::move(p));
  }
  for (const auto& [net, l3] : l3_) {
    SnapshotPortInput p;
    p.port_id = l3.uplink.opened.port_id;
    p.name = l3.uplink.spec.name;
    p.network = networks_.find(net)->second.id;
    p.worker = l3.uplink.worker;
    p.rx_queues = l3.uplink.opened.rx_queues;
    p.uplink = true;
    ports.push_back(std::move(p));
  }
  auto snap = build_snapshot(++generation_, worker_count_, nets, ports);
  if (!snap) return snap.status();
  publisher_->publish(std::move(snap).value());
  return {};
}

Status Dataplane::wait_grace_locked() { return publisher_->synchronize(options_.grace_timeout); }

Status Dataplane::run_slow_path_command_locked(SlowPathCommand cmd) {
  const auto deadline = std::chrono::steady_clock::now() + options_.grace_timeout;
  // Earlier commands (a timed-out dump may still write dump_buf_) finish first.
  while (slow_path_->completed_seq() < next_seq_) {
    if (std::chrono::steady_clock::now() > deadline)
      return Status{StatusCode::kTimeout, "slow path is not answering"};
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  cmd.seq = ++next_seq_;
  while (!slow_cmds_->push(cmd)) {
    if (std::chrono::steady_clock::now() > deadline)
      return Status{StatusCode::kTimeout, "slow-path command ring full"};
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  while (slow_path_->completed_seq() < cmd.seq) {
    if (std::chrono::steady_clock::now() > deadline)
      return Status{StatusCode::kTimeout, "slow-path command timed out"};
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return {};
}

// ---- networks ----

namespace {
Status check_network_config(const NetworkConfig& c) {
  if (c.name.empty()) return Status{StatusCode::kInvalidArgument, "network name is empty"};
  if (c.mtu < kMinMtu || c.mtu > kMaxMtu)
    return Status{StatusCode::kInvalidArgument, "network " + c.name + ": mtu not in 68..9216"};
  if (c.mac_limit == 0) return Status{StatusCode::kInvalidArgument, "network " + c.name + ": mac_limit is 0"};
  return {};
}
}  // namespace

Status Dataplane::add_network(const NetworkConfig& config) {
  std::lock_guard lock(mu_);
  if (Status st = check_network_config(config); !st) return st;
  if (networks_.count(config.name) != 0)
    return Status{StatusCode::kAlreadyExists, "network " + config.name + " exists"};
  auto free_id = std::find(network_ids_used_.begin(), network_ids_used_.end(), false);
  if (free_id == network_ids_used_.end()) return Status{StatusCode::kResourceExhausted, "too many networks"};
  const auto id = static_cast<uint16_t>(free_id - network_ids_used_.begin());
  networks_[config.name] = NetworkRecord{id, config, fdb_counters_locked(id)};
  if (Status st = publish_locked(); !st) {
    networks_.erase(config.name);
    return st;
  }
  *free_id = true;
  return {};
}

Status Dataplane::update_network(const NetworkConfig& config) {
  std::lock_guard lock(mu_);
  if (Status st = check_network_config(config); !st) return st;
  auto it = networks_.find(config.name);
  if (it == networks_.end()) return Status{StatusCode::kNotFound, "no network " + config.name};
  const NetworkConfig old = it->second.config;
  it->second.config = config;
  if (Status st = publish_locked(); !st) {
    it->second.config = old;
    return st;
  }
  if (config.mtu != old.mtu) apply_mtu_locked(config.name, config.mtu);
  return {};
}

Status Dataplane::set_ageing(std::string_view network, uint32_t seconds) {
  NetworkConfig c;
  {
    std::lock_guard lock(mu_);
    auto it = networks_.find(network);
    if (it == networks_.end()) return Status{StatusCode::kNotFound, "no network " + std::string(network)};
    c = it->second.config;
  }
  c.ageing_s = seconds;
  return update_network(c);
}

Status Dataplane::remove_network(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = networks_.find(name);
  if (it == networks_.end()) return Status{StatusCode::kNotFound, "no network " + std::string(name)};
  if (Status st = clear_l3_locked(name); !st) return st;
  if (Status st = detach_gateway_locked(name); !st) return st;
  std::vector<std::string> members;
  for (const auto& [pname, rec] : ports_)
    if (rec.network == name) members.push_back(pname);
  if (Status st = remove_ports_locked(members); !st) return st;
  const uint16_t id = it->second.id;
  networks_.erase(it);
  if (Status st = publish_locked(); !st) return st;
  if (Status st = wait_grace_locked(); !st) return st;
  SlowPathCommand cmd;
  cmd.op = SlowPathOp::kFlushNetwork;
  cmd.network = id;
  if (Status st = run_slow_path_command_locked(cmd); !st) return st;
  network_ids_used_[id] = false;
  return {};
}

std::vector<NetworkConfig> Dataplane::list_networks() const {
  std::lock_guard lock(mu_);
  std::vector<NetworkConfig> out;
  for (const auto& [name, rec] : networks_) out.push_back(rec.config);
  return out;
}

// ---- ports ----

std::string Dataplane::resolve_socket_path(std::string_view network, const PortSpec& spec) const {
  if (!spec.path.empty()) return spec.path;
  return options_.run_dir + "/" + std::string(network) + "/" + spec.name + ".sock";
}

Result<PortInfo> Dataplane::add_port(std::string_view network, const PortSpec& spec) {
  std::lock_guard lock(mu_);
  auto net = networks_.find(network);
  if (net == networks_.end()) return Status{StatusCode::kNotFound, "no network " + std::string(network)};
  if (spec.name.empty()) return Status{StatusCode::kInvalidArgument, "port name is empty"};
  if (spec.name == kGatewayPortName)
    return Status{StatusCode::kInvalidArgument, "port name 'gateway' is reserved for the gateway port"};
  if (ports_.count(spec.name) != 0)
    return Status{StatusCode::kAlreadyExists, "port " + spec.name + " exists"};
  for (const auto& [net_name, l3] : l3_)
    if (l3.uplink.spec.name == spec.name)
      return Status{StatusCode::kAlreadyExists, "port " + spec.name + " exists (uplink of " + net_name + ")"};
  if (auto v = make_vlan_policy(spec.vlan); !v)
    return Status{v.status().code(), "port " + spec.name + ": " + v.status().message()};
  if (spec.queues == 0 || spec.queues > 16)
    return Status{StatusCode::kInvalidArgument, "port " + spec.name + ": queues not in 1..16"};

  std::string socket_path;
  const bool vhost = spec.kind == PortKind::kVhostServer || spec.kind == PortKind::kVhostClient;
  if (vhost) {
    socket_path = resolve_socket_path(network, spec);
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(socket_path).parent_path(), ec);
    struct stat st{};
    // A stale socket from an earlier run would make bind() fail.
    if (spec.kind == PortKind::kVhostServer && ::stat(socket_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
      ::unlink(socket_path.c_str());
  }
  const uint16_t worker = least_loaded_worker_locked();

  PortSetup setup;
  setup.pool = pool_;
  // af_packet spreads received frames over its queue pairs (PACKET_FANOUT) and
  // a multiqueue tap over its queues: poll as many rx queues as there are tx queues.
  const bool spread = spec.kind == PortKind::kAfPacket || spec.kind == PortKind::kTap;
  setup.rx_queues = vhost ? spec.queues : spread ? worker_count_ : 1;
  setup.tx_queues = worker_count_;
  setup.sink = event_sink_.get();
  if (spec.kind != PortKind::kEthdev) setup.mtu = net->second.config.mtu;
  auto opened = open_port(spec, next_port_index_++, socket_path, setup);
  if (!opened) return opened.status();
  if (opened->port_id >= kMaxPorts) {
    close_port(opened.value(), port_events_.get());
    return Status{StatusCode::kResourceExhausted, "ethdev port id beyond kMaxPorts"};
  }
  if (spec.kind == PortKind::kVhostServer) {
    if (Status st = apply_socket_ownership(socket_path, spec); !st) {
      close_port(opened.value(), port_events_.get());
      return st;
    }
  }
  PortRecord rec;
  rec.spec = spec;
  rec.network = std::string(network);
  rec.opened = std::move(opened).value();
  rec.worker = worker;
  // Counters of a reused port id start from zero: the workers' counters only
  // grow, so the port's figures are read relative to their value now.
  rec.base = sum_counters_locked(rec.opened.port_id);
  auto [it, inserted] = ports_.emplace(spec.name, std::move(rec));
  if (Status st = publish_locked(); !st) {
    close_port(it->second.opened, port_events_.get());
    ports_.erase(it);
    return st;
  }
  return info_locked(it->second);
}

Status Dataplane::update_port(std::string_view port, bool isolated, const VlanConfig& vlan) {
  std::lock_guard lock(mu_);
  auto it = ports_.find(port);
  if (it == ports_.end()) return Status{StatusCode::kNotFound, "no port " + std::string(port)};
  if (auto v = make_vlan_policy(vlan); !v) return v.status();
  const PortSpec old = it->second.spec;
  it->second.spec.isolated = isolated;
  it->second.spec.vlan = vlan;
  if (Status st = publish_locked(); !st) {
    it->second.spec = old;
    return st;
  }
  return {};
}

Status Dataplane::remove_ports_locked(const std::vector<std::string>& names) {
  if (names.empty()) return {};
  std::vector<PortRecord> removed;
  for (const auto& n : names) {
    auto it = ports_.find(n);
    if (it == ports_.end()) continue;
    removed.push_back(std::move(it->second));
    ports_.erase(it);
  }
  if (Status st = publish_locked(); !st) return st;
  // After this no worker polls these ports or holds packets for them.
  if (Status st = wait_grace_locked(); !st) {
    // Do not close devices a worker may still use; they leak instead.
    return Status{st.code(), st.message() + "; ports not closed"};
  }
  Status result;
  for (auto& rec : removed) {
    close_port_locked(rec);
    SlowPathCommand cmd;
    cmd.op = SlowPathOp::kFlushPort;
    cmd.port = rec.opened.port_id;
    if (Status st = run_slow_path_command_locked(cmd); !st) result = st;
  }
  return result;
}

Status Dataplane::remove_port(std::string_view port) {
  std::lock_guard lock(mu_);
  if (port == kGatewayPortName)
    return Status{StatusCode::kInvalidArgument,
                  "the gateway port is internal: detach it with set_punt_handler(network, mac, nullptr)"};
  if (ports_.find(port) == ports_.end()) return Status{StatusCode::kNotFound, "no port " + std::string(port)};
  return remove_ports_locked({std::string(port)});
}

uint16_t Dataplane::least_loaded_worker_locked() const {
  std::vector<uint32_t> load(worker_count_, 0);
  for (const auto& [pname, rec] : ports_) ++load[rec.worker];
  for (const auto& [net, gw] : gateways_) ++load[gw.port.worker];
  for (const auto& [net, l3] : l3_) ++load[l3.uplink.worker];
  return static_cast<uint16_t>(std::min_element(load.begin(), load.end()) - load.begin());
}

uint32_t Dataplane::close_port_locked(PortRecord& r) {
  const uint32_t n = drain_ring_port(r.opened);
  control_drops_.add(DropReason::kPortRemoved, n);
  close_port(r.opened, port_events_.get());
  return n;
}

void Dataplane::apply_mtu_locked(std::string_view network, uint32_t mtu) {
  for (const auto& [name, rec] : ports_)
    if (rec.network == network && rec.spec.kind != PortKind::kEthdev)
      (void)rte_eth_dev_set_mtu(rec.opened.port_id, static_cast<uint16_t>(mtu));
}

// ---- gateway ----

Status Dataplane::set_punt_handler(std::string_view network, const std::array<uint8_t, 6>& gateway_mac,
                                   std::shared_ptr<PuntHandler> handler) {
  std::lock_guard lock(mu_);
  auto net = networks_.find(network);
  if (net == networks_.end()) return Status{StatusCode::kNotFound, "no network " + std::string(network)};
  const net::MacAddr mac{gateway_mac};
  if (handler != nullptr && (mac.is_multicast() || mac.is_zero()))
    return Status{StatusCode::kInvalidArgument, "gateway MAC " + mac.to_string() + " is not a unicast MAC"};
  if (handler == nullptr) {
    if (Status st = clear_l3_locked(network); !st) return st;
  }
  if (Status st = detach_gateway_locked(network); !st) return st;
  if (handler == nullptr) return {};

  PortSpec spec;
  spec.name = std::string(kGatewayPortName);
  spec.kind = PortKind::kRing;
  const uint16_t worker = least_loaded_worker_locked();
  PortSetup setup;
  setup.pool = pool_;
  setup.rx_queues = 1;
  setup.tx_queues = worker_count_;
  auto opened = open_port(spec, next_port_index_++, {}, setup);
  if (!opened) return opened.status();
  if (opened->port_id >= kMaxPorts) {
    close_port(opened.value(), nullptr);
    return Status{StatusCode::kResourceExhausted, "ethdev port id beyond kMaxPorts"};
  }
  GatewayRecord rec;
  rec.port.spec = spec;
  rec.port.network = std::string(network);
  rec.port.opened = std::move(opened).value();
  rec.port.worker = worker;
  rec.port.base = sum_counters_locked(rec.port.opened.port_id);
  rec.binding = std::make_unique<GatewayBinding>();
  rec.binding->network = net->second.id;
  rec.binding->port = rec.port.opened.port_id;
  rec.binding->mac = mac;
  rec.binding->in = rec.port.opened.rx_ring;
  rec.binding->out = rec.port.opened.tx_ring;
  rec.binding->handler = std::move(handler);
  auto [it, inserted] = gateways_.emplace(std::string(network), std::move(rec));
  if (Status st = publish_locked(); !st) {
    close_port(it->second.port.opened, nullptr);
    gateways_.erase(it);
    return st;
  }
  SlowPathCommand cmd;
  cmd.op = SlowPathOp::kAttachGateway;
  cmd.network = net->second.id;
  cmd.gateway = it->second.binding.get();
  if (Status st = run_slow_path_command_locked(cmd); !st) {
    // The slow path may still pick the binding up: keep it alive, drop the port.
    (void)it->second.binding.release();
    GatewayRecord gone = std::move(it->second);
    gateways_.erase(it);
    if (publish_locked().is_ok() && wait_grace_locked().is_ok()) close_port_locked(gone.port);
    return st;
  }
  return {};
}

Status Dataplane::detach_gateway_locked(std::string_view network) {
  auto it = gateways_.find(network);
  if (it == gateways_.end()) return {};
  SlowPathCommand cmd;
  cmd.op = SlowPathOp::kDetachGateway;
  cmd.network = it->second.binding->network;
  if (Status st = run_slow_path_command_locked(cmd); !st) return st;
  GatewayRecord gone = std::move(it->second);
  gateways_.erase(it);
  if (Status st = publish_locked(); !st) return st;
  if (Status st = wait_grace_locked(); !st) return Status{st.code(), st.message() + "; gateway port not closed"};
  close_port_locked(gone.port);
  SlowPathCommand flush;
  flush.op = SlowPathOp::kFlushPort;  // static entries included
  flush.port = gone.port.opened.port_id;
  return run_slow_path_command_locked(flush);
}

// ---- L3 ----

namespace {

uint32_t prefix_mask(uint8_t prefix) noexcept { return prefix == 0 ? 0u : ~uint32_t{0} << (32 - prefix); }

}  // namespace

Status Dataplane::check_l3_config_locked(std::string_view network, const L3Config& c) const {
  const std::string where = "network " + std::string(network) + ": L3: ";
  auto bad = [&](const std::string& what) { return Status{StatusCode::kInvalidArgument, where + what}; };
  if (c.inside.empty()) return bad("no inside (IPv4 <ip>) subnet");
  if (c.inside.size() > nat::kMaxSubnets) return bad("more than 16 inside subnets");
  for (const Ipv4Prefix& p : c.inside)
    if (p.prefix > 32 || p.addr == 0) return bad("bad inside address/prefix");
  if (c.outside_ip == 0) return bad("no outside address");
  if (c.outside_prefix == 0 || c.outside_prefix > 32) return bad("outside prefix not in 1..32");
  if (c.uplink.name.empty()) return bad("the uplink port has no name");
  if (c.uplink.name == kGatewayPortName) return bad("the uplink cannot be named 'gateway'");
  if (c.uplink.kind == PortKind::kRing)
    return bad(std::string("uplink kind ") + port_kind_name(c.uplink.kind) +
               " (use afpacket, tap, vhost-user or ethdev)");
  const bool vhost = c.uplink.kind == PortKind::kVhostServer || c.uplink.kind == PortKind::kVhostClient;
  if (vhost && (c.uplink.path.empty() || c.uplink.path.front() != '/'))
    return bad("a vhost-user uplink needs an absolute socket path");
  if (ports_.count(c.uplink.name) != 0) return bad("port " + c.uplink.name + " exists");
  for (const auto& [net, l3] : l3_)
    if (net != network && l3.uplink.spec.name == c.uplink.name)
      return bad("port " + c.uplink.name + " is the uplink of " + net);
  if (c.nat_sessions == 0) return bad("nat_sessions is 0");
  if (c.mode == L3Mode::kNat) {
    nat::NatConfig nc;
    for (const Ipv4Prefix& p : c.inside) (void)nc.inside.add(p.addr, p.prefix);
    nc.addr_first = c.nat_addr_first != 0 ? c.nat_addr_first : c.outside_ip;
    nc.addr_last = c.nat_addr_first != 0 ? c.nat_addr_last : c.outside_ip;
    nc.port_first = c.nat_port_first;
    nc.port_last = c.nat_port_last;
    nc.workers = worker_count_;
    if (std::string err = nat::validate(nc); !err.empty()) return bad(err);
  }
  return {};
}

Status Dataplane::set_l3(std::string_view network, const L3Config& config) {
  std::lock_guard lock(mu_);
  auto net = networks_.find(network);
  if (net == networks_.end()) return Status{StatusCode::kNotFound, "no network " + std::string(network)};
  if (gateways_.count(network) == 0)
    return Status{StatusCode::kInvalidArgument,
                  "network " + std::string(network) + ": L3 needs the network's gateway (set_punt_handler) first"};
  if (Status st = check_l3_config_locked(network, config); !st) return st;
  if (Status st = clear_l3_locked(network); !st) return st;

  const uint16_t worker = least_loaded_worker_locked();
  PortSetup setup;
  setup.pool = pool_;
  setup.tx_queues = worker_count_;  // the slow path's frames go out through worker 0 (inject ring)
  // af_packet / tap spread received frames over all their queue pairs: poll them all.
  setup.rx_queues = config.uplink.kind == PortKind::kEthdev || config.uplink.kind == PortKind::kPci
                        ? 1 : setup.tx_queues;
  setup.sink = event_sink_.get();
  if (config.uplink.kind != PortKind::kEthdev) setup.mtu = net->second.config.mtu;
  const bool vhost = config.uplink.kind == PortKind::kVhostServer || config.uplink.kind == PortKind::kVhostClient;
  auto opened = open_port(config.uplink, next_port_index_++, vhost ? config.uplink.path : std::string(), setup);
  if (!opened) return Status{opened.status().code(), "uplink " + config.uplink.name + ": " + opened.status().message()};
  if (opened->port_id >= kMaxPorts) {
    close_port(opened.value(), port_events_.get());
    return Status{StatusCode::kResourceExhausted, "ethdev port id beyond kMaxPorts"};
  }
  rte_ether_addr ea{};
  if (rte_eth_macaddr_get(opened->port_id, &ea) != 0) {
    close_port(opened.value(), port_events_.get());
    return Status{StatusCode::kInternal, "uplink " + config.uplink.name + ": no MAC address"};
  }

  auto rt = std::make_unique<L3Runtime>();
  rt->neighbors = std::make_unique<NeighborTable>(4096);
  L3Binding& b = rt->binding;
  b.network = net->second.id;
  b.uplink_port = opened->port_id;
  std::copy(std::begin(ea.addr_bytes), std::end(ea.addr_bytes), b.uplink_mac.b.begin());
  b.outside_ip = config.outside_ip;
  b.outside_mask = prefix_mask(config.outside_prefix);
  b.next_hop = config.next_hop;
  for (const Ipv4Prefix& p : config.inside) {
    (void)b.inside.add(p.addr, p.prefix);
    b.gateway_ips.push_back(p.addr);
  }
  b.neighbors = rt->neighbors.get();
  if (config.mode == L3Mode::kNat) {
    b.nat_first = config.nat_addr_first != 0 ? config.nat_addr_first : config.outside_ip;
    b.nat_last = config.nat_addr_first != 0 ? config.nat_addr_last : config.outside_ip;
    nat::NatConfig nc;
    nc.inside = b.inside;
    nc.addr_first = b.nat_first;
    nc.addr_last = b.nat_last;
    nc.port_first = config.nat_port_first;
    nc.port_last = config.nat_port_last;
    nc.workers = worker_count_;
    std::random_device rd;
    for (uint16_t w = 0; w < worker_count_; ++w) {
      const uint64_t seed = (uint64_t{rd()} << 32) ^ rd();
      rt->nat.push_back(std::make_unique<nat::NatWorker>(nc, w, config.nat_sessions, seed));
    }
  }
  for (uint16_t w = 0; w < worker_count_; ++w) rt->counters.push_back(std::make_unique<L3Counters>());

  L3Record rec;
  rec.config = config;
  rec.uplink.spec = config.uplink;
  rec.uplink.network = std::string(network);
  rec.uplink.opened = std::move(opened).value();
  rec.uplink.worker = worker;
  rec.uplink.base = sum_counters_locked(rec.uplink.opened.port_id);
  rec.rt = std::move(rt);
  auto [it, inserted] = l3_.emplace(std::string(network), std::move(rec));
  if (Status st = publish_locked(); !st) {
    close_port(it->second.uplink.opened, port_events_.get());
    l3_.erase(it);
    return st;
  }
  SlowPathCommand cmd;
  cmd.op = SlowPathOp::kAttachL3;
  cmd.network = net->second.id;
  cmd.l3 = &it->second.rt->binding;
  if (Status st = run_slow_path_command_locked(cmd); !st) {
    // The slow path may still pick the binding up: keep the runtime alive, drop the port.
    (void)it->second.rt.release();
    L3Record gone = std::move(it->second);
    l3_.erase(it);
    if (publish_locked().is_ok() && wait_grace_locked().is_ok()) close_port_locked(gone.uplink);
    return st;
  }
  return {};
}

Status Dataplane::clear_l3(std::string_view network) {
  std::lock_guard lock(mu_);
  if (networks_.find(network) == networks_.end())
    return Status{StatusCode::kNotFound, "no network " + std::string(network)};
  return clear_l3_locked(network);
}

Status Dataplane::clear_l3_locked(std::string_view network) {
  auto it = l3_.find(network);
  if (it == l3_.end()) return {};
  SlowPathCommand cmd;
  cmd.op = SlowPathOp::kDetachL3;
  cmd.network = it->second.rt->binding.network;
  if (Status st = run_slow_path_command_locked(cmd); !st) return st;
  L3Record gone = std::move(it->second);
  l3_.erase(it);
  if (Status st = publish_locked(); !st) {
    (void)gone.rt.release();
    return st;
  }
  if (Status st = wait_grace_locked(); !st) {
    (void)gone.rt.release();  // a worker may still use it
    return Status{st.code(), st.message() + "; uplink not closed"};
  }
  close_port_locked(gone.uplink);
  gone.rt.reset();
  return {};
}

}  // namespace vnet::dp
