#include "control/ctl_client.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "control/protocol.h"

namespace vnet::ctl {

std::string resolve_socket_path(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  const char* env = std::getenv(kSocketEnvVar);
  if (env != nullptr && *env != '\0') return env;
  return kDefaultSocketPath;
}

CtlClient::CtlClient(std::string socket_path, std::chrono::milliseconds timeout, size_t max_response)
    : socket_path_(std::move(socket_path)), timeout_(timeout), max_response_(max_response) {}

CtlClient::~CtlClient() {
  if (fd_ >= 0) ::close(fd_);
}

xml::Status CtlClient::connect() {
  if (fd_ >= 0) return {};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.empty() || socket_path_.size() >= sizeof addr.sun_path) {
    return xml::Status::error("Failed to connect socket to '" + socket_path_ + "': path is empty or too long");
  }
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return xml::Status::error(std::string("Failed to create socket: ") + std::strerror(errno));
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    ::close(fd);
    return xml::Status::error("Failed to connect socket to '" + socket_path_ + "': " + std::strerror(err));
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  fd_ = fd;
  return {};
}

xml::Result<std::string> CtlClient::read_line() {
  size_t scanned = 0;  // bytes of pending_ known to hold no newline
  for (;;) {
    size_t nl = pending_.find('\n', scanned);
    if (nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    scanned = pending_.size();
    if (pending_.size() > max_response_) return xml::Result<std::string>::error("response from vnetd too long");
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return xml::Result<std::string>::error("timed out waiting for a response from vnetd");
      }
      return xml::Result<std::string>::error(std::string("Failed to read from vnetd: ") + std::strerror(errno));
    }
    if (n == 0) return xml::Result<std::string>::error("vnetd closed the connection");
    pending_.append(buf, static_cast<size_t>(n));
  }
}

xml::Result<nlohmann::json> CtlClient::call(std::string_view cmd, const nlohmann::json& args) {
  using R = xml::Result<nlohmann::json>;
  if (xml::Status st = connect(); !st.ok()) return R::error(st.error());
  const std::string req = format_request(cmd, args);
  std::string_view rest(req);
  while (!rest.empty()) {
    ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string failed = std::string("Failed to send to vnetd: ") + std::strerror(errno);
      // vnetd may have refused the connection with one error line and closed
      // it before the request was written: report its reason, not the EPIPE.
      if (errno == EPIPE || errno == ECONNRESET) {
        if (xml::Result<std::string> line = read_line(); line.ok()) {
          if (xml::Result<Response> resp = parse_response(*line); resp.ok() && !resp->ok) return R::error(resp->error);
        }
      }
      return R::error(failed);
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  xml::Result<std::string> line = read_line();
  if (!line.ok()) return R::error(line.error());
  xml::Result<Response> resp = parse_response(*line);
  if (!resp.ok()) return R::error(resp.error());
  if (!resp->ok) return R::error(resp->error);
  return R(std::move(resp->result));
}

}  // namespace vnet::ctl
