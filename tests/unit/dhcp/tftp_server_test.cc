// TftpServer: transfers, options, errors with dnsmasq's texts, retransmission
// and timeouts on a clock moved by hand, block number wrap, netascii; files
// in a temporary root.
#include "dhcp/tftp_server.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/dhcp/test_support.h"

namespace vnet::dhcp {
namespace {

using test::FakeClock;
using test::ip;
using test::mac;

struct Sent {
  Ipv4 local_ip;
  uint16_t local_port;
  TftpPeer to;
  std::vector<uint8_t> payload;

  uint16_t op() const { return static_cast<uint16_t>((payload[0] << 8) | payload[1]); }
  uint16_t num() const { return static_cast<uint16_t>((payload[2] << 8) | payload[3]); }
  std::string data() const { return std::string(payload.begin() + 4, payload.end()); }
  // ERROR: the message without its NUL.
  std::string message() const { return std::string(payload.begin() + 4, payload.end() - 1); }
  // OACK: the strings after the opcode.
  std::vector<std::string> strings() const {
    std::vector<std::string> r;
    std::string cur;
    for (size_t i = 2; i < payload.size(); ++i) {
      if (payload[i] == 0) {
        r.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(static_cast<char>(payload[i]));
      }
    }
    return r;
  }
};

class Capture final : public TftpOut {
 public:
  void send(Ipv4 local_ip, uint16_t local_port, const TftpPeer& to, std::span<const uint8_t> payload) override {
    sent.push_back({local_ip, local_port, to, {payload.begin(), payload.end()}});
  }
  std::vector<Sent> take() { return std::exchange(sent, {}); }
  std::vector<Sent> sent;
};

std::vector<uint8_t> request(uint16_t op, const std::vector<std::string>& strings) {
  std::vector<uint8_t> p{static_cast<uint8_t>(op >> 8), static_cast<uint8_t>(op)};
  for (const std::string& s : strings) {
    p.insert(p.end(), s.begin(), s.end());
    p.push_back(0);
  }
  return p;
}
std::vector<uint8_t> ack(uint32_t block) {
  return {0, 4, static_cast<uint8_t>(block >> 8), static_cast<uint8_t>(block)};
}

class TftpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vnet-tftp-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    config_.root = root_;
    server_ = std::make_unique<TftpServer>(config_, clock_, rng_);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(root_);
  }
  void restart(TftpConfig c) {
    c.root = root_;
    server_ = std::make_unique<TftpServer>(c, clock_, rng_);
  }
  std::string write_file(const std::string& name, const std::string& content, mode_t mode = 0644) {
    const std::string path = root_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }
  static std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 13) % 26);
    return s;
  }
  // One request from the client; the server's answers.
  std::vector<Sent> rrq(const std::vector<std::string>& strings, uint16_t op = 1) {
    server_->on_request(kServer, client_, request(op, strings), out_);
    return out_.take();
  }
  std::vector<Sent> send(uint16_t port, const std::vector<uint8_t>& p, const TftpPeer* from = nullptr) {
    server_->on_datagram(port, from ? *from : client_, p, out_);
    return out_.take();
  }
  // ACKs every DATA until the transfer ends; the file as received.
  std::string fetch(const Sent& first, size_t blksize = 512) {
    std::string got;
    std::vector<Sent> s{first};
    const uint16_t port = first.local_port;
    while (!s.empty()) {
      EXPECT_EQ(s.size(), 1u);
      EXPECT_EQ(s[0].op(), 3);
      EXPECT_LE(s[0].payload.size(), 4 + blksize);
      got += s[0].data();
      s = send(port, ack(s[0].num()));
      if (s.empty()) {
        EXPECT_FALSE(server_->owns(port));
      }
    }
    return got;
  }
  uint64_t of(TftpCounter c) const { return server_->counters().of(c); }

  static constexpr Ipv4 kServer = Ipv4::from_octets(192, 168, 122, 1);
  std::string root_;
  TftpConfig config_;
  FakeClock clock_;
  SeededRng rng_{5};
  Capture out_;
  TftpPeer client_{mac("52:54:00:00:00:07"), ip("192.168.122.50"), 2000, 0};
  std::unique_ptr<TftpServer> server_;
};

