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
//   resolve TAG IP SECS     ARP for IP (unless already learned) and wait up to
//                           SECS -> "TAG IP is-at MAC" | "TAG IP unresolved"
//   udp NEXTHOP SRC:SPORT DST:DPORT [COUNT]
//                           COUNT (default 1) UDP datagrams from SRC:SPORT to
//                           DST:DPORT, sent to NEXTHOP's MAC (learned from any
//                           ARP the peer saw, or by resolve) -> "udp sent N"
//   udpstats TAG            UDP and ICMP errors received, to any address ->
//                           "TAG udp_rx=.. last_src=IP:PORT last_dst=IP:PORT
//                              icmp_unreach=.."
//                           (last_* are "-" before the first datagram)
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
#include <rte_udp.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
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

// UDP seen by the peer (udpstats); addresses and ports in network order.
struct UdpSeen {
  uint64_t rx = 0;
  uint64_t icmp_unreach = 0;  // ICMP destination unreachable received
  uint32_t last_src = 0, last_dst = 0;
  uint16_t last_sport = 0, last_dport = 0;
};

struct Peer {
  uint16_t port = 0;
  rte_mempool* pool = nullptr;
  rte_ether_addr mac{};
  uint32_t ip = 0;  // network order; 0 = none
  uint16_t queues = 1;
  Counters c;
  UdpSeen udp;
  std::map<uint32_t, rte_ether_addr> arp_cache;  // sender IP (network order) -> MAC, from any ARP
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
  if (arp->arp_data.arp_sip != 0) p.arp_cache[arp->arp_data.arp_sip] = arp->arp_data.arp_sha;
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

// Notes UDP datagrams and ICMP unreachables to any address (udpstats); the
// frame is left to handle_ipv4().
void note_ipv4(Peer& p, const rte_mbuf* m) {
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (m->data_len < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + 8) return;
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(eth + 1);
  const size_t ihl = static_cast<size_t>(ip->version_ihl & 0xf) * 4;
  if (ihl < 20 || sizeof(rte_ether_hdr) + ihl + 8 > m->data_len) return;
  const auto* l4 = reinterpret_cast<const uint8_t*>(ip) + ihl;
  if (ip->next_proto_id == IPPROTO_UDP) {
    ++p.udp.rx;
    p.udp.last_src = ip->src_addr;
    p.udp.last_dst = ip->dst_addr;
    std::memcpy(&p.udp.last_sport, l4, 2);
    std::memcpy(&p.udp.last_dport, l4 + 2, 2);
  } else if (ip->next_proto_id == IPPROTO_ICMP && l4[0] == 3) {
    ++p.udp.icmp_unreach;
  }
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
      note_ipv4(p, m);
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

bool tx_retry(Peer& p, rte_mbuf* m) {
  for (int tries = 0; tries < 1000; ++tries) {
    if (rte_eth_tx_burst(p.port, 0, &m, 1) == 1) return true;
    poll_rx(p);
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  rte_pktmbuf_free(m);
  return false;
}

void send_arp_request(Peer& p, uint32_t target) {
  rte_mbuf* m = rte_pktmbuf_alloc(p.pool);
  if (m == nullptr) return;
  char* data = rte_pktmbuf_append(m, sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr));
  if (data == nullptr) {
    rte_pktmbuf_free(m);
    return;
  }
  std::memset(data, 0, sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr));
  auto* eth = reinterpret_cast<rte_ether_hdr*>(data);
  std::memset(&eth->dst_addr, 0xff, sizeof eth->dst_addr);
  eth->src_addr = p.mac;
  eth->ether_type = htons(RTE_ETHER_TYPE_ARP);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  arp->arp_hardware = htons(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = htons(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = RTE_ETHER_ADDR_LEN;
  arp->arp_plen = 4;
  arp->arp_opcode = htons(RTE_ARP_OP_REQUEST);
  arp->arp_data.arp_sha = p.mac;
  arp->arp_data.arp_sip = p.ip;
  arp->arp_data.arp_tip = target;
  (void)tx_retry(p, m);
}

// "A.B.C.D:PORT" -> network-order address and port.
bool parse_endpoint(const std::string& s, uint32_t& addr, uint16_t& port) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  const std::string a = s.substr(0, colon);
  const int v = std::atoi(s.substr(colon + 1).c_str());
  if (v < 0 || v > 65535 || inet_pton(AF_INET, a.c_str(), &addr) != 1) return false;
  port = htons(static_cast<uint16_t>(v));
  return true;
}

std::string format_endpoint(uint32_t addr, uint16_t port) {
  if (addr == 0) return "-";
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &addr, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(ntohs(port));
}

// One UDP datagram (8-byte payload) with correct IPv4 and UDP checksums.
bool send_udp(Peer& p, const rte_ether_addr& dst_mac, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
              unsigned seq) {
  constexpr size_t kPayload = 8;
  constexpr size_t kL4 = sizeof(rte_udp_hdr) + kPayload;
  constexpr size_t kLen = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + kL4;
  rte_mbuf* m = rte_pktmbuf_alloc(p.pool);
  if (m == nullptr) return false;
  char* data = rte_pktmbuf_append(m, kLen);
  if (data == nullptr) {
    rte_pktmbuf_free(m);
    return false;
  }
  std::memset(data, 0, kLen);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(data);
  eth->dst_addr = dst_mac;
  eth->src_addr = p.mac;
  eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  ip->version_ihl = 0x45;
  ip->total_length = htons(static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + kL4));
  ip->packet_id = htons(static_cast<uint16_t>(seq));
  ip->time_to_live = 64;
  ip->next_proto_id = IPPROTO_UDP;
  ip->src_addr = src;
  ip->dst_addr = dst;
  ip->hdr_checksum = csum16(ip, sizeof(rte_ipv4_hdr));
  auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
  udp->src_port = sport;
  udp->dst_port = dport;
  udp->dgram_len = htons(static_cast<uint16_t>(kL4));
  std::memcpy(reinterpret_cast<uint8_t*>(udp + 1), &seq, sizeof seq);
  // Checksum over the pseudo header (RFC 768) and the datagram.
  uint8_t buf[12 + kL4];
  std::memcpy(buf, &ip->src_addr, 4);
  std::memcpy(buf + 4, &ip->dst_addr, 4);
  buf[8] = 0;
  buf[9] = IPPROTO_UDP;
  std::memcpy(buf + 10, &udp->dgram_len, 2);
  std::memcpy(buf + 12, udp, kL4);
  udp->dgram_cksum = csum16(buf, sizeof buf);
  if (udp->dgram_cksum == 0) udp->dgram_cksum = 0xffff;
  return tx_retry(p, m);
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
    p.udp = UdpSeen{};
    std::printf("reset\n");
  } else if (cmd == "resolve") {
    std::string tag, ip_s;
    double secs = 0;
    in >> tag >> ip_s >> secs;
    uint32_t target = 0;
    if (inet_pton(AF_INET, ip_s.c_str(), &target) != 1) {
      std::printf("error bad IP\n");
    } else {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(secs);
      auto next_request = std::chrono::steady_clock::now();
      while (p.arp_cache.count(target) == 0 && std::chrono::steady_clock::now() < deadline) {
        if (std::chrono::steady_clock::now() >= next_request) {
          send_arp_request(p, target);
          next_request = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
        }
        poll_rx(p);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      auto it = p.arp_cache.find(target);
      if (it == p.arp_cache.end()) {
        std::printf("%s %s unresolved\n", tag.c_str(), ip_s.c_str());
      } else {
        char mac[RTE_ETHER_ADDR_FMT_SIZE];
        rte_ether_format_addr(mac, sizeof mac, &it->second);
        std::printf("%s %s is-at %s\n", tag.c_str(), ip_s.c_str(), mac);
      }
    }
  } else if (cmd == "udp") {
    std::string hop_s, src_s, dst_s;
    unsigned count = 1;
    in >> hop_s >> src_s >> dst_s >> count;
    uint32_t hop = 0, src = 0, dst = 0;
    uint16_t sport = 0, dport = 0;
    if (inet_pton(AF_INET, hop_s.c_str(), &hop) != 1 || !parse_endpoint(src_s, src, sport) ||
        !parse_endpoint(dst_s, dst, dport)) {
      std::printf("error bad address\n");
    } else if (p.arp_cache.count(hop) == 0) {
      std::printf("error %s unresolved\n", hop_s.c_str());
    } else {
      unsigned sent = 0;
      while (sent < count && send_udp(p, p.arp_cache[hop], src, sport, dst, dport, sent)) ++sent;
      std::printf("udp sent %u\n", sent);
    }
  } else if (cmd == "udpstats") {
    std::string tag;
    in >> tag;
    poll_rx(p);
    std::printf("%s udp_rx=%lu last_src=%s last_dst=%s icmp_unreach=%lu\n", tag.c_str(), p.udp.rx,
                format_endpoint(p.udp.last_src, p.udp.last_sport).c_str(),
                format_endpoint(p.udp.last_dst, p.udp.last_dport).c_str(), p.udp.icmp_unreach);
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
