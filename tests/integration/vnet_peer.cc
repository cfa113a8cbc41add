// vnet_peer: a guest for integration tests, in its own process, attached to a
// vnetd vhost-user port through net_virtio_user (EAL --no-huge, own prefix).
//
//   vnet_peer --prefix P --path SOCK --mac MAC [--ip A.B.C.D] [--server] [--queues N]
//
// --server makes the peer the vhost-user server (for vnetd client-mode
// ports). --queues N (default 1) negotiates N queue pairs: the peer polls
// every rx queue and spreads the frames of `send` over its tx queues (frame
// i on queue i % N), so a switch that polls only queue 0 loses the rest. The peer answers ARP requests and ICMP echo requests for --ip, so a
// kernel can ping it, and counts every frame it receives. It is driven by
// one command per line on stdin; every answer is one line on stdout:
//   send DST [COUNT [SRC]]  COUNT (default 1) test frames (EtherType 0x88b5)
//                           from SRC (default own MAC) to DST -> "sent N"
//   link TAG SECS           wait up to SECS for link up -> "TAG link up|down"
//   stats TAG               -> "TAG rx=.. test=.. bcast=.. ucast_me=..
//                              ucast_other=.. arp_req=.. arp_rep=.. icmp_req=.."
//   reset                   zero the counters -> "reset"
//   quit                    exit 0
// A closed stdin ends the peer too.
#include <arpa/inet.h>
#include <poll.h>
#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr uint16_t kTestEtherType = 0x88b5;  // IEEE local experimental
constexpr uint16_t kBurst = 32;

struct Counters {
  uint64_t rx = 0;
  uint64_t test = 0;
  uint64_t bcast = 0;
  uint64_t ucast_me = 0;
  uint64_t ucast_other = 0;
  uint64_t arp_req = 0;
  uint64_t arp_rep = 0;
  uint64_t icmp_req = 0;
};

struct Peer {
  uint16_t port = 0;
  rte_mempool* pool = nullptr;
  rte_ether_addr mac{};
  uint32_t ip = 0;  // network order; 0 = none
  uint16_t queues = 1;
  Counters c;
};

bool parse_mac(const std::string& s, rte_ether_addr& out) {
  return rte_ether_unformat_addr(s.c_str(), &out) == 0;
}

uint16_t csum16(const void* data, size_t len) {
  uint32_t sum = 0;
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += static_cast<uint32_t>(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}

void tx_one(Peer& p, rte_mbuf* m) {
  if (rte_eth_tx_burst(p.port, 0, &m, 1) != 1) rte_pktmbuf_free(m);
}

// Reply in place to an ARP request or an ICMP echo request for our IP.
void handle_arp(Peer& p, rte_mbuf* m) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  if (m->data_len < sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr)) {
    rte_pktmbuf_free(m);
    return;
  }
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  if (arp->arp_opcode == htons(RTE_ARP_OP_REPLY)) ++p.c.arp_rep;
  if (arp->arp_opcode != htons(RTE_ARP_OP_REQUEST) || p.ip == 0 || arp->arp_data.arp_tip != p.ip) {
    rte_pktmbuf_free(m);
    return;
  }
  ++p.c.arp_req;
  arp->arp_opcode = htons(RTE_ARP_OP_REPLY);
  arp->arp_data.arp_tha = arp->arp_data.arp_sha;
  arp->arp_data.arp_tip = arp->arp_data.arp_sip;
  arp->arp_data.arp_sha = p.mac;
  arp->arp_data.arp_sip = p.ip;
  eth->dst_addr = eth->src_addr;
  eth->src_addr = p.mac;
  tx_one(p, m);
}

