#include "control/control_server.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "control/atomic_file.h"
#include "control/protocol.h"

namespace vnet::ctl {
namespace {

namespace fs = std::filesystem;

constexpr size_t kReadChunkBytes = 65536;
constexpr int kListenBacklog = 64;

std::string errno_text(int err) { return std::strerror(err); }

bool fill_sockaddr(const fs::path& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  const std::string s = path.string();
  if (s.empty() || s.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
  return true;
}

std::string describe(const ucred& c) {
  return "pid " + std::to_string(c.pid) + " uid " + std::to_string(c.uid) + " gid " + std::to_string(c.gid);
}

// Best effort: tell a refused peer why (one error line), then hang up.
void refuse(int fd, std::string_view why) {
  const std::string line = format_error(why);
  [[maybe_unused]] ssize_t n = ::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
}

bool user_in_group(uid_t uid, gid_t group) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* result = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) != 0 || result == nullptr) return false;
  if (pw.pw_gid == group) return true;
  int ngroups = 64;
  std::vector<gid_t> groups(static_cast<size_t>(ngroups));
  if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &ngroups) < 0) {
    groups.resize(static_cast<size_t>(ngroups));
    if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &ngroups) < 0) return false;
  }
  for (int i = 0; i < ngroups; ++i) {
    if (groups[static_cast<size_t>(i)] == group) return true;
  }
  return false;
}

}  // namespace

bool unix_socket_answers(const fs::path& path) {
  sockaddr_un addr{};
  if (!fill_sockaddr(path, addr)) return false;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  ::close(fd);
  return rc == 0;
}

xml::Result<gid_t> lookup_group(const std::string& name) {
  gid_t numeric = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), numeric);
  if (ec == std::errc() && end == name.data() + name.size() && !name.empty()) return numeric;
  std::vector<char> buf(16384);
  group gr{};
  group* result = nullptr;
  if (::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &result) != 0 || result == nullptr) {
    return xml::Result<gid_t>::error("unknown group '" + name + "'");
  }
  return gr.gr_gid;
}

ControlServer::ControlServer(ServerConfig cfg, CommandDispatcher& dispatcher, Logger& log)
    : cfg_(std::move(cfg)), dispatcher_(dispatcher), log_(log) {}

ControlServer::~ControlServer() { close(); }

xml::Status ControlServer::open() {
  const fs::path& path = cfg_.socket_path;
  sockaddr_un addr{};
  if (!fill_sockaddr(path, addr)) {
    return xml::Status::error("socket path '" + path.string() + "' is empty or too long");
  }
  if (xml::Status st = ensure_dir(path.parent_path().empty() ? fs::path(".") : path.parent_path(), 0755);
      !st.ok()) {
    return st;
  }

  const fs::path lock_path = path.string() + ".lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) {
    return xml::Status::error("Failed to open '" + lock_path.string() + "': " + errno_text(errno));
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err == EWOULDBLOCK) {
      return xml::Status::error("another vnetd is already running on socket '" + path.string() + "'");
    }
    return xml::Status::error("Failed to lock '" + lock_path.string() + "': " + errno_text(err));
  }

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return xml::Status::error("'" + path.string() + "' exists and is not a socket");
    }
    if (unix_socket_answers(path)) {
      return xml::Status::error("another vnetd is already running on socket '" + path.string() + "'");
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return xml::Status::error("Failed to remove stale socket '" + path.string() + "': " + errno_text(errno));
    }
    log_.info("removed stale socket '" + path.string() + "'");
  }

  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) return xml::Status::error(std::string("Failed to create socket: ") + errno_text(errno));
  const mode_t old_umask = ::umask(0117);
  const int bind_rc = ::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int bind_err = errno;
  ::umask(old_umask);
  if (bind_rc != 0) {
    return xml::Status::error("Failed to bind socket '" + path.string() + "': " + errno_text(bind_err));
  }
  socket_created_ = true;
  if (::chmod(path.c_str(), 0660) != 0) {
    return xml::Status::error("Failed to set mode of '" + path.string() + "': " + errno_text(errno));
  }
  if (cfg_.socket_group && ::chown(path.c_str(), static_cast<uid_t>(-1), *cfg_.socket_group) != 0) {
    return xml::Status::error("Failed to set group of '" + path.string() + "': " + errno_text(errno));
  }
  if (::listen(listen_fd_, kListenBacklog) != 0) {
    return xml::Status::error("Failed to listen on '" + path.string() + "': " + errno_text(errno));
  }
  log_.info("listening on '" + path.string() + "'");
  return {};
}

