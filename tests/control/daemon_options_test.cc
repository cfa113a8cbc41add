#include "control/daemon_options.h"

#include <gtest/gtest.h>

namespace vnet::ctl {
namespace {

TEST(DaemonOptions, DataplaneDefaults) {
  auto o = parse_daemon_options({});
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_TRUE(o->dataplane);
  EXPECT_TRUE(o->pmd_cores.empty());
  EXPECT_FALSE(o->hugepages.has_value());
  EXPECT_EQ(o->pmd_idle_sleep_us, 0u);
}

TEST(DaemonOptions, DataplaneOptions) {
  auto o = parse_daemon_options({"--pmd-cores", "2-3,5", "--eal-args", "--log-level=8  --vdev=net_null0",
                                 "--hugepages", "no", "--pmd-idle-sleep-us", "50", "--no-dataplane"});
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_EQ(o->pmd_cores, (std::vector<unsigned>{2, 3, 5}));
  EXPECT_EQ(o->eal_args, (std::vector<std::string>{"--log-level=8", "--vdev=net_null0"}));
  EXPECT_EQ(o->hugepages, false);
  EXPECT_EQ(o->pmd_idle_sleep_us, 50u);
  EXPECT_FALSE(o->dataplane);
  EXPECT_EQ(parse_daemon_options({"--hugepages", "maybe"}).error(), "invalid --hugepages 'maybe' (auto, yes, no)");
  EXPECT_EQ(parse_daemon_options({"--pmd-cores", "3-1"}).error(), "--pmd-cores: invalid CPU list '3-1'");
}

TEST(DaemonOptions, DefaultUplink) {
  EXPECT_EQ(parse_daemon_options({})->default_uplink, "");
  auto o = parse_daemon_options({"--uplink", "eth1"});
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_EQ(o->default_uplink, "eth1");
  EXPECT_EQ(parse_daemon_options({"--uplink", "a/b"}).error(), "invalid --uplink 'a/b' (an interface name)");
  EXPECT_FALSE(parse_daemon_options({"--uplink", "0123456789abcdef"}).ok());  // over IFNAMSIZ-1
}

TEST(DaemonOptions, FdbCapacity) {
  EXPECT_EQ(parse_daemon_options({})->fdb_capacity, 65536u);
  auto o = parse_daemon_options({"--fdb-capacity", "201024"});
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_EQ(o->fdb_capacity, 201024u);
  EXPECT_EQ(parse_daemon_options({"--fdb-capacity", "100"}).error(), "--fdb-capacity must be in 1024..67108864");
  EXPECT_FALSE(parse_daemon_options({"--fdb-capacity", "67108865"}).ok());
}

TEST(DaemonOptions, NatSessions) {
  EXPECT_EQ(parse_daemon_options({})->nat_sessions, 262144u);
  auto o = parse_daemon_options({"--nat-sessions", "1048576"});
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_EQ(o->nat_sessions, 1048576u);
  EXPECT_EQ(parse_daemon_options({"--nat-sessions", "1000"}).error(), "--nat-sessions must be in 1024..16777216");
  EXPECT_FALSE(parse_daemon_options({"--nat-sessions", "16777217"}).ok());
}

TEST(DaemonOptions, PciAndSysfsRoot) {
  auto d = parse_daemon_options({});
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_FALSE(d->pci);
  EXPECT_TRUE(d->flow_cache);
  EXPECT_FALSE(parse_daemon_options({"--no-flow-cache"})->flow_cache);
  EXPECT_EQ(d->sysfs_root, "/sys");
  auto o = parse_daemon_options({"--pci", "--sysfs-root", "/tmp/fake-sys"});
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_TRUE(o->pci);
  EXPECT_EQ(o->sysfs_root, "/tmp/fake-sys");
  EXPECT_EQ(parse_daemon_options({"--sysfs-root", "sys"}).error(), "invalid --sysfs-root 'sys' (an absolute path)");
}

TEST(DaemonOptions, CpuLists) {
  EXPECT_EQ(*parse_cpu_list("1"), (std::vector<unsigned>{1}));
  EXPECT_EQ(*parse_cpu_list("0-2,7"), (std::vector<unsigned>{0, 1, 2, 7}));
  EXPECT_FALSE(parse_cpu_list("").ok());
  EXPECT_FALSE(parse_cpu_list("a").ok());
  EXPECT_FALSE(parse_cpu_list("1,,2").ok());
  EXPECT_FALSE(parse_cpu_list("5000").ok());
  EXPECT_EQ(parse_cpu_list("1,1").error(), "CPU 1 listed twice");
}

TEST(DaemonOptions, EalFilePrefixFollowsTheRunDir) {
  EXPECT_EQ(eal_file_prefix("/run/vnet"), eal_file_prefix("/run/vnet/"));
  EXPECT_EQ(eal_file_prefix("/run/vnet"), eal_file_prefix("/run/../run/vnet"));
  EXPECT_NE(eal_file_prefix("/run/vnet"), eal_file_prefix("/tmp/other"));
  EXPECT_EQ(eal_file_prefix("/run/vnet").substr(0, 5), "vnet-");
}

}  // namespace
}  // namespace vnet::ctl