void handle_ipv4(Peer& p, rte_mbuf* m) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  const size_t min = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + 8;
  if (m->data_len < min || p.ip == 0) {
    rte_pktmbuf_free(m);
    return;
  }
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  const size_t ihl = static_cast<size_t>(ip->version_ihl & 0xf) * 4;
  const size_t ip_len = ntohs(ip->total_length);
  if (ip->dst_addr != p.ip || ip->next_proto_id != IPPROTO_ICMP || ihl < 20 ||
      sizeof(rte_ether_hdr) + ip_len > m->data_len || ip_len < ihl + 8) {
    rte_pktmbuf_free(m);
    return;
  }
  auto* icmp = reinterpret_cast<uint8_t*>(ip) + ihl;
  if (icmp[0] != 8) {  // echo request
    rte_pktmbuf_free(m);
    return;
  }
  ++p.c.icmp_req;
  icmp[0] = 0;  // echo reply
  icmp[2] = icmp[3] = 0;
  const uint16_t ic = csum16(icmp, ip_len - ihl);
  std::memcpy(icmp + 2, &ic, 2);
  const rte_be32_t src = ip->src_addr;
  ip->src_addr = ip->dst_addr;
  ip->dst_addr = src;
  ip->time_to_live = 64;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = csum16(ip, ihl);
  eth->dst_addr = eth->src_addr;
  eth->src_addr = p.mac;
  tx_one(p, m);
}

void poll_rx_queue(Peer& p, uint16_t queue);

void poll_rx(Peer& p) {
  for (uint16_t q = 0; q < p.queues; ++q) poll_rx_queue(p, q);
}

void poll_rx_queue(Peer& p, uint16_t queue) {
  rte_mbuf* pkts[kBurst];
  const uint16_t n = rte_eth_rx_burst(p.port, queue, pkts, kBurst);
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    ++p.c.rx;
    if (m->data_len < sizeof(rte_ether_hdr)) {
      rte_pktmbuf_free(m);
      continue;
    }
    const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
    const uint16_t type = ntohs(eth->ether_type);
    if (type == kTestEtherType) {
      ++p.c.test;
      if (rte_is_broadcast_ether_addr(&eth->dst_addr)) {
        ++p.c.bcast;
      } else if (rte_is_same_ether_addr(&eth->dst_addr, &p.mac)) {
        ++p.c.ucast_me;
      } else {
        ++p.c.ucast_other;
      }
      rte_pktmbuf_free(m);
    } else if (type == RTE_ETHER_TYPE_ARP) {
      handle_arp(p, m);
    } else if (type == RTE_ETHER_TYPE_IPV4) {
      handle_ipv4(p, m);
    } else {
      rte_pktmbuf_free(m);
    }
  }
}