TEST_F(TftpServerTest, ServesAFileBlockByBlockFromItsOwnPort) {
  const std::string content = pattern(1300);
  write_file("pxelinux.0", content);
  std::vector<Sent> s = rrq({"pxelinux.0", "octet"});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].local_ip, kServer);
  EXPECT_GE(s[0].local_port, config_.first_port);
  EXPECT_LE(s[0].local_port, config_.last_port);
  EXPECT_EQ(s[0].to, client_);
  EXPECT_EQ(s[0].op(), 3);
  EXPECT_EQ(s[0].num(), 1);
  EXPECT_EQ(s[0].payload.size(), 4u + 512);
  EXPECT_TRUE(server_->owns(s[0].local_port));
  EXPECT_FALSE(server_->owns(kTftpPort));
  EXPECT_EQ(fetch(s[0]), content);
  EXPECT_EQ(server_->transfers(), 0u);
  EXPECT_EQ(of(TftpCounter::kTransfers), 1u);
  EXPECT_EQ(of(TftpCounter::kCompleted), 1u);
  EXPECT_EQ(of(TftpCounter::kBlocksSent), 3u);
  EXPECT_EQ(of(TftpCounter::kBytesSent), 1300u);
  EXPECT_EQ(of(TftpCounter::kAcks), 3u);
  EXPECT_EQ(of(TftpCounter::kRetransmits), 0u);
}

TEST_F(TftpServerTest, AFileOfWholeBlocksEndsWithAnEmptyBlock) {
  write_file("k", pattern(1024));
  std::vector<Sent> s = rrq({"k", "OCTET"});
  ASSERT_EQ(s.size(), 1u);
  s = send(s[0].local_port, ack(1));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].num(), 2);
  s = send(s[0].local_port, ack(2));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].num(), 3);
  EXPECT_EQ(s[0].payload.size(), 4u);
  const uint16_t port = s[0].local_port;
  EXPECT_TRUE(send(port, ack(3)).empty());
  EXPECT_FALSE(server_->owns(port));
  EXPECT_EQ(of(TftpCounter::kCompleted), 1u);

  write_file("empty", "");
  s = rrq({"empty", "octet"});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].payload.size(), 4u);
  EXPECT_EQ(fetch(s[0]), "");
}

TEST_F(TftpServerTest, OptionsAreAcknowledgedInDnsmasqsOrderAndCapped) {
  const std::string content = pattern(20000);
  write_file("vmlinuz", content);
  // Names in any case; blksize capped at MTU - 32, windowsize at 32; an unknown option ignored.
  std::vector<Sent> s = rrq({"vmlinuz", "octet", "WindowSize", "100", "tsize", "0", "color", "red", "blksize",
                             "9000", "timeout", "300"});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].op(), 6);
  EXPECT_EQ(s[0].strings(), (std::vector<std::string>{"blksize", "1468", "tsize", "20000", "timeout", "255",
                                                       "windowsize", "32"}));
  EXPECT_EQ(of(TftpCounter::kOptionAcks), 1u);
  // ACK 0: a whole window, 14 blocks of 1468 bytes cover 20000.
  const uint16_t port = s[0].local_port;
  s = send(port, ack(0));
  ASSERT_EQ(s.size(), 14u);
  std::string got;
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(s[i].num(), i + 1);
    got += s[i].data();
  }
  EXPECT_EQ(got, content);
  EXPECT_EQ(s.back().payload.size(), 4u + 20000 - 13 * 1468);
  // A partial ACK sends from the block after it (the rest again).
  s = send(port, ack(10));
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].num(), 11);
  EXPECT_EQ(of(TftpCounter::kRetransmits), 4u);
  EXPECT_TRUE(send(port, ack(14)).empty());
  EXPECT_EQ(of(TftpCounter::kCompleted), 1u);
  EXPECT_EQ(of(TftpCounter::kBlocksSent), 14u);

  // A small blksize, a window of 3, tsize alone.
  s = rrq({"vmlinuz", "octet", "blksize", "0", "windowsize", "3"});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].strings(), (std::vector<std::string>{"blksize", "1", "windowsize", "3"}));
  s = send(s[0].local_port, ack(0));
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[2].data(), content.substr(2, 1));
  s = rrq({"vmlinuz", "octet", "tsize", "0"});
  EXPECT_EQ(s[0].strings(), (std::vector<std::string>{"tsize", "20000"}));
  // An empty value ends the options: none is taken, DATA 1 comes at once.
  s = rrq({"vmlinuz", "octet", "blksize", "", "tsize", "0"});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].op(), 3);
}

