#include "dataplane/snapshot_publisher.h"

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <thread>

namespace vnet::dp {

static_assert(std::atomic<const ConfigSnapshot*>::is_always_lock_free);

Result<std::unique_ptr<SnapshotPublisher>> SnapshotPublisher::create(uint32_t max_readers) {
  if (max_readers == 0) return Status{StatusCode::kInvalidArgument, "publisher: no readers"};
  std::unique_ptr<SnapshotPublisher> p(new SnapshotPublisher());
  const size_t size = rte_rcu_qsbr_get_memsize(max_readers);
  p->qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("vnet_qsbr", size, RTE_CACHE_LINE_SIZE));
  if (p->qsbr_ == nullptr)
    return Status{StatusCode::kResourceExhausted, "publisher: qsbr allocation failed"};
  if (rte_rcu_qsbr_init(p->qsbr_, max_readers) != 0)
    return Status{StatusCode::kInternal, "publisher: rte_rcu_qsbr_init failed"};
  p->max_readers_ = max_readers;
  return p;
}

SnapshotPublisher::~SnapshotPublisher() {
  parked_.clear();
  delete active_.exchange(nullptr);
  rte_free(qsbr_);
}

void SnapshotPublisher::quiescent(uint32_t reader) noexcept { rte_rcu_qsbr_quiescent(qsbr_, reader); }
void SnapshotPublisher::online(uint32_t reader) noexcept { rte_rcu_qsbr_thread_online(qsbr_, reader); }
void SnapshotPublisher::offline(uint32_t reader) noexcept { rte_rcu_qsbr_thread_offline(qsbr_, reader); }

Status SnapshotPublisher::register_reader(uint32_t reader) {
  if (reader >= max_readers_ || rte_rcu_qsbr_thread_register(qsbr_, reader) != 0)
    return Status{StatusCode::kInvalidArgument, "publisher: bad reader id"};
  return {};
}

void SnapshotPublisher::unregister_reader(uint32_t reader) {
  rte_rcu_qsbr_thread_unregister(qsbr_, reader);
}

void SnapshotPublisher::publish(std::unique_ptr<const ConfigSnapshot> snapshot) {
  const ConfigSnapshot* old = active_.exchange(snapshot.release(), std::memory_order_acq_rel);
  if (old != nullptr) parked_.push_back({std::unique_ptr<const ConfigSnapshot>(old), rte_rcu_qsbr_start(qsbr_)});
  reclaim();
}

size_t SnapshotPublisher::reclaim() {
  size_t i = 0;
  while (i < parked_.size() && rte_rcu_qsbr_check(qsbr_, parked_[i].token, false) == 1) ++i;
  parked_.erase(parked_.begin(), parked_.begin() + static_cast<std::ptrdiff_t>(i));
  return i;
}

Status SnapshotPublisher::synchronize(std::chrono::milliseconds timeout) {
  const uint64_t token = rte_rcu_qsbr_start(qsbr_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (rte_rcu_qsbr_check(qsbr_, token, false) != 1) {
    if (std::chrono::steady_clock::now() > deadline)
      return Status{StatusCode::kTimeout, "grace period did not complete (a reader is stuck?)"};
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  reclaim();
  return {};
}

}  // namespace vnet::dp
