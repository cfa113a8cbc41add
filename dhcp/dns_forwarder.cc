// vnet::dhcp — DNS forwarding over the host's sockets. See dns_forwarder.h.
#include "dhcp/dns_forwarder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "dhcp/dns_tcp.h"
#include "dhcp/host_names.h"

namespace vnet::dhcp {

namespace {

socklen_t to_sockaddr(const Upstream& u, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (u.addr.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(u.port);
    std::memcpy(&sin->sin_addr, u.addr.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(u.port);
  std::memcpy(&sin6->sin6_addr, u.addr.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

void set_id(std::vector<std::byte>& msg, uint16_t id) {
  if (msg.size() < 2) return;
  msg[0] = std::byte(id >> 8);
  msg[1] = std::byte(id & 0xff);
}

}  // namespace

const char* to_string(ForwardCounter c) {
  switch (c) {
#define VNET_X(e, name) \
  case ForwardCounter::e: return name;
    VNET_DNS_FORWARD_COUNTERS(VNET_X)
#undef VNET_X
    case ForwardCounter::kCount: break;
  }
  return "?";
}

struct DnsForwarder::Pending {
  enum class State : uint8_t { kUdp, kTcpConnect, kTcpSend, kTcpRecv };

  uint64_t cookie = 0;
  uint16_t client_id = 0;
  uint16_t upstream_id = 0;
  std::vector<std::byte> query;  // with upstream_id
  DnsQuestion question;
  std::vector<Upstream> upstreams;
  size_t index = 0;              // current upstream
  DnsTransport client_transport = DnsTransport::kUdp;
  State state = State::kUdp;
  int fd = -1;
  int64_t deadline_ns = 0;
  std::vector<std::byte> tcp_out;
  size_t tcp_sent = 0;
  DnsTcpReader tcp_in;

  void close_fd() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  ~Pending() { close_fd(); }
};

DnsForwarder::DnsForwarder(const ForwarderConfig& config, const Clock& clock, Rng& rng)
    : config_(config), clock_(clock), rng_(rng), buf_(kDnsTcpMaxSize) {}

DnsForwarder::~DnsForwarder() = default;

uint16_t DnsForwarder::fresh_id() const {
  while (true) {
    const uint16_t id = rng_.next_u16();
    const bool used = std::any_of(pending_.begin(), pending_.end(),
                                  [&](const auto& p) { return p->upstream_id == id; });
    if (!used) return id;
  }
}

DnsForwarder::SubmitResult DnsForwarder::submit(uint64_t cookie, std::span<const std::byte> query,
                                                std::vector<Upstream> upstreams, DnsTransport client_transport) {
  DnsMessage m;
  if (parse_dns(query, m) != DnsParseError::kOk || m.questions.size() != 1) {
    bump(ForwardCounter::kRejectedBadQuery);
    return SubmitResult::kBadQuery;
  }
  if (upstreams.empty()) return SubmitResult::kNoUpstream;
  if (pending_.size() >= config_.max_pending) {
    bump(ForwardCounter::kRejectedFull);
    return SubmitResult::kFull;
  }
  auto p = std::make_unique<Pending>();
  p->cookie = cookie;
  p->client_id = m.header.id;
  p->upstream_id = fresh_id();
  p->query.assign(query.begin(), query.end());
  set_id(p->query, p->upstream_id);
  p->question = m.questions.front();
  p->upstreams = std::move(upstreams);
  p->client_transport = client_transport;
  bump(ForwardCounter::kSubmitted);

  // A server we cannot even send to is skipped at once; if none is left the
  // SERVFAIL waits in ready_ for the next process().
  if (start_udp(*p) || advance(*p, ready_)) pending_.push_back(std::move(p));
  return SubmitResult::kQueued;
}

bool DnsForwarder::start_udp(Pending& p) {
  p.close_fd();
  p.state = Pending::State::kUdp;
  const Upstream& u = p.upstreams[p.index];
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(u, ss);
  p.fd = ::socket(u.addr.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p.fd < 0 || ::connect(p.fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      ::send(p.fd, p.query.data(), p.query.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    bump(ForwardCounter::kSocketErrors);
    p.close_fd();
    return false;
  }
  p.deadline_ns = clock_.now_ns() + config_.attempt_timeout_ns;
  return true;
}

bool DnsForwarder::start_tcp(Pending& p) {
  p.close_fd();
  const Upstream& u = p.upstreams[p.index];
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(u, ss);
  p.fd = ::socket(u.addr.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p.fd < 0) {
    bump(ForwardCounter::kSocketErrors);
    return false;
  }
  if (::connect(p.fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    bump(ForwardCounter::kSocketErrors);
    p.close_fd();
    return false;
  }
  p.state = Pending::State::kTcpConnect;
  p.tcp_out = frame_dns_tcp(p.query);
  p.tcp_sent = 0;
  p.tcp_in = DnsTcpReader{};
  p.deadline_ns = clock_.now_ns() + config_.attempt_timeout_ns;
  return true;
}

bool DnsForwarder::advance(Pending& p, std::vector<ForwardResult>& out) {
  p.close_fd();
  while (++p.index < p.upstreams.size()) {
    if (start_udp(p)) return true;
  }
  std::vector<std::byte> original = p.query;
  set_id(original, p.client_id);
  out.push_back(ForwardResult{p.cookie, make_dns_error_reply(original, Rcode::kServFail), true});
  bump(ForwardCounter::kServFail);
  return false;
}

bool DnsForwarder::matches(const Pending& p, std::span<const std::byte> reply) const {
  DnsHeader h;
  if (!parse_dns_header(reply, h) || h.id != p.upstream_id || !h.qr()) return false;
  if (h.qdcount == 0) return h.rcode() != 0;  // some servers drop the question in errors
  size_t offset = kDnsHeaderSize;
  DnsQuestion q;
  if (read_dns_name(reply, offset, q.name) != DnsParseError::kOk) return false;
  if (offset + 4 > reply.size()) return false;
  q.qtype = static_cast<uint16_t>((std::to_integer<uint16_t>(reply[offset]) << 8) |
                                  std::to_integer<uint16_t>(reply[offset + 1]));
  q.qclass = static_cast<uint16_t>((std::to_integer<uint16_t>(reply[offset + 2]) << 8) |
                                   std::to_integer<uint16_t>(reply[offset + 3]));
  return q.qtype == p.question.qtype && q.qclass == p.question.qclass && names_equal(q.name, p.question.name);
}

bool DnsForwarder::on_reply(Pending& p, std::span<const std::byte> reply, bool via_tcp,
                            std::vector<ForwardResult>& out) {
  if (!matches(p, reply)) {
    bump(ForwardCounter::kMismatched);
    return false;
  }
  DnsHeader h;
  parse_dns_header(reply, h);
  if (!via_tcp && h.tc() && p.client_transport == DnsTransport::kTcp) {
    bump(ForwardCounter::kTcpFallbacks);
    if (start_tcp(p)) return false;
    return !advance(p, out);
  }
  if (h.rcode() == static_cast<uint8_t>(Rcode::kRefused) && p.index + 1 < p.upstreams.size()) {
    bump(ForwardCounter::kRefusedRetries);
    return !advance(p, out);
  }
  std::vector<std::byte> relayed(reply.begin(), reply.end());
  set_id(relayed, p.client_id);
  out.push_back(ForwardResult{p.cookie, std::move(relayed), false});
  bump(ForwardCounter::kReplied);
  p.close_fd();
  return true;
}

void DnsForwarder::collect_pollfds(std::vector<pollfd>& fds) const {
  for (const auto& p : pending_) {
    if (p->fd < 0) continue;
    short events = POLLIN;
    if (p->state == Pending::State::kTcpConnect || p->state == Pending::State::kTcpSend) events = POLLOUT;
    fds.push_back(pollfd{p->fd, events, 0});
  }
}

int DnsForwarder::timeout_ms() const {
  if (!ready_.empty()) return 0;
  if (pending_.empty()) return -1;
  const int64_t now = clock_.now_ns();
  int64_t nearest = INT64_MAX;
  for (const auto& p : pending_) nearest = std::min(nearest, p->deadline_ns);
  if (nearest <= now) return 0;
  const int64_t ms = (nearest - now + 999'999) / 1'000'000;
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

void DnsForwarder::step(Pending& p, short revents, std::vector<ForwardResult>& out, bool& done) {
  using State = Pending::State;
  if (p.state == State::kUdp) {
    if (!(revents & (POLLIN | POLLERR))) return;
    while (!done) {
      const ssize_t n = ::recv(p.fd, buf_.data(), buf_.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        bump(ForwardCounter::kSocketErrors);  // e.g. ECONNREFUSED from ICMP
        done = !advance(p, out);
        return;
      }
      const State before = p.state;
      const size_t index_before = p.index;
      done = on_reply(p, std::span(buf_).first(static_cast<size_t>(n)), false, out);
      if (p.state != before || p.index != index_before) return;  // moved on
    }
    return;
  }
  if (p.state == State::kTcpConnect) {
    if (!(revents & (POLLOUT | POLLERR | POLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      bump(ForwardCounter::kSocketErrors);
      done = !advance(p, out);
      return;
    }
    p.state = State::kTcpSend;
  }
  if (p.state == State::kTcpSend) {
    const ssize_t n = ::send(p.fd, p.tcp_out.data() + p.tcp_sent, p.tcp_out.size() - p.tcp_sent,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      bump(ForwardCounter::kSocketErrors);
      done = !advance(p, out);
      return;
    }
    p.tcp_sent += static_cast<size_t>(n);
    if (p.tcp_sent == p.tcp_out.size()) p.state = State::kTcpRecv;
    return;
  }
  if (p.state == State::kTcpRecv) {
    if (!(revents & (POLLIN | POLLERR | POLLHUP))) return;
    const ssize_t n = ::recv(p.fd, buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0 || !p.tcp_in.feed(std::span(buf_).first(static_cast<size_t>(n)))) {
      bump(ForwardCounter::kSocketErrors);
      done = !advance(p, out);
      return;
    }
    if (auto msg = p.tcp_in.next()) {
      done = on_reply(p, *msg, true, out);
      if (!done && p.state == State::kTcpRecv) done = !advance(p, out);  // a bad reply on TCP
    }
  }
}

void DnsForwarder::process(std::vector<ForwardResult>& out) {
  for (ForwardResult& r : ready_) out.push_back(std::move(r));
  ready_.clear();
  std::vector<pollfd> fds;
  collect_pollfds(fds);
  if (!fds.empty()) ::poll(fds.data(), fds.size(), 0);
  const int64_t now = clock_.now_ns();
  for (auto& p : pending_) {
    bool done = false;
    if (p->fd >= 0) {
      const auto it = std::find_if(fds.begin(), fds.end(), [&](const pollfd& f) { return f.fd == p->fd; });
      if (it != fds.end() && it->revents != 0) step(*p, it->revents, out, done);
    }
    if (!done && now >= p->deadline_ns) {
      bump(ForwardCounter::kTimeouts);
      done = !advance(*p, out);
    }
    if (done) p.reset();
  }
  std::erase_if(pending_, [](const auto& p) { return p == nullptr; });
}

void DnsForwarder::run_once(int max_wait_ms, std::vector<ForwardResult>& out) {
  std::vector<pollfd> fds;
  collect_pollfds(fds);
  int wait = timeout_ms();
  if (wait < 0 || (max_wait_ms >= 0 && max_wait_ms < wait)) wait = max_wait_ms;
  if (!fds.empty()) {
    ::poll(fds.data(), fds.size(), wait);
  } else if (wait > 0) {
    ::poll(nullptr, 0, wait);
  }
  process(out);
}

}  // namespace vnet::dhcp
