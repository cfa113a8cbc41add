// A QSBR variable for tests, freed with the object.
#pragma once

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

namespace vnet::dp::test {

class TestQsbr {
 public:
  explicit TestQsbr(uint32_t max_threads) {
    const size_t sz = rte_rcu_qsbr_get_memsize(max_threads);
    v_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("test_qsbr", sz, RTE_CACHE_LINE_SIZE));
    if (v_ != nullptr) rte_rcu_qsbr_init(v_, max_threads);
  }
  ~TestQsbr() { rte_free(v_); }
  TestQsbr(const TestQsbr&) = delete;
  TestQsbr& operator=(const TestQsbr&) = delete;
  rte_rcu_qsbr* get() const { return v_; }

 private:
  rte_rcu_qsbr* v_ = nullptr;
};

}  // namespace vnet::dp::test