unsigned send_test(Peer& p, const rte_ether_addr& dst, const rte_ether_addr& src, unsigned count) {
  unsigned sent = 0;
  for (unsigned i = 0; i < count; ++i) {
    rte_mbuf* m = rte_pktmbuf_alloc(p.pool);
    if (m == nullptr) break;
    char* data = rte_pktmbuf_append(m, 64);
    if (data == nullptr) {
      rte_pktmbuf_free(m);
      break;
    }
    std::memset(data, 0, 64);
    auto* eth = reinterpret_cast<rte_ether_hdr*>(data);
    eth->dst_addr = dst;
    eth->src_addr = src;
    eth->ether_type = htons(kTestEtherType);
    std::memcpy(reinterpret_cast<uint8_t*>(eth + 1), &i, sizeof i);
    // Retry briefly when the vring is full.
    bool ok = false;
    for (int tries = 0; tries < 1000 && !ok; ++tries) {
      ok = rte_eth_tx_burst(p.port, static_cast<uint16_t>(i % p.queues), &m, 1) == 1;
      if (!ok) {
        poll_rx(p);
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    }
    if (!ok) {
      rte_pktmbuf_free(m);
      break;
    }
    ++sent;
  }
  return sent;
}

bool link_up(uint16_t port) {
  rte_eth_link link{};
  return rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

// One command; returns false on quit.
bool run_command(Peer& p, const std::string& line) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  if (cmd.empty()) return true;
  if (cmd == "quit") return false;
  if (cmd == "send") {
    std::string dst_s;
    unsigned count = 1;
    std::string src_s;
    in >> dst_s >> count >> src_s;
    rte_ether_addr dst{};
    rte_ether_addr src = p.mac;
    if (!parse_mac(dst_s, dst) || (!src_s.empty() && !parse_mac(src_s, src))) {
      std::printf("error bad MAC\n");
    } else {
      std::printf("sent %u\n", send_test(p, dst, src, count));
    }
  } else if (cmd == "link") {
    std::string tag;
    double secs = 0;
    in >> tag >> secs;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(secs);
    while (!link_up(p.port) && std::chrono::steady_clock::now() < deadline) {
      poll_rx(p);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::printf("%s link %s\n", tag.c_str(), link_up(p.port) ? "up" : "down");
  } else if (cmd == "stats") {
    std::string tag;
    in >> tag;
    poll_rx(p);
    const Counters& c = p.c;
    std::printf("%s rx=%lu test=%lu bcast=%lu ucast_me=%lu ucast_other=%lu arp_req=%lu arp_rep=%lu icmp_req=%lu\n",
                tag.c_str(), c.rx, c.test, c.bcast, c.ucast_me, c.ucast_other, c.arp_req, c.arp_rep, c.icmp_req);
  } else if (cmd == "reset") {
    p.c = Counters{};
    std::printf("reset\n");
  } else {
    std::printf("error unknown command '%s'\n", cmd.c_str());
  }
  std::fflush(stdout);
  return true;
}

int usage() {
  std::fprintf(stderr, "usage: vnet_peer --prefix P --path SOCK --mac MAC [--ip A.B.C.D] [--server] [--queues N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string prefix, path, mac_s, ip_s;
  bool server = false;
  uint16_t queues = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (a == "--prefix") {
      prefix = next();
    } else if (a == "--path") {
      path = next();
    } else if (a == "--mac") {
      mac_s = next();
    } else if (a == "--ip") {
      ip_s = next();
    } else if (a == "--server") {
      server = true;
    } else if (a == "--queues") {
      const int q = std::atoi(next().c_str());
      if (q < 1 || q > 8) return usage();
      queues = static_cast<uint16_t>(q);
    } else {
      return usage();
    }
  }
  Peer p;
  if (prefix.empty() || path.empty() || !parse_mac(mac_s, p.mac)) return usage();
  if (!ip_s.empty() && inet_pton(AF_INET, ip_s.c_str(), &p.ip) != 1) return usage();

  // The last CPU we may run on: away from vnetd's main thread on small boxes.
  std::vector<std::string> eal = {"vnet_peer", "--no-huge", "-m", "64", "--no-pci", "--file-prefix=" + prefix,
                                  "--log-level=*:warning", "--no-telemetry",
                                  "--vdev=net_virtio_user0,path=" + path + ",queues=" + std::to_string(queues) +
                                      (server ? ",server=1" : "")};
  p.queues = queues;
  std::vector<char*> argv_eal;
  for (auto& s : eal) argv_eal.push_back(s.data());
  argv_eal.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(eal.size()), argv_eal.data()) < 0) {
    std::fprintf(stderr, "vnet_peer: rte_eal_init failed\n");
    return 1;
  }
  p.pool = rte_pktmbuf_pool_create("peer_pool", 2047, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (p.pool == nullptr || rte_eth_dev_count_avail() == 0) {
    std::fprintf(stderr, "vnet_peer: no pool or no virtio_user port\n");
    return 1;
  }
  uint16_t id = 0;
  RTE_ETH_FOREACH_DEV(id) { p.port = id; }
  rte_eth_conf conf{};
  bool setup = rte_eth_dev_configure(p.port, p.queues, p.queues, &conf) == 0;
  for (uint16_t q = 0; setup && q < p.queues; ++q) {
    setup = rte_eth_rx_queue_setup(p.port, q, 256, SOCKET_ID_ANY, nullptr, p.pool) == 0 &&
            rte_eth_tx_queue_setup(p.port, q, 256, SOCKET_ID_ANY, nullptr) == 0;
  }
  if (!setup || rte_eth_dev_start(p.port) != 0) {
    std::fprintf(stderr, "vnet_peer: port setup failed\n");
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);

  std::string buf;
  bool running = true;
  while (running) {
    poll_rx(p);
    pollfd pfd{0, POLLIN, 0};
    if (::poll(&pfd, 1, 1) > 0) {
      char chunk[512];
      const ssize_t n = ::read(0, chunk, sizeof chunk);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      for (size_t nl; running && (nl = buf.find('\n')) != std::string::npos;) {
        const std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        running = run_command(p, line);
      }
    }
  }
  rte_eth_dev_stop(p.port);
  rte_eth_dev_close(p.port);
  rte_eal_cleanup();
  return 0;
}
