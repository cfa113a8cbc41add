// T1: the L3 path (dataplane/l3.h) through the Dataplane facade on real
// mbufs, with a PMD lcore and the slow-path thread: ring ethdevs stand in for
// a guest and for the uplink. NAT (UDP, TCP, ICMP echo, ICMP errors), route
// and open modes, refusals, TTL expiry, damaged frames, neighbour resolution
// and ARP on the uplink. Checksums are checked against a straightforward
// reference sum.
#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <random>

#include "dataplane/dataplane.h"
#include "dataplane/fdb.h"
#include "dataplane/ports/ethdev_port.h"
#include "dataplane/snapshot_publisher.h"
#include "dataplane/stages/stages.h"
#include "tests/dp/fake_clock.h"
#include "tests/dp/packet_builder.h"
#include "tests/dp/ring_io.h"

namespace vnet::dp::test {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;

constexpr std::array<uint8_t, 6> kGwMacBytes{0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
const net::MacAddr kGwMac{kGwMacBytes};
const net::MacAddr kGuestMac{{0x52, 0x54, 0x00, 0x00, 0x00, 0x05}};
const net::MacAddr kRouterMac{{0x02, 0x00, 0x00, 0x00, 0x0e, 0x01}};
const net::MacAddr kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x0e, 0x09}};

constexpr uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
}
constexpr uint32_t kGwIp = ip4(10, 0, 0, 1);
constexpr uint32_t kGuestIp = ip4(10, 0, 0, 5);
constexpr uint32_t kOutsideIp = ip4(198, 51, 100, 2);
constexpr uint32_t kRouterIp = ip4(198, 51, 100, 1);
constexpr uint32_t kOnLinkPeer = ip4(198, 51, 100, 9);
constexpr uint32_t kRemote = ip4(203, 0, 113, 7);

