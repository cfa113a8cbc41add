// main() for T1 test binaries: one EAL per binary, started before the tests
// run, with a --file-prefix unique to the binary, torn down at exit.
#include <gtest/gtest.h>
#include <rte_eal.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "dataplane/eal.h"

namespace {

class EalEnvironment : public testing::Environment {
 public:
  explicit EalEnvironment(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    std::vector<std::string> args = {
        "dp_test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
        "--file-prefix=" + prefix_, "--log-level=lib.eal:warning",
        "--log-level=lib.vhost.config:warning",
    };
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = rte_eal_init(static_cast<int>(args.size()), argv.data());
    ASSERT_GE(rc, 0) << "rte_eal_init failed";
    up_ = true;
  }

  void TearDown() override {
    if (!up_) return;
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    vnet::dp::eal_cleanup();
    EXPECT_FALSE(std::filesystem::exists(runtime_dir)) << "eal_cleanup left " << runtime_dir;
  }

 private:
  std::string prefix_;
  bool up_ = false;
};

#ifdef VNET_DP_TEST_REQUIRE_PROGRAM
bool in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string candidate = dirs.substr(start, end - start) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}
#endif

}  // namespace

int main(int argc, char** argv) {
#ifdef VNET_DP_TEST_REQUIRE_PROGRAM
  // Binaries that drive a peer program exit 77 (meson SKIP) without it.
  if (!in_path(VNET_DP_TEST_REQUIRE_PROGRAM)) {
    std::printf("SKIP: %s not found in PATH\n", VNET_DP_TEST_REQUIRE_PROGRAM);
    return 77;
  }
#endif
  testing::InitGoogleTest(&argc, argv);
  std::string name = argv[0];
  if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  testing::AddGlobalTestEnvironment(new EalEnvironment(name));
  return RUN_ALL_TESTS();
}
