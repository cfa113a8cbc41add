// vnet::nat — how the outside address and port space is split between the
// PMD workers, and which worker owns a translated (address, port).
//
// Theory of operation
//   The outside space of a network is {addresses} x {ports}. Each worker
//   owns a contiguous slice of the port range on every address: worker w of
//   W owns offsets [floor(w*N/W), floor((w+1)*N/W)) of the N ports of
//   <nat><port start end> (TCP and UDP), and the same split of the full
//   16-bit identifier space for ICMP echo. A worker allocates only from its
//   own slice, so allocation needs no lock and no shared state; a session
//   lives in the table of the worker that created it, and return traffic is
//   steered to that worker by owner()/out2in_worker() (VPP nat44-ed style
//   handoff, DESIGN "NAT multi-worker").
//   Protocols without ports (not TCP, UDP or ICMP) are translated on the
//   address only, like Linux's generic MASQUERADE; their sessions live on
//   worker 0 in both directions (in2out_worker()).
//   Address choice: a flow from inside address A uses outside address
//   addr_first + hash(A) % count, so one guest keeps one outside address
//   (like Linux SNAT to a range, which hashes the source address). Masquerade
//   is the one-address case.
//
// Thread-safety
//   Immutable after construction; any thread may call it.
#pragma once

#include <cstdint>
#include <span>

#include "nat/bytes.h"
#include "nat/nat_config.h"

namespace vnet::nat {

struct PortSlice {
  uint16_t first = 0;  // inclusive
  uint16_t last = 0;   // inclusive
  constexpr uint32_t count() const noexcept { return uint32_t{last} - first + 1; }
  constexpr bool contains(uint16_t p) const noexcept { return p >= first && p <= last; }
};

inline constexpr int kNoWorker = -1;   // owner(): not a NAT address/port
inline constexpr int kAnyWorker = -2;  // *_worker(): handle where it arrived

class PortPlan {
 public:
  // config must pass validate().
  explicit PortPlan(const NatConfig& config) noexcept;

  uint16_t workers() const noexcept { return workers_; }
  uint32_t address_count() const noexcept { return addr_last_ - addr_first_ + 1; }
  bool is_nat_address(uint32_t addr) const noexcept {
    return addr >= addr_first_ && addr <= addr_last_;
  }
  // The outside address used for flows from inside address in_addr.
  uint32_t address_for(uint32_t in_addr) const noexcept;
  // Worker w's slice for proto (TCP/UDP: the port range; ICMP: identifiers).
  PortSlice slice(unsigned worker, uint8_t proto) const noexcept;
  // The worker owning outside (addr, port) for proto, or kNoWorker. The
  // single-worker case (every out2in packet asks) inline, without division.
  int owner(uint8_t proto, uint32_t addr, uint16_t port) const noexcept {
    if (workers_ != 1) return owner_of_slices(proto, addr, port);
    if (!is_nat_address(addr)) return kNoWorker;
    if ((proto == kProtoTcp || proto == kProtoUdp) && (port < port_first_ || port > port_last_)) return kNoWorker;
    return 0;
  }

  // The worker that must translate this outside-to-inside IPv4 packet (for
  // ICMP errors: the owner of the quoted flow), or kAnyWorker when it has no
  // owner (it will be dropped or refused wherever it is handled) or is a
  // later fragment (no ports: NatWorker::out2in_worker() steers those).
  int out2in_worker(std::span<const std::byte> packet) const noexcept;
  // The worker that must translate inside-to-outside packets of proto:
  // kAnyWorker for TCP, UDP and ICMP, 0 for portless protocols.
  int in2out_worker(uint8_t proto) const noexcept;

 private:
  static int owner_in(uint32_t first, uint32_t count, uint16_t workers, uint16_t port) noexcept;
  int owner_of_slices(uint8_t proto, uint32_t addr, uint16_t port) const noexcept;

  uint32_t addr_first_;
  uint32_t addr_last_;
  uint16_t port_first_;
  uint16_t port_last_;
  uint16_t workers_;
};

}  // namespace vnet::nat