TEST_F(TftpServerTest, RefusalsCarryDnsmasqsCodesAndTexts) {
  write_file("secret", "x", 0600);
  write_file("sub/file", "in a directory");
  struct Case {
    std::vector<std::string> strings;
    uint16_t op;
    uint16_t code;
    std::string message;
    TftpCounter counter;
  };
  const std::string r = root_;
  const Case cases[] = {
      {{"file", "octet"}, 2, 4, "unsupported write request from 192.168.122.50", TftpCounter::kWriteRefused},
      {{"", "octet"}, 1, 4, "empty filename in request from 192.168.122.50", TftpCounter::kBadRequest},
      {{"file", "mail"}, 1, 4, "unsupported request from 192.168.122.50", TftpCounter::kBadRequest},
      {{"file"}, 1, 4, "unsupported request from 192.168.122.50", TftpCounter::kBadRequest},
      {{"missing", "octet"}, 1, 1, "file " + r + "/missing not found for 192.168.122.50",
       TftpCounter::kFileNotFound},
      {{"../etc/passwd", "octet"}, 1, 2, "cannot access " + r + "/../etc/passwd: Permission denied",
       TftpCounter::kAccessDenied},
      {{"sub/../../x", "octet"}, 1, 2, "cannot access " + r + "/sub/../../x: Permission denied",
       TftpCounter::kAccessDenied},
      {{"sub/file/x", "octet"}, 1, 0, "cannot read " + r + "/sub/file/x: Not a directory", TftpCounter::kOpenFailed},
      {{"sub", "octet"}, 1, 0, "cannot read " + r + "/sub: Is a directory", TftpCounter::kReadFailed},
      {{"mis\x01sing", "octet"}, 1, 1, "file " + r + "/missing not found for 192.168.122.50",
       TftpCounter::kFileNotFound},
  };
  for (const Case& c : cases) {
    const uint64_t before = of(c.counter);
    const std::vector<Sent> s = rrq(c.strings, c.op);
    ASSERT_EQ(s.size(), 1u) << c.message;
    EXPECT_EQ(s[0].op(), 5) << c.message;
    EXPECT_EQ(s[0].num(), c.code) << c.message;
    EXPECT_EQ(s[0].message(), c.message);
    EXPECT_NE(s[0].local_port, kTftpPort);  // from the port a transfer would have used
    EXPECT_EQ(of(c.counter), before + 1) << c.message;
  }
  if (::geteuid() == 0) {  // root serves world-readable files only, as dnsmasq
    const std::vector<Sent> s = rrq({"secret", "octet"});
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].num(), 2);
    EXPECT_EQ(s[0].message(), "cannot access " + r + "/secret: Permission denied");
  }
  EXPECT_EQ(server_->transfers(), 0u);
  // Not a request, or too short: no answer.
  EXPECT_TRUE(rrq({"x", "octet"}, 4).empty());
  server_->on_request(kServer, client_, std::vector<uint8_t>{1}, out_);
  EXPECT_TRUE(out_.take().empty());
  EXPECT_EQ(of(TftpCounter::kIgnored), 2u);
  EXPECT_EQ(of(TftpCounter::kTransfers), 0u);
}

