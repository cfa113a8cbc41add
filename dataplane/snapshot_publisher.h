// vnet::dp — publishes ConfigSnapshots to the workers (STYLE 4).
//
// Theory of operation
//   One std::atomic<const ConfigSnapshot*>. Readers (workers, the slow path)
//   load(acquire) it once per loop iteration and call quiescent(id) at the
//   end of the iteration; between two quiescent states they may use the
//   snapshot they loaded. publish() exchanges the pointer (release), takes an
//   rte_rcu_qsbr token and parks the old snapshot; reclaim() frees parked
//   snapshots whose token every online reader has passed. Nothing blocks the
//   readers. synchronize() waits (bounded) for one full grace period, for
//   callers that must know no reader still uses something (port removal).
//   Reader ids are QSBR thread ids: workers 0..W-1, the slow path W.
//
// Thread-safety
//   publish/reclaim/synchronize and the destructor: the control thread only.
//   load/quiescent/online/offline: the reader thread with that id.
//   register_reader/unregister_reader: before the reader starts / after it
//   stopped, from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/snapshot.h"
#include "dataplane/status.h"

struct rte_rcu_qsbr;

namespace vnet::dp {

class SnapshotPublisher {
 public:
  static Result<std::unique_ptr<SnapshotPublisher>> create(uint32_t max_readers);
  ~SnapshotPublisher();
  SnapshotPublisher(const SnapshotPublisher&) = delete;
  SnapshotPublisher& operator=(const SnapshotPublisher&) = delete;

  // ---- readers ----
  const ConfigSnapshot* load() const noexcept { return active_.load(std::memory_order_acquire); }
  void quiescent(uint32_t reader) noexcept;
  void online(uint32_t reader) noexcept;
  void offline(uint32_t reader) noexcept;
  Status register_reader(uint32_t reader);
  void unregister_reader(uint32_t reader);

  // ---- the control thread ----
  void publish(std::unique_ptr<const ConfigSnapshot> snapshot);
  size_t reclaim();
  Status synchronize(std::chrono::milliseconds timeout);
  size_t pending() const noexcept { return parked_.size(); }
  // The latest published snapshot (control thread view).
  const ConfigSnapshot* current() const noexcept { return load(); }

  rte_rcu_qsbr* qsbr() const noexcept { return qsbr_; }
  uint32_t max_readers() const noexcept { return max_readers_; }

 private:
  struct Parked {
    std::unique_ptr<const ConfigSnapshot> snapshot;
    uint64_t token;
  };
  SnapshotPublisher() = default;

  rte_rcu_qsbr* qsbr_ = nullptr;
  uint32_t max_readers_ = 0;
  std::atomic<const ConfigSnapshot*> active_{nullptr};
  std::vector<Parked> parked_;
};

}  // namespace vnet::dp