rte_mempool* test_pool() {
  static rte_mempool* pool =
      rte_pktmbuf_pool_create("l3_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return pool;
}

// ---- reference packet building and checksums ----

uint16_t ref_sum(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += uint32_t{p[i]} << 8 | p[i + 1];
  if (n % 2 != 0) acc += uint32_t{p[n - 1]} << 8;
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}
void put16(Bytes& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}
void put32(Bytes& b, size_t off, uint32_t v) {
  put16(b, off, static_cast<uint16_t>(v >> 16));
  put16(b, off + 2, static_cast<uint16_t>(v));
}
uint16_t get16(const Bytes& b, size_t off) { return static_cast<uint16_t>(b[off] << 8 | b[off + 1]); }
uint32_t get32(const Bytes& b, size_t off) { return uint32_t{get16(b, off)} << 16 | get16(b, off + 2); }

// The L4 checksum over pseudo header + segment, computed from scratch.
uint16_t ref_l4_sum(const Bytes& f, size_t ip_off) {
  const size_t ihl = (f[ip_off] & 0x0f) * 4u;
  const size_t total = get16(f, ip_off + 2);
  const uint8_t proto = f[ip_off + 9];
  uint32_t acc = 0;
  if (proto != 1) {
    acc += get16(f, ip_off + 12) + get16(f, ip_off + 14) + get16(f, ip_off + 16) + get16(f, ip_off + 18);
    acc += proto;
    acc += static_cast<uint32_t>(total - ihl);
  }
  return ref_sum(f.data() + ip_off + ihl, total - ihl, acc);
}

// Every checksum of an Ethernet + IPv4 frame verifies (sums to 0xffff).
void expect_checksums_ok(const Bytes& f) {
  ASSERT_GE(f.size(), 34u);
  EXPECT_EQ(ref_sum(f.data() + 14, (f[14] & 0x0f) * 4u), 0xffff) << "IPv4 header checksum";
  const uint8_t proto = f[23];
  const size_t l4 = 14 + (f[14] & 0x0f) * 4u;
  if (proto == 17 && get16(f, l4 + 6) == 0) return;  // UDP without checksum
  EXPECT_EQ(ref_l4_sum(f, 14), 0xffff) << "L4 checksum, proto " << int{proto};
}

struct Ip {
  uint32_t src = kGuestIp;
  uint32_t dst = kRemote;
  uint8_t proto = 17;
  uint8_t ttl = 64;
  uint16_t sport = 3456;   // TCP/UDP port, or ICMP echo id
  uint16_t dport = 53;     // TCP/UDP port; ICMP: type << 8 | code
  uint8_t tcp_flags = 0x02;
  Bytes payload = Bytes(18, 0x5a);
  Bytes l4_override;       // ICMP errors: the whole ICMP message (checksum filled)
};

// An IPv4 packet (header + L4) with correct checksums.
Bytes ip_packet(const Ip& p) {
  Bytes l4;
  if (!p.l4_override.empty()) {
    l4 = p.l4_override;
  } else if (p.proto == 17) {
    l4.assign(8, 0);
    put16(l4, 0, p.sport);
    put16(l4, 2, p.dport);
    put16(l4, 4, static_cast<uint16_t>(8 + p.payload.size()));
    l4.insert(l4.end(), p.payload.begin(), p.payload.end());
  } else if (p.proto == 6) {
    l4.assign(20, 0);
    put16(l4, 0, p.sport);
    put16(l4, 2, p.dport);
    put32(l4, 4, 1000);
    l4[12] = 0x50;
    l4[13] = p.tcp_flags;
    put16(l4, 14, 65535);
    l4.insert(l4.end(), p.payload.begin(), p.payload.end());
  } else if (p.proto == 1) {
    l4.assign(8, 0);
    l4[0] = static_cast<uint8_t>(p.dport >> 8);
    l4[1] = static_cast<uint8_t>(p.dport);
    put16(l4, 4, p.sport);
    put16(l4, 6, 1);
    l4.insert(l4.end(), p.payload.begin(), p.payload.end());
  }
  Bytes b(20, 0);
  b[0] = 0x45;
  put16(b, 2, static_cast<uint16_t>(20 + l4.size()));
  put16(b, 4, 0x1111);
  b[8] = p.ttl;
  b[9] = p.proto;
  put32(b, 12, p.src);
  put32(b, 16, p.dst);
  put16(b, 10, static_cast<uint16_t>(~ref_sum(b.data(), 20)));
  b.insert(b.end(), l4.begin(), l4.end());
  // L4 checksum.
  Bytes f(14, 0);
  f.insert(f.end(), b.begin(), b.end());
  const size_t csum = p.proto == 17 ? 20 + 6 : p.proto == 6 ? 20 + 16 : 20 + 2;
  if (p.l4_override.empty() || p.proto == 1) {
    put16(b, csum, 0);
    f.assign(14, 0);
    f.insert(f.end(), b.begin(), b.end());
    uint16_t s = static_cast<uint16_t>(~ref_l4_sum(f, 14));
    if (p.proto == 17 && s == 0) s = 0xffff;
    put16(b, csum, s);
  }
  return b;
}

// Splits an IPv4 packet (20-byte header) into two fragments at `at` payload
// bytes (a multiple of 8), header checksums filled.
std::array<Bytes, 2> split_fragments(const Bytes& d, size_t at) {
  std::array<Bytes, 2> f;
  for (int i = 0; i < 2; ++i) {
    const size_t from = 20 + (i == 0 ? 0 : at);
    const size_t to = i == 0 ? 20 + at : d.size();
    f[i].assign(d.begin(), d.begin() + 20);
    f[i].insert(f[i].end(), d.begin() + static_cast<long>(from), d.begin() + static_cast<long>(to));
    put16(f[i], 2, static_cast<uint16_t>(f[i].size()));
    put16(f[i], 6, static_cast<uint16_t>(i == 0 ? 0x2000 : at / 8));
    put16(f[i], 10, 0);
    put16(f[i], 10, static_cast<uint16_t>(~ref_sum(f[i].data(), 20)));
  }
  return f;
}

Bytes eth_frame(const net::MacAddr& dst, const net::MacAddr& src, uint16_t type, const Bytes& payload) {
  Bytes f(dst.b.begin(), dst.b.end());
  f.insert(f.end(), src.b.begin(), src.b.end());
  f.push_back(static_cast<uint8_t>(type >> 8));
  f.push_back(static_cast<uint8_t>(type));
  f.insert(f.end(), payload.begin(), payload.end());
  while (f.size() < 60) f.push_back(0);
  return f;
}

Bytes arp_frame(const net::MacAddr& eth_dst, uint16_t op, const net::MacAddr& sha, uint32_t spa,
                const net::MacAddr& tha, uint32_t tpa) {
  Bytes a(28, 0);
  put16(a, 0, 1);
  put16(a, 2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  put16(a, 6, op);
  std::copy(sha.b.begin(), sha.b.end(), a.begin() + 8);
  put32(a, 14, spa);
  std::copy(tha.b.begin(), tha.b.end(), a.begin() + 18);
  put32(a, 24, tpa);
  return eth_frame(eth_dst, sha, 0x0806, a);
}

net::MacAddr mac_at(const Bytes& f, size_t off) {
  net::MacAddr m;
  std::copy(f.begin() + static_cast<std::ptrdiff_t>(off), f.begin() + static_cast<std::ptrdiff_t>(off + 6), m.b.begin());
  return m;
}

bool is_arp(const Bytes& f) { return f.size() >= 42 && get16(f, 12) == 0x0806; }
bool is_ipv4(const Bytes& f) { return f.size() >= 34 && get16(f, 12) == 0x0800; }

class NullHandler : public PuntHandler {
 public:
  void on_frame(std::span<const uint8_t> frame, uint16_t, uint64_t, FrameOut&) override {
    std::lock_guard l(mu_);
    seen_.emplace_back(frame.begin(), frame.end());
  }
  void on_tick(uint64_t, FrameOut&) override {}
  size_t seen_count() {
    std::lock_guard l(mu_);
    return seen_.size();
  }

 private:
  std::mutex mu_;
  std::vector<Bytes> seen_;
};

struct RingDev {
  rte_ring* in = nullptr;   // the test enqueues frames "received" by the port
  rte_ring* out = nullptr;  // frames the switch sent
  uint16_t port = 0;
};

class L3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(test_pool(), nullptr);
    ++n_;
    pool_in_use_ = rte_mempool_in_use_count(test_pool());
    DataplaneOptions o;
    o.name = "l3" + std::to_string(n_);
    o.workers = 1;
    o.mbufs = 4095;
    o.fdb_capacity = 4096;
    o.clock = &clock_;
    o.run_dir = "/tmp/vnet_l3t";
    o.worker_idle_sleep_us = 20;
    auto d = Dataplane::create(o);
    ASSERT_TRUE(d.is_ok()) << d.status().to_string();
    dp_ = std::move(d).value();
    ASSERT_TRUE(dp_->add_network({"n1", 1500, 8192, 300}).is_ok());
    handler_ = std::make_shared<NullHandler>();
    ASSERT_TRUE(dp_->set_punt_handler("n1", kGwMacBytes, handler_).is_ok());
    guest_ = make_dev("g", 1);
    add_guest_port("guest", guest_);
    uplink_ = make_dev("u", 2);
    rte_ether_addr ea{};
    ASSERT_EQ(rte_eth_macaddr_get(uplink_.port, &ea), 0);
    std::copy(std::begin(ea.addr_bytes), std::end(ea.addr_bytes), kUplinkMac.b.begin());
  }

  // A guest port on n1 backed by `dev`.
  void add_guest_port(const std::string& name, const RingDev& dev) {
    PortSpec g;
    g.name = name;
    g.kind = PortKind::kEthdev;
    g.ethdev_port = dev.port;
    auto r = dp_->add_port("n1", g);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  }

  // n UDP replies from kRemote:53 to the outside address on the uplink,
  // to port odd_port for odd k and even_port for even k (payload: 18 x k).
  void send_replies(int n, uint16_t odd_port, uint16_t even_port) {
    for (int k = 0; k < n; ++k) {
      Ip r;
      r.src = kRemote;
      r.dst = kOutsideIp;
      r.sport = 53;
      r.dport = k % 2 ? odd_port : even_port;
      r.payload = Bytes(18, static_cast<uint8_t>(k));
      send(uplink_, from_router(r));
    }
  }

  void TearDown() override {
    dp_.reset();
    for (RingDev* d : {&guest_, &uplink_}) close_dev(*d);
    EXPECT_EQ(rte_mempool_in_use_count(test_pool()), pool_in_use_) << "test mbufs leaked";
  }

  static void close_dev(RingDev& d) {
    drain(d.in);
    drain(d.out);
    rte_eth_dev_info info{};
    rte_device* dev = rte_eth_dev_info_get(d.port, &info) == 0 ? info.device : nullptr;
    (void)rte_eth_dev_close(d.port);
    if (dev != nullptr) (void)rte_dev_remove(dev);
    rte_ring_free(d.in);
    rte_ring_free(d.out);
  }

  RingDev make_dev(const std::string& tag, uint16_t tx_queues) {
    RingDev d;
    const std::string n = "l3" + std::to_string(n_) + tag;
    d.in = rte_ring_create((n + "_in").c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    d.out = rte_ring_create((n + "_out").c_str(), 1024, SOCKET_ID_ANY, RING_F_SC_DEQ);
    EXPECT_NE(d.in, nullptr);
    EXPECT_NE(d.out, nullptr);
    std::vector<rte_ring*> tx(tx_queues, d.out);
    const int id = rte_eth_from_rings(n.c_str(), &d.in, 1, tx.data(), tx_queues, SOCKET_ID_ANY);
    EXPECT_GE(id, 0);
    d.port = static_cast<uint16_t>(id);
    return d;
  }

  L3Config config(L3Mode mode, uint32_t next_hop = kRouterIp) {
    L3Config c;
    c.mode = mode;
    c.inside = {Ipv4Prefix{kGwIp, 24}};
    c.uplink.name = "n1-uplink";
    c.uplink.kind = PortKind::kEthdev;
    c.uplink.ethdev_port = uplink_.port;
    c.outside_ip = kOutsideIp;
    c.outside_prefix = 24;
    c.next_hop = next_hop;
    c.nat_sessions = nat_sessions_;
    return c;
  }

  void send(const RingDev& d, const Bytes& frame, uint64_t ol_flags = 0) {
    rte_mbuf* m = to_mbuf(test_pool(), frame);
    ASSERT_NE(m, nullptr);
    m->ol_flags = ol_flags;
    ASSERT_EQ(rte_ring_enqueue(d.in, m), 0);
  }

  // The next frame on `d` matching `pred` (others are discarded), or nothing.
  template <class Pred>
  std::optional<Bytes> expect_frame(const RingDev& d, Pred pred, std::chrono::milliseconds t = 3000ms) {
    const auto deadline = std::chrono::steady_clock::now() + t;
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& f : drain(d.out))
        if (pred(f)) return f;
      std::this_thread::sleep_for(1ms);
    }
    return std::nullopt;
  }

  uint64_t counter(const std::string& name) {
    auto s = dp_->l3_stats("n1");
    EXPECT_TRUE(s.is_ok());
    if (!s) return 0;
    for (const auto& [n, v] : s->counters)
      if (n == name) return v;
    ADD_FAILURE() << "no counter " << name;
    return 0;
  }
  bool has_neighbor(uint32_t ip) {
    auto n = dp_->neighbors("n1");
    if (!n) return false;
    return std::any_of(n->begin(), n->end(), [&](const NeighborEntry& e) { return e.ip == ip; });
  }

  // set_l3, answer the next hop's ARP, and let the guest announce itself.
  void bring_up(L3Mode mode, uint32_t next_hop = kRouterIp) {
    Status st = dp_->set_l3("n1", config(mode, next_hop));
    ASSERT_TRUE(st.is_ok()) << st.to_string();
    if (next_hop != 0) {
      auto req = expect_frame(uplink_, [&](const Bytes& f) { return is_arp(f) && get32(f, 38) == next_hop; });
      ASSERT_TRUE(req.has_value()) << "no ARP request for the next hop";
      EXPECT_EQ(mac_at(*req, 0), net::kBroadcastMac);
      EXPECT_EQ(mac_at(*req, 6), kUplinkMac);
      EXPECT_EQ(get32(*req, 28), kOutsideIp);
      send(uplink_, arp_frame(kUplinkMac, 2, kRouterMac, next_hop, kUplinkMac, kOutsideIp));
      ASSERT_TRUE(eventually([&] { return has_neighbor(next_hop); }));
    }
    // The guest asks for its gateway (broadcast: reaches the gateway port, snooped).
    send(guest_, arp_frame(net::kBroadcastMac, 1, kGuestMac, kGuestIp, net::MacAddr{}, kGwIp));
    ASSERT_TRUE(eventually([&] { return has_neighbor(kGuestIp); }));
    drain(guest_.out);
    drain(uplink_.out);
  }

  Bytes from_guest(const Ip& p) { return eth_frame(kGwMac, kGuestMac, 0x0800, ip_packet(p)); }
  Bytes from_router(const Ip& p) { return eth_frame(kUplinkMac, kRouterMac, 0x0800, ip_packet(p)); }

  // The next n IPv4 frames sent on `d` (fewer when they do not come in time).
  std::vector<Bytes> collect(const RingDev& d, size_t n, std::chrono::milliseconds t = 5000ms) {
    std::vector<Bytes> got;
    const auto deadline = std::chrono::steady_clock::now() + t;
    while (got.size() < n && std::chrono::steady_clock::now() < deadline) {
      bool any = false;
      for (auto& f : drain(d.out)) {
        if (!is_ipv4(f)) continue;
        got.push_back(std::move(f));
        any = true;
      }
      if (!any) std::this_thread::sleep_for(1ms);
    }
    return got;
  }

  static inline int n_ = 0;
  uint32_t nat_sessions_ = 1024;  // config()'s NAT table capacity
  FakeClock clock_;
  std::unique_ptr<Dataplane> dp_;
  std::shared_ptr<NullHandler> handler_;
  RingDev guest_;
  RingDev uplink_;
  net::MacAddr kUplinkMac;  // the uplink ethdev's MAC
  unsigned pool_in_use_ = 0;
};

