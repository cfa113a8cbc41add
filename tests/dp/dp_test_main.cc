// main() for T1 test binaries: one EAL per binary, started before the tests
// run, with a --file-prefix unique to the binary, torn down at exit.
#include <gtest/gtest.h>
#include <rte_eal.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

class EalEnvironment : public testing::Environment {
 public:
  explicit EalEnvironment(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    std::vector<std::string> args = {
        "dp_test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
        "--file-prefix=" + prefix_, "--log-level=lib.eal:warning",
    };
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = rte_eal_init(static_cast<int>(args.size()), argv.data());
    ASSERT_GE(rc, 0) << "rte_eal_init failed";
    up_ = true;
  }

  void TearDown() override {
    if (up_) rte_eal_cleanup();
  }

 private:
  std::string prefix_;
  bool up_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  std::string name = argv[0];
  if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  testing::AddGlobalTestEnvironment(new EalEnvironment(name));
  return RUN_ALL_TESTS();
}
