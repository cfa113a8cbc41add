// vnet::uplink — binding a NIC or VF to vfio-pci for a DPDK uplink, and giving it
// back to its kernel driver when the network is destroyed.
//
// Theory of operation
//   bind(dev) takes a PCI address ("0000:03:00.0", or "03:00.0" for domain 0) or a
//   kernel interface name (resolved through class/net/IF/device). Before writing
//   anything it checks, in this order, and fails with a message saying what is
//   missing and how to fix it:
//     device exists -> vfio-pci is loaded (bus/pci/drivers/vfio-pci) -> the kernel
//     has driver_override -> the IOMMU is on (kernel/iommu_groups has entries) ->
//     the device has an iommu_group -> the device is not in use (none of its net
//     interfaces is up) -> every other device of its IOMMU group is unbound or on
//     vfio-pci/pci-stub/pcieport (otherwise vfio cannot open the group).
//   Then, as libvirt's virPCIDeviceBindToStub and dpdk-devbind do:
//     1. ADDR > bus/pci/drivers/<orig>/unbind            (if it has a driver)
//     2. "vfio-pci" > bus/pci/devices/ADDR/driver_override
//     3. ADDR > bus/pci/drivers_probe; if the driver link is not vfio-pci yet,
//        ADDR > bus/pci/drivers/vfio-pci/bind; the driver link must then be vfio-pci.
//   If any step fails, the steps already done are undone (override restored, the
//   original driver bound again), so a failed bind leaves the device as it was.
//   release(binding) reverses it: unbind from vfio-pci, restore driver_override
//   (cleared with "\n" when it was unset), then drivers_probe and, if needed,
//   drivers/<orig>/bind, and checks that the original driver has it again. A
//   device that was already on vfio-pci before bind() is left alone by both.
//
// Thread-safety
//   A VfioBinder is used by one thread (the control thread); it keeps no state
//   besides its Sysfs. Bindings are plain values the caller keeps per network.
#pragma once

#include <memory>
#include <string>

#include "control/uplink/sysfs.h"

namespace vnet::uplink {

// What bind() changed, and what release() needs to undo it.
struct VfioBinding {
  std::string pci_address;        // "0000:03:00.0"
  std::string interface;          // the kernel interface name given to bind(), or ""
  std::string original_driver;    // "" = the device had no driver
  std::string original_override;  // driver_override before bind(); "" = unset
  std::string iommu_group;        // "12"
  bool was_bound = false;         // already on vfio-pci before bind(): nothing to undo
  friend bool operator==(const VfioBinding&, const VfioBinding&) = default;
};

// "0000:03:00.0" for a full address, "0000:" + s for "bb:ss.f"; nullopt otherwise.
std::optional<std::string> normalize_pci_address(const std::string& s);

class VfioBinder {
 public:
  static constexpr const char* kVfioDriver = "vfio-pci";

  explicit VfioBinder(std::string sysfs_root = "/sys");
  explicit VfioBinder(std::unique_ptr<Sysfs> sysfs);  // tests: a fake kernel

  // The PCI address of `dev` (PCI address or interface name).
  Result<std::string> resolve(const std::string& dev) const;
  Result<VfioBinding> bind(const std::string& dev);
  Status release(const VfioBinding& binding);

  Sysfs& sysfs() { return *sysfs_; }

 private:
  std::string driver_of(const std::string& addr) const;
  std::string override_of(const std::string& addr) const;
  Status check_group(const std::string& addr, const std::string& group) const;
  Status check_not_in_use(const std::string& addr) const;
  // Back to `driver` with `override_value` ("" = unset), from whatever state the
  // device is in now. Used to roll back a failed bind() and by release().
  Status restore(const std::string& addr, const std::string& driver,
                 const std::string& override_value);
  Status probe_into(const std::string& addr, const std::string& driver);

  std::unique_ptr<Sysfs> sysfs_;
};

}  // namespace vnet::uplink