TEST_F(L3Test, SetL3NeedsGatewayAndValidConfig) {
  ASSERT_TRUE(dp_->add_network({"n2", 1500, 8192, 300}).is_ok());
  L3Config c = config(L3Mode::kNat);
  EXPECT_FALSE(dp_->set_l3("n2", c).is_ok());       // no gateway
  EXPECT_FALSE(dp_->set_l3("nope", c).is_ok());     // no network
  L3Config bad = c;
  bad.nat_port_first = 2000;
  bad.nat_port_last = 2000;                         // libvirt: start < end
  EXPECT_FALSE(dp_->set_l3("n1", bad).is_ok());
  bad = c;
  bad.inside.clear();
  EXPECT_FALSE(dp_->set_l3("n1", bad).is_ok());
  bad = c;
  bad.uplink.name = "guest";                        // clashes with a port
  EXPECT_FALSE(dp_->set_l3("n1", bad).is_ok());
  bad = c;
  bad.uplink.kind = PortKind::kRing;                // not an uplink kind
  EXPECT_FALSE(dp_->set_l3("n1", bad).is_ok());
  bad = c;
  bad.uplink.kind = PortKind::kVhostServer;
  bad.uplink.path = "relative.sock";                // vhost-user needs an absolute path
  EXPECT_FALSE(dp_->set_l3("n1", bad).is_ok());
  bad.uplink.path.clear();
  EXPECT_FALSE(dp_->set_l3("n1", bad).is_ok());
  bad = c;
  bad.uplink.kind = PortKind::kPci;                 // no such device (and no PCI bus here)
  bad.uplink.pci_address = "0000:7f:1f.7";
  Status pci = dp_->set_l3("n1", bad);
  EXPECT_FALSE(pci.is_ok());
  EXPECT_NE(pci.message().find("0000:7f:1f.7"), std::string::npos) << pci.message();
  bad.uplink.kind = PortKind::kAfXdp;               // no such interface
  bad.uplink.ifname = "vnet-no-such-if";
  EXPECT_FALSE(dp_->set_l3("n1", bad).is_ok());
  EXPECT_FALSE(dp_->uplink_port("n1").is_ok());
  ASSERT_TRUE(dp_->set_l3("n1", c).is_ok());
  auto up = dp_->uplink_port("n1");
  ASSERT_TRUE(up.is_ok());
  EXPECT_EQ(up->name, "n1-uplink");
  EXPECT_EQ(up->port_id, uplink_.port);
  for (const PortInfo& p : dp_->list_ports("n1")) EXPECT_NE(p.name, "n1-uplink");
  EXPECT_TRUE(dp_->set_l3("n1", c).is_ok());        // replaces
  EXPECT_TRUE(dp_->clear_l3("n1").is_ok());
  EXPECT_FALSE(dp_->uplink_port("n1").is_ok());
  EXPECT_TRUE(dp_->clear_l3("n1").is_ok());         // idempotent
}

TEST_F(L3Test, NatUdpOutboundAndReturn) {
  bring_up(L3Mode::kNat);
  send(guest_, from_guest(Ip{}));
  auto out = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(mac_at(*out, 0), kRouterMac);
  EXPECT_EQ(mac_at(*out, 6), kUplinkMac);
  EXPECT_EQ(get32(*out, 26), kOutsideIp);     // source translated
  EXPECT_EQ(get32(*out, 30), kRemote);
  EXPECT_EQ((*out)[22], 63);                  // TTL decremented
  EXPECT_EQ(get16(*out, 34), 3456);           // port preserved
  expect_checksums_ok(*out);

  Ip reply;
  reply.src = kRemote;
  reply.dst = kOutsideIp;
  reply.sport = 53;
  reply.dport = 3456;
  send(uplink_, from_router(reply));
  auto in = expect_frame(guest_, is_ipv4);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(mac_at(*in, 0), kGuestMac);
  EXPECT_EQ(mac_at(*in, 6), kGwMac);
  EXPECT_EQ(get32(*in, 26), kRemote);
  EXPECT_EQ(get32(*in, 30), kGuestIp);        // destination translated back
  EXPECT_EQ(get16(*in, 36), 3456);
  EXPECT_EQ((*in)[22], 63);
  expect_checksums_ok(*in);

  auto rows = dp_->nat_sessions("n1");
  ASSERT_TRUE(rows.is_ok()) << rows.status().to_string();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].proto, "udp");
  EXPECT_EQ((*rows)[0].inside, "10.0.0.5:3456");
  EXPECT_EQ((*rows)[0].outside, "198.51.100.2:3456");
  EXPECT_EQ((*rows)[0].peer, "203.0.113.7:53");
  auto stats = dp_->l3_stats("n1");
  ASSERT_TRUE(stats.is_ok());
  EXPECT_EQ(stats->sessions, 1u);
  EXPECT_EQ(stats->next_hop_mac, kRouterMac.to_string());
  // The translated datagram and the slow path's ARP requests, all sent by the
  // workers (worker 0 transmits the slow path's frames).
  EXPECT_GE(counter("arp_requests_uplink"), 1u);
  EXPECT_EQ(stats->uplink.tx_pkts, 1u + counter("arp_requests_uplink"));
  EXPECT_EQ(counter("routed_out"), 1u);
  EXPECT_EQ(counter("routed_in"), 1u);
  EXPECT_EQ(counter("sessions_created"), 1u);
}

TEST_F(L3Test, NatTcpAndIcmpEcho) {
  bring_up(L3Mode::kNat);
  Ip syn;
  syn.proto = 6;
  syn.sport = 40000;
  syn.dport = 80;
  syn.tcp_flags = 0x02;
  syn.payload.clear();
  send(guest_, from_guest(syn));
  auto out = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(get32(*out, 26), kOutsideIp);
  const uint16_t ext_port = get16(*out, 34);
  expect_checksums_ok(*out);
  Ip synack;
  synack.proto = 6;
  synack.src = kRemote;
  synack.dst = kOutsideIp;
  synack.sport = 80;
  synack.dport = ext_port;
  synack.tcp_flags = 0x12;
  synack.payload.clear();
  send(uplink_, from_router(synack));
  auto in = expect_frame(guest_, is_ipv4);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(get32(*in, 30), kGuestIp);
  EXPECT_EQ(get16(*in, 36), 40000);
  expect_checksums_ok(*in);

  Ip ping;
  ping.proto = 1;
  ping.sport = 0x1234;           // echo id
  ping.dport = 8 << 8;           // echo request
  send(guest_, from_guest(ping));
  out = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ((*out)[23], 1);
  EXPECT_EQ(get32(*out, 26), kOutsideIp);
  const uint16_t ext_id = get16(*out, 38);
  expect_checksums_ok(*out);
  Ip pong;
  pong.proto = 1;
  pong.src = kRemote;
  pong.dst = kOutsideIp;
  pong.sport = ext_id;
  pong.dport = 0;                // echo reply
  send(uplink_, from_router(pong));
  in = expect_frame(guest_, is_ipv4);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(get32(*in, 30), kGuestIp);
  EXPECT_EQ(get16(*in, 38), 0x1234);  // identifier translated back
  expect_checksums_ok(*in);
}

