// Unit tests of VfioBinder against a fake sysfs tree in a temporary directory.
//
// FakeKernel is a Sysfs over that tree that also plays the kernel's part: writes
// to drivers/X/unbind, drivers/X/bind and drivers_probe move the device's
// `driver` link the way the PCI core does (driver_override wins, "\n" clears it
// and reads back as "(null)"); any path can be made to fail; every write is
// logged. The tests assert the exact sequence of writes and the final state.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "control/uplink/vfio_binder.h"

namespace vnet::uplink {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "vnet-uplink-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void put(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << content;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

using Write = std::pair<std::string, std::string>;  // (path relative to root, value)

class FakeKernel : public Sysfs {
 public:
  explicit FakeKernel(const fs::path& root) : Sysfs(root.string()), root_(root) {}

  // The driver a plain probe picks for a device (its id table match).
  std::map<std::string, std::string> native;
  std::set<std::string> fail;  // relative paths whose writes fail with EIO
  std::vector<Write>* log = nullptr;

  Status write(const std::string& rel, const std::string& value) override {
    if (log) log->emplace_back(rel, value);
    if (fail.count(rel)) return Status::error("writing '" + value + "' to " + path(rel) + " failed: Input/output error");
    if (rel.ends_with("/driver_override")) {
      const bool clear = value == "\n" || value.empty();
      return Sysfs::write(rel, clear ? "(null)\n" : value + "\n");
    }
    if (auto st = Sysfs::write(rel, value); !st) return st;
    const std::string& addr = value;
    const fs::path dev = root_ / "bus/pci/devices" / addr;
    const fs::path link = dev / "driver";
    auto current = [&]() -> std::string {
      std::error_code ec;
      return fs::is_symlink(fs::symlink_status(link, ec)) ? fs::read_symlink(link).filename().string() : "";
    };
    auto attach = [&](const std::string& drv) {
      fs::create_directory_symlink(root_ / "bus/pci/drivers" / drv, link);
    };
    const std::string prefix = "bus/pci/drivers/";
    if (rel.starts_with(prefix) && rel.ends_with("/unbind")) {
      const std::string drv = rel.substr(prefix.size(), rel.size() - prefix.size() - 7);
      if (current() != drv) return Status::error("unbind: No such device");
      fs::remove(link);
      return {};
    }
    const std::string override_value = slurp(dev / "driver_override");
    const std::string ovr = override_value == "(null)\n" ? "" : override_value.substr(0, override_value.size() - 1);
    if (rel.starts_with(prefix) && rel.ends_with("/bind")) {
      const std::string drv = rel.substr(prefix.size(), rel.size() - prefix.size() - 5);
      if (!current().empty()) return Status::error("bind: Device or resource busy");
      if (ovr.empty() ? native[addr] != drv : ovr != drv) return Status::error("bind: No such device");
      attach(drv);
      return {};
    }
    if (rel == "bus/pci/drivers_probe") {
      if (!current().empty()) return {};
      const std::string drv = ovr.empty() ? native[addr] : ovr;
      if (!drv.empty() && fs::exists(root_ / "bus/pci/drivers" / drv)) attach(drv);
      return {};
    }
    return {};
  }

 private:
  fs::path root_;
};

constexpr const char* kNic = "0000:03:00.0";

class VfioBinderTest : public testing::Test {
 protected:
  void SetUp() override {
    put(root() / "bus/pci/drivers_probe", "");
    add_driver("ixgbe");
    add_driver("vfio-pci");
    add_device(kNic, "ixgbe", "12");
    add_netdev(kNic, "eth1", "0x1002");
  }

