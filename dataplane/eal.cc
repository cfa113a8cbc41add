#include "dataplane/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string_view>

namespace vnet::dp {

unsigned free_hugepages_2mb() {
  std::ifstream f("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
  unsigned n = 0;
  if (!(f >> n)) return 0;
  return n;
}

namespace {

std::vector<unsigned> allowed_cpus() {
  std::vector<unsigned> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (unsigned c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

}  // namespace

Result<std::vector<std::string>> eal_args(const EalOptions& o) {
  std::vector<std::string> args{o.program.empty() ? "vnetd" : o.program};
  args.push_back("--file-prefix=" +
                 (o.file_prefix.empty() ? "vnet-" + std::to_string(getpid()) : o.file_prefix));
  const std::vector<unsigned> cpus = allowed_cpus();
  const unsigned main_cpu = cpus.front();
  std::vector<unsigned> pmd = o.pmd_cores;
  if (pmd.empty()) {
    if (o.pmd_count == 0) return Status{StatusCode::kInvalidArgument, "eal: pmd_count is 0"};
    std::vector<unsigned> others(cpus.begin() + 1, cpus.end());
    for (unsigned i = 0; i < o.pmd_count; ++i)
      pmd.push_back(others.empty() ? main_cpu : others[i % others.size()]);
  }
  if (pmd.size() + 1 > RTE_MAX_LCORE) return Status{StatusCode::kInvalidArgument, "eal: too many PMD cores"};
  std::string lcores = "--lcores=0@" + std::to_string(main_cpu);
  for (size_t i = 0; i < pmd.size(); ++i) {
    if (pmd[i] >= CPU_SETSIZE) return Status{StatusCode::kInvalidArgument, "eal: bad cpu id"};
    lcores += "," + std::to_string(i + 1) + "@" + std::to_string(pmd[i]);
  }
  args.push_back(lcores);
  if (!o.pci) {
    args.push_back("--no-pci");
  } else if (o.pci_allow.empty()) {
    args.push_back("-a");
    args.push_back(kNoPciDevice);
  } else {
    for (const std::string& a : o.pci_allow) {
      args.push_back("-a");
      args.push_back(a);
    }
  }
  const bool huge = o.hugepages.value_or(free_hugepages_2mb() > 0);
  if (!huge) {
    if (o.log) o.log("no free 2 MB hugepages: starting DPDK with --no-huge -m " +
                     std::to_string(o.no_huge_memory_mb));
    args.push_back("--no-huge");
    args.push_back("-m");
    args.push_back(std::to_string(o.no_huge_memory_mb));
  } else {
    const bool no_unlink = std::any_of(o.extra_args.begin(), o.extra_args.end(), [](const std::string& a) {
      const std::string_view v = a;
      return v == "--no-huge" || v == "--in-memory" || v.starts_with("--huge-unlink");
    });
    if (!no_unlink) args.push_back("--huge-unlink");
  }
  for (const auto& a : o.extra_args) args.push_back(a);
  return args;
}

Result<unsigned> eal_init(const EalOptions& options) {
  auto args = eal_args(options);
  if (!args) return args.status();
  if (options.log) {
    std::string line = "EAL:";
    for (const auto& a : args.value()) line += " " + a;
    options.log(line);
  }
  // rte_eal_init may keep pointers into argv for the life of the process.
  auto* storage = new std::vector<std::string>(std::move(args).value());  // intentionally leaked
  std::vector<char*> argv;
  for (auto& a : *storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(storage->size()), argv.data()) < 0)
    return Status{StatusCode::kInternal, std::string("rte_eal_init: ") + rte_strerror(rte_errno)};
  return rte_lcore_count() - 1;
}

void eal_cleanup() noexcept {
  const bool primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
  std::string dir;
  if (const char* d = rte_eal_get_runtime_dir(); d != nullptr) dir = d;
  rte_eal_cleanup();
  if (!primary || dir.empty()) return;
  const std::filesystem::path p(dir);
  if (p.parent_path().filename() != "dpdk") return;  // not <base>/dpdk/<prefix>
  std::error_code ec;
  std::filesystem::remove_all(p, ec);
}

}  // namespace vnet::dp