TEST_F(L3Test, NatIcmpErrorQuotesTheInsideFlow) {
  bring_up(L3Mode::kNat);
  send(guest_, from_guest(Ip{}));
  auto out = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(out.has_value());
  // A router on the way answers with time exceeded quoting the translated packet.
  Bytes quoted(out->begin() + 14, out->begin() + 14 + 28);
  Bytes icmp(8, 0);
  icmp[0] = 11;
  icmp.insert(icmp.end(), quoted.begin(), quoted.end());
  Ip err;
  err.proto = 1;
  err.src = ip4(192, 0, 2, 99);
  err.dst = kOutsideIp;
  err.l4_override = icmp;
  send(uplink_, from_router(err));
  auto in = expect_frame(guest_, is_ipv4);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(get32(*in, 30), kGuestIp);
  EXPECT_EQ((*in)[34], 11);
  EXPECT_EQ(get32(*in, 34 + 8 + 12), kGuestIp);  // quoted source is the guest again
  EXPECT_EQ(get16(*in, 34 + 8 + 20), 3456);      // quoted source port
  expect_checksums_ok(*in);
  EXPECT_EQ(counter("related_out2in"), 1u);
}

TEST_F(L3Test, UnsolicitedInboundIsRefusedWithPortUnreachable) {
  bring_up(L3Mode::kNat);
  Ip p;
  p.src = kRemote;
  p.dst = kOutsideIp;
  p.sport = 5555;
  p.dport = 8080;
  send(uplink_, from_router(p));
  auto err = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(mac_at(*err, 0), kRouterMac);
  EXPECT_EQ(mac_at(*err, 6), kUplinkMac);
  EXPECT_EQ((*err)[23], 1);
  EXPECT_EQ(get32(*err, 26), kOutsideIp);
  EXPECT_EQ(get32(*err, 30), kRemote);
  EXPECT_EQ((*err)[34], 3);
  EXPECT_EQ((*err)[35], 3);
  expect_checksums_ok(*err);
  EXPECT_TRUE(drain(guest_.out).empty());
  EXPECT_EQ(counter("no_session"), 1u);
  EXPECT_EQ(counter("icmp_errors_sent"), 1u);
  auto ps = dp_->port_stats("n1-uplink");
  ASSERT_TRUE(ps.is_ok());
  EXPECT_EQ(ps->drop(DropReason::kL3Refused), 1u);
  // Routed to the guest's own address: refused like libvirt's FWI REJECT.
  Ip direct = p;
  direct.dst = kGuestIp;
  send(uplink_, from_router(direct));
  auto err2 = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(err2.has_value());
  EXPECT_EQ((*err2)[34], 3);
  EXPECT_EQ(get32(*err2, 26), kOutsideIp);
  EXPECT_TRUE(drain(guest_.out).empty());
  EXPECT_EQ(counter("no_session"), 2u);
  // Not addressed to us at all: dropped, counted.
  Ip other = p;
  other.dst = ip4(198, 51, 100, 77);
  send(uplink_, from_router(other));
  ASSERT_TRUE(eventually([&] { return counter("not_our_address") == 1; }));
}

TEST_F(L3Test, PingToTheOutsideAddressIsAnswered) {
  bring_up(L3Mode::kNat);
  Ip ping;
  ping.proto = 1;
  ping.src = kRemote;
  ping.dst = kOutsideIp;
  ping.sport = 0x4321;
  ping.dport = 8 << 8;
  send(uplink_, from_router(ping));
  auto rep = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(rep.has_value());
  EXPECT_EQ(mac_at(*rep, 0), kRouterMac);
  EXPECT_EQ(get32(*rep, 26), kOutsideIp);
  EXPECT_EQ(get32(*rep, 30), kRemote);
  EXPECT_EQ((*rep)[34], 0);              // echo reply
  EXPECT_EQ(get16(*rep, 38), 0x4321);
  expect_checksums_ok(*rep);
  EXPECT_EQ(counter("echo_replies"), 1u);
}

TEST_F(L3Test, TtlExpiryAnswersTimeExceeded) {
  bring_up(L3Mode::kNat);
  Ip p;
  p.ttl = 1;
  send(guest_, from_guest(p));
  auto err = expect_frame(guest_, is_ipv4);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(mac_at(*err, 0), kGuestMac);
  EXPECT_EQ(mac_at(*err, 6), kGwMac);
  EXPECT_EQ(get32(*err, 26), kGwIp);
  EXPECT_EQ(get32(*err, 30), kGuestIp);
  EXPECT_EQ((*err)[34], 11);
  EXPECT_EQ((*err)[35], 0);
  expect_checksums_ok(*err);
  EXPECT_TRUE(drain(uplink_.out).empty());
  EXPECT_EQ(counter("ttl_expired"), 1u);
  auto ps = dp_->port_stats("guest");
  ASSERT_TRUE(ps.is_ok());
  EXPECT_EQ(ps->drop(DropReason::kTtlExpired), 1u);
}

TEST_F(L3Test, LinkLocalMulticastIsNotTranslated) {
  bring_up(L3Mode::kNat);
  Ip p;
  p.dst = ip4(224, 0, 0, 251);
  p.dport = 5353;
  send(guest_, from_guest(p));
  auto out = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(get32(*out, 26), kGuestIp);  // untranslated
  EXPECT_EQ(mac_at(*out, 0), (net::MacAddr{{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}}));
  expect_checksums_ok(*out);
  EXPECT_EQ(counter("no_nat_local_dst"), 1u);
  auto rows = dp_->nat_sessions("n1");
  ASSERT_TRUE(rows.is_ok());
  EXPECT_TRUE(rows->empty());
}

TEST_F(L3Test, NeighbourMissSendsArpOnTheUplink) {
  bring_up(L3Mode::kNat, 0);  // no next hop: destinations are on-link
  Ip p;
  p.dst = kOnLinkPeer;
  send(guest_, from_guest(p));
  auto req = expect_frame(uplink_, [](const Bytes& f) { return is_arp(f) && get32(f, 38) == kOnLinkPeer; });
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(get16(*req, 20), 1);            // request
  EXPECT_EQ(get32(*req, 28), kOutsideIp);   // from our outside address
  EXPECT_EQ(counter("neighbor_miss"), 1u);
  auto ps = dp_->port_stats("guest");
  ASSERT_TRUE(ps.is_ok());
  EXPECT_EQ(ps->drop(DropReason::kNeighborMiss), 1u);
  // The peer answers; the next packet goes through.
  send(uplink_, arp_frame(kUplinkMac, 2, kPeerMac, kOnLinkPeer, kUplinkMac, kOutsideIp));
  ASSERT_TRUE(eventually([&] { return has_neighbor(kOnLinkPeer); }));
  send(guest_, from_guest(p));
  auto out = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(mac_at(*out, 0), kPeerMac);
}

TEST_F(L3Test, InboundNeighbourMissArpsIntoTheNetwork) {
  bring_up(L3Mode::kRoute);
  const uint32_t other = ip4(10, 0, 0, 9);
  Ip p;
  p.src = kRemote;
  p.dst = other;
  send(uplink_, from_router(p));
  auto req = expect_frame(guest_, [&](const Bytes& f) { return is_arp(f) && get32(f, 38) == other; });
  ASSERT_TRUE(req.has_value()) << "no ARP request into the network";
  EXPECT_EQ(mac_at(*req, 0), net::kBroadcastMac);
  EXPECT_EQ(mac_at(*req, 6), kGwMac);
  EXPECT_EQ(get32(*req, 28), kGwIp);
  EXPECT_EQ(counter("neighbor_miss"), 1u);
  EXPECT_GE(counter("arp_requests_inside"), 1u);
}

TEST_F(L3Test, UplinkArpIsAnsweredForOurAddressesOnly) {
  bring_up(L3Mode::kNat);
  send(uplink_, arp_frame(net::kBroadcastMac, 1, kPeerMac, kOnLinkPeer, net::MacAddr{}, kOutsideIp));
  auto rep = expect_frame(uplink_, is_arp);
  ASSERT_TRUE(rep.has_value());
  EXPECT_EQ(mac_at(*rep, 0), kPeerMac);
  EXPECT_EQ(get16(*rep, 20), 2);
  EXPECT_EQ(mac_at(*rep, 22), kUplinkMac);
  EXPECT_EQ(get32(*rep, 28), kOutsideIp);
  EXPECT_EQ(get32(*rep, 38), kOnLinkPeer);
  EXPECT_TRUE(has_neighbor(kOnLinkPeer));
  // A probe (sender 0.0.0.0) and a question for someone else get no answer.
  send(uplink_, arp_frame(net::kBroadcastMac, 1, kPeerMac, 0, net::MacAddr{}, kOutsideIp));
  send(uplink_, arp_frame(net::kBroadcastMac, 1, kPeerMac, kOnLinkPeer, net::MacAddr{}, ip4(198, 51, 100, 50)));
  ASSERT_TRUE(eventually([&] { return counter("arp_ignored") >= 2; }));
  EXPECT_FALSE(expect_frame(uplink_, is_arp, 100ms).has_value());
  EXPECT_EQ(counter("arp_replies_sent"), 1u);
}

