// libFuzzer target: sequences of datagrams into a dhcp::TftpServer serving a
// small root (requests to port 69, ACKs, ERRORs and garbage to the ports of
// its transfers, from the client's port or a stranger's, with the clock
// stepping between them). Checks: every datagram sent is DATA (at most
// blksize bytes, never more than the MTU allows), an OACK, or an ERROR whose
// message ends in one NUL and fits dnsmasq's limit; DATA blocks hold the
// file's bytes; no more transfers run than allowed.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "dhcp/tftp_server.h"

using namespace vnet::dhcp;

namespace {

constexpr size_t kMtu = 1500;
constexpr size_t kMaxTransfers = 4;

class StepClock final : public Clock {
 public:
  int64_t now_ns() const override { return now_; }
  int64_t now_s() const override { return 1'700'000'000 + now_ / 1'000'000'000; }
  int64_t now_ = 1'000'000'000;
};

struct Root {
  std::string dir;
  std::map<std::string, std::string> files;  // name -> content
  Root() {
    char tmpl[] = "/tmp/vnet-tftp-fuzz-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    dir = tmpl;
    ::mkdir((dir + "/d").c_str(), 0755);
    std::string big(3000, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + i / 7);
    files = {{"a", "x"}, {"e", ""}, {"k", std::string(1024, 'k')}, {"t", "l1\nl2\r\n\n"}, {"b", big},
             {"d/f", "in d"}};
    for (const auto& [name, content] : files) {
      std::ofstream(dir + "/" + name, std::ios::binary) << content;
      ::chmod((dir + "/" + name).c_str(), 0644);
    }
    std::ofstream(dir + "/p", std::ios::binary) << "private";
    ::chmod((dir + "/p").c_str(), 0600);
  }
  ~Root() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

class Checker final : public TftpOut {
 public:
  explicit Checker(const Root& root) : root_(root) {}
  void send(Ipv4, uint16_t local_port, const TftpPeer&, std::span<const uint8_t> p) override {
    if (p.size() < 2 || p.size() > kMtu - 28) std::abort();
    const unsigned op = (p[0] << 8) | p[1];
    switch (op) {
      case 3:  // DATA: bytes of some file of the root at a block boundary
        if (p.size() < 4) std::abort();
        check_data(p.subspan(4));
        break;
      case 5:
        if (p.size() < 5 || p.back() != 0 || p.size() - 5 > 499) std::abort();
        if (std::memchr(p.data() + 4, 0, p.size() - 5) != nullptr) std::abort();
        break;
      case 6:
        if (p.size() < 3 || p.back() != 0) std::abort();
        break;
      default:
        std::abort();
    }
    ports.push_back(local_port);
  }
  std::vector<uint16_t> ports;

 private:
  void check_data(std::span<const uint8_t> d) {
    if (d.empty()) return;
    const std::string s(d.begin(), d.end());
    for (const auto& [name, content] : root_.files) {
      if (content.find(s) != std::string::npos) return;
      // netascii: the file with each LF as CR LF (a block may start with the LF of a split pair)
      std::string ascii;
      for (char c : content) {
        if (c == '\n') ascii += '\r';
        ascii += c;
      }
      if (ascii.find(s) != std::string::npos) return;
    }
    std::abort();
  }
  const Root& root_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Root root;
  StepClock clock;
  SeededRng rng(3);
  TftpConfig config;
  config.root = root.dir;
  config.max_transfers = kMaxTransfers;
  config.first_port = 40000;
  config.last_port = 40005;
  config.mtu = kMtu;
  TftpServer server(config, clock, rng);
  Checker out(root);
  const Ipv4 us = Ipv4::from_octets(10, 0, 0, 1);
  size_t i = 0;
  // Each datagram: a control byte, a length byte, the payload.
  while (i + 2 <= size) {
    const uint8_t ctl = data[i];
    const size_t len = std::min<size_t>(data[i + 1], size - i - 2);
    const std::span<const uint8_t> payload(data + i + 2, len);
    i += 2 + len;
    TftpPeer from{Mac{}, Ipv4::from_octets(10, 0, 0, (ctl & 0x40) ? 6 : 5), static_cast<uint16_t>(2000 + (ctl & 1)), 0};
    if ((ctl & 0x80) == 0 || out.ports.empty()) {
      server.on_request(us, from, payload, out);
    } else {
      const uint16_t port = out.ports[(ctl >> 1) % out.ports.size()];
      if (server.owns(port)) server.on_datagram(port, from, payload, out);
    }
    if (server.transfers() > kMaxTransfers) std::abort();
    clock.now_ += int64_t{(ctl >> 3) & 7} * 700'000'000;  // 0 .. 4.9 s
    server.on_tick(out);
  }
  clock.now_ += 200'000'000'000;  // every transfer times out
  server.on_tick(out);
  if (server.transfers() != 0) std::abort();
  return 0;
}
