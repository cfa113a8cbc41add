// pin_cpu.h — pins the calling thread to one CPU (the one-core benchmarks in
// perf/natbench and perf/gwbench).
#pragma once

#include <pthread.h>
#include <sched.h>

#include <cstdio>

namespace vnet::perf {

// False (after a message on stderr) when the thread cannot run on `cpu`.
inline bool pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
    std::fprintf(stderr, "cannot pin to CPU %d\n", cpu);
    return false;
  }
  return true;
}

}  // namespace vnet::perf
