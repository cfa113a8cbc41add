#include "control/state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "control/atomic_file.h"

namespace vnet::ctl {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNetworksDir = "networks";
constexpr const char* kAutostartDir = "autostart";
constexpr const char* kLockFile = "vnetd.lock";
constexpr const char* kXmlSuffix = ".xml";

}  // namespace

bool is_safe_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

StateStore::StateStore(fs::path state_dir) : state_dir_(std::move(state_dir)) {}

StateStore::~StateStore() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

xml::Status StateStore::open() {
  for (const fs::path& dir : {state_dir_, state_dir_ / kNetworksDir, state_dir_ / kAutostartDir}) {
    xml::Status st = ensure_dir(dir, 0755);
    if (!st.ok()) return st;
  }
  if (lock_fd_ < 0) {
    const fs::path lock_path = state_dir_ / kLockFile;
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return xml::Status::error("Failed to open '" + lock_path.string() + "': " + std::strerror(errno));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return xml::Status::error("state directory '" + state_dir_.string() +
                                  "' is in use by another vnetd");
      }
      return xml::Status::error("Failed to lock '" + lock_path.string() + "': " + std::strerror(err));
    }
    lock_fd_ = fd;
  }
  remove_stale_temporaries(state_dir_ / kNetworksDir);
  remove_stale_temporaries(state_dir_ / kAutostartDir);
  return {};
}

fs::path StateStore::network_path(const std::string& name) const {
  return state_dir_ / kNetworksDir / (name + kXmlSuffix);
}

fs::path StateStore::autostart_path(const std::string& name) const {
  return state_dir_ / kAutostartDir / name;
}

xml::Status StateStore::save_network(const std::string& name, std::string_view inactive_xml) {
  if (!is_safe_file_name(name)) return xml::Status::error("invalid network name for a file: '" + name + "'");
  return atomic_write_file(network_path(name), inactive_xml, 0600);
}

xml::Status StateStore::remove_network(const std::string& name) {
  if (!is_safe_file_name(name)) return xml::Status::error("invalid network name for a file: '" + name + "'");
  return remove_file_durable(network_path(name));
}

xml::Status StateStore::set_autostart(const std::string& name, bool on) {
  if (!is_safe_file_name(name)) return xml::Status::error("invalid network name for a file: '" + name + "'");
  if (on) return atomic_write_file(autostart_path(name), "", 0644);
  return remove_file_durable(autostart_path(name));
}

bool StateStore::has_autostart(const std::string& name) const {
  std::error_code ec;
  return is_safe_file_name(name) && fs::exists(autostart_path(name), ec);
}

std::vector<StateStore::StoredNetwork> StateStore::list_networks() const {
  std::vector<StoredNetwork> out;
  std::error_code ec;
  const fs::path dir = state_dir_ / kNetworksDir;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string fname = it->path().filename().string();
    const size_t suffix_len = std::strlen(kXmlSuffix);
    if (fname.size() <= suffix_len ||
        fname.compare(fname.size() - suffix_len, suffix_len, kXmlSuffix) != 0) {
      continue;
    }
    StoredNetwork sn;
    sn.file_name = fname.substr(0, fname.size() - suffix_len);
    sn.path = it->path();
    xml::Result<std::string> content = read_file(sn.path);
    if (content.ok()) {
      sn.xml = std::move(*content);
    } else {
      sn.read_error = content.error();
    }
    out.push_back(std::move(sn));
  }
  std::sort(out.begin(), out.end(),
            [](const StoredNetwork& a, const StoredNetwork& b) { return a.file_name < b.file_name; });
  return out;
}

std::set<std::string> StateStore::list_autostart() const {
  std::set<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(state_dir_ / kAutostartDir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string fname = it->path().filename().string();
    const bool stale_tmp = !fname.empty() && fname[0] == '.' && fname.find(".tmp") != std::string::npos;
    if (!fname.empty() && !stale_tmp) out.insert(fname);
  }
  return out;
}

}  // namespace vnet::ctl
