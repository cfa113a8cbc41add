// vnet::uplink — the narrow view of sysfs the vfio-pci binder uses.
//
// Theory of operation
//   Every path is relative to a root given at construction ("/sys" on a host, a
//   temporary directory in tests), so the binder can run against a fake tree.
//   write() behaves like writing a sysfs attribute: the file must already exist
//   (no O_CREAT) and the kernel's errno is reported. Tests derive from Sysfs to act
//   as the kernel (move the `driver` link on bind/unbind) and to inject failures.
//
// Thread-safety
//   No state besides the root; one owner (the control thread).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "xml/network_xml.h"

namespace vnet::uplink {

using xml::Result;
using xml::Status;

class Sysfs {
 public:
  explicit Sysfs(std::string root = "/sys");
  virtual ~Sysfs() = default;
  Sysfs(const Sysfs&) = delete;
  Sysfs& operator=(const Sysfs&) = delete;

  const std::string& root() const { return root_; }
  std::string path(const std::string& rel) const { return root_ + "/" + rel; }

  virtual bool exists(const std::string& rel) const;
  // Last component of the link's target ("ixgbe" for .../drivers/ixgbe), nullopt if
  // `rel` is not a symbolic link.
  virtual std::optional<std::string> link_name(const std::string& rel) const;
  // Canonical absolute path `rel` resolves to (following links), nullopt if it does not exist.
  virtual std::optional<std::string> resolve(const std::string& rel) const;
  // Contents without trailing newlines; nullopt if unreadable.
  virtual std::optional<std::string> read(const std::string& rel) const;
  // Names in a directory (empty if it is missing).
  virtual std::vector<std::string> list(const std::string& rel) const;
  // Writes `value` to an existing attribute file, as one write(2).
  virtual Status write(const std::string& rel, const std::string& value);

 private:
  std::string root_;
};

}  // namespace vnet::uplink