  fs::path root() const { return tmp_.path(); }
  void add_driver(const std::string& drv) {
    put(root() / "bus/pci/drivers" / drv / "bind", "");
    put(root() / "bus/pci/drivers" / drv / "unbind", "");
  }
  // A PCI function as the kernel shows it: the real directory under devices/,
  // a bus/pci/devices link to it, its driver and iommu_group links.
  void add_device(const std::string& addr, const std::string& drv, const std::string& group) {
    const fs::path real = root() / "devices/pci0000:00" / addr;
    put(real / "driver_override", "(null)\n");
    put(real / "vendor", "0x8086\n");
    fs::create_directories(root() / "bus/pci/devices");
    fs::create_directory_symlink(real, root() / "bus/pci/devices" / addr);
    if (!drv.empty()) fs::create_directory_symlink(root() / "bus/pci/drivers" / drv, real / "driver");
    native_[addr] = drv;
    if (!group.empty()) {
      fs::create_directories(root() / "kernel/iommu_groups" / group / "devices");
      fs::create_directory_symlink(root() / "kernel/iommu_groups" / group, real / "iommu_group");
      fs::create_directory_symlink(real, root() / "kernel/iommu_groups" / group / "devices" / addr);
    }
  }
  void add_netdev(const std::string& addr, const std::string& ifname, const std::string& flags) {
    const fs::path real = root() / "devices/pci0000:00" / addr / "net" / ifname;
    put(real / "flags", flags + "\n");
    fs::create_directories(root() / "class/net" / ifname);
    fs::create_directory_symlink(root() / "devices/pci0000:00" / addr,
                                 root() / "class/net" / ifname / "device");
  }

  VfioBinder binder(std::set<std::string> fail = {}) {
    auto k = std::make_unique<FakeKernel>(root());
    k->native = native_;
    k->fail = std::move(fail);
    k->log = &writes_;
    return VfioBinder(std::move(k));
  }
  std::string driver(const std::string& addr = kNic) const {
    std::error_code ec;
    const fs::path link = root() / "bus/pci/devices" / addr / "driver";
    return fs::is_symlink(fs::symlink_status(link, ec)) ? fs::read_symlink(link).filename().string() : "";
  }
  std::string override_of(const std::string& addr = kNic) const {
    return slurp(root() / "bus/pci/devices" / addr / "driver_override");
  }
  void expect_untouched() {
    EXPECT_EQ(driver(), "ixgbe");
    EXPECT_EQ(override_of(), "(null)\n");
  }