void ControlServer::close() {
  for (Client& c : clients_) ::close(c.fd);
  clients_.clear();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  if (socket_created_) {
    ::unlink(cfg_.socket_path.c_str());
    socket_created_ = false;
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);  // releases the flock; the lock file itself may stay
    lock_fd_ = -1;
  }
}

bool ControlServer::peer_allowed(const ucred& cred) const {
  if (cred.uid == 0 || cred.uid == ::geteuid()) return true;
  if (!cfg_.socket_group) return false;
  return cred.gid == *cfg_.socket_group || user_in_group(cred.uid, *cfg_.socket_group);
}

void ControlServer::accept_clients() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) log_.warning(std::string("accept failed: ") + errno_text(errno));
      return;
    }
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      log_.warning(std::string("refused a connection: SO_PEERCRED failed: ") + errno_text(errno));
      ::close(fd);
      continue;
    }
    if (!peer_allowed(cred)) {
      log_.warning("refused a connection from " + describe(cred) +
                   ": not root, not the daemon's user and not in the socket group");
      refuse(fd, "access denied: not root, not vnetd's user and not in the socket group");
      continue;
    }
    if (clients_.size() >= cfg_.max_clients) {
      log_.warning("refused a connection from " + describe(cred) + ": too many clients");
      refuse(fd, "too many clients");
      continue;
    }
    log_.debug("client connected: " + describe(cred));
    Client c;
    c.fd = fd;
    c.cred = cred;
    clients_.push_back(std::move(c));
  }
}

void ControlServer::read_from(Client& c) {
  char buf[kReadChunkBytes];
  for (;;) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) c.broken = true;
      break;
    }
    if (n == 0) {
      c.peer_closed = true;
      break;
    }
    c.in.append(buf, static_cast<size_t>(n));
    if (c.in.size() > kMaxLineBytes && c.in.find('\n') == std::string::npos) {
      log_.warning("client " + describe(c.cred) + " sent a request line over the size limit");
      c.out += format_error("request line too long");
      c.in.clear();
      c.peer_closed = true;  // flush the error, then close
      break;
    }
    if (static_cast<size_t>(n) < sizeof buf) break;
  }
  size_t start = 0;
  for (size_t nl; (nl = c.in.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(c.in.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    log_.debug("request from " + describe(c.cred) + ": " + std::string(line.substr(0, 200)));
    c.out += dispatcher_.handle_line(line);
  }
  c.in.erase(0, start);
}

void ControlServer::write_to(Client& c) {
  while (!c.out.empty()) {
    ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) c.broken = true;
      return;
    }
    c.out.erase(0, static_cast<size_t>(n));
  }
}

xml::Status ControlServer::run(int stop_fd) {
  std::vector<pollfd> fds;
  std::vector<Client*> polled;
  for (;;) {
    fds.clear();
    polled.clear();
    fds.push_back({stop_fd, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (Client& c : clients_) {
      short events = 0;
      if (!c.peer_closed) events |= POLLIN;
      if (!c.out.empty()) events |= POLLOUT;
      fds.push_back({c.fd, events, 0});
      polled.push_back(&c);
    }
    int rc = ::poll(fds.data(), fds.size(), -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return xml::Status::error(std::string("poll failed: ") + errno_text(errno));
    }
    if (fds[0].revents != 0) return {};
    if (fds[1].revents & POLLIN) accept_clients();
    for (size_t i = 0; i < polled.size(); ++i) {
      Client& c = *polled[i];
      const short re = fds[i + 2].revents;
      if (re & (POLLIN | POLLHUP | POLLERR)) read_from(c);
      if (!c.out.empty()) write_to(c);
      if (re & POLLERR) c.broken = true;
    }
    for (auto it = clients_.begin(); it != clients_.end();) {
      if (it->broken || (it->peer_closed && it->out.empty())) {
        log_.debug("client disconnected: " + describe(it->cred));
        ::close(it->fd);
        it = clients_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace vnet::ctl