TEST_F(TftpServerTest, PathsAreTakenUnderTheRootAsDnsmasqTakesThem) {
  write_file("boot/grub.cfg", "menu");
  for (const std::string& name : {std::string("boot/grub.cfg"), std::string("/boot/grub.cfg"),
                                  std::string("boot\\grub.cfg"), root_ + "/boot/grub.cfg",
                                  std::string("boot//grub.cfg")}) {
    const std::vector<Sent> s = rrq({name, "octet"});
    ASSERT_EQ(s.size(), 1u) << name;
    ASSERT_EQ(s[0].op(), 3) << name << ": " << s[0].message();
    EXPECT_EQ(fetch(s[0]), "menu") << name;
  }
  // An absolute path outside the root loses its first slash only.
  const std::vector<Sent> s = rrq({"/etc/hostname", "octet"});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].message(), "file " + root_ + "/etc/hostname not found for 192.168.122.50");
}

TEST_F(TftpServerTest, UnacknowledgedBlocksAreSentAgainWithBackoffThenDropped) {
  write_file("f", pattern(600));
  write_file("g", pattern(2000));
  std::vector<Sent> s = rrq({"g", "octet"});
  ASSERT_EQ(s.size(), 1u);
  const uint16_t port = s[0].local_port;
  const std::vector<uint8_t> first = s[0].payload;
  // dnsmasq's schedule: timeout (2 s) after the request, then timeout + 2^(n/2) s after each resend.
  std::vector<int64_t> resent_at;
  for (int64_t ms = 0; ms <= 20000; ms += 10) {
    server_->on_tick(out_);
    for (const Sent& x : out_.take()) {
      EXPECT_EQ(x.payload, first);
      resent_at.push_back(ms);
    }
    clock_.advance_ns(10'000'000);
  }
  EXPECT_EQ(resent_at, (std::vector<int64_t>{2000, 5000, 9000, 13000, 19000}));
  EXPECT_EQ(of(TftpCounter::kRetransmits), 5u);
  // A duplicate of an old ACK (block 0 here) changes nothing.
  EXPECT_TRUE(send(port, ack(0)).empty());
  EXPECT_EQ(of(TftpCounter::kStaleAcks), 1u);
  // Progress resets the clock: the next resend is timeout + 1 s after the ACK.
  s = send(port, ack(1));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].num(), 2);
  clock_.advance_ns(2'990'000'000);
  server_->on_tick(out_);
  EXPECT_TRUE(out_.take().empty());
  clock_.advance_ns(10'000'000);
  server_->on_tick(out_);
  EXPECT_EQ(out_.take().size(), 1u);
  // 120 s without progress: dropped, counted as a timeout.
  clock_.advance_s(116);
  server_->on_tick(out_);
  EXPECT_TRUE(server_->owns(port));
  clock_.advance_s(2);
  out_.take();
  server_->on_tick(out_);
  EXPECT_FALSE(server_->owns(port));
  EXPECT_EQ(of(TftpCounter::kTimedOut), 1u);

  // Only the last ACK missing: dropped, counted apart (some clients never send it).
  s = rrq({"f", "octet"});
  s = send(s[0].local_port, ack(1));
  ASSERT_EQ(s.size(), 1u);
  clock_.advance_s(121);
  server_->on_tick(out_);
  EXPECT_EQ(server_->transfers(), 0u);
  EXPECT_EQ(of(TftpCounter::kUnacknowledged), 1u);
}