  TempDir tmp_;
  std::map<std::string, std::string> native_;
  std::vector<Write> writes_;
};

const std::string kDev = std::string("bus/pci/devices/") + kNic;

TEST_F(VfioBinderTest, NormalizesPciAddresses) {
  EXPECT_EQ(normalize_pci_address("0000:03:00.0"), "0000:03:00.0");
  EXPECT_EQ(normalize_pci_address("03:00.1"), "0000:03:00.1");
  EXPECT_EQ(normalize_pci_address("0000:AF:1F.7"), "0000:af:1f.7");
  EXPECT_FALSE(normalize_pci_address("0000:03:00.8"));
  EXPECT_FALSE(normalize_pci_address("eth1"));
  EXPECT_FALSE(normalize_pci_address("0000-03:00.0"));
  EXPECT_FALSE(normalize_pci_address(""));
}

TEST_F(VfioBinderTest, ResolvesByAddressAndByInterfaceName) {
  auto b = binder();
  EXPECT_EQ(*b.resolve("0000:03:00.0"), kNic);
  EXPECT_EQ(*b.resolve("03:00.0"), kNic);
  EXPECT_EQ(*b.resolve("eth1"), kNic);
  // virtio-net: class/net/IF/device points at virtio0 below the PCI function.
  add_device("0000:00:04.0", "virtio-pci", "3");
  fs::create_directories(root() / "devices/pci0000:00/0000:00:04.0/virtio0");
  fs::create_directories(root() / "class/net/ens4");
  fs::create_directory_symlink(root() / "devices/pci0000:00/0000:00:04.0/virtio0",
                               root() / "class/net/ens4/device");
  EXPECT_EQ(*b.resolve("ens4"), "0000:00:04.0");
}

TEST_F(VfioBinderTest, ResolveErrors) {
  auto b = binder();
  auto r = b.resolve("0000:09:00.0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "PCI device 0000:09:00.0 not found (no " + root().string() +
                           "/bus/pci/devices/0000:09:00.0)");
  r = b.resolve("eth9");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "no device 'eth9': not a PCI address (dddd:bb:ss.f) and no interface of that "
                       "name (no " + root().string() + "/class/net/eth9)");
  fs::create_directories(root() / "class/net/veth0");
  r = b.resolve("veth0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "interface 'veth0' is not backed by a PCI device (no " + root().string() +
                           "/class/net/veth0/device); use it as a kernel interface uplink instead");
  EXPECT_FALSE(b.resolve("../x").ok());
  EXPECT_TRUE(writes_.empty());
}

TEST_F(VfioBinderTest, BindsThenRestores) {
  auto b = binder();
  auto r = b.bind("eth1");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->pci_address, kNic);
  EXPECT_EQ(r->interface, "eth1");
  EXPECT_EQ(r->original_driver, "ixgbe");
  EXPECT_EQ(r->original_override, "");
  EXPECT_EQ(r->iommu_group, "12");
  EXPECT_FALSE(r->was_bound);
  EXPECT_EQ(driver(), "vfio-pci");
  EXPECT_EQ(override_of(), "vfio-pci\n");
  const std::vector<Write> bind_writes = {
      {"bus/pci/drivers/ixgbe/unbind", kNic},
      {kDev + "/driver_override", "vfio-pci"},
      {"bus/pci/drivers_probe", kNic},
  };
  EXPECT_EQ(writes_, bind_writes);

  writes_.clear();
  auto st = b.release(*r);
  ASSERT_TRUE(st.ok()) << st.error();
  const std::vector<Write> release_writes = {
      {"bus/pci/drivers/vfio-pci/unbind", kNic},
      {kDev + "/driver_override", "\n"},
      {"bus/pci/drivers_probe", kNic},
  };
  EXPECT_EQ(writes_, release_writes);
  expect_untouched();
}

TEST_F(VfioBinderTest, FallsBackToTheDriversBindFile) {
  // A probe that does not attach (e.g. an old kernel): bind explicitly.
  auto b = binder();
  auto& kernel = static_cast<FakeKernel&>(b.sysfs());
  kernel.fail = {"bus/pci/drivers_probe"};
  auto r = b.bind(kNic);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->interface, "");
  EXPECT_EQ(driver(), "vfio-pci");
  EXPECT_EQ(writes_.back(), Write("bus/pci/drivers/vfio-pci/bind", kNic));
  writes_.clear();
  ASSERT_TRUE(b.release(*r).ok());
  EXPECT_EQ(writes_.back(), Write("bus/pci/drivers/ixgbe/bind", kNic));
  expect_untouched();
}

TEST_F(VfioBinderTest, KeepsAnEarlierDriverOverride) {
  put(root() / "devices/pci0000:00" / kNic / "driver_override", "ixgbe\n");
  auto b = binder();
  auto r = b.bind(kNic);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->original_override, "ixgbe");
  ASSERT_TRUE(b.release(*r).ok());
  EXPECT_EQ(driver(), "ixgbe");
  EXPECT_EQ(override_of(), "ixgbe\n");
}

TEST_F(VfioBinderTest, UnboundDeviceStaysUnboundAfterRelease) {
  add_device("0000:03:00.1", "", "13");
  auto b = binder();
  auto r = b.bind("0000:03:00.1");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->original_driver, "");
  EXPECT_EQ(driver("0000:03:00.1"), "vfio-pci");
  EXPECT_EQ(writes_.front().first, "bus/pci/devices/0000:03:00.1/driver_override");
  ASSERT_TRUE(b.release(*r).ok());
  EXPECT_EQ(driver("0000:03:00.1"), "");
  EXPECT_EQ(override_of("0000:03:00.1"), "(null)\n");
}