TEST_F(L3Test, RouteModeRoutesWithoutTranslation) {
  bring_up(L3Mode::kRoute);
  send(guest_, from_guest(Ip{}));
  auto out = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(get32(*out, 26), kGuestIp);  // not translated
  EXPECT_EQ((*out)[22], 63);
  expect_checksums_ok(*out);
  Ip in;
  in.src = kRemote;
  in.dst = kGuestIp;
  in.sport = 80;
  in.dport = 1234;
  send(uplink_, from_router(in));
  auto got = expect_frame(guest_, is_ipv4);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(get32(*got, 30), kGuestIp);
  EXPECT_EQ(mac_at(*got, 0), kGuestMac);
  EXPECT_EQ((*got)[22], 63);
  expect_checksums_ok(*got);
  // Source outside the network: refused (port unreachable back to the guest).
  Ip spoof;
  spoof.src = ip4(10, 9, 9, 9);
  send(guest_, from_guest(spoof));
  auto err = expect_frame(guest_, is_ipv4);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ((*err)[34], 3);
  EXPECT_EQ(counter("src_not_in_network"), 1u);
  // Inbound to an address outside the network: refused on the uplink.
  Ip stray = in;
  stray.dst = ip4(10, 0, 1, 9);
  send(uplink_, from_router(stray));
  auto err2 = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(err2.has_value());
  EXPECT_EQ((*err2)[34], 3);
  EXPECT_EQ(counter("dst_not_in_network"), 1u);
}

TEST_F(L3Test, OpenModeAcceptsAnySource) {
  bring_up(L3Mode::kOpen);
  Ip p;
  p.src = ip4(10, 9, 9, 9);
  send(guest_, from_guest(p));
  auto out = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(get32(*out, 26), ip4(10, 9, 9, 9));
  expect_checksums_ok(*out);
}

TEST_F(L3Test, PartialChecksumIsFinishedBeforeNat) {
  bring_up(L3Mode::kNat);
  Bytes f = from_guest(Ip{});
  // Replace the UDP checksum by the pseudo-header-only partial sum (virtio NEEDS_CSUM).
  const size_t l4 = 34;
  uint32_t acc = get16(f, 26) + get16(f, 28) + get16(f, 30) + get16(f, 32) + 17 + get16(f, l4 + 4);
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  put16(f, l4 + 6, static_cast<uint16_t>(acc));
  send(guest_, f, RTE_MBUF_F_RX_L4_CKSUM_NONE);
  auto out = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(out.has_value());
  expect_checksums_ok(*out);
  EXPECT_EQ(counter("checksum_completed"), 1u);
}

TEST_F(L3Test, FramesToTheGatewayAddressStillReachTheGateway) {
  bring_up(L3Mode::kNat);
  const size_t before = handler_->seen_count();
  Ip p;
  p.dst = kGwIp;
  send(guest_, from_guest(p));
  ASSERT_TRUE(eventually([&] { return handler_->seen_count() > before; }));
  EXPECT_TRUE(drain(uplink_.out).empty());
}

TEST_F(L3Test, ReplacingTheGatewayKeepsL3AndDetachingClearsIt) {
  bring_up(L3Mode::kNat);
  auto other = std::make_shared<NullHandler>();
  ASSERT_TRUE(dp_->set_punt_handler("n1", kGwMacBytes, other).is_ok());
  ASSERT_TRUE(dp_->uplink_port("n1").is_ok());
  send(guest_, from_guest(Ip{}));
  auto out = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(get32(*out, 26), kOutsideIp);
  ASSERT_TRUE(dp_->set_punt_handler("n1", kGwMacBytes, nullptr).is_ok());
  EXPECT_FALSE(dp_->uplink_port("n1").is_ok());
  EXPECT_FALSE(dp_->l3_stats("n1").is_ok());
}

TEST_F(L3Test, RemoveNetworkClosesTheUplink) {
  bring_up(L3Mode::kNat);
  send(guest_, from_guest(Ip{}));
  ASSERT_TRUE(expect_frame(uplink_, is_ipv4).has_value());
  ASSERT_TRUE(dp_->remove_network("n1").is_ok());
  EXPECT_FALSE(dp_->uplink_port("n1").is_ok());
}

