#include "control/gateway_adapter.h"

#include <fstream>
#include <sstream>
#include <system_error>

#include "dataplane/punt.h"
#include "dhcp/xml_config.h"

namespace vnet::ctl {

namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SinkAdapter final : public dhcp::FrameSink {
 public:
  explicit SinkAdapter(dp::FrameOut& out) : out_(out) {}
  bool send(std::span<const uint8_t> frame, uint16_t vlan) override { return out_.send(frame, vlan); }

 private:
  dp::FrameOut& out_;
};

// Stable MAC for a definition without <mac>: 52:54:00 + a hash of the name.
dhcp::Mac fallback_mac(const std::string& name) {
  const size_t h = std::hash<std::string>{}(name);
  return dhcp::Mac{{0x52, 0x54, 0x00, static_cast<uint8_t>(h >> 16), static_cast<uint8_t>(h >> 8),
                    static_cast<uint8_t>(h)}};
}

}  // namespace

class GatewayPunt final : public dp::PuntHandler {
 public:
  explicit GatewayPunt(dhcp::GatewayConfig config) : gateway_(std::move(config), clock_, rng_) {}

  void on_frame(std::span<const uint8_t> frame, uint16_t vlan, uint64_t, dp::FrameOut& out) override {
    SinkAdapter sink(out);
    begin(sink);
    gateway_.on_frame(frame, vlan, sink);
  }
  void on_tick(uint64_t, dp::FrameOut& out) override {
    SinkAdapter sink(out);
    begin(sink);
    gateway_.on_tick(sink);
  }
  bool conversing() const noexcept override { return gateway_.conversing(); }
  dhcp::Gateway& gateway() { return gateway_; }

 private:
  void begin(dhcp::FrameSink& sink) {
    if (started_) return;
    gateway_.start(sink);
    started_ = true;
  }
  dhcp::SystemClock clock_;
  dhcp::SystemRng rng_;
  dhcp::Gateway gateway_;
  bool started_ = false;
};

std::shared_ptr<GatewayPunt> GatewayDirectory::find(const std::string& network) const {
  auto it = live_.find(network);
  return it == live_.end() ? nullptr : it->second.lock();
}

std::optional<std::vector<dhcp::LeaseInfo>> GatewayDirectory::leases(const std::string& network,
                                                                     std::optional<dhcp::Mac> mac) const {
  auto g = find(network);
  if (g == nullptr) return std::nullopt;
  return g->gateway().leases(mac);
}

std::optional<dhcp::GatewayStats> GatewayDirectory::stats(const std::string& network) const {
  auto g = find(network);
  if (g == nullptr) return std::nullopt;
  return g->gateway().stats();
}

GatewayFactory make_gateway_factory(const std::filesystem::path& state_dir, Logger& log,
                                    std::shared_ptr<GatewayDirectory> directory) {
  return [state_dir, &log, directory](const xml::NetworkDef& def) -> xml::Result<std::optional<GatewaySetup>> {
    if (!dhcp::network_has_gateway(def)) {
      directory->live_.erase(def.name);
      return std::optional<GatewaySetup>{};
    }
    const std::filesystem::path lease_dir = state_dir / "leases";
    std::error_code ec;
    std::filesystem::create_directories(lease_dir, ec);
    if (ec) return xml::Result<std::optional<GatewaySetup>>::error("cannot create '" + lease_dir.string() + "': " + ec.message());
    dhcp::XmlConfigOptions options;
    options.lease_file = (lease_dir / def.name).string();
    options.fallback_mac = fallback_mac(def.name);
    options.system_resolvers = dhcp::parse_resolv_conf(read_text("/etc/resolv.conf"));
    options.system_hosts = dhcp::parse_hosts_file(read_text("/etc/hosts"));
    std::string error;
    std::optional<dhcp::GatewayConfig> config = dhcp::gateway_config_from_xml(def, options, error);
    if (!config) return xml::Result<std::optional<GatewaySetup>>::error(error);
    GatewaySetup setup;
    setup.mac = config->mac.bytes;
    if (auto live = directory->find(def.name)) {
      // net-update of a running network: same gateway, new configuration.
      if (std::string why = live->gateway().update_config(*config); !why.empty())
        return xml::Result<std::optional<GatewaySetup>>::error(why);
      setup.handler = live;
      return std::optional<GatewaySetup>{setup};
    }
    std::shared_ptr<GatewayPunt> punt;
    try {
      punt = std::make_shared<GatewayPunt>(std::move(*config));
    } catch (const std::exception& e) {
      return xml::Result<std::optional<GatewaySetup>>::error(e.what());
    }
    log.info("network '" + def.name + "': gateway " + dhcp::Mac{setup.mac}.to_string() + ", leases in '" +
             options.lease_file + "'");
    directory->live_[def.name] = punt;
    setup.handler = punt;
    return std::optional<GatewaySetup>{setup};
  };
}