TEST_F(VfioBinderTest, AlreadyOnVfioIsLeftAlone) {
  add_device("0000:03:00.1", "vfio-pci", "13");
  auto b = binder();
  auto r = b.bind("0000:03:00.1");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->was_bound);
  ASSERT_TRUE(b.release(*r).ok());
  EXPECT_TRUE(writes_.empty());
  EXPECT_EQ(driver("0000:03:00.1"), "vfio-pci");
}

TEST_F(VfioBinderTest, VfioNotLoaded) {
  fs::remove_all(root() / "bus/pci/drivers/vfio-pci");
  auto b = binder();
  auto r = b.bind("eth1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "cannot bind 0000:03:00.0: the vfio-pci driver is not loaded (no " +
                           root().string() + "/bus/pci/drivers/vfio-pci); run 'modprobe vfio-pci'");
  EXPECT_TRUE(writes_.empty());
  expect_untouched();
}

TEST_F(VfioBinderTest, NoIommu) {
  fs::remove_all(root() / "kernel/iommu_groups");
  auto b = binder();
  auto r = b.bind(kNic);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "cannot bind 0000:03:00.0 to vfio-pci: no IOMMU (" + root().string() +
                           "/kernel/iommu_groups is empty or missing); enable VT-d/AMD-Vi in the "
                           "firmware and boot with intel_iommu=on or amd_iommu=on");
  EXPECT_TRUE(writes_.empty());
  expect_untouched();
}

TEST_F(VfioBinderTest, DeviceWithoutIommuGroup) {
  add_device("0000:05:00.0", "ixgbe", "");
  auto b = binder();
  auto r = b.bind("0000:05:00.0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "cannot bind 0000:05:00.0 to vfio-pci: the device has no IOMMU group (no " +
                           root().string() + "/bus/pci/devices/0000:05:00.0/iommu_group)");
  EXPECT_TRUE(writes_.empty());
}

TEST_F(VfioBinderTest, MissingDevice) {
  auto b = binder();
  auto r = b.bind("0000:42:00.0");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("PCI device 0000:42:00.0 not found"), std::string::npos) << r.error();
  EXPECT_TRUE(writes_.empty());
}

TEST_F(VfioBinderTest, InterfaceUpMeansInUse) {
  put(root() / "devices/pci0000:00" / kNic / "net/eth1/flags", "0x1003\n");
  auto b = binder();
  auto r = b.bind("eth1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "cannot bind: PCI device 0000:03:00.0 is in use: its interface eth1 is up; "
                       "take it down first ('ip link set eth1 down')");
  EXPECT_TRUE(writes_.empty());
  expect_untouched();
}

TEST_F(VfioBinderTest, GroupMateOnAKernelDriver) {
  add_device("0000:03:00.1", "ixgbe", "");
  fs::create_directory_symlink(root() / "devices/pci0000:00/0000:03:00.1",
                               root() / "kernel/iommu_groups/12/devices/0000:03:00.1");
  add_device("0000:00:01.0", "pcieport", "");
  fs::create_directory_symlink(root() / "devices/pci0000:00/0000:00:01.0",
                               root() / "kernel/iommu_groups/12/devices/0000:00:01.0");
  add_driver("pcieport");
  auto b = binder();
  auto r = b.bind(kNic);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "cannot bind: PCI device 0000:03:00.0 shares IOMMU group 12 with 0000:03:00.1, "
                       "which is bound to ixgbe; vfio-pci needs every device of the group on "
                       "vfio-pci or unbound");
  EXPECT_TRUE(writes_.empty());
  expect_untouched();
}

TEST_F(VfioBinderTest, UnbindFailureChangesNothing) {
  auto b = binder({"bus/pci/drivers/ixgbe/unbind"});
  auto r = b.bind(kNic);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rfind("cannot unbind 0000:03:00.0 from ixgbe: ", 0), 0u) << r.error();
  expect_untouched();
}