// Two workers at stage level: a session created by worker 1; its return
// traffic arrives on worker 0, is handed to worker 1 through its handoff ring
// and forwarded there.
TEST_F(L3Test, ReturnTrafficIsHandedToTheOwningWorker) {
  auto pub = SnapshotPublisher::create(2);
  ASSERT_TRUE(pub.is_ok());
  auto publisher = std::move(pub).value();
  ASSERT_TRUE(publisher->register_reader(0).is_ok());
  FdbOptions fo;
  fo.name = "l3hof" + std::to_string(n_);
  fo.capacity = 256;
  fo.max_workers = 2;
  fo.qsbr = publisher->qsbr();
  auto fdb = Fdb::create(fo);
  ASSERT_TRUE(fdb.is_ok());
  RingDev g2 = make_dev("g2", 2);
  RingDev u2 = make_dev("u2", 2);
  for (uint16_t id : {g2.port, u2.port}) {
    PortSetup setup;
    setup.pool = test_pool();
    setup.tx_queues = 2;
    ASSERT_TRUE(configure_and_start(id, setup).is_ok());
  }
  rte_ether_addr ea{};
  ASSERT_EQ(rte_eth_macaddr_get(u2.port, &ea), 0);
  net::MacAddr up_mac;
  std::copy(std::begin(ea.addr_bytes), std::end(ea.addr_bytes), up_mac.b.begin());
  const uint16_t gw_port = guest_.port;  // any port id: only its role matters here

  nat::NatConfig nc;
  (void)nc.inside.add(kGwIp, 24);
  nc.addr_first = nc.addr_last = kOutsideIp;
  nc.workers = 2;
  nat::NatWorker w0(nc, 0, 256, 1), w1(nc, 1, 256, 2);
  NeighborTable neigh(64);
  ASSERT_EQ(neigh.learn(kGuestIp, kGuestMac, 1), NeighborTable::Update::kAdded);
  ASSERT_EQ(neigh.learn(kRouterIp, kRouterMac, 1), NeighborTable::Update::kAdded);
  L3Counters c0, c1;
  SnapshotNetworkInput net{0, NetworkConfig{"h", 1500, 8192, 300}, {}};
  L3State& l3 = net.l3;
  l3.enabled = true;
  l3.mode = L3Mode::kNat;
  l3.policy.subnets = nc.inside;
  l3.gateway_ips[0] = kGwIp;
  l3.gateway_ip_count = 1;
  l3.outside_ip = kOutsideIp;
  l3.outside_mask = 0xffffff00u;
  l3.next_hop = kRouterIp;
  l3.nat_first = l3.nat_last = kOutsideIp;
  l3.uplink_port = u2.port;
  l3.uplink_mac = up_mac;
  l3.neighbors = &neigh;
  l3.nat = {&w0, &w1};
  l3.counters = {&c0, &c1};
  SnapshotPortInput pg;
  pg.port_id = g2.port;
  pg.name = "g";
  pg.worker = 1;
  SnapshotPortInput pgw;
  pgw.port_id = gw_port;
  pgw.name = "gateway";
  pgw.gateway = true;
  pgw.gateway_mac = kGwMac;
  SnapshotPortInput pu;
  pu.port_id = u2.port;
  pu.name = "up";
  pu.uplink = true;
  std::vector<SnapshotNetworkInput> nets{net};
  std::vector<SnapshotPortInput> ports{pg, pgw, pu};
  auto snap = build_snapshot(1, 2, nets, ports);
  ASSERT_TRUE(snap.is_ok()) << snap.status().to_string();
  ASSERT_EQ(fdb.value()->learn(FdbKey{0, 0, kGuestMac, 0}, g2.port, 1, 8192), LearnResult::kAdded);

  std::array<rte_ring*, 2> hof{};
  for (int w = 0; w < 2; ++w) {
    hof[w] = rte_ring_create(("l3hof" + std::to_string(n_) + "_" + std::to_string(w)).c_str(), 64,
                             SOCKET_ID_ANY, RING_F_SC_DEQ);
    ASSERT_NE(hof[w], nullptr);
  }
  WorkerCounters wc0, wc1;
  TxBuffers tx0(0), tx1(1);
  auto ctx_for = [&](uint16_t w) {
    StageContext c;
    c.snap = snap.value().get();
    c.fdb = fdb.value().get();
    c.worker = w;
    c.now_ns = 2'000'000'000ull;
    c.counters = w == 0 ? &wc0 : &wc1;
    c.pool = test_pool();
    c.handoff_rings = hof.data();
    return c;
  };
  auto one = [&](uint16_t in_port, const Bytes& f) {
    Burst b;
    b.in_port = in_port;
    b.count = 1;
    b.pkts[0] = to_mbuf(test_pool(), f);
    b.reset_verdicts();
    return b;
  };
  // Worker 1 polls the guest: the session is worker 1's.
  Burst out = one(g2.port, from_guest(Ip{}));
  StageContext ctx1 = ctx_for(1);
  run_pipeline(out, ctx1);
  ASSERT_EQ(out.verdicts[0].action, Action::kForward);
  const Bytes sent = mbuf_bytes(out.pkts[0]);
  dispatch(out, ctx1, tx1);
  tx1.flush_all(wc1);
  ASSERT_EQ(drain(u2.out).size(), 1u);
  EXPECT_EQ(w1.table().size(), 1u);
  // The reply arrives on worker 0 (which polls the uplink): handed over.
  Ip reply;
  reply.src = kRemote;
  reply.dst = kOutsideIp;
  reply.sport = 53;
  reply.dport = get16(sent, 34);
  Burst in = one(u2.port, eth_frame(up_mac, kRouterMac, 0x0800, ip_packet(reply)));
  StageContext ctx0 = ctx_for(0);
  run_pipeline(in, ctx0);
  ASSERT_EQ(in.verdicts[0].action, Action::kHandoff);
  EXPECT_EQ(in.verdicts[0].out_port, 1);
  dispatch(in, ctx0, tx0);
  EXPECT_EQ(rte_ring_count(hof[1]), 1u);
  EXPECT_EQ(c0.read(L3Event::kHandoffOut), 1u);
  // Worker 1 drains its ring and forwards to the guest.
  Burst scratch;
  EXPECT_EQ(l3_drain_handoff(hof[1], scratch, ctx1, tx1), 1u);
  tx1.flush_all(wc1);
  auto got = drain(g2.out);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(get32(got[0], 30), kGuestIp);
  EXPECT_EQ(get16(got[0], 36), 3456);
  expect_checksums_ok(got[0]);
  EXPECT_EQ(c1.read(L3Event::kHandoffIn), 1u);
  EXPECT_EQ(c1.read(L3Event::kRoutedIn), 1u);

  // A fragmented reply: the first fragment is steered by its port, the
  // second (no ports) follows it to worker 1 by worker 0's steering note.
  reply.payload = Bytes(200, 0x33);
  const std::array<Bytes, 2> frags = split_fragments(ip_packet(reply), 96);
  for (const Bytes& fr : frags) {
    Burst fb = one(u2.port, eth_frame(up_mac, kRouterMac, 0x0800, fr));
    run_pipeline(fb, ctx0);
    ASSERT_EQ(fb.verdicts[0].action, Action::kHandoff);
    EXPECT_EQ(fb.verdicts[0].out_port, 1);
    dispatch(fb, ctx0, tx0);
  }
  EXPECT_EQ(l3_drain_handoff(hof[1], scratch, ctx1, tx1), 2u);
  tx1.flush_all(wc1);
  got = drain(g2.out);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(get32(got[0], 30), kGuestIp);
  EXPECT_EQ(get16(got[0], 36), 3456);
  EXPECT_EQ(get32(got[1], 30), kGuestIp);
  EXPECT_EQ(w1.counters().read(nat::NatEvent::kFragments), 1u);
  EXPECT_EQ(w0.fragment_notes(ctx0.now_ns), 0u);

  for (rte_ring* r : hof) rte_ring_free(r);
  for (RingDev* d : {&g2, &u2}) {
    drain(d->out);
    rte_eth_dev_info info{};
    rte_device* dev = rte_eth_dev_info_get(d->port, &info) == 0 ? info.device : nullptr;
    (void)rte_eth_dev_stop(d->port);
    (void)rte_eth_dev_close(d->port);
    if (dev != nullptr) (void)rte_dev_remove(dev);
    rte_ring_free(d->in);
    rte_ring_free(d->out);
  }
  publisher->unregister_reader(0);
}

TEST(NeighborTableTest, LearnLookupAgeRemove) {
  NeighborTable t(64);
  net::MacAddr m;
  EXPECT_FALSE(t.lookup(kGuestIp, &m));
  EXPECT_EQ(t.learn(kGuestIp, kGuestMac, 100), NeighborTable::Update::kAdded);
  EXPECT_EQ(t.learn(kGuestIp, kGuestMac, 200), NeighborTable::Update::kRefreshed);
  ASSERT_TRUE(t.lookup(kGuestIp, &m));
  EXPECT_EQ(m, kGuestMac);
  EXPECT_EQ(t.learn(kGuestIp, kPeerMac, 300), NeighborTable::Update::kChanged);
  ASSERT_TRUE(t.lookup(kGuestIp, &m));
  EXPECT_EQ(m, kPeerMac);
  EXPECT_EQ(t.learn(0, kPeerMac, 1), NeighborTable::Update::kInvalid);
  EXPECT_EQ(t.learn(kRemote, net::kBroadcastMac, 1), NeighborTable::Update::kInvalid);
  // Many addresses: all found; tombstones keep chains intact.
  for (uint32_t k = 1; k <= 40; ++k) ASSERT_NE(t.learn(ip4(10, 1, 0, static_cast<uint8_t>(k)), kGuestMac, 400), NeighborTable::Update::kFull);
  EXPECT_EQ(t.size(), 41u);
  for (uint32_t k = 1; k <= 40; k += 2) EXPECT_TRUE(t.remove(ip4(10, 1, 0, static_cast<uint8_t>(k))));
  for (uint32_t k = 2; k <= 40; k += 2) EXPECT_TRUE(t.lookup(ip4(10, 1, 0, static_cast<uint8_t>(k)), &m)) << k;
  EXPECT_EQ(t.size(), 21u);
  EXPECT_EQ(t.dump().size(), 21u);
  // Ageing: only entries not confirmed within the ageing time go.
  EXPECT_EQ(t.learn(kGuestIp, kPeerMac, 1000), NeighborTable::Update::kRefreshed);
  EXPECT_EQ(t.age(1000, 500), 20u);
  EXPECT_TRUE(t.lookup(kGuestIp, &m));
  EXPECT_EQ(t.size(), 1u);
}

// The guest -> uplink path reads a plain IPv4 header without verifying its
// checksum and leaves that to NAT / routing: a damaged header must still be
// dropped (never forwarded, never answered with time exceeded) and counted
// once as bad_ip_checksum; a header with options takes the full parse.
TEST_F(L3Test, DamagedGuestHeadersAreDroppedOnce) {
  for (L3Mode mode : {L3Mode::kNat, L3Mode::kRoute}) {
    SCOPED_TRACE(mode == L3Mode::kNat ? "nat" : "route");
    bring_up(mode);
    const uint64_t bad0 = counter("bad_ip_checksum");
    const uint64_t ttl0 = counter("ttl_expired");
    for (uint8_t ttl : {uint8_t{64}, uint8_t{1}}) {
      Ip p;
      p.ttl = ttl;
      Bytes pkt = ip_packet(p);
      pkt[10] ^= 0x10;  // header checksum off by one bit
      send(guest_, eth_frame(kGwMac, kGuestMac, 0x0800, pkt));
    }
    ASSERT_TRUE(eventually([&] { return counter("bad_ip_checksum") == bad0 + 2; }));
    EXPECT_EQ(counter("ttl_expired"), ttl0);
    EXPECT_FALSE(expect_frame(uplink_, is_ipv4, 100ms).has_value());
    EXPECT_FALSE(expect_frame(guest_, is_ipv4, 100ms).has_value());
    // IHL 6 (four NOP options): not the common header, parsed in full, routed.
    Bytes opt = ip_packet(Ip{});
    opt.insert(opt.begin() + 20, 4, 0x01);
    opt[0] = 0x46;
    put16(opt, 2, static_cast<uint16_t>(opt.size()));
    put16(opt, 10, 0);
    put16(opt, 10, static_cast<uint16_t>(~ref_sum(opt.data(), 24)));
    send(guest_, eth_frame(kGwMac, kGuestMac, 0x0800, opt));
    auto out = expect_frame(uplink_, is_ipv4);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ((*out)[14], 0x46);
    EXPECT_EQ((*out)[22], 63);
    EXPECT_EQ(get32(*out, 26), mode == L3Mode::kNat ? kOutsideIp : kGuestIp);
    EXPECT_EQ(ref_sum(out->data() + 14, 24), 0xffff);
    ASSERT_TRUE(dp_->clear_l3("n1").is_ok());
    drain(uplink_.out);
    drain(guest_.out);
  }
}