TEST_F(TftpServerTest, StrangersErrorsAndGarbageOnATransferPort) {
  write_file("f", pattern(2000));
  std::vector<Sent> s = rrq({"f", "octet"});
  const uint16_t port = s[0].local_port;
  TftpPeer stranger = client_;
  stranger.port = 2001;
  s = send(port, ack(1), &stranger);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].to, stranger);
  EXPECT_EQ(s[0].op(), 5);
  EXPECT_EQ(s[0].num(), 5);
  EXPECT_EQ(s[0].message(), "ignoring packet from 192.168.122.50 (TID mismatch)");
  EXPECT_EQ(of(TftpCounter::kTidMismatch), 1u);
  EXPECT_TRUE(send(port, {0, 4, 0}).empty());          // short
  EXPECT_TRUE(send(port, {0, 3, 0, 1, 'x'}).empty());  // DATA to a reader
  EXPECT_EQ(of(TftpCounter::kMalformed), 2u);
  EXPECT_TRUE(send(port, ack(7)).empty());              // not sent yet
  EXPECT_EQ(of(TftpCounter::kStaleAcks), 1u);
  s = send(port, ack(1));  // the transfer goes on
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].num(), 2);
  EXPECT_TRUE(send(port, {0, 5, 0, 0, 'n', 'o', 0}).empty());
  EXPECT_FALSE(server_->owns(port));
  EXPECT_EQ(of(TftpCounter::kAbortedByClient), 1u);
}

TEST_F(TftpServerTest, BlockNumbersWrapPast65535) {
  const std::string content = pattern(8 * 65536 + 300);
  write_file("big", content);
  std::vector<Sent> s = rrq({"big", "octet", "blksize", "8"});
  ASSERT_EQ(s.size(), 1u);
  s = send(s[0].local_port, ack(0));
  std::string got;
  uint32_t expected = 1;
  while (!s.empty()) {
    ASSERT_EQ(s.size(), 1u);
    ASSERT_EQ(s[0].num(), static_cast<uint16_t>(expected));
    got += s[0].data();
    s = send(s[0].local_port, ack(expected));
    ++expected;
  }
  EXPECT_EQ(got.size(), content.size());
  EXPECT_EQ(got, content);
  EXPECT_EQ(of(TftpCounter::kCompleted), 1u);
}

TEST_F(TftpServerTest, NetasciiSendsLineEndsAsCrLf) {
  write_file("a.txt", "one\ntwo\n\nend");
  std::vector<Sent> s = rrq({"a.txt", "netascii"});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(fetch(s[0]), "one\r\ntwo\r\n\r\nend");
  // A CR that fills a block leaves its LF to the next; tsize and windowsize
  // are not taken in netascii.
  write_file("b.txt", "1234567\nabcdefg\n");
  s = rrq({"b.txt", "NetAscii", "blksize", "8", "tsize", "0", "windowsize", "4"});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].strings(), (std::vector<std::string>{"blksize", "8"}));
  const uint16_t port = s[0].local_port;
  s = send(port, ack(0));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].data(), "1234567\r");
  // A resend is the same block.
  clock_.advance_s(4);
  server_->on_tick(out_);
  std::vector<Sent> again = out_.take();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].payload, s[0].payload);
  s = send(port, ack(1));
  EXPECT_EQ(s[0].data(), "\nabcdefg");
  s = send(port, ack(2));
  EXPECT_EQ(s[0].data(), "\r\n");
  EXPECT_TRUE(send(port, ack(3)).empty());
  EXPECT_EQ(of(TftpCounter::kCompleted), 2u);
}

TEST_F(TftpServerTest, AtMostMaxTransfersRunAtOnce) {
  TftpConfig c;
  c.max_transfers = 2;
  c.first_port = 40000;
  c.last_port = 40002;
  restart(c);
  write_file("f", pattern(5000));
  std::set<uint16_t> ports;
  for (int i = 0; i < 2; ++i) {
    client_.port = static_cast<uint16_t>(3000 + i);
    const std::vector<Sent> s = rrq({"f", "octet"});
    ASSERT_EQ(s.size(), 1u);
    ports.insert(s[0].local_port);
  }
  EXPECT_EQ(ports.size(), 2u);
  client_.port = 3002;
  EXPECT_TRUE(rrq({"f", "octet"}).empty());
  EXPECT_EQ(of(TftpCounter::kTableFull), 1u);
  EXPECT_EQ(server_->transfers(), 2u);
}

}  // namespace
}  // namespace vnet::dhcp
