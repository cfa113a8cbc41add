// vnet::uplink — VfioBinder (see vfio_binder.h for the sequence and its rollback).
#include "control/uplink/vfio_binder.h"

#include <cctype>
#include <cstdlib>
#include <sstream>

namespace vnet::uplink {

namespace {

std::string dev_dir(const std::string& addr) { return "bus/pci/devices/" + addr; }
std::string drv_dir(const std::string& drv) { return "bus/pci/drivers/" + drv; }

bool hex_digits(const std::string& s, size_t pos, size_t n) {
  if (pos + n > s.size()) return false;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// Drivers that do not stop vfio from using an IOMMU group (the kernel's own list).
bool group_friendly_driver(const std::string& drv) {
  return drv.empty() || drv == VfioBinder::kVfioDriver || drv == "pci-stub" || drv == "pcieport";
}

}  // namespace

std::optional<std::string> normalize_pci_address(const std::string& s) {
  // dddd:bb:ss.f or bb:ss.f (hex digits; the function is one octal digit)
  std::string full = s.size() == 7 ? "0000:" + s : s;
  if (full.size() != 12 || !hex_digits(full, 0, 4) || full[4] != ':' || !hex_digits(full, 5, 2) ||
      full[7] != ':' || !hex_digits(full, 8, 2) || full[10] != '.' || full[11] < '0' ||
      full[11] > '7') {
    return std::nullopt;
  }
  for (char& c : full) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return full;
}

VfioBinder::VfioBinder(std::string sysfs_root)
    : sysfs_(std::make_unique<Sysfs>(std::move(sysfs_root))) {}

VfioBinder::VfioBinder(std::unique_ptr<Sysfs> sysfs) : sysfs_(std::move(sysfs)) {}

Result<std::string> VfioBinder::resolve(const std::string& dev) const {
  using R = Result<std::string>;
  if (auto addr = normalize_pci_address(dev)) {
    if (!sysfs_->exists(dev_dir(*addr))) {
      return R::error("PCI device " + *addr + " not found (no " + sysfs_->path(dev_dir(*addr)) + ")");
    }
    return *addr;
  }
  if (dev.empty() || dev.find('/') != std::string::npos || dev == "." || dev == "..") {
    return R::error("'" + dev + "' is neither a PCI address nor an interface name");
  }
  const std::string netdir = "class/net/" + dev;
  if (!sysfs_->exists(netdir)) {
    return R::error("no device '" + dev + "': not a PCI address (dddd:bb:ss.f) and no interface of "
                    "that name (no " + sysfs_->path(netdir) + ")");
  }
  auto target = sysfs_->resolve(netdir + "/device");
  if (!target) {
    return R::error("interface '" + dev + "' is not backed by a PCI device (no " +
                    sysfs_->path(netdir + "/device") +
                    "); use it as a kernel interface uplink instead");
  }
  // The device link points at the PCI function, or below it (virtio0 on virtio-pci).
  std::string path = *target;
  while (!path.empty()) {
    const size_t slash = path.find_last_of('/');
    const std::string last = path.substr(slash == std::string::npos ? 0 : slash + 1);
    if (auto addr = normalize_pci_address(last); addr && last.size() == 12) {
      if (!sysfs_->exists(dev_dir(*addr))) {
        return R::error("interface '" + dev + "' belongs to " + *addr + ", which is not in " +
                        sysfs_->path("bus/pci/devices"));
      }
      return *addr;
    }
    if (slash == std::string::npos || slash == 0) break;
    path.resize(slash);
  }
  return R::error("interface '" + dev + "' is not a PCI device (its device is " + *target + ")");
}

std::string VfioBinder::driver_of(const std::string& addr) const {
  return sysfs_->link_name(dev_dir(addr) + "/driver").value_or("");
}

std::string VfioBinder::override_of(const std::string& addr) const {
  std::string v = sysfs_->read(dev_dir(addr) + "/driver_override").value_or("");
  return v == "(null)" ? "" : v;
}

Status VfioBinder::check_not_in_use(const std::string& addr) const {
  for (const std::string& ifname : sysfs_->list(dev_dir(addr) + "/net")) {
    auto flags = sysfs_->read(dev_dir(addr) + "/net/" + ifname + "/flags");
    if (!flags) continue;
    const unsigned long f = std::strtoul(flags->c_str(), nullptr, 16);
    if (f & 0x1) {  // IFF_UP
      return Status::error("PCI device " + addr + " is in use: its interface " + ifname +
                           " is up; take it down first ('ip link set " + ifname + " down')");
    }
  }
  return {};
}

Status VfioBinder::check_group(const std::string& addr, const std::string& group) const {
  for (const std::string& other : sysfs_->list("kernel/iommu_groups/" + group + "/devices")) {
    if (other == addr) continue;
    const std::string drv = driver_of(other);
    if (!group_friendly_driver(drv)) {
      return Status::error("PCI device " + addr + " shares IOMMU group " + group + " with " + other +
                           ", which is bound to " + drv +
                           "; vfio-pci needs every device of the group on vfio-pci or unbound");
    }
  }
  return {};
}

Status VfioBinder::probe_into(const std::string& addr, const std::string& driver) {
  Status probe = sysfs_->write("bus/pci/drivers_probe", addr);
  if (driver_of(addr) == driver) return {};
  Status bind = sysfs_->write(drv_dir(driver) + "/bind", addr);
  const std::string now = driver_of(addr);
  if (now == driver) return {};
  std::string why = now.empty() ? "it has no driver" : "it is on " + now;
  if (!probe) why += "; " + probe.error();
  if (!bind) why += "; " + bind.error();
  return Status::error(driver + " did not take PCI device " + addr + " (" + why + ")");
}

Status VfioBinder::restore(const std::string& addr, const std::string& driver,
                           const std::string& override_value) {
  const std::string cur = driver_of(addr);
  if (!cur.empty() && cur != driver) {
    if (auto st = sysfs_->write(drv_dir(cur) + "/unbind", addr); !st) return st;
  }
  // The kernel clears driver_override on an empty line.
  if (override_of(addr) != override_value) {
    if (auto st = sysfs_->write(dev_dir(addr) + "/driver_override",
                                override_value.empty() ? "\n" : override_value);
        !st) {
      return st;
    }
  }
  if (!driver.empty() && driver_of(addr) != driver) return probe_into(addr, driver);
  return {};
}

Result<VfioBinding> VfioBinder::bind(const std::string& dev) {
  using R = Result<VfioBinding>;
  auto addr_r = resolve(dev);
  if (!addr_r) return R::error(addr_r.error());
  const std::string addr = *addr_r;
  VfioBinding b;
  b.pci_address = addr;
  if (!normalize_pci_address(dev)) b.interface = dev;

  if (!sysfs_->exists(drv_dir(kVfioDriver))) {
    return R::error("cannot bind " + addr + ": the vfio-pci driver is not loaded (no " +
                    sysfs_->path(drv_dir(kVfioDriver)) + "); run 'modprobe vfio-pci'");
  }
  b.original_driver = driver_of(addr);
  if (b.original_driver == kVfioDriver) {
    b.was_bound = true;
    b.iommu_group = sysfs_->link_name(dev_dir(addr) + "/iommu_group").value_or("");
    return b;
  }
  if (!sysfs_->exists(dev_dir(addr) + "/driver_override")) {
    return R::error("cannot bind " + addr + ": the kernel has no driver_override for it (no " +
                    sysfs_->path(dev_dir(addr) + "/driver_override") + "; Linux 3.16 or later needed)");
  }
  if (sysfs_->list("kernel/iommu_groups").empty()) {
    return R::error("cannot bind " + addr + " to vfio-pci: no IOMMU (" +
                    sysfs_->path("kernel/iommu_groups") +
                    " is empty or missing); enable VT-d/AMD-Vi in the firmware and boot with "
                    "intel_iommu=on or amd_iommu=on");
  }
  auto group = sysfs_->link_name(dev_dir(addr) + "/iommu_group");
  if (!group) {
    return R::error("cannot bind " + addr + " to vfio-pci: the device has no IOMMU group (no " +
                    sysfs_->path(dev_dir(addr) + "/iommu_group") + ")");
  }
  b.iommu_group = *group;
  if (auto st = check_not_in_use(addr); !st) return R::error("cannot bind: " + st.error());
  if (auto st = check_group(addr, *group); !st) return R::error("cannot bind: " + st.error());
  b.original_override = override_of(addr);

  if (!b.original_driver.empty()) {
    if (auto st = sysfs_->write(drv_dir(b.original_driver) + "/unbind", addr); !st) {
      return R::error("cannot unbind " + addr + " from " + b.original_driver + ": " + st.error());
    }
  }
  auto fail = [&](const std::string& what) -> R {
    std::string msg = "cannot bind " + addr + " to vfio-pci: " + what;
    if (auto st = restore(addr, b.original_driver, b.original_override); !st) {
      msg += "; restoring " + (b.original_driver.empty() ? std::string("its previous state")
                                                          : b.original_driver) +
             " failed too: " + st.error();
    }
    return R::error(msg);
  };
  if (auto st = sysfs_->write(dev_dir(addr) + "/driver_override", kVfioDriver); !st) {
    return fail(st.error());
  }
  if (auto st = probe_into(addr, kVfioDriver); !st) return fail(st.error());
  return b;
}

Status VfioBinder::release(const VfioBinding& b) {
  if (b.was_bound) return {};
  const std::string& addr = b.pci_address;
  if (!sysfs_->exists(dev_dir(addr))) {
    return Status::error("cannot give " + addr + " back: the device is gone (no " +
                         sysfs_->path(dev_dir(addr)) + ")");
  }
  const std::string back = b.original_driver.empty() ? "no driver" : b.original_driver;
  if (driver_of(addr) == kVfioDriver) {
    if (auto st = sysfs_->write(drv_dir(kVfioDriver) + "/unbind", addr); !st) {
      return Status::error("cannot unbind " + addr + " from vfio-pci: " + st.error());
    }
  }
  if (auto st = restore(addr, b.original_driver, b.original_override); !st) {
    std::string msg = "cannot give " + addr + " back to " + back + ": " + st.error();
    // Leave it where it was: on vfio-pci with the override set, so a release can be retried.
    const std::string cur = driver_of(addr);
    Status undo;
    if (!cur.empty() && cur != kVfioDriver) undo = sysfs_->write(drv_dir(cur) + "/unbind", addr);
    if (undo) undo = sysfs_->write(dev_dir(addr) + "/driver_override", kVfioDriver);
    if (undo && driver_of(addr) != kVfioDriver) undo = probe_into(addr, kVfioDriver);
    msg += undo ? "; it stays on vfio-pci" : "; putting it back on vfio-pci failed too: " + undo.error();
    return Status::error(msg);
  }
  return {};
}

}  // namespace vnet::uplink