// NAT return traffic is read without verifying its header checksum before
// out2in() (which verifies it): a damaged reply is dropped and counted once,
// never refused with an ICMP error nor answered with time exceeded.
TEST_F(L3Test, DamagedReturnHeadersAreDroppedOnce) {
  bring_up(L3Mode::kNat);
  send(guest_, from_guest(Ip{}));
  ASSERT_TRUE(expect_frame(uplink_, is_ipv4).has_value());
  Ip reply;
  reply.src = kRemote;
  reply.dst = kOutsideIp;
  reply.sport = 53;
  reply.dport = 3456;
  const uint64_t bad0 = counter("bad_ip_checksum");
  for (uint8_t ttl : {uint8_t{64}, uint8_t{1}}) {
    Ip r = reply;
    r.ttl = ttl;
    Bytes pkt = ip_packet(r);
    pkt[11] ^= 0x01;
    send(uplink_, eth_frame(kUplinkMac, kRouterMac, 0x0800, pkt));
  }
  ASSERT_TRUE(eventually([&] { return counter("bad_ip_checksum") == bad0 + 2; }));
  EXPECT_EQ(counter("ttl_expired"), 0u);
  EXPECT_EQ(counter("no_session"), 0u);
  EXPECT_FALSE(expect_frame(guest_, is_ipv4, 100ms).has_value());
  EXPECT_FALSE(expect_frame(uplink_, is_ipv4, 100ms).has_value());
  // The sound reply still goes through.
  send(uplink_, from_router(reply));
  auto got = expect_frame(guest_, is_ipv4);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(get32(*got, 30), kGuestIp);
  EXPECT_EQ(mac_at(*got, 0), kGuestMac);
  EXPECT_EQ((*got)[22], 63);
  expect_checksums_ok(*got);
}

// With at least nat::kPrefetchMinSessions sessions both stages prefetch each
// burst's sessions and hand the key hashes they computed to in2out()/out2in()
// (which then do not hash again): every established flow is still found in
// both directions, with no second session, refusal or drop.
TEST_F(L3Test, ManySessionsTakeTheBurstPrefetchPath) {
  nat_sessions_ = 16384;
  bring_up(L3Mode::kNat);
  constexpr uint32_t kFlows = nat::kPrefetchMinSessions + 512;
  constexpr uint32_t kChunk = 256;
  auto flow = [](uint32_t f) {
    Ip p;
    p.proto = f % 3 == 0 ? 6 : 17;
    p.tcp_flags = 0x10;  // ACK: picked up mid-stream like Linux conntrack
    p.sport = static_cast<uint16_t>(20000 + f);
    p.dst = kRemote + f % 5;
    p.dport = static_cast<uint16_t>(53 + f % 11);
    return p;
  };
  auto reply_of = [](const Ip& out) {
    Ip r = out;
    r.src = out.dst;
    r.dst = kOutsideIp;
    r.sport = out.dport;
    r.dport = out.sport;  // ports are preserved
    return r;
  };
  // Twice out (creating, then on established sessions), then every reply.
  for (int pass = 0; pass < 3; ++pass) {
    SCOPED_TRACE(pass);
    for (uint32_t first = 0; first < kFlows; first += kChunk) {
      const uint32_t n = std::min(kChunk, kFlows - first);
      for (uint32_t f = first; f < first + n; ++f) {
        if (pass < 2) {
          send(guest_, from_guest(flow(f)));
        } else {
          send(uplink_, from_router(reply_of(flow(f))));
        }
      }
      const std::vector<Bytes> got = collect(pass < 2 ? uplink_ : guest_, n);
      ASSERT_EQ(got.size(), n) << "flows " << first << "..";
      for (size_t k = 0; k < got.size(); ++k) {
        const Ip p = flow(first + static_cast<uint32_t>(k));
        if (pass < 2) {
          EXPECT_EQ(get32(got[k], 26), kOutsideIp);
          EXPECT_EQ(get16(got[k], 34), p.sport);
        } else {
          EXPECT_EQ(get32(got[k], 30), kGuestIp);
          EXPECT_EQ(get16(got[k], 36), p.sport);
          EXPECT_EQ(mac_at(got[k], 0), kGuestMac);
        }
        if (k % 61 == 0) expect_checksums_ok(got[k]);
      }
    }
  }
  EXPECT_EQ(counter("sessions_created"), kFlows);
  EXPECT_EQ(counter("routed_out"), 2 * kFlows);
  EXPECT_EQ(counter("routed_in"), kFlows);
  EXPECT_EQ(counter("no_session"), 0u);
  EXPECT_EQ(counter("ports_exhausted"), 0u);
}

// Replies from the uplink share one guest-port (FDB) lookup per burst and
// guest MAC: replies to two guests on two ports, interleaved in one burst,
// each reach their own guest's port.
TEST_F(L3Test, InterleavedRepliesToTwoGuestsReachTheirPorts) {
  RingDev g2 = make_dev("h", 1);
  add_guest_port("guest2", g2);
  bring_up(L3Mode::kNat);
  const net::MacAddr kGuest2Mac{{0x52, 0x54, 0x00, 0x00, 0x00, 0x06}};
  constexpr uint32_t kGuest2Ip = ip4(10, 0, 0, 6);
  send(g2, arp_frame(net::kBroadcastMac, 1, kGuest2Mac, kGuest2Ip, net::MacAddr{}, kGwIp));
  ASSERT_TRUE(eventually([&] { return has_neighbor(kGuest2Ip); }));
  drain(g2.out);
  Ip a;
  a.sport = 4001;
  Ip b = a;
  b.src = kGuest2Ip;
  b.sport = 4002;
  send(guest_, from_guest(a));
  send(g2, eth_frame(kGwMac, kGuest2Mac, 0x0800, ip_packet(b)));
  ASSERT_EQ(collect(uplink_, 2).size(), 2u);
  drain(guest_.out);
  drain(g2.out);
  send_replies(8, 4002, 4001);
  const std::vector<Bytes> to1 = collect(guest_, 4);
  const std::vector<Bytes> to2 = collect(g2, 4);
  ASSERT_EQ(to1.size(), 4u);
  ASSERT_EQ(to2.size(), 4u);
  for (const Bytes& f : to1) {
    EXPECT_EQ(mac_at(f, 0), kGuestMac);
    EXPECT_EQ(get32(f, 30), kGuestIp);
    EXPECT_EQ(get16(f, 36), 4001);
    expect_checksums_ok(f);
  }
  for (const Bytes& f : to2) {
    EXPECT_EQ(mac_at(f, 0), kGuest2Mac);
    EXPECT_EQ(get32(f, 30), kGuest2Ip);
    EXPECT_EQ(get16(f, 36), 4002);
    expect_checksums_ok(f);
  }
  EXPECT_EQ(counter("routed_in"), 8u);
  EXPECT_EQ(counter("no_guest_port"), 0u);
  dp_.reset();
  close_dev(g2);
}

// The stages count routed_out / routed_in once per burst: only the frames
// that went on count, not the refused or expired ones of the same bursts.
TEST_F(L3Test, MixedBurstsCountOnlyTheRoutedFrames) {
  bring_up(L3Mode::kNat);
  for (int k = 0; k < 8; ++k) {
    Ip p;
    p.sport = 4001;
    p.ttl = k % 2 ? 1 : 64;
    p.payload = Bytes(18, static_cast<uint8_t>(k));
    send(guest_, from_guest(p));
  }
  ASSERT_EQ(collect(uplink_, 4).size(), 4u);
  ASSERT_EQ(collect(guest_, 4).size(), 4u);  // time exceeded
  EXPECT_EQ(counter("routed_out"), 4u);
  EXPECT_EQ(counter("ttl_expired"), 4u);
  drain(uplink_.out);
  drain(guest_.out);
  send_replies(8, 8080, 4001);
  const std::vector<Bytes> in = collect(guest_, 4);
  ASSERT_EQ(in.size(), 4u);
  for (const Bytes& f : in) EXPECT_EQ(get16(f, 36), 4001);
  ASSERT_EQ(collect(uplink_, 4).size(), 4u);  // port unreachable
  EXPECT_EQ(counter("routed_in"), 4u);
  EXPECT_EQ(counter("no_session"), 4u);
  EXPECT_EQ(counter("routed_out"), 4u);
}

