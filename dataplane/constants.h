// vnet::dp — compile-time sizes shared by the dataplane.
//
// Thread-safety
//   Constants only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vnet::dp {

// Packets per rx burst and per stage call (STYLE 2).
inline constexpr uint16_t kBurst = 32;
// Port ids are DPDK ethdev port ids; Debian's DPDK 22.11 has RTE_MAX_ETHPORTS = 32.
inline constexpr uint16_t kMaxPorts = 32;
// Network ids are small integers assigned by the Dataplane facade.
inline constexpr uint16_t kMaxNetworks = 256;
// PMD worker threads.
inline constexpr uint16_t kMaxWorkers = 16;
// VLAN ids 1..4094; 0 is the internal "untagged" VLAN of ports without <vlan>.
inline constexpr uint16_t kVlanCount = 4096;
inline constexpr uint16_t kNoVlan = 0;
// Largest Ethernet frame accepted (an MTU of 9216 plus Ethernet + 802.1Q).
inline constexpr uint32_t kMaxMtu = 9216;
inline constexpr uint32_t kMinMtu = 68;  // RFC 791

}  // namespace vnet::dp
