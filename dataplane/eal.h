// vnet::dp — EAL bootstrap: arguments, hugepage detection, lcore layout.
//
// Theory of operation
//   eal_args() turns EalOptions into an argv for rte_eal_init, as plain data
//   (testable without starting the EAL):
//     --file-prefix   given, or "vnet-<pid>": several instances never share
//                     runtime files.
//     --lcores        lcore 0 (main/control thread) on the first CPU of our
//                     affinity; lcores 1..N (PMD workers) on `pmd_cores`, or
//                     on N CPUs other than the main one, wrapping onto the
//                     main CPU when the machine is too small (a 2-core box
//                     runs main on CPU 0 and one PMD on CPU 1; the slow-path
//                     thread is a plain thread and floats).
//     --no-pci        unless PCI ports are wanted.
//     --no-huge -m M  when hugepages are not forced on and
//                     /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages
//                     is 0, with a log line saying so. Never --in-memory
//                     (22.11 rejects it with --no-huge).
//     --huge-unlink   when hugepages are used (and the extra arguments do not
//                     say --no-huge, --in-memory or --huge-unlink already):
//                     hugepage files are unlinked once mapped, so none is
//                     left behind, even after a crash.
//   eal_init() runs rte_eal_init once with those arguments.
//   eal_cleanup() runs rte_eal_cleanup and then removes the primary
//   process's runtime directory (/var/run/dpdk/<prefix> or
//   $XDG_RUNTIME_DIR/dpdk/<prefix>), which DPDK itself leaves behind.
//
// Thread-safety
//   Call from the main thread before any other DPDK call.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/status.h"

namespace vnet::dp {

// An allow-list entry that matches no device (domain ffff does not exist).
inline constexpr const char* kNoPciDevice = "ffff:ff:1f.7";

struct EalOptions {
  std::string program = "vnetd";
  std::string file_prefix;           // empty: "vnet-<pid>"
  std::vector<unsigned> pmd_cores;   // CPU ids, one PMD worker each; empty: pmd_count CPUs
  unsigned pmd_count = 1;            // used when pmd_cores is empty
  bool pci = false;                  // false: --no-pci
  // With pci: the devices probed at start (-a each). Empty: an allow-list
  // entry no machine has, so EAL scans the PCI bus but takes no device; PCI
  // uplinks are hot-plugged later (rte_dev_probe), and devices bound to
  // vfio-pci for other DPDK applications are left alone.
  std::vector<std::string> pci_allow;
  std::optional<bool> hugepages;     // unset: auto-detect
  unsigned no_huge_memory_mb = 512;  // -m with --no-huge
  std::vector<std::string> extra_args;  // appended verbatim (e.g. --log-level=...)
  std::function<void(std::string_view)> log;  // informational lines; may be empty
};

// Free 2 MB hugepages, from sysfs (0 when unreadable).
unsigned free_hugepages_2mb();

// The argv (argv[0] included) for rte_eal_init; fails on bad CPU ids.
Result<std::vector<std::string>> eal_args(const EalOptions& options);

// rte_eal_init with eal_args(options). Returns the number of PMD lcores.
Result<unsigned> eal_init(const EalOptions& options);

// rte_eal_cleanup, then removal of this (primary) process's runtime directory.
void eal_cleanup() noexcept;

}  // namespace vnet::dp