// Frames of one burst share one neighbour lookup for their next hop; a
// changed next-hop MAC is used from the next burst on.
TEST_F(L3Test, NextHopMacChangeIsSeenByTheNextBurst) {
  bring_up(L3Mode::kNat);
  for (int k = 0; k < 3; ++k) {
    Ip p;
    p.sport = static_cast<uint16_t>(4000 + k);
    send(guest_, from_guest(p));
  }
  std::vector<Bytes> outs;
  ASSERT_TRUE(eventually([&] {
    for (auto& f : drain(uplink_.out))
      if (is_ipv4(f)) outs.push_back(f);
    return outs.size() >= 3;
  }));
  for (const Bytes& f : outs) EXPECT_EQ(mac_at(f, 0), kRouterMac);
  send(uplink_, arp_frame(kUplinkMac, 2, kPeerMac, kRouterIp, kUplinkMac, kOutsideIp));
  ASSERT_TRUE(eventually([&] {
    auto n = dp_->neighbors("n1");
    return n && std::any_of(n->begin(), n->end(),
                            [](const NeighborEntry& e) { return e.ip == kRouterIp && e.mac == kPeerMac; });
  }));
  send(guest_, from_guest(Ip{}));
  auto out = expect_frame(uplink_, is_ipv4);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(mac_at(*out, 0), kPeerMac);
  EXPECT_EQ(counter("neighbor_miss"), 0u);
}

// Randomised: thousands of damaged frames both ways through a NAT network
// (sound UDP, TCP, ICMP echo and ICMP errors quoting the flows, then bytes
// flipped, cut short, padded, header lengths and fragment fields changed,
// some frames of pure noise): the PMD receives every one, every IPv4 frame it
// sends has a sound header checksum, no mbuf is lost (TearDown), and a sound
// flow still goes through both ways afterwards.
TEST_F(L3Test, DamagedFramesBothWaysLeaveNatWorking) {
  bring_up(L3Mode::kNat);
  std::mt19937 rng(11);
  auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  // Sessions for the replies and errors to find.
  for (uint16_t port : {3456, 3457, 3458}) {
    Ip p;
    p.sport = port;
    send(guest_, from_guest(p));
  }
  ASSERT_EQ(collect(uplink_, 3).size(), 3u);
  auto template_frame = [&](bool outbound) {
    Ip p;
    p.proto = std::array<uint8_t, 4>{17, 6, 1, 1}[pick(4)];
    p.sport = static_cast<uint16_t>(3456 + pick(4));
    p.dport = p.proto == 1 ? static_cast<uint16_t>(8 << 8) : 53;
    p.tcp_flags = static_cast<uint8_t>(pick(64));
    p.ttl = static_cast<uint8_t>(pick(4) == 0 ? pick(3) : 64);
    p.payload = Bytes(pick(40), static_cast<uint8_t>(pick(256)));
    if (!outbound) {
      p.src = kRemote;
      p.dst = kOutsideIp;
      std::swap(p.sport, p.dport);
      if (p.proto == 1) p.dport = 0;  // echo reply
    }
    if (pick(4) == 0) {  // an ICMP error quoting the other direction's packet
      Ip q = p;
      std::swap(q.src, q.dst);
      std::swap(q.sport, q.dport);
      if (!outbound) q.src = kOutsideIp;
      const Bytes quoted = ip_packet(q);
      Bytes icmp(8, 0);
      icmp[0] = std::array<uint8_t, 3>{3, 11, 12}[pick(3)];
      icmp[1] = static_cast<uint8_t>(pick(5));
      const size_t cut = std::min<size_t>(quoted.size(), 28 + pick(16));
      icmp.insert(icmp.end(), quoted.begin(), quoted.begin() + static_cast<long>(cut));
      p.proto = 1;
      p.l4_override = icmp;
    }
    return outbound ? from_guest(p) : from_router(p);
  };
  auto damage = [&](Bytes f) {
    switch (pick(8)) {
      case 0:  // pure noise after the Ethernet header
        for (size_t i = 14; i < f.size(); ++i) f[i] = static_cast<uint8_t>(rng());
        break;
      case 1:  // cut short anywhere, even inside the Ethernet header
        f.resize(1 + pick(static_cast<uint32_t>(f.size())));
        break;
      case 2:  // padded
        f.insert(f.end(), pick(64), static_cast<uint8_t>(rng()));
        break;
      case 3:  // header length, total length or fragment fields
        if (f.size() > 24) {
          const size_t at = std::array<size_t, 4>{14, 16, 17, 20}[pick(4)];
          f[at] = static_cast<uint8_t>(rng());
        }
        break;
      case 4:  // sound
        break;
      default:  // a few bytes flipped
        for (uint32_t k = 1 + pick(4); k > 0; --k)
          f[pick(static_cast<uint32_t>(f.size()))] ^= static_cast<uint8_t>(1 + pick(255));
        break;
    }
    return f;
  };
  std::vector<Bytes> emitted;
  auto drain_out = [&] {
    for (RingDev* d : {&guest_, &uplink_})
      for (auto& f : drain(d->out))
        if (is_ipv4(f)) emitted.push_back(std::move(f));
  };
  auto rx = [&](bool uplink) -> uint64_t {
    if (uplink) {
      auto st = dp_->l3_stats("n1");
      EXPECT_TRUE(st.is_ok());
      return st ? (*st).uplink.rx_pkts : 0;
    }
    auto st = dp_->port_stats("guest", "n1");
    EXPECT_TRUE(st.is_ok());
    return st ? (*st).rx_pkts : 0;
  };
  const uint64_t g0 = rx(false);
  const uint64_t u0 = rx(true);
  constexpr int kFrames = 4000;
  int to_guest = 0, to_uplink = 0;
  for (int k = 0; k < kFrames; ++k) {
    const bool outbound = pick(2) == 0;
    send(outbound ? guest_ : uplink_, damage(template_frame(outbound)));
    ++(outbound ? to_guest : to_uplink);
    if (k % 256 == 255) {
      ASSERT_TRUE(eventually([&] { return rte_ring_count(guest_.in) == 0 && rte_ring_count(uplink_.in) == 0; }));
      drain_out();
    }
  }
  ASSERT_TRUE(eventually([&] {
    drain_out();
    return rx(false) - g0 == static_cast<uint64_t>(to_guest) && rx(true) - u0 == static_cast<uint64_t>(to_uplink);
  })) << "every frame received";
  std::this_thread::sleep_for(50ms);
  drain_out();
  EXPECT_GT(emitted.size(), 100u) << "the sound frames among them went through";
  for (const Bytes& f : emitted) {
    const size_t ihl = (f[14] & 0x0f) * 4u;
    ASSERT_GE(f.size(), 14 + ihl);
    EXPECT_EQ(ref_sum(f.data() + 14, ihl), 0xffff) << "a sent IPv4 header with a wrong checksum";
  }
  EXPECT_GT(counter("bad_ip_checksum"), 0u);
  // A sound flow, both ways.
  Ip p;
  p.sport = 4000;
  send(guest_, from_guest(p));
  auto out = expect_frame(uplink_, [](const Bytes& f) { return is_ipv4(f) && f[23] == 17 && get16(f, 36) == 53; });
  ASSERT_TRUE(out.has_value());
  expect_checksums_ok(*out);
  Ip r;
  r.src = kRemote;
  r.dst = kOutsideIp;
  r.sport = 53;
  r.dport = get16(*out, 34);
  send(uplink_, from_router(r));
  auto back = expect_frame(guest_, [](const Bytes& f) { return is_ipv4(f) && get16(f, 36) == 4000; });
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(get32(*back, 30), kGuestIp);
  expect_checksums_ok(*back);
}

TEST(L3CountersTest, IcmpErrorsAreRateLimitedPerSecond) {
  auto c = std::make_unique<L3Counters>();
  const uint64_t t0 = 5'000'000'000ull;
  for (uint32_t k = 0; k < kIcmpErrorsPerSec; ++k) ASSERT_TRUE(c->icmp_allowed(t0 + k));
  EXPECT_FALSE(c->icmp_allowed(t0 + 999'999'999ull));
  EXPECT_TRUE(c->icmp_allowed(t0 + 1'000'000'000ull));
}

}  // namespace
}  // namespace vnet::dp::test