TEST_F(VfioBinderTest, OverrideFailureRebindsTheOriginalDriver) {
  auto b = binder({kDev + "/driver_override"});
  auto r = b.bind(kNic);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rfind("cannot bind 0000:03:00.0 to vfio-pci: writing 'vfio-pci'", 0), 0u)
      << r.error();
  EXPECT_EQ(driver(), "ixgbe");
  EXPECT_EQ(writes_.front(), Write("bus/pci/drivers/ixgbe/unbind", kNic));
}

TEST_F(VfioBinderTest, VfioRefusingTheDeviceRestoresEverything) {
  auto b = binder({"bus/pci/drivers_probe", "bus/pci/drivers/vfio-pci/bind"});
  auto r = b.bind(kNic);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rfind("cannot bind 0000:03:00.0 to vfio-pci: vfio-pci did not take PCI device "
                            "0000:03:00.0 (it has no driver; ",
                            0),
            0u)
      << r.error();
  // The probe file fails, so the original driver comes back through its bind file.
  EXPECT_EQ(writes_.back(), Write("bus/pci/drivers/ixgbe/bind", kNic));
  expect_untouched();
}

TEST_F(VfioBinderTest, ReleaseFailureKeepsTheDeviceOnVfio) {
  auto b = binder();
  auto r = b.bind(kNic);
  ASSERT_TRUE(r.ok()) << r.error();
  auto& kernel = static_cast<FakeKernel&>(b.sysfs());

  kernel.fail = {"bus/pci/drivers/vfio-pci/unbind"};
  auto st = b.release(*r);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().rfind("cannot unbind 0000:03:00.0 from vfio-pci: ", 0), 0u) << st.error();
  EXPECT_EQ(driver(), "vfio-pci");
  EXPECT_EQ(override_of(), "vfio-pci\n");

  // ixgbe refuses the device: it goes back to vfio-pci and the release can be retried.
  kernel.fail = {"bus/pci/drivers_probe", "bus/pci/drivers/ixgbe/bind"};
  st = b.release(*r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("cannot give 0000:03:00.0 back to ixgbe: ixgbe did not take"),
            std::string::npos)
      << st.error();
  EXPECT_NE(st.error().find("; it stays on vfio-pci"), std::string::npos) << st.error();
  EXPECT_EQ(driver(), "vfio-pci");
  EXPECT_EQ(override_of(), "vfio-pci\n");

  kernel.fail = {};
  st = b.release(*r);
  ASSERT_TRUE(st.ok()) << st.error();
  expect_untouched();
}

TEST_F(VfioBinderTest, ReleaseOfAVanishedDevice) {
  auto b = binder();
  auto r = b.bind(kNic);
  ASSERT_TRUE(r.ok()) << r.error();
  fs::remove(root() / "bus/pci/devices" / kNic);
  auto st = b.release(*r);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "cannot give 0000:03:00.0 back: the device is gone (no " + root().string() +
                            "/bus/pci/devices/0000:03:00.0)");
}

TEST_F(VfioBinderTest, RealSysfsWriteNeedsAnExistingAttribute) {
  Sysfs s(root().string() + "/");
  EXPECT_EQ(s.root(), root().string());
  auto st = s.write("bus/pci/nope", "x");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "cannot open " + root().string() + "/bus/pci/nope for writing: No such file or directory");
  EXPECT_FALSE(fs::exists(root() / "bus/pci/nope"));
  ASSERT_TRUE(s.write("bus/pci/drivers_probe", kNic).ok());
  EXPECT_EQ(*s.read("bus/pci/drivers_probe"), kNic);
  EXPECT_EQ(*s.link_name(kDev + "/driver"), "ixgbe");
  EXPECT_FALSE(s.link_name(kDev + "/vendor"));
}

}  // namespace
}  // namespace vnet::uplink
