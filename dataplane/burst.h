// vnet::dp — a burst of packets with per-packet metadata and verdicts (STYLE 1, 2).
//
// Theory of operation
//   A worker fills a Burst from one rx queue (so all packets share in_port),
//   then runs the stages over it. Each stage looks at the packets whose
//   verdict is still kContinue, may edit their headers, and writes a verdict:
//   kDrop with a reason, kForward to a port, kFlood, or kPunt. A stage never
//   transmits, frees or copies a packet; dispatch() does that by verdict.
//
// Thread-safety
//   A Burst is owned by the worker that filled it.
#pragma once

#include <emmintrin.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "dataplane/constants.h"
#include "dataplane/drop_reasons.h"

struct rte_mbuf;

namespace vnet::dp {

// Zeroes kBytes (a multiple of 16) at p with unrolled 16-byte stores. A
// fixed-size memset of a few hundred bytes compiles to `rep stos`, whose
// start-up alone costs tens of cycles: too much once per burst.
template <size_t kBytes>
inline void zero_fixed(void* p) noexcept {
  static_assert(kBytes % 16 == 0);
  auto* v = static_cast<__m128i*>(p);
  [&]<size_t... I>(std::index_sequence<I...>) {
    (_mm_storeu_si128(v + I, _mm_setzero_si128()), ...);
  }(std::make_index_sequence<kBytes / 16>{});
}

enum class Action : uint8_t {
  kContinue,  // not decided yet: the next stage looks at it
  kDrop,      // free, count `reason` on the rx port
  kForward,   // to out_port (headers already edited for it)
  kFlood,     // to every port of the network allowed to receive it
  kPunt,      // to the slow path
  kHandoff,   // L3: to worker out_port's handoff ring (the NAT session's owner)
};

struct Verdict {
  Action action = Action::kContinue;
  DropReason reason = DropReason::kNoPort;  // kDrop only
  uint16_t out_port = 0;                    // kForward: port; kHandoff: worker
};

// What the ingress stage learned about a packet.
struct PacketMeta {
  uint16_t network = 0;  // network id of the rx port
  uint16_t vlan = 0;     // internal VLAN (0 = untagged domain)
  uint8_t pcp = 0;       // 802.1Q priority of the rx tag, reused on egress tags
};

static_assert(Action::kContinue == Action{} && DropReason{} == DropReason::kRunt,
              "reset_verdicts() zeroes verdicts");

struct Burst {
  uint16_t in_port = 0;
  uint16_t count = 0;
  std::array<rte_mbuf*, kBurst> pkts{};
  std::array<PacketMeta, kBurst> meta{};
  std::array<Verdict, kBurst> verdicts{};
  // learn_stage: the frames whose source MAC the FDB knows on in_port, with
  // its position (flow_cache_insert caches them without a second lookup).
  uint32_t src_known = 0;
  std::array<int32_t, kBurst> src_pos{};
  // flow_cache_lookup: the frames to the gateway's MAC whose ingress and
  // source learning a cache hit stood for (meta set, still pending for the
  // L3 and forward stages); ingress_stage and learn_stage pass them by.
  uint32_t l2_done = 0;

  // Resets verdicts and metadata of all kBurst slots to their defaults
  // (all-zero bytes: kContinue, reason 0, port 0): a few vector stores,
  // cheaper than an element loop over the first `count`.
  void reset_verdicts() noexcept {
    zero_fixed<sizeof(verdicts)>(verdicts.data());
    zero_fixed<sizeof(meta)>(meta.data());
    src_known = 0;
    l2_done = 0;
  }
  void drop(uint16_t i, DropReason r) noexcept { verdicts[i] = {Action::kDrop, r, 0}; }
  bool pending(uint16_t i) const noexcept { return verdicts[i].action == Action::kContinue; }
  // Pending and not yet through ingress and learning (see l2_done).
  bool pending_l2(uint16_t i) const noexcept { return pending(i) && ((l2_done >> i) & 1u) == 0; }
};

}  // namespace vnet::dp
