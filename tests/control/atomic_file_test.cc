#include "control/atomic_file.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/control/temp_dir.h"

namespace vnet::ctl {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

size_t count_entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(AtomicFile, WritesNewFileWithMode) {
  TempDir tmp;
  const fs::path p = tmp.path() / "a.xml";
  ASSERT_TRUE(atomic_write_file(p, "hello\n", 0600).ok());
  auto content = read_file(p);
  ASSERT_TRUE(content.ok()) << content.error();
  EXPECT_EQ(*content, "hello\n");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(count_entries(tmp.path()), 1u) << "no temporary file may be left behind";
}

TEST(AtomicFile, ReplacesExistingContentCompletely) {
  TempDir tmp;
  const fs::path p = tmp.path() / "a.xml";
  ASSERT_TRUE(atomic_write_file(p, std::string(10000, 'x')).ok());
  ASSERT_TRUE(atomic_write_file(p, "short").ok());
  EXPECT_EQ(*read_file(p), "short");
  EXPECT_EQ(count_entries(tmp.path()), 1u);
}

TEST(AtomicFile, EmptyContent) {
  TempDir tmp;
  const fs::path p = tmp.path() / "marker";
  ASSERT_TRUE(atomic_write_file(p, "", 0644).ok());
  EXPECT_TRUE(fs::exists(p));
  EXPECT_EQ(fs::file_size(p), 0u);
}

TEST(AtomicFile, FailsInMissingDirectoryAndLeavesNothing) {
  TempDir tmp;
  auto st = atomic_write_file(tmp.path() / "nodir" / "a.xml", "x");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error().find("nodir"), std::string::npos) << st.error();
  EXPECT_EQ(count_entries(tmp.path()), 0u);
}

TEST(AtomicFile, FailsWhenTargetIsADirectory) {
  TempDir tmp;
  fs::create_directory(tmp.path() / "a.xml");
  auto st = atomic_write_file(tmp.path() / "a.xml", "x");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(count_entries(tmp.path()), 1u) << "the temporary must be removed on failure";
}

TEST(AtomicFile, RemoveDurable) {
  TempDir tmp;
  const fs::path p = tmp.path() / "a";
  ASSERT_TRUE(atomic_write_file(p, "x").ok());
  EXPECT_TRUE(remove_file_durable(p).ok());
  EXPECT_FALSE(fs::exists(p));
  EXPECT_TRUE(remove_file_durable(p).ok()) << "removing a missing file is success";
}

TEST(AtomicFile, ReadFileErrorLooksLikeVirsh) {
  TempDir tmp;
  auto r = read_file(tmp.path() / "missing.xml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "Failed to open file '" + (tmp.path() / "missing.xml").string() +
                           "': No such file or directory");
}

TEST(AtomicFile, ReadFileOfDirectoryFails) {
  TempDir tmp;
  auto r = read_file(tmp.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("Is a directory"), std::string::npos) << r.error();
}

TEST(AtomicFile, EnsureDirCreatesParents) {
  TempDir tmp;
  const fs::path d = tmp.path() / "a" / "b" / "c";
  ASSERT_TRUE(ensure_dir(d).ok());
  EXPECT_TRUE(fs::is_directory(d));
  EXPECT_TRUE(ensure_dir(d).ok()) << "idempotent";
  std::ofstream(tmp.path() / "file") << "x";
  EXPECT_FALSE(ensure_dir(tmp.path() / "file").ok());
}

TEST(AtomicFile, RemoveStaleTemporaries) {
  TempDir tmp;
  std::ofstream(tmp.path() / ".a.xml.tmpAbC123") << "half";
  std::ofstream(tmp.path() / "a.xml") << "whole";
  std::ofstream(tmp.path() / ".hidden") << "keep";
  EXPECT_EQ(remove_stale_temporaries(tmp.path()), 1);
  EXPECT_TRUE(fs::exists(tmp.path() / "a.xml"));
  EXPECT_TRUE(fs::exists(tmp.path() / ".hidden"));
  EXPECT_FALSE(fs::exists(tmp.path() / ".a.xml.tmpAbC123"));
}

}  // namespace
}  // namespace vnet::ctl
