#include "control/state_store.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "control/atomic_file.h"
#include "tests/control/temp_dir.h"

namespace vnet::ctl {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

TEST(StateStore, OpenCreatesLayout) {
  TempDir tmp;
  StateStore store(tmp.path() / "state");
  ASSERT_TRUE(store.open().ok());
  EXPECT_TRUE(fs::is_directory(tmp.path() / "state" / "networks"));
  EXPECT_TRUE(fs::is_directory(tmp.path() / "state" / "autostart"));
}

TEST(StateStore, SecondOpenOfSameDirIsRefused) {
  TempDir tmp;
  StateStore a(tmp.path());
  ASSERT_TRUE(a.open().ok());
  StateStore b(tmp.path());
  auto st = b.open();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "state directory '" + tmp.path().string() + "' is in use by another vnetd");
}

TEST(StateStore, SaveListRemove) {
  TempDir tmp;
  StateStore store(tmp.path());
  ASSERT_TRUE(store.open().ok());
  ASSERT_TRUE(store.save_network("b", "<network><name>b</name></network>\n").ok());
  ASSERT_TRUE(store.save_network("a", "<network><name>a</name></network>\n").ok());
  auto list = store.list_networks();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].file_name, "a");
  EXPECT_EQ(list[1].file_name, "b");
  EXPECT_EQ(list[1].xml, "<network><name>b</name></network>\n");
  EXPECT_TRUE(list[0].read_error.empty());
  EXPECT_EQ(store.network_path("a"), tmp.path() / "networks" / "a.xml");

  ASSERT_TRUE(store.remove_network("a").ok());
  list = store.list_networks();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].file_name, "b");
}

TEST(StateStore, IgnoresNonXmlAndReportsUnreadable) {
  TempDir tmp;
  StateStore store(tmp.path());
  ASSERT_TRUE(store.open().ok());
  std::ofstream(tmp.path() / "networks" / "README") << "not a network";
  fs::create_directory(tmp.path() / "networks" / "dir.xml");
  auto list = store.list_networks();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].file_name, "dir");
  EXPECT_FALSE(list[0].read_error.empty());
}

TEST(StateStore, Autostart) {
  TempDir tmp;
  StateStore store(tmp.path());
  ASSERT_TRUE(store.open().ok());
  EXPECT_FALSE(store.has_autostart("default"));
  ASSERT_TRUE(store.set_autostart("default", true).ok());
  EXPECT_TRUE(store.has_autostart("default"));
  EXPECT_TRUE(fs::exists(tmp.path() / "autostart" / "default"));
  EXPECT_EQ(store.list_autostart(), std::set<std::string>{"default"});
  ASSERT_TRUE(store.set_autostart("default", false).ok());
  EXPECT_FALSE(store.has_autostart("default"));
  EXPECT_TRUE(store.list_autostart().empty());
  EXPECT_TRUE(store.set_autostart("default", false).ok()) << "idempotent";
}

TEST(StateStore, OpenRemovesStaleTemporaries) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "networks");
  std::ofstream(tmp.path() / "networks" / ".default.xml.tmpXYZ123") << "<netw";
  StateStore store(tmp.path());
  ASSERT_TRUE(store.open().ok());
  EXPECT_TRUE(store.list_networks().empty());
  EXPECT_FALSE(fs::exists(tmp.path() / "networks" / ".default.xml.tmpXYZ123"));
}

TEST(StateStore, RefusesUnsafeNames) {
  TempDir tmp;
  StateStore store(tmp.path());
  ASSERT_TRUE(store.open().ok());
  EXPECT_FALSE(store.save_network("../evil", "x").ok());
  EXPECT_FALSE(store.save_network("", "x").ok());
  EXPECT_FALSE(store.set_autostart("..", true).ok());
  EXPECT_TRUE(is_safe_file_name("default"));
  EXPECT_TRUE(is_safe_file_name("net with 'quotes'"));
  EXPECT_FALSE(is_safe_file_name("a/b"));
}

}  // namespace
}  // namespace vnet::ctl
