// vnet::dhcp — read-only TFTP server. See tftp_server.h.
#include "dhcp/tftp_server.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

namespace vnet::dhcp {
namespace {

constexpr uint16_t kOpRrq = 1;
constexpr uint16_t kOpWrq = 2;
constexpr uint16_t kOpData = 3;
constexpr uint16_t kOpAck = 4;
constexpr uint16_t kOpError = 5;
constexpr uint16_t kOpOack = 6;

constexpr uint16_t kErrNotDefined = 0;
constexpr uint16_t kErrFileNotFound = 1;
constexpr uint16_t kErrAccess = 2;
constexpr uint16_t kErrIllegal = 4;
constexpr uint16_t kErrTid = 5;

constexpr uint32_t kMaxWindow = 32;          // dnsmasq's TFTP_MAX_WINDOW
constexpr uint32_t kMaxBlksize = 65464;      // RFC 2348
constexpr size_t kIpUdpTftpOverhead = 32;    // IPv4 20 + UDP 8 + TFTP 4
constexpr size_t kMaxPath = 1024;            // dnsmasq's MAXDNAME - 1
constexpr size_t kMaxMessage = 499;          // dnsmasq's MAXMESSAGE - 1
constexpr int64_t kSecond = 1'000'000'000;

uint16_t be16(std::span<const uint8_t> p, size_t off) { return static_cast<uint16_t>((p[off] << 8) | p[off + 1]); }
void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put_string(std::vector<uint8_t>& b, std::string_view s) {
  b.insert(b.end(), s.begin(), s.end());
  b.push_back(0);
}

// The next NUL-terminated string from `pos`; nullopt when it runs off the
// end or is empty (dnsmasq's next()).
std::optional<std::string> next_string(std::span<const uint8_t> p, size_t* pos) {
  size_t n = *pos;
  while (n < p.size() && p[n] != 0) ++n;
  if (n == p.size() || n == *pos) return std::nullopt;
  std::string s(reinterpret_cast<const char*>(p.data() + *pos), n - *pos);
  *pos = n + 1;
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// atoi() as dnsmasq reads an option value, taken as unsigned.
unsigned option_value(const std::string& s) {
  return static_cast<unsigned>(static_cast<int>(std::strtol(s.c_str(), nullptr, 10)));
}

// Printable characters only, for messages (dnsmasq's sanitise()).
std::string sanitised(std::string_view s) {
  std::string r;
  for (char c : s)
    if (std::isprint(static_cast<unsigned char>(c))) r.push_back(c);
  return r;
}

}  // namespace

const char* to_string(TftpCounter c) {
  switch (c) {
#define VNET_X(e, name) \
  case TftpCounter::e:  \
    return name;
    VNET_TFTP_COUNTERS(VNET_X)
#undef VNET_X
    case TftpCounter::kCount:
      break;
  }
  return "?";
}

TftpServer::TftpServer(TftpConfig config, const Clock& clock, Rng& rng)
    : config_(std::move(config)), clock_(clock), rng_(rng) {
  if (config_.first_port == 0 || config_.last_port < config_.first_port) {
    config_.first_port = 32768;
    config_.last_port = 60999;
  }
}

TftpServer::~TftpServer() {
  for (auto& [port, t] : transfers_)
    if (t.fd >= 0) ::close(t.fd);
}

bool TftpServer::allocate_port(uint16_t* port) {
  const uint32_t span = uint32_t{config_.last_port} - config_.first_port + 1;
  if (transfers_.size() >= span) return false;
  uint32_t k = rng_.next_u32() % span;
  for (uint32_t tries = 0; tries < span; ++tries, k = (k + 1) % span) {
    const auto p = static_cast<uint16_t>(config_.first_port + k);
    if (p != kTftpPort && !owns(p)) {
      *port = p;
      return true;
    }
  }
  return false;
}

void TftpServer::send_error(Ipv4 local_ip, uint16_t local_port, const TftpPeer& to, uint16_t code,
                            const std::string& message, TftpOut& out) {
  buf_.clear();
  put16(buf_, kOpError);
  put16(buf_, code);
  put_string(buf_, std::string_view(message).substr(0, kMaxMessage));
  out.send(local_ip, local_port, to, buf_);
}

void TftpServer::on_request(Ipv4 local_ip, const TftpPeer& from, std::span<const uint8_t> p, TftpOut& out) {
  count(TftpCounter::kRequests);
  if (p.size() < 2) {
    count(TftpCounter::kIgnored);
    return;
  }
  // dnsmasq stops reading port 69 while tftp-max transfers run, and answers
  // every request from the port a transfer would use.
  if (transfers_.size() >= config_.max_transfers) {
    count(TftpCounter::kTableFull);
    return;
  }
  uint16_t port = 0;
  if (!allocate_port(&port)) {
    count(TftpCounter::kNoPort);
    return;
  }
  const std::string client = from.ip.to_string();
  const uint16_t op = be16(p, 0);
  if (op == kOpWrq) {
    count(TftpCounter::kWriteRefused);
    send_error(local_ip, port, from, kErrIllegal, "unsupported write request from " + client, out);
    return;
  }
  if (op != kOpRrq) {
    count(TftpCounter::kIgnored);
    return;
  }
  size_t pos = 2;
  std::optional<std::string> filename = next_string(p, &pos);
  if (!filename) {
    count(TftpCounter::kBadRequest);
    send_error(local_ip, port, from, kErrIllegal, "empty filename in request from " + client, out);
    return;
  }
  const std::optional<std::string> mode = next_string(p, &pos);
  if (!mode || (!iequals(*mode, "octet") && !iequals(*mode, "netascii"))) {
    count(TftpCounter::kBadRequest);
    send_error(local_ip, port, from, kErrIllegal, "unsupported request from " + client, out);
    return;
  }

  Transfer t;
  t.local_ip = local_ip;
  t.local_port = port;
  t.peer = from;
  t.netascii = iequals(*mode, "netascii");
  const size_t mtu = std::max<size_t>(config_.mtu, 68);
  while (true) {
    const std::optional<std::string> opt = next_string(p, &pos);
    if (!opt) break;
    const std::optional<std::string> arg = next_string(p, &pos);
    if (!arg) break;
    unsigned val = option_value(*arg);
    if (iequals(*opt, "blksize")) {
      val = std::clamp<unsigned>(val, 1, kMaxBlksize);
      val = std::min<unsigned>(val, static_cast<unsigned>(mtu - kIpUdpTftpOverhead));
      t.blksize = val;
      t.opt_blksize = true;
    } else if (iequals(*opt, "tsize") && !t.netascii) {
      t.opt_tsize = true;
    } else if (iequals(*opt, "timeout")) {
      t.timeout_s = std::min(val, 255u);
      t.opt_timeout = true;
    } else if (iequals(*opt, "windowsize") && !t.netascii) {
      t.window = std::clamp<unsigned>(val, 1, kMaxWindow);
      t.opt_windowsize = true;
    }
  }

  // The path, as dnsmasq builds it from tftp-root.
  std::string name = *filename;
  std::replace(name.begin(), name.end(), '\\', '/');
  const std::string& root = config_.root;
  std::string path = root.empty() || root[0] != '/' ? "/" : "";
  path += root;
  if (!root.empty() && root.back() != '/') path += '/';
  if (name[0] == '/') {
    if (name.compare(0, path.size(), path) == 0) {
      path.clear();
    } else {
      name.erase(0, 1);
    }
  }
  path += name;
  if (path.size() > kMaxPath) path.resize(kMaxPath);
  t.path = path;

  const std::string shown = sanitised(path);
  const std::string denied = "cannot access " + shown + ": " + std::strerror(EACCES);
  if (path.find("/../") != std::string::npos) {
    count(TftpCounter::kAccessDenied);
    send_error(local_ip, port, from, kErrAccess, denied, out);
    return;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) {
      count(TftpCounter::kFileNotFound);
      send_error(local_ip, port, from, kErrFileNotFound, "file " + shown + " not found for " + client, out);
    } else if (e == EACCES) {
      count(TftpCounter::kAccessDenied);
      send_error(local_ip, port, from, kErrAccess, denied, out);
    } else {
      count(TftpCounter::kOpenFailed);
      send_error(local_ip, port, from, kErrNotDefined, "cannot read " + shown + ": " + std::strerror(e), out);
    }
    return;
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    count(TftpCounter::kOpenFailed);
    send_error(local_ip, port, from, kErrNotDefined, "cannot read " + shown + ": " + std::strerror(e), out);
    return;
  }
  if (::geteuid() == 0 && (st.st_mode & S_IROTH) == 0) {  // root serves world-readable files only
    ::close(fd);
    count(TftpCounter::kAccessDenied);
    send_error(local_ip, port, from, kErrAccess, denied, out);
    return;
  }
  t.fd = fd;
  t.size = static_cast<uint64_t>(st.st_size);
  const bool oack = t.opt_blksize || t.opt_tsize || t.opt_timeout || t.opt_windowsize;
  t.acked = oack ? 0 : 1;
  t.sent_end = t.acked;
  if (!t.netascii) t.last_block = static_cast<uint32_t>(t.size / t.blksize + 1);
  const int64_t now = clock_.now_ns();
  t.progress_ns = now;
  t.retransmit_ns = now + int64_t{t.timeout_s} * kSecond;
  t.backoff = 1;
  if (send_block(t, t.acked, true, out) == Block::kReadError) {
    const int e = errno != 0 ? errno : EIO;
    ::close(fd);
    count(TftpCounter::kReadFailed);
    send_error(local_ip, port, from, kErrNotDefined, "cannot read " + shown + ": " + std::strerror(e), out);
    return;
  }
  t.sent_end = t.acked + 1;
  count(TftpCounter::kTransfers);
  transfers_.emplace(port, std::move(t));
}

TftpServer::Block TftpServer::send_block(Transfer& t, uint32_t n, bool first, TftpOut& out) {
  buf_.clear();
  if (n == 0) {
    put16(buf_, kOpOack);
    const auto option = [this](bool taken, std::string_view name, uint64_t value) {
      if (!taken) return;
      put_string(buf_, name);
      put_string(buf_, std::to_string(value));
    };
    option(t.opt_blksize, "blksize", t.blksize);
    option(t.opt_tsize, "tsize", t.size);
    option(t.opt_timeout, "timeout", t.timeout_s);
    option(t.opt_windowsize, "windowsize", t.window);
    count(first ? TftpCounter::kOptionAcks : TftpCounter::kRetransmits);
    out.send(t.local_ip, t.local_port, t.peer, buf_);
    return Block::kSent;
  }
  if (t.last_block != 0 && n > t.last_block) return Block::kPastEnd;
  put16(buf_, kOpData);
  put16(buf_, static_cast<uint16_t>(n));
  errno = 0;
  if (!t.netascii) {
    const uint64_t offset = uint64_t{n - 1} * t.blksize;
    const size_t size = static_cast<size_t>(std::min<uint64_t>(t.blksize, t.size - offset));
    buf_.resize(4 + size);
    size_t got = 0;
    while (got < size) {
      const ssize_t r = ::pread(t.fd, buf_.data() + 4 + got, size - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        if (r == 0) errno = EIO;  // the file shrank under the transfer
        return Block::kReadError;
      }
      got += static_cast<size_t>(r);
    }
  } else {
    // Each LF goes out as CR LF; a CR that fills the block leaves its LF to
    // start the next one, sent as it is.
    std::vector<uint8_t> src(t.blksize);
    ssize_t r;
    do {
      r = ::pread(t.fd, src.data(), src.size(), static_cast<off_t>(t.ascii_offset));
    } while (r < 0 && errno == EINTR);
    if (r < 0) return Block::kReadError;
    size_t used = 0;
    bool carry = false;
    for (size_t i = 0; i < static_cast<size_t>(r) && buf_.size() < 4 + t.blksize; ++i) {
      const uint8_t c = src[i];
      if (c == '\n' && !(i == 0 && t.ascii_carry_lf)) {
        buf_.push_back('\r');
        if (buf_.size() == 4 + t.blksize) {
          carry = true;  // the LF is not used up
          break;
        }
      }
      buf_.push_back(c);
      ++used;
    }
    t.ascii_next_offset = t.ascii_offset + used;
    t.ascii_next_carry_lf = carry;
    if (buf_.size() < 4 + t.blksize) t.last_block = n;
  }
  if (first) {
    count(TftpCounter::kBlocksSent);
    count(TftpCounter::kBytesSent, buf_.size() - 4);
  } else {
    count(TftpCounter::kRetransmits);
  }
  out.send(t.local_ip, t.local_port, t.peer, buf_);
  return Block::kSent;
}

bool TftpServer::send_window(Transfer& t, TftpOut& out) {
  if (t.last_block != 0 && t.acked > t.last_block) {
    count(TftpCounter::kCompleted);
    return false;
  }
  const uint32_t window = t.acked == 0 ? 1 : t.window;
  for (uint32_t i = 0; i < window; ++i) {
    const uint32_t n = t.acked + i;
    const Block b = send_block(t, n, n >= t.sent_end, out);
    if (b == Block::kPastEnd) break;
    if (b == Block::kReadError) {
      count(TftpCounter::kReadFailed);
      send_error(t.local_ip, t.local_port, t.peer, kErrNotDefined,
                 "cannot read " + sanitised(t.path) + ": " + std::strerror(errno ? errno : EIO), out);
      return false;
    }
    t.sent_end = std::max(t.sent_end, n + 1);
  }
  return true;
}

void TftpServer::finish(std::map<uint16_t, Transfer>::iterator it) {
  if (it->second.fd >= 0) ::close(it->second.fd);
  transfers_.erase(it);
}

void TftpServer::on_datagram(uint16_t local_port, const TftpPeer& from, std::span<const uint8_t> p, TftpOut& out) {
  const auto it = transfers_.find(local_port);
  if (it == transfers_.end()) return;
  Transfer& t = it->second;
  if (from.ip != t.peer.ip || from.port != t.peer.port) {  // RFC 1350 §4
    count(TftpCounter::kTidMismatch);
    send_error(t.local_ip, t.local_port, from, kErrTid, "ignoring packet from " + from.ip.to_string() + " (TID mismatch)",
               out);
    return;
  }
  if (p.size() < 4) {
    count(TftpCounter::kMalformed);
    return;
  }
  const uint16_t op = be16(p, 0);
  if (op == kOpError) {
    count(TftpCounter::kAbortedByClient);
    finish(it);
    return;
  }
  if (op != kOpAck) {
    count(TftpCounter::kMalformed);
    return;
  }
  count(TftpCounter::kAcks);
  // The block this 16-bit number names, counting on from the one awaited.
  const uint32_t block = t.acked + static_cast<uint16_t>(be16(p, 2) - static_cast<uint16_t>(t.acked));
  if (block >= t.sent_end) {
    count(TftpCounter::kStaleAcks);
    return;
  }
  if (t.netascii && block != 0) {
    t.ascii_offset = t.ascii_next_offset;
    t.ascii_carry_lf = t.ascii_next_carry_lf;
  }
  t.acked = block + 1;
  const int64_t now = clock_.now_ns();
  t.progress_ns = now;
  t.retransmit_ns = now + (int64_t{t.timeout_s} + 1) * kSecond;  // dnsmasq: timeout + 2^(0/2)
  t.backoff = 1;
  if (!send_window(t, out)) finish(it);
}

void TftpServer::on_tick(TftpOut& out) {
  const int64_t now = clock_.now_ns();
  for (auto it = transfers_.begin(); it != transfers_.end();) {
    Transfer& t = it->second;
    auto cur = it++;
    if (now - t.progress_ns > config_.transfer_timeout_ns) {
      // dnsmasq does not complain when only the last ACK is missing: some clients never send it.
      const bool all_sent = t.last_block != 0 && t.sent_end > t.last_block;
      count(all_sent ? TftpCounter::kUnacknowledged : TftpCounter::kTimedOut);
      finish(cur);
      continue;
    }
    if (now < t.retransmit_ns) continue;
    t.retransmit_ns += (int64_t{t.timeout_s} + (int64_t{1} << std::min<uint32_t>(t.backoff / 2, 16))) * kSecond;
    ++t.backoff;
    if (!send_window(t, out)) finish(cur);
  }
}

}  // namespace vnet::dhcp
