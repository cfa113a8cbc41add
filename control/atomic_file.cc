#include "control/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

namespace vnet::ctl {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) { return std::strerror(err); }

xml::Status sys_error(std::string_view what, const fs::path& path, int err) {
  return xml::Status::error(std::string(what) + " '" + path.string() + "': " + errno_text(err));
}

// Closes a file descriptor on scope exit unless released.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

fs::path parent_or_dot(const fs::path& p) {
  fs::path parent = p.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

}  // namespace

xml::Status fsync_dir(const fs::path& dir) {
  FdGuard fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return sys_error("Failed to open directory", dir, errno);
  if (::fsync(fd.get()) != 0) return sys_error("Failed to sync directory", dir, errno);
  return {};
}

xml::Status atomic_write_file(const fs::path& path, std::string_view content, mode_t mode) {
  const fs::path dir = parent_or_dot(path);
  std::string tmpl = (dir / ("." + path.filename().string() + ".tmpXXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int raw_fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (raw_fd < 0) return sys_error("Failed to create temporary file in", dir, errno);
  FdGuard fd(raw_fd);
  const fs::path tmp_path(buf.data());
  auto fail = [&](std::string_view what, int err) {
    ::unlink(tmp_path.c_str());
    return sys_error(what, tmp_path, err);
  };
  if (::fchmod(fd.get(), mode) != 0) return fail("Failed to set mode of", errno);
  if (!write_all(fd.get(), content)) return fail("Failed to write", errno);
  if (::fsync(fd.get()) != 0) return fail("Failed to sync", errno);
  if (::close(fd.release()) != 0) return fail("Failed to close", errno);
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_path.c_str());
    return sys_error("Failed to rename temporary file to", path, err);
  }
  return fsync_dir(dir);
}

xml::Status remove_file_durable(const fs::path& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return {};
    return sys_error("Failed to remove", path, errno);
  }
  return fsync_dir(parent_or_dot(path));
}

xml::Result<std::string> read_file(const fs::path& path) {
  FdGuard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return xml::Result<std::string>::error("Failed to open file '" + path.string() + "': " + errno_text(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return xml::Result<std::string>::error("Failed to read file '" + path.string() + "': " + errno_text(EISDIR));
  }
  std::string out;
  char chunk[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return xml::Result<std::string>::error("Failed to read file '" + path.string() + "': " + errno_text(errno));
    }
    if (n == 0) break;
    out.append(chunk, static_cast<size_t>(n));
  }
  return out;
}

xml::Status ensure_dir(const fs::path& dir, mode_t mode) {
  if (dir.empty()) return {};
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  xml::Status parent = ensure_dir(dir.parent_path(), mode);
  if (!parent.ok()) return parent;
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    return sys_error("Failed to create directory", dir, errno);
  }
  if (!fs::is_directory(dir, ec)) return sys_error("Failed to create directory", dir, ENOTDIR);
  return {};
}

int remove_stale_temporaries(const fs::path& dir) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > 1 && name[0] == '.' && name.find(".tmp") != std::string::npos &&
        ::unlink(it->path().c_str()) == 0) {
      ++removed;
    }
  }
  return removed;
}

}  // namespace vnet::ctl
