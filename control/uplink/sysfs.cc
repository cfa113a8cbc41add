// vnet::uplink — Sysfs over the real filesystem (see sysfs.h).
#include "control/uplink/sysfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vnet::uplink {

namespace fs = std::filesystem;

Sysfs::Sysfs(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

bool Sysfs::exists(const std::string& rel) const {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path(rel), ec));
}

std::optional<std::string> Sysfs::link_name(const std::string& rel) const {
  std::error_code ec;
  if (!fs::is_symlink(fs::symlink_status(path(rel), ec))) return std::nullopt;
  fs::path target = fs::read_symlink(path(rel), ec);
  if (ec) return std::nullopt;
  std::string name = target.filename().string();
  if (name.empty()) name = target.parent_path().filename().string();
  return name;
}

std::optional<std::string> Sysfs::resolve(const std::string& rel) const {
  std::error_code ec;
  fs::path p = fs::canonical(path(rel), ec);
  if (ec) return std::nullopt;
  return p.string();
}

std::optional<std::string> Sysfs::read(const std::string& rel) const {
  std::ifstream in(path(rel));
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<std::string> Sysfs::list(const std::string& rel) const {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(path(rel), ec), end; !ec && it != end; it.increment(ec)) {
    out.push_back(it->path().filename().string());
  }
  return out;
}

Status Sysfs::write(const std::string& rel, const std::string& value) {
  const std::string p = path(rel);
  const int fd = ::open(p.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    return Status::error("cannot open " + p + " for writing: " + std::strerror(errno));
  }
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int err = errno;
  ::close(fd);
  if (n < 0) return Status::error("writing '" + value + "' to " + p + " failed: " + std::strerror(err));
  if (static_cast<size_t>(n) != value.size()) {
    return Status::error("short write of '" + value + "' to " + p);
  }
  return {};
}

}  // namespace vnet::uplink
