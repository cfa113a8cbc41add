// Dataplane facade: lifecycle, networks, ports.
#include "dataplane/dataplane.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "dataplane/fdb.h"
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
    rte_eal_cleanup();
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
  if (owns_eal_) rte_eal_cleanup();
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
  for (const auto& [name, rec] : networks_) nets.push_back({rec.id, rec.config});
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
  networks_[config.name] = NetworkRecord{id, config};
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
  if (ports_.count(spec.name) != 0)
    return Status{StatusCode::kAlreadyExists, "port " + spec.name + " exists"};
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
  // The least loaded worker polls it.
  std::vector<uint32_t> load(worker_count_, 0);
  for (const auto& [pname, rec] : ports_) ++load[rec.worker];
  const auto worker = static_cast<uint16_t>(std::min_element(load.begin(), load.end()) - load.begin());

  PortSetup setup;
  setup.pool = pool_;
  setup.rx_queues = vhost ? spec.queues : 1;
  setup.tx_queues = worker_count_;
  setup.events = port_events_.get();
  if (spec.kind == PortKind::kTap || spec.kind == PortKind::kAfPacket) setup.mtu = net->second.config.mtu;
  auto opened = open_port(spec, next_port_index_++, socket_path, setup);
  if (!opened) return opened.status();
  if (opened->port_id >= kMaxPorts) {
    close_port(opened.value(), port_events_.get());
    return Status{StatusCode::kResourceExhausted, "ethdev port id beyond kMaxPorts"};
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
    close_port(rec.opened, port_events_.get());
    SlowPathCommand cmd;
    cmd.op = SlowPathOp::kFlushPort;
    cmd.port = rec.opened.port_id;
    if (Status st = run_slow_path_command_locked(cmd); !st) result = st;
  }
  return result;
}

Status Dataplane::remove_port(std::string_view port) {
  std::lock_guard lock(mu_);
  if (ports_.find(port) == ports_.end()) return Status{StatusCode::kNotFound, "no port " + std::string(port)};
  return remove_ports_locked({std::string(port)});
}

}  // namespace vnet::dp