nlohmann::json leases_json(const GatewayDirectory& directory, const std::string& network, const std::string& mac) {
  nlohmann::json rows = nlohmann::json::array();
  std::optional<dhcp::Mac> filter;
  if (!mac.empty()) filter = dhcp::Mac::parse(mac);
  auto leases = directory.leases(network, filter);
  if (!leases) return rows;
  for (const dhcp::LeaseInfo& l : *leases) {
    nlohmann::json r = nlohmann::json::object();
    r["expiry_time"] = l.expiry_s;
    r["mac"] = l.mac.is_zero() ? std::string() : l.mac.to_string();  // "": not known yet
    r["protocol"] = l.protocol();
    r["ipaddr"] = l.ip.to_string() + "/" + std::to_string(l.prefix_len);
    r["hostname"] = l.hostname;
    r["clientid"] = l.client_id;
    if (!l.ip.is_v4()) r["iaid"] = l.iaid;
    rows.push_back(std::move(r));
  }
  return rows;
}

namespace {

template <typename Enum, typename Array>
nlohmann::json named_counters(const Array& values, size_t first = 0) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = first; i < values.size(); ++i) j[dhcp::to_string(static_cast<Enum>(i))] = values[i];
  return j;
}

}  // namespace

std::optional<nlohmann::json> gateway_stats_json(const GatewayDirectory& directory, const std::string& network) {
  std::optional<dhcp::GatewayStats> st = directory.stats(network);
  if (!st) return std::nullopt;
  nlohmann::json j = nlohmann::json::object();
  j["counters"] = named_counters<dhcp::GatewayCounter>(st->counter);
  // FrameError index 0 is kOk: not an error.
  j["frame_errors"] = named_counters<dhcp::FrameError>(st->frame_error, 1);
  nlohmann::json dhcp = nlohmann::json::object();
  dhcp["outcomes"] = named_counters<dhcp::DhcpOutcome>(st->dhcp.outcome);
  dhcp["parse_errors"] = named_counters<dhcp::DhcpParseError>(st->dhcp.parse_error);
  dhcp["dropped_options"] = st->dhcp.dropped_options;
  j["dhcp"] = std::move(dhcp);
  nlohmann::json dns = nlohmann::json::object();
  dns["outcomes"] = named_counters<dhcp::DnsOutcome>(st->dns.outcome);
  dns["parse_errors"] = named_counters<dhcp::DnsParseError>(st->dns.parse_error);
  dns["truncated"] = st->dns.truncated;
  dns["forwarder"] = named_counters<dhcp::ForwardCounter>(st->forwarder.value);
  dns["tcp"] = named_counters<dhcp::DnsTcpCounter>(st->dns_tcp.value);
  j["dns"] = std::move(dns);
  j["tftp"] = named_counters<dhcp::TftpCounter>(st->tftp.value);
  j["ipv6"] = named_counters<dhcp::Ipv6Counter>(st->ipv6.value);
  j["dhcp6"] = named_counters<dhcp::Dhcp6Outcome>(st->dhcp6.outcome);
  nlohmann::json leases = nlohmann::json::object();
  leases["loaded"] = st->lease_load.loaded;
  leases["expired"] = st->lease_load.expired;
  leases["corrupt"] = st->lease_load.corrupt;
  leases["foreign"] = st->lease_load.foreign;
  leases["last_error"] = st->last_lease_error;
  j["lease_file"] = std::move(leases);
  return j;
}

}  // namespace vnet::ctl
